//! Strict JSON everywhere (issue 8, item 5): every untrusted JSON input the core takes
//! (discovery, introspection, custom claims, API-key records, revocation answers, a host's
//! request) goes through `codec::json` (duplicate members refused, depth and byte budgets).
//! One test per input with a duplicate member.

use std::collections::BTreeMap;

use edgegate::gate::RANDOM_BYTES;
use edgegate::gate::{
    create_api_key, Ctx, Decision, Env, Gate, Io, NewKey, Pending, Request, Step,
};
use edgegate::ErrorCode;
use serde_json::json;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "main-test-secret-0123456789abcdef!!";

fn env() -> Env {
    let mut e = BTreeMap::new();
    e.insert("JWT_SECRET".to_string(), SECRET.to_string());
    e
}

fn bearer(path: &str, token: &str) -> Request {
    Request::new("GET", path).header("Authorization", &format!("Bearer {token}"))
}

fn done(g: &Gate, p: &Pending, ctx: &mut Ctx) -> Decision {
    match g.decide(p, NOW, ctx) {
        Step::Done(d) => d,
        Step::Need(io) => panic!("unexpected io {io:?}"),
    }
}

#[test]
fn discovery_with_a_duplicate_member_is_refused() {
    let mut ctx = Ctx::new();
    assert!(ctx.provide_discovery(
        "p",
        br#"{"issuer": "https://a.example", "jwks_uri": "https://a.example/jwks"}"#
    ));
    let mut ctx = Ctx::new();
    assert!(!ctx.provide_discovery(
        "p",
        br#"{"issuer": "https://a.example", "jwks_uri": "https://a.example/jwks", "jwks_uri": "https://evil.example/jwks"}"#
    ));
    // Byte budget.
    let mut big = String::from(
        r#"{"issuer": "https://a.example", "jwks_uri": "https://a.example/jwks", "pad": ""#,
    );
    big.push_str(&"x".repeat(edgegate::Limits::MAX_RESPONSE_BYTES));
    big.push_str("\"}");
    assert!(!Ctx::new().provide_discovery("p", big.as_bytes()));
}

