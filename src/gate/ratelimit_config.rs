//! Rate-limit policies in the gate config (`rateLimits: [...]`), read with the `cfg`
//! toolkit so every error names its field path. The algorithms are in `crate::ratelimit`.
//!
//! ```json
//! "rateLimits": [
//!   { "name": "per-user", "algorithm": "sliding-window", "limit": 100, "window": "60s",
//!     "key": "sub", "roleLimits": { "premium": 500 }, "skipRoles": ["admin"],
//!     "store": "memory", "onStoreError": "local", "timeoutMs": 50 }
//! ]
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;

use crate::gate::cfg::{is_token, join, CResult, ConfigError};
use crate::gate::claim_path::ClaimPath;
use crate::gate::wire::{RawRateLimit, RawRateLimitKey, Str, StrOr};
use crate::ratelimit::{Algorithm, Policy, MAX_LIMIT, MAX_WINDOW_MS};

/// Most policies in one config.
pub const MAX_RATE_LIMITS: usize = 64;

/// Longest store timeout, ms.
pub const MAX_STORE_TIMEOUT_MS: u64 = 10_000;

/// Default store timeout, ms.
pub const DEFAULT_STORE_TIMEOUT_MS: u64 = 50;

/// What a policy counts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RateLimitKey {
    /// The verified subject.
    Sub,
    /// The API key id (callers authenticated with an edgegate API key only).
    ApiKey,
    /// The caller's organization (identity `org`).
    Org,
    /// The request's `clientIp` (set by the host).
    Ip,
    /// A claim of the verified caller (a string or an integer).
    Claim(ClaimPath, String),
    /// A request header (one value; more than one is a missing key).
    Header(String),
}

impl RateLimitKey {
    /// Whether the key needs an authenticated caller (everything but `ip` and `header`).
    pub fn needs_identity(&self) -> bool {
        !matches!(self, RateLimitKey::Ip | RateLimitKey::Header(_))
    }

    /// A short name for the key kind (`sub`, `apiKey`, `org`, `ip`, `claim`, `header`).
    pub fn kind(&self) -> &'static str {
        match self {
            RateLimitKey::Sub => "sub",
            RateLimitKey::ApiKey => "apiKey",
            RateLimitKey::Org => "org",
            RateLimitKey::Ip => "ip",
            RateLimitKey::Claim(..) => "claim",
            RateLimitKey::Header(_) => "header",
        }
    }
}

/// Where a policy's counters live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreKind {
    /// In the gate's shared context ([`crate::gate::Ctx`]): exact per process or isolate.
    Memory,
    /// Redis (the Node host): one atomic script per operation.
    Redis,
    /// Workers KV (the Worker).
    Kv,
    /// Durable Objects (the Worker): serialized per key, exact.
    DurableObject,
}

impl StoreKind {
    /// The config spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::Redis => "redis",
            StoreKind::Kv => "kv",
            StoreKind::DurableObject => "durable-object",
        }
    }

    /// Whether the host must provide this store (everything but `memory`).
    pub const fn is_shared(self) -> bool {
        !matches!(self, StoreKind::Memory)
    }
}

/// What a shared store's failure (down, timeout, malformed state, too many conflicts) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStoreError {
    /// Enforce the limit with the in-process limiter (the default).
    Local,
    /// Let the request through without this policy.
    Allow,
    /// Refuse the request: 500 AUTH-015 "rate limit store unavailable" (fail closed).
    Deny,
}

impl OnStoreError {
    /// The config spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            OnStoreError::Local => "local",
            OnStoreError::Allow => "allow",
            OnStoreError::Deny => "deny",
        }
    }
}

/// One validated `rateLimits[]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitPolicy {
    /// The base policy (name, algorithm, limit, window).
    pub policy: Policy,
    /// Cost of one request (`1..=` every applicable limit).
    pub cost: u64,
    pub key: RateLimitKey,
    /// Role -> policy with that role's limit.
    pub role_limits: BTreeMap<String, Policy>,
    /// Callers with any of these roles (inherited roles count) are not counted.
    pub skip_roles: Vec<String>,
    pub store: StoreKind,
    pub on_store_error: OnStoreError,
    pub timeout_ms: u64,
    /// The config path of this entry (`rateLimits[2]`).
    pub path: String,
}

