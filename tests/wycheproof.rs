//! Wycheproof JOSE vectors (tests/vectors/wycheproof/, Apache-2.0, see LICENSE there).
//!
//! Every vector of `json_web_signature_test.json` and `json_web_key_test.json`, and every
//! vector of the `jws_*` groups of `json_web_crypto_test.json`, is run through
//! `compact_verify` with the group's key: `public` when the group has one, else `private`
//! (oct keys). A key or set (`{"keys": [...]}`) is imported with `Jwk::from_json` /
//! `JwkSet::from_json` and `KeyOrigin::Local`; an import error counts as "rejected".
//! No caller allowlist is given: the key alone pins the algorithm.
//!
//! Six "valid" signature vectors must be rejected; they are listed, with the reason, in
//! tests/vectors/DIVERGENCES.md and in `DIVERGENT` below, and asserted rejected for that
//! reason. Two "invalid" vectors (367, 370) are byte-for-byte the valid vector 357 (same
//! JWS, same key: a defect in the vector file), so they are accepted; `ACCEPTED_INVALID`
//! lists them and a test asserts they are identical to 357. Any other disagreement fails.

use edgegate::jose::Part;
use edgegate::{
    compact_verify, DecodeError, Jwk, JwkSet, KeyError, KeyOrigin, Limits, PureBackend,
    VerifyError, VerifyOptions,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/wycheproof/");

/// (tcId in json_web_signature_test.json, why edgegate rejects a "valid" vector).
const DIVERGENT: [(u64, &str); 6] = [
    (346, "key alg PS256, token alg PS384 (RFC 8725 3.1)"),
    (
        347,
        "key alg \"ES521\" is not a JOSE alg, token alg ES512 (RFC 8725 3.1)",
    ),
    (350, "key alg PS256, token alg PS384 (RFC 8725 3.1)"),
    (
        351,
        "key alg \"ES521\" is not a JOSE alg, token alg ES512 (RFC 8725 3.1)",
    ),
    (372, "invalid character inserted in the header's base64url"),
    (373, "invalid character inserted in the payload's base64url"),
];

/// (tcId, the valid tcId it is identical to): "invalid" vectors whose JWS and key are
/// byte-for-byte those of a valid vector, so no verifier can reject them consistently.
const ACCEPTED_INVALID: [(u64, u64); 2] = [(367, 357), (370, 357)];

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).expect("vector file");
    serde_json::from_str(&text).expect("vector json")
}

fn import(key: &Value) -> Result<JwkSet, KeyError> {
    let limits = Limits::DEFAULT;
    let bytes = key.to_string();
    if key.get("keys").is_some() {
        JwkSet::from_json(bytes.as_bytes(), KeyOrigin::Local, &limits)
    } else {
        let jwk = Jwk::from_json(bytes.as_bytes(), &limits)?;
        JwkSet::from_keys(vec![jwk], KeyOrigin::Local)
    }
}

/// Why a vector was rejected (printed with Debug when a vector disagrees).
#[derive(Debug)]
#[allow(dead_code)]
enum Rejection {
    Key(KeyError),
    Verify(VerifyError),
}

