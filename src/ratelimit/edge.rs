//! The edge stores' logic, pure and `no_std`: the Workers KV sync and the Durable Object's
//! exact operation. Time is an input (Unix milliseconds); the host does the I/O.
//!
//! ## Durable Object (exact)
//!
//! A Durable Object is single-threaded per id: one object per rate-limit key runs
//! [`exact_check`] (the core [`check`](super::check)) on its stored state, one request at a
//! time, and writes the new state back when it changed. That is the single-store algorithm,
//! so it is exact: never more than the policy allows (0 overshoot, measured by
//! `examples/ratelimit_sim.rs`). Redis gets the same guarantee from one atomic script per
//! check. Cost: one storage write per allowed request (a denial changes nothing).
//!
//! ## Workers KV (approximate, measured bound)
//!
//! KV is eventually consistent (a write reaches other locations after up to 60 s), allows
//! one write per second per key, and is last-writer-wins per key. A shared counter updated
//! by read-modify-write therefore loses updates: two isolates read 10, add 5 and 7, and the
//! later write (17) erases the earlier (15). [`KvSync`] avoids that by never sharing a
//! written key:
//!
//! - each isolate counts exactly in memory (its own usage of the key, `local`);
//! - it publishes its *own cumulative* state under its own KV key, e.g.
//!   `<prefix>/<policy>/<key>/<isolate id>` (with an expiration of two windows), at most once
//!   per second ([`KvSync::due_sync`]): the write carries the coalesced delta since the last
//!   one, and because it is cumulative, not a delta, a repeated or reordered write is
//!   harmless (last-writer-wins on a key with one writer loses nothing);
//! - it reads the other isolates' entries with one `list({ prefix })` (the state fits in
//!   the key's metadata) and hands them to [`KvSync::apply_global`], which sums them
//!   ([`add`](super::add));
//! - a decision ([`KvSync::check`]) runs the algorithm on `local + others + unseen`: exact
//!   for this isolate's own traffic; the others' entries are stale by up to the sync
//!   interval plus the propagation delay, so each is extrapolated: its isolate is assumed to
//!   go on consuming at the rate its entry shows (its usage per window), for at most
//!   [`STALE_BOUND_MS`]. Entries older than two windows have expired and count nothing.
//!
//! The shared accounting is the sliding-window counter with the policy's limit and window,
//! whatever the policy's algorithm: per-isolate GCRA buckets cannot be summed (each refills
//! at the full rate, so N of them refill N times too fast), and fixed windows restart
//! together (every isolate sees a fresh window at once while the others' new counts are
//! still in flight). On KV, a `gcra` or `fixed-window` policy is therefore enforced as a
//! sliding window (never looser than the limit per aligned window).
//!
//! Writes: at most one per second per KV key (each KV key has one writer), i.e. at most one
//! write per second per isolate per rate-limit key; one `list` per second per isolate per
//! key. The bound is approximate: requests admitted by other isolates that this one has not
//! seen yet can pass above the limit, and the extrapolation can deny some below it. The
//! simulation (`cargo run --release --example ratelimit_sim`, docs/ratelimits.md) measures
//! both against an exact reference: at 10 isolates 7.7 % of the admitted requests were over
//! the limit (0.92x of the exact admissions), at 50 about 10 %.

use super::{add, check, Algorithm, Outcome, Policy, State};

/// The core check run serialized: the Durable Object's (and Redis script's) operation. The
/// caller holds the key exclusively (one Durable Object per key, one script per call), runs
/// this on the stored state and writes the returned state back when it differs from the
/// stored one. Exact: the single-store algorithm.
pub fn exact_check<'p>(
    policy: &'p Policy,
    state: Option<State>,
    now_ms: u64,
    cost: u64,
) -> (Outcome<'p>, State) {
    check(policy, state, now_ms, cost)
}

/// The minimum time between two writes of one isolate's entry for one key (KV allows one
/// write per second per key).
pub const SYNC_INTERVAL_MS: u64 = 1_000;

/// The longest time a KV write takes to be visible everywhere (Cloudflare documents up to
/// 60 s): an entry older than this with no newer one visible is its isolate's latest.
pub const MAX_PROPAGATION_MS: u64 = 60_000;

/// The longest extrapolation: the sync interval plus the propagation delay (consumption
/// older than that is visible in a newer entry).
pub const STALE_BOUND_MS: u64 = SYNC_INTERVAL_MS + MAX_PROPAGATION_MS;