#[test]
fn introspection_with_a_duplicate_member_is_a_failed_call() {
    let c = json!({
        "providers": [{"type": "oauth2", "name": "idp", "issuer": "https://id.acme.example", "jwksUrl": "https://id.acme.example/jwks",
                       "introspection": {"url": "https://id.acme.example/introspect", "clientId": "gw", "clientSecret": {"env": "JWT_SECRET"}}}],
        "routes": [{"path": "/x"}]
    });
    let g = Gate::from_config(c.to_string().as_bytes(), &env()).unwrap();
    let mut ctx = Ctx::new();
    let mut p = Pending::new(bearer("/x", "opaque-abc"));
    assert!(matches!(
        g.decide(&p, NOW, &mut ctx),
        Step::Need(Io::Introspect { .. })
    ));
    p.provide_introspection(
        "idp",
        "opaque-abc",
        Some(br#"{"active": false, "sub": "svc-1", "exp": 1700009999, "iss": "https://id.acme.example", "active": true}"#),
    );
    let d = done(&g, &p, &mut ctx);
    assert!(!d.is_allowed(), "{d:?}");
    assert_eq!(d.code(), Some(ErrorCode::ProviderError));
}

#[test]
fn custom_claims_with_a_duplicate_member_are_a_refusal() {
    let c = json!({"providers": [{"type": "custom", "name": "mine"}], "routes": [{"path": "/x", "roles": ["ops"]}]});
    let g = Gate::from_config(c.to_string().as_bytes(), &env()).unwrap();
    let run = |claims: &[u8]| {
        let mut ctx = Ctx::new();
        let mut p = Pending::new(bearer("/x", "session-xyz"));
        assert!(matches!(
            g.decide(&p, NOW, &mut ctx),
            Step::Need(Io::Custom { .. })
        ));
        p.provide_custom_json("mine", "session-xyz", Some(claims));
        done(&g, &p, &mut ctx)
    };
    assert!(run(br#"{"sub": "u-9", "roles": ["ops"]}"#).is_allowed());
    let d = run(br#"{"sub": "u-9", "roles": [], "roles": ["ops"]}"#);
    assert_eq!(d.code(), Some(ErrorCode::InvalidToken), "{d:?}");
}

fn api_key_gate() -> Gate {
    let c = json!({
        "apiKeys": {"enabled": true},
        "revocation": {"enabled": true},
        "routes": [{"path": "/x", "providers": ["apiKey"]}]
    });
    Gate::from_config(c.to_string().as_bytes(), &env()).unwrap()
}

fn new_key() -> edgegate::gate::CreatedKey {
    let nk = NewKey {
        account: "acct_1".into(),
        name: "ci".into(),
        roles: vec![],
        permissions: vec![],
        expires_at: NOW + 86_400,
    };
    create_api_key(nk, &[7u8; RANDOM_BYTES], NOW - 100).unwrap()
}

#[test]
fn an_api_key_record_with_a_duplicate_member_is_a_store_error() {
    let g = api_key_gate();
    let k = new_key();
    let text = k.record.to_json().to_string();
    let run = |record: &[u8], revoked: Option<&[u8]>| {
        let mut ctx = Ctx::new();
        let mut p = Pending::new(bearer("/x", &k.key));
        let Step::Need(Io::ApiKey { key_id }) = g.decide(&p, NOW, &mut ctx) else {
            panic!("expected an api key lookup")
        };
        p.provide_api_key_text(&key_id, Some(record));
        match g.decide(&p, NOW, &mut ctx) {
            Step::Need(Io::Revoked { id }) => {
                p.provide_revoked_text(&id, revoked);
                done(&g, &p, &mut ctx)
            }
            Step::Done(d) => d,
            Step::Need(io) => panic!("unexpected {io:?}"),
        }
    };
    assert!(run(text.as_bytes(), Some(b"false")).is_allowed());
    // The same record with a second "account" member in front.
    let dup = format!("{{\"account\": \"acct_evil\", {}", &text[1..]);
    let d = run(dup.as_bytes(), Some(b"false"));
    assert_eq!(d.code(), Some(ErrorCode::ConfigError), "{d:?}");
    // Text that is not JSON: a store error too, never an unknown key.
    let d = run(b"{not json", Some(b"false"));
    assert_eq!(d.code(), Some(ErrorCode::ConfigError), "{d:?}");
}

#[test]
fn a_revocation_answer_with_a_duplicate_member_is_a_store_error() {
    let g = api_key_gate();
    let k = new_key();
    let text = k.record.to_json().to_string();
    for (answer, code) in [
        (&b"true"[..], Some(ErrorCode::Revoked)),
        (&b"0"[..], None),
        (
            &br#"{"revoked": false, "revoked": true}"#[..],
            Some(ErrorCode::ConfigError),
        ),
        (&b"false false"[..], Some(ErrorCode::ConfigError)),
    ] {
        let mut ctx = Ctx::new();
        let mut p = Pending::new(bearer("/x", &k.key));
        let Step::Need(Io::ApiKey { key_id }) = g.decide(&p, NOW, &mut ctx) else {
            panic!()
        };
        p.provide_api_key_text(&key_id, Some(text.as_bytes()));
        let Step::Need(Io::Revoked { id }) = g.decide(&p, NOW, &mut ctx) else {
            panic!()
        };
        p.provide_revoked_text(&id, Some(answer));
        let d = done(&g, &p, &mut ctx);
        assert_eq!(d.code(), code, "{}", String::from_utf8_lossy(answer));
    }
}

#[test]
fn a_host_request_with_a_duplicate_member_is_refused() {
    assert!(Request::from_json_bytes(br#"{"method": "GET", "path": "/a"}"#).is_ok());
    let e = Request::from_json_bytes(br#"{"method": "GET", "path": "/public", "path": "/admin"}"#)
        .unwrap_err();
    assert!(e.contains("duplicate"), "{e}");
    let e = Request::from_json_bytes(
        br#"{"method": "GET", "path": "/a", "headers": {"authorization": "a", "authorization": "b"}}"#,
    )
    .unwrap_err();
    assert!(e.contains("duplicate"), "{e}");
}