impl RateLimitPolicy {
    /// The policy name.
    pub fn name(&self) -> &str {
        self.policy.name()
    }

    /// The policy for a caller with `roles` (expanded, inherited roles included): the
    /// highest role limit that applies, else the base policy.
    pub fn for_roles(&self, roles: &[String]) -> &Policy {
        roles
            .iter()
            .filter_map(|r| self.role_limits.get(r))
            .max_by_key(|p| p.limit())
            .unwrap_or(&self.policy)
    }

    /// Whether a caller with `roles` is not counted.
    pub fn skips(&self, roles: &[String]) -> bool {
        roles.iter().any(|r| self.skip_roles.contains(r))
    }
}

/// `"10s"`, `"1m"`, `"1h"`, `"1d"`, `"500ms"` or an integer number of seconds, in ms.
pub(crate) fn parse_window(path: &str, v: &Value) -> CResult<u64> {
    let bad = || {
        ConfigError::new(
            path,
            "expected seconds (integer) or a duration such as \"10s\", \"1m\", \"1h\", \"1d\"",
        )
    };
    let ms = match v {
        Value::Number(n) => n.as_u64().ok_or_else(bad)?.checked_mul(1000),
        Value::String(s) => {
            let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
                Some(i) => s.split_at(i),
                None => return Err(bad()),
            };
            if digits.is_empty()
                || digits.len() > 15
                || (digits.len() > 1 && digits.starts_with('0'))
            {
                return Err(bad());
            }
            let n: u64 = digits.parse().map_err(|_| bad())?;
            let mul = match unit {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(bad()),
            };
            n.checked_mul(mul)
        }
        _ => return Err(bad()),
    };
    match ms {
        Some(0) => Err(ConfigError::new(path, "must be greater than 0")),
        Some(ms) if ms <= MAX_WINDOW_MS => Ok(ms),
        _ => Err(ConfigError::new(
            path,
            format!("must be at most {} days", MAX_WINDOW_MS / 86_400_000),
        )),
    }
}

fn parse_key(path: &str, v: StrOr<RawRateLimitKey>) -> CResult<RateLimitKey> {
    match v {
        StrOr::Str(s) => match s.as_str() {
            "sub" => Ok(RateLimitKey::Sub),
            "apiKey" => Ok(RateLimitKey::ApiKey),
            "org" => Ok(RateLimitKey::Org),
            "ip" => Ok(RateLimitKey::Ip),
            _ => Err(ConfigError::new(
                path,
                "expected \"sub\", \"apiKey\", \"org\", \"ip\", {\"claim\": path} or {\"header\": name}",
            )),
        },
        StrOr::Obj(o) => match (o.claim, o.header) {
            (Some(Str(c)), None) => {
                if c.is_empty() {
                    return Err(ConfigError::new(join(path, "claim"), "must not be empty"));
                }
                Ok(RateLimitKey::Claim(ClaimPath::parse(&c), c))
            }
            (None, Some(Str(h))) => {
                if !is_token(&h) {
                    return Err(ConfigError::new(
                        join(path, "header"),
                        "not a valid header name",
                    ));
                }
                Ok(RateLimitKey::Header(h))
            }
            _ => Err(ConfigError::new(
                path,
                "expected exactly one of claim, header",
            )),
        },
    }
}

fn limit_of(path: &str, v: &Value) -> CResult<u64> {
    match v.as_u64() {
        Some(0) => Err(ConfigError::new(path, "must be greater than 0")),
        Some(n) if n <= MAX_LIMIT => Ok(n),
        Some(_) => Err(ConfigError::new(
            path,
            format!("must be at most {MAX_LIMIT}"),
        )),
        None => Err(ConfigError::new(path, "expected positive integer")),
    }
}

