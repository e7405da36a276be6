//! Remote JWK Set cache policy, as pure state (DESIGN.md: "the core never does I/O").
//!
//! The host (the JS package, a Worker) owns the fetch, the timers and the key bytes; this
//! module only decides, given `now` (milliseconds since the epoch, supplied by the host):
//!
//! - **fresh**: cached keys are used as they are;
//! - **stale** (past freshness, within `max_stale`): the host refetches, and if the fetch
//!   fails the stale keys are still served (stale-if-error) until `max_stale` runs out;
//! - **empty / too stale**: the host must fetch; if that fails the caller gets AUTH-007;
//! - **one fetch in flight**: while a fetch runs every other caller is told to wait for it;
//! - **unknown `kid`**: a refetch is allowed only after `cooldown` since the last fetch
//!   attempt, and at most `refetch_budget` times per `max_age` window, so a storm of tokens
//!   with made-up `kid`s costs one fetch, not hundreds;
//! - **after a failed fetch**: no new attempt before `retry_after_error` has passed (callers
//!   get stale keys or AUTH-007 at once instead of piling onto a dead IdP);
//! - **`Cache-Control: max-age`** of the JWKS response sets the freshness lifetime, clamped
//!   to `[cooldown, max_fresh]`; `no-store` / `no-cache` count as `max-age=0` (so: cooldown);
//!   without the header, `max_age` applies;
//! - **persist / seed**: [`JwksCache::snapshot`] and [`JwksCache::restore`] let a host keep
//!   the cache times (next to the JWKS bytes) in KV between isolates.

use alloc::string::{String, ToString};

use crate::error::ErrorCode;

/// The knobs of the policy, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachePolicy {
    /// Freshness lifetime when the response carries no `Cache-Control: max-age`
    /// (jose's `cacheMaxAge`, default 10 minutes). Also the refetch-budget window.
    pub max_age_ms: u64,
    /// Minimum time between two fetches triggered by unknown `kid`s (jose's
    /// `cooldownDuration`, default 30 s). Also the lower clamp of a `max-age` header.
    pub cooldown_ms: u64,
    /// How long past freshness stale keys may still be served when the IdP is down
    /// (default 1 hour).
    pub max_stale_ms: u64,
    /// Upper clamp of a `Cache-Control: max-age` (default 24 hours).
    pub max_fresh_ms: u64,
    /// Minimum time between a failed fetch and the next attempt (default 5 s).
    pub retry_after_error_ms: u64,
    /// Refetches allowed for unknown `kid`s per `max_age_ms` window (default 3).
    pub refetch_budget: u32,
}

impl CachePolicy {
    /// The defaults listed on each field.
    pub const DEFAULT: CachePolicy = CachePolicy {
        max_age_ms: 10 * 60 * 1000,
        cooldown_ms: 30 * 1000,
        max_stale_ms: 60 * 60 * 1000,
        max_fresh_ms: 24 * 60 * 60 * 1000,
        retry_after_error_ms: 5 * 1000,
        refetch_budget: 3,
    };
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy::DEFAULT
    }
}

/// How usable the cached keys are at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Nothing was ever fetched (or restored).
    Empty,
    /// Within the freshness lifetime.
    Fresh,
    /// Past freshness, within `max_stale`: usable only if a refresh fails.
    Stale,
    /// Past `max_stale`: not usable.
    Expired,
}

/// Why the host is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A token arrived; the host needs keys.
    Keys,
    /// The cached keys have no key for the token's `kid`/`alg`.
    UnknownKid,
}

/// What the host must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Use the cached keys (fresh, or stale after a failed refresh). For [`Need::UnknownKid`]
    /// this means "no refetch now": the token has no key (AUTH-001).
    UseCached,
    /// Start a fetch (the state now records it as in flight), then report it with
    /// [`JwksCache::fetch_succeeded`] or [`JwksCache::fetch_failed`] and ask again.
    Fetch,
    /// A fetch is in flight: wait for it, then ask again.
    Wait,
    /// No usable keys and no fetch allowed now.
    Fail(ErrorCode),
}

