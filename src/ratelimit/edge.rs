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
//! - a decision ([`KvSync::check`]) runs the core algorithm on `local + others`: exact for
//!   this isolate's own traffic, stale by up to the propagation delay for the others'.
//!
//! Writes: at most one per second per KV key (each KV key has one writer), i.e. at most one
//! write per second per isolate per rate-limit key. The bound is approximate: requests
//! admitted by other isolates that this one has not seen yet can pass above the limit. The
//! simulation (`cargo run --release --example ratelimit_sim`, docs/ratelimits.md) measures
//! the overshoot against an exact reference.

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

/// How much of a stale entry's rate is extrapolated, in percent. 100 assumes every isolate
/// kept consuming at its published rate for the whole propagation delay (no overshoot, but
/// it under-admits: an idle isolate's old entry looks stale too); 75 is the value the
/// simulation measured as the balance (docs/ratelimits.md).
pub const EXTRAPOLATION_PCT: u128 = 75;

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
    /// The summed usage per window (`u_i`) of the entries still within
    /// [`MAX_PROPAGATION_MS`] of their write at the last read: they go on being extrapolated.
    others_rate: u64,
    /// The time of the last write (`None`: never written).
    last_sync_ms: Option<u64>,
    /// The time of the last read (`None`: never read).
    last_read_ms: Option<u64>,
}

/// The policy the shared KV accounting runs: the policy itself for the window algorithms,
/// the sliding-window counter with the same limit and window for GCRA (one token bucket per
/// isolate cannot be summed: each refills at the full rate, so N of them refill N times too
/// fast).
fn kv_policy(policy: &Policy) -> Option<Policy> {
    if policy.algorithm() == Algorithm::Gcra {
        Policy::new(
            policy.name(),
            Algorithm::SlidingWindow,
            policy.limit(),
            policy.window_ms(),
        )
        .ok()
    } else {
        None
    }
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
            Some(t) => now_ms.saturating_sub(t).min(MAX_PROPAGATION_MS),
            None => 0,
        };
        let grown = u128::from(self.others_rate) * u128::from(since) * EXTRAPOLATION_PCT / 100
            / u128::from(policy.window_ms());
        let grown = u64::try_from(grown).unwrap_or(u64::MAX);
        self.others_unseen
            .saturating_add(grown)
            .min(policy.limit())
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
            sum = Some(match sum {
                Some(a) => add(a, e.state, now_ms),
                None => e.state,
            });
            // Clock skew: an entry "from the future" counts as written now.
            let at = e.written_ms.min(now_ms);
            let (o, _) = check(eff, Some(e.state), at, 0);
            let used = eff.limit().saturating_sub(o.remaining);
            // A newer write of that isolate would be visible after MAX_PROPAGATION_MS: past
            // that, the entry is the whole truth and is no longer extrapolated.
            let age = now_ms - at;
            unseen += u128::from(used) * u128::from(age.min(MAX_PROPAGATION_MS)) * EXTRAPOLATION_PCT
                / 100
                / w;
            if age < MAX_PROPAGATION_MS {
                rate = rate.saturating_add(used);
            }
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
