//! Window counters: the sliding-window counter and the fixed window.
//!
//! Time is cut into aligned windows `[k * window, (k + 1) * window)` (milliseconds since the
//! Unix epoch). The state is the index of the last window written, its count, and (for the
//! sliding window) the count of the window before it.
//!
//! **Fixed window:** a request of cost `c` passes iff `count + c <= limit`. Guarantee: at most
//! `limit` cost per aligned window; a sliding interval of one window can see up to
//! `2 * limit` (the end of one window and the start of the next).
//!
//! **Sliding-window counter:** at `e` milliseconds into window `k`, the previous window's count
//! is weighted by the share of it still inside the sliding window:
//! `prev * (window - e) / window + count`. A request of cost `c` passes iff
//! `prev * (window - e) + (count + c) * window <= limit * window` (exact integer arithmetic,
//! no rounding in the caller's favour). Guarantee: at most `limit` per aligned window, and
//! the weighted estimate never exceeds `limit`; the estimate assumes the previous window's
//! requests were spread evenly, so a sliding interval of one window can still see more than
//! `limit` (at most `2 * limit`) when they were not.
//!
//! Clock skew: a state whose window lies after `now` (time went backwards, or another
//! host's clock runs ahead) is evaluated as at the start of its own window, where the
//! previous window weighs the most; it never grants quota.

use serde::{Deserialize, Serialize};

use super::{clamp_now, drive, sat, Outcome, Policy};

/// The window state of one key (both window algorithms; the fixed window keeps `prev` at 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WindowState {
    /// Index of the window `count` belongs to: `floor(now_ms / window_ms)`.
    pub window: u64,
    /// Cost counted in window `window`.
    pub count: u64,
    /// Cost counted in window `window - 1` (sliding window only).
    pub prev: u64,
}

/// A state seen at one time: the effective window `k`, the elapsed milliseconds in it (0
/// when the state's window lies in the future), and the two counts.
struct View {
    k: u128,
    e: u128,
    curr: u128,
    prev: u128,
    now: u128,
    w: u128,
    l: u128,
}

impl View {
    fn new(policy: &Policy, s: WindowState, now_ms: u64) -> View {
        let now = u128::from(clamp_now(now_ms));
        let w = u128::from(policy.window_ms());
        let l = u128::from(policy.limit());
        let idx = now / w;
        let sw = u128::from(s.window);
        let (k, e, curr, prev) = if sw > idx {
            (sw, 0, s.count, s.prev)
        } else if sw == idx {
            (idx, now - idx * w, s.count, s.prev)
        } else if sw + 1 == idx {
            (idx, now - idx * w, 0, s.count)
        } else {
            (idx, now - idx * w, 0, 0)
        };
        View {
            k,
            e,
            curr: u128::from(curr),
            prev: u128::from(prev),
            now,
            w,
            l,
        }
    }

    /// Milliseconds from now until the start of window `k + n`, plus `plus`.
    fn until(&self, n: u128, plus: u128) -> u64 {
        sat(((self.k + n) * self.w + plus).saturating_sub(self.now))
    }

    fn state(&self, curr: u128, prev: u128) -> WindowState {
        WindowState {
            window: sat(self.k),
            count: sat(curr),
            prev: sat(prev),
        }
    }

    // -- sliding --

    /// `limit * window - prev * (window - e)`, or `None` when the previous window alone is
    /// over the limit.
    fn sliding_room(&self) -> Option<u128> {
        (self.l * self.w).checked_sub(self.prev * (self.w - self.e))
    }

    fn sliding_avail(&self) -> u64 {
        match self.sliding_room() {
            Some(room) => sat((room / self.w).saturating_sub(self.curr)),
            None => 0,
        }
    }

    fn sliding_reset(&self, curr: u128) -> u64 {
        if curr > 0 {
            self.until(2, 0)
        } else if self.prev > 0 {
            self.until(1, 0)
        } else {
            0
        }
    }

    /// The wait until cost `c` (`<= limit`, not available now) passes.
    fn sliding_wait(&self, c: u128) -> u64 {
        if self.curr + c <= self.l {
            // Later in this window, once the previous window's weight has dropped enough:
            // prev * (w - e') <= (l - curr - c) * w. (prev > 0: otherwise c would pass now.)
            if let Some(q) = ((self.l - self.curr - c) * self.w).checked_div(self.prev) {
                return self.until(0, self.w - q.min(self.w));
            }
        }
        // In the next window, where this window's count becomes the previous one:
        // curr * (w - e') <= (l - c) * w.
        match (self.l.saturating_sub(c) * self.w).checked_div(self.curr) {
            Some(q) => self.until(1, self.w - q.min(self.w)),
            // Unreachable for a consistent view (c <= limit would pass); fail closed.
            None => self.until(2, 0),
        }
    }

