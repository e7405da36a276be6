//! The gate's configuration: one JSON schema for the Worker (`wrangler.toml` vars), the JS
//! package and Rust (`schema/config.schema.json`, documented in `docs/config.md`).
//!
//! The document is read by the strict parser, then as the serde wire types of
//! `crate::gate::wire` (every error names the path of the bad field: `routes[3].roles:
//! expected array of strings`; unknown fields are errors), then checked and compiled here.
//! Secrets may come from the host's environment: wherever a secret or a string setting is
//! accepted, `{"env": "NAME"}` reads `NAME` from the `env` map the host passes in.
//! A bad config is a [`ConfigError`] (AUTH-015); it never fails open.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

use crate::gate::cfg::{is_token, join, CResult, ConfigError, Env};
use crate::gate::providers::Provider;
use crate::gate::ratelimit_config::{RateLimitPolicy, StoreKind};
use crate::gate::rbac::Rbac;
use crate::gate::route::Route;
use crate::gate::wire::{
    read, Bool, Enabled, List, RawConfig, RawCors, RawIdentityHeaders, RawTokenSource, Str, StrList,
};

/// Where a credential is looked for, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A header; with a scheme (`Bearer`), the value must be `<scheme> <credential>`.
    Header {
        name: String,
        scheme: Option<String>,
    },
    /// A cookie.
    Cookie { name: String },
    /// A cookie holding a session id (`{"cookie": "sid", "session": true}`): the host looks
    /// the session up (`Io::Session`).
    Session { cookie: String },
    /// A query parameter.
    Query { name: String },
}

/// Names of the identity headers forwarded on allow (`None` = not sent). Incoming
/// headers with any of these names are always stripped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityHeaders {
    pub user_id: Option<String>,
    pub roles: Option<String>,
    pub permissions: Option<String>,
    pub provider: Option<String>,
    pub org: Option<String>,
    /// The verified claims as base64url JSON.
    pub claims: Option<String>,
}

/// The default identity header names, in [`IdentityHeaders`] field order. Always stripped
/// from incoming requests, even when a header is renamed or disabled.
const DEFAULT_IDENTITY_HEADERS: [&str; 6] = [
    "X-User-Id",
    "X-User-Roles",
    "X-User-Permissions",
    "X-Auth-Provider",
    "X-User-Org",
    "X-Auth-Claims",
];

impl Default for IdentityHeaders {
    fn default() -> Self {
        let [user_id, roles, permissions, provider, org, claims] =
            DEFAULT_IDENTITY_HEADERS.map(|n| Some(String::from(n)));
        IdentityHeaders {
            user_id,
            roles,
            permissions,
            provider,
            org,
            claims,
        }
    }
}

impl IdentityHeaders {
    /// Every configured name.
    pub fn names(&self) -> Vec<String> {
        self.configured().map(String::from).collect()
    }

    /// Every configured name, borrowed.
    fn configured(&self) -> impl Iterator<Item = &str> {
        [
            &self.user_id,
            &self.roles,
            &self.permissions,
            &self.provider,
            &self.org,
            &self.claims,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
    }

    /// Every configured name, then every default name (may repeat).
    fn all_names(&self) -> impl Iterator<Item = &str> {
        self.configured().chain(DEFAULT_IDENTITY_HEADERS)
    }

    /// What is stripped from incoming requests: every configured name and every default
    /// name (a renamed or disabled header keeps its default name stripped), each once.
    pub fn strip_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(12);
        for n in self.all_names() {
            if !out.iter().any(|m| same_header_key(m, n)) {
                out.push(n.into());
            }
        }
        out
    }

    /// Whether an incoming header named `name` must be stripped: its name equals an
    /// identity header name (configured or default) once `_` and `.` are read as `-`,
    /// ignoring ASCII case (CGI-style servers read `X_User_Id` as `X-User-Id`).
    /// Runs for every header of every request: compares in place, without allocating.
    pub fn is_stripped(&self, name: &str) -> bool {
        self.all_names().any(|n| same_header_key(n, name))
    }
}

