//! Rate-limit algorithms: pure functions over explicit state and an injected time.
//!
//! Three algorithms, each a `check(policy, state, now_ms, cost) -> (Outcome, new state)`:
//!
//! - [`gcra`]: the generic cell rate algorithm, token-bucket semantics with one number of
//!   state (the theoretical arrival time). A bucket of `limit` that refills at `limit` per
//!   `window`: a full bucket lets `limit` cost through at once, then one unit per
//!   `window / limit`.
//! - [`window::check_sliding`]: the sliding-window counter. The count of the previous aligned
//!   window is weighted by the share of it that still overlaps the sliding window.
//! - [`window::check_fixed`]: the fixed window. Cheap, but up to `2 * limit` can pass around
//!   a window boundary.
//!
//! The core never reads a clock: time comes in as Unix milliseconds (`u64`). Times past
//! [`MAX_NOW_MS`] (year 2223) are treated as [`MAX_NOW_MS`]: a frozen clock refills
//! nothing, so an absurd time can never grant quota. Time going backwards (clock skew
//! between hosts or isolates) never grants quota either: each algorithm evaluates a state
//! written "in the future" as if the present were the state's own time.
//!
//! **Cost.** A request may cost more than 1. Cost `0` is a *peek*: it never changes the
//! state; `allowed` says whether a request of cost 1 would pass now, `remaining` and `reset`
//! describe the current quota, and `retry_after` (when not allowed) is the wait for a cost-1
//! request. A cost above the limit can never pass: it is denied with
//! [`Outcome::cost_exceeds_limit`] set and `retry_after` equal to the window (waiting does not
//! help; the field stays `>= 1` so a client never hammers). A denied request never changes
//! the state.
//!
//! **Merging.** [`merge`] (and each algorithm's own `merge`) combines two states of the same
//! key, e.g. the last known global state of a store and a local one. It is a join:
//! commutative, associative and idempotent, and the merged state never has more quota than
//! either input (for the window algorithms: at any time in or after the later input's
//! window). Merging takes the *maximum* of the usage, not the sum: it is safe to apply the
//! same state twice, but it does not add up concurrent consumption of two writers. For
//! that (a store's global counts plus an isolate's coalesced delta), [`add`] sums the
//! usage: commutative and associative, never lowers a count, but not idempotent (each delta
//! must be applied once).
//!
//! **Headers.** [`headers`] renders the IETF `RateLimit-Policy` and `RateLimit` fields
//! (draft-ietf-httpapi-ratelimit-headers) as Structured Fields lists, one member per policy.

use alloc::string::String;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

pub mod edge;
pub mod gcra;
pub mod headers;
pub mod window;

pub use gcra::GcraState;
pub use window::WindowState;

/// The latest time the algorithms distinguish, in Unix milliseconds (2223-07-05). Later
/// times are treated as this one (a frozen clock: no refill). It keeps the GCRA state, in
/// microseconds, below 2^53 so that JavaScript hosts can hold it as a `Number`.
pub const MAX_NOW_MS: u64 = 8_000_000_000_000;

/// The largest `limit` (and the largest value rendered in a header): the largest Structured
/// Fields integer, 999,999,999,999,999.
pub const MAX_LIMIT: u64 = 999_999_999_999_999;

/// The longest window: 10 years (of 365 days), in milliseconds.
pub const MAX_WINDOW_MS: u64 = 10 * 365 * 24 * 60 * 60 * 1000;

/// The longest policy name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Which algorithm a policy uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// [`gcra`]: token bucket, one number of state.
    Gcra,
    /// [`window::check_sliding`] (the default).
    #[default]
    SlidingWindow,
    /// [`window::check_fixed`].
    FixedWindow,
}

impl Algorithm {
    /// The config spelling: `gcra`, `sliding-window`, `fixed-window`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Gcra => "gcra",
            Algorithm::SlidingWindow => "sliding-window",
            Algorithm::FixedWindow => "fixed-window",
        }
    }
}

