//! Regression tests for issue 7, findings 5 (CORS preflights are answered at the edge,
//! never forwarded), 6 (identity headers forged with `_` or `.` are stripped, default
//! names too) and 12 (one answer for every refused API key).

use std::collections::BTreeMap;

use edgegate::gate::Env;
use edgegate::gate::{Ctx, Decision, Gate, Pending, Preflight, Request, Step};
use edgegate::gate::{MemoryStore, NewKey, Store, RANDOM_BYTES};
use edgegate::ErrorCode;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

mod common;
use common::b64url;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "main-test-secret-0123456789abcdef!!";

fn hs256(claims: Value) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

fn user_token() -> String {
    hs256(
        json!({"iss": "https://issuer.example", "aud": "api", "sub": "user-1",
                 "roles": ["viewer"], "iat": NOW - 10, "exp": NOW + 3600}),
    )
}

fn env() -> Env {
    let mut e = BTreeMap::new();
    e.insert("JWT_SECRET".to_string(), SECRET.to_string());
    e
}

fn gate_with(extra: Value) -> Gate {
    let mut c = json!({
        "providers": [{"type": "jwt", "name": "main", "issuer": "https://issuer.example",
                       "audience": "api", "secret": {"env": "JWT_SECRET"}}],
        "apiKeys": {"enabled": true},
        "routes": [
            {"name": "health", "path": "/health", "public": true},
            {"name": "admin", "path": "/admin/**", "roles": ["admin"]},
            {"name": "api", "path": "/api/**", "providers": ["main", "apiKey"]}
        ]
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    Gate::from_config(c.to_string().as_bytes(), &env()).unwrap()
}

fn decide(g: &Gate, req: &Request, store: &dyn Store) -> Decision {
    match g.decide_with_store(&mut Pending::new(req.clone()), NOW, &mut Ctx::new(), store) {
        Step::Done(d) => d,
        Step::Need(io) => panic!("unexpected io {io:?}"),
    }
}

fn bearer(method: &str, path: &str, token: &str) -> Request {
    Request::new(method, path).header("Authorization", &format!("Bearer {token}"))
}

fn preflight_req(path: &str, origin: &str) -> Request {
    Request::new("OPTIONS", path)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "DELETE")
        .header(
            "Access-Control-Request-Headers",
            "Authorization, Content-Type",
        )
}

fn header<'a>(p: &'a Preflight, name: &str) -> Option<&'a str> {
    p.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---- finding 5: CORS preflight ----

#[test]
fn preflight_is_answered_at_the_edge_never_allowed_to_the_origin() {
    let g = gate_with(json!({"cors": {
        "preflight": true,
        "origins": ["https://app.example"],
        "headers": ["authorization", "content-type"],
        "maxAge": 600,
        "credentials": true
    }}));
    let s = MemoryStore::new();
    for path in ["/admin/x", "/anything/at/all", "/%2e%2e/etc"] {
        let d = decide(&g, &preflight_req(path, "https://app.example"), &s);
        assert!(
            !d.is_allowed(),
            "{path}: a preflight is never forwarded: {d:?}"
        );
        let Decision::Preflight(p) = &d else {
            panic!("{path}: expected a preflight answer, got {d:?}")
        };
        assert_eq!(p.status, 204);
        assert_eq!(d.status(), 204);
        assert_eq!(d.code(), None);
        assert_eq!(
            header(p, "access-control-allow-origin"),
            Some("https://app.example")
        );
        assert_eq!(header(p, "access-control-allow-credentials"), Some("true"));
        assert_eq!(
            header(p, "access-control-allow-methods"),
            Some("GET, HEAD, PUT, POST, DELETE, PATCH")
        );
        assert_eq!(
            header(p, "access-control-allow-headers"),
            Some("authorization, content-type")
        );
        assert_eq!(header(p, "access-control-max-age"), Some("600"));
        assert_eq!(header(p, "vary"), Some("Origin"));
        let j = d.to_json();
        assert_eq!(
            j["allow"], false,
            "JSON form: a host checking `allow` never forwards"
        );
        assert_eq!(j["preflight"], true);
        assert_eq!(j["status"], 204);
        assert_eq!(
            j["headers"]["Access-Control-Allow-Origin"],
            "https://app.example"
        );
    }
}

