//! Identity provider presets: each derives the issuer, where its keys are, the audience
//! checks and where roles, permissions and the organization live in the claims.
//!
//! Every provider is bound to exactly one issuer; the gate routes a token by its
//! (unverified) `iss` to exactly one provider and verifies it only with that provider's
//! keys. See `docs/config.md` for the fields of each preset.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use crate::gate::cfg::{join, CResult, ConfigError, Env};
pub use crate::gate::claim_path::strings_at;
use crate::gate::claim_path::ClaimPath;
use crate::gate::route::ClaimCondition;
use crate::gate::wire::{read, RawProvider, Secret, Str, StrList, StrOrList};
use crate::jose::alg::Algorithm;
use crate::jose::jwk::{Jwk, JwkSet};
use crate::jose::key::KeyOrigin;
use crate::jose::verify::VerifyOptions;
use crate::limits::Limits;

/// The preset a provider was built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    Auth0,
    Clerk,
    Firebase,
    Supabase,
    Cognito,
    Keycloak,
    WorkOs,
    BetterAuth,
    OAuth2,
    Jwt,
    Custom,
}

impl ProviderKind {
    /// Parses a `type` (with the aliases of the seed table).
    pub fn parse(s: &str) -> Option<ProviderKind> {
        Some(match s {
            "auth0" | "auth0-jwt" | "auth0-oauth" => ProviderKind::Auth0,
            "clerk" | "clerk-jwt" => ProviderKind::Clerk,
            "firebase" | "firebase-auth" => ProviderKind::Firebase,
            "supabase" | "supabase-auth" => ProviderKind::Supabase,
            "cognito" | "aws-cognito" | "amazon-cognito" => ProviderKind::Cognito,
            "keycloak" | "keycloak-oidc" => ProviderKind::Keycloak,
            "workos" | "workos-sso" | "work-os" => ProviderKind::WorkOs,
            "better-auth" | "betterauth" | "better_auth" => ProviderKind::BetterAuth,
            "oauth2" | "oauth" | "oidc" | "openid-connect" => ProviderKind::OAuth2,
            "jwt" | "jwt-auth" | "jwt-token" => ProviderKind::Jwt,
            "custom" | "custom-auth" => ProviderKind::Custom,
            _ => return None,
        })
    }

    /// The canonical `type` name.
    pub const fn name(self) -> &'static str {
        match self {
            ProviderKind::Auth0 => "auth0",
            ProviderKind::Clerk => "clerk",
            ProviderKind::Firebase => "firebase",
            ProviderKind::Supabase => "supabase",
            ProviderKind::Cognito => "cognito",
            ProviderKind::Keycloak => "keycloak",
            ProviderKind::WorkOs => "workos",
            ProviderKind::BetterAuth => "better-auth",
            ProviderKind::OAuth2 => "oauth2",
            ProviderKind::Jwt => "jwt",
            ProviderKind::Custom => "custom",
        }
    }
}

/// Where a provider's verification keys come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// An inline JWK Set from the config (selected by `kid`/`alg`).
    Local(JwkSet),
    /// One key from the config (a secret or a PEM public key): like jose's `KeyLike`, the
    /// token's `kid` is not consulted.
    Key(Jwk),
    /// A JWKS URL the host fetches (`Io::Jwks`).
    Remote { url: String },
    /// OpenID discovery: the host fetches this document (`Io::Discovery`), whose `issuer`
    /// must equal the provider's and whose `jwks_uri` is then fetched.
    Discovery { url: String },
    /// The host verifies the token itself (a custom provider: `Io::Custom`).
    Host,
}

/// RFC 7662 token introspection for opaque tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Introspection {
    pub url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Seconds an active result is cached (bounded by the token's `exp`).
    pub cache_ttl: u64,
}

impl Introspection {
    /// The `Authorization` header of the introspection call: HTTP Basic with the client id
    /// and secret each `application/x-www-form-urlencoded` first (RFC 6749 section 2.3.1),
    /// then standard base64. Carries the secret: never log it.
    pub fn authorization(&self) -> String {
        let mut pair = crate::url::form_encode(&self.client_id);
        pair.push(':');
        pair.push_str(&crate::url::form_encode(&self.client_secret));
        let mut v = String::from("Basic ");
        v.push_str(&crate::codec::b64::encode_std(pair.as_bytes()));
        v
    }

    /// The form-encoded request body for `token` (RFC 7662 section 2.1).
    pub fn body(token: &str) -> String {
        let mut b = String::from("token=");
        b.push_str(&crate::url::form_encode(token));
        b
    }
}

impl core::fmt::Debug for Introspection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Introspection")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