/// A header name's byte as CGI-style servers compare it: ASCII lowercase, `_` and `.` as `-`
/// (bytes of non-ASCII characters are left alone, so comparing bytes is comparing characters).
fn header_key_byte(b: u8) -> u8 {
    match b {
        b'_' | b'.' => b'-',
        b => b.to_ascii_lowercase(),
    }
}

/// Whether two header names are equal as CGI-style servers compare them (surrounding
/// whitespace ignored, ASCII case ignored, `_` and `.` read as `-`).
fn same_header_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim().as_bytes(), b.trim().as_bytes());
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| header_key_byte(*x) == header_key_byte(*y))
}

/// Deepest nesting of a config document (the deepest valid config is about 6 levels:
/// `routes[].claims[].in[]`).
pub const MAX_CONFIG_DEPTH: usize = 32;

/// Largest config document, bytes (a config with inline JWK Sets stays far below it).
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Methods a preflight answer allows when `cors.methods` is not given.
pub const DEFAULT_CORS_METHODS: [&str; 6] = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"];

/// Longest `cors.maxAge`, seconds (browsers cap it lower: Firefox 24 h, Chromium 2 h).
pub const MAX_CORS_MAX_AGE: u64 = 86_400;

/// CORS preflights, answered by the gate itself (never forwarded to the origin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cors {
    /// Answer `OPTIONS` requests with `Origin` and `Access-Control-Request-Method` at the
    /// edge (a [`crate::gate::Decision::Preflight`]).
    pub preflight: bool,
    /// Only from these origins (exact serialized origins; empty = any, answered with `*`).
    pub origins: Vec<String>,
    /// `Access-Control-Allow-Methods` (default [`DEFAULT_CORS_METHODS`]).
    pub methods: Vec<String>,
    /// `Access-Control-Allow-Headers` (default none).
    pub headers: Vec<String>,
    /// Echo the request's `Access-Control-Request-Headers` (a valid token list only) when
    /// `headers` is empty.
    pub echo_headers: bool,
    /// `Access-Control-Max-Age`, seconds.
    pub max_age: Option<u64>,
    /// `Access-Control-Allow-Credentials: true` (needs an explicit `origins` list).
    pub credentials: bool,
}

impl Default for Cors {
    fn default() -> Self {
        Cors {
            preflight: false,
            origins: Vec::new(),
            methods: DEFAULT_CORS_METHODS.iter().map(|m| (*m).into()).collect(),
            headers: Vec::new(),
            echo_headers: false,
            max_age: None,
            credentials: false,
        }
    }
}

/// A serialized origin: `http(s)://host[:port]`, no path, no userinfo, no wildcard.
fn is_origin(s: &str) -> bool {
    let rest = match s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    {
        Some(r) => r,
        None => return false,
    };
    !rest.is_empty()
        && rest.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
        })
}

/// A list of HTTP tokens (method or header names).
fn token_list(path: &str, list: Option<StrList>) -> CResult<Option<Vec<String>>> {
    let list = list.map(|l| l.0);
    if let Some(list) = &list {
        for (i, t) in list.iter().enumerate() {
            if !is_token(t) {
                return Err(ConfigError::new(
                    format!("{path}[{i}]"),
                    "not a valid token",
                ));
            }
        }
    }
    Ok(list)
}

fn cors(o: RawCors) -> CResult<Cors> {
    let flag = |b: Option<Bool>| b.is_some_and(|Bool(b)| b);
    let origins = o.origins.map(|l| l.0).unwrap_or_default();
    for (i, origin) in origins.iter().enumerate() {
        if !is_origin(origin) {
            return Err(ConfigError::new(
                format!("cors.origins[{i}]"),
                "not a serialized origin (http(s)://host[:port], lowercase, no path, no *)",
            ));
        }
    }
    let methods = token_list("cors.methods", o.methods)?
        .unwrap_or_else(|| DEFAULT_CORS_METHODS.iter().map(|m| (*m).into()).collect());
    let headers = token_list("cors.headers", o.headers)?.unwrap_or_default();
    let max_age = o
        .max_age
        .map(|n| n.at_most("cors.maxAge", MAX_CORS_MAX_AGE))
        .transpose()?;
    let credentials = flag(o.credentials);
    if credentials && origins.is_empty() {
        return Err(ConfigError::new(
            "cors.credentials",
            "credentials need an explicit origins list (never *)",
        ));
    }
    Ok(Cors {
        preflight: flag(o.preflight),
        origins,
        methods,
        headers,
        echo_headers: flag(o.echo_headers),
        max_age,
        credentials,
    })
}