/// What the host writes under this isolate's own KV key for the rate-limit key: this
/// isolate's cumulative state (replaces the previous entry; idempotent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncWrite {
    /// This isolate's own usage of the key (everything it admitted).
    pub state: State,
    /// The time of the write, Unix milliseconds.
    pub written_ms: u64,
}

/// One other isolate's entry for the key, as read from KV (the state and the time it was
/// written, both kept in the entry's metadata).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerEntry {
    /// That isolate's own cumulative state.
    pub state: State,
    /// When it was written, Unix milliseconds.
    pub written_ms: u64,
}

/// One isolate's view of one rate-limit key in a KV-backed store (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvSync {
    /// This isolate's own usage (exact).
    local: Option<State>,
    /// Whether `local` changed since the last write.
    dirty: bool,
    /// The sum of the other isolates' last read entries.
    others: Option<State>,
    /// The others' extrapolated consumption between their writes and the last read (cost).
    others_unseen: u64,
    /// The summed usage per window (`u_i`) of the unexpired entries at the last read: they
    /// go on being extrapolated (for at most [`STALE_BOUND_MS`] after the read).
    others_rate: u64,
    /// The time of the last write (`None`: never written).
    last_sync_ms: Option<u64>,
    /// The time of the last read (`None`: never read).
    last_read_ms: Option<u64>,
}

/// The policy the shared KV accounting runs: the sliding-window counter with the policy's
/// limit and window, whatever the policy's algorithm. One token bucket per isolate cannot be
/// summed (each refills at the full rate, so N of them refill N times too fast), and fixed
/// windows restart together: every isolate sees a fresh window at once while the others'
/// new counts are still in flight. The sliding counter carries the previous window's weight
/// across the boundary. `None`: the policy already is one.
fn kv_policy(policy: &Policy) -> Option<Policy> {
    if policy.algorithm() == Algorithm::SlidingWindow {
        return None;
    }
    Policy::new(
        policy.name(),
        Algorithm::SlidingWindow,
        policy.limit(),
        policy.window_ms(),
    )
    .ok()
}

impl KvSync {
    /// A key this isolate has not seen: no usage, nothing read yet.
    pub const fn new() -> KvSync {
        KvSync {
            local: None,
            dirty: false,
            others: None,
            others_unseen: 0,
            others_rate: 0,
            last_sync_ms: None,
            last_read_ms: None,
        }
    }

