//! The gate's configuration: one JSON schema for the Worker (`wrangler.toml` vars), the JS
//! package and Rust (`schema/config.schema.json`, documented in `docs/config.md`).
//!
//! Validation is hand-rolled over `serde_json::Value` so every error names the path of the
//! bad field (`routes[3].roles: expected array of strings`). Unknown fields are errors.
//! Secrets may come from the host's environment: wherever a secret or a string setting is
//! accepted, `{"env": "NAME"}` reads `NAME` from the `env` map the host passes in.
//! A bad config is a [`ConfigError`] (AUTH-015); it never fails open.

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

use crate::error::ErrorCode;
use crate::providers::Provider;
use crate::rbac::Rbac;
use crate::route::Route;

/// The host's environment variables (`process.env`, Worker `env` vars and secrets).
pub type Env = BTreeMap<String, String>;

/// A configuration that could not be accepted: the path of the bad field and why.
/// Never carries a secret value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Path of the bad field, e.g. `routes[3].roles` (empty for the document itself).
    pub path: String,
    /// What is wrong, lowercase, e.g. `expected array of strings`.
    pub message: String,
}

impl ConfigError {
    /// A new error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Always AUTH-015.
    pub const fn code(&self) -> ErrorCode {
        ErrorCode::ConfigError
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "config: {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ConfigError {}

pub(crate) type CResult<T> = Result<T, ConfigError>;

/// Joins a parent path and a member name.
pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Reads one JSON object, remembering which members were read, so that `finish` can
/// refuse the unknown ones.
pub(crate) struct Obj<'a> {
    pub(crate) path: String,
    map: &'a Map<String, Value>,
    seen: Vec<&'a str>,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(path: impl Into<String>, value: &'a Value) -> CResult<Obj<'a>> {
        let path = path.into();
        match value {
            Value::Object(map) => Ok(Obj {
                path,
                map,
                seen: Vec::new(),
            }),
            _ => Err(ConfigError::new(path, "expected object")),
        }
    }

    pub(crate) fn at(&self, name: &str) -> String {
        join(&self.path, name)
    }

    /// The member, if present (`null` counts as absent).
    pub(crate) fn get(&mut self, name: &str) -> Option<&'a Value> {
        let (key, value) = self.map.get_key_value(name)?;
        self.seen.push(key.as_str());
        if value.is_null() {
            None
        } else {
            Some(value)
        }
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|v| !v.is_null())
    }

    pub(crate) fn opt_str(&mut self, name: &str) -> CResult<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ConfigError::new(self.at(name), "expected string")),
        }
    }

    pub(crate) fn str(&mut self, name: &str) -> CResult<String> {
        self.opt_str(name)?
            .ok_or_else(|| ConfigError::new(self.at(name), "missing required field"))
    }

    pub(crate) fn opt_bool(&mut self, name: &str) -> CResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ConfigError::new(self.at(name), "expected boolean")),
        }
    }

    pub(crate) fn opt_u64(&mut self, name: &str, max: u64) -> CResult<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n <= max => Ok(Some(n)),
                Some(_) => Err(ConfigError::new(
                    self.at(name),
                    format!("must be at most {max}"),
                )),
                None => Err(ConfigError::new(
                    self.at(name),
                    "expected non-negative integer",
                )),
            },
        }
    }

    /// An array of strings (a single string is not accepted: say what you mean).
    pub(crate) fn opt_str_list(&mut self, name: &str) -> CResult<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => str_list(&self.at(name), v).map(Some),
        }
    }

    /// A string or an array of strings.
    pub(crate) fn opt_str_or_list(&mut self, name: &str) -> CResult<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(alloc::vec![s.clone()])),
            Some(v) => str_list(&self.at(name), v).map(Some).map_err(|_| {
                ConfigError::new(self.at(name), "expected string or array of strings")
            }),
        }
    }

    /// A string given inline or as `{"env": "NAME"}` read from `env`.
    pub(crate) fn opt_secret(&mut self, name: &str, env: &Env) -> CResult<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => resolve_env_string(&self.at(name), v, env).map(Some),
        }
    }

    pub(crate) fn secret(&mut self, name: &str, env: &Env) -> CResult<String> {
        self.opt_secret(name, env)?
            .ok_or_else(|| ConfigError::new(self.at(name), "missing required field"))
    }

    pub(crate) fn opt_obj(&mut self, name: &str) -> CResult<Option<Obj<'a>>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => Obj::new(self.at(name), v).map(Some),
        }
    }

    /// The members of an array, each with its path (`routes[3]`).
    pub(crate) fn opt_array(&mut self, name: &str) -> CResult<Option<Vec<(String, &'a Value)>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                let base = self.at(name);
                Ok(Some(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (format!("{base}[{i}]"), v))
                        .collect(),
                ))
            }
            Some(_) => Err(ConfigError::new(self.at(name), "expected array")),
        }
    }

    /// Every member (for maps such as `rbac.roles`); all count as read.
    pub(crate) fn entries(&mut self) -> Vec<(&'a String, &'a Value)> {
        let map = self.map;
        for k in map.keys() {
            self.seen.push(k.as_str());
        }
        map.iter().collect()
    }

    /// Refuses members that were never read.
    pub(crate) fn finish(self) -> CResult<()> {
        for key in self.map.keys() {
            if !self.seen.contains(&key.as_str()) {
                return Err(ConfigError::new(join(&self.path, key), "unknown field"));
            }
        }
        Ok(())
    }
}