/// Why a [`Policy`] could not be built. Always `AUTH-015` (a configuration error).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The window is 0 ms.
    ZeroWindow,
    /// The window is longer than [`MAX_WINDOW_MS`].
    WindowTooLong {
        /// [`MAX_WINDOW_MS`].
        max_ms: u64,
        /// The configured window.
        actual_ms: u64,
    },
    /// The limit is 0 (use a route rule to deny everything).
    ZeroLimit,
    /// The limit is above [`MAX_LIMIT`].
    LimitTooLarge {
        /// [`MAX_LIMIT`].
        max: u64,
        /// The configured limit.
        actual: u64,
    },
    /// The name is empty, longer than [`MAX_NAME_LEN`], or has a character outside printable
    /// ASCII (it must fit a Structured Fields string).
    InvalidName,
}

impl PolicyError {
    /// Always AUTH-015.
    pub const fn code(&self) -> ErrorCode {
        ErrorCode::ConfigError
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::ZeroWindow => f.write_str("rate limit window must be greater than 0"),
            PolicyError::WindowTooLong { max_ms, actual_ms } => write!(
                f,
                "rate limit window too long: expected at most {max_ms} ms, got {actual_ms} ms"
            ),
            PolicyError::ZeroLimit => f.write_str("rate limit must be greater than 0"),
            PolicyError::LimitTooLarge { max, actual } => {
                write!(
                    f,
                    "rate limit too large: expected at most {max}, got {actual}"
                )
            }
            PolicyError::InvalidName => write!(
                f,
                "rate limit policy name must be 1 to {MAX_NAME_LEN} printable ascii characters"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyError {}

/// A validated rate-limit policy: `limit` cost per `window`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    name: String,
    algorithm: Algorithm,
    limit: u64,
    window_ms: u64,
}

impl Policy {
    /// Validates and builds a policy. The name must be 1..=[`MAX_NAME_LEN`] printable ASCII
    /// characters (`0x20..=0x7e`), `limit` in `1..=`[`MAX_LIMIT`], `window_ms` in
    /// `1..=`[`MAX_WINDOW_MS`].
    pub fn new(
        name: &str,
        algorithm: Algorithm,
        limit: u64,
        window_ms: u64,
    ) -> Result<Policy, PolicyError> {
        if name.is_empty()
            || name.len() > MAX_NAME_LEN
            || !name.bytes().all(|b| (0x20..=0x7e).contains(&b))
        {
            return Err(PolicyError::InvalidName);
        }
        if limit == 0 {
            return Err(PolicyError::ZeroLimit);
        }
        if limit > MAX_LIMIT {
            return Err(PolicyError::LimitTooLarge {
                max: MAX_LIMIT,
                actual: limit,
            });
        }
        if window_ms == 0 {
            return Err(PolicyError::ZeroWindow);
        }
        if window_ms > MAX_WINDOW_MS {
            return Err(PolicyError::WindowTooLong {
                max_ms: MAX_WINDOW_MS,
                actual_ms: window_ms,
            });
        }
        Ok(Policy {
            name: String::from(name),
            algorithm,
            limit,
            window_ms,
        })
    }

    /// The same policy with another limit (e.g. a role limit), validated the same way.
    pub fn with_limit(&self, limit: u64) -> Result<Policy, PolicyError> {
        Policy::new(&self.name, self.algorithm, limit, self.window_ms)
    }

    /// The policy name (printable ASCII).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The algorithm.
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The cost allowed per window (`>= 1`).
    pub const fn limit(&self) -> u64 {
        self.limit
    }
    /// The window in milliseconds (`>= 1`).
    pub const fn window_ms(&self) -> u64 {
        self.window_ms
    }
    /// The window in whole seconds, rounded up (the header's `w`).
    pub const fn window_secs(&self) -> u64 {
        ceil_div(self.window_ms, 1000)
    }
}

/// The answer of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome<'p> {
    /// The policy name.
    pub policy: &'p str,
    /// Whether the request passes (it has consumed its cost when it does).
    pub allowed: bool,
    /// Set when the cost is above the limit: the request can never pass.
    pub cost_exceeds_limit: bool,
    /// The policy's limit.
    pub limit: u64,
    /// The policy's window in whole seconds, rounded up.
    pub window: u64,
    /// Cost that could still pass now (after this request, when allowed).
    pub remaining: u64,
    /// Seconds until the quota is full again, rounded up (0 when it is full).
    pub reset: u64,
    /// Milliseconds until the quota is full again, rounded up.
    pub reset_ms: u64,
    /// When denied: seconds until this request would pass, rounded up, `>= 1`. 0 when allowed.
    pub retry_after: u64,
    /// When denied: milliseconds until this request would pass (exact for the millisecond
    /// clock: at `now_ms + retry_after_ms` it passes, one millisecond earlier it does not).
    /// 0 when allowed.
    pub retry_after_ms: u64,
}

/// The state of one key, for any algorithm (what a store keeps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// [`gcra`] state.
    Gcra(GcraState),
    /// [`window`] state (both window algorithms).
    Window(WindowState),
}