/// Where the Worker host keeps revoked ids (`revocation.store`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RevocationStore {
    /// Workers KV (`revoked:<id>`): eventually consistent, up to ~60 s between locations.
    #[default]
    Kv,
    /// A Durable Object: a revocation takes effect at once everywhere.
    DurableObject,
}

/// The whole, validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `false` lets every request through as anonymous (local development only).
    pub enabled: bool,
    /// The `realm` of `WWW-Authenticate`.
    pub realm: String,
    pub token_sources: Vec<TokenSource>,
    pub providers: Vec<Provider>,
    /// Accept edgegate API keys (`egk_...`).
    pub api_keys: bool,
    /// Check `jti` against the revocation list.
    pub revocation: bool,
    /// Where a Worker host keeps the revocation list (`revocation.store`). Other hosts use
    /// the store they were given and ignore it.
    pub revocation_store: RevocationStore,
    pub routes: Vec<Route>,
    /// `caseInsensitivePaths`: literal route segments match regardless of case (for
    /// origins that treat `/ADMIN` as `/admin`). Default `false`.
    pub case_insensitive_paths: bool,
    pub rbac: Rbac,
    pub identity_headers: IdentityHeaders,
    pub cors: Cors,
    /// `rateLimits`: the policies routes name.
    pub rate_limits: Vec<RateLimitPolicy>,
    /// `rateLimitHeaders` (default `true`): send `RateLimit-Policy` and `RateLimit` on
    /// limited routes (`Retry-After` on a 429 is always sent).
    pub rate_limit_headers: bool,
}

/// The name routes use for API-key callers in `providers`.
pub const API_KEY_PROVIDER: &str = "apiKey";

/// The provider name of identities from sessions (routes may name it in `providers`).
pub const SESSION_PROVIDER: &str = "session";

impl Config {
    /// Parses and validates a JSON config document.
    /// The document is read by the strict JSON parser (`crate::codec`): a member name twice
    /// in one object (`{"routes": [...], "routes": [...]}`), invalid UTF-8 or nesting deeper
    /// than [`MAX_CONFIG_DEPTH`] is refused, so every JSON reader sees the same config; so is
    /// a document over [`MAX_CONFIG_BYTES`] (before it is parsed).
    pub fn from_json(json: &[u8], env: &Env) -> Result<Config, ConfigError> {
        if json.len() > MAX_CONFIG_BYTES {
            let e = crate::codec::JsonError::TooLarge {
                limit: MAX_CONFIG_BYTES,
            };
            return Err(ConfigError::new("", format!("not valid JSON: {e}")));
        }
        let value = crate::codec::parse_value(json, MAX_CONFIG_DEPTH)
            .map_err(|e| ConfigError::new("", format!("not valid JSON: {e}")))?;
        Config::from_value(&value, env)
    }