#[test]
fn preflight_from_an_unlisted_origin_goes_through_routing() {
    let g = gate_with(json!({"cors": {"preflight": true, "origins": ["https://app.example"]}}));
    let s = MemoryStore::new();
    for origin in [
        "https://evil.example",
        "https://app.example.evil",
        "null",
        "*",
    ] {
        let d = decide(&g, &preflight_req("/admin/x", origin), &s);
        assert!(
            matches!(&d, Decision::Deny(x) if x.code == ErrorCode::MissingToken),
            "{origin}: {d:?}"
        );
    }
    // two Origin headers: not answered
    let req =
        preflight_req("/admin/x", "https://app.example").header("Origin", "https://evil.example");
    assert!(matches!(decide(&g, &req, &s), Decision::Deny(_)));
    // no Access-Control-Request-Method: not a preflight
    let req = Request::new("OPTIONS", "/admin/x").header("Origin", "https://app.example");
    assert!(matches!(decide(&g, &req, &s), Decision::Deny(_)));
    // preflight off: OPTIONS is routed like any request
    let g = gate_with(json!({}));
    let d = decide(&g, &preflight_req("/admin/x", "https://app.example"), &s);
    assert_eq!(d.code(), Some(ErrorCode::MissingToken));
}

#[test]
fn preflight_any_origin_is_star_and_echo_is_opt_in_and_sanitized() {
    let s = MemoryStore::new();
    let g = gate_with(json!({"cors": {"preflight": true}}));
    let Decision::Preflight(p) = decide(&g, &preflight_req("/api/x", "https://a.example"), &s)
    else {
        panic!()
    };
    assert_eq!(header(&p, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&p, "access-control-allow-credentials"), None);
    assert_eq!(
        header(&p, "access-control-allow-headers"),
        None,
        "no echo unless configured"
    );
    let g =
        gate_with(json!({"cors": {"preflight": true, "echoHeaders": true, "methods": ["GET"]}}));
    let Decision::Preflight(p) = decide(&g, &preflight_req("/api/x", "https://a.example"), &s)
    else {
        panic!()
    };
    assert_eq!(
        header(&p, "access-control-allow-headers"),
        Some("authorization, content-type")
    );
    assert_eq!(header(&p, "access-control-allow-methods"), Some("GET"));
    assert_eq!(
        header(&p, "vary"),
        Some("Origin, Access-Control-Request-Headers")
    );
    let evil = Request::new("OPTIONS", "/api/x")
        .header("Origin", "https://a.example")
        .header("Access-Control-Request-Method", "GET")
        .header(
            "Access-Control-Request-Headers",
            "x-a, bad header\r\nSet-Cookie: a=b",
        );
    let Decision::Preflight(p) = decide(&g, &evil, &s) else {
        panic!()
    };
    assert_eq!(header(&p, "access-control-allow-headers"), None);
}

#[test]
fn cors_config_is_validated() {
    let bad = |cors: Value| {
        let c = json!({"cors": cors});
        Gate::from_config(c.to_string().as_bytes(), &env())
            .err()
            .map(|e| e.path)
    };
    assert_eq!(
        bad(json!({"preflight": true, "credentials": true})).as_deref(),
        Some("cors.credentials")
    );
    assert_eq!(
        bad(json!({"origins": ["*"]})).as_deref(),
        Some("cors.origins[0]")
    );
    assert_eq!(
        bad(json!({"origins": ["https://app.example/"]})).as_deref(),
        Some("cors.origins[0]")
    );
    assert_eq!(
        bad(json!({"origins": ["https://a.example", "null"]})).as_deref(),
        Some("cors.origins[1]")
    );
    assert_eq!(
        bad(json!({"headers": ["ok", "not ok"]})).as_deref(),
        Some("cors.headers[1]")
    );
    assert_eq!(
        bad(json!({"maxAge": 90000})).as_deref(),
        Some("cors.maxAge")
    );
    assert_eq!(
        bad(json!({"preflight": true, "origins": ["https://a.example:8443", "http://[::1]:3000"]})),
        None
    );
}

// ---- finding 6: identity headers forged with `_` / `.` ----

fn stripped(d: &Decision) -> Vec<String> {
    match d {
        Decision::Allow(a) => a.strip_headers.clone(),
        other => panic!("not allowed: {other:?}"),
    }
}

#[test]
fn underscore_and_dot_variants_of_identity_headers_are_stripped() {
    let g = gate_with(json!({}));
    let s = MemoryStore::new();
    let forged = [
        "X_User_Id",
        "X_User_Roles",
        "X_User_Org",
        "x_user_permissions",
        "X.Auth.Provider",
        "x-auth_claims",
        "X-USER-ID",
    ];
    let mut req = bearer("GET", "/api/x", &user_token());
    for f in forged {
        req = req.header(f, "admin");
    }
    req = req.header("X_Request_Id", "keep-me");
    for d in [
        decide(&g, &req, &s),
        decide(
            &g,
            &Request {
                path: "/health".into(),
                ..req.clone()
            },
            &s,
        ),
    ] {
        let strip = stripped(&d);
        for f in forged {
            assert!(strip.iter().any(|x| x == f), "{f} not stripped: {strip:?}");
        }
        assert!(!strip.iter().any(|x| x == "X_Request_Id"), "{strip:?}");
    }
    assert!(g.is_stripped_header("X_User_Id"));
    assert!(g.is_stripped_header("x.user.roles"));
    assert!(!g.is_stripped_header("X-User-Ident"));
    assert!(!g.is_stripped_header("Authorization"));
}