/// Cache times a host can persist (with the JWKS bytes) and restore in another isolate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// When the keys were fetched (ms).
    pub fetched_at: u64,
    /// Until when they are fresh (ms).
    pub fresh_until: u64,
}

/// A key set as a shared store keeps it for other instances (the Rust Worker's KV record
/// `jwks:<provider>`): the URL it was fetched from, the cache times of that fetch, and the
/// set's bytes. Read back strictly: one JSON object with exactly these members and types
/// (duplicates refused); the set itself is checked again by whoever uses it, and the times by
/// [`JwksCache::restore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredJwks {
    pub url: String,
    pub snapshot: Snapshot,
    pub jwks: String,
}

impl StoredJwks {
    /// Largest record read back: a set at `Limits::max_jwks_bytes` written as a JSON string
    /// can take up to twice that (escaped quotes), plus the other members.
    pub fn max_record_bytes(limits: &crate::limits::Limits) -> usize {
        limits.max_jwks_bytes.saturating_mul(2).saturating_add(4096)
    }

    /// `{"url", "fetchedAt", "freshUntil", "jwks"}`.
    pub fn to_json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("url".into(), serde_json::Value::String(self.url.clone()));
        m.insert("fetchedAt".into(), self.snapshot.fetched_at.into());
        m.insert("freshUntil".into(), self.snapshot.fresh_until.into());
        m.insert("jwks".into(), serde_json::Value::String(self.jwks.clone()));
        serde_json::Value::Object(m).to_string()
    }

    /// The record in `bytes`, or `None` when it is not exactly one.
    pub fn from_json(bytes: &[u8], limits: &crate::limits::Limits) -> Option<StoredJwks> {
        use serde_json::Value;
        if bytes.len() > Self::max_record_bytes(limits) {
            return None;
        }
        let Ok(Value::Object(m)) = crate::codec::json::parse_value(bytes, limits.max_json_depth)
        else {
            return None;
        };
        if m.len() != 4 {
            return None;
        }
        match (
            m.get("url"),
            m.get("fetchedAt").and_then(Value::as_u64),
            m.get("freshUntil").and_then(Value::as_u64),
            m.get("jwks"),
        ) {
            (
                Some(Value::String(url)),
                Some(fetched_at),
                Some(fresh_until),
                Some(Value::String(jwks)),
            ) => Some(StoredJwks {
                url: url.clone(),
                snapshot: Snapshot {
                    fetched_at,
                    fresh_until,
                },
                jwks: jwks.clone(),
            }),
            _ => None,
        }
    }
}

/// The parsed parts of a `Cache-Control` header that the policy uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CacheControl {
    /// `max-age` in seconds, if present and well-formed.
    pub max_age: Option<u64>,
    /// `no-store` or `no-cache` present.
    pub no_cache: bool,
}

/// Parses the directives of a `Cache-Control` value that matter here (RFC 9111 5.2).
/// Unknown or malformed directives are ignored; a malformed `max-age` counts as absent.
pub fn parse_cache_control(value: &str) -> CacheControl {
    let mut out = CacheControl::default();
    for directive in value.split(',') {
        let directive = directive.trim();
        let (name, arg) = match directive.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            out.no_cache = true;
        } else if name.eq_ignore_ascii_case("max-age") {
            if let Some(a) = arg {
                if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) {
                    // Saturate absurd values (RFC 9111 1.2.2: treat overflow as "a long time").
                    out.max_age = Some(a.parse::<u64>().unwrap_or(u64::MAX));
                }
            }
        }
    }
    out
}

/// The cache state for one JWKS URL. Pure: every method takes `now`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksCache {
    policy: CachePolicy,
    fetched_at: Option<u64>,
    fresh_until: u64,
    last_attempt: Option<u64>,
    last_failure: Option<u64>,
    in_flight: bool,
    window_start: u64,
    refetches_in_window: u32,
}