    /// Validates an already parsed document: read as the wire types
    /// ([`crate::gate::wire::RawConfig`], field paths from serde), then checked and compiled.
    pub fn from_value(value: &Value, env: &Env) -> Result<Config, ConfigError> {
        let raw: RawConfig = read("", value)?;
        let mut enabled = match raw.enabled {
            None => true,
            Some(Enabled::Bool(b)) => b,
            Some(Enabled::Str(s)) => {
                parse_bool_str(&s.resolve("enabled", env)?).ok_or_else(|| {
                    ConfigError::new("enabled", "expected boolean or \"true\"/\"false\"")
                })?
            }
        };
        if let Some(v) = env.get("AUTH_ENABLED") {
            enabled = parse_bool_str(v).ok_or_else(|| {
                ConfigError::new("env.AUTH_ENABLED", "expected \"true\" or \"false\"")
            })?;
        }
        let realm = raw.realm.map_or_else(|| "edgegate".into(), |s| s.0);
        if realm
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            return Err(ConfigError::new(
                "realm",
                "must not contain quotes, backslashes or control characters",
            ));
        }
        let token_sources = match raw.token_sources {
            None => alloc::vec![TokenSource::Header {
                name: "Authorization".into(),
                scheme: Some("Bearer".into())
            }],
            Some(List(items)) => {
                if items.is_empty() {
                    return Err(ConfigError::new("tokenSources", "must not be empty"));
                }
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| token_source(&format!("tokenSources[{i}]"), t))
                    .collect::<CResult<Vec<_>>>()?
            }
        };
        let mut providers: Vec<Provider> = Vec::new();
        for (i, v) in raw
            .providers
            .map(|l| l.0)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let p = format!("providers[{i}]");
            // Fields the entry leaves unset come from the seed's variables
            // (AUTH0_DOMAIN, JWT_SECRET, ...): `presets` holds that table.
            let (v, filled) = crate::gate::presets::with_env_defaults(&p, v, env);
            let provider = crate::gate::providers::parse_provider(
                &p,
                &v,
                env,
                crate::gate::presets::has_field,
            )
            .map_err(|e| crate::gate::presets::annotate(e, &filled))?;
            if providers.iter().any(|o| o.name == provider.name)
                || provider.name == API_KEY_PROVIDER
                || provider.name == SESSION_PROVIDER
            {
                return Err(ConfigError::new(
                    join(&p, "name"),
                    format!("duplicate provider name {:?}", provider.name),
                ));
            }
            if let Some(iss) = &provider.issuer {
                if providers
                    .iter()
                    .any(|o| o.issuer.as_deref() == Some(iss.as_str()))
                {
                    return Err(ConfigError::new(p, "two providers share one issuer"));
                }
            }
            if provider.accepts_opaque() && providers.iter().any(Provider::accepts_opaque) {
                return Err(ConfigError::new(
                    p,
                    "only one provider may accept opaque (non-JWT) tokens",
                ));
            }
            providers.push(provider);
        }
        let api_keys = raw
            .api_keys
            .is_some_and(|o| o.enabled.is_none_or(|Bool(b)| b));
        let (revocation, revocation_store) = match raw.revocation {
            None => (false, RevocationStore::Kv),
            Some(o) => {
                let store = match o.store.as_ref().map(|s| s.0.as_str()) {
                    None | Some("kv") => RevocationStore::Kv,
                    Some("durable-object") => RevocationStore::DurableObject,
                    Some(_) => {
                        return Err(ConfigError::new(
                            "revocation.store",
                            "expected \"kv\" or \"durable-object\"",
                        ))
                    }
                };
                (o.enabled.is_none_or(|Bool(b)| b), store)
            }
        };
        let rbac = match raw.rbac {
            None => Rbac::default(),
            Some(r) => Rbac::from_raw("rbac", r)?,
        };
        let case_insensitive_paths = raw.case_insensitive_paths.is_some_and(|Bool(b)| b);
        let rate_limits = match raw.rate_limits {
            None => Vec::new(),
            Some(List(items)) => crate::gate::ratelimit_config::parse_policies(items)?,
        };
        let rate_limit_headers = raw.rate_limit_headers.is_none_or(|Bool(b)| b);
        let mut routes = Vec::new();
        for (i, r) in raw
            .routes
            .map(|l| l.0)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let p = format!("routes[{i}]");
            let mut route = Route::from_raw(&p, r)?;
            if case_insensitive_paths {
                route.pattern = route.pattern.case_insensitive();
            }
            for (i, name) in route.providers.iter().enumerate() {
                let known = name == API_KEY_PROVIDER
                    || name == SESSION_PROVIDER
                    || providers.iter().any(|pr| &pr.name == name);
                if !known {
                    return Err(ConfigError::new(
                        format!("{p}.providers[{i}]"),
                        format!("unknown provider {name:?}"),
                    ));
                }
                if name == API_KEY_PROVIDER && !api_keys {
                    return Err(ConfigError::new(
                        format!("{p}.providers[{i}]"),
                        "apiKey named but apiKeys is not enabled",
                    ));
                }
            }
            for (i, name) in route.rate_limits.iter().enumerate() {
                let at = format!("{p}.rateLimits[{i}]");
                let Some(policy) = rate_limits.iter().find(|r| r.name() == name) else {
                    return Err(ConfigError::new(at, format!("unknown rate limit {name:?}")));
                };
                if route.rate_limits[..i].contains(name) {
                    return Err(ConfigError::new(
                        at,
                        format!("rate limit {name:?} named twice"),
                    ));
                }
                if (route.public || route.optional) && policy.key.needs_identity() {
                    let kind = if route.public { "public" } else { "optional" };
                    return Err(ConfigError::new(
                        at,
                        format!(
                            "rate limit {name:?} is keyed on {} but the route is {kind} (use an ip or header key)",
                            policy.key.kind()
                        ),
                    ));
                }
            }
            routes.push(route);
        }
        let identity_headers = match raw.identity_headers {
            None => IdentityHeaders::default(),
            Some(o) => identity_headers(o)?,
        };
        let cors = match raw.cors {
            None => Cors::default(),
            Some(o) => cors(o)?,
        };
        let sessions = token_sources
            .iter()
            .any(|t| matches!(t, TokenSource::Session { .. }));
        if providers.is_empty() && !api_keys && !sessions && routes.iter().any(|r| !r.public) {
            return Err(ConfigError::new(
                "providers",
                "a protected route needs at least one provider, apiKeys or a session source",
            ));
        }
        // API keys are accepted only on routes that name `apiKey` (least privilege): with no
        // token provider and no session source, a protected route that does not name it
        // would accept no credential at all. Said at start-up, naming the route.
        if providers.is_empty() && !sessions {
            if let Some(i) = routes
                .iter()
                .position(|r| !r.public && !r.providers.iter().any(|n| n == API_KEY_PROVIDER))
            {
                return Err(ConfigError::new(
                    format!("routes[{i}].providers"),
                    "this protected route accepts no credential: API keys are accepted only on routes that name \"apiKey\" in providers",
                ));
            }
        }
        Ok(Config {
            enabled,
            realm,
            token_sources,
            providers,
            api_keys,
            revocation,
            revocation_store,
            routes,
            case_insensitive_paths,
            rbac,
            identity_headers,
            cors,
            rate_limits,
            rate_limit_headers,
        })
    }

    /// The shared stores the config needs from the host, each with the field path of the
    /// first policy that names it (`rateLimits[2].store`): a host that cannot provide one
    /// refuses the config at start-up (AUTH-015 with that path). `memory` is never listed.
    pub fn required_stores(&self) -> Vec<(StoreKind, String)> {
        let mut out: Vec<(StoreKind, String)> = Vec::new();
        for p in &self.rate_limits {
            if p.store.is_shared() && !out.iter().any(|(k, _)| *k == p.store) {
                out.push((p.store, join(&p.path, "store")));
            }
        }
        out
    }
}