    // -- fixed --

    fn fixed_avail(&self) -> u64 {
        sat(self.l.saturating_sub(self.curr))
    }

    fn fixed_reset(&self, curr: u128) -> u64 {
        if curr > 0 {
            self.until(1, 0)
        } else {
            0
        }
    }
}

/// The sliding-window counter (see the module docs; [`super`] for cost 0 and cost above the
/// limit). A denied request returns the state unchanged (a fresh state when none was given).
pub fn check_sliding(
    policy: &Policy,
    state: Option<WindowState>,
    now_ms: u64,
    cost: u64,
) -> (Outcome<'_>, WindowState) {
    let old = state.unwrap_or_default();
    let v = View::new(policy, old, now_ms);
    drive(
        policy,
        old,
        cost,
        v.sliding_avail(),
        v.sliding_reset(v.curr),
        |c| v.sliding_wait(u128::from(c)),
        |c| {
            let curr = v.curr + u128::from(c);
            let after = View { curr, ..v };
            let remaining = after.sliding_avail();
            (v.state(curr, v.prev), remaining, v.sliding_reset(curr))
        },
    )
}

/// The fixed window (see the module docs; [`super`] for cost 0 and cost above the limit).
/// A denied request returns the state unchanged (a fresh state when none was given).
pub fn check_fixed(
    policy: &Policy,
    state: Option<WindowState>,
    now_ms: u64,
    cost: u64,
) -> (Outcome<'_>, WindowState) {
    let old = state.unwrap_or_default();
    let v = View::new(policy, old, now_ms);
    drive(
        policy,
        old,
        cost,
        v.fixed_avail(),
        v.fixed_reset(v.curr),
        |_| v.until(1, 0),
        |c| {
            let curr = v.curr + u128::from(c);
            let remaining = sat(v.l.saturating_sub(curr));
            (v.state(curr, 0), remaining, v.fixed_reset(curr))
        },
    )
}

/// Merges two window states of one key: both are moved to the later window (a count one
/// window back becomes `prev`, older counts drop out) and each count is the maximum of the
/// two. Commutative, associative, idempotent; at any time in or after the later window the
/// merged state has no more quota than either input, for both window algorithms.
pub fn merge(a: WindowState, b: WindowState) -> WindowState {
    let k = a.window.max(b.window);
    let (ca, pa) = moved_to(a, k);
    let (cb, pb) = moved_to(b, k);
    WindowState {
        window: k,
        count: ca.max(cb),
        prev: pa.max(pb),
    }
}

/// Moves a state to window `k` (`k >= s.window`): (count, prev).
fn moved_to(s: WindowState, k: u64) -> (u64, u64) {
    if s.window == k {
        (s.count, s.prev)
    } else if s.window.checked_add(1) == Some(k) {
        (0, s.count)
    } else {
        (0, 0)
    }
}

