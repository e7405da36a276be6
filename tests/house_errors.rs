//! One error text per variant (issue 8, item 2): the core's `Display` is the text the gate's
//! deny detail and the JS errors carry; `claim()` / `reason()` live in the core; no wildcard
//! arm over an edgegate error enum in the bindings or the gate.

use std::collections::BTreeMap;
use std::path::Path;

use edgegate::gate::{Ctx, Decision, Env, Gate, MemoryStore, Pending, Request, Step};
use edgegate::{ClaimError, VerifyError};
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

fn gate() -> Gate {
    let mut env: Env = BTreeMap::new();
    env.insert("JWT_SECRET".to_string(), SECRET.to_string());
    let c = json!({
        "providers": [{"type": "jwt", "name": "main", "issuer": "https://issuer.example",
                       "audience": "api", "secret": {"env": "JWT_SECRET"}}],
        "routes": [{"name": "api", "path": "/api/**"}]
    });
    Gate::from_config(c.to_string().as_bytes(), &env).unwrap()
}

fn deny_detail(token: &str) -> String {
    let req = Request::new("GET", "/api/x").header("Authorization", &format!("Bearer {token}"));
    let step = gate().decide_with_store(
        &mut Pending::new(req),
        NOW,
        &mut Ctx::new(),
        &MemoryStore::default(),
    );
    match step {
        Step::Done(Decision::Deny(d)) => d.detail,
        other => panic!("expected a deny, got {other:?}"),
    }
}

#[test]
fn gate_deny_detail_is_the_core_display() {
    let base = json!({"iss": "https://issuer.example", "aud": "api", "sub": "u", "iat": NOW - 10});
    let mut expired = base.clone();
    expired["exp"] = json!(NOW - 100);
    assert_eq!(
        deny_detail(&hs256(expired)),
        VerifyError::Claim(ClaimError::Expired).to_string()
    );
    assert_eq!(
        deny_detail(&hs256(expired_free(&base, "aud", json!("other")))),
        VerifyError::Claim(ClaimError::Mismatch {
            claim: "aud".into()
        })
        .to_string()
    );
    let t = hs256(expired_free(&base, "exp", json!(NOW + 100)));
    let bad_sig = format!("{}AAAA", &t[..t.len() - 4]);
    assert_eq!(
        deny_detail(&bad_sig),
        VerifyError::InvalidSignature.to_string()
    );
}

fn expired_free(base: &Value, k: &str, v: Value) -> Value {
    let mut c = base.clone();
    c["exp"] = json!(NOW + 100);
    c[k] = v;
    c
}

#[test]
fn claim_and_reason_come_from_the_core() {
    let e = VerifyError::Claim(ClaimError::Expired);
    assert_eq!(
        (e.to_string().as_str(), e.claim(), e.reason()),
        (
            "\"exp\" claim timestamp check failed",
            Some("exp"),
            Some("check_failed")
        )
    );
    let e = VerifyError::Claim(ClaimError::Missing {
        claim: "sub".into(),
    });
    assert_eq!((e.claim(), e.reason()), (Some("sub"), Some("missing")));
    let e = VerifyError::Claim(ClaimError::WrongType {
        claim: "nbf".into(),
    });
    assert_eq!((e.claim(), e.reason()), (Some("nbf"), Some("invalid")));
    let e = VerifyError::Claim(ClaimError::TooOld);
    assert_eq!((e.claim(), e.reason()), (Some("iat"), Some("check_failed")));
    assert_eq!(
        e.to_string(),
        "\"iat\" claim timestamp check failed (too far in the past)"
    );
    assert_eq!(
        (
            VerifyError::NoMatchingKey.claim(),
            VerifyError::NoMatchingKey.reason()
        ),
        (None, None)
    );
    assert_eq!(
        VerifyError::NoMatchingKey.to_string(),
        "no key matches the token's kid and alg"
    );
}

#[test]
fn no_wildcard_arms_or_unreachable_allowances_in_bindings_and_gate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("src/wasm"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.push(root.join("src/gate/decide.rs"));
    for p in files {
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            !text.contains("unreachable_patterns"),
            "{} allows unreachable patterns",
            p.display()
        );
        for banned in [
            "fn describe_decode",
            "claim check failed\"",
            "\"invalid key\"",
        ] {
            assert!(
                !text.contains(banned),
                "{} still maps errors by hand: {banned}",
                p.display()
            );
        }
    }
}
