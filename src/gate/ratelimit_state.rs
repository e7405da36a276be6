//! Rate-limit state the gate keeps between requests (in [`crate::gate::Ctx`]), and the
//! store formats: bounded LRU maps with expiry for the `memory` store, the in-process
//! fallback limiter (`onStoreError: "local"`) and the block cache of keys known to be over
//! their limit; the store key (`rl:<policy>:<sha256 hex of the key value>`) and the strict
//! state encoding a shared store keeps.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use sha2::{Digest, Sha256};

use crate::gate::wire::{read, RawRateLimitState};
use crate::ratelimit::edge::KvSync;
use crate::ratelimit::{GcraState, State, WindowState};

/// Most keys kept per policy in each in-process map (memory store, local fallback, block
/// cache). A flood of distinct keys evicts the least recently used ones; it cannot grow
/// the maps.
pub const MAX_KEYS_PER_POLICY: usize = 10_000;

/// Longest stored state the gate accepts, bytes.
pub const MAX_STATE_BYTES: usize = 256;

/// A bounded map with expiry and least-recently-used eviction (all operations
/// `O(log n)`).
#[derive(Clone, Debug)]
pub(crate) struct Lru<V> {
    cap: usize,
    tick: u64,
    entries: BTreeMap<String, (V, u64, u64)>,
    order: BTreeMap<u64, String>,
}

impl<V: Clone> Lru<V> {
    pub(crate) fn new(cap: usize) -> Lru<V> {
        Lru {
            cap: cap.max(1),
            tick: 0,
            entries: BTreeMap::new(),
            order: BTreeMap::new(),
        }
    }

    /// The value of `key` if it has not expired at `now_ms` (an expired entry is removed).
    pub(crate) fn get(&mut self, key: &str, now_ms: u64) -> Option<V> {
        let (value, expires, tick) = self.entries.get(key)?.clone();
        if expires <= now_ms {
            self.entries.remove(key);
            self.order.remove(&tick);
            return None;
        }
        self.tick = self.tick.wrapping_add(1);
        self.order.remove(&tick);
        self.order.insert(self.tick, key.into());
        if let Some(e) = self.entries.get_mut(key) {
            e.2 = self.tick;
        }
        Some(value)
    }

    /// Sets `key` until `expires_ms`, evicting the least recently used key when full.
    pub(crate) fn put(&mut self, key: &str, value: V, expires_ms: u64) {
        if let Some((_, _, tick)) = self.entries.remove(key) {
            self.order.remove(&tick);
        }
        while self.entries.len() >= self.cap {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        self.tick = self.tick.wrapping_add(1);
        self.order.insert(self.tick, key.into());
        self.entries
            .insert(key.into(), (value, expires_ms, self.tick));
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The value of `key` to change in place (its expiry and recency unchanged).
    pub(crate) fn peek_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries.get_mut(key).map(|e| &mut e.0)
    }
}

/// Which in-process map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Map {
    /// The `memory` store.
    Memory,
    /// The fallback limiter of a shared store (`onStoreError: "local"`).
    Local,
    /// The block cache: the last known state of a key over its limit, until it may pass.
    Blocked,
}

/// One write for the `kv` store (the Worker, with [`crate::gate::Ctx::set_kv_sync`]):
/// this isolate's own cumulative usage of a key ([`KvSync`]). The host writes it under
/// `<key>:<isolate id>` with the state and the time in the entry's metadata, expiring after
/// `ttl_ms`; the entry has one writer, so a lost or repeated write loses nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvWrite {
    /// The policy's name.
    pub policy: String,
    /// The store key (`rl:<policy>:<sha256 hex>`), without the isolate id.
    pub key: String,
    /// The state, as [`encode_state`] writes it.
    pub state: String,
    /// When the state was taken, Unix milliseconds.
    pub written_ms: u64,
    /// The entry's time to live (two windows).
    pub ttl_ms: u64,
}