/// A provider-specific check on verified claims (failure: AUTH-001).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// If `azp` is present it must be one of these (Clerk `allowedOrigins`).
    AzpIn(Vec<String>),
    /// `azp` must be present and equal (Keycloak / Auth0 client).
    AzpEquals(String),
    /// A string claim must equal (Cognito `token_use`, `client_id`).
    ClaimEquals { claim: String, value: String },
    /// `auth_time` must be a number not in the future (Firebase).
    AuthTimePast,
}

impl Check {
    fn holds(&self, claims: &Map<String, Value>, now: i64, tolerance: u64) -> bool {
        let s = |name: &str| claims.get(name).and_then(Value::as_str);
        match self {
            Check::AzpIn(list) => match claims.get("azp") {
                None => true,
                Some(Value::String(azp)) => list.iter().any(|o| o == azp),
                Some(_) => false,
            },
            Check::AzpEquals(v) => s("azp") == Some(v.as_str()),
            Check::ClaimEquals { claim, value } => s(claim) == Some(value.as_str()),
            Check::AuthTimePast => match claims.get("auth_time").and_then(Value::as_f64) {
                Some(t) => t <= (now as f64) + (tolerance as f64),
                None => false,
            },
        }
    }
}

/// One configured, validated provider.
#[derive(Clone, Debug)]
pub struct Provider {
    /// Unique name (routes refer to it; forwarded as the identity's provider).
    pub name: String,
    pub kind: ProviderKind,
    /// The one issuer whose tokens this provider verifies (`None`: a custom provider that
    /// only receives opaque tokens).
    pub issuer: Option<String>,
    pub keys: KeySource,
    /// Options passed to verification (issuer, audience, algorithms, leeway, ...).
    pub options: VerifyOptions,
    pub roles: Vec<ClaimPath>,
    pub permissions: Vec<ClaimPath>,
    pub org: Option<ClaimPath>,
    pub checks: Vec<Check>,
    /// Provider-level claim rules (failure: AUTH-013).
    pub conditions: Vec<ClaimCondition>,
    pub introspection: Option<Introspection>,
}

/// Why verified claims were not accepted by the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderRejection {
    /// A preset check failed or `sub` is missing (AUTH-001).
    InvalidClaims,
    /// A provider claim rule failed (AUTH-013).
    RuleFailed,
}

/// The raw identity a provider maps from claims (before RBAC expansion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub sub: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub org: Option<String>,
}

impl Provider {
    /// Whether non-JWT tokens go to this provider (introspection, or a custom provider
    /// without an issuer).
    pub fn accepts_opaque(&self) -> bool {
        self.introspection.is_some() || (self.kind == ProviderKind::Custom && self.issuer.is_none())
    }

    /// Runs the preset checks and maps the claims.
    pub fn map_claims(
        &self,
        claims: &Map<String, Value>,
        now: i64,
    ) -> Result<Mapped, ProviderRejection> {
        if !self
            .checks
            .iter()
            .all(|c| c.holds(claims, now, self.options.clock_tolerance))
        {
            return Err(ProviderRejection::InvalidClaims);
        }
        let sub = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(ProviderRejection::InvalidClaims),
        };
        if !self.conditions.iter().all(|c| c.holds(claims, &[])) {
            return Err(ProviderRejection::RuleFailed);
        }
        let mut roles: Vec<String> = self
            .roles
            .iter()
            .flat_map(|p| strings_at(claims, p))
            .collect();
        roles.sort();
        roles.dedup();
        let mut permissions: Vec<String> = self
            .permissions
            .iter()
            .flat_map(|p| strings_at(claims, p))
            .collect();
        permissions.sort();
        permissions.dedup();
        let org = self.org.as_ref().and_then(|p| match p.lookup(claims) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        });
        Ok(Mapped {
            sub,
            roles,
            permissions,
            org,
        })
    }
}

/// Accepts what [`crate::url::fetchable`] accepts: `https://...`; `http://` only for the
/// hosts `localhost`, `127.0.0.1`, `[::1]` (development); no userinfo.
fn check_url(path: &str, url: &str) -> CResult<()> {
    crate::url::fetchable(url)
        .map(|_| ())
        .map_err(|e| ConfigError::new(path, e.to_string()))
}

fn trim_slash(s: &str) -> &str {
    s.trim_end_matches('/')
}

fn local_set(path: &str, key: Jwk) -> CResult<JwkSet> {
    JwkSet::from_keys(vec![key], KeyOrigin::Local)
        .map_err(|e| ConfigError::new(path, format!("unusable key ({e:?})")))
}

fn hmac_key(path: &str, secret: &str) -> CResult<Jwk> {
    if secret.len() < 32 {
        return Err(ConfigError::new(
            path,
            "an HMAC secret must be at least 32 bytes (RFC 7518 3.2)",
        ));
    }
    let key = Jwk::from_hmac_secret(secret.as_bytes())
        .map_err(|_| ConfigError::new(path, "unusable secret"))?;
    local_set(path, key.clone())?;
    Ok(key)
}

