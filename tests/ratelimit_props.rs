//! Property tests of the rate-limit algorithms (issue 10): the bound each algorithm
//! guarantees, exact refill, denials that do not change state, monotonic merges, no panics,
//! and header values that parse as Structured Fields lists.

use edgegate::ratelimit::{
    add, check, gcra, headers, merge, window, Algorithm, GcraState, Outcome, Policy, State,
    WindowState, MAX_LIMIT, MAX_NOW_MS, MAX_WINDOW_MS,
};
use proptest::prelude::*;

mod common;
use common::sf;

const ALGS: [Algorithm; 3] = [
    Algorithm::Gcra,
    Algorithm::SlidingWindow,
    Algorithm::FixedWindow,
];

fn alg() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(&ALGS[..])
}

/// Small limits and windows, so that sequences cross many windows and hit the limit.
fn small_policy() -> impl Strategy<Value = Policy> {
    (
        alg(),
        1u64..=12,
        prop_oneof![1u64..=50, 900u64..=3_000, Just(60_000u64)],
    )
        .prop_map(|(a, l, w)| Policy::new("p", a, l, w).unwrap())
}

/// Steps: (milliseconds since the previous request, cost); costs up to limit + 2.
fn steps() -> impl Strategy<Value = Vec<(u64, u64)>> {
    prop::collection::vec(
        (prop_oneof![Just(0u64), 0u64..=100, 0u64..=5_000], 0u64..=14),
        1..80,
    )
}

fn peek(p: &Policy, s: Option<State>, now: u64) -> Outcome<'_> {
    check(p, s, now, 0).0
}

/// Runs a monotonic sequence; returns the allowed (time, cost) pairs and the final state.
fn run(p: &Policy, start: u64, steps: &[(u64, u64)]) -> (Vec<(u64, u64)>, Option<State>) {
    let mut s = None;
    let mut now = start;
    let mut log = Vec::new();
    for &(dt, cost) in steps {
        now += dt;
        let (o, n) = check(p, s, now, cost);
        if o.allowed && cost > 0 {
            log.push((now, cost));
        }
        s = Some(n);
    }
    (log, s)
}

/// The bound each algorithm states in its docs, recomputed from the log of allowed requests.
fn assert_bound(p: &Policy, log: &[(u64, u64)]) -> Result<(), TestCaseError> {
    let l = u128::from(p.limit());
    let w = u128::from(p.window_ms());
    match p.algorithm() {
        Algorithm::Gcra => {
            // In any closed interval of d microseconds at most limit + d / T passes,
            // T = ceil(window_us / limit): n * T <= limit * T + d.
            let t = (w * 1000).div_ceil(l).max(1);
            for i in 0..log.len() {
                let mut n = 0u128;
                for j in i..log.len() {
                    n += u128::from(log[j].1);
                    let d = u128::from(log[j].0 - log[i].0) * 1000;
                    prop_assert!(
                        n * t <= l * t + d,
                        "gcra: {n} passed in {d} us (limit {l}, T {t})"
                    );
                    if d < w * 1000 {
                        prop_assert!(n <= 2 * l, "gcra: more than 2 * limit in one window");
                    }
                }
            }
        }
        Algorithm::FixedWindow | Algorithm::SlidingWindow => {
            // At most `limit` per aligned window.
            let mut per_window = std::collections::BTreeMap::<u128, u128>::new();
            for &(t, c) in log {
                *per_window.entry(u128::from(t) / w).or_default() += u128::from(c);
            }
            for (k, n) in &per_window {
                prop_assert!(*n <= l, "window {k}: {n} passed, limit {l}");
            }
            if p.algorithm() == Algorithm::SlidingWindow {
                // prev * (w - e) + (count up to and including this request) * w <= l * w.
                let mut upto = std::collections::BTreeMap::<u128, u128>::new();
                for &(t, c) in log {
                    let t = u128::from(t);
                    let k = t / w;
                    let e = t - k * w;
                    let cur = upto.entry(k).or_default();
                    *cur += u128::from(c);
                    let cur = *cur;
                    let prev = if k == 0 {
                        0
                    } else {
                        per_window.get(&(k - 1)).copied().unwrap_or(0)
                    };
                    prop_assert!(
                        prev * (w - e) + cur * w <= l * w,
                        "sliding estimate above the limit at {t}: prev {prev} count {cur}"
                    );
                }
            }
        }
    }
    Ok(())
}

