//! Compact token parsing and inspection: any bytes -> a typed error or a parsed token,
//! never a panic; budgets hold; errors never echo the token.
#![no_main]
use edgegate::{inspect, Limits, UntrustedToken};
use libfuzzer_sys::fuzz_target;

#[path = "../common/echo.rs"]
mod echo;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = core::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::DEFAULT;
    match UntrustedToken::parse(s, &limits) {
        Ok(t) => {
            assert!(s.len() <= limits.max_token_bytes, "over the token budget");
            let _ = t.header();
            let _ = t.signing_input();
            let _ = t.signature();
            let _ = t.claims_unverified(&limits);
        }
        Err(e) => {
            let _ = e.code();
            let text = |t: &str| {
                UntrustedToken::parse(t, &limits)
                    .err()
                    .map(|e| e.to_string())
            };
            assert!(!echo::echoes(s, text), "error echoes the token");
        }
    }
    for now in [0i64, 1_700_000_000, i64::MIN, i64::MAX] {
        if let Ok(i) = inspect(s, now, &limits) {
            let _ = format!("{i:?}");
        }
    }
    // A tiny budget must be enforced before anything else.
    let tight = Limits {
        max_token_bytes: 32,
        max_json_depth: 2,
        ..Limits::DEFAULT
    };
    if UntrustedToken::parse(s, &tight).is_ok() {
        assert!(s.len() <= 32);
    }
});