#[test]
fn default_names_are_stripped_when_renamed_or_disabled() {
    let g =
        gate_with(json!({"identityHeaders": {"userId": "X-Acme-Sub", "roles": null, "org": null}}));
    let s = MemoryStore::new();
    let req = bearer("GET", "/api/x", &user_token())
        .header("X-User-Id", "admin")
        .header("X_User_Roles", "admin")
        .header("x-user-org", "victim")
        .header("X_Acme_Sub", "admin");
    let d = decide(&g, &req, &s);
    let strip = stripped(&d);
    for h in [
        "X-User-Id",
        "X-User-Roles",
        "X-User-Org",
        "X-Acme-Sub",
        "X_User_Roles",
        "x-user-org",
        "X_Acme_Sub",
    ] {
        assert!(strip.iter().any(|x| x == h), "{h} not stripped: {strip:?}");
    }
    let Decision::Allow(a) = &d else { panic!() };
    assert!(a
        .headers
        .iter()
        .any(|(k, v)| k == "X-Acme-Sub" && v == "user-1"));
    assert!(!a.headers.iter().any(|(k, _)| k == "X-User-Roles"));
}

// ---- finding 12: one answer for every refused API key ----

fn rnd(seed: u8) -> [u8; RANDOM_BYTES] {
    let mut r = [0u8; RANDOM_BYTES];
    for (i, b) in r.iter_mut().enumerate() {
        *b = (u32::from(seed)
            .wrapping_mul(2_654_435_761)
            .wrapping_add(i as u32 * 40_503)
            >> 11) as u8;
    }
    r
}

#[test]
fn refused_api_keys_all_get_one_answer() {
    let g = gate_with(json!({}));
    let mut store = MemoryStore::new();
    let mk = |exp: i64| NewKey {
        account: "acct_1".into(),
        name: "ci".into(),
        roles: vec![],
        permissions: vec![],
        expires_at: exp,
    };
    let good = store.create(mk(NOW + 86_400), &rnd(1), NOW - 100).unwrap();
    let expired = store.create(mk(NOW - 1), &rnd(2), NOW - 100).unwrap().key;
    let revoked = store.create(mk(NOW + 86_400), &rnd(3), NOW - 100).unwrap();
    store.revoke_key(&revoked.record.id).unwrap();
    let unknown = edgegate::gate::create_api_key(mk(NOW + 60), &rnd(9), NOW)
        .unwrap()
        .key;
    // a known id with another secret (and a valid checksum: made by a key with the same id)
    let wrong_secret = {
        let other = edgegate::gate::create_api_key(mk(NOW + 60), &rnd(10), NOW)
            .unwrap()
            .key;
        let forged = format!(
            "egk_{}_{}",
            good.record.id,
            &other[4 + 12 + 1..4 + 12 + 1 + 32]
        );
        let crc = {
            let mut c = 0xFFFF_FFFFu32;
            for &b in forged.as_bytes() {
                c ^= u32::from(b);
                for _ in 0..8 {
                    let m = (c & 1).wrapping_neg();
                    c = (c >> 1) ^ (0xEDB8_8320 & m);
                }
            }
            !c
        };
        const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut n = u64::from(crc);
        let mut check = [b'0'; 6];
        for slot in check.iter_mut().rev() {
            *slot = B62[(n % 62) as usize];
            n /= 62;
        }
        format!("{forged}{}", std::str::from_utf8(&check).unwrap())
    };
    assert!(edgegate::gate::parse_api_key(&wrong_secret).is_ok());
    let malformed = format!("{}x", &good.key[..good.key.len() - 1]);
    let ok = decide(&g, &bearer("GET", "/api/x", &good.key), &store);
    assert!(ok.is_allowed(), "{ok:?}");
    let answers: Vec<(&str, Decision)> = [
        ("unknown", unknown.as_str()),
        ("wrong secret", wrong_secret.as_str()),
        ("expired", expired.as_str()),
        ("revoked", revoked.key.as_str()),
        ("malformed", malformed.as_str()),
    ]
    .into_iter()
    .map(|(n, k)| (n, decide(&g, &bearer("GET", "/api/x", k), &store)))
    .collect();
    let Decision::Deny(first) = &answers[0].1 else {
        panic!("{:?}", answers[0])
    };
    assert_eq!(first.code, ErrorCode::InvalidCredentials);
    assert_eq!(first.status, 401);
    for (name, d) in &answers {
        let Decision::Deny(x) = d else {
            panic!("{name}: {d:?}")
        };
        assert_eq!(
            (x.status, x.code, &x.detail, &x.body, &x.www_authenticate),
            (
                first.status,
                first.code,
                &first.detail,
                &first.body,
                &first.www_authenticate
            ),
            "{name} differs from unknown"
        );
    }
}