/// Exactly `true` or `false`: anything else (`0`, `no`, `off`, `FALSE`, `" false"`) is a
/// configuration error, never a guess that could turn authentication off.
fn parse_bool_str(s: &str) -> Option<bool> {
    match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn token_source(path: &str, t: RawTokenSource) -> CResult<TokenSource> {
    let kinds = [t.header.is_some(), t.cookie.is_some(), t.query.is_some()]
        .iter()
        .filter(|k| **k)
        .count();
    if kinds != 1 {
        return Err(ConfigError::new(
            path,
            "expected exactly one of header, cookie, query",
        ));
    }
    // `scheme` goes with `header`, `session` with `cookie`.
    if t.header.is_none() && t.scheme.is_some() {
        return Err(ConfigError::new(join(path, "scheme"), "unknown field"));
    }
    if t.cookie.is_none() && t.session.is_some() {
        return Err(ConfigError::new(join(path, "session"), "unknown field"));
    }
    if let Some(Str(name)) = t.header {
        if !is_token(&name) {
            return Err(ConfigError::new(
                join(path, "header"),
                "not a valid header name",
            ));
        }
        let scheme = t.scheme.map(|s| s.0);
        if let Some(s) = &scheme {
            if !is_token(s) {
                return Err(ConfigError::new(
                    join(path, "scheme"),
                    "not a valid auth scheme",
                ));
            }
        }
        Ok(TokenSource::Header { name, scheme })
    } else if let Some(Str(name)) = t.cookie {
        if !is_token(&name) {
            return Err(ConfigError::new(
                join(path, "cookie"),
                "not a valid cookie name",
            ));
        }
        if t.session.is_some_and(|Bool(b)| b) {
            Ok(TokenSource::Session { cookie: name })
        } else {
            Ok(TokenSource::Cookie { name })
        }
    } else {
        let name = t.query.map(|s| s.0).unwrap_or_default();
        if name.is_empty() {
            return Err(ConfigError::new(join(path, "query"), "must not be empty"));
        }
        Ok(TokenSource::Query { name })
    }
}

fn identity_headers(o: RawIdentityHeaders) -> CResult<IdentityHeaders> {
    let d = IdentityHeaders::default();
    // absent: the default name; `null`: not sent (and not stripped)
    let field = |name: &str, given: Option<Option<Str>>, default: Option<String>| match given {
        None => Ok(default),
        Some(None) => Ok(None),
        Some(Some(Str(h))) if is_token(&h) => Ok(Some(h)),
        Some(Some(_)) => Err(ConfigError::new(
            join("identityHeaders", name),
            "not a valid header name",
        )),
    };
    let h = IdentityHeaders {
        user_id: field("userId", o.user_id, d.user_id)?,
        roles: field("roles", o.roles, d.roles)?,
        permissions: field("permissions", o.permissions, d.permissions)?,
        provider: field("provider", o.provider, d.provider)?,
        org: field("org", o.org, d.org)?,
        claims: field("claims", o.claims, d.claims)?,
    };
    let names = h.names();
    for (i, n) in names.iter().enumerate() {
        if names[..i].iter().any(|m| m.eq_ignore_ascii_case(n)) {
            return Err(ConfigError::new(
                "identityHeaders",
                format!("header {n} used twice"),
            ));
        }
        if n.eq_ignore_ascii_case("authorization")
            || n.eq_ignore_ascii_case("cookie")
            || n.eq_ignore_ascii_case("host")
        {
            return Err(ConfigError::new(
                "identityHeaders",
                format!("header {n} may not carry identity"),
            ));
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> ConfigError {
        Config::from_json(json.as_bytes(), &Env::new())
            .err()
            .unwrap()
    }

    #[test]
    fn empty_config_is_deny_all_and_enabled() {
        let c = Config::from_json(b"{}", &Env::new()).unwrap();
        assert!(c.enabled);
        assert!(c.routes.is_empty());
        assert_eq!(c.token_sources.len(), 1);
    }

    #[test]
    fn unknown_fields_are_errors_with_paths() {
        assert_eq!(
            err(r#"{"nope": 1}"#),
            ConfigError::new("nope", "unknown field")
        );
        assert_eq!(
            err(r#"{"cors": {"preflight": true, "x": 1}}"#).path,
            "cors.x"
        );
        assert_eq!(
            err(r#"{"tokenSources": [{"header": "A"}, {"cookie": 3}]}"#).path,
            "tokenSources[1].cookie"
        );
    }

    #[test]
    fn env_strings_and_auth_enabled() {
        let mut env = Env::new();
        env.insert("AUTH_ENABLED".into(), "false".into());
        let c = Config::from_json(b"{}", &env).unwrap();
        assert!(!c.enabled);
        env.insert("AUTH_ENABLED".into(), "maybe".into());
        assert_eq!(
            Config::from_json(b"{}", &env).unwrap_err().path,
            "env.AUTH_ENABLED"
        );
        let e = Config::from_json(br#"{"enabled": {"env": "MISSING"}}"#, &Env::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "enabled: environment variable MISSING is not set"
        );
    }

    #[test]
    fn identity_headers_can_be_renamed_or_disabled() {
        let c = Config::from_json(
            br#"{"identityHeaders": {"userId": "X-Sub", "claims": null}}"#,
            &Env::new(),
        )
        .unwrap();
        assert_eq!(c.identity_headers.user_id.as_deref(), Some("X-Sub"));
        assert_eq!(c.identity_headers.claims, None);
        assert_eq!(
            err(r#"{"identityHeaders": {"userId": "Authorization"}}"#).path,
            "identityHeaders"
        );
        assert_eq!(
            err(r#"{"identityHeaders": {"roles": "bad header"}}"#).path,
            "identityHeaders.roles"
        );
    }
}