fn run_vector(group: &Value, test: &Value) -> Result<(), Rejection> {
    let key = group
        .get("public")
        .or_else(|| group.get("private"))
        .expect("group key");
    let set = import(key).map_err(Rejection::Key)?;
    // A JSON-serialized JWS is given as an object: hand it over as its JSON text.
    let jws = match &test["jws"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    compact_verify(&jws, &set, &VerifyOptions::default(), &PureBackend)
        .map(|_| ())
        .map_err(Rejection::Verify)
}

struct Tally {
    total: usize,
    agree: usize,
    valid_accepted: usize,
    invalid_rejected: usize,
    divergent_rejected: usize,
    divergent_accepted: usize,
    disagreements: Vec<String>,
}

fn run_file(
    name: &str,
    group_filter: impl Fn(&Value) -> bool,
    divergent: &[(u64, &str)],
    accepted_invalid: &[(u64, u64)],
) -> Tally {
    let doc = load(name);
    let mut t = Tally {
        total: 0,
        agree: 0,
        valid_accepted: 0,
        invalid_rejected: 0,
        divergent_rejected: 0,
        divergent_accepted: 0,
        disagreements: Vec::new(),
    };
    for group in doc["testGroups"].as_array().expect("groups") {
        if !group_filter(group) {
            continue;
        }
        for test in group["tests"].as_array().expect("tests") {
            t.total += 1;
            let id = test["tcId"].as_u64().expect("tcId");
            let result = test["result"].as_str().expect("result");
            let outcome = run_vector(group, test);
            let divergent = divergent.iter().find(|(d, _)| *d == id);
            let defect = accepted_invalid.iter().any(|(d, _)| *d == id);
            let expect_accept = (result == "valid" && divergent.is_none()) || defect;
            match (expect_accept, &outcome) {
                (true, Ok(())) => {
                    t.agree += 1;
                    if defect {
                        t.divergent_accepted += 1;
                    } else {
                        t.valid_accepted += 1;
                    }
                }
                (false, Err(_)) => {
                    t.agree += 1;
                    if divergent.is_some() {
                        t.divergent_rejected += 1;
                    } else {
                        t.invalid_rejected += 1;
                    }
                }
                _ => t.disagreements.push(format!(
                    "{name} tcId {id} ({} / {}): expected {}, got {:?}",
                    group["comment"].as_str().unwrap_or(""),
                    test["comment"].as_str().unwrap_or(""),
                    if expect_accept { "accept" } else { "reject" },
                    outcome
                )),
            }
        }
    }
    t
}

fn report(label: &str, t: &Tally) {
    println!(
        "wycheproof: {} {label} vectors, {} pass ({} valid accepted, {} invalid rejected, {} divergent rejected, {} defective accepted), {} fail",
        t.total,
        t.agree,
        t.valid_accepted,
        t.invalid_rejected,
        t.divergent_rejected,
        t.divergent_accepted,
        t.disagreements.len()
    );
    for d in &t.disagreements {
        println!("  DISAGREE {d}");
    }
}

#[test]
fn json_web_signature_vectors() {
    let t = run_file(
        "json_web_signature_test.json",
        |_| true,
        &DIVERGENT,
        &ACCEPTED_INVALID,
    );
    report("signature", &t);
    assert_eq!(t.total, 401);
    assert_eq!(t.divergent_rejected, DIVERGENT.len());
    assert_eq!(t.divergent_accepted, ACCEPTED_INVALID.len());
    assert!(t.disagreements.is_empty(), "{:#?}", t.disagreements);
    assert_eq!(t.agree, 401);
    assert_eq!(t.valid_accepted, 46 - DIVERGENT.len());
}

#[test]
fn json_web_key_vectors() {
    let t = run_file("json_web_key_test.json", |_| true, &[], &[]);
    report("key", &t);
    assert_eq!(t.total, 26);
    assert!(t.disagreements.is_empty(), "{:#?}", t.disagreements);
    assert_eq!(t.agree, 26);
    assert_eq!(t.valid_accepted, 5);
}

#[test]
fn json_web_crypto_jws_vectors() {
    let jws_only = |g: &Value| g["comment"].as_str().is_some_and(|c| c.starts_with("jws"));
    let t = run_file("json_web_crypto_test.json", jws_only, &[], &[]);
    report("crypto jws_*", &t);
    assert_eq!(t.total, 49);
    assert!(t.disagreements.is_empty(), "{:#?}", t.disagreements);
    assert_eq!(t.agree, 49);
    assert_eq!(t.valid_accepted, 4);
}

/// The six divergences are rejected for the documented reason, not by accident.
#[test]
fn divergent_vectors_are_rejected_for_the_documented_reason() {
    let doc = load("json_web_signature_test.json");
    let mut seen = 0;
    for group in doc["testGroups"].as_array().expect("groups") {
        for test in group["tests"].as_array().expect("tests") {
            let id = test["tcId"].as_u64().expect("tcId");
            if !DIVERGENT.iter().any(|(d, _)| *d == id) {
                continue;
            }
            seen += 1;
            assert_eq!(test["result"], "valid", "tcId {id}");
            let outcome = run_vector(group, test);
            match id {
                346 | 347 | 350 | 351 => assert!(
                    matches!(outcome, Err(Rejection::Verify(VerifyError::NoMatchingKey))),
                    "tcId {id}: {outcome:?}"
                ),
                372 => assert!(
                    matches!(
                        outcome,
                        Err(Rejection::Verify(VerifyError::Decode(
                            DecodeError::Base64 { part: Part::Header }
                        )))
                    ),
                    "tcId {id}: {outcome:?}"
                ),
                373 => assert!(
                    matches!(
                        outcome,
                        Err(Rejection::Verify(VerifyError::Decode(
                            DecodeError::Base64 {
                                part: Part::Payload
                            }
                        )))
                    ),
                    "tcId {id}: {outcome:?}"
                ),
                _ => unreachable!(),
            }
        }
    }
    assert_eq!(seen, DIVERGENT.len());
}

/// 367 and 370 ("invalid") are the same JWS with the same key as 357 ("valid").
#[test]
fn defective_invalid_vectors_are_identical_to_a_valid_one() {
    let doc = load("json_web_signature_test.json");
    let find = |id: u64| {
        doc["testGroups"]
            .as_array()
            .expect("groups")
            .iter()
            .find_map(|g| {
                g["tests"]
                    .as_array()
                    .expect("tests")
                    .iter()
                    .find(|t| t["tcId"] == id)
                    .map(|t| (g.clone(), t.clone()))
            })
            .expect("tcId present")
    };
    for (id, same_as) in ACCEPTED_INVALID {
        let (g, t) = find(id);
        let (g0, t0) = find(same_as);
        assert_eq!(t["result"], "invalid");
        assert_eq!(t0["result"], "valid");
        assert_eq!(t["jws"], t0["jws"], "tcId {id} vs {same_as}");
        assert_eq!(g["private"], g0["private"], "tcId {id} vs {same_as}");
        assert!(run_vector(&g, &t).is_ok(), "tcId {id}");
    }
}

/// DIVERGENCES.md lists exactly the tcIds in `DIVERGENT`.
#[test]
fn divergences_file_lists_every_divergence() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/DIVERGENCES.md"
    ))
    .expect("DIVERGENCES.md");
    let ids = DIVERGENT
        .iter()
        .map(|(id, _)| *id)
        .chain(ACCEPTED_INVALID.iter().map(|(id, _)| *id));
    for id in ids {
        assert!(
            text.contains(&format!("| {id} |")),
            "tcId {id} missing from DIVERGENCES.md"
        );
    }
}
