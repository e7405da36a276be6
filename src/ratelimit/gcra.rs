//! GCRA: token-bucket semantics with one number of state, the theoretical arrival time.
//!
//! With `T = ceil(window_us / limit)` (the emission interval, in microseconds, at least 1)
//! and the capacity `C = limit * T`, a request of cost `c` at time `now` passes iff
//! `max(tat, now) - now + c * T <= C`; it then moves `tat` to `max(tat, now) + c * T`.
//!
//! What that guarantees, precisely: a key that has been idle for a window passes `limit`
//! cost at once (the burst is the limit); in any closed interval of `d` microseconds at
//! most `limit + d / T` cost passes, so in any interval of one window at most `2 * limit`,
//! and over a long run no more than `limit` per window (`T` is rounded up, so the refill
//! rate is never above `limit / window`). `retry_after_ms` is exact for the millisecond
//! clock.
//!
//! Clock skew: a `tat` far ahead of `now` (a state written by a host whose clock runs
//! ahead, or time that went backwards) only means less quota now; it never grants any.

use serde::{Deserialize, Serialize};

use super::{ceil_div_u128, clamp_now, drive, sat, Outcome, Policy};

/// The GCRA state of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GcraState {
    /// The theoretical arrival time, Unix microseconds (below 2^53 for all times up to
    /// [`super::MAX_NOW_MS`], so a JavaScript `Number` holds it exactly). `0`: a fresh key.
    #[serde(rename = "tat")]
    pub tat_us: u64,
}

/// The emission interval `T` and the capacity `C`, in microseconds.
fn interval_and_capacity(policy: &Policy) -> (u128, u128) {
    let l = u128::from(policy.limit());
    let w = u128::from(policy.window_ms()) * 1000;
    let t = u128::from(ceil_div_u128(w, l)).max(1);
    (t, l * t)
}

/// Checks a request of `cost` at `now_ms` (see the module docs and [`super`] for cost 0 and
/// cost above the limit). A denied request returns the state unchanged (a fresh state when
/// none was given).
pub fn check(
    policy: &Policy,
    state: Option<GcraState>,
    now_ms: u64,
    cost: u64,
) -> (Outcome<'_>, GcraState) {
    let old = state.unwrap_or_default();
    let now = u128::from(clamp_now(now_ms)) * 1000;
    let (t, cap) = interval_and_capacity(policy);
    let tat = u128::from(old.tat_us).max(now);
    let used = tat - now;
    let avail = if used >= cap {
        0
    } else {
        sat((cap - used) / t)
    };
    let reset_ms = ceil_div_u128(used, 1000);
    drive(
        policy,
        old,
        cost,
        avail,
        reset_ms,
        // Denied: `used + c * T > C`; it passes once `used` has shrunk by the difference.
        |c| ceil_div_u128((used + u128::from(c) * t).saturating_sub(cap), 1000),
        |c| {
            let new_used = used + u128::from(c) * t;
            let remaining = sat(cap.saturating_sub(new_used) / t);
            let state = GcraState {
                tat_us: sat(now + new_used),
            };
            (state, remaining, ceil_div_u128(new_used, 1000))
        },
    )
}

/// Merges two states of one key: the later theoretical arrival time (the one that used more
/// quota). Commutative, associative, idempotent; at any time the merged state has no more
/// quota than either input.
pub fn merge(a: GcraState, b: GcraState) -> GcraState {
    if a.tat_us >= b.tat_us {
        a
    } else {
        b
    }
}