fn pem_key(path: &str, pem: &str) -> CResult<Jwk> {
    let key =
        Jwk::from_pem(pem).map_err(|_| ConfigError::new(path, "not a usable PEM public key"))?;
    local_set(path, key.clone())?;
    Ok(key)
}

/// One provider entry being read: its wire form, its path and the host's environment.
struct Entry<'a> {
    r: &'a RawProvider,
    path: &'a str,
    env: &'a Env,
}

impl Entry<'_> {
    fn at(&self, name: &str) -> String {
        join(self.path, name)
    }

    /// An optional secret or string setting (`{"env": NAME}` read from the environment).
    fn opt(&self, field: &Option<Secret>, name: &str) -> CResult<Option<String>> {
        field
            .as_ref()
            .map(|s| s.resolve(&self.at(name), self.env))
            .transpose()
    }

    /// A required one.
    fn req(&self, field: &Option<Secret>, name: &str) -> CResult<String> {
        self.opt(field, name)?
            .ok_or_else(|| ConfigError::new(self.at(name), "missing required field"))
    }
}

/// The key options shared by `jwt` and `custom`: exactly one of `secret`, `publicKey`,
/// `jwks` (inline), `jwksUrl` (already read by the caller).
fn jwt_keys(e: &Entry<'_>, jwks_url: Option<String>) -> CResult<Option<KeySource>> {
    let r = e.r;
    let n = [r.secret.is_some(), r.public_key.is_some(), r.jwks.is_some()]
        .iter()
        .filter(|k| **k)
        .count()
        + usize::from(jwks_url.is_some());
    if n > 1 {
        return Err(ConfigError::new(
            e.path,
            "give only one of secret, publicKey, jwks, jwksUrl",
        ));
    }
    if let Some(secret) = e.opt(&r.secret, "secret")? {
        return hmac_key(&e.at("secret"), &secret).map(|k| Some(KeySource::Key(k)));
    }
    if let Some(pem) = e.opt(&r.public_key, "publicKey")? {
        return pem_key(&e.at("publicKey"), &pem).map(|k| Some(KeySource::Key(k)));
    }
    if let Some(v) = &r.jwks {
        let bytes = serde_json::to_vec(v)
            .map_err(|_| ConfigError::new(e.at("jwks"), "expected a JWK Set"))?;
        let set = JwkSet::from_json(&bytes, KeyOrigin::Local, &Limits::DEFAULT)
            .map_err(|x| ConfigError::new(e.at("jwks"), format!("not a usable JWK Set ({x:?})")))?;
        return Ok(Some(KeySource::Local(set)));
    }
    Ok(jwks_url.map(|url| KeySource::Remote { url }))
}

fn claim_paths(v: &Option<StrOrList>) -> Option<Vec<ClaimPath>> {
    v.as_ref()
        .map(|v| v.0.iter().map(|s| ClaimPath::parse(s)).collect())
}