fn any_state(a: Algorithm) -> BoxedStrategy<State> {
    match a {
        Algorithm::Gcra => any::<u64>()
            .prop_map(|tat_us| State::Gcra(GcraState { tat_us }))
            .boxed(),
        _ => (any::<u64>(), any::<u64>(), any::<u64>())
            .prop_map(|(window, count, prev)| {
                State::Window(WindowState {
                    window,
                    count,
                    prev,
                })
            })
            .boxed(),
    }
}

/// A state near `now` (a few windows around it, counts around the limit).
fn near_state(p: &Policy, now: u64) -> BoxedStrategy<State> {
    let l = p.limit();
    let idx = now / p.window_ms();
    match p.algorithm() {
        Algorithm::Gcra => {
            let span = (p.window_ms() * 3000).max(1);
            (0..=2 * span)
                .prop_map(move |x| {
                    State::Gcra(GcraState {
                        tat_us: (now * 1000 + x).saturating_sub(span),
                    })
                })
                .boxed()
        }
        _ => (0u64..=4, 0..=l + 2, 0..=l + 2)
            .prop_map(move |(d, count, prev)| {
                State::Window(WindowState {
                    window: (idx + 1).saturating_sub(d),
                    count,
                    prev,
                })
            })
            .boxed(),
    }
}