/// Adds the quota used by two states at `now_ms` (e.g. a store's global state and a
/// coalesced local delta): the result's usage at `now_ms` is the sum of both usages.
/// Commutative and associative for one `now_ms`, not idempotent (use [`merge`] for states
/// that may be applied twice); never has more quota than either input.
pub fn add(a: GcraState, b: GcraState, now_ms: u64) -> GcraState {
    let now = u128::from(clamp_now(now_ms)) * 1000;
    let used = |s: GcraState| u128::from(s.tat_us).saturating_sub(now);
    GcraState {
        tat_us: sat(now + used(a) + used(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Algorithm, MAX_LIMIT, MAX_NOW_MS, MAX_WINDOW_MS};
    use super::*;

    fn pol(limit: u64, window_ms: u64) -> Policy {
        Policy::new("g", Algorithm::Gcra, limit, window_ms).unwrap()
    }

    #[test]
    fn burst_then_steady_refill() {
        let p = pol(10, 60_000); // one unit per 6 s
        let now = 1_700_000_000_000;
        let mut s = None;
        for i in 0..10 {
            let (o, n) = check(&p, s, now, 1);
            assert!(o.allowed, "request {i}");
            assert_eq!(o.remaining, 9 - i);
            s = Some(n);
        }
        let (o, n) = check(&p, s, now, 1);
        assert!(!o.allowed);
        assert_eq!(Some(n), s, "a denial does not change the state");
        assert_eq!(o.retry_after_ms, 6_000);
        assert_eq!(o.retry_after, 6);
        assert_eq!(o.reset, 60);
        assert_eq!(o.remaining, 0);
        let (o, _) = check(&p, s, now + 5_999, 1);
        assert!(!o.allowed);
        assert_eq!(o.retry_after_ms, 1);
        assert_eq!(o.retry_after, 1);
        let (o, n) = check(&p, s, now + 6_000, 1);
        assert!(o.allowed);
        assert_eq!(o.remaining, 0);
        // After a full window the bucket is full again.
        let (o, _) = check(&p, Some(n), now + 6_000 + 60_000, 0);
        assert!(o.allowed);
        assert_eq!(o.remaining, 10);
        assert_eq!(o.reset, 0);
    }

    #[test]
    fn cost_above_one_and_above_limit() {
        let p = pol(5, 1_000);
        let (o, s) = check(&p, None, 1_000, 3);
        assert!(o.allowed);
        assert_eq!(o.remaining, 2);
        let (o, s2) = check(&p, Some(s), 1_000, 3);
        assert!(!o.allowed);
        assert!(!o.cost_exceeds_limit);
        assert_eq!(s2, s);
        assert_eq!(o.retry_after_ms, 200);
        let (o, s3) = check(&p, Some(s), 1_000, 6);
        assert!(!o.allowed);
        assert!(o.cost_exceeds_limit);
        assert_eq!(o.retry_after, 1);
        assert_eq!(s3, s);
        let (o, s4) = check(&p, None, 1_000, u64::MAX);
        assert!(o.cost_exceeds_limit && !o.allowed);
        assert_eq!(s4, GcraState::default());
    }

    #[test]
    fn peek_does_not_consume() {
        let p = pol(1, 1_000);
        let (o, s) = check(&p, None, 10, 0);
        assert!(o.allowed);
        assert_eq!(o.remaining, 1);
        assert_eq!(s, GcraState::default());
        let (_, s) = check(&p, None, 10, 1);
        let (o, s2) = check(&p, Some(s), 10, 0);
        assert!(!o.allowed);
        assert_eq!(o.retry_after_ms, 1_000);
        assert_eq!(s2, s);
    }

    #[test]
    fn clock_going_backwards_grants_nothing() {
        let p = pol(2, 1_000);
        let (_, s) = check(&p, None, 50_000, 2);
        for back in [1, 1_000, 50_000] {
            let (o, s2) = check(&p, Some(s), 50_000 - back, 1);
            assert!(!o.allowed, "back {back}");
            assert_eq!(s2, s);
            assert!(o.retry_after_ms > back);
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        let p = pol(MAX_LIMIT, MAX_WINDOW_MS);
        for now in [0, 1, MAX_NOW_MS, u64::MAX] {
            for tat in [0, 1, u64::MAX / 2, u64::MAX] {
                for cost in [0, 1, MAX_LIMIT, u64::MAX] {
                    let _ = check(&p, Some(GcraState { tat_us: tat }), now, cost);
                }
            }
        }
        let p = pol(MAX_LIMIT, 1); // T would be below 1 us: rounded up to 1 us
        let (o, _) = check(&p, None, u64::MAX, MAX_LIMIT);
        assert!(o.allowed);
        assert_eq!(o.remaining, 0);
        let (o, _) = check(&p, Some(GcraState { tat_us: u64::MAX }), u64::MAX, 1);
        assert!(!o.allowed);
        assert!(o.retry_after >= 1);
    }

    #[test]
    fn merge_is_a_join() {
        let a = GcraState { tat_us: 5 };
        let b = GcraState { tat_us: 9 };
        assert_eq!(merge(a, b), b);
        assert_eq!(merge(b, a), b);
        assert_eq!(merge(a, a), a);
    }

    #[test]
    fn add_sums_usage() {
        let p = pol(10, 10_000); // T = 1 s
        let (_, a) = check(&p, None, 5_000, 3);
        let (_, b) = check(&p, None, 5_000, 4);
        let sum = add(a, b, 5_000);
        assert_eq!(add(b, a, 5_000), sum);
        let (o, _) = check(&p, Some(sum), 5_000, 0);
        assert_eq!(o.remaining, 3);
        // Usage already refilled by `now` does not count.
        assert_eq!(
            add(a, GcraState::default(), 9_000),
            GcraState { tat_us: 9_000_000 }
        );
    }

    #[test]
    fn state_serde_shape() {
        let s = GcraState { tat_us: 42 };
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"tat":42}"#);
    }
}