    /// Decides a request of `cost` at `now_ms` on this isolate's usage plus the estimated
    /// usage of the others: their last read entries, plus what they are assumed to have
    /// consumed since they wrote them (each at the rate its entry shows: its usage per
    /// window). When allowed, the cost is counted locally (and written by the next
    /// [`due_sync`](Self::due_sync)).
    ///
    /// A `gcra` policy is enforced as the sliding-window counter with the same limit and
    /// window on KV (see the module docs); the outcome names the policy as given.
    pub fn check<'p>(&mut self, policy: &'p Policy, now_ms: u64, cost: u64) -> Outcome<'p> {
        let shadow = kv_policy(policy);
        let eff = shadow.as_ref().unwrap_or(policy);
        let mut combined = match (self.local, self.others) {
            (Some(l), Some(o)) => Some(add(l, o, now_ms)),
            (l, o) => l.or(o),
        };
        let unseen = self.unseen(eff, now_ms);
        if unseen > 0 {
            let (_, u) = check(eff, None, now_ms, unseen);
            combined = Some(match combined {
                Some(c) => add(c, u, now_ms),
                None => u,
            });
        }
        let (o, _) = check(eff, combined, now_ms, cost);
        if o.allowed && cost > 0 {
            // The cost alone, as a fresh state (cost <= limit: it was allowed), added to the
            // local usage: the local count stays exact whatever the others did.
            let (_, mine) = check(eff, None, now_ms, cost);
            self.local = Some(match self.local {
                Some(l) => add(l, mine, now_ms),
                None => mine,
            });
            self.dirty = true;
        }
        Outcome {
            policy: policy.name(),
            allowed: o.allowed,
            cost_exceeds_limit: o.cost_exceeds_limit,
            limit: o.limit,
            window: o.window,
            remaining: o.remaining,
            reset: o.reset,
            reset_ms: o.reset_ms,
            retry_after: o.retry_after,
            retry_after_ms: o.retry_after_ms,
        }
    }

    /// The others' extrapolated consumption since their entries were written, capped at the
    /// limit.
    fn unseen(&self, policy: &Policy, now_ms: u64) -> u64 {
        let since = match self.last_read_ms {
            Some(t) => now_ms.saturating_sub(t).min(STALE_BOUND_MS),
            None => 0,
        };
        let grown =
            u128::from(self.others_rate) * u128::from(since) / u128::from(policy.window_ms());
        let grown = u64::try_from(grown).unwrap_or(u64::MAX);
        self.others_unseen.saturating_add(grown).min(policy.limit())
    }

    /// The write due now, if any: this isolate's cumulative state when it changed since the
    /// last write and the last write is at least [`SYNC_INTERVAL_MS`] old. Returning a write
    /// marks it done (the host writes it; a lost write is repaired by the next one, which is
    /// cumulative).
    pub fn due_sync(&mut self, now_ms: u64) -> Option<SyncWrite> {
        if !self.dirty {
            return None;
        }
        if let Some(last) = self.last_sync_ms {
            if now_ms < last.saturating_add(SYNC_INTERVAL_MS) && now_ms >= last {
                return None;
            }
        }
        let state = self.local?;
        self.dirty = false;
        self.last_sync_ms = Some(now_ms);
        Some(SyncWrite {
            state,
            written_ms: now_ms,
        })
    }

    /// The earliest time a pending write may go out (`None`: nothing pending). A host
    /// without a following request schedules the flush for then (e.g. `waitUntil`).
    pub fn next_sync_ms(&self) -> Option<u64> {
        if !self.dirty {
            return None;
        }
        Some(
            self.last_sync_ms
                .map_or(0, |t| t.saturating_add(SYNC_INTERVAL_MS)),
        )
    }

    /// Whether a read is due: never read, or the last read is at least
    /// [`SYNC_INTERVAL_MS`] old.
    pub fn read_due(&self, now_ms: u64) -> bool {
        match self.last_read_ms {
            None => true,
            Some(t) => now_ms >= t.saturating_add(SYNC_INTERVAL_MS) || now_ms < t,
        }
    }

    /// Applies a KV read at `now_ms`: the entries of the *other* isolates for this key (the
    /// host leaves out its own). Replaces the previous view of the others: their states are
    /// summed ([`add`]), and each entry's usage at its write time `u_i` (in cost per window)
    /// is taken as the rate at which that isolate goes on consuming until its next entry is
    /// seen (so a stale entry is extrapolated, not taken as the present).
    pub fn apply_global<I: IntoIterator<Item = PeerEntry>>(
        &mut self,
        policy: &Policy,
        others: I,
        now_ms: u64,
    ) {
        let shadow = kv_policy(policy);
        let eff = shadow.as_ref().unwrap_or(policy);
        let mut sum: Option<State> = None;
        let mut rate: u64 = 0;
        let mut unseen: u128 = 0;
        let w = u128::from(eff.window_ms());
        for e in others {
            // Clock skew: an entry "from the future" counts as written now.
            let at = e.written_ms.min(now_ms);
            let age = now_ms - at;
            // An entry older than two windows has expired (the host writes with that
            // expiration): it counts nothing.
            if u128::from(age) >= 2 * w {
                continue;
            }
            sum = Some(match sum {
                Some(a) => add(a, e.state, now_ms),
                None => e.state,
            });
            let (o, _) = check(eff, Some(e.state), at, 0);
            let used = eff.limit().saturating_sub(o.remaining);
            // That isolate is assumed to go on consuming at that rate until a newer entry
            // of it is seen, for at most the sync interval plus the propagation delay (a
            // newer write is visible by then; a later one may not be, so the rate stays).
            unseen += u128::from(used) * u128::from(age.min(STALE_BOUND_MS)) / w;
            rate = rate.saturating_add(used);
        }
        self.others = sum;
        self.others_unseen = u64::try_from(unseen).unwrap_or(u64::MAX);
        self.others_rate = rate;
        self.last_read_ms = Some(now_ms);
    }

    /// This isolate's own usage (exact).
    pub const fn local(&self) -> Option<State> {
        self.local
    }

    /// The sum of the other isolates' entries, as last read.
    pub const fn others(&self) -> Option<State> {
        self.others
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    // The start of a 60 s window.
    const T0: u64 = 1_700_000_040_000;

    fn pol(alg: Algorithm, limit: u64) -> Policy {
        Policy::new("kv", alg, limit, 60_000).unwrap()
    }

    #[test]
    fn exact_check_is_the_serialized_core_check() {
        for alg in [
            Algorithm::Gcra,
            Algorithm::SlidingWindow,
            Algorithm::FixedWindow,
        ] {
            let p = pol(alg, 5);
            let mut s = None;
            let mut allowed = 0;
            for i in 0..20 {
                let (o, n) = exact_check(&p, s, T0 + i, 1);
                assert_eq!((o, n), check(&p, s, T0 + i, 1));
                allowed += u64::from(o.allowed);
                s = Some(n);
            }
            assert_eq!(allowed, 5, "{alg:?}");
        }
    }

    #[test]
    fn one_isolate_counts_exactly() {
        for alg in [Algorithm::SlidingWindow, Algorithm::FixedWindow] {
            let p = pol(alg, 7);
            let mut k = KvSync::new();
            k.apply_global(&p, [], T0);
            let allowed = (0..20).filter(|i| k.check(&p, T0 + i, 1).allowed).count();
            assert_eq!(allowed, 7, "{alg:?}");
            let o = k.check(&p, T0 + 30, 1);
            assert!(!o.allowed && o.retry_after >= 1);
            assert_eq!(o.policy, "kv");
        }
    }

    #[test]
    fn writes_are_coalesced_to_one_per_second_and_cumulative() {
        let p = pol(Algorithm::SlidingWindow, 100);
        let mut k = KvSync::new();
        assert_eq!(k.due_sync(T0), None, "nothing to write");
        assert!(k.check(&p, T0, 1).allowed);
        let w1 = k.due_sync(T0).unwrap();
        assert_eq!(w1.written_ms, T0);
        assert_eq!(k.due_sync(T0), None);
        for i in 1..=5 {
            assert!(k.check(&p, T0 + i * 100, 1).allowed);
            assert_eq!(k.due_sync(T0 + i * 100), None, "within the second");
        }
        assert_eq!(k.next_sync_ms(), Some(T0 + SYNC_INTERVAL_MS));
        let w2 = k.due_sync(T0 + 1_000).unwrap();
        // Cumulative: the second write carries all 6, not the delta of 5.
        let (o, _) = check(&p, Some(w2.state), T0 + 1_000, 0);
        assert_eq!(o.remaining, 94);
        assert_eq!(k.next_sync_ms(), None);
        assert_eq!(k.due_sync(T0 + 5_000), None, "nothing new: no write");
    }

    /// Read-modify-write of one shared KV counter loses updates; per-isolate cumulative
    /// entries summed on read do not.
    #[test]
    fn per_isolate_entries_lose_no_update() {
        let p = pol(Algorithm::FixedWindow, 1_000);
        // Shared counter: A and B both read 0, add their deltas, the later write wins.
        let shared_read = 0u64;
        let (a_delta, b_delta) = (5u64, 7u64);
        let shared_after = [shared_read + a_delta, shared_read + b_delta];
        assert_eq!(shared_after[1], 7, "last writer wins: A's 5 are lost");
        // Per-isolate entries.
        let mut a = KvSync::new();
        let mut b = KvSync::new();
        for i in 0..a_delta {
            assert!(a.check(&p, T0 + i, 1).allowed);
        }
        for i in 0..b_delta {
            assert!(b.check(&p, T0 + i, 1).allowed);
        }
        let wa = a.due_sync(T0 + 10).unwrap();
        let wb = b.due_sync(T0 + 10).unwrap();
        // C reads both entries (long after they were written: nothing to extrapolate).
        let now = T0 + 10 + MAX_PROPAGATION_MS;
        let mut c = KvSync::new();
        let hour = Policy::new("kv", Algorithm::FixedWindow, 1_000, 3_600_000).unwrap();
        let (_, sa) = check(&hour, None, T0, a_delta);
        let (_, sb) = check(&hour, None, T0, b_delta);
        c.apply_global(
            &hour,
            [
                PeerEntry {
                    state: sa,
                    written_ms: wa.written_ms,
                },
                PeerEntry {
                    state: sb,
                    written_ms: wb.written_ms,
                },
            ],
            now,
        );
        let o = c.check(&hour, now, 0);
        assert_eq!(o.remaining, 1_000 - 12, "both deltas count");
        assert_eq!(
            c.others(),
            Some(add(sa, sb, now)),
            "the others' entries are summed"
        );
    }

    #[test]
    fn the_others_usage_counts_against_the_limit() {
        let p = pol(Algorithm::SlidingWindow, 10);
        let (_, other) = check(&p, None, T0, 8);
        let mut k = KvSync::new();
        // Read long after the write: the entry is taken as it is.
        let now = T0 + MAX_PROPAGATION_MS - 1;
        let entry = PeerEntry {
            state: other,
            written_ms: now,
        };
        k.apply_global(&p, [entry], now);
        assert!(k.check(&p, now, 1).allowed);
        assert!(k.check(&p, now, 1).allowed);
        let o = k.check(&p, now, 1);
        assert!(!o.allowed, "8 elsewhere + 2 here = the limit");
        // The local count is this isolate's only.
        let (o, _) = check(&p, k.local(), now, 0);
        assert_eq!(o.remaining, 8);
    }

    #[test]
    fn stale_entries_are_extrapolated_up_to_the_propagation_bound() {
        let p = pol(Algorithm::SlidingWindow, 100);
        let (_, other) = check(&p, None, T0, 40);
        let entry = |written_ms| PeerEntry {
            state: other,
            written_ms,
        };
        // Written 30 s before the read: 40 per window * 30/60 = 20 unseen.
        let mut k = KvSync::new();
        k.apply_global(&p, [entry(T0)], T0 + 30_000);
        assert_eq!(k.check(&p, T0 + 30_000, 0).remaining, 100 - 40 - 20);
        // 20 s later, still growing: + 20 * 40/60 = 13.
        assert_eq!(k.check(&p, T0 + 50_000, 0).remaining, 100 - 40 - 33);
        // Read when the entry is older than the bound (61 s): 40 * 61/60 = 40 unseen, in
        // the next window (where the entry's 40 weigh half: 20).
        let late = T0 + 90_000;
        k.apply_global(&p, [entry(T0)], late);
        assert_eq!(k.check(&p, late, 0).remaining, 100 - 20 - 40);
        // Growth after the read stops after STALE_BOUND_MS (+40), long after the entry's
        // own window weighs nothing.
        let o = k.check(&p, late + 10 * STALE_BOUND_MS, 0);
        assert_eq!(o.remaining, 100 - 40 - 40, "capped growth");
        // An expired entry (two windows old) counts nothing.
        k.apply_global(&p, [entry(T0)], T0 + 120_000);
        assert_eq!(k.check(&p, T0 + 120_000, 0).remaining, 100);
    }

    #[test]
    fn gcra_and_fixed_window_are_shared_as_a_sliding_window_on_kv() {
        let f = pol(Algorithm::FixedWindow, 10);
        let g = pol(Algorithm::Gcra, 10);
        let s = pol(Algorithm::SlidingWindow, 10);
        let mut kf = KvSync::new();
        let mut kg = KvSync::new();
        let mut ks = KvSync::new();
        for i in 0..60 {
            let t = T0 + i * 3_000;
            let a = kg.check(&g, t, 1);
            let b = ks.check(&s, t, 1);
            let c = kf.check(&f, t, 1);
            assert_eq!(a, b, "t+{}", i * 3_000);
            assert_eq!(c, b, "t+{}", i * 3_000);
            assert_eq!(a.policy, "kv");
        }
        // Nine GCRA buckets of one isolate each would refill nine times too fast; the shared
        // window counts do not: nine isolates at the limit leave nothing for a tenth.
        let per: Vec<PeerEntry> = (0..9)
            .map(|_| PeerEntry {
                state: check(&s, None, T0, 1).1,
                written_ms: T0,
            })
            .collect();
        let mut k = KvSync::new();
        k.apply_global(&g, per, T0);
        assert_eq!(k.check(&g, T0, 0).remaining, 1);
        assert!(k.check(&g, T0, 1).allowed);
        assert!(!k.check(&g, T0, 1).allowed);
    }

    #[test]
    fn skew_and_extremes_do_not_panic_or_grant() {
        let p = pol(Algorithm::SlidingWindow, 3);
        let (_, full) = check(&p, None, T0, 3);
        let mut k = KvSync::new();
        // An entry "from the future" counts as written now.
        k.apply_global(
            &p,
            vec![PeerEntry {
                state: full,
                written_ms: u64::MAX,
            }],
            T0,
        );
        assert!(!k.check(&p, T0, 1).allowed);
        assert!(k.read_due(T0 - 1), "time went backwards: read again");
        assert!(!k.read_due(T0 + 999));
        assert!(k.read_due(T0 + 1_000));
        let mut k = KvSync::new();
        k.apply_global(&p, [], u64::MAX);
        let _ = k.check(&p, u64::MAX, u64::MAX);
        let _ = k.check(&p, 0, 1);
        assert!(k.due_sync(u64::MAX).is_some());
    }
}
