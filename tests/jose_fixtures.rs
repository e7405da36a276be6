//! Tokens signed by a real peer: the npm `jose` package (tests/fixtures/jose/gen.mjs,
//! version pinned in its package.json). Every algorithm verifies with `jwt_verify` at a
//! fixed `now` inside the validity window, and the claims round-trip exactly.

use edgegate::jose::Algorithm;
use edgegate::jose::ClaimError;
use edgegate::{
    jwt_verify, Jwk, JwkSet, KeyOrigin, Limits, PureBackend, VerifyError, VerifyOptions,
};
use serde_json::Value;

struct Fixtures {
    now: i64,
    exp: i64,
    entries: Vec<Value>,
}

fn fixtures() -> Fixtures {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jose/tokens.json"
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("tokens.json")).expect("json");
    Fixtures {
        now: doc["now"].as_i64().expect("now"),
        exp: doc["exp"].as_i64().expect("exp"),
        entries: doc["entries"].as_array().expect("entries").clone(),
    }
}

fn jwk(entry: &Value) -> Jwk {
    Jwk::from_json(entry["jwk"].to_string().as_bytes(), &Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("{} key imports: {e:?}", entry["alg"]))
}

fn single(entry: &Value) -> JwkSet {
    JwkSet::from_keys(vec![jwk(entry)], KeyOrigin::Local).expect("set")
}

fn alg(entry: &Value) -> Algorithm {
    Algorithm::from_name(entry["alg"].as_str().expect("alg")).expect("known alg")
}

fn options() -> VerifyOptions {
    VerifyOptions {
        issuer: vec!["https://issuer.example.com/".into()],
        audience: vec!["api://edgegate".into()],
        ..Default::default()
    }
}

#[test]
fn every_algorithm_verifies_and_claims_round_trip() {
    let f = fixtures();
    let mut seen = Vec::new();
    for e in &f.entries {
        let token = e["token"].as_str().expect("token");
        let opts = VerifyOptions {
            algorithms: vec![alg(e)],
            subject: e["claims"]["sub"].as_str().map(String::from),
            typ: e["header"]["typ"].as_str().map(String::from),
            max_token_age: Some(3600),
            required_claims: vec!["jti".into()],
            ..options()
        };
        let v = jwt_verify(token, &single(e), &opts, f.now, &PureBackend)
            .unwrap_or_else(|err| panic!("{} must verify: {err:?}", e["alg"]));
        assert_eq!(v.alg(), alg(e));
        assert_eq!(
            Value::Object(v.claims().clone()),
            e["claims"],
            "{}",
            e["alg"]
        );
        assert_eq!(
            Value::Object(v.header().raw.clone()),
            e["header"],
            "{}",
            e["alg"]
        );
        assert_eq!(v.kid(), e["kid"].as_str());
        seen.push(alg(e));
    }
    println!("jose fixtures: {} tokens verified", seen.len());
    for a in Algorithm::ALL {
        assert!(seen.contains(&a), "no fixture for {}", a.name());
    }
    assert_eq!(f.entries.len(), 14);
}

#[test]
fn expiry_and_not_before_follow_the_fixture_times() {
    let f = fixtures();
    for e in &f.entries {
        let token = e["token"].as_str().expect("token");
        let keys = single(e);
        let at = |now| jwt_verify(token, &keys, &options(), now, &PureBackend);
        assert!(at(f.exp - 1).is_ok(), "{}", e["alg"]);
        let err = at(f.exp).unwrap_err();
        assert_eq!(err, VerifyError::Claim(ClaimError::Expired));
        assert_eq!(err.code().as_str(), "AUTH-002");
        if let Some(nbf) = e["claims"]["nbf"].as_i64() {
            assert!(at(nbf).is_ok());
            assert_eq!(
                at(nbf - 1).unwrap_err(),
                VerifyError::Claim(ClaimError::NotYetValid)
            );
        }
    }
}

#[test]
fn wrong_audience_issuer_or_typ_is_auth_001() {
    let f = fixtures();
    let e = &f.entries[3]; // RS256
    let token = e["token"].as_str().expect("token");
    let keys = single(e);
    for (opts, claim) in [
        (
            VerifyOptions {
                audience: vec!["other".into()],
                ..options()
            },
            "aud",
        ),
        (
            VerifyOptions {
                issuer: vec!["https://evil.example/".into()],
                ..options()
            },
            "iss",
        ),
        (
            VerifyOptions {
                typ: Some("at+jwt".into()),
                ..options()
            },
            "typ",
        ),
    ] {
        let err = jwt_verify(token, &keys, &opts, f.now, &PureBackend).unwrap_err();
        assert_eq!(
            err,
            VerifyError::Claim(ClaimError::Mismatch {
                claim: claim.into()
            })
        );
        assert_eq!(err.code().as_str(), "AUTH-001");
    }
}