impl JwksCache {
    /// An empty cache.
    pub const fn new(policy: CachePolicy) -> JwksCache {
        JwksCache {
            policy,
            fetched_at: None,
            fresh_until: 0,
            last_attempt: None,
            last_failure: None,
            in_flight: false,
            window_start: 0,
            refetches_in_window: 0,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    /// Whether a fetch is in flight.
    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// How usable the cached keys are at `now`.
    pub fn freshness(&self, now: u64) -> Freshness {
        match self.fetched_at {
            None => Freshness::Empty,
            Some(_) if now < self.fresh_until => Freshness::Fresh,
            Some(_) if now - self.fresh_until < self.policy.max_stale_ms => Freshness::Stale,
            Some(_) => Freshness::Expired,
        }
    }

    fn since(now: u64, t: Option<u64>) -> Option<u64> {
        t.map(|t| now.saturating_sub(t))
    }

    /// A new attempt is not blocked by a recent failure.
    fn may_retry(&self, now: u64) -> bool {
        match Self::since(now, self.last_failure) {
            None => true,
            Some(d) => d >= self.policy.retry_after_error_ms,
        }
    }

    fn start_fetch(&mut self, now: u64) -> Action {
        self.in_flight = true;
        self.last_attempt = Some(now);
        Action::Fetch
    }

    /// Decides what the host does next. `Action::Fetch` marks a fetch in flight.
    pub fn decide(&mut self, now: u64, need: Need) -> Action {
        if self.in_flight {
            return Action::Wait;
        }
        match (self.freshness(now), need) {
            (Freshness::Fresh, Need::Keys) => Action::UseCached,
            (Freshness::Fresh, Need::UnknownKid) | (Freshness::Stale, Need::UnknownKid) => {
                let cooled = match Self::since(now, self.last_attempt) {
                    None => true,
                    Some(d) => d >= self.policy.cooldown_ms,
                };
                if now.saturating_sub(self.window_start) >= self.policy.max_age_ms {
                    self.window_start = now;
                    self.refetches_in_window = 0;
                }
                if cooled
                    && self.may_retry(now)
                    && self.refetches_in_window < self.policy.refetch_budget
                {
                    self.refetches_in_window += 1;
                    self.start_fetch(now)
                } else {
                    Action::UseCached
                }
            }
            (Freshness::Stale, Need::Keys) => {
                if self.may_retry(now) {
                    self.start_fetch(now)
                } else {
                    // stale-if-error: the last refresh failed moments ago.
                    Action::UseCached
                }
            }
            (Freshness::Empty, _) | (Freshness::Expired, _) => {
                if self.may_retry(now) {
                    self.start_fetch(now)
                } else {
                    Action::Fail(ErrorCode::JwksUnavailable)
                }
            }
        }
    }

    /// The fetch finished with a 200 and a key set the host imported successfully.
    /// `cache_control` is the response's `Cache-Control` value, if any.
    pub fn fetch_succeeded(&mut self, now: u64, cache_control: Option<&str>) {
        let lifetime = match cache_control.map(parse_cache_control) {
            Some(CacheControl { no_cache: true, .. }) => self.policy.cooldown_ms,
            Some(CacheControl {
                max_age: Some(secs),
                ..
            }) => secs.saturating_mul(1000).clamp(
                self.policy.cooldown_ms,
                self.policy.max_fresh_ms.max(self.policy.cooldown_ms),
            ),
            _ => self.policy.max_age_ms,
        };
        self.in_flight = false;
        self.fetched_at = Some(now);
        self.fresh_until = now.saturating_add(lifetime);
        self.last_failure = None;
    }

    /// The fetch failed (network error, timeout, non-200, redirect, oversized or malformed
    /// JWKS). The previous keys, if any, stay cached.
    pub fn fetch_failed(&mut self, now: u64) {
        self.in_flight = false;
        self.last_failure = Some(now);
    }

    /// The instant (ms) from which the cached keys are [`Freshness::Expired`] (freshness +
    /// `max_stale`), if keys were ever fetched. A host that hands the keys on (the JS
    /// `Gate` to its core context) passes this along, so the keys are withdrawn by the same
    /// rule that answers AUTH-007 here.
    pub fn usable_until(&self) -> Option<u64> {
        self.fetched_at
            .map(|_| self.fresh_until.saturating_add(self.policy.max_stale_ms))
    }

    /// The times to persist with the JWKS bytes, if keys were ever fetched.
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.fetched_at.map(|fetched_at| Snapshot {
            fetched_at,
            fresh_until: self.fresh_until,
        })
    }

    /// Seeds an empty (or older) cache from a persisted snapshot. Returns `false` (and
    /// changes nothing) when the snapshot is inconsistent, already past `max_stale`, or
    /// older than what the cache holds. Times in the future are clamped to `now`, and the
    /// freshness lifetime is clamped to the policy's bounds, so a forged or skewed
    /// snapshot cannot pin keys longer than a real response could.
    pub fn restore(&mut self, snapshot: Snapshot, now: u64) -> bool {
        if snapshot.fresh_until < snapshot.fetched_at {
            return false;
        }
        let fetched_at = snapshot.fetched_at.min(now);
        let cap = self.policy.max_fresh_ms.max(self.policy.max_age_ms);
        let lifetime = (snapshot.fresh_until - snapshot.fetched_at).min(cap);
        let fresh_until = fetched_at.saturating_add(lifetime);
        if now >= fresh_until && now - fresh_until >= self.policy.max_stale_ms {
            return false;
        }
        if let Some(current) = self.fetched_at {
            if current >= fetched_at {
                return false;
            }
        }
        self.fetched_at = Some(fetched_at);
        self.fresh_until = fresh_until;
        true
    }
}

#[cfg(test)]
mod stored_tests {
    use super::{Snapshot, StoredJwks};
    use crate::limits::Limits;

