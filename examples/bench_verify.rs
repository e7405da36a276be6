//! Native micro-benchmark of the verify hot path (no criterion): HS256 and RS256 with a
//! realistic token (567-byte payload: Auth0-shaped claims). Run with
//! `cargo run --release --example bench_verify`. Prints the median ns/op of several rounds.
//!
//! Rows:
//! - `host path`: what the wasm `verify()` does for an asymmetric token when the host checks
//!   the signature natively: `prepare` + the claim checks (no signature check here).
//! - `full`: `jwt_verify` with the pure-Rust backend (signature + claims, claims `Map` built).
//! - `fast`: `prepare` + signature + `Prepared::check` (claims checked, no `Map` built).
//!
//! The RS256 token was signed with `tests/fixtures/gate/rsa-private.pem` (kid `rsa-1`, the
//! key in `tests/fixtures/gate/jwks.json`) by Python `cryptography`, PKCS#1 v1.5 / SHA-256.

use std::hint::black_box;
use std::time::Instant;

use edgegate::codec::b64;
use edgegate::jose::PureBackend;
use edgegate::jose::{jwt_verify, prepare, VerifyOptions};
use edgegate::jose::{Jwk, JwkSet, KeyOrigin};
use edgegate::Limits;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PAYLOAD: &str = r#"{"iss":"https://acme.eu.auth0.com/","sub":"auth0|64f1c2a9e1b2c3d4e5f60718","aud":["https://api.acme.example","https://acme.eu.auth0.com/userinfo"],"iat":1700000000,"nbf":1700000000,"exp":4102444800,"jti":"b1e5c7d2-8f3a-4c6e-9a1b-2d3e4f5a6b7c","azp":"Xk2pQ8clientid","scope":"openid profile email read:reports write:reports","org_id":"org_5wq2A","https://acme.example/roles":["admin","billing"],"permissions":["read:reports","write:reports","read:users"],"email":"jane.doe@acme.example","email_verified":true,"name":"Jane Doe","amr":["pwd","mfa"],"sid":"sess_2bX9kLm"}"#;

const RS256_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJpc3MiOiJodHRwczovL2FjbWUuZXUuYXV0aDAuY29tLyIsInN1YiI6ImF1dGgwfDY0ZjFjMmE5ZTFiMmMzZDRlNWY2MDcxOCIsImF1ZCI6WyJodHRwczovL2FwaS5hY21lLmV4YW1wbGUiLCJodHRwczovL2FjbWUuZXUuYXV0aDAuY29tL3VzZXJpbmZvIl0sImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImp0aSI6ImIxZTVjN2QyLThmM2EtNGM2ZS05YTFiLTJkM2U0ZjVhNmI3YyIsImF6cCI6IlhrMnBROGNsaWVudGlkIiwic2NvcGUiOiJvcGVuaWQgcHJvZmlsZSBlbWFpbCByZWFkOnJlcG9ydHMgd3JpdGU6cmVwb3J0cyIsIm9yZ19pZCI6Im9yZ181d3EyQSIsImh0dHBzOi8vYWNtZS5leGFtcGxlL3JvbGVzIjpbImFkbWluIiwiYmlsbGluZyJdLCJwZXJtaXNzaW9ucyI6WyJyZWFkOnJlcG9ydHMiLCJ3cml0ZTpyZXBvcnRzIiwicmVhZDp1c2VycyJdLCJlbWFpbCI6ImphbmUuZG9lQGFjbWUuZXhhbXBsZSIsImVtYWlsX3ZlcmlmaWVkIjp0cnVlLCJuYW1lIjoiSmFuZSBEb2UiLCJhbXIiOlsicHdkIiwibWZhIl0sInNpZCI6InNlc3NfMmJYOWtMbSJ9.1UsFoeii0Bp_0rV_P3kOMHN1S8AKFIs0cGzft2jQlQ-qqmDPhxnt136Z96C7QzuXb_wG3lUuHXIMDmCkc2P3M6ggPsVInZmeOIDV3TskzmPLfTwHrfdwA0zp0CMGp2aMQi-TeaFwY40cEb2cGTtmxJSq9a3wfSxk3ROaVZgCNGGZdr20ylVUA1jzr9HfHebgcWCDTE-aWEZbWxOXzTB7wThb44L2WO1DLIt7fw2NUTTkW5i8FeitxhThGwk-KcUb6zyr6EMKnGCJkYp5IAxGsERy3JK66_0vB0KXilQQogPETST_ZCGLZqwbOEATRDTmP7tHm2hqQuQ02Dt_7C7zXw";

