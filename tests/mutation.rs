//! For each algorithm, a token signed by jose (tests/fixtures/jose/tokens.json,
//! `mutation_token`) is rejected when any single bit of its decoded header, payload or
//! signature is flipped (one at a time, re-encoded as strict base64url). One test per
//! algorithm, so the harness runs them in parallel.

use edgegate::codec::b64::{decode, encode};
use edgegate::{compact_verify, Jwk, JwkSet, KeyOrigin, Limits, PureBackend, VerifyOptions};
use serde_json::Value;

fn entry(alg: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jose/tokens.json"
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("tokens.json")).expect("json");
    doc["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["alg"] == alg && e["mutation_token"].is_string())
        .unwrap_or_else(|| panic!("no mutation token for {alg}"))
        .clone()
}

fn every_single_bit_flip_is_rejected(alg: &str) {
    let e = entry(alg);
    let opts = VerifyOptions::default();
    let jwk = Jwk::from_json(e["jwk"].to_string().as_bytes(), &Limits::DEFAULT).expect("key");
    let keys = JwkSet::from_keys(vec![jwk], KeyOrigin::Local).expect("set");
    let token = e["mutation_token"].as_str().expect("token");
    assert!(
        compact_verify(token, &keys, &opts, &PureBackend).is_ok(),
        "{alg}: the unmodified token must verify"
    );
    let parts: Vec<Vec<u8>> = token
        .split('.')
        .map(|p| decode(p.as_bytes()).expect("strict b64"))
        .collect();
    assert_eq!(parts.len(), 3);
    let started = std::time::Instant::now();
    let mut flips = 0usize;
    for part in 0..3 {
        for bit in 0..parts[part].len() * 8 {
            let mut mutated = parts.clone();
            mutated[part][bit / 8] ^= 1 << (bit % 8);
            let t = format!(
                "{}.{}.{}",
                encode(&mutated[0]),
                encode(&mutated[1]),
                encode(&mutated[2])
            );
            assert!(
                compact_verify(&t, &keys, &opts, &PureBackend).is_err(),
                "{alg}: part {part} bit {bit} flipped and still verified"
            );
            flips += 1;
        }
    }
    let expected: usize = parts.iter().map(|p| p.len() * 8).sum();
    assert_eq!(flips, expected);
    println!(
        "mutation: {alg}: {flips} single-bit flips, all rejected ({:?})",
        started.elapsed()
    );
}

macro_rules! per_algorithm {
    ($($name:ident => $alg:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                every_single_bit_flip_is_rejected($alg);
            }
        )*

        #[test]
        fn every_algorithm_has_a_mutation_test() {
            let covered = [$($alg),*];
            for a in edgegate::jose::Algorithm::ALL {
                assert!(covered.contains(&a.name()), "no mutation test for {}", a.name());
            }
        }
    };
}

per_algorithm! {
    hs256 => "HS256", hs384 => "HS384", hs512 => "HS512",
    rs256 => "RS256", rs384 => "RS384", rs512 => "RS512",
    ps256 => "PS256", ps384 => "PS384", ps512 => "PS512",
    es256 => "ES256", es384 => "ES384", es512 => "ES512",
    eddsa => "EdDSA",
}