/// Parses one `providers[i]` entry: its `type` first, then the wire form ([`RawProvider`]):
/// a preset field that `has_field` (the preset table, `crate::gate::presets::has_field`)
/// does not give the preset is an unknown field; then the checks.
pub(crate) fn parse_provider(
    path: &str,
    v: &Value,
    env: &Env,
    has_field: fn(ProviderKind, &str) -> bool,
) -> CResult<Provider> {
    if let Some(Value::String(t)) = v.get("type") {
        if ProviderKind::parse(t).is_none() {
            return Err(ConfigError::new(
                join(path, "type"),
                format!("unknown provider type {t:?}"),
            ));
        }
    }
    let mut r: RawProvider = read(path, v)?;
    let raw_claims = r.claims.take().map(|l| l.0).unwrap_or_default();
    let type_name = &r.kind.0;
    let kind = ProviderKind::parse(type_name).ok_or_else(|| {
        ConfigError::new(
            join(path, "type"),
            format!("unknown provider type {type_name:?}"),
        )
    })?;
    // The preset fields this preset does not have are unknown fields.
    for field in r.preset_fields() {
        if !has_field(kind, field) {
            return Err(ConfigError::new(join(path, field), "unknown field"));
        }
    }
    let e = Entry { r: &r, path, env };
    let name = r
        .name
        .as_ref()
        .map_or_else(|| kind.name().into(), |s| s.0.clone());
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return Err(ConfigError::new(
            e.at("name"),
            "must be non-empty, without spaces or commas",
        ));
    }
    // Common fields.
    let issuer_override = e.opt(&r.issuer, "issuer")?;
    let audience_override = r.audience.as_ref().map(|a| a.0.clone());
    let jwks_url_override = e.opt(&r.jwks_url, "jwksUrl")?;
    if let Some(u) = &jwks_url_override {
        check_url(&e.at("jwksUrl"), u)?;
    }
    let mut algorithms = Vec::new();
    if let Some(StrList(names)) = &r.algorithms {
        for (i, n) in names.iter().enumerate() {
            let a = Algorithm::from_name(n).ok_or_else(|| {
                ConfigError::new(
                    format!("{}[{i}]", e.at("algorithms")),
                    format!("unknown algorithm {n:?}"),
                )
            })?;
            algorithms.push(a);
        }
        if algorithms.is_empty() {
            return Err(ConfigError::new(e.at("algorithms"), "must not be empty"));
        }
    }
    let clock_tolerance = r
        .clock_tolerance
        .map(|n| n.at_most(&e.at("clockTolerance"), 300))
        .transpose()?
        .unwrap_or(0);
    let roles_override = claim_paths(&r.roles_claim);
    let permissions_override = claim_paths(&r.permissions_claim);
    let org_override = r.org_claim.as_ref().map(|s| ClaimPath::parse(&s.0));
    // `exp` is always required: a token that never expires cannot be revoked for a bounded
    // time, and every preset's issuer sets it.
    let mut required_claims = r.required_claims.clone().map(|l| l.0).unwrap_or_default();
    if !required_claims.iter().any(|c| c == "exp") {
        required_claims.push("exp".into());
    }
    let mut conditions = Vec::new();
    for (i, raw) in raw_claims.into_iter().enumerate() {
        let cp = format!("{}[{i}]", e.at("claims"));
        let c = ClaimCondition::from_raw(&cp, raw)?;
        if matches!(c.test, crate::gate::route::ClaimTest::EqualsParam(_)) {
            return Err(ConfigError::new(
                format!("{cp}.equalsParam"),
                "only routes have path parameters",
            ));
        }
        conditions.push(c);
    }

    // Preset-specific fields and defaults: one function per preset.
    let given = Given {
        audience: audience_override.is_some(),
        jwks_url: jwks_url_override.clone(),
    };
    let Preset {
        mut issuer,
        mut audience,
        mut keys,
        default_algs,
        mut roles,
        mut permissions,
        mut org,
        checks,
        introspection,
    } = match kind {
        ProviderKind::Auth0 => auth0(&e, &given)?,
        ProviderKind::Clerk => clerk(&e, &given)?,
        ProviderKind::Firebase => firebase(&e)?,
        ProviderKind::Supabase => supabase(&e, &given)?,
        ProviderKind::Cognito => cognito(&e)?,
        ProviderKind::Keycloak => keycloak(&e, &given)?,
        ProviderKind::WorkOs => workos(&e)?,
        ProviderKind::BetterAuth => better_auth(&e)?,
        ProviderKind::OAuth2 => oauth2(&e)?,
        ProviderKind::Jwt | ProviderKind::Custom => jwt(&e, &given)?,
    };
    if let Some(i) = issuer_override {
        issuer = Some(i);
    }
    if let Some(a) = audience_override {
        audience = a;
    }
    if let Some(url) = jwks_url_override {
        if !matches!(kind, ProviderKind::Jwt | ProviderKind::Custom) {
            keys = remote(url);
        }
    }
    if let Some(r) = roles_override {
        roles = r;
    }
    if let Some(p) = permissions_override {
        permissions = p;
    }
    if org_override.is_some() {
        org = org_override;
    }
    let keys = resolve_keys(&e, kind, &issuer, keys)?;
    if algorithms.is_empty() {
        algorithms = default_algs;
    }
    let local = matches!(keys, KeySource::Local(_) | KeySource::Key(_));
    if !local && algorithms.iter().any(|a| a.is_symmetric()) {
        return Err(ConfigError::new(
            join(path, "algorithms"),
            "HMAC algorithms need a local secret, never fetched keys",
        ));
    }
    let options = VerifyOptions {
        algorithms,
        issuer: issuer.iter().cloned().collect(),
        audience,
        clock_tolerance,
        required_claims,
        ..VerifyOptions::default()
    };
    Ok(Provider {
        name,
        kind,
        issuer,
        keys,
        options,
        roles,
        permissions,
        org,
        checks,
        conditions,
        introspection,
    })
}

