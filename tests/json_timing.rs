//! What the hand-written scanner in `src/codec/json.rs` buys: the time to check a typical
//! JWT header and payload with `scan_object` (the token path: validates, builds no tree)
//! against the strict `parse_object` (serde_json's tokenizer with our duplicate/depth seed,
//! builds a `Value`) and plain `serde_json::from_slice::<Value>` (no duplicate check: the
//! floor of any serde_json-based strict parser). The numbers are recorded in the module doc
//! of `src/codec/json.rs`.
//!
//! Ignored by default (a timing, not a check); run optimized:
//! `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test --test json_timing -- --ignored --nocapture`.
//! The always-run test below checks that the three agree on the documents timed.

use std::hint::black_box;
use std::time::Instant;

use edgegate::codec::{parse_object, scan_object};

const HEADER: &[u8] = br#"{"alg":"RS256","typ":"JWT","kid":"3f2b6a1c9d8e4f70"}"#;

const PAYLOAD: &[u8] = br#"{"iss":"https://tenant.eu.auth0.com/","sub":"auth0|64f1c2e9a7b3d5e8f9012345","aud":["https://api.example.com","https://tenant.eu.auth0.com/userinfo"],"iat":1732960000,"exp":1732963600,"azp":"Xk9pQ2rT7uV1wY3zA5bC","scope":"openid profile email read:orders","permissions":["read:orders","write:orders"],"https://example.com/roles":["admin","support"],"org_id":"org_8Hq2LmN4pR6sT8vW"}"#;

const DEPTH: usize = 32;

fn per_call_ns(iters: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

#[test]
fn the_three_readers_agree_on_the_timed_documents() {
    for doc in [HEADER, PAYLOAD] {
        let scanned = scan_object(doc, DEPTH).unwrap();
        let parsed = parse_object(doc, DEPTH).unwrap();
        let plain: serde_json::Value = serde_json::from_slice(doc).unwrap();
        assert_eq!(scanned.len(), parsed.len());
        assert_eq!(serde_json::Value::Object(parsed), plain);
    }
}

#[test]
#[ignore = "a timing: run optimized with --ignored --nocapture"]
fn scan_vs_serde_json_on_a_jwt() {
    let iters = 200_000;
    for (name, doc) in [("header", HEADER), ("payload", PAYLOAD)] {
        let scan = per_call_ns(iters, || {
            black_box(scan_object(black_box(doc), DEPTH).unwrap());
        });
        let strict = per_call_ns(iters, || {
            black_box(parse_object(black_box(doc), DEPTH).unwrap());
        });
        let plain = per_call_ns(iters, || {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(doc)).unwrap());
        });
        println!(
            "{name} ({} bytes): scan_object {scan:.0} ns, parse_object {strict:.0} ns, \
             serde_json::from_slice::<Value> {plain:.0} ns",
            doc.len()
        );
    }
}
