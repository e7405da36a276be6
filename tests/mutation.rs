//! For each algorithm, a token signed by jose (tests/fixtures/jose/tokens.json,
//! `mutation_token`) is rejected when any single bit of its decoded header, payload or
//! signature is flipped (one at a time, re-encoded as strict base64url).

use edgegate::b64::{decode, encode};
use edgegate::{compact_verify, Jwk, JwkSet, KeyOrigin, Limits, PureBackend, VerifyOptions};
use serde_json::Value;

fn entries() -> Vec<Value> {
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
        .filter(|e| e["mutation_token"].is_string())
        .cloned()
        .collect()
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let opts = VerifyOptions::default();
    let mut total = 0usize;
    let mut algs = 0usize;
    for e in entries() {
        let jwk = Jwk::from_json(e["jwk"].to_string().as_bytes(), &Limits::DEFAULT).expect("key");
        let keys = JwkSet::from_keys(vec![jwk], KeyOrigin::Local).expect("set");
        let token = e["mutation_token"].as_str().expect("token");
        assert!(
            compact_verify(token, &keys, &opts, &PureBackend).is_ok(),
            "{}: the unmodified token must verify",
            e["alg"]
        );
        let parts: Vec<Vec<u8>> = token
            .split('.')
            .map(|p| decode(p.as_bytes()).expect("strict b64"))
            .collect();
        assert_eq!(parts.len(), 3);
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
                    "{}: part {part} bit {bit} flipped and still verified",
                    e["alg"]
                );
                flips += 1;
            }
        }
        total += flips;
        algs += 1;
    }
    println!("mutation: {algs} algorithms, {total} single-bit flips, all rejected");
    assert_eq!(algs, 13);
}
