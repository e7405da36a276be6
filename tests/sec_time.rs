//! Issue 7 findings 7 and 14 / issue 8 item 1, the core side: time is a type (a host's
//! unusable clock is an error, never 1970), `recheck_claims` for the verified-token cache,
//! jose's key selection for key functions, and what a config needs from its host.

use edgegate::codec::b64::encode;
use edgegate::gate::Env;
use edgegate::gate::{Gate, Requirements};
use edgegate::jose::{recheck_claims, ClaimError};
use edgegate::jose::{Jwk, JwkSet, KeyOrigin};
use edgegate::time::{Duration, TimeError, UnixTime};
use edgegate::{ErrorCode, Limits, VerifyError, VerifyOptions};
use serde_json::{json, Value};

const NOW: i64 = 1_700_000_000;

#[test]
fn unusable_host_times_are_errors_not_1970() {
    let bad = [
        (f64::NAN, TimeError::NotFinite),
        (f64::INFINITY, TimeError::NotFinite),
        (f64::NEG_INFINITY, TimeError::NotFinite),
        (-1.0, TimeError::Negative),
        (-0.001, TimeError::Negative),
        (253_402_300_800.0, TimeError::OutOfRange),
        (1e20, TimeError::OutOfRange),
    ];
    for (v, want) in bad {
        assert_eq!(UnixTime::from_secs_f64(v), Err(want), "secs {v}");
        assert_eq!(UnixTime::from_millis_f64(v * 1000.0), Err(want), "ms {v}");
    }
    assert_eq!(TimeError::NotFinite.code(), ErrorCode::ConfigError);
    assert!(TimeError::NotFinite.to_string().contains("invalid time"));
    assert_eq!(
        UnixTime::from_millis_f64(NOW as f64 * 1000.0 + 999.0)
            .unwrap()
            .secs(),
        NOW
    );
    assert_eq!(
        UnixTime::from_secs(NOW).unwrap().millis(),
        NOW as u64 * 1000
    );
    assert_eq!(UnixTime::from_secs(-5), Err(TimeError::Negative));
    // Durations: no NaN -> 0.
    assert_eq!(
        Duration::from_millis_f64(f64::NAN),
        Err(TimeError::NotFinite)
    );
    assert_eq!(Duration::from_millis_f64(-1.0), Err(TimeError::Negative));
    assert_eq!(
        Duration::from_millis_f64(f64::INFINITY),
        Err(TimeError::NotFinite)
    );
    assert_eq!(
        Duration::from_secs_f64(30.0).unwrap().millis(),
        30_000,
        "seconds"
    );
}

fn unsigned(claims: Value) -> String {
    format!(
        "{}.{}.{}",
        encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        encode(claims.to_string().as_bytes()),
        encode(b"not-checked-here")
    )
}

fn at(s: i64) -> UnixTime {
    UnixTime::from_secs(s).unwrap()
}

#[test]
fn recheck_claims_is_the_fresh_claim_check_at_now() {
    let opts = VerifyOptions::default();
    let t = unsigned(json!({"sub": "u", "nbf": NOW + 300, "exp": NOW + 900}));
    assert_eq!(recheck_claims(&t, at(NOW + 400), &opts), Ok(()));
    assert_eq!(
        recheck_claims(&t, at(NOW), &opts),
        Err(VerifyError::Claim(ClaimError::NotYetValid)),
        "before nbf"
    );
    assert_eq!(
        recheck_claims(&t, at(NOW + 900), &opts),
        Err(VerifyError::Claim(ClaimError::Expired)),
        "at exp"
    );
    // maxTokenAge: too old, and issued in the future.
    let aged = VerifyOptions {
        max_token_age: Some(3600),
        ..Default::default()
    };
    let t = unsigned(json!({"sub": "u", "iat": NOW + 200, "exp": NOW + 9000}));
    assert_eq!(recheck_claims(&t, at(NOW + 300), &aged), Ok(()));
    assert_eq!(
        recheck_claims(&t, at(NOW), &aged),
        Err(VerifyError::Claim(ClaimError::IssuedInFuture))
    );
    assert_eq!(
        recheck_claims(&t, at(NOW + 200 + 3601), &aged),
        Err(VerifyError::Claim(ClaimError::TooOld))
    );
    // Options other than time still apply (same verdict as a fresh check).
    let iss = VerifyOptions {
        issuer: vec!["a".into()],
        ..Default::default()
    };
    assert!(recheck_claims(&t, at(NOW + 300), &iss).is_err());
    assert!(recheck_claims("not a token", at(NOW), &opts).is_err());
}

