//! `optional` routes (Envoy jwt_authn's `allow_missing`): no credential passes as anonymous,
//! a credential must pass every check. The rule is the core's (it was the Node host's).

use std::collections::BTreeMap;

use edgegate::gate::{AllowReason, Ctx, Decision, Gate, Pending, Request, Step};
use edgegate::ErrorCode;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

mod common;
use common::b64url;

const SECRET: &str = "optional-route-secret-0123456789abcdef";
const NOW: i64 = 1_700_000_000;

fn env() -> BTreeMap<String, String> {
    BTreeMap::from([("JWT_SECRET".to_string(), SECRET.to_string())])
}

fn token(claims: Value) -> String {
    let h = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = b64url(claims.to_string().as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", b64url(&mac.finalize().into_bytes()))
}

fn gate(route: Value, extra: Value) -> Result<Gate, String> {
    let mut c = json!({
        "providers": [{"type": "jwt", "name": "jwt", "issuer": "https://issuer.example", "secret": {"env": "JWT_SECRET"}}],
        "routes": [route],
    });
    if let (Some(o), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    Gate::from_config(c.to_string().as_bytes(), &env()).map_err(|e| e.to_string())
}

fn decide(g: &Gate, headers: &[(&str, &str)]) -> Decision {
    let req = Request {
        method: "GET".into(),
        path: "/feed".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        client_ip: Some("203.0.113.7".into()),
        ..Request::default()
    };
    let pending = Pending::new(req);
    match g.decide(&pending, NOW, &mut Ctx::new()) {
        Step::Done(d) => d,
        Step::Need(io) => panic!("unexpected I/O {io:?}"),
    }
}

fn valid() -> String {
    token(json!({"iss": "https://issuer.example", "sub": "alice", "exp": NOW + 600}))
}

#[test]
fn no_credential_passes_as_anonymous_and_forged_identity_headers_are_stripped() {
    let g = gate(json!({"path": "/feed", "optional": true}), json!({})).unwrap();
    let Decision::Allow(a) = decide(&g, &[("x-user-id", "admin")]) else {
        panic!("anonymous request refused")
    };
    assert_eq!(a.reason, AllowReason::Anonymous);
    assert!(a.identity.is_none());
    assert!(
        a.strip_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("x-user-id")),
        "{:?}",
        a.strip_headers
    );
}

#[test]
fn a_credential_is_checked_fully_never_downgraded() {
    let g = gate(json!({"path": "/feed", "optional": true}), json!({})).unwrap();
    // Valid: authenticated with its identity.
    let Decision::Allow(a) = decide(&g, &[("authorization", &format!("Bearer {}", valid()))])
    else {
        panic!("valid token refused")
    };
    assert_eq!(a.reason, AllowReason::Authenticated);
    assert_eq!(a.identity.map(|i| i.sub), Some("alice".to_string()));
    // Expired, tampered, garbage: refused, not anonymous.
    let expired = token(json!({"iss": "https://issuer.example", "sub": "alice", "exp": NOW - 600}));
    // One signature character changed (the middle of the segment: every bit counts there).
    let v = valid();
    let at = v.rfind('.').unwrap() + 10;
    let flipped = if &v[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{}{}", &v[..at], flipped, &v[at + 1..]);
    for (t, code) in [
        (expired, ErrorCode::TokenExpired),
        (tampered, ErrorCode::InvalidSignature),
        ("not-a-token".to_string(), ErrorCode::DecodeFailed),
    ] {
        let d = decide(&g, &[("authorization", &format!("Bearer {t}"))]);
        assert!(!d.is_allowed(), "{d:?}");
        assert_eq!(d.code(), Some(code), "{d:?}");
    }
}

#[test]
fn without_optional_a_missing_credential_is_auth_005() {
    let g = gate(json!({"path": "/feed"}), json!({})).unwrap();
    assert_eq!(decide(&g, &[]).code(), Some(ErrorCode::MissingToken));
}

#[test]
fn ip_rate_limits_apply_to_anonymous_requests() {
    let g = gate(
        json!({"path": "/feed", "optional": true, "rateLimits": ["by-ip"]}),
        json!({"rateLimits": [{"name": "by-ip", "limit": 2, "window": "1m", "key": "ip"}]}),
    )
    .unwrap();
    let mut ctx = Ctx::new();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let req = Request {
            method: "GET".into(),
            path: "/feed".into(),
            client_ip: Some("203.0.113.7".into()),
            ..Request::default()
        };
        match g.decide(&Pending::new(req), NOW, &mut ctx) {
            Step::Done(d) => answers.push(d.code()),
            Step::Need(io) => panic!("unexpected I/O {io:?}"),
        }
    }
    assert_eq!(answers, vec![None, None, Some(ErrorCode::RateLimited)]);
}

#[test]
fn contradictory_optional_routes_are_config_errors() {
    let cases = [
        (
            json!({"path": "/feed", "optional": true, "public": true}),
            json!({}),
            "routes[0].optional",
        ),
        (
            json!({"path": "/feed", "optional": true, "roles": ["admin"]}),
            json!({}),
            "routes[0].optional",
        ),
        (
            json!({"path": "/feed", "optional": true, "permissions": ["a:b"]}),
            json!({}),
            "routes[0].optional",
        ),
        (
            json!({"path": "/feed", "optional": true, "rateLimits": ["per-user"]}),
            json!({"rateLimits": [{"name": "per-user", "limit": 2, "window": "1m", "key": "sub"}]}),
            "routes[0].rateLimits[0]",
        ),
        (
            json!({"path": "/feed", "optional": "yes"}),
            json!({}),
            "routes[0].optional",
        ),
    ];
    for (route, extra, path) in cases {
        let err = gate(route.clone(), extra)
            .err()
            .unwrap_or_else(|| panic!("accepted {route}"));
        assert!(err.contains(path), "{route}: {err}");
    }
}