pub(crate) fn str_list(path: &str, v: &Value) -> CResult<Vec<String>> {
    let err = || ConfigError::new(path, "expected array of strings");
    let items = v.as_array().ok_or_else(err)?;
    items
        .iter()
        .map(|i| i.as_str().map(ToString::to_string).ok_or_else(err))
        .collect()
}

/// `"literal"` or `{"env": "NAME"}`.
pub(crate) fn resolve_env_string(path: &str, v: &Value, env: &Env) -> CResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(_) => {
            let mut o = Obj::new(path, v)?;
            let name = o.str("env")?;
            o.finish()?;
            match env.get(&name) {
                Some(value) if !value.is_empty() => Ok(value.clone()),
                Some(_) => Err(ConfigError::new(
                    path,
                    format!("environment variable {name} is empty"),
                )),
                None => Err(ConfigError::new(
                    path,
                    format!("environment variable {name} is not set"),
                )),
            }
        }
        _ => Err(ConfigError::new(path, "expected string or {\"env\": name}")),
    }
}

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

impl Default for IdentityHeaders {
    fn default() -> Self {
        IdentityHeaders {
            user_id: Some("X-User-Id".into()),
            roles: Some("X-User-Roles".into()),
            permissions: Some("X-User-Permissions".into()),
            provider: Some("X-Auth-Provider".into()),
            org: Some("X-User-Org".into()),
            claims: Some("X-Auth-Claims".into()),
        }
    }
}

impl IdentityHeaders {
    /// Every configured name (what is stripped from incoming requests).
    pub fn names(&self) -> Vec<String> {
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
        .cloned()
        .collect()
    }
}

/// CORS preflight pass-through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    /// Let `OPTIONS` requests with `Origin` and `Access-Control-Request-Method` through.
    pub preflight: bool,
    /// Only from these origins (empty = any).
    pub origins: Vec<String>,
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
    pub routes: Vec<Route>,
    /// `caseInsensitivePaths`: literal route segments match regardless of case (for
    /// origins that treat `/ADMIN` as `/admin`). Default `false`.
    pub case_insensitive_paths: bool,
    pub rbac: Rbac,
    pub identity_headers: IdentityHeaders,
    pub cors: Cors,
}

/// The name routes use for API-key callers in `providers`.
pub const API_KEY_PROVIDER: &str = "apiKey";

impl Config {
    /// Parses and validates a JSON config document.
    pub fn from_json(json: &[u8], env: &Env) -> Result<Config, ConfigError> {
        let value: Value =
            serde_json::from_slice(json).map_err(|_| ConfigError::new("", "not valid JSON"))?;
        Config::from_value(&value, env)
    }