/// The gate's in-process rate-limit state, per map and policy.
#[derive(Clone, Debug, Default)]
pub struct RateLimitCtx {
    maps: BTreeMap<(Map, String), Lru<State>>,
    /// Whether `kv` policies are evaluated by [`KvSync`] in this process (the Worker).
    pub(crate) kv_sync: bool,
    /// Per policy, the [`KvSync`] of each key this isolate used.
    kv: BTreeMap<String, Lru<KvSync>>,
    /// Keys with a write pending: (policy, key) -> the policy's window (ms).
    kv_pending: BTreeMap<(String, String), u64>,
}

impl RateLimitCtx {
    /// The isolate's view of a `kv` key, if it has one.
    pub(crate) fn kv_get(&mut self, policy: &str, key: &str, now_ms: u64) -> Option<KvSync> {
        self.kv.get_mut(policy)?.get(key, now_ms)
    }

    /// Keeps the view of a `kv` key for two windows and notes a pending write.
    pub(crate) fn kv_put(
        &mut self,
        policy: &str,
        key: &str,
        sync: KvSync,
        window_ms: u64,
        now_ms: u64,
    ) {
        let pending = sync.next_sync_ms().is_some();
        self.kv
            .entry(policy.into())
            .or_insert_with(|| Lru::new(MAX_KEYS_PER_POLICY))
            .put(
                key,
                sync,
                now_ms.saturating_add(window_ms.saturating_mul(2)),
            );
        if pending {
            self.kv_pending
                .insert((policy.into(), key.into()), window_ms);
        }
    }

    /// The `kv` writes due at `now_ms` (at most one per key per second: [`KvSync::due_sync`]);
    /// each returned write is marked done.
    pub fn take_kv_writes(&mut self, now_ms: u64) -> alloc::vec::Vec<KvWrite> {
        let mut out = alloc::vec::Vec::new();
        let mut done = alloc::vec::Vec::new();
        for ((policy, key), window_ms) in &self.kv_pending {
            let Some(sync) = self.kv.get_mut(policy).and_then(|m| m.peek_mut(key)) else {
                done.push((policy.clone(), key.clone()));
                continue;
            };
            if let Some(w) = sync.due_sync(now_ms) {
                out.push(KvWrite {
                    policy: policy.clone(),
                    key: key.clone(),
                    state: encode_state(&w.state),
                    written_ms: w.written_ms,
                    ttl_ms: window_ms.saturating_mul(2),
                });
            }
            if sync.next_sync_ms().is_none() {
                done.push((policy.clone(), key.clone()));
            }
        }
        for k in done {
            self.kv_pending.remove(&k);
        }
        out
    }

    /// The earliest time a pending `kv` write may go out (`None`: nothing pending): a host
    /// without a following request flushes then.
    pub fn next_kv_write_ms(&self) -> Option<u64> {
        self.kv_pending
            .keys()
            .filter_map(|(p, k)| {
                self.kv
                    .get(p)
                    .and_then(|m| m.entries.get(k.as_str()))
                    .and_then(|e| e.0.next_sync_ms())
            })
            .min()
    }

    pub(crate) fn get(&mut self, map: Map, policy: &str, key: &str, now_ms: u64) -> Option<State> {
        self.maps.get_mut(&(map, policy.into()))?.get(key, now_ms)
    }

    pub(crate) fn put(&mut self, map: Map, policy: &str, key: &str, s: State, expires_ms: u64) {
        self.maps
            .entry((map, policy.into()))
            .or_insert_with(|| Lru::new(MAX_KEYS_PER_POLICY))
            .put(key, s, expires_ms)
    }

    /// Keys held for `policy` in the memory store (for tests and metrics).
    pub fn memory_keys(&self, policy: &str) -> usize {
        self.maps
            .get(&(Map::Memory, policy.into()))
            .map_or(0, Lru::len)
    }
}