/// Adds two window states of one key (e.g. a store's global counts and a coalesced local
/// delta): both are moved to the later window and the counts are summed (saturating).
/// Commutative and associative, not idempotent (use [`merge`] for states that may be
/// applied twice); never has more quota than either input in or after the later window.
pub fn add(a: WindowState, b: WindowState) -> WindowState {
    let k = a.window.max(b.window);
    let (ca, pa) = moved_to(a, k);
    let (cb, pb) = moved_to(b, k);
    WindowState {
        window: k,
        count: ca.saturating_add(cb),
        prev: pa.saturating_add(pb),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Algorithm, MAX_LIMIT, MAX_NOW_MS, MAX_WINDOW_MS};
    use super::*;

    fn pol(alg: Algorithm, limit: u64, window_ms: u64) -> Policy {
        Policy::new("w", alg, limit, window_ms).unwrap()
    }

    #[test]
    fn fixed_window_counts_and_resets_at_the_boundary() {
        let p = pol(Algorithm::FixedWindow, 3, 10_000);
        let mut s = None;
        for i in 0..3 {
            let (o, n) = check_fixed(&p, s, 12_000, 1);
            assert!(o.allowed);
            assert_eq!(o.remaining, 2 - i);
            assert_eq!(o.reset, 8);
            s = Some(n);
        }
        let (o, n) = check_fixed(&p, s, 12_000, 1);
        assert!(!o.allowed);
        assert_eq!(Some(n), s);
        assert_eq!(o.retry_after_ms, 8_000);
        assert_eq!(o.retry_after, 8);
        assert!(!check_fixed(&p, s, 19_999, 1).0.allowed);
        let (o, _) = check_fixed(&p, s, 20_000, 1);
        assert!(o.allowed);
        assert_eq!(o.remaining, 2);
    }

    #[test]
    fn sliding_window_weights_the_previous_window() {
        let p = pol(Algorithm::SlidingWindow, 10, 10_000);
        // 10 in window 0.
        let (o, s) = check_sliding(&p, None, 5_000, 10);
        assert!(o.allowed);
        assert_eq!(o.remaining, 0);
        assert_eq!(o.reset, 15); // end of window 1
                                 // At 12 s (20% into window 1) the previous window weighs 80%: 8, room for 2.
        let (o, s2) = check_sliding(&p, Some(s), 12_000, 0);
        assert!(o.allowed);
        assert_eq!(o.remaining, 2);
        assert_eq!(s2, s);
        let (o, s3) = check_sliding(&p, Some(s), 12_000, 3);
        assert!(!o.allowed);
        assert_eq!(s3, s);
        // 3 fit when prev * (w - e) <= 7 * w: e >= 3 s.
        assert_eq!(o.retry_after_ms, 1_000);
        assert!(!check_sliding(&p, Some(s), 12_999, 3).0.allowed);
        let (o, s4) = check_sliding(&p, Some(s), 13_000, 3);
        assert!(o.allowed);
        assert_eq!(o.remaining, 0);
        assert_eq!(
            s4,
            WindowState {
                window: 1,
                count: 3,
                prev: 10
            }
        );
        // Denied in this window for the count alone: wait into the next one.
        let (o, _) = check_sliding(&p, Some(s4), 13_000, 8);
        assert!(!o.allowed);
        // Next window: prev = 3, need 3 * (w - e') <= 2 * w, e' >= 3334 ms.
        assert_eq!(o.retry_after_ms, 20_000 + 3_334 - 13_000);
        assert!(!check_sliding(&p, Some(s4), 23_333, 8).0.allowed);
        assert!(check_sliding(&p, Some(s4), 23_334, 8).0.allowed);
    }

    #[test]
    fn clock_skew_grants_nothing() {
        for alg in [Algorithm::FixedWindow, Algorithm::SlidingWindow] {
            let p = pol(alg, 2, 1_000);
            let f = if alg == Algorithm::FixedWindow {
                check_fixed
            } else {
                check_sliding
            };
            let (_, s) = f(&p, None, 50_500, 2);
            for back in [1, 600, 1_000, 50_000] {
                let (o, s2) = f(&p, Some(s), 50_500 - back, 1);
                assert!(!o.allowed, "{alg:?} back {back}");
                assert_eq!(s2, s);
            }
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        for alg in [Algorithm::FixedWindow, Algorithm::SlidingWindow] {
            for (l, w) in [
                (1, 1),
                (MAX_LIMIT, 1),
                (MAX_LIMIT, MAX_WINDOW_MS),
                (1, MAX_WINDOW_MS),
            ] {
                let p = pol(alg, l, w);
                for now in [0, 1, MAX_NOW_MS, u64::MAX] {
                    for st in [0, 1, u64::MAX - 1, u64::MAX] {
                        let s = WindowState {
                            window: st,
                            count: st,
                            prev: st,
                        };
                        for cost in [0, 1, l, u64::MAX] {
                            let _ = check_fixed(&p, Some(s), now, cost);
                            let (o, _) = check_sliding(&p, Some(s), now, cost);
                            assert!(o.allowed || o.retry_after >= 1);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn add_sums_counts_in_the_later_window() {
        let a = WindowState {
            window: 4,
            count: 7,
            prev: 1,
        };
        let b = WindowState {
            window: 5,
            count: 2,
            prev: 3,
        };
        assert_eq!(
            add(a, b),
            WindowState {
                window: 5,
                count: 2,
                prev: 10
            }
        );
        assert_eq!(add(b, a), add(a, b));
        let m = WindowState {
            window: 5,
            count: u64::MAX,
            prev: 0,
        };
        assert_eq!(add(m, b).count, u64::MAX);
    }

    #[test]
    fn merge_moves_to_the_later_window() {
        let a = WindowState {
            window: 4,
            count: 7,
            prev: 1,
        };
        let b = WindowState {
            window: 5,
            count: 2,
            prev: 3,
        };
        assert_eq!(
            merge(a, b),
            WindowState {
                window: 5,
                count: 2,
                prev: 7
            }
        );
        assert_eq!(merge(b, a), merge(a, b));
        assert_eq!(merge(a, a), a);
        let old = WindowState {
            window: 1,
            count: 99,
            prev: 99,
        };
        assert_eq!(
            merge(old, b),
            b,
            "counts older than the previous window drop out"
        );
        let max = WindowState {
            window: u64::MAX,
            count: 1,
            prev: 0,
        };
        assert_eq!(merge(max, a), max);
    }
}
