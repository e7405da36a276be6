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

use super::{add, check, Outcome, Policy, State};

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

/// What the host writes under this isolate's own KV key for the rate-limit key: this
/// isolate's cumulative state (replaces the previous entry; idempotent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncWrite {
    /// This isolate's own usage of the key (everything it admitted).
    pub state: State,
    /// The time of the write, Unix milliseconds.
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
    /// The time of the last write (`None`: never written).
    last_sync_ms: Option<u64>,
    /// The time of the last read (`None`: never read).
    last_read_ms: Option<u64>,
}

impl KvSync {
    /// A key this isolate has not seen: no usage, nothing read yet.
    pub const fn new() -> KvSync {
        KvSync {
            local: None,
            dirty: false,
            others: None,
            last_sync_ms: None,
            last_read_ms: None,
        }
    }

    /// Decides a request of `cost` at `now_ms` on this isolate's usage plus the last known
    /// usage of the others. When allowed, the cost is counted locally (and will be written
    /// by the next [`due_sync`](Self::due_sync)).
    pub fn check<'p>(&mut self, policy: &'p Policy, now_ms: u64, cost: u64) -> Outcome<'p> {
        let combined = match (self.local, self.others) {
            (Some(l), Some(o)) => Some(add(l, o, now_ms)),
            (l, o) => l.or(o),
        };
        let (outcome, _) = check(policy, combined, now_ms, cost);
        if outcome.allowed && cost > 0 {
            // The cost alone, as a fresh state (cost <= limit: it was allowed), added to the
            // local usage: the local count stays exact whatever the others did.
            let (_, mine) = check(policy, None, now_ms, cost);
            self.local = Some(match self.local {
                Some(l) => add(l, mine, now_ms),
                None => mine,
            });
            self.dirty = true;
        }
        outcome
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

    /// Applies a KV read: the entries of the *other* isolates for this key (the host leaves
    /// out its own entry), as read at `now_ms`. Replaces the previous view of the others.
    pub fn apply_global<I: IntoIterator<Item = State>>(&mut self, others: I, now_ms: u64) {
        let mut sum: Option<State> = None;
        for s in others {
            sum = Some(match sum {
                Some(a) => add(a, s, now_ms),
                None => s,
            });
        }
        self.others = sum;
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