const HS_SECRET: &[u8] = b"bench-secret-0123456789-abcdefghijkl";
const NOW: i64 = 1_700_000_100;

fn sign_hs256() -> String {
    let header = b64::encode(br#"{"alg":"HS256","typ":"JWT","kid":"hs-1"}"#);
    let payload = b64::encode(PAYLOAD.as_bytes());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(HS_SECRET).expect("hmac takes any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64::encode(&mac.finalize().into_bytes()))
}

/// Median ns/op over `rounds` rounds of `iters` calls.
fn bench(name: &str, iters: u32, rounds: usize, mut f: impl FnMut() -> bool) {
    for _ in 0..iters / 10 {
        assert!(f(), "{name}: verification failed");
    }
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            start.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    let min = samples[0];
    println!("{name:<40} median {median:>9.0} ns/op   min {min:>9.0} ns/op");
}

fn options() -> VerifyOptions {
    VerifyOptions {
        issuer: vec!["https://acme.eu.auth0.com/".into()],
        audience: vec!["https://api.acme.example".into()],
        limits: Limits::DEFAULT,
        ..VerifyOptions::default()
    }
}

fn main() {
    let opts = options();
    let rounds = 15;

    let mut hs_key = Jwk::from_hmac_secret(HS_SECRET).expect("secret");
    hs_key.kid = Some("hs-1".into());
    let hs_set = JwkSet::from_keys(vec![hs_key], KeyOrigin::Local).expect("set");
    let hs = sign_hs256();
    println!(
        "HS256 token {} bytes, RS256 token {} bytes, payload {} bytes",
        hs.len(),
        RS256_TOKEN.len(),
        PAYLOAD.len()
    );

    let rs_set = JwkSet::from_json(
        include_bytes!("../tests/fixtures/gate/jwks.json"),
        KeyOrigin::Remote,
        &Limits::DEFAULT,
    )
    .expect("jwks");

    bench("payload json::parse_object (Value)", 50_000, rounds, || {
        edgegate::codec::parse_object(black_box(PAYLOAD.as_bytes()), 16).is_ok()
    });
    bench(
        "payload json::scan_object (no Value)",
        50_000,
        rounds,
        || edgegate::codec::scan_object(black_box(PAYLOAD.as_bytes()), 16).is_ok(),
    );
    bench("RS256 prepare only", 50_000, rounds, || {
        prepare(black_box(RS256_TOKEN), &rs_set, &opts).is_ok()
    });
    bench("HS256 full (jwt_verify, Map)", 20_000, rounds, || {
        jwt_verify(black_box(&hs), &hs_set, &opts, NOW, &PureBackend).is_ok()
    });
    bench("HS256 fast (prepare+sig+check)", 20_000, rounds, || {
        prepare(black_box(&hs), &hs_set, &opts)
            .and_then(|p| {
                let i = p.verify_signature(&PureBackend)?;
                p.check(i, NOW, &opts)
            })
            .is_ok()
    });
    bench(
        "RS256 host path, old (prepare+finish)",
        20_000,
        rounds,
        || {
            prepare(black_box(RS256_TOKEN), &rs_set, &opts)
                .and_then(|p| p.finish(0, NOW, &opts).map(|_| ()))
                .is_ok()
        },
    );
    bench(
        "RS256 host path, fast (prepare+check)",
        20_000,
        rounds,
        || {
            prepare(black_box(RS256_TOKEN), &rs_set, &opts)
                .and_then(|p| p.check(0, NOW, &opts))
                .is_ok()
        },
    );
    bench("RS256 full (jwt_verify, pure RSA)", 500, rounds, || {
        jwt_verify(black_box(RS256_TOKEN), &rs_set, &opts, NOW, &PureBackend).is_ok()
    });
}