/// Runs `policy`'s algorithm. A state of the other kind (the policy's algorithm changed)
/// counts as no state: a configuration change starts the key afresh.
pub fn check<'p>(
    policy: &'p Policy,
    state: Option<State>,
    now_ms: u64,
    cost: u64,
) -> (Outcome<'p>, State) {
    match policy.algorithm {
        Algorithm::Gcra => {
            let s = match state {
                Some(State::Gcra(s)) => Some(s),
                _ => None,
            };
            let (o, s) = gcra::check(policy, s, now_ms, cost);
            (o, State::Gcra(s))
        }
        Algorithm::SlidingWindow | Algorithm::FixedWindow => {
            let s = match state {
                Some(State::Window(s)) => Some(s),
                _ => None,
            };
            let (o, s) = if policy.algorithm == Algorithm::FixedWindow {
                window::check_fixed(policy, s, now_ms, cost)
            } else {
                window::check_sliding(policy, s, now_ms, cost)
            };
            (o, State::Window(s))
        }
    }
}

/// Merges two states of one key (see the module docs). States of different kinds: the
/// result is `a` (they cannot describe the same policy).
pub fn merge(a: State, b: State) -> State {
    match (a, b) {
        (State::Gcra(x), State::Gcra(y)) => State::Gcra(gcra::merge(x, y)),
        (State::Window(x), State::Window(y)) => State::Window(window::merge(x, y)),
        (a, _) => a,
    }
}

/// Adds the usage of two states of one key at `now_ms` (see the module docs; the time
/// matters for GCRA only). States of different kinds: the result is `a`.
pub fn add(a: State, b: State, now_ms: u64) -> State {
    match (a, b) {
        (State::Gcra(x), State::Gcra(y)) => State::Gcra(gcra::add(x, y, now_ms)),
        (State::Window(x), State::Window(y)) => State::Window(window::add(x, y)),
        (a, _) => a,
    }
}

// ---- shared arithmetic -------------------------------------------------------------------

/// `ceil(a / b)`, `b > 0`; 0 for `b == 0` (never reached: callers pass constants or windows).
pub(crate) const fn ceil_div(a: u64, b: u64) -> u64 {
    if b == 0 {
        return 0;
    }
    a / b + if a % b == 0 { 0 } else { 1 }
}

/// `ceil(a / b)` in u128, saturated to u64.
pub(crate) fn ceil_div_u128(a: u128, b: u128) -> u64 {
    if b == 0 {
        return 0;
    }
    sat(a / b + if a % b == 0 { 0 } else { 1 })
}

/// Saturates a u128 to u64.
pub(crate) fn sat(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The clamped time.
pub(crate) fn clamp_now(now_ms: u64) -> u64 {
    if now_ms > MAX_NOW_MS {
        MAX_NOW_MS
    } else {
        now_ms
    }
}

/// Assembles an outcome from millisecond figures (rounding seconds up, `retry_after >= 1`
/// when denied).
pub(crate) fn outcome<'p>(
    policy: &'p Policy,
    allowed: bool,
    cost_exceeds_limit: bool,
    remaining: u64,
    reset_ms: u64,
    retry_after_ms: u64,
) -> Outcome<'p> {
    let (retry_after, retry_after_ms) = if allowed {
        (0, 0)
    } else {
        let ms = retry_after_ms.max(1);
        (ceil_div(ms, 1000).max(1), ms)
    };
    Outcome {
        policy: &policy.name,
        allowed,
        cost_exceeds_limit,
        limit: policy.limit,
        window: policy.window_secs(),
        remaining,
        reset: ceil_div(reset_ms, 1000),
        reset_ms,
        retry_after,
        retry_after_ms,
    }
}