/// The store key of a key value: `rl:<policy>:<sha256 hex>`. The value is hashed, so a
/// caller-chosen value (a header, a claim) cannot inject separators or grow the key.
pub fn store_key(policy: &str, value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let mut out = format!("rl:{policy}:");
    for b in digest {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The stored form of a state: `{"gcra":{"tat":N}}` or
/// `{"window":{"window":N,"count":N,"prev":N}}`.
pub fn encode_state(s: &State) -> String {
    match s {
        State::Gcra(g) => format!("{{\"gcra\":{{\"tat\":{}}}}}", g.tat_us),
        State::Window(w) => format!(
            "{{\"window\":{{\"window\":{},\"count\":{},\"prev\":{}}}}}",
            w.window, w.count, w.prev
        ),
    }
}

/// Parses a stored state strictly: exactly the form [`encode_state`] writes (one kind,
/// exactly its fields, unsigned integers), at most [`MAX_STATE_BYTES`]. Anything else is
/// `None`: a store error for the gate, never a fresh key.
pub fn decode_state(raw: &str) -> Option<State> {
    if raw.len() > MAX_STATE_BYTES {
        return None;
    }
    // The strict parser first (a member name twice is refused), then the wire type.
    let v = crate::codec::parse_value(raw.as_bytes(), 2).ok()?;
    match read::<RawRateLimitState>("", &v).ok()? {
        RawRateLimitState {
            gcra: Some(g),
            window: None,
        } => Some(State::Gcra(GcraState { tat_us: g.tat.0 })),
        RawRateLimitState {
            gcra: None,
            window: Some(w),
        } => Some(State::Window(WindowState {
            window: w.window.0,
            count: w.count.0,
            prev: w.prev.0,
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_is_bounded_and_expires() {
        let mut l: Lru<u8> = Lru::new(3);
        l.put("a", 1, 100);
        l.put("b", 2, 100);
        l.put("c", 3, 100);
        assert_eq!(l.get("a", 0), Some(1)); // a is now the most recent
        l.put("d", 4, 100); // evicts b
        assert_eq!(l.get("b", 0), None);
        assert_eq!(l.len(), 3);
        assert_eq!(l.get("a", 100), None); // expired
        for i in 0..1000 {
            l.put(&format!("k{i}"), 0, 100);
        }
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn states_round_trip_strictly() {
        let g = State::Gcra(GcraState { tat_us: 42 });
        let w = State::Window(WindowState {
            window: 7,
            count: 3,
            prev: 1,
        });
        assert_eq!(decode_state(&encode_state(&g)), Some(g));
        assert_eq!(decode_state(&encode_state(&w)), Some(w));
        for bad in [
            "",
            "null",
            "{}",
            "{\"gcra\":{\"tat\":-1}}",
            "{\"gcra\":{\"tat\":1.5}}",
            "{\"gcra\":{\"tat\":\"1\"}}",
            "{\"gcra\":{\"tat\":1,\"x\":2}}",
            "{\"gcra\":{\"tat\":1},\"window\":{}}",
            "{\"window\":{\"window\":1,\"count\":2}}",
            "[1]",
            // a member name twice (serde_json alone keeps the last one)
            "{\"gcra\":{\"tat\":1,\"tat\":2}}",
            "{\"gcra\":{\"tat\":1},\"gcra\":{\"tat\":2}}",
            "{\"gcra\":null}",
            "{\"gcra\":{\"tat\":1},\"window\":null}",
        ] {
            assert_eq!(decode_state(bad), None, "{bad}");
        }
        assert_eq!(decode_state(&" ".repeat(MAX_STATE_BYTES + 1)), None);
    }

    #[test]
    fn store_keys_are_hashed() {
        let k = store_key("per-user", "a:b\n");
        assert!(k.starts_with("rl:per-user:"));
        assert_eq!(k.len(), "rl:per-user:".len() + 64);
        assert_ne!(store_key("p", "a"), store_key("p", "b"));
    }
}
