//! Property tests: untrusted input never panics `UntrustedToken::parse`, `inspect`,
//! `jwt_verify`, `check_claims` or `JwkSet::from_json` (a panic aborts a Worker isolate).
//! Case counts are modest so the suite stays fast.

use edgegate::codec::b64::encode;
use edgegate::jose::check_claims;
use edgegate::jose::Algorithm;
use edgegate::{
    inspect, jwt_verify, Jwk, JwkSet, KeyOrigin, Limits, PureBackend, UntrustedToken, VerifyOptions,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn hmac_set() -> JwkSet {
    let key = Jwk::from_hmac_secret(&[7u8; 32]).expect("secret");
    JwkSet::from_keys(vec![key], KeyOrigin::Local).expect("set")
}

fn limits(small: bool) -> Limits {
    if small {
        Limits {
            max_token_bytes: 64,
            max_json_depth: 2,
            max_keys_per_set: 1,
            max_jwks_bytes: 64,
            max_candidate_keys: 1,
        }
    } else {
        Limits::DEFAULT
    }
}

/// Everything a token goes through; must return, never panic.
fn exercise(token: &str, now: i64, small: bool) {
    let limits = limits(small);
    if let Ok(t) = UntrustedToken::parse(token, &limits) {
        let _ = t.claims_unverified(&limits);
        let _ = t.signing_input();
    }
    let _ = inspect(token, now, &limits);
    let opts = VerifyOptions {
        limits,
        clock_tolerance: 30,
        max_token_age: Some(60),
        issuer: vec!["iss".into()],
        audience: vec!["aud".into()],
        typ: Some("JWT".into()),
        ..Default::default()
    };
    let keys = hmac_set();
    let _ = jwt_verify(token, &keys, &opts, now, &PureBackend);
    let _ = jwt_verify(token, &keys, &VerifyOptions::default(), now, &PureBackend);
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9+/:. -]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "none", "HS256", "RS256", "ES512", "EdDSA", "JWT", "at+jwt", "b64", "crit"
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "alg", "kid", "typ", "crit", "b64", "jwk", "jku", "x5u", "exp", "nbf", "iat",
                    "iss", "aud", "sub", "x", "kty", "k", "n", "e", "crv", "y", "keys", "use",
                    "key_ops",
                ])
                .prop_map(String::from),
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    json_value().prop_map(|v| match v {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("v".into(), other);
            m
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), now in any::<i64>(), small in any::<bool>()) {
        let text = String::from_utf8_lossy(&bytes);
        exercise(&text, now, small);
        let _ = JwkSet::from_json(&bytes, KeyOrigin::Remote, &limits(small));
        let _ = JwkSet::from_json(&bytes, KeyOrigin::Local, &limits(small));
        let _ = Jwk::from_json(&bytes, &limits(small));
        let _ = edgegate::codec::parse_object(&bytes, 16);
        let _ = edgegate::codec::b64::decode(&bytes);
    }

    #[test]
    fn token_alphabet_strings_never_panic(s in "[A-Za-z0-9_.-]{0,400}", now in any::<i64>(), small in any::<bool>()) {
        exercise(&s, now, small);
    }

    #[test]
    fn random_json_tokens_never_panic(
        mut header in object(),
        claims in object(),
        alg in prop::sample::select(vec!["HS256", "none", "RS256", "ES256", "EdDSA", "PS512", "HS512", "x"]),
        set_alg in any::<bool>(),
        sig in prop::collection::vec(any::<u8>(), 0..80),
        now in any::<i64>(),
        small in any::<bool>(),
    ) {
        if set_alg {
            header.insert("alg".into(), Value::String(alg.into()));
        }
        let token = format!(
            "{}.{}.{}",
            encode(Value::Object(header.clone()).to_string().as_bytes()),
            encode(Value::Object(claims.clone()).to_string().as_bytes()),
            encode(&sig)
        );
        exercise(&token, now, small);
        // The claim checks on their own, with every option and extreme times.
        if let Ok(t) = UntrustedToken::parse(&token, &Limits::DEFAULT) {
            let opts = VerifyOptions {
                clock_tolerance: u64::MAX,
                max_token_age: Some(u64::MAX),
                subject: Some("sub".into()),
                required_claims: vec!["exp".into()],
                algorithms: vec![Algorithm::Hs256],
                ..Default::default()
            };
            let _ = check_claims(t.header(), &claims, now, &opts);
            let _ = check_claims(t.header(), &claims, now, &VerifyOptions::default());
        }
    }

    #[test]
    fn random_jwks_never_panic(keys in prop::collection::vec(object(), 0..6), wrap in any::<bool>(), small in any::<bool>()) {
        let doc = if wrap {
            serde_json::json!({ "keys": keys }).to_string()
        } else {
            Value::Array(keys.into_iter().map(Value::Object).collect()).to_string()
        };
        let _ = JwkSet::from_json(doc.as_bytes(), KeyOrigin::Remote, &limits(small));
        let _ = JwkSet::from_json(doc.as_bytes(), KeyOrigin::Local, &limits(small));
    }
}

#[test]
fn deep_nesting_and_huge_inputs_are_budget_errors() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let token = format!(
        "{}.e30.AA",
        encode(format!("{{\"alg\":\"HS256\",\"x\":{deep}}}").as_bytes())
    );
    let big = Limits {
        max_token_bytes: usize::MAX,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        UntrustedToken::parse(&token, &big),
        Err(edgegate::DecodeError::Json {
            error: edgegate::codec::JsonError::TooDeep { limit: 16 },
            ..
        })
    ));
    assert!(matches!(
        UntrustedToken::parse(&token, &Limits::DEFAULT),
        Err(edgegate::DecodeError::TooLarge { .. })
    ));
    let jwks = format!("{{\"keys\":{deep}}}");
    assert!(JwkSet::from_json(jwks.as_bytes(), KeyOrigin::Remote, &Limits::DEFAULT).is_err());
}