/// The issuer rule and the keys that still depend on the issuer (Clerk's JWKS, OAuth2
/// discovery, a custom provider's host keys); every fetched URL passes the URL rule.
fn resolve_keys(
    o: &Entry<'_>,
    kind: ProviderKind,
    issuer: &Option<String>,
    mut keys: Option<KeySource>,
) -> CResult<KeySource> {
    // Issuer and keys that still depend on the issuer.
    match (issuer, kind) {
        (Some(iss), _) if iss.is_empty() => {
            return Err(ConfigError::new(o.at("issuer"), "must not be empty"))
        }
        (None, ProviderKind::Custom) if keys.is_some() => {
            return Err(ConfigError::new(
                o.at("issuer"),
                "missing required field (a custom provider with keys needs its issuer)",
            ));
        }
        (None, ProviderKind::Custom) => {}
        (None, _) => return Err(ConfigError::new(o.at("issuer"), "missing required field")),
        _ => {}
    }
    if keys.is_none() {
        keys = match (kind, issuer) {
            (ProviderKind::Clerk, Some(iss)) => {
                remote(format!("{}/.well-known/jwks.json", trim_slash(iss)))
            }
            (ProviderKind::OAuth2, Some(iss)) => {
                check_url(&o.at("issuer"), iss)?;
                Some(KeySource::Discovery {
                    url: format!("{}/.well-known/openid-configuration", trim_slash(iss)),
                })
            }
            (ProviderKind::Custom, _) => Some(KeySource::Host),
            _ => {
                return Err(ConfigError::new(
                    o.path,
                    "no keys: give one of secret, publicKey, jwks, jwksUrl",
                ));
            }
        };
    }
    let keys = keys.unwrap_or(KeySource::Host);
    // URLs built from preset fields (`domain`, `serverUrl`, ...) pass the same rule.
    if let KeySource::Remote { url } | KeySource::Discovery { url } = &keys {
        check_url(o.path, url)?;
    }
    Ok(keys)
}

/// What the common fields already say, for the presets that depend on it.
struct Given {
    /// `audience` was given.
    audience: bool,
    /// `jwksUrl`, if given.
    jwks_url: Option<String>,
}

/// A preset's fields and defaults, before the common overrides.
struct Preset {
    issuer: Option<String>,
    audience: Vec<String>,
    keys: Option<KeySource>,
    default_algs: Vec<Algorithm>,
    roles: Vec<ClaimPath>,
    permissions: Vec<ClaimPath>,
    org: Option<ClaimPath>,
    checks: Vec<Check>,
    introspection: Option<Introspection>,
}

impl Preset {
    /// The defaults every preset starts from: RS256, `roles` and `permissions` claims.
    fn base() -> Preset {
        Preset {
            issuer: None,
            audience: Vec::new(),
            keys: None,
            default_algs: vec![Algorithm::Rs256],
            roles: vec![ClaimPath::parse("roles")],
            permissions: vec![ClaimPath::parse("permissions")],
            org: None,
            checks: Vec::new(),
            introspection: None,
        }
    }
}

fn remote(url: String) -> Option<KeySource> {
    Some(KeySource::Remote { url })
}

fn auth0(o: &Entry<'_>, given: &Given) -> CResult<Preset> {
    let domain = o.req(&o.r.domain, "domain")?;
    let domain = trim_slash(&domain).to_string();
    if domain.is_empty() || domain.contains("://") || domain.contains('/') {
        return Err(ConfigError::new(
            o.at("domain"),
            "expected a host name such as tenant.auth0.com",
        ));
    }
    let mut p = Preset::base();
    p.issuer = Some(format!("https://{domain}/"));
    p.keys = remote(format!("https://{domain}/.well-known/jwks.json"));
    if !given.audience {
        return Err(ConfigError::new(
            o.at("audience"),
            "missing required field (the API identifier)",
        ));
    }
    if let Some(client) = o.opt(&o.r.client_id, "clientId")? {
        p.checks.push(Check::AzpEquals(client));
    }
    if let Some(Str(ns)) = &o.r.claims_namespace {
        p.roles = vec![ClaimPath::Exact(vec![format!("{ns}roles")])];
    }
    p.org = Some(ClaimPath::parse("org_id"));
    Ok(p)
}

fn clerk(o: &Entry<'_>, given: &Given) -> CResult<Preset> {
    let mut p = Preset::base();
    if let Some(key) = o.opt(&o.r.jwt_key, "jwtKey")? {
        if given.jwks_url.is_some() {
            return Err(ConfigError::new(
                o.at("jwtKey"),
                "give only one of jwtKey, jwksUrl",
            ));
        }
        p.keys = Some(KeySource::Key(pem_key(&o.at("jwtKey"), &key)?));
    }
    if let Some(StrList(origins)) = &o.r.allowed_origins {
        p.checks.push(Check::AzpIn(origins.clone()));
    }
    p.roles = vec![ClaimPath::parse("org_role")];
    p.permissions = vec![ClaimPath::parse("org_permissions")];
    p.org = Some(ClaimPath::parse("org_id"));
    Ok(p)
}

fn firebase(o: &Entry<'_>) -> CResult<Preset> {
    let project = o.req(&o.r.project_id, "projectId")?;
    if project.is_empty() || project.contains('/') {
        return Err(ConfigError::new(
            o.at("projectId"),
            "expected a Firebase project id",
        ));
    }
    let mut p = Preset::base();
    p.issuer = Some(format!("https://securetoken.google.com/{project}"));
    p.audience = vec![project];
    p.keys = remote(
        "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
            .into(),
    );
    p.checks.push(Check::AuthTimePast);
    Ok(p)
}

