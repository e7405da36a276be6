//! The rate-limit algorithms over random request sequences: never more than the limit
//! passes in an aligned window (window algorithms), never more than `limit + d / T` in any
//! interval of `d` (GCRA); a denial never changes the state; no panic on any state or time.
#![no_main]
use arbitrary::Arbitrary;
use edgegate::ratelimit::{check, merge, Algorithm, Policy, State};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    alg: u8,
    limit: u8,
    window: u16,
    start: u64,
    steps: Vec<(u16, u8)>,
    junk_state: Option<(u64, u64, u64)>,
    junk_now: u64,
}

fuzz_target!(|input: Input| {
    let alg = [
        Algorithm::Gcra,
        Algorithm::SlidingWindow,
        Algorithm::FixedWindow,
    ][usize::from(input.alg) % 3];
    let limit = u64::from(input.limit % 20) + 1;
    let window = u64::from(input.window % 5000) + 1;
    let Ok(p) = Policy::new("fuzz", alg, limit, window) else {
        return;
    };
    // Any state at any time: no panic, and merge is idempotent.
    if let Some((a, b, c)) = input.junk_state {
        let s = match alg {
            Algorithm::Gcra => State::Gcra(edgegate::ratelimit::GcraState { tat_us: a }),
            _ => State::Window(edgegate::ratelimit::WindowState {
                window: a,
                count: b,
                prev: c,
            }),
        };
        let (o, n) = check(&p, Some(s), input.junk_now, u64::from(input.limit % 4));
        if !o.allowed {
            assert_eq!(n, s, "a denial changed the state");
        }
        assert_eq!(merge(s, s), s);
    }
    let mut now = input.start % 4_000_000_000_000;
    let mut state = None;
    let mut log: Vec<(u64, u64)> = Vec::new();
    for &(dt, cost) in input.steps.iter().take(200) {
        now += u64::from(dt % 3000);
        let cost = u64::from(cost % (limit as u8 + 3));
        let (o, n) = check(&p, state, now, cost);
        if !o.allowed {
            if let Some(s) = state {
                assert_eq!(n, s, "a denial changed the state");
            }
            assert!(o.retry_after >= 1);
        } else if cost > 0 {
            assert!(cost <= limit);
            log.push((now, cost));
        }
        state = Some(n);
    }
    let l = u128::from(limit);
    let w = u128::from(window);
    match alg {
        Algorithm::Gcra => {
            let t = (w * 1000).div_ceil(l).max(1);
            for i in 0..log.len() {
                let mut n = 0u128;
                for j in i..log.len() {
                    n += u128::from(log[j].1);
                    let d = u128::from(log[j].0 - log[i].0) * 1000;
                    assert!(n * t <= l * t + d, "gcra: {n} passed in {d} us (limit {l})");
                }
            }
        }
        _ => {
            let mut per = std::collections::BTreeMap::<u128, u128>::new();
            for &(t, c) in &log {
                *per.entry(u128::from(t) / w).or_default() += u128::from(c);
            }
            for (k, n) in &per {
                assert!(*n <= l, "window {k}: {n} passed, limit {l}");
            }
        }
    }
});