/// Reads and checks one `rateLimits[i]` entry (tests; the config reads the wire types once).
#[cfg(test)]
pub(crate) fn parse_policy(path: &str, v: &Value) -> CResult<RateLimitPolicy> {
    policy_from_raw(path, crate::gate::wire::read(path, v)?)
}

/// Checks and compiles one `rateLimits[i]` entry.
pub(crate) fn policy_from_raw(path: &str, o: RawRateLimit) -> CResult<RateLimitPolicy> {
    let at = |name: &str| join(path, name);
    let Str(name) = o.name;
    let algorithm = match o.algorithm.as_ref().map(|s| s.0.as_str()) {
        None | Some("sliding-window") => Algorithm::SlidingWindow,
        Some("gcra") => Algorithm::Gcra,
        Some("fixed-window") => Algorithm::FixedWindow,
        Some(_) => {
            return Err(ConfigError::new(
                at("algorithm"),
                "expected \"gcra\", \"sliding-window\" or \"fixed-window\"",
            ))
        }
    };
    let missing = |name: &str| ConfigError::new(at(name), "missing required field");
    let limit = match &o.limit {
        None => return Err(missing("limit")),
        Some(v) => limit_of(&at("limit"), v)?,
    };
    let window_ms = match &o.window {
        None => return Err(missing("window")),
        Some(v) => parse_window(&at("window"), v)?,
    };
    let policy = Policy::new(&name, algorithm, limit, window_ms)
        .map_err(|e| ConfigError::new(at("name"), e.to_string()))?;
    let cost = match &o.cost {
        None => 1,
        Some(v) => limit_of(&at("cost"), v)?,
    };
    if cost > limit {
        return Err(ConfigError::new(
            at("cost"),
            "must not exceed the limit (such a request could never pass)",
        ));
    }
    let key = match o.key {
        None => return Err(missing("key")),
        Some(v) => parse_key(&at("key"), v)?,
    };
    let mut role_limits = BTreeMap::new();
    for (role, v) in o.role_limits.map(|m| m.0).unwrap_or_default() {
        let p = join(&at("roleLimits"), &role);
        let l = limit_of(&p, &v)?;
        if cost > l {
            return Err(ConfigError::new(
                p,
                "must not be below the cost (such a request could never pass)",
            ));
        }
        let rp = policy
            .with_limit(l)
            .map_err(|e| ConfigError::new(p.clone(), e.to_string()))?;
        role_limits.insert(role, rp);
    }
    let skip_roles = o.skip_roles.map(|l| l.0).unwrap_or_default();
    let store = match o.store.as_ref().map(|s| s.0.as_str()) {
        None | Some("memory") => StoreKind::Memory,
        Some("redis") => StoreKind::Redis,
        Some("kv") => StoreKind::Kv,
        Some("durable-object") => StoreKind::DurableObject,
        Some(_) => {
            return Err(ConfigError::new(
                at("store"),
                "expected \"memory\", \"redis\", \"kv\" or \"durable-object\"",
            ))
        }
    };
    let on_store_error = match o.on_store_error.as_ref().map(|s| s.0.as_str()) {
        None | Some("local") => OnStoreError::Local,
        Some("allow") => OnStoreError::Allow,
        Some("deny") => OnStoreError::Deny,
        Some(_) => {
            return Err(ConfigError::new(
                at("onStoreError"),
                "expected \"local\", \"allow\" or \"deny\"",
            ))
        }
    };
    let timeout_ms = o
        .timeout_ms
        .map(|n| n.at_most(&at("timeoutMs"), MAX_STORE_TIMEOUT_MS))
        .transpose()?
        .unwrap_or(DEFAULT_STORE_TIMEOUT_MS);
    if timeout_ms == 0 {
        return Err(ConfigError::new(at("timeoutMs"), "must be greater than 0"));
    }
    Ok(RateLimitPolicy {
        policy,
        cost,
        key,
        role_limits,
        skip_roles,
        store,
        on_store_error,
        timeout_ms,
        path: path.into(),
    })
}