/// A key of the gate fixture set (`rsa-1`: RSA RS256, `ec-1`: EC P-256 ES256), renamed
/// and with members overridden.
fn fixture_key(which: &str, kid: &str, extra: Value) -> Value {
    let doc: Value =
        serde_json::from_str(include_str!("fixtures/gate/jwks.json")).expect("fixture");
    let mut k = doc["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == which))
        .cloned()
        .expect("fixture key");
    k.as_object_mut().expect("object").remove("alg");
    k["kid"] = json!(kid);
    for (a, b) in extra.as_object().expect("object") {
        k[a] = b.clone();
    }
    k
}

fn rsa(kid: &str, extra: Value) -> Value {
    fixture_key("rsa-1", kid, extra)
}

fn p256(kid: &str, extra: Value) -> Value {
    fixture_key("ec-1", kid, extra)
}

#[test]
fn select_for_header_is_jose_local_jwkset_selection() {
    let doc = json!({"keys": [
        rsa("r", json!({"alg": "RS256"})),
        p256("e", json!({})),
        p256("s", json!({"use": "sig", "key_ops": ["verify"]})),
    ]});
    let set = JwkSet::from_json(
        doc.to_string().as_bytes(),
        KeyOrigin::Local,
        &Limits::DEFAULT,
    )
    .unwrap();
    let n = set.keys().len();
    assert_eq!(n, 3, "fixture keys imported");
    assert_eq!(set.select_for_header("ES256", None), vec![1, 2]);
    assert_eq!(set.select_for_header("ES256", Some("s")), vec![2]);
    assert_eq!(set.select_for_header("RS256", None), vec![0]);
    assert!(set.select_for_header("ES256", Some("r")).is_empty(), "kty");
    assert!(set.select_for_header("ES384", Some("e")).is_empty(), "crv");
    assert!(
        set.select_for_header("PS256", Some("r")).is_empty(),
        "key alg"
    );
    assert!(set.select_for_header("RS256", Some("e")).is_empty());
    assert!(set.select_for_header("none", None).is_empty());
    assert!(set.select_for_header("HS256", None).is_empty());
    assert!(set.select_for_header("", Some("e")).is_empty());
    // `use: enc` / `key_ops` without verify are never selected.
    let enc = Jwk::from_json(
        p256("x", json!({"use": "enc"})).to_string().as_bytes(),
        &Limits::DEFAULT,
    );
    if let Ok(enc) = enc {
        let set = JwkSet::from_keys(vec![enc], KeyOrigin::Local).unwrap();
        assert!(set.select_for_header("ES256", Some("x")).is_empty());
    }
}

fn gate(config: Value) -> Gate {
    let mut env = Env::new();
    env.insert("S".into(), "s".repeat(32));
    Gate::from_config(config.to_string().as_bytes(), &env).unwrap()
}

#[test]
fn requirements_say_what_the_host_must_supply() {
    let jwt =
        json!({"type": "jwt", "name": "m", "issuer": "https://i.example", "secret": {"env": "S"}});
    let r = gate(json!({"providers": [jwt], "routes": [{"path": "/**"}]})).requirements();
    assert_eq!(r, Requirements::default());
    let r = gate(json!({
        "providers": [jwt, {"type": "custom", "name": "sessions"}],
        "apiKeys": {"enabled": true},
        "revocation": {"enabled": true},
        "routes": [{"path": "/**"}]
    }))
    .requirements();
    assert_eq!(
        r,
        Requirements {
            custom_providers: vec!["sessions".into()],
            revocation: true,
            api_keys: true,
        }
    );
    // A custom provider with its own keys is verified by the core: nothing needed.
    let r = gate(json!({
        "providers": [{"type": "custom", "name": "c", "issuer": "https://i.example", "secret": {"env": "S"}}],
        "routes": [{"path": "/**"}]
    }))
    .requirements();
    assert!(r.custom_providers.is_empty());
    // A disabled gate needs nothing.
    let r = gate(json!({
        "enabled": false,
        "providers": [{"type": "custom", "name": "sessions"}],
        "revocation": {"enabled": true},
        "routes": [{"path": "/**"}]
    }))
    .requirements();
    assert_eq!(r, Requirements::default());
}

#[test]
fn response_limit_is_the_cores() {
    assert_eq!(Limits::MAX_RESPONSE_BYTES, 512 * 1024);
}