    /// Validates an already parsed document.
    pub fn from_value(value: &Value, env: &Env) -> Result<Config, ConfigError> {
        let mut root = Obj::new("", value)?;
        let _ = root.opt_str("$schema")?;
        let mut enabled = match root.get("enabled") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                parse_bool_str(&resolve_env_string("enabled", v, env)?).ok_or_else(|| {
                    ConfigError::new("enabled", "expected boolean or \"true\"/\"false\"")
                })?
            }
        };
        if let Some(v) = env.get("AUTH_ENABLED") {
            enabled = parse_bool_str(v).ok_or_else(|| {
                ConfigError::new("env.AUTH_ENABLED", "expected \"true\" or \"false\"")
            })?;
        }
        let realm = root.opt_str("realm")?.unwrap_or_else(|| "edgegate".into());
        if realm
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            return Err(ConfigError::new(
                "realm",
                "must not contain quotes, backslashes or control characters",
            ));
        }
        let token_sources = match root.opt_array("tokenSources")? {
            None => alloc::vec![TokenSource::Header {
                name: "Authorization".into(),
                scheme: Some("Bearer".into())
            }],
            Some(items) => {
                if items.is_empty() {
                    return Err(ConfigError::new("tokenSources", "must not be empty"));
                }
                items
                    .iter()
                    .map(|(p, v)| parse_token_source(p, v))
                    .collect::<CResult<Vec<_>>>()?
            }
        };
        let mut providers: Vec<Provider> = Vec::new();
        if let Some(items) = root.opt_array("providers")? {
            for (p, v) in items {
                let provider = crate::providers::parse_provider(&p, v, env)?;
                if providers.iter().any(|o| o.name == provider.name)
                    || provider.name == API_KEY_PROVIDER
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
        }
        let (api_keys, revocation) = {
            let api_keys = match root.opt_obj("apiKeys")? {
                None => false,
                Some(mut o) => {
                    let e = o.opt_bool("enabled")?.unwrap_or(true);
                    o.finish()?;
                    e
                }
            };
            let revocation = match root.opt_obj("revocation")? {
                None => false,
                Some(mut o) => {
                    let e = o.opt_bool("enabled")?.unwrap_or(true);
                    o.finish()?;
                    e
                }
            };
            (api_keys, revocation)
        };
        let rbac = match root.get("rbac") {
            None => Rbac::default(),
            Some(v) => Rbac::from_value("rbac", v)?,
        };
        let case_insensitive_paths = root.opt_bool("caseInsensitivePaths")?.unwrap_or(false);
        let mut routes = Vec::new();
        if let Some(items) = root.opt_array("routes")? {
            for (p, v) in items {
                let mut route = Route::from_value(&p, v)?;
                if case_insensitive_paths {
                    route.pattern = route.pattern.case_insensitive();
                }
                for (i, name) in route.providers.iter().enumerate() {
                    let known =
                        name == API_KEY_PROVIDER || providers.iter().any(|pr| &pr.name == name);
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
                routes.push(route);
            }
        }
        let identity_headers = match root.opt_obj("identityHeaders")? {
            None => IdentityHeaders::default(),
            Some(o) => parse_identity_headers(o)?,
        };
        let cors = match root.opt_obj("cors")? {
            None => Cors::default(),
            Some(mut o) => {
                let preflight = o.opt_bool("preflight")?.unwrap_or(false);
                let origins = o.opt_str_list("origins")?.unwrap_or_default();
                o.finish()?;
                Cors { preflight, origins }
            }
        };
        root.finish()?;
        if providers.is_empty() && !api_keys && routes.iter().any(|r| !r.public) {
            return Err(ConfigError::new(
                "providers",
                "a protected route needs at least one provider or apiKeys",
            ));
        }
        Ok(Config {
            enabled,
            realm,
            token_sources,
            providers,
            api_keys,
            revocation,
            routes,
            case_insensitive_paths,
            rbac,
            identity_headers,
            cors,
        })
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

/// An RFC 9110 token (header names, methods, cookie names).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn parse_token_source(path: &str, v: &Value) -> CResult<TokenSource> {
    let mut o = Obj::new(path, v)?;
    let kinds = ["header", "cookie", "query"]
        .iter()
        .filter(|k| o.has(k))
        .count();
    if kinds != 1 {
        return Err(ConfigError::new(
            path,
            "expected exactly one of header, cookie, query",
        ));
    }
    let source = if let Some(name) = o.opt_str("header")? {
        if !is_token(&name) {
            return Err(ConfigError::new(o.at("header"), "not a valid header name"));
        }
        let scheme = o.opt_str("scheme")?;
        if let Some(s) = &scheme {
            if !is_token(s) {
                return Err(ConfigError::new(o.at("scheme"), "not a valid auth scheme"));
            }
        }
        TokenSource::Header { name, scheme }
    } else if let Some(name) = o.opt_str("cookie")? {
        if !is_token(&name) {
            return Err(ConfigError::new(o.at("cookie"), "not a valid cookie name"));
        }
        TokenSource::Cookie { name }
    } else {
        let name = o.str("query")?;
        if name.is_empty() {
            return Err(ConfigError::new(o.at("query"), "must not be empty"));
        }
        TokenSource::Query { name }
    };
    o.finish()?;
    Ok(source)
}

fn parse_identity_headers(mut o: Obj<'_>) -> CResult<IdentityHeaders> {
    let d = IdentityHeaders::default();
    let mut field = |name: &str, default: Option<String>| -> CResult<Option<String>> {
        if !o.map.contains_key(name) {
            return Ok(default);
        }
        match o.opt_str(name)? {
            None => Ok(None), // explicit null: not sent (and not stripped)
            Some(h) if is_token(&h) => Ok(Some(h)),
            Some(_) => Err(ConfigError::new(o.at(name), "not a valid header name")),
        }
    };
    let h = IdentityHeaders {
        user_id: field("userId", d.user_id)?,
        roles: field("roles", d.roles)?,
        permissions: field("permissions", d.permissions)?,
        provider: field("provider", d.provider)?,
        org: field("org", d.org)?,
        claims: field("claims", d.claims)?,
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
    o.finish()?;
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
        let v: Value = serde_json::from_str(r#"{"env": "MISSING"}"#).unwrap();
        let e = resolve_env_string("p.secret", &v, &Env::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.secret: environment variable MISSING is not set"
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