/// The common decision over one algorithm's view of a key at `now`: `avail` is the cost
/// that could pass now, `reset_ms` the time until the quota is full, `wait_ms(c)` the time
/// until cost `c` (`1 <= c <= limit`, `c > avail`) passes, `consume(c)` the new state with
/// the remaining cost and reset after consuming `c <= avail`.
pub(crate) fn drive<'p, S: Copy>(
    policy: &'p Policy,
    old: S,
    cost: u64,
    avail: u64,
    reset_ms: u64,
    wait_ms: impl Fn(u64) -> u64,
    consume: impl Fn(u64) -> (S, u64, u64),
) -> (Outcome<'p>, S) {
    if cost == 0 {
        let allowed = avail >= 1;
        let wait = if allowed { 0 } else { wait_ms(1) };
        return (outcome(policy, allowed, false, avail, reset_ms, wait), old);
    }
    if cost > policy.limit {
        let o = outcome(policy, false, true, avail, reset_ms, policy.window_ms);
        return (o, old);
    }
    if cost <= avail {
        let (s, remaining, reset_after) = consume(cost);
        return (outcome(policy, true, false, remaining, reset_after, 0), s);
    }
    let o = outcome(policy, false, false, avail, reset_ms, wait_ms(cost));
    (o, old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_validation() {
        assert_eq!(
            Policy::new("p", Algorithm::Gcra, 10, 0),
            Err(PolicyError::ZeroWindow)
        );
        assert_eq!(
            Policy::new("p", Algorithm::Gcra, 0, 1000),
            Err(PolicyError::ZeroLimit)
        );
        assert_eq!(
            Policy::new("p", Algorithm::Gcra, MAX_LIMIT + 1, 1000),
            Err(PolicyError::LimitTooLarge {
                max: MAX_LIMIT,
                actual: MAX_LIMIT + 1
            })
        );
        assert!(matches!(
            Policy::new("p", Algorithm::Gcra, 1, MAX_WINDOW_MS + 1),
            Err(PolicyError::WindowTooLong { .. })
        ));
        for bad in ["", "a\nb", "é", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert_eq!(
                Policy::new(bad, Algorithm::Gcra, 1, 1),
                Err(PolicyError::InvalidName)
            );
        }
        let p = Policy::new(
            "a \"q\" \\",
            Algorithm::FixedWindow,
            MAX_LIMIT,
            MAX_WINDOW_MS,
        );
        assert!(p.is_ok());
        assert_eq!(PolicyError::ZeroWindow.code().as_str(), "AUTH-015");
        assert_eq!(
            Policy::new("p", Algorithm::Gcra, 1, 1500).map(|p| p.window_secs()),
            Ok(2)
        );
    }

    #[test]
    fn dispatch_and_kind_mismatch_starts_afresh() {
        let p = Policy::new("p", Algorithm::Gcra, 1, 1000).unwrap();
        let (o, s) = check(&p, None, 0, 1);
        assert!(o.allowed);
        let (o, _) = check(&p, Some(s), 0, 1);
        assert!(!o.allowed);
        let w = State::Window(WindowState::default());
        let (o, s2) = check(&p, Some(w), 0, 1);
        assert!(o.allowed);
        assert!(matches!(s2, State::Gcra(_)));
        assert_eq!(merge(s, w), s);
    }

    #[test]
    fn algorithm_serde_names() {
        assert_eq!(
            serde_json::to_string(&Algorithm::SlidingWindow).unwrap(),
            "\"sliding-window\""
        );
        assert_eq!(Algorithm::default(), Algorithm::SlidingWindow);
        assert_eq!(Algorithm::FixedWindow.as_str(), "fixed-window");
    }
}