fn supabase(o: &Entry<'_>, given: &Given) -> CResult<Preset> {
    let url = o.req(&o.r.url, "url")?;
    check_url(&o.at("url"), &url)?;
    let url = trim_slash(&url);
    let mut p = Preset::base();
    p.issuer = Some(format!("{url}/auth/v1"));
    p.audience = vec!["authenticated".into()];
    if let Some(secret) = o.opt(&o.r.jwt_secret, "jwtSecret")? {
        if given.jwks_url.is_some() {
            return Err(ConfigError::new(
                o.at("jwtSecret"),
                "give only one of jwtSecret, jwksUrl",
            ));
        }
        p.keys = Some(KeySource::Key(hmac_key(&o.at("jwtSecret"), &secret)?));
        p.default_algs = vec![Algorithm::Hs256];
    } else {
        p.keys = remote(format!("{url}/auth/v1/.well-known/jwks.json"));
        p.default_algs = vec![Algorithm::Rs256, Algorithm::Es256];
    }
    p.roles = vec![
        ClaimPath::parse("role"),
        ClaimPath::exact(&["app_metadata", "roles"]),
    ];
    p.permissions = vec![ClaimPath::exact(&["app_metadata", "permissions"])];
    Ok(p)
}

fn cognito(o: &Entry<'_>) -> CResult<Preset> {
    let pool = o.req(&o.r.user_pool_id, "userPoolId")?;
    let region = o.req(&o.r.region, "region")?;
    let client = o.req(&o.r.client_id, "clientId")?;
    let pool_region = pool.split('_').next().unwrap_or("");
    if !pool.contains('_') || pool_region != region {
        return Err(ConfigError::new(
            o.at("userPoolId"),
            "expected <region>_<id> in the configured region",
        ));
    }
    let mut p = Preset::base();
    let iss = format!("https://cognito-idp.{region}.amazonaws.com/{pool}");
    p.keys = remote(format!("{iss}/.well-known/jwks.json"));
    p.issuer = Some(iss);
    match o.r.token_use.as_ref().map(|s| s.0.as_str()) {
        None | Some("access") => {
            p.checks.push(Check::ClaimEquals {
                claim: "token_use".into(),
                value: "access".into(),
            });
            p.checks.push(Check::ClaimEquals {
                claim: "client_id".into(),
                value: client,
            });
        }
        Some("id") => {
            p.checks.push(Check::ClaimEquals {
                claim: "token_use".into(),
                value: "id".into(),
            });
            p.audience = vec![client];
        }
        Some(_) => {
            return Err(ConfigError::new(
                o.at("tokenUse"),
                "expected \"access\" or \"id\"",
            ))
        }
    }
    p.roles = vec![ClaimPath::parse("cognito:groups")];
    p.permissions = vec![ClaimPath::parse("scope")];
    Ok(p)
}

fn keycloak(o: &Entry<'_>, given: &Given) -> CResult<Preset> {
    let server = o.req(&o.r.server_url, "serverUrl")?;
    check_url(&o.at("serverUrl"), &server)?;
    let realm = o.req(&o.r.realm, "realm")?;
    if realm.is_empty() || realm.contains('/') {
        return Err(ConfigError::new(o.at("realm"), "expected a realm name"));
    }
    let client = o.req(&o.r.client_id, "clientId")?;
    let mut p = Preset::base();
    let iss = format!("{}/realms/{realm}", trim_slash(&server));
    p.keys = remote(format!("{iss}/protocol/openid-connect/certs"));
    p.issuer = Some(iss);
    if !given.audience {
        p.checks.push(Check::AzpEquals(client.clone()));
    }
    p.roles = vec![
        ClaimPath::exact(&["realm_access", "roles"]),
        ClaimPath::Exact(vec!["resource_access".into(), client, "roles".into()]),
    ];
    p.permissions = vec![ClaimPath::parse("scope")];
    Ok(p)
}

fn workos(o: &Entry<'_>) -> CResult<Preset> {
    let client = o.req(&o.r.client_id, "clientId")?;
    if client.is_empty() || client.contains('/') {
        return Err(ConfigError::new(
            o.at("clientId"),
            "expected a WorkOS client id",
        ));
    }
    let mut p = Preset::base();
    p.issuer = Some("https://api.workos.com".into());
    p.keys = remote(format!("https://api.workos.com/sso/jwks/{client}"));
    p.roles = vec![ClaimPath::parse("role"), ClaimPath::parse("roles")];
    p.org = Some(ClaimPath::parse("org_id"));
    Ok(p)
}

fn better_auth(o: &Entry<'_>) -> CResult<Preset> {
    let base = o.req(&o.r.base_url, "baseUrl")?;
    check_url(&o.at("baseUrl"), &base)?;
    let base = trim_slash(&base).to_string();
    let mut p = Preset::base();
    p.keys = remote(format!("{base}/api/auth/jwks"));
    p.audience = vec![base.clone()];
    p.issuer = Some(base);
    p.default_algs = vec![
        Algorithm::EdDsa,
        Algorithm::Es256,
        Algorithm::Rs256,
        Algorithm::Ps256,
    ];
    p.roles = vec![ClaimPath::parse("role"), ClaimPath::parse("roles")];
    Ok(p)
}