#[test]
fn rfc9068_access_token_typ() {
    let f = fixtures();
    let e = f
        .entries
        .iter()
        .find(|e| e["header"]["typ"] == "at+jwt")
        .expect("at+jwt fixture");
    let token = e["token"].as_str().expect("token");
    let keys = single(e);
    for typ in ["at+jwt", "application/at+jwt", "AT+JWT"] {
        let opts = VerifyOptions {
            typ: Some(typ.into()),
            ..options()
        };
        let v = jwt_verify(token, &keys, &opts, f.now, &PureBackend).expect("verifies");
        assert_eq!(v.claims()["client_id"], "client-1");
        assert_eq!(v.kid(), None);
    }
    let opts = VerifyOptions {
        typ: Some("JWT".into()),
        ..options()
    };
    assert!(jwt_verify(token, &keys, &opts, f.now, &PureBackend).is_err());
}

#[test]
fn a_key_of_another_algorithm_never_verifies() {
    let f = fixtures();
    for e in &f.entries {
        let token = e["token"].as_str().expect("token");
        for other in &f.entries {
            if other["alg"] == e["alg"] {
                continue;
            }
            // A key with alg X is never usable for a token with alg Y (RFC 8725 3.1).
            let err =
                jwt_verify(token, &single(other), &options(), f.now, &PureBackend).unwrap_err();
            assert_eq!(
                err,
                VerifyError::NoMatchingKey,
                "{} with {} key",
                e["alg"],
                other["alg"]
            );
        }
    }
}

#[test]
fn selection_in_a_multi_key_set_by_kid_and_without_kid() {
    let f = fixtures();
    // Every asymmetric key in one local set (HMAC keys never mix with asymmetric ones).
    let asym: Vec<&Value> = f
        .entries
        .iter()
        .filter(|e| !alg(e).is_symmetric())
        .collect();
    let keys = JwkSet::from_keys(asym.iter().map(|e| jwk(e)).collect(), KeyOrigin::Local)
        .expect("asymmetric set");
    for e in &asym {
        let token = e["token"].as_str().expect("token");
        let v = jwt_verify(token, &keys, &options(), f.now, &PureBackend)
            .unwrap_or_else(|err| panic!("{} in a set: {err:?}", e["alg"]));
        assert_eq!(v.kid(), e["kid"].as_str());
    }
    // The kid-less at+jwt token: both ES256 keys are candidates; the second verifies.
    let at = asym.iter().find(|e| e["kid"].is_null()).expect("kid-less");
    let v = jwt_verify(
        at["token"].as_str().unwrap(),
        &keys,
        &options(),
        f.now,
        &PureBackend,
    )
    .expect("kid-less token tries each candidate");
    assert_eq!(v.alg(), Algorithm::Es256);
    // With one candidate allowed, only the first ES256 key (the wrong one) is tried.
    let tight = VerifyOptions {
        limits: Limits {
            max_candidate_keys: 1,
            ..Limits::DEFAULT
        },
        ..options()
    };
    assert_eq!(
        jwt_verify(
            at["token"].as_str().unwrap(),
            &keys,
            &tight,
            f.now,
            &PureBackend
        )
        .unwrap_err(),
        VerifyError::InvalidSignature
    );
}

#[test]
fn hmac_tokens_never_verify_against_a_remote_set() {
    let f = fixtures();
    for e in f.entries.iter().filter(|e| alg(e).is_symmetric()) {
        let token = e["token"].as_str().expect("token");
        let doc = format!("{{\"keys\":[{}]}}", e["jwk"]);
        // Either the remote set refuses the HMAC key, or verification finds no key.
        if let Ok(remote) = JwkSet::from_json(doc.as_bytes(), KeyOrigin::Remote, &Limits::DEFAULT) {
            assert_eq!(
                jwt_verify(token, &remote, &options(), f.now, &PureBackend).unwrap_err(),
                VerifyError::NoMatchingKey
            );
        }
    }
}

#[test]
fn split_prepare_host_check_finish() {
    let f = fixtures();
    let e = &f.entries[9]; // ES256 with kid
    let token = e["token"].as_str().expect("token");
    let keys = single(e);
    let opts = options();
    let prepared = edgegate::jose::prepare(token, &keys, &opts).expect("prepare");
    assert_eq!(prepared.alg(), Algorithm::Es256);
    assert_eq!(prepared.candidates().len(), 1);
    assert_eq!(
        prepared.signing_input(),
        &token.as_bytes()[..token.rfind('.').unwrap()]
    );
    // The host checks the signature itself (here: with the pure backend) ...
    let index = prepared.verify_signature(&PureBackend).expect("signature");
    // ... and a host that names a key that is not a candidate gets no token.
    assert_eq!(
        prepared.clone().finish(7, f.now, &opts).unwrap_err(),
        VerifyError::InvalidSignature
    );
    let v = prepared.finish(index, f.now, &opts).expect("claims");
    assert_eq!(v.kid(), e["kid"].as_str());
    assert_eq!(Value::Object(v.into_claims()), e["claims"]);
}
