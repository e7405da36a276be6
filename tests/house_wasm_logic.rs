//! The logic the wasm bindings used to hold, now in the core and testable with `cargo test`
//! (issue 8, item 7): the host-backend verification flow, the public JWK export, the ABI
//! numbers and API-key creation from a host's JSON.

use edgegate::abi::{alg_index, code_number};
use edgegate::gate::{create_api_key_from_json, parse_api_key, ApiKeyError, RANDOM_BYTES};
use edgegate::jose::{verify_for_host, HostVerdict};
use edgegate::{
    Algorithm, ErrorCode, JwkSet, KeyOrigin, Limits, PureBackend, VerifyError, VerifyOptions,
};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

mod common;
use common::b64url;

const NOW: i64 = 1_700_000_100;
const SECRET: &[u8] = b"wasm-logic-test-secret-0123456789abcdef";

fn hs256(claims: serde_json::Value) -> String {
    let header = b64url(br#"{"alg":"HS256"}"#);
    let input = format!("{header}.{}", b64url(claims.to_string().as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

fn hmac_set() -> JwkSet {
    let k = json!({"keys": [{"kty": "oct", "k": b64url(SECRET)}]});
    JwkSet::from_json(k.to_string().as_bytes(), KeyOrigin::Local, &Limits::DEFAULT).unwrap()
}

fn rsa_set() -> JwkSet {
    // An RSA-2048 public key (RFC 7515 appendix A.2).
    let n = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    let k = json!({"keys": [{"kty": "RSA", "kid": "r1", "n": n, "e": "AQAB"}]});
    JwkSet::from_json(k.to_string().as_bytes(), KeyOrigin::Local, &Limits::DEFAULT).unwrap()
}

fn opts() -> VerifyOptions {
    VerifyOptions::default()
}

#[test]
fn hmac_is_verified_in_the_core_even_with_a_host_backend() {
    let set = hmac_set();
    let good = hs256(json!({"sub": "u", "exp": NOW + 60}));
    for host in [false, true] {
        match verify_for_host(&good, &set, &opts(), NOW, true, host, &PureBackend) {
            HostVerdict::Verified { alg } => assert_eq!(alg, Algorithm::Hs256),
            other => panic!("{other:?}"),
        }
    }
    let expired = hs256(json!({"sub": "u", "exp": NOW - 60}));
    match verify_for_host(&expired, &set, &opts(), NOW, true, true, &PureBackend) {
        HostVerdict::Failed { alg, error } => {
            assert_eq!(alg, Some(Algorithm::Hs256));
            assert_eq!(error.code(), ErrorCode::TokenExpired);
        }
        other => panic!("{other:?}"),
    }
    // A bare JWS: no claim checks.
    assert!(matches!(
        verify_for_host(&expired, &set, &opts(), NOW, false, true, &PureBackend),
        HostVerdict::Verified { .. }
    ));
    let bad_sig = format!("{}AAAA", &good[..good.len() - 4]);
    assert!(matches!(
        verify_for_host(&bad_sig, &set, &opts(), NOW, true, true, &PureBackend),
        HostVerdict::Failed {
            error: VerifyError::InvalidSignature,
            ..
        }
    ));
}

#[test]
fn asymmetric_tokens_go_to_the_host_with_candidates_and_the_claim_result() {
    let set = rsa_set();
    let header = b64url(br#"{"alg":"RS256","kid":"r1"}"#);
    let token = |claims: serde_json::Value| {
        format!(
            "{header}.{}.{}",
            b64url(claims.to_string().as_bytes()),
            b64url(&[1u8; 256])
        )
    };
    match verify_for_host(
        &token(json!({"exp": NOW + 60})),
        &set,
        &opts(),
        NOW,
        true,
        true,
        &PureBackend,
    ) {
        HostVerdict::HostCheck {
            alg,
            candidates,
            claims,
        } => {
            assert_eq!(alg, Algorithm::Rs256);
            assert_eq!(candidates, vec![0]);
            assert!(claims.is_ok());
        }
        other => panic!("{other:?}"),
    }
    match verify_for_host(
        &token(json!({"exp": NOW - 60})),
        &set,
        &opts(),
        NOW,
        true,
        true,
        &PureBackend,
    ) {
        HostVerdict::HostCheck { claims, .. } => {
            assert_eq!(claims.unwrap_err().code(), ErrorCode::TokenExpired)
        }
        other => panic!("{other:?}"),
    }
    // Unknown kid: no candidate, the host is not asked.
    let other = format!(
        "{}.{}.{}",
        b64url(br#"{"alg":"RS256","kid":"nope"}"#),
        b64url(b"{}"),
        b64url(&[1u8; 256])
    );
    assert!(matches!(
        verify_for_host(&other, &set, &opts(), NOW, true, true, &PureBackend),
        HostVerdict::Failed {
            error: VerifyError::NoMatchingKey,
            ..
        }
    ));
}

#[test]
fn public_jwks_never_include_secrets() {
    for k in hmac_set().keys() {
        assert_eq!(k.public_jwk_json(), serde_json::Value::Null);
    }
    let rsa = rsa_set();
    let j = rsa.keys()[0].public_jwk_json();
    assert_eq!(j["kty"], "RSA");
    assert_eq!(j["e"], "AQAB");
    assert!(j.get("d").is_none() && j.get("kid").is_none());
}

#[test]
fn abi_numbers() {
    assert_eq!(code_number(ErrorCode::TokenExpired), 2);
    assert_eq!(alg_index(Algorithm::Hs256), 0);
    assert_eq!(alg_index(Algorithm::EdDsa), 12);
}

#[test]
fn api_keys_from_a_host_request() {
    let random = [5u8; RANDOM_BYTES];
    let req = |v: serde_json::Value| v.to_string().into_bytes();
    let ok = create_api_key_from_json(
        &req(json!({"account": "a", "roles": ["r"], "expiresAt": NOW + 60})),
        &random,
        NOW,
    )
    .unwrap();
    assert!(parse_api_key(&ok.key).is_ok());
    assert_eq!(ok.record.roles, vec!["r".to_string()]);
    let err = |body: &[u8], random: &[u8]| create_api_key_from_json(body, random, NOW).unwrap_err();
    let e = err(&req(json!({"expiresAt": NOW + 60})), &random);
    assert_eq!(
        (e.code(), e.to_string()),
        (
            ErrorCode::ConfigError,
            "apiKey.account: expected string".into()
        )
    );
    let e = err(
        br#"{"account": "a", "account": "b", "expiresAt": 1700000200}"#,
        &random,
    );
    assert!(matches!(e, ApiKeyError::BadRequest { .. }), "{e:?}");
    let e = err(
        &req(json!({"account": "a", "roles": [1], "expiresAt": NOW + 60})),
        &random,
    );
    assert_eq!(e.to_string(), "apiKey.roles: expected array of strings");
    let e = err(
        &req(json!({"account": "a", "expiresAt": NOW + 60})),
        &random[..10],
    );
    assert_eq!(
        e.to_string(),
        format!("apiKey: expected {RANDOM_BYTES} random bytes, got 10")
    );
    let e = err(&req(json!({"account": "a", "expiresAt": NOW - 1})), &random);
    assert_eq!(e, ApiKeyError::BadExpiry);
}

#[test]
fn verify_options_from_a_host() {
    let o = VerifyOptions::from_host_json(
        br#"{"algorithms": ["RS256"], "issuer": ["https://i"], "audience": [], "requiredClaims": [], "crit": [], "clockTolerance": 5, "maxTokenBytes": 100}"#,
    )
    .unwrap();
    assert_eq!(o.algorithms, vec![Algorithm::Rs256]);
    assert_eq!((o.clock_tolerance, o.limits.max_token_bytes), (5, 100));
    assert_eq!(
        VerifyOptions::from_host_json(br#"{"algorithms": ["none"]}"#).unwrap_err(),
        "options.algorithms: unsupported algorithm \"none\""
    );
    assert!(VerifyOptions::from_host_json(br#"{"algorithm": ["RS256"]}"#).is_err());
    assert!(VerifyOptions::from_host_json(b"[").is_err());
}