fn policy_and_near_state() -> impl Strategy<Value = (Policy, u64, State)> {
    (small_policy(), 0u64..=2_000_000_000_000).prop_flat_map(|(p, now)| {
        let s = near_state(&p, now);
        (Just(p), Just(now), s)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Within the algorithm's stated bound for any monotonic request sequence.
    #[test]
    fn never_more_than_the_bound(p in small_policy(), start in 0u64..=2_000_000_000_000, steps in steps()) {
        let (log, _) = run(&p, start, &steps);
        assert_bound(&p, &log)?;
    }

    /// A greedy client (takes all of `remaining` every millisecond, or at random steps)
    /// stays within the bound, also for limits far above the window in milliseconds (where
    /// the GCRA emission interval is not a whole number of microseconds).
    #[test]
    fn greedy_client_stays_within_the_bound(
        a in alg(), limit in prop_oneof![1u64..=12, 13u64..=5_000], w in prop_oneof![1u64..=40, 41u64..=3_000],
        start in 0u64..=2_000_000_000_000, gaps in prop::collection::vec(prop_oneof![Just(1u64), 0u64..=500], 1..150),
    ) {
        let p = Policy::new("g", a, limit, w).unwrap();
        let mut s = None;
        let mut now = start;
        let mut log = Vec::new();
        for gap in gaps {
            now += gap;
            let r = peek(&p, s, now).remaining;
            let (o, n) = check(&p, s, now, r.max(1));
            prop_assert_eq!(o.allowed, r > 0);
            if o.allowed {
                log.push((now, r));
                prop_assert_eq!(o.remaining, 0);
            }
            s = Some(n);
        }
        assert_bound(&p, &log)?;
    }

    /// A fresh key passes exactly `limit` unit requests at one instant (the burst).
    #[test]
    fn fresh_key_bursts_exactly_the_limit(p in small_policy(), now in 0u64..=MAX_NOW_MS) {
        let mut s = None;
        for i in 0..p.limit() {
            let (o, n) = check(&p, s, now, 1);
            prop_assert!(o.allowed, "request {i}");
            prop_assert_eq!(o.remaining, p.limit() - i - 1);
            s = Some(n);
        }
        let (o, _) = check(&p, s, now, 1);
        prop_assert!(!o.allowed);
    }

    /// Refill is exact: at `now + retry_after_ms` the denied request passes, one millisecond
    /// earlier it does not; `retry_after` is the same wait in whole seconds (>= 1), and the
    /// quota is full exactly `reset_ms` later.
    #[test]
    fn refill_is_exact((p, now, s) in policy_and_near_state(), cost in 0u64..=14) {
        let (o, n) = check(&p, Some(s), now, cost);
        prop_assert_eq!(o.reset, o.reset_ms.div_ceil(1000));
        if !o.allowed {
            prop_assert_eq!(n, s, "a denial changed the state");
            prop_assert!(o.retry_after >= 1);
            prop_assert!(o.retry_after_ms >= 1);
            if o.cost_exceeds_limit {
                prop_assert!(cost > p.limit());
                for dt in [0, o.retry_after_ms, 10 * p.window_ms()] {
                    prop_assert!(!check(&p, Some(s), now + dt, cost).0.allowed);
                }
            } else {
                prop_assert_eq!(o.retry_after, o.retry_after_ms.div_ceil(1000));
                let c = cost.max(1);
                let at = now + o.retry_after_ms;
                prop_assert!(check(&p, Some(s), at, c).0.allowed, "not allowed after retry_after_ms");
                prop_assert!(!check(&p, Some(s), at - 1, c).0.allowed, "allowed before retry_after_ms");
                prop_assert!(check(&p, Some(s), now + o.retry_after * 1000, c).0.allowed);
            }
        } else {
            prop_assert_eq!(o.retry_after, 0);
            prop_assert_eq!(o.retry_after_ms, 0);
            prop_assert!(cost <= p.limit());
        }
        // The quota is full again exactly reset_ms after this answer (on the new state).
        let full = peek(&p, Some(n), now + o.reset_ms);
        prop_assert_eq!(full.remaining, p.limit());
        if o.reset_ms > 0 {
            prop_assert!(peek(&p, Some(n), now + o.reset_ms - 1).remaining < p.limit());
        }
    }

    /// `remaining` is exact: `remaining` more cost passes now, one more does not.
    #[test]
    fn remaining_is_exact((p, now, s) in policy_and_near_state()) {
        let o = peek(&p, Some(s), now);
        if o.remaining > 0 {
            prop_assert!(check(&p, Some(s), now, o.remaining).0.allowed);
        }
        if o.remaining < p.limit() {
            prop_assert!(!check(&p, Some(s), now, o.remaining + 1).0.allowed);
        }
    }

    /// Time going backwards never grants quota: the quota available from a state never
    /// grows when the clock is earlier.
    #[test]
    fn earlier_clock_never_grants_more((p, now, s) in policy_and_near_state(), back in 0u64..=200_000) {
        let later = peek(&p, Some(s), now).remaining;
        let earlier = peek(&p, Some(s), now.saturating_sub(back)).remaining;
        prop_assert!(earlier <= later, "earlier {earlier} > later {later}");
    }

    /// Peeks and denials never change the state, for any input.
    #[test]
    fn denials_and_peeks_keep_the_state(a in alg(), s in alg().prop_flat_map(any_state), now: u64, cost: u64, limit in 1..=MAX_LIMIT, w in 1..=MAX_WINDOW_MS) {
        let p = Policy::new("p", a, limit, w).unwrap();
        let (o, n) = check(&p, Some(s), now, cost);
        let same_kind = matches!((a, s), (Algorithm::Gcra, State::Gcra(_)) | (Algorithm::SlidingWindow | Algorithm::FixedWindow, State::Window(_)));
        if same_kind && (!o.allowed || cost == 0) {
            prop_assert_eq!(n, s);
        }
        if !o.allowed {
            prop_assert!(o.retry_after >= 1);
        }
        prop_assert!(o.remaining <= limit);
    }

    /// No panics for any input, including states from a corrupt store and absurd times.
    #[test]
    fn no_panics(a in alg(), s in prop::option::of(alg().prop_flat_map(any_state)), now: u64, cost: u64, limit in 1..=MAX_LIMIT, w in 1..=MAX_WINDOW_MS, name in "[ -~]{1,64}") {
        let p = Policy::new(&name, a, limit, w).unwrap();
        let (o, n) = check(&p, s, now, cost);
        let _ = headers::rate_limit(&[o]);
        let _ = headers::rate_limit_policy(&[o]);
        let _ = headers::retry_after(&[o]);
        if let Some(s) = s {
            let _ = merge(s, n);
        }
        let _ = Policy::new(&name, a, limit.wrapping_mul(3), w.wrapping_mul(7));
    }

    /// GCRA merge: a join, and the merged state never has more quota than either input.
    #[test]
    fn gcra_merge_is_monotonic(a: u64, b: u64, c: u64, now in 0u64..=MAX_NOW_MS, limit in 1u64..=100, w in 1u64..=100_000) {
        let (a, b, c) = (GcraState { tat_us: a }, GcraState { tat_us: b }, GcraState { tat_us: c });
        prop_assert_eq!(gcra::merge(a, b), gcra::merge(b, a));
        prop_assert_eq!(gcra::merge(gcra::merge(a, b), c), gcra::merge(a, gcra::merge(b, c)));
        prop_assert_eq!(gcra::merge(a, a), a);
        let p = Policy::new("g", Algorithm::Gcra, limit, w).unwrap();
        let m = peek(&p, Some(State::Gcra(gcra::merge(a, b))), now).remaining;
        let ra = peek(&p, Some(State::Gcra(a)), now).remaining;
        let rb = peek(&p, Some(State::Gcra(b)), now).remaining;
        prop_assert!(m <= ra.min(rb));
    }

    /// Window merge: a join, and in or after the later window the merged state never has
    /// more quota than either input, for both window algorithms.
    #[test]
    fn window_merge_is_monotonic(
        base in 0u64..=1_000_000, ds in (0u64..=3, 0u64..=3, 0u64..=3),
        counts in prop::array::uniform6(0u64..=12),
        limit in 1u64..=10, w in 1u64..=10_000, e in 0u64..=30_000,
    ) {
        let mk = |d: u64, i: usize| WindowState { window: base + d, count: counts[i], prev: counts[i + 1] };
        let (a, b, c) = (mk(ds.0, 0), mk(ds.1, 2), mk(ds.2, 4));
        prop_assert_eq!(window::merge(a, b), window::merge(b, a));
        prop_assert_eq!(window::merge(window::merge(a, b), c), window::merge(a, window::merge(b, c)));
        prop_assert_eq!(window::merge(a, a), a);
        let m = window::merge(a, b);
        let now = m.window * w + e;
        for alg in [Algorithm::SlidingWindow, Algorithm::FixedWindow] {
            let p = Policy::new("w", alg, limit, w).unwrap();
            let rm = peek(&p, Some(State::Window(m)), now).remaining;
            let ra = peek(&p, Some(State::Window(a)), now).remaining;
            let rb = peek(&p, Some(State::Window(b)), now).remaining;
            prop_assert!(rm <= ra.min(rb), "{alg:?}: merged {rm}, inputs {ra} {rb}");
        }
    }

    /// Merging the states of two runs (e.g. a local and a global view) never has more quota
    /// than either run alone.
    #[test]
    fn merge_of_runs_is_monotonic(p in small_policy(), start in 0u64..=2_000_000_000_000, s1 in steps(), s2 in steps()) {
        let (_, a) = run(&p, start, &s1);
        let (_, b) = run(&p, start, &s2);
        let (Some(a), Some(b)) = (a, b) else { return Ok(()) };
        let end = start + s1.iter().chain(&s2).map(|x| x.0).sum::<u64>();
        let m = merge(a, b);
        let rm = peek(&p, Some(m), end).remaining;
        prop_assert!(rm <= peek(&p, Some(a), end).remaining);
        prop_assert!(rm <= peek(&p, Some(b), end).remaining);
    }

    /// `add` (summing usage, for coalesced deltas): commutative, associative, and never more
    /// quota than either input; with a fresh state it is the identity in usage.
    #[test]
    fn add_is_commutative_associative_and_monotonic(
        (p, now, a) in policy_and_near_state(), sb in 0u64..=u64::MAX, sc in 0u64..=u64::MAX,
    ) {
        // Two more states of the same kind near `now`, derived from the seeds.
        let idx = now / p.window_ms();
        let mk = |seed: u64| match a {
            State::Gcra(_) => State::Gcra(GcraState { tat_us: now * 1000 + seed % (p.window_ms() * 2000) }),
            State::Window(_) => State::Window(WindowState {
                window: idx.saturating_sub(seed % 3),
                count: (seed >> 8) % (p.limit() + 2),
                prev: (seed >> 24) % (p.limit() + 2),
            }),
        };
        let (b, c) = (mk(sb), mk(sc));
        prop_assert_eq!(add(a, b, now), add(b, a, now));
        prop_assert_eq!(add(add(a, b, now), c, now), add(a, add(b, c, now), now));
        // In or after the later window (windows) / at `now` (GCRA).
        let later = match (a, b) {
            (State::Window(x), State::Window(y)) => (x.window.max(y.window) * p.window_ms()).max(now),
            _ => now,
        };
        let rs = peek(&p, Some(add(a, b, now)), later).remaining;
        prop_assert!(rs <= peek(&p, Some(a), later).remaining);
        prop_assert!(rs <= peek(&p, Some(b), later).remaining);
        let fresh = match a {
            State::Gcra(_) => State::Gcra(GcraState::default()),
            State::Window(_) => State::Window(WindowState::default()),
        };
        prop_assert_eq!(
            peek(&p, Some(add(a, fresh, now)), now).remaining,
            peek(&p, Some(a), now).remaining
        );
    }

    /// `add` sums: two writers that each consumed part of the quota at one instant add up
    /// to both consumptions (where `merge` keeps only the larger).
    #[test]
    fn add_sums_two_writers(
        (p, x, y) in small_policy().prop_flat_map(|p| {
            let l = p.limit();
            (Just(p), 0..=l).prop_flat_map(move |(p, x)| (Just(p), Just(x), 0..=l - x))
        }),
        now in 0u64..=MAX_NOW_MS,
    ) {
        let (_, a) = check(&p, None, now, x);
        let (_, b) = check(&p, None, now, y);
        prop_assert_eq!(peek(&p, Some(add(a, b, now)), now).remaining, p.limit() - x - y);
        prop_assert_eq!(peek(&p, Some(merge(a, b)), now).remaining, p.limit() - x.max(y));
    }

    /// States survive a JSON round trip (what a store keeps).
    #[test]
    fn state_serde_round_trip(s in alg().prop_flat_map(any_state)) {
        let json = serde_json::to_string(&s).unwrap();
        let back: State = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, s);
    }

    /// Both header fields parse as Structured Fields lists with the right members.
    #[test]
    fn headers_are_sf_lists(members in prop::collection::vec(("[ -~]{1,64}", alg(), 1..=MAX_LIMIT, 1..=MAX_WINDOW_MS, 0u64..=3), 1..5), now in 0u64..=MAX_NOW_MS) {
        let policies: Vec<Policy> = members.iter().map(|(n, a, l, w, _)| Policy::new(n, *a, *l, *w).unwrap()).collect();
        let outcomes: Vec<Outcome<'_>> = policies.iter().zip(&members).map(|(p, m)| check(p, None, now, m.4).0).collect();
        let pol = sf::parse_list(&headers::rate_limit_policy(&outcomes)).map_err(TestCaseError::fail)?;
        let rl = sf::parse_list(&headers::rate_limit(&outcomes)).map_err(TestCaseError::fail)?;
        prop_assert_eq!(pol.len(), outcomes.len());
        prop_assert_eq!(rl.len(), outcomes.len());
        for ((o, a), b) in outcomes.iter().zip(&pol).zip(&rl) {
            prop_assert_eq!(&a.0, o.policy);
            prop_assert_eq!(&a.1, &vec![("q".to_string(), o.limit), ("w".to_string(), o.window)]);
            prop_assert_eq!(&b.0, o.policy);
            prop_assert_eq!(&b.1, &vec![("r".to_string(), o.remaining), ("t".to_string(), o.reset)]);
        }
    }
}

#[test]
fn issue_example_headers() {
    let p = Policy::new("per-user", Algorithm::FixedWindow, 100, 60_000).unwrap();
    let (o, _) = check(&p, None, 0, 1);
    assert_eq!(headers::rate_limit_policy(&[o]), "\"per-user\";q=100;w=60");
    assert_eq!(headers::rate_limit(&[o]), "\"per-user\";r=99;t=60");
    assert!(sf::parse_list("\"a\";q=1, \"b\"").is_ok());
    // The checker itself rejects what is not a list of strings with integer parameters.
    for bad in [
        "",
        "per-user;q=1",
        "\"a\";q=1,",
        "\"a\" \"b\"",
        "\"a\\x\"",
        "\"a\";q=1000000000000000",
        "\"a\";Q=1",
        "\"a\";q=-",
        "\"\u{e9}\"",
    ] {
        assert!(sf::parse_list(bad).is_err(), "{bad:?}");
    }
}