/// Parses the top-level `rateLimits` array (names unique).
pub(crate) fn parse_policies(items: Vec<RawRateLimit>) -> CResult<Vec<RateLimitPolicy>> {
    if items.len() > MAX_RATE_LIMITS {
        return Err(ConfigError::new(
            "rateLimits",
            format!("at most {MAX_RATE_LIMITS} policies"),
        ));
    }
    let mut out: Vec<RateLimitPolicy> = Vec::new();
    for (i, raw) in items.into_iter().enumerate() {
        let p = format!("rateLimits[{i}]");
        let policy = policy_from_raw(&p, raw)?;
        if out.iter().any(|o| o.name() == policy.name()) {
            return Err(ConfigError::new(
                join(&p, "name"),
                format!("duplicate rate limit name {:?}", policy.name()),
            ));
        }
        out.push(policy);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn windows() {
        for (s, ms) in [
            ("\"10s\"", 10_000),
            ("\"1m\"", 60_000),
            ("\"1h\"", 3_600_000),
            ("\"1d\"", 86_400_000),
            ("\"250ms\"", 250),
            ("60", 60_000),
        ] {
            assert_eq!(parse_window("w", &v(s)), Ok(ms), "{s}");
        }
        for s in [
            "\"\"",
            "\"s\"",
            "\"10\"",
            "\"1 m\"",
            "\"1w\"",
            "\"-1s\"",
            "\"01s\"",
            "0",
            "\"0s\"",
            "-5",
            "1.5",
            "\"99999999999999d\"",
            "true",
        ] {
            assert!(parse_window("w", &v(s)).is_err(), "{s}");
        }
    }

    #[test]
    fn policy_fields_and_paths() {
        let p = parse_policy(
            "rateLimits[0]",
            &v(
                r#"{"name": "u", "limit": 10, "window": "1m", "key": {"claim": "tenant.id"},
                 "roleLimits": {"premium": 50, "gold": 100}, "skipRoles": ["admin"],
                 "store": "redis", "onStoreError": "deny", "cost": 2}"#,
            ),
        )
        .unwrap();
        assert_eq!(p.policy.limit(), 10);
        assert_eq!(p.cost, 2);
        assert_eq!(p.store, StoreKind::Redis);
        assert_eq!(p.on_store_error, OnStoreError::Deny);
        assert_eq!(p.timeout_ms, DEFAULT_STORE_TIMEOUT_MS);
        assert_eq!(p.for_roles(&["premium".into(), "gold".into()]).limit(), 100);
        assert_eq!(p.for_roles(&["x".into()]).limit(), 10);
        assert!(p.skips(&["admin".into()]));
        let err = |s: &str| parse_policy("rateLimits[1]", &v(s)).unwrap_err().path;
        assert_eq!(
            err(r#"{"name": "u", "limit": 0, "window": 1, "key": "sub"}"#),
            "rateLimits[1].limit"
        );
        assert_eq!(
            err(r#"{"name": "u", "limit": 1, "window": 1, "key": "who"}"#),
            "rateLimits[1].key"
        );
        assert_eq!(
            err(r#"{"name": "u", "limit": 1, "window": 1, "key": "sub", "cost": 2}"#),
            "rateLimits[1].cost"
        );
        assert_eq!(
            err(r#"{"name": "u", "limit": 1, "window": 1, "key": "sub", "store": "s3"}"#),
            "rateLimits[1].store"
        );
        assert_eq!(
            err(r#"{"name": "u", "limit": 1, "window": 1, "key": "sub", "roleLimits": {"a": -1}}"#),
            "rateLimits[1].roleLimits.a"
        );
        assert_eq!(
            err(r#"{"name": "u", "limit": 1, "window": 1, "key": {"header": "a b"}}"#),
            "rateLimits[1].key.header"
        );
        assert_eq!(
            err(r#"{"name": "", "limit": 1, "window": 1, "key": "sub"}"#),
            "rateLimits[1].name"
        );
        assert_eq!(
            err(r#"{"name": "u", "limit": 1, "window": 1, "key": "sub", "x": 1}"#),
            "rateLimits[1].x"
        );
    }
}