    #[test]
    fn stored_key_sets_round_trip_and_are_read_strictly() {
        let r = StoredJwks {
            url: "https://idp.example/jwks".into(),
            snapshot: Snapshot {
                fetched_at: 1_700_000_000_000,
                fresh_until: 1_700_000_600_000,
            },
            jwks: r#"{"keys":[]}"#.into(),
        };
        let l = Limits::DEFAULT;
        assert_eq!(StoredJwks::from_json(r.to_json().as_bytes(), &l), Some(r));
        for bad in [
            r#"{"url":"u","fetchedAt":1,"freshUntil":2,"jwks":"{}","jwks":"{}"}"#,
            r#"{"url":"u","fetchedAt":1,"freshUntil":2}"#,
            r#"{"url":"u","fetchedAt":-1,"freshUntil":2,"jwks":"{}"}"#,
            r#"{"url":"u","fetchedAt":"1","freshUntil":2,"jwks":"{}"}"#,
            r#"{"url":"u","fetchedAt":1,"freshUntil":2,"jwks":{}}"#,
            r#"{"url":"u","fetchedAt":1,"freshUntil":2,"jwks":"{}","extra":0}"#,
            r#"[1]"#,
            "not json",
        ] {
            assert_eq!(StoredJwks::from_json(bad.as_bytes(), &l), None, "{bad}");
        }
        let huge = alloc::vec![b' '; StoredJwks::max_record_bytes(&l) + 1];
        assert_eq!(StoredJwks::from_json(&huge, &l), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: CachePolicy = CachePolicy::DEFAULT;
    const T0: u64 = 1_700_000_000_000;

    fn fetched(now: u64, cc: Option<&str>) -> JwksCache {
        let mut c = JwksCache::new(P);
        assert_eq!(c.decide(now, Need::Keys), Action::Fetch);
        c.fetch_succeeded(now, cc);
        c
    }

    #[test]
    fn usable_until_is_where_freshness_expires() {
        assert_eq!(JwksCache::new(P).usable_until(), None);
        let c = fetched(T0, None);
        let until = c.usable_until().unwrap_or(0);
        assert_eq!(until, T0 + P.max_age_ms + P.max_stale_ms);
        assert_eq!(c.freshness(until - 1), Freshness::Stale);
        assert_eq!(c.freshness(until), Freshness::Expired);
    }

    #[test]
    fn empty_cache_fetches_once_and_others_wait() {
        let mut c = JwksCache::new(P);
        assert_eq!(c.freshness(T0), Freshness::Empty);
        assert_eq!(c.decide(T0, Need::Keys), Action::Fetch);
        assert!(c.in_flight());
        for _ in 0..100 {
            assert_eq!(c.decide(T0 + 1, Need::Keys), Action::Wait);
            assert_eq!(c.decide(T0 + 1, Need::UnknownKid), Action::Wait);
        }
        c.fetch_succeeded(T0 + 5, None);
        assert_eq!(c.decide(T0 + 6, Need::Keys), Action::UseCached);
    }

    #[test]
    fn first_fetch_failure_is_auth_007_until_retry_delay() {
        let mut c = JwksCache::new(P);
        assert_eq!(c.decide(T0, Need::Keys), Action::Fetch);
        c.fetch_failed(T0 + 10);
        assert_eq!(
            c.decide(T0 + 11, Need::Keys),
            Action::Fail(ErrorCode::JwksUnavailable)
        );
        assert_eq!(
            c.decide(T0 + 10 + P.retry_after_error_ms - 1, Need::Keys),
            Action::Fail(ErrorCode::JwksUnavailable)
        );
        assert_eq!(
            c.decide(T0 + 10 + P.retry_after_error_ms, Need::Keys),
            Action::Fetch
        );
    }

    #[test]
    fn fresh_for_max_age_then_refetch() {
        let mut c = fetched(T0, None);
        assert_eq!(
            c.decide(T0 + P.max_age_ms - 1, Need::Keys),
            Action::UseCached
        );
        assert_eq!(c.freshness(T0 + P.max_age_ms), Freshness::Stale);
        assert_eq!(c.decide(T0 + P.max_age_ms, Need::Keys), Action::Fetch);
    }

    #[test]
    fn stale_if_error_until_max_stale_then_auth_007() {
        let mut c = fetched(T0, None);
        let stale = T0 + P.max_age_ms;
        assert_eq!(c.decide(stale, Need::Keys), Action::Fetch);
        c.fetch_failed(stale + 1);
        // Right after the failure: stale keys are served, no new fetch.
        assert_eq!(c.decide(stale + 2, Need::Keys), Action::UseCached);
        // After the retry delay, try again; fail again; still stale keys.
        let later = stale + 1 + P.retry_after_error_ms;
        assert_eq!(c.decide(later, Need::Keys), Action::Fetch);
        c.fetch_failed(later);
        assert_eq!(c.decide(later + 1, Need::Keys), Action::UseCached);
        // Past max_stale: nothing usable.
        let dead = T0 + P.max_age_ms + P.max_stale_ms;
        assert_eq!(c.freshness(dead), Freshness::Expired);
        assert_eq!(c.decide(dead, Need::Keys), Action::Fetch);
        c.fetch_failed(dead);
        assert_eq!(
            c.decide(dead + 1, Need::Keys),
            Action::Fail(ErrorCode::JwksUnavailable)
        );
        // The IdP comes back.
        assert_eq!(
            c.decide(dead + P.retry_after_error_ms, Need::Keys),
            Action::Fetch
        );
        c.fetch_succeeded(dead + P.retry_after_error_ms, None);
        assert_eq!(
            c.decide(dead + P.retry_after_error_ms + 1, Need::Keys),
            Action::UseCached
        );
    }

    #[test]
    fn unknown_kid_storm_costs_one_fetch_per_cooldown_within_budget() {
        let mut c = fetched(T0, None);
        // Within cooldown of the initial fetch: no refetch.
        assert_eq!(c.decide(T0 + 1000, Need::UnknownKid), Action::UseCached);
        let t = T0 + P.cooldown_ms;
        assert_eq!(c.decide(t, Need::UnknownKid), Action::Fetch);
        for _ in 0..500 {
            assert_eq!(c.decide(t + 1, Need::UnknownKid), Action::Wait);
        }
        c.fetch_succeeded(t + 2, None);
        let mut fetches = 0;
        for i in 0..500 {
            if c.decide(t + 3 + i, Need::UnknownKid) == Action::Fetch {
                fetches += 1;
            }
        }
        assert_eq!(fetches, 0);
    }

    #[test]
    fn unknown_kid_budget_caps_refetches_per_window() {
        let mut c = JwksCache::new(CachePolicy {
            max_age_ms: 3_600_000,
            ..P
        });
        assert_eq!(c.decide(T0, Need::Keys), Action::Fetch);
        c.fetch_succeeded(T0, None);
        let mut fetches = 0;
        let mut now = T0;
        // One unknown kid per cooldown for 20 cooldowns (10 minutes), all within one window.
        for _ in 0..20 {
            now += P.cooldown_ms;
            if c.decide(now, Need::UnknownKid) == Action::Fetch {
                fetches += 1;
                c.fetch_succeeded(now, None);
            }
        }
        assert_eq!(fetches, P.refetch_budget);
        // A new window restores the budget.
        now = T0 + 3_600_000 + P.cooldown_ms;
        assert_eq!(c.decide(now, Need::UnknownKid), Action::Fetch);
    }

    #[test]
    fn cache_control_max_age_is_honoured_and_clamped() {
        let c = fetched(T0, Some("public, max-age=120"));
        assert_eq!(
            c.snapshot(),
            Some(Snapshot {
                fetched_at: T0,
                fresh_until: T0 + 120_000
            })
        );
        let c = fetched(T0, Some("max-age=1"));
        assert_eq!(
            c.snapshot().map(|s| s.fresh_until),
            Some(T0 + P.cooldown_ms)
        );
        let c = fetched(T0, Some("max-age=99999999999999999999999"));
        assert_eq!(
            c.snapshot().map(|s| s.fresh_until),
            Some(T0 + P.max_fresh_ms)
        );
        let c = fetched(T0, Some("no-store"));
        assert_eq!(
            c.snapshot().map(|s| s.fresh_until),
            Some(T0 + P.cooldown_ms)
        );
        let c = fetched(T0, Some("max-age=abc"));
        assert_eq!(c.snapshot().map(|s| s.fresh_until), Some(T0 + P.max_age_ms));
    }

    #[test]
    fn parse_cache_control_directives() {
        assert_eq!(
            parse_cache_control("Max-Age=60"),
            CacheControl {
                max_age: Some(60),
                no_cache: false
            }
        );
        assert_eq!(
            parse_cache_control("max-age=\"60\", no-cache"),
            CacheControl {
                max_age: Some(60),
                no_cache: true
            }
        );
        assert_eq!(parse_cache_control("max-age=-1"), CacheControl::default());
        assert_eq!(parse_cache_control("max-age="), CacheControl::default());
        assert_eq!(parse_cache_control(""), CacheControl::default());
        assert_eq!(parse_cache_control("s-maxage=10"), CacheControl::default());
    }

    #[test]
    fn snapshot_restore_round_trip_and_refusals() {
        let c = fetched(T0, Some("max-age=300"));
        let snap = c.snapshot().unwrap_or(Snapshot {
            fetched_at: 0,
            fresh_until: 0,
        });
        let mut other = JwksCache::new(P);
        assert!(other.restore(snap, T0 + 1000));
        assert_eq!(other.decide(T0 + 1000, Need::Keys), Action::UseCached);
        assert_eq!(other.decide(T0 + 300_000, Need::Keys), Action::Fetch);
        // Older than what we hold.
        let mut newer = fetched(T0 + 10, None);
        assert!(!newer.restore(snap, T0 + 20));
        // Inconsistent.
        let mut e = JwksCache::new(P);
        assert!(!e.restore(
            Snapshot {
                fetched_at: T0,
                fresh_until: T0 - 1
            },
            T0
        ));
        // Too old to be served even stale.
        assert!(!e.restore(snap, T0 + 300_000 + P.max_stale_ms));
        // A forged far-future freshness is clamped.
        assert!(e.restore(
            Snapshot {
                fetched_at: T0 + 1_000_000,
                fresh_until: u64::MAX
            },
            T0
        ));
        assert_eq!(
            e.snapshot(),
            Some(Snapshot {
                fetched_at: T0,
                fresh_until: T0 + P.max_fresh_ms
            })
        );
        assert_eq!(e.freshness(T0), Freshness::Fresh);
    }
}