fn oauth2(o: &Entry<'_>) -> CResult<Preset> {
    let mut p = Preset::base();
    p.default_algs = Vec::new(); // every asymmetric algorithm the fetched key allows
    p.permissions = vec![ClaimPath::parse("permissions"), ClaimPath::parse("scope")];
    if let Some(i) = &o.r.introspection {
        let at = |name: &str| join(&o.at("introspection"), name);
        let url = i.url.resolve(&at("url"), o.env)?;
        check_url(&at("url"), &url)?;
        let client_id = i.client_id.resolve(&at("clientId"), o.env)?;
        let client_secret = i.client_secret.resolve(&at("clientSecret"), o.env)?;
        let cache_ttl = i
            .cache_ttl
            .map(|n| n.at_most(&at("cacheTtl"), 3600))
            .transpose()?
            .unwrap_or(60);
        p.introspection = Some(Introspection {
            url,
            client_id,
            client_secret,
            cache_ttl,
        });
    }
    Ok(p)
}

/// `jwt` and `custom`: keys given directly (`secret`, `publicKey`, `jwks`, `jwksUrl`).
fn jwt(o: &Entry<'_>, given: &Given) -> CResult<Preset> {
    let mut p = Preset::base();
    p.keys = jwt_keys(o, given.jwks_url.clone())?;
    let hmac = |k: &Jwk| matches!(k.params, crate::jose::key::KeyParams::Oct { .. });
    let symmetric = match &p.keys {
        Some(KeySource::Key(k)) => hmac(k),
        Some(KeySource::Local(set)) => set.keys().iter().any(hmac),
        _ => false,
    };
    p.default_algs = if symmetric {
        vec![Algorithm::Hs256]
    } else {
        Vec::new() // every algorithm the key allows
    };
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str, env: &Env) -> CResult<Provider> {
        parse_provider(
            "providers[0]",
            &serde_json::from_str(json).unwrap(),
            env,
            crate::gate::presets::has_field,
        )
    }
    fn ok(json: &str) -> Provider {
        parse(json, &Env::new()).unwrap()
    }

    #[test]
    fn presets_derive_issuer_and_keys() {
        let p = ok(
            r#"{"type": "auth0", "domain": "acme.eu.auth0.com", "audience": "https://api.acme"}"#,
        );
        assert_eq!(p.issuer.as_deref(), Some("https://acme.eu.auth0.com/"));
        assert_eq!(
            p.keys,
            KeySource::Remote {
                url: "https://acme.eu.auth0.com/.well-known/jwks.json".into()
            }
        );
        assert_eq!(p.options.audience, vec![String::from("https://api.acme")]);
        assert_eq!(p.options.algorithms, vec![Algorithm::Rs256]);

        let p = ok(r#"{"type": "firebase", "projectId": "demo-proj"}"#);
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://securetoken.google.com/demo-proj")
        );
        assert_eq!(p.options.audience, vec![String::from("demo-proj")]);

        let p = ok(
            r#"{"type": "aws-cognito", "userPoolId": "eu-west-1_AbC", "region": "eu-west-1", "clientId": "c1"}"#,
        );
        assert_eq!(p.kind, ProviderKind::Cognito);
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC")
        );
        assert!(p.checks.contains(&Check::ClaimEquals {
            claim: "client_id".into(),
            value: "c1".into()
        }));

        let p = ok(
            r#"{"type": "keycloak", "serverUrl": "https://kc.example/", "realm": "r", "clientId": "app"}"#,
        );
        assert_eq!(p.issuer.as_deref(), Some("https://kc.example/realms/r"));
        assert_eq!(
            p.keys,
            KeySource::Remote {
                url: "https://kc.example/realms/r/protocol/openid-connect/certs".into()
            }
        );

        let p = ok(r#"{"type": "oidc", "issuer": "https://id.example"}"#);
        assert_eq!(
            p.keys,
            KeySource::Discovery {
                url: "https://id.example/.well-known/openid-configuration".into()
            }
        );

        let p = ok(r#"{"type": "clerk", "issuer": "https://clerk.example.com"}"#);
        assert_eq!(
            p.keys,
            KeySource::Remote {
                url: "https://clerk.example.com/.well-known/jwks.json".into()
            }
        );

        let p = ok(r#"{"type": "supabase", "url": "https://abc.supabase.co"}"#);
        assert_eq!(p.issuer.as_deref(), Some("https://abc.supabase.co/auth/v1"));
        assert_eq!(p.options.audience, vec![String::from("authenticated")]);

        let p = ok(r#"{"type": "custom", "name": "mine"}"#);
        assert_eq!(p.keys, KeySource::Host);
        assert!(p.accepts_opaque());
    }

    #[test]
    fn secrets_from_env_and_errors_with_paths() {
        let mut env = Env::new();
        env.insert("S".into(), "0123456789abcdef0123456789abcdef".into());
        let p = parse(
            r#"{"type": "jwt", "issuer": "https://i", "secret": {"env": "S"}}"#,
            &env,
        )
        .unwrap();
        assert!(matches!(p.keys, KeySource::Key(_)));
        assert_eq!(p.options.algorithms, vec![Algorithm::Hs256]);
        let e = parse(
            r#"{"type": "jwt", "issuer": "https://i", "secret": {"env": "NOPE"}}"#,
            &env,
        )
        .unwrap_err();
        assert_eq!(e.path, "providers[0].secret");
        let e = parse(
            r#"{"type": "jwt", "issuer": "https://i", "secret": "short"}"#,
            &env,
        )
        .unwrap_err();
        assert_eq!(e.path, "providers[0].secret");
        let e = parse(r#"{"type": "jwt", "secret": {"env": "S"}}"#, &env).unwrap_err();
        assert_eq!(e.path, "providers[0].issuer");
        let e = parse(
            r#"{"type": "auth0", "domain": "https://x.auth0.com", "audience": "a"}"#,
            &env,
        )
        .unwrap_err();
        assert_eq!(e.path, "providers[0].domain");
        let e = parse(r#"{"type": "auth0", "domain": "x.auth0.com"}"#, &env).unwrap_err();
        assert_eq!(e.path, "providers[0].audience");
        let e = parse(r#"{"type": "nope"}"#, &env).unwrap_err();
        assert_eq!(e.path, "providers[0].type");
        let e = parse(r#"{"type": "jwt", "issuer": "https://i", "jwksUrl": "https://i/j", "algorithms": ["HS256"]}"#, &env).unwrap_err();
        assert_eq!(e.path, "providers[0].algorithms");
        let e = parse(r#"{"type": "jwt", "issuer": "https://i", "jwksUrl": "https://i/j", "algorithms": ["none"]}"#, &env).unwrap_err();
        assert_eq!(e.path, "providers[0].algorithms[0]");
        let e = parse(
            r#"{"type": "jwt", "issuer": "https://i", "jwksUrl": "http://evil.example/j"}"#,
            &env,
        )
        .unwrap_err();
        assert_eq!(e.path, "providers[0].jwksUrl");
        let e = parse(r#"{"type": "cognito", "userPoolId": "us-east-1_x", "region": "eu-west-1", "clientId": "c"}"#, &env).unwrap_err();
        assert_eq!(e.path, "providers[0].userPoolId");
        let e = parse(
            r#"{"type": "firebase", "projectId": "p", "domain": "x"}"#,
            &env,
        )
        .unwrap_err();
        assert_eq!(e.path, "providers[0].domain");
        let e = parse(r#"{"type": "jwt", "issuer": "https://i", "secret": {"env": "S"}, "jwksUrl": "https://i/j"}"#, &env).unwrap_err();
        assert_eq!(e.path, "providers[0]");
    }

    #[test]
    fn claim_mapping() {
        let p = ok(
            r#"{"type": "keycloak", "serverUrl": "https://kc", "realm": "r", "clientId": "app"}"#,
        );
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"sub": "u1", "azp": "app", "realm_access": {"roles": ["user"]},
                "resource_access": {"app": {"roles": ["editor"]}, "other": {"roles": ["admin"]}},
                "scope": "openid profile"}"#,
        )
        .unwrap();
        let m = p.map_claims(&claims, 0).unwrap();
        assert_eq!(m.roles, vec![String::from("editor"), String::from("user")]);
        assert_eq!(
            m.permissions,
            vec![String::from("openid"), String::from("profile")]
        );
        let mut wrong = claims.clone();
        wrong.insert("azp".into(), "other".into());
        assert_eq!(
            p.map_claims(&wrong, 0),
            Err(ProviderRejection::InvalidClaims)
        );

        let p = ok(
            r#"{"type": "auth0", "domain": "t.auth0.com", "audience": "a", "claimsNamespace": "https://acme.example/"}"#,
        );
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"sub": "auth0|1", "https://acme.example/roles": ["admin"], "permissions": ["read:x"], "org_id": "org_1"}"#)
                .unwrap();
        let m = p.map_claims(&claims, 0).unwrap();
        assert_eq!(m.roles, vec![String::from("admin")]);
        assert_eq!(m.org.as_deref(), Some("org_1"));
        let no_sub: Map<String, Value> = serde_json::from_str(r#"{"permissions": []}"#).unwrap();
        assert_eq!(
            p.map_claims(&no_sub, 0),
            Err(ProviderRejection::InvalidClaims)
        );
    }
}
