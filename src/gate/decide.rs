//! The gate: a request in, a [`Step`] out. Sans-I/O: when the gate needs something from
//! outside (a JWK Set, a discovery document, an introspection answer, an API key record,
//! a revocation answer, a custom provider's verdict) it returns [`Step::Need`]; the host
//! performs the I/O, hands the result to the request's [`Pending`] and calls
//! [`Gate::decide`] again. Each request has its own `Pending` (its answers); what may be
//! shared between requests (JWK Sets, discovery documents, the introspection cache) is in
//! one [`Ctx`] per gate.
//!
//! ```text
//! let mut pending = Pending::new(req);
//! loop {
//!     match gate.decide(&pending, now, &mut ctx) {
//!         Step::Done(decision) => break decision,
//!         Step::Need(Io::Jwks { provider, url, .. }) => pending.provide_jwks(&mut ctx, &provider, &fetch(url)?),
//!         Step::Need(Io::ApiKey { key_id }) => pending.provide_api_key(&key_id, store.api_key(&key_id)),
//!         ...
//!     }
//! }
//! ```
//!
//! Order of checks: disabled gate -> CORS preflight (answered here, never forwarded) -> path normalization -> first matching
//! route (none: AUTH-013) -> mTLS -> public -> credential (none: AUTH-005) -> API key or
//! JWT (issuer -> provider -> keys -> signature and claims -> provider checks) ->
//! revocation -> route providers -> roles (AUTH-012) -> permissions (AUTH-011) -> route
//! claim conditions (AUTH-013). A `shadow` route turns a denial into an allow that carries
//! the denial.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::ErrorCode;
use crate::gate::api_key::{self, ApiKeyRecord, Store};
use crate::gate::cfg::{ConfigError, Env};
use crate::gate::config::{Config, TokenSource, API_KEY_PROVIDER, SESSION_PROVIDER};
use crate::gate::identity::Identity;
use crate::gate::providers::{Introspection, KeySource, Provider, ProviderRejection};
use crate::gate::ratelimit_config::{OnStoreError, RateLimitKey, RateLimitPolicy, StoreKind};
use crate::gate::ratelimit_state::{self as rls, RateLimitCtx};
use crate::gate::rbac::Missing;
use crate::gate::route::{Mtls, Route};
use crate::gate::session::{session_hash, SessionRecord, SessionRejection, MAX_SESSION_ID};
use crate::jose::crypto::{CryptoBackend, PureBackend};
use crate::jose::jwk::JwkSet;
use crate::jose::key::{KeyError, KeyOrigin};
use crate::jose::token::UntrustedToken;
use crate::jose::verify::{jwt_verify, VerifyError};
use crate::limits::Limits;

/// A client certificate as the host's TLS layer saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientCert {
    /// The TLS layer verified the chain.
    pub verified: bool,
    /// Hex SHA-256 of the DER certificate (case and `:` ignored).
    pub fingerprint_sha256: Option<String>,
}

impl ClientCert {
    /// The core's reading of the raw TLS facts a host like Cloudflare reports
    /// (`request.cf.tlsClientAuth`: `certPresented`, `certVerified`, `certRevoked`,
    /// `certFingerprintSHA256`). `None` unless a certificate was presented (`"1"`); it is
    /// verified only when the chain check says exactly `"SUCCESS"` and it is not reported
    /// revoked. The host passes the strings as it got them; it never decides.
    pub fn from_tls_facts(
        presented: Option<&str>,
        verified: Option<&str>,
        revoked: Option<&str>,
        fingerprint_sha256: Option<&str>,
    ) -> Option<ClientCert> {
        if presented != Some("1") {
            return None;
        }
        Some(ClientCert {
            verified: verified == Some("SUCCESS") && revoked != Some("1"),
            fingerprint_sha256: fingerprint_sha256
                .filter(|f| !f.is_empty())
                .map(String::from),
        })
    }
}

/// What the gate looks at in a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target: path and optional query (`/api/x?access_token=...`).
    pub path: String,
    /// Every header, names in any case, repeated names allowed.
    pub headers: Vec<(String, String)>,
    /// Set when the connection presented a client certificate.
    pub client_cert: Option<ClientCert>,
    /// The client's address as the host determined it (the Worker: `CF-Connecting-IP`;
    /// Node: the socket address unless a trusted proxy setting says otherwise). Used by
    /// rate limits keyed on `ip`.
    pub client_ip: Option<String>,
}

impl Request {
    /// A request with no headers.
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            client_cert: None,
            client_ip: None,
        }
    }

    /// Sets the client address.
    pub fn client_ip(mut self, ip: &str) -> Request {
        self.client_ip = Some(ip.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Something the host must fetch or look up.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Io {
    /// Fetch the JWK Set at `url` and call [`Pending::provide_jwks`] (or
    /// [`Pending::provide_jwks_error`]). `refresh`: the cached set has no key for the token
    /// (the host may refuse to refetch within its cooldown and just report an error).
    Jwks {
        provider: String,
        url: String,
        refresh: bool,
    },
    /// Fetch the OpenID discovery document and call [`Pending::provide_discovery`].
    Discovery { provider: String, url: String },
    /// POST an RFC 7662 introspection request and call [`Pending::provide_introspection`]
    /// with `token` and the body of a `200` answer (bounded by `Limits::MAX_RESPONSE_BYTES`),
    /// or `None` for anything else. The core builds the request: the host sends `body`
    /// (`application/x-www-form-urlencoded`) with `Authorization: <authorization>` (HTTP
    /// Basic client authentication, RFC 6749 section 2.3.1), `Accept: application/json`, no
    /// redirects. `authorization` carries the client secret and `body` the token: never log
    /// either.
    Introspect {
        provider: String,
        url: String,
        token: String,
        authorization: String,
        body: String,
    },
    /// Run the host's custom verifier on `token`; call [`Pending::provide_custom`].
    Custom { provider: String, token: String },
    /// Look up API key `key_id`; call [`Pending::provide_api_key`].
    ApiKey { key_id: String },
    /// Is `id` (a `jti` or an API key id) revoked? Call [`Pending::provide_revoked`].
    Revoked { id: String },
    /// Look up the session whose id hashes to `hash` (SHA-256, hex); call
    /// [`Pending::provide_session_json`].
    Session { hash: String },
    /// Read the rate-limit state stored under `key` in `store` (one atomic read) within
    /// `timeout_ms`; call [`Pending::provide_rate_limit_state`] with the raw value (or
    /// `None` when absent), or [`Pending::provide_rate_limit_error`] when the store is down
    /// or slow.
    RateLimitLoad {
        policy: String,
        key: String,
        store: String,
        timeout_ms: u64,
    },
    /// Compare-and-set `key` in `store` atomically (Redis: one script; Durable Object:
    /// serialized): if its current raw value equals `expected` (`None`: absent), set it to
    /// `new` with a time to live of `ttl_ms`; within `timeout_ms`. Call
    /// [`Pending::provide_rate_limit_stored`] with `Ok(())` or `Err(current raw value)`, or
    /// [`Pending::provide_rate_limit_error`].
    RateLimitStore {
        policy: String,
        key: String,
        store: String,
        expected: Option<String>,
        version: Option<String>,
        new: String,
        ttl_ms: u64,
        timeout_ms: u64,
    },
}

/// The introspection call for `token` at `provider`, built by the core (hosts only send it).
fn introspection_request(provider: &str, cfg: &Introspection, token: &str) -> Io {
    Io::Introspect {
        provider: provider.into(),
        url: cfg.url.clone(),
        token: token.into(),
        authorization: cfg.authorization(),
        body: Introspection::body(token),
    }
}

impl core::fmt::Debug for Io {
    // Never prints a token or a secret.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Io::Jwks {
                provider,
                url,
                refresh,
            } => write!(
                f,
                "Jwks {{ provider: {provider:?}, url: {url:?}, refresh: {refresh} }}"
            ),
            Io::Discovery { provider, url } => {
                write!(f, "Discovery {{ provider: {provider:?}, url: {url:?} }}")
            }
            Io::Introspect { provider, url, .. } => write!(
                f,
                "Introspect {{ provider: {provider:?}, url: {url:?}, .. }}"
            ),
            Io::Custom { provider, .. } => write!(f, "Custom {{ provider: {provider:?}, .. }}"),
            Io::ApiKey { key_id } => write!(f, "ApiKey {{ key_id: {key_id:?} }}"),
            Io::Revoked { id } => write!(f, "Revoked {{ id: {id:?} }}"),
            Io::Session { hash } => write!(f, "Session {{ hash: {hash:?} }}"),
            Io::RateLimitLoad {
                policy, key, store, ..
            } => write!(
                f,
                "RateLimitLoad {{ policy: {policy:?}, key: {key:?}, store: {store:?} }}"
            ),
            Io::RateLimitStore {
                policy,
                key,
                store,
                new,
                ttl_ms,
                ..
            } => write!(
                f,
                "RateLimitStore {{ policy: {policy:?}, key: {key:?}, store: {store:?}, new: {new:?}, ttl_ms: {ttl_ms} }}"
            ),
        }
    }
}

/// Why a request was let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllowReason {
    /// A verified caller passed every check of the route.
    Authenticated,
    /// The route is public.
    Public,
    /// The route is `optional` and the request carried no credential: it passes without an
    /// identity.
    Anonymous,
    /// The gate is disabled (`enabled: false` / `AUTH_ENABLED=false`).
    Disabled,
    /// A `shadow` route: the request would have been denied (see `Allow::shadow`).
    Shadow,
}

/// The request may pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Allow {
    pub reason: AllowReason,
    /// The verified caller (`None` for anonymous passes).
    pub identity: Option<Identity>,
    /// Identity headers to add to the forwarded request.
    pub headers: Vec<(String, String)>,
    /// Incoming headers to remove before forwarding (always: a client cannot forge them):
    /// every identity header name (configured and default) and the exact names of the
    /// request's headers that read as one of them (`X_User_Id`, `x.user.roles`). Delete
    /// each by name; no matching is left to the host.
    pub strip_headers: Vec<String>,
    /// The matched route's label.
    pub route: Option<String>,
    /// The normalized path that was checked (decoded segments, for logs and matching).
    pub path: Option<String>,
    /// The same path ready for the origin, percent-encoded by the core
    /// (`NormalizedPath::forward_path`): forward this one, as is.
    pub forward_path: Option<String>,
    /// On a shadow route: the denial that was not enforced (log it).
    pub shadow: Option<Deny>,
    /// Headers to put on the response to the client (`RateLimit-Policy`, `RateLimit` on
    /// rate-limited routes).
    pub response_headers: Vec<(String, String)>,
}

/// The request is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deny {
    pub status: u16,
    pub code: ErrorCode,
    /// `WWW-Authenticate` value (RFC 6750), when the failure is about the credentials.
    pub www_authenticate: Option<String>,
    /// What went wrong, for logs and the body (never a token, key or secret).
    pub detail: String,
    /// `application/problem+json` body.
    pub body: String,
    /// The matched route's label, if any.
    pub route: Option<String>,
    /// Headers to put on the response (`RateLimit-Policy`, `RateLimit`, `Retry-After`).
    pub response_headers: Vec<(String, String)>,
    /// On a 429 (AUTH-016): seconds until the request may pass (also `Retry-After`).
    pub retry_after: Option<u64>,
}

/// A CORS preflight the host answers itself: respond with `status` (204), these headers
/// and no body. The request is never forwarded to the origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preflight {
    /// Always 204.
    pub status: u16,
    /// `Access-Control-Allow-Origin`, `-Allow-Methods`, `-Allow-Headers`, `-Max-Age`,
    /// `-Allow-Credentials` (each when configured) and `Vary`.
    pub headers: Vec<(String, String)>,
}

/// The gate's answer (one per request; its size does not matter).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Forward the request to the origin.
    Allow(Allow),
    /// Refuse it.
    Deny(Deny),
    /// Answer it at the edge (a CORS preflight); never forward it.
    Preflight(Preflight),
}

impl Decision {
    /// Whether the request may pass to the origin (shadow denials pass; a preflight does
    /// not: it is answered by the host).
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    /// HTTP status: 200 for allow, 204 for a preflight.
    pub fn status(&self) -> u16 {
        match self {
            Decision::Allow(_) => 200,
            Decision::Deny(d) => d.status,
            Decision::Preflight(p) => p.status,
        }
    }

    /// The error code of a denial.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Decision::Allow(_) | Decision::Preflight(_) => None,
            Decision::Deny(d) => Some(d.code),
        }
    }
}

/// One step of the decision.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Done(Decision),
    Need(Io),
}

/// The one `detail` of every refused API key (malformed, unknown, wrong, expired, revoked).
const INVALID_API_KEY: &str = "invalid api key";

/// Most cached introspection results.
pub const MAX_INTROSPECTION_ENTRIES: usize = 1024;

#[derive(Clone, Debug, PartialEq)]
struct CachedIntrospection {
    provider: String,
    token_hash: [u8; 32],
    until: i64,
    claims: Map<String, Value>,
}

/// What a store answered when asked for a record (an API key, a session).
#[derive(Clone, Debug, PartialEq, Eq)]
enum RecordAnswer<T> {
    /// No such record.
    Unknown,
    Record(T),
    /// The store returned something that is not a well-formed record (a store error:
    /// fail closed, AUTH-015).
    Malformed,
}

impl<T> RecordAnswer<T> {
    /// `None` or JSON `null`: no such record; otherwise the record as `parse` reads it
    /// strictly, or `Malformed`.
    fn from_json(record: Option<&Value>, parse: impl FnOnce(&Value) -> Option<T>) -> Self {
        match record {
            None | Some(Value::Null) => RecordAnswer::Unknown,
            Some(v) => parse(v).map_or(RecordAnswer::Malformed, RecordAnswer::Record),
        }
    }

    /// The same from the store's text: parsed strictly first (`parse_untrusted`: a member
    /// name twice, too deep or too large is a malformed record, a store error, AUTH-015).
    fn from_text(record: Option<&[u8]>, parse: impl FnOnce(&Value) -> Option<T>) -> Self {
        match record.map(|r| crate::codec::json::parse_untrusted(r, &Limits::DEFAULT)) {
            None => RecordAnswer::Unknown,
            Some(Ok(v)) => Self::from_json(Some(&v), parse),
            Some(Err(_)) => RecordAnswer::Malformed,
        }
    }
}

type KeyAnswer = RecordAnswer<ApiKeyRecord>;
type SessionAnswer = RecordAnswer<SessionRecord>;

/// What the store answered about "is `id` revoked".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RevokedAnswer {
    No,
    Yes,
    /// Neither an unambiguous "no" nor "yes" (a store error: fail closed, AUTH-015).
    Malformed,
}

/// An answer about a token is bound to the provider and to the SHA-256 of the token it
/// was asked for: an answer for another token is never used.
type TokenKey = (String, [u8; 32]);

fn token_key(provider: &str, token: &str) -> TokenKey {
    (provider.into(), Sha256::digest(token.as_bytes()).into())
}

/// The answers of one request (see [`Pending`]).
#[derive(Clone, Debug, Default, PartialEq)]
struct Answers {
    jwks_failed: BTreeSet<String>,
    jwks_refreshed: BTreeSet<String>,
    discovery_failed: BTreeSet<String>,
    introspection: BTreeMap<TokenKey, Result<Map<String, Value>, ()>>,
    custom: BTreeMap<TokenKey, Option<Map<String, Value>>>,
    api_keys: BTreeMap<String, KeyAnswer>,
    revoked: BTreeMap<String, RevokedAnswer>,
    sessions: BTreeMap<String, SessionAnswer>,
    rate_limits: BTreeMap<(String, String), RateAnswer>,
}

/// Most compare-and-set conflicts on one key in one request before the store counts as
/// failing (`onStoreError`).
pub const MAX_RATE_LIMIT_CONFLICTS: u32 = 3;

/// The same for a `durable-object` store, whose compare-and-set runs serialized in one
/// object with its state in memory: a conflict means another request was admitted in the
/// meantime, so a request conflicts at most as often as others are admitted while it
/// waits; a herd of concurrent first requests on one key would exhaust 3 at once (the
/// losers of each round) and answer `onStoreError` instead of the limit's verdict.
pub const MAX_RATE_LIMIT_CONFLICTS_SERIALIZED: u32 = 24;

/// What a shared rate-limit store answered for one (policy, store key).
#[derive(Clone, Debug, PartialEq, Eq)]
enum RateAnswer {
    /// The raw value read (`None`: absent), its version, how many compare-and-sets
    /// conflicted, and whether this request's compare-and-set succeeded.
    Loaded {
        raw: Option<String>,
        version: Option<String>,
        conflicts: u32,
        stored: bool,
    },
    /// The store is down, timed out, or answered too many conflicts.
    Error,
    /// The `kv` store with [`Ctx::set_kv_sync`]: the other isolates' entries for the key.
    Peers(Vec<crate::ratelimit::edge::PeerEntry>),
}

/// One request being decided, with its own answers (DESIGN.md: "the step protocol is per
/// request"). The host creates one per request, hands every answer for that request to
/// it, and drops it when the decision is made. Answers never leave their `Pending`, so no
/// interleaving of concurrent decisions can change any of them; what is shared between
/// requests (key sets, discovery documents, the introspection cache) lives in [`Ctx`].
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    request: Request,
    answers: Answers,
}

impl Pending {
    /// Starts deciding `request`.
    pub fn new(request: Request) -> Pending {
        Pending {
            request,
            answers: Answers::default(),
        }
    }

    /// The request being decided.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// A fetched JWK Set (a remote set: HMAC keys are refused), kept in `ctx` for every
    /// request without an expiry (see [`Pending::provide_jwks_until`]). On a bad document
    /// the previous set, if any, is kept and this request gets AUTH-007 if it has no usable
    /// keys.
    pub fn provide_jwks(
        &mut self,
        ctx: &mut Ctx,
        provider: &str,
        bytes: &[u8],
    ) -> Result<(), KeyError> {
        self.provide_jwks_until(ctx, provider, bytes, None)
    }

    /// Like [`Pending::provide_jwks`], with the instant (unix ms) from which the host's
    /// JWKS cache policy no longer allows these keys
    /// ([`crate::jose::jwks_cache::JwksCache::usable_until`]: freshness + `max_stale`). Past it
    /// the set is not used: the gate asks for the JWKS again, and if the host has nothing
    /// newer the request gets AUTH-007.
    pub fn provide_jwks_until(
        &mut self,
        ctx: &mut Ctx,
        provider: &str,
        bytes: &[u8],
        usable_until_ms: Option<u64>,
    ) -> Result<(), KeyError> {
        self.answers.jwks_refreshed.insert(provider.into());
        let r = ctx.provide_jwks_until(provider, bytes, usable_until_ms);
        if r.is_err() {
            self.answers.jwks_failed.insert(provider.into());
        }
        r
    }

    /// An already checked set (e.g. from the host's JWKS cache), kept in `ctx`.
    pub fn provide_jwk_set(&mut self, ctx: &mut Ctx, provider: &str, set: JwkSet) {
        self.answers.jwks_refreshed.insert(provider.into());
        ctx.provide_jwk_set(provider, set);
    }

    /// The JWKS fetch failed (network, status, size, timeout, cooldown, cache policy).
    pub fn provide_jwks_error(&mut self, provider: &str) {
        self.answers.jwks_refreshed.insert(provider.into());
        self.answers.jwks_failed.insert(provider.into());
    }

    /// A discovery document, kept in `ctx`; `issuer` and `jwks_uri` are checked when used.
    pub fn provide_discovery(&mut self, ctx: &mut Ctx, provider: &str, bytes: &[u8]) {
        if !ctx.provide_discovery(provider, bytes) {
            self.answers.discovery_failed.insert(provider.into());
        }
    }

    /// The discovery fetch failed.
    pub fn provide_discovery_error(&mut self, provider: &str) {
        self.answers.discovery_failed.insert(provider.into());
    }

    /// The introspection response body for `token` (`None`: the call failed). Parsed
    /// strictly (`codec::json::parse_untrusted`): a body over the budget, with a duplicate
    /// member or not an object counts as a failed call.
    pub fn provide_introspection(&mut self, provider: &str, token: &str, response: Option<&[u8]>) {
        let parsed = response
            .and_then(|b| crate::codec::json::parse_untrusted(b, &Limits::DEFAULT).ok())
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .ok_or(());
        self.answers
            .introspection
            .insert(token_key(provider, token), parsed);
    }

    /// The custom verifier's verdict on `token`: the verified claims (with at least `sub`),
    /// or `None` when it refused the token.
    pub fn provide_custom(
        &mut self,
        provider: &str,
        token: &str,
        claims: Option<Map<String, Value>>,
    ) {
        self.answers
            .custom
            .insert(token_key(provider, token), claims);
    }

    /// The custom verifier's verdict as JSON text (`None`: it refused the token). Parsed
    /// strictly (`codec::json::parse_untrusted`); text that is not one strict JSON object is
    /// a refusal.
    pub fn provide_custom_json(&mut self, provider: &str, token: &str, claims: Option<&[u8]>) {
        let parsed = claims
            .and_then(|c| crate::codec::json::parse_untrusted(c, &Limits::DEFAULT).ok())
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            });
        self.provide_custom(provider, token, parsed);
    }

    /// An API key record as the store returned it, as JSON text (`None`: no such key).
    /// Parsed strictly (`codec::json::parse_untrusted`): text that does not parse is a
    /// malformed record (a store error, AUTH-015), never an unknown key.
    pub fn provide_api_key_text(&mut self, key_id: &str, record: Option<&[u8]>) {
        let a = KeyAnswer::from_text(record, ApiKeyRecord::from_json);
        self.answers.api_keys.insert(key_id.into(), a);
    }

    /// The store's raw "is revoked" answer as JSON text (`None`: it answered nothing, a
    /// store error). Parsed strictly; see [`Pending::provide_revoked_json`].
    pub fn provide_revoked_text(&mut self, id: &str, answer: Option<&[u8]>) {
        let v = answer
            .and_then(|a| crate::codec::json::parse_untrusted(a, &Limits::DEFAULT).ok())
            .unwrap_or(Value::Null);
        self.provide_revoked_json(id, &v);
    }

    /// The record of an API key (`None`: no such key).
    pub fn provide_api_key(&mut self, key_id: &str, record: Option<ApiKeyRecord>) {
        let a = match record {
            Some(r) => KeyAnswer::Record(r),
            None => KeyAnswer::Unknown,
        };
        self.answers.api_keys.insert(key_id.into(), a);
    }

    /// The record of an API key as the store returned it (JSON, see
    /// [`ApiKeyRecord::from_json`]); `None` or JSON `null`: no such key. A record that does
    /// not parse strictly is a store error (AUTH-015, fail closed), never "unknown" and
    /// never accepted.
    pub fn provide_api_key_json(&mut self, key_id: &str, record: Option<&Value>) {
        let a = KeyAnswer::from_json(record, ApiKeyRecord::from_json);
        self.answers.api_keys.insert(key_id.into(), a);
    }

    /// The session store's record as JSON text (`None`: no such session). Parsed strictly
    /// (`codec::json::parse_untrusted`: a member name twice, too deep or too large is a
    /// malformed record, a store error, AUTH-015), then as [`SessionRecord::from_json`].
    pub fn provide_session_text(&mut self, hash: &str, record: Option<&[u8]>) {
        let a = SessionAnswer::from_text(record, SessionRecord::from_json);
        self.answers.sessions.insert(hash.into(), a);
    }

    /// The session store's answer for the session whose id hashes to `hash` (see
    /// [`SessionRecord::from_json`]); `None` or JSON `null`: no such session.
    pub fn provide_session_json(&mut self, hash: &str, record: Option<&Value>) {
        let a = SessionAnswer::from_json(record, SessionRecord::from_json);
        self.answers.sessions.insert(hash.into(), a);
    }

    /// The raw rate-limit state stored under `key` for `policy` (`None`: absent) and its
    /// version (an etag, when the store has one). The value is parsed strictly when used:
    /// a malformed state is a store error (`onStoreError`).
    pub fn provide_rate_limit_state(
        &mut self,
        policy: &str,
        key: &str,
        raw: Option<String>,
        version: Option<String>,
    ) {
        self.answers.rate_limits.insert(
            (policy.into(), key.into()),
            RateAnswer::Loaded {
                raw,
                version,
                conflicts: 0,
                stored: false,
            },
        );
    }

    /// The answer to [`Io::RateLimitStore`]: `Ok(())` when the value was set, `Err(current)`
    /// when the compare failed (`current`: the raw value now stored, `None` when absent);
    /// the gate then recomputes over `current`, at most [`MAX_RATE_LIMIT_CONFLICTS`] times
    /// before applying `onStoreError`.
    pub fn provide_rate_limit_stored(
        &mut self,
        policy: &str,
        key: &str,
        result: Result<(), Option<String>>,
    ) {
        let k = (String::from(policy), String::from(key));
        let (prev_raw, prev_version, prev_conflicts) = match self.answers.rate_limits.get(&k) {
            Some(RateAnswer::Loaded {
                raw,
                version,
                conflicts,
                ..
            }) => (raw.clone(), version.clone(), *conflicts),
            // An answer to a question that was never asked: a store error.
            _ => {
                self.answers.rate_limits.insert(k, RateAnswer::Error);
                return;
            }
        };
        let a = match result {
            Ok(()) => RateAnswer::Loaded {
                raw: prev_raw,
                version: prev_version,
                conflicts: prev_conflicts,
                stored: true,
            },
            // The store's own budget is applied where the store is known (`rate_limit`).
            Err(current) if prev_conflicts + 1 < MAX_RATE_LIMIT_CONFLICTS_SERIALIZED => {
                RateAnswer::Loaded {
                    raw: current,
                    version: None,
                    conflicts: prev_conflicts + 1,
                    stored: false,
                }
            }
            Err(_) => RateAnswer::Error,
        };
        self.answers.rate_limits.insert(k, a);
    }

    /// The answer to [`Io::RateLimitLoad`] with `store: "kv"` when the context evaluates
    /// `kv` policies itself ([`Ctx::set_kv_sync`]): the other isolates' entries for `key`
    /// (the host leaves out its own), each the raw state from the entry's metadata and the
    /// time it was written (Unix ms). A malformed state is a store error (`onStoreError`).
    pub fn provide_rate_limit_peers(&mut self, policy: &str, key: &str, entries: &[(&str, u64)]) {
        let mut peers = Vec::with_capacity(entries.len());
        for (raw, written_ms) in entries {
            match rls::decode_state(raw) {
                Some(state) => peers.push(crate::ratelimit::edge::PeerEntry {
                    state,
                    written_ms: *written_ms,
                }),
                None => {
                    self.provide_rate_limit_error(policy, key);
                    return;
                }
            }
        }
        self.answers
            .rate_limits
            .insert((policy.into(), key.into()), RateAnswer::Peers(peers));
    }

    /// The store could not answer for `key` (down, timeout, refused): the policy's
    /// `onStoreError` applies.
    pub fn provide_rate_limit_error(&mut self, policy: &str, key: &str) {
        self.answers
            .rate_limits
            .insert((policy.into(), key.into()), RateAnswer::Error);
    }

    /// Whether `id` is on the revocation list.
    pub fn provide_revoked(&mut self, id: &str, revoked: bool) {
        let a = if revoked {
            RevokedAnswer::Yes
        } else {
            RevokedAnswer::No
        };
        self.answers.revoked.insert(id.into(), a);
    }

    /// The store's raw answer to "is `id` revoked". Only JSON `false` and the number `0`
    /// (Redis' "no") mean "not revoked"; `true` and `1` mean revoked; anything else
    /// (`null`, strings such as `"false"`, other numbers, objects, arrays) is a store
    /// error: the request is denied with AUTH-015 (fail closed).
    pub fn provide_revoked_json(&mut self, id: &str, answer: &Value) {
        let a = match answer {
            Value::Bool(false) => RevokedAnswer::No,
            Value::Bool(true) => RevokedAnswer::Yes,
            Value::Number(n) if n.as_u64() == Some(0) => RevokedAnswer::No,
            Value::Number(n) if n.as_u64() == Some(1) => RevokedAnswer::Yes,
            _ => RevokedAnswer::Malformed,
        };
        self.answers.revoked.insert(id.into(), a);
    }
}

#[derive(Clone, Debug)]
struct CachedSet {
    set: JwkSet,
    /// Unix ms from which the host's cache policy no longer allows the set.
    usable_until_ms: Option<u64>,
}

impl CachedSet {
    fn usable_at(&self, now: i64) -> bool {
        match self.usable_until_ms {
            None => true,
            Some(until) => i128::from(now) * 1000 < i128::from(until),
        }
    }
}

/// What is shared between requests (keep one `Ctx` per gate): JWK Sets, discovery
/// documents and a bounded introspection cache. The answers of a request live in its
/// [`Pending`].
#[derive(Clone, Debug, Default)]
pub struct Ctx {
    jwks: BTreeMap<String, CachedSet>,
    discovery: BTreeMap<String, (String, String)>,
    introspection_cache: Vec<CachedIntrospection>,
    rate: RateLimitCtx,
}

impl Ctx {
    /// An empty context.
    pub fn new() -> Ctx {
        Ctx::default()
    }

    /// Seeds a fetched JWK Set (a remote set: HMAC keys are refused) with no expiry. On a
    /// bad document the previous set, if any, is kept. Answers for a request in progress go
    /// through [`Pending::provide_jwks`].
    pub fn provide_jwks(&mut self, provider: &str, bytes: &[u8]) -> Result<(), KeyError> {
        self.provide_jwks_until(provider, bytes, None)
    }

    /// Seeds a fetched JWK Set usable until `usable_until_ms` (see
    /// [`Pending::provide_jwks_until`]).
    pub fn provide_jwks_until(
        &mut self,
        provider: &str,
        bytes: &[u8],
        usable_until_ms: Option<u64>,
    ) -> Result<(), KeyError> {
        let set = JwkSet::from_json(bytes, KeyOrigin::Remote, &Limits::DEFAULT)?;
        self.jwks.insert(
            provider.into(),
            CachedSet {
                set,
                usable_until_ms,
            },
        );
        Ok(())
    }

    /// Seeds an already checked set (e.g. from the host's JWKS cache).
    pub fn provide_jwk_set(&mut self, provider: &str, set: JwkSet) {
        self.jwks.insert(
            provider.into(),
            CachedSet {
                set,
                usable_until_ms: None,
            },
        );
    }

    /// Seeds a discovery document; `false` when it is not a strict JSON object
    /// (`codec::json::parse_untrusted`: byte budget, depth, no duplicate member) with string
    /// `issuer` and `jwks_uri` (then nothing changes).
    pub fn provide_discovery(&mut self, provider: &str, bytes: &[u8]) -> bool {
        // The strict parser: a duplicated `issuer` or `jwks_uri` is refused, not read
        // last-wins.
        let parsed: Option<(String, String)> =
            crate::codec::json::parse_untrusted(bytes, &Limits::DEFAULT)
                .ok()
                .and_then(|v| {
                    let iss = v.get("issuer")?.as_str()?.to_string();
                    let uri = v.get("jwks_uri")?.as_str()?.to_string();
                    Some((iss, uri))
                });
        match parsed {
            Some(p) => {
                self.discovery.insert(provider.into(), p);
                true
            }
            None => false,
        }
    }

    /// The in-process rate-limit state (memory store, local fallback, block cache).
    pub fn rate_limits(&self) -> &RateLimitCtx {
        &self.rate
    }

    /// With `true`, `kv` policies are evaluated in this context by
    /// [`KvSync`](crate::ratelimit::edge::KvSync) (the Worker: docs/ratelimits.md) instead
    /// of a compare-and-set: the gate asks [`Io::RateLimitLoad`] (`store: "kv"`) at most once
    /// per second per key, answered with [`Pending::provide_rate_limit_peers`], and the host
    /// writes what [`Ctx::take_rate_limit_kv_writes`] returns (coalesced: at most one write
    /// per second per key).
    pub fn set_kv_sync(&mut self, on: bool) {
        self.rate.kv_sync = on;
    }

    /// The `kv` writes due at `now_ms` (see [`Ctx::set_kv_sync`]).
    pub fn take_rate_limit_kv_writes(&mut self, now_ms: u64) -> Vec<rls::KvWrite> {
        self.rate.take_kv_writes(now_ms)
    }

    /// When the next pending `kv` write may go out (`None`: none pending).
    pub fn next_rate_limit_kv_write_ms(&self) -> Option<u64> {
        self.rate.next_kv_write_ms()
    }

    /// The cached JWK Set of a provider.
    pub fn jwks(&self, provider: &str) -> Option<&JwkSet> {
        self.jwks.get(provider).map(|c| &c.set)
    }
}

/// The gate: a validated config and a crypto backend.
pub struct Gate {
    config: Config,
    backend: Box<dyn CryptoBackend>,
    warnings: Vec<String>,
}

impl core::fmt::Debug for Gate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gate")
            .field("config", &self.config)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

enum Flow {
    /// Boxed: `Io` is large and `Flow` is the error of every check.
    Need(Box<Io>),
    Deny(ErrorCode, String, Option<String>),
    /// 429 AUTH-016: detail, response headers, retry-after seconds.
    Limited(String, Vec<(String, String)>, u64),
}

type R<T> = Result<T, Flow>;

fn deny<T>(code: ErrorCode, detail: impl Into<String>) -> R<T> {
    Err(Flow::Deny(code, detail.into(), None))
}

struct Verified {
    provider: String,
    claims: Map<String, Value>,
    roles: Vec<String>,
    permissions: Vec<String>,
    org: Option<String>,
    sub: String,
}

/// A credential found in the request.
enum Credential {
    None,
    Ambiguous,
    Found(String),
    /// A session id (from a `session` cookie source).
    Session(String),
}

impl Gate {
    /// Parses and validates a JSON config; `env` is the host's environment.
    pub fn from_config(json: &[u8], env: &Env) -> Result<Gate, ConfigError> {
        Ok(Gate::new(Config::from_json(json, env)?))
    }

    /// A gate over an already validated config, with the pure crypto backend.
    pub fn new(config: Config) -> Gate {
        let mut warnings = Vec::new();
        if !config.enabled {
            warnings.push(
                "AUTHENTICATION IS DISABLED (enabled: false / AUTH_ENABLED=false): every request passes as anonymous; local development only"
                    .to_string(),
            );
        }
        for r in config.routes.iter().filter(|r| r.shadow) {
            warnings.push(format!(
                "route {} is in shadow mode: denials are logged, not enforced",
                r.label()
            ));
        }
        if config.routes.is_empty() {
            warnings.push("no routes: every request is denied".to_string());
        }
        Gate {
            config,
            backend: Box::new(PureBackend),
            warnings,
        }
    }

    /// Uses another signature backend.
    pub fn with_backend(mut self, backend: Box<dyn CryptoBackend>) -> Gate {
        self.backend = backend;
        self
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Warnings the host must log loudly at every start (e.g. the gate is disabled).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Decides, answering `Io::ApiKey` and `Io::Revoked` from `store`; returns `Done`
    /// or a `Need` for network I/O (JWKS, discovery, introspection, custom).
    pub fn decide_with_store(
        &self,
        pending: &mut Pending,
        now: i64,
        ctx: &mut Ctx,
        store: &dyn Store,
    ) -> Step {
        let mut step = self.decide(pending, now, ctx);
        for _ in 0..16 {
            match &step {
                Step::Need(Io::ApiKey { key_id }) => {
                    let rec = store.api_key(key_id);
                    pending.provide_api_key(key_id, rec);
                }
                Step::Need(Io::Revoked { id }) => {
                    let r = store.is_revoked(id, now);
                    pending.provide_revoked(id, r);
                }
                _ => return step,
            }
            step = self.decide(pending, now, ctx);
        }
        step
    }

    /// One step of the decision for `pending`'s request at `now` (unix seconds), from the
    /// answers given to `pending` and what `ctx` shares between requests.
    pub fn decide(&self, pending: &Pending, now: i64, ctx: &mut Ctx) -> Step {
        self.decide_at_ms(pending, now.saturating_mul(1000), ctx)
    }

    /// [`Gate::decide`] with the time in unix milliseconds (rate limits count in
    /// milliseconds; token checks use the whole seconds).
    pub fn decide_at_ms(&self, pending: &Pending, now_ms: i64, ctx: &mut Ctx) -> Step {
        let now = now_ms.div_euclid(1000);
        let rl_now = u64::try_from(now_ms).unwrap_or(0);
        self.decide_inner(&pending.request, &pending.answers, now, rl_now, ctx)
    }

    /// The shared stores the config needs from the host (see
    /// [`Config::required_stores`]): `(store name, field path)`.
    pub fn required_stores(&self) -> Vec<(String, String)> {
        self.config
            .required_stores()
            .into_iter()
            .map(|(k, p)| (k.as_str().into(), p))
            .collect()
    }

    /// Whether an incoming header named `name` is stripped before forwarding (its name
    /// reads as an identity header name, configured or default; see
    /// [`crate::gate::config::IdentityHeaders::is_stripped`]).
    pub fn is_stripped_header(&self, name: &str) -> bool {
        self.config.identity_headers.is_stripped(name)
    }

    /// The identity header names (configured and default), then the exact names of the
    /// request's headers that read as one of them and are not already listed.
    fn strip(&self, req: &Request) -> Vec<String> {
        let ih = &self.config.identity_headers;
        let mut out = ih.strip_names();
        for (name, _) in &req.headers {
            if ih.is_stripped(name) && !out.iter().any(|n| n == name) {
                out.push(name.clone());
            }
        }
        out
    }

    fn anonymous(
        &self,
        req: &Request,
        reason: AllowReason,
        route: Option<String>,
        path: Option<&crate::gate::route::NormalizedPath>,
    ) -> Decision {
        Decision::Allow(Allow {
            reason,
            identity: None,
            headers: Vec::new(),
            strip_headers: self.strip(req),
            route,
            path: path.map(crate::gate::route::NormalizedPath::as_path),
            forward_path: path.map(crate::gate::route::NormalizedPath::forward_path),
            shadow: None,
            response_headers: Vec::new(),
        })
    }

    /// The answer to a CORS preflight: `OPTIONS` with one `Origin` that `cors.origins`
    /// accepts and an `Access-Control-Request-Method`. Anything else is `None` and goes
    /// through normal routing.
    fn preflight(&self, req: &Request) -> Option<Preflight> {
        let cors = &self.config.cors;
        if !cors.preflight || !req.method.eq_ignore_ascii_case("OPTIONS") {
            return None;
        }
        let mut origins = req.header_values("origin");
        let origin = origins.next()?.trim();
        if origins.next().is_some() {
            return None;
        }
        req.header_values("access-control-request-method")
            .next()
            .filter(|m| crate::gate::cfg::is_token(m.trim()))?;
        let allow_origin = if cors.origins.is_empty() {
            // Any origin, and never with credentials (refused at start-up).
            "*"
        } else {
            cors.origins.iter().find(|c| *c == origin)?.as_str()
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        headers.push(("Access-Control-Allow-Origin".into(), allow_origin.into()));
        if cors.credentials {
            headers.push(("Access-Control-Allow-Credentials".into(), "true".into()));
        }
        if !cors.methods.is_empty() {
            headers.push((
                "Access-Control-Allow-Methods".into(),
                cors.methods.join(", "),
            ));
        }
        let mut vary = String::from("Origin");
        if !cors.headers.is_empty() {
            headers.push((
                "Access-Control-Allow-Headers".into(),
                cors.headers.join(", "),
            ));
        } else if cors.echo_headers {
            vary.push_str(", Access-Control-Request-Headers");
            if let Some(list) = echo_header_list(req) {
                headers.push(("Access-Control-Allow-Headers".into(), list));
            }
        }
        if let Some(age) = cors.max_age {
            headers.push(("Access-Control-Max-Age".into(), format!("{age}")));
        }
        headers.push(("Vary".into(), vary));
        Some(Preflight {
            status: 204,
            headers,
        })
    }

    fn decide_inner(
        &self,
        req: &Request,
        a: &Answers,
        now: i64,
        now_ms: u64,
        ctx: &mut Ctx,
    ) -> Step {
        if !self.config.enabled {
            return Step::Done(self.anonymous(req, AllowReason::Disabled, None, None));
        }
        if let Some(p) = self.preflight(req) {
            return Step::Done(Decision::Preflight(p));
        }
        let path = match crate::gate::route::normalize(&req.path) {
            Ok(p) => p,
            Err(_) => {
                return Step::Done(Decision::Deny(self.make_deny(
                    ErrorCode::AccessDenied,
                    "invalid request path".into(),
                    None,
                    None,
                )))
            }
        };
        let method = req.method.to_ascii_uppercase();
        let found = self
            .config
            .routes
            .iter()
            .find_map(|r| r.matches(&method, &path).map(|p| (r, p)));
        let Some((route, params)) = found else {
            return Step::Done(Decision::Deny(self.make_deny(
                ErrorCode::AccessDenied,
                "no route matches".into(),
                None,
                None,
            )));
        };
        let label = route.label();
        let norm = path.as_path();
        let forward = path.forward_path();
        let routed = self
            .decide_route(req, a, now, ctx, route, &params)
            .and_then(|identity| {
                let headers = self.rate_limit(req, a, now_ms, ctx, route, identity.as_ref())?;
                Ok((identity, headers))
            });
        match routed {
            Ok((Some(identity), response_headers)) => {
                let headers = self.identity_headers(&identity);
                Step::Done(Decision::Allow(Allow {
                    reason: AllowReason::Authenticated,
                    identity: Some(identity),
                    headers,
                    strip_headers: self.strip(req),
                    route: Some(label),
                    path: Some(norm),
                    forward_path: Some(forward),
                    shadow: None,
                    response_headers,
                }))
            }
            Ok((None, response_headers)) => {
                let reason = if route.public {
                    AllowReason::Public
                } else {
                    AllowReason::Anonymous
                };
                let mut d = self.anonymous(req, reason, Some(label), Some(&path));
                if let Decision::Allow(al) = &mut d {
                    al.response_headers = response_headers;
                }
                Step::Done(d)
            }
            Err(Flow::Need(io)) => Step::Need(*io),
            Err(flow) => {
                let d = match flow {
                    Flow::Limited(detail, headers, retry_after) => {
                        let mut d = self.make_deny(
                            ErrorCode::RateLimited,
                            detail,
                            None,
                            Some(label.clone()),
                        );
                        d.response_headers = headers;
                        d.retry_after = Some(retry_after);
                        d.body = problem_body(ErrorCode::RateLimited, &d.detail, Some(retry_after));
                        d
                    }
                    Flow::Deny(code, detail, scope) => {
                        self.make_deny(code, detail, scope, Some(label.clone()))
                    }
                    Flow::Need(_) => {
                        return Step::Done(Decision::Deny(self.make_deny(
                            ErrorCode::ConfigError,
                            "unreachable step".into(),
                            None,
                            Some(label),
                        )))
                    }
                };
                if route.shadow {
                    Step::Done(Decision::Allow(Allow {
                        reason: AllowReason::Shadow,
                        identity: None,
                        headers: Vec::new(),
                        strip_headers: self.strip(req),
                        route: Some(label),
                        path: Some(norm),
                        forward_path: Some(forward),
                        shadow: Some(d),
                        response_headers: Vec::new(),
                    }))
                } else {
                    Step::Done(Decision::Deny(d))
                }
            }
        }
    }

    /// `Ok(None)`: public, or optional without a credential; `Ok(Some)`: authenticated and
    /// authorized.
    fn decide_route(
        &self,
        req: &Request,
        a: &Answers,
        now: i64,
        ctx: &mut Ctx,
        route: &Route,
        params: &[(String, String)],
    ) -> R<Option<Identity>> {
        if let Mtls::Required { fingerprints } = &route.mtls {
            let ok = match &req.client_cert {
                Some(c) if c.verified => {
                    fingerprints.is_empty()
                        || c.fingerprint_sha256.as_deref().is_some_and(|f| {
                            let f = crate::gate::route::normalize_fingerprint(f);
                            fingerprints.contains(&f)
                        })
                }
                _ => false,
            };
            if !ok {
                return deny(
                    ErrorCode::AccessDenied,
                    "a verified client certificate is required",
                );
            }
        }
        if route.public {
            return Ok(None);
        }
        let (credential, session) = match self.extract(req) {
            Credential::None if route.optional => return Ok(None),
            Credential::None => return deny(ErrorCode::MissingToken, "no credentials"),
            Credential::Ambiguous => {
                return deny(ErrorCode::InvalidToken, "more than one credential")
            }
            Credential::Found(c) => (c, false),
            Credential::Session(id) => (id, true),
        };
        let v = if session {
            self.verify_session(&credential, a, now)?
        } else if api_key::looks_like_key(&credential) {
            // Least privilege: an API key is accepted only where the route names `apiKey` in
            // `providers` (an empty list means "any token provider", not "any credential").
            // Refused before any store lookup.
            if !route.providers.iter().any(|p| p == API_KEY_PROVIDER) {
                return deny(
                    ErrorCode::InvalidCredentials,
                    "api keys are not accepted on this route",
                );
            }
            self.verify_api_key(&credential, a, now)?
        } else {
            self.verify_token(&credential, a, now, ctx)?
        };

        if !route.providers.is_empty() && !route.providers.contains(&v.provider) {
            return deny(
                ErrorCode::AccessDenied,
                format!("provider {} is not accepted on this route", v.provider),
            );
        }
        let rbac = &self.config.rbac;
        let roles = rbac.expand_roles(&v.roles);
        let permissions = rbac.expand_permissions(&roles, &v.permissions);
        // Role permissions may be patterns; the token's (or key record's) are literal.
        match rbac.check(
            &roles,
            &rbac.role_permissions(&roles),
            &v.permissions,
            &route.roles,
            route.all_roles,
            &route.permissions,
        ) {
            Ok(()) => {}
            Err(Missing::Roles(missing)) => {
                let what = if route.all_roles {
                    "missing roles"
                } else {
                    "requires one of the roles"
                };
                let list = if route.all_roles {
                    missing
                } else {
                    route.roles.clone()
                };
                return Err(Flow::Deny(
                    ErrorCode::InsufficientRoles,
                    format!("{what}: {}", list.join(", ")),
                    Some(list.join(" ")),
                ));
            }
            Err(Missing::Permissions(missing)) => {
                return Err(Flow::Deny(
                    ErrorCode::InsufficientPermissions,
                    format!("missing permissions: {}", missing.join(", ")),
                    Some(missing.join(" ")),
                ));
            }
        }
        for c in &route.claims {
            if !c.holds(&v.claims, params) {
                return deny(
                    ErrorCode::AccessDenied,
                    format!("claim condition on {} not met", c.claim),
                );
            }
        }
        Ok(Some(Identity {
            sub: v.sub,
            provider: v.provider,
            roles,
            permissions,
            org: v.org,
            claims: v.claims,
        }))
    }

    /// The value a policy counts on, or `None` when the request has none (no identity for
    /// an identity key, no org, no such claim, no `clientIp`, no or several header values,
    /// an empty value).
    fn rate_limit_key(
        &self,
        rp: &RateLimitPolicy,
        req: &Request,
        identity: Option<&Identity>,
    ) -> Option<String> {
        let v =
            match &rp.key {
                RateLimitKey::Sub => identity.map(|i| i.sub.clone()),
                RateLimitKey::ApiKey => identity
                    .filter(|i| i.provider == API_KEY_PROVIDER)
                    .and_then(|i| i.claims.get("key_id"))
                    .and_then(Value::as_str)
                    .map(String::from),
                RateLimitKey::Org => identity.and_then(|i| i.org.clone()),
                RateLimitKey::Ip => req.client_ip.as_deref().map(|s| s.trim().into()),
                RateLimitKey::Claim(path, _) => identity
                    .and_then(|i| path.lookup(&i.claims))
                    .and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
                        _ => None,
                    }),
                RateLimitKey::Header(name) => {
                    let mut values = req.header_values(name);
                    let first = values.next().map(|v| String::from(v.trim()));
                    if values.next().is_some() {
                        None
                    } else {
                        first
                    }
                }
            };
        v.filter(|s| !s.is_empty())
    }

    /// The route's rate limits (after authentication and RBAC; on a public route only
    /// `ip` and `header` keys are allowed by the config). Every policy is checked first,
    /// without consuming anything; a request denied by one consumes none of the others.
    /// Then the shared stores are written (one compare-and-set each) and the in-process
    /// counters committed. Returns the response headers for an allow.
    fn rate_limit(
        &self,
        req: &Request,
        a: &Answers,
        now_ms: u64,
        ctx: &mut Ctx,
        route: &Route,
        identity: Option<&Identity>,
    ) -> R<Vec<(String, String)>> {
        use crate::ratelimit::{check, headers, Outcome, State};

        /// What to do with a checked policy once every policy allows.
        enum Commit {
            /// Nothing (already stored by this request).
            None,
            /// Keep the new state in an in-process map.
            InProcess(rls::Map, String, State, u64),
            /// The isolate's `kv` view with this request counted ([`Ctx::set_kv_sync`]).
            Kv(String, crate::ratelimit::edge::KvSync, u64),
            /// Compare-and-set in the shared store.
            Shared {
                key: String,
                expected: Option<String>,
                version: Option<String>,
                new: State,
                ttl_ms: u64,
            },
        }

        if route.rate_limits.is_empty() {
            return Ok(Vec::new());
        }
        let no_roles: Vec<String> = Vec::new();
        let roles = identity.map_or(&no_roles, |i| &i.roles);
        let mut outcomes: Vec<Outcome<'_>> = Vec::new();
        let mut plans: Vec<(&RateLimitPolicy, Commit)> = Vec::new();
        // Blocked keys to remember: (policy, key, state, until).
        let mut blocks: Vec<(&str, String, State, u64)> = Vec::new();
        for name in &route.rate_limits {
            let Some(rp) = self.config.rate_limits.iter().find(|p| p.name() == name) else {
                return deny(ErrorCode::ConfigError, "unknown rate limit");
            };
            if rp.skips(roles) {
                continue;
            }
            let policy = rp.for_roles(roles);
            // Fail closed: a request without the key value never shares a bucket.
            let Some(value) = self.rate_limit_key(rp, req, identity) else {
                return deny(
                    ErrorCode::AccessDenied,
                    format!("rate limit key missing ({})", rp.name()),
                );
            };
            let key = rls::store_key(rp.name(), &value);
            let in_process = |map: rls::Map, ctx: &mut Ctx| {
                let st = ctx.rate.get(map, rp.name(), &key, now_ms);
                let (o, s) = check(policy, st, now_ms, rp.cost);
                let expires = now_ms.saturating_add(o.reset_ms.max(1));
                (o, Commit::InProcess(map, key.clone(), s, expires))
            };
            let (o, commit) = if rp.store == StoreKind::Memory {
                in_process(rls::Map::Memory, ctx)
            } else if rp.store == StoreKind::Kv && ctx.rate.kv_sync {
                // KvSync: exact local counts plus the other isolates' entries, read at most
                // once per second per key (src/ratelimit/edge.rs).
                let mut sync = ctx.rate.kv_get(rp.name(), &key, now_ms).unwrap_or_default();
                let readable = if sync.read_due(now_ms) {
                    match a.rate_limits.get(&(rp.name().into(), key.clone())) {
                        Some(RateAnswer::Peers(peers)) => {
                            sync.apply_global(policy, peers.iter().copied(), now_ms);
                            ctx.rate
                                .kv_put(rp.name(), &key, sync, policy.window_ms(), now_ms);
                            true
                        }
                        Some(_) => false,
                        None => {
                            return Err(Flow::Need(Box::new(Io::RateLimitLoad {
                                policy: rp.name().into(),
                                key,
                                store: rp.store.as_str().into(),
                                timeout_ms: rp.timeout_ms,
                            })))
                        }
                    }
                } else {
                    true
                };
                if readable {
                    // Counted on a copy: committed only when every policy allows.
                    let mut trial = sync;
                    let o = trial.check(policy, now_ms, rp.cost);
                    (o, Commit::Kv(key.clone(), trial, policy.window_ms()))
                } else {
                    match rp.on_store_error {
                        OnStoreError::Local => in_process(rls::Map::Local, ctx),
                        OnStoreError::Allow => continue,
                        OnStoreError::Deny => {
                            return deny(
                                ErrorCode::ConfigError,
                                format!("rate limit store unavailable ({})", rp.name()),
                            )
                        }
                    }
                }
            } else {
                // The block cache: a key known to be over its limit is denied locally,
                // without a store round trip, until a request of this cost may pass.
                let answer = a.rate_limits.get(&(rp.name().into(), key.clone()));
                let already = matches!(answer, Some(RateAnswer::Loaded { stored: true, .. }));
                let blocked = (!already)
                    .then(|| ctx.rate.get(rls::Map::Blocked, rp.name(), &key, now_ms))
                    .flatten()
                    .map(|st| check(policy, Some(st), now_ms, rp.cost).0)
                    .filter(|o| !o.allowed);
                let budget = if rp.store == StoreKind::DurableObject {
                    MAX_RATE_LIMIT_CONFLICTS_SERIALIZED
                } else {
                    MAX_RATE_LIMIT_CONFLICTS
                };
                let loaded = match answer {
                    // Too many compare-and-set conflicts: a store error.
                    Some(RateAnswer::Loaded { conflicts, .. }) if *conflicts >= budget => None,
                    Some(RateAnswer::Loaded {
                        raw,
                        version,
                        stored,
                        ..
                    }) => match raw.as_deref().map(rls::decode_state) {
                        // A malformed stored state is a store error.
                        Some(None) => None,
                        Some(Some(st)) => Some((Some(st), raw, version, *stored)),
                        None => Some((None, raw, version, *stored)),
                    },
                    Some(RateAnswer::Error | RateAnswer::Peers(_)) => None,
                    None if blocked.is_some() => None,
                    None => {
                        return Err(Flow::Need(Box::new(Io::RateLimitLoad {
                            policy: rp.name().into(),
                            key,
                            store: rp.store.as_str().into(),
                            timeout_ms: rp.timeout_ms,
                        })))
                    }
                };
                match (blocked, loaded) {
                    (Some(o), _) => (o, Commit::None),
                    (None, Some((st, raw, version, stored))) => {
                        let (mut o, s) = check(policy, st, now_ms, rp.cost);
                        if stored {
                            // Committed by this request already: it counts as passed.
                            o.allowed = true;
                            o.retry_after = 0;
                            o.retry_after_ms = 0;
                            (o, Commit::None)
                        } else {
                            if !o.allowed && !o.cost_exceeds_limit {
                                let until = now_ms.saturating_add(o.retry_after_ms);
                                if let Some(st) = st {
                                    blocks.push((rp.name(), key.clone(), st, until));
                                }
                            }
                            let ttl_ms = o.reset_ms.max(1000);
                            (
                                o,
                                Commit::Shared {
                                    key: key.clone(),
                                    expected: raw.clone(),
                                    version: version.clone(),
                                    new: s,
                                    ttl_ms,
                                },
                            )
                        }
                    }
                    (None, None) => match rp.on_store_error {
                        OnStoreError::Local => in_process(rls::Map::Local, ctx),
                        OnStoreError::Allow => continue,
                        OnStoreError::Deny => {
                            return deny(
                                ErrorCode::ConfigError,
                                format!("rate limit store unavailable ({})", rp.name()),
                            )
                        }
                    },
                }
            };
            outcomes.push(o);
            plans.push((rp, commit));
        }
        let mut response: Vec<(String, String)> = Vec::new();
        if self.config.rate_limit_headers && !outcomes.is_empty() {
            response.push((
                "RateLimit-Policy".into(),
                headers::rate_limit_policy(&outcomes),
            ));
            response.push(("RateLimit".into(), headers::rate_limit(&outcomes)));
        }
        if let Some(retry) = headers::retry_after(&outcomes) {
            for (policy, key, st, until) in blocks {
                ctx.rate.put(rls::Map::Blocked, policy, &key, st, until);
            }
            response.push(("Retry-After".into(), format!("{retry}")));
            let names: Vec<&str> = outcomes
                .iter()
                .filter(|o| !o.allowed)
                .map(|o| o.policy)
                .collect();
            return Err(Flow::Limited(
                format!("rate limit exceeded ({})", names.join(", ")),
                response,
                retry,
            ));
        }
        // Every policy allows: the shared stores first (one compare-and-set each, a step
        // each), then the in-process counters, all in the last step.
        for (rp, commit) in &plans {
            if let Commit::Shared {
                key,
                expected,
                version,
                new,
                ttl_ms,
            } = commit
            {
                return Err(Flow::Need(Box::new(Io::RateLimitStore {
                    policy: rp.name().into(),
                    key: key.clone(),
                    store: rp.store.as_str().into(),
                    expected: expected.clone(),
                    version: version.clone(),
                    new: rls::encode_state(new),
                    ttl_ms: *ttl_ms,
                    timeout_ms: rp.timeout_ms,
                })));
            }
        }
        for (rp, commit) in plans {
            match commit {
                Commit::InProcess(map, key, st, expires) => {
                    ctx.rate.put(map, rp.name(), &key, st, expires)
                }
                Commit::Kv(key, sync, window_ms) => {
                    ctx.rate.kv_put(rp.name(), &key, sync, window_ms, now_ms)
                }
                _ => {}
            }
        }
        Ok(response)
    }

    fn extract(&self, req: &Request) -> Credential {
        for source in &self.config.token_sources {
            let mut found: Vec<String> = Vec::new();
            match source {
                TokenSource::Header { name, scheme } => {
                    for value in req.header_values(name) {
                        let value = value.trim();
                        let cred = match scheme {
                            None => Some(value),
                            Some(s) => match value.split_once(' ') {
                                Some((sch, rest)) if sch.eq_ignore_ascii_case(s) => {
                                    Some(rest.trim())
                                }
                                _ => None,
                            },
                        };
                        if let Some(c) = cred.filter(|c| !c.is_empty()) {
                            found.push(c.into());
                        }
                    }
                }
                TokenSource::Cookie { name } | TokenSource::Session { cookie: name } => {
                    for header in req.header_values("cookie") {
                        for pair in header.split(';') {
                            if let Some((n, v)) = pair.trim().split_once('=') {
                                let v = v.trim().trim_matches('"');
                                if n.trim() == name && !v.is_empty() {
                                    found.push(v.into());
                                }
                            }
                        }
                    }
                }
                TokenSource::Query { name } => {
                    let query = req
                        .path
                        .split_once('?')
                        .map(|(_, q)| q.split('#').next().unwrap_or(""))
                        .unwrap_or("");
                    for pair in query.split('&') {
                        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                        if crate::gate::route::percent_decode(n).ok().as_deref()
                            == Some(name.as_str())
                        {
                            match crate::gate::route::percent_decode(v) {
                                Ok(v) if !v.is_empty() => found.push(v),
                                Ok(_) => {}
                                Err(_) => return Credential::Ambiguous,
                            }
                        }
                    }
                }
            }
            let session = matches!(source, TokenSource::Session { .. });
            match found.len() {
                0 => continue,
                1 => {
                    return found
                        .pop()
                        .map(if session {
                            Credential::Session
                        } else {
                            Credential::Found
                        })
                        .unwrap_or(Credential::None)
                }
                _ => return Credential::Ambiguous,
            }
        }
        Credential::None
    }

    fn verify_api_key(&self, credential: &str, a: &Answers, now: i64) -> R<Verified> {
        if !self.config.api_keys {
            return deny(ErrorCode::InvalidCredentials, "api keys are not accepted");
        }
        // One answer for malformed, unknown, wrong, expired and revoked keys: the same
        // code, detail, body and headers, so a caller cannot learn which key ids exist.
        let parsed = match api_key::parse(credential) {
            Ok(p) => p,
            Err(_) => return deny(ErrorCode::InvalidCredentials, INVALID_API_KEY),
        };
        let record = match a.api_keys.get(parsed.id) {
            None => {
                return Err(Flow::Need(Box::new(Io::ApiKey {
                    key_id: parsed.id.into(),
                })))
            }
            Some(KeyAnswer::Unknown) => {
                // The same hashing and constant-time comparison as for a known key.
                let _ = api_key::ct_eq(&[0u8; 32], &parsed.hash());
                return deny(ErrorCode::InvalidCredentials, INVALID_API_KEY);
            }
            Some(KeyAnswer::Malformed) => {
                // A store fault, not the caller's: 500, and never accepted.
                return deny(
                    ErrorCode::ConfigError,
                    "the api key store returned a malformed record",
                );
            }
            Some(KeyAnswer::Record(r)) => r.clone(),
        };
        if record.check(&parsed, now).is_err() {
            return deny(ErrorCode::InvalidCredentials, INVALID_API_KEY);
        }
        self.check_revoked(&record.id, a)?;
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String(record.id.clone()));
        claims.insert("key_id".into(), Value::String(record.id.clone()));
        claims.insert("account".into(), Value::String(record.account.clone()));
        claims.insert("name".into(), Value::String(record.name.clone()));
        claims.insert("exp".into(), Value::from(record.expires_at));
        Ok(Verified {
            provider: API_KEY_PROVIDER.into(),
            sub: record.id,
            roles: record.roles,
            permissions: record.permissions,
            org: Some(record.account),
            claims,
        })
    }

    fn verify_session(&self, id: &str, a: &Answers, now: i64) -> R<Verified> {
        if id.len() > MAX_SESSION_ID {
            return deny(ErrorCode::SessionNotFound, "unknown session");
        }
        let hash = session_hash(id);
        let record = match a.sessions.get(&hash) {
            None => return Err(Flow::Need(Box::new(Io::Session { hash }))),
            Some(SessionAnswer::Unknown) => {
                return deny(ErrorCode::SessionNotFound, "unknown session")
            }
            Some(SessionAnswer::Malformed) => {
                return deny(
                    ErrorCode::ConfigError,
                    "the session store returned a malformed record",
                )
            }
            Some(SessionAnswer::Record(r)) => r,
        };
        match record.check(id, now) {
            Ok(()) => {}
            Err(SessionRejection::Unknown) => {
                return deny(ErrorCode::SessionNotFound, "unknown session")
            }
            Err(SessionRejection::Revoked) => return deny(ErrorCode::Revoked, "session revoked"),
            Err(SessionRejection::Expired) => {
                return deny(ErrorCode::SessionExpired, "session expired")
            }
        }
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String(record.user_id.clone()));
        claims.insert("exp".into(), Value::from(record.expires_at));
        Ok(Verified {
            provider: SESSION_PROVIDER.into(),
            sub: record.user_id.clone(),
            roles: record.roles.clone(),
            permissions: record.permissions.clone(),
            org: record.org.clone(),
            claims,
        })
    }

    fn check_revoked(&self, id: &str, a: &Answers) -> R<()> {
        if !self.config.revocation {
            return Ok(());
        }
        match a.revoked.get(id) {
            None => Err(Flow::Need(Box::new(Io::Revoked { id: id.into() }))),
            Some(RevokedAnswer::Yes) => deny(ErrorCode::Revoked, "token revoked"),
            Some(RevokedAnswer::No) => Ok(()),
            // Fail closed: a store answer that is neither "no" nor "yes" is a store error.
            Some(RevokedAnswer::Malformed) => deny(
                ErrorCode::ConfigError,
                "the revocation store returned a malformed answer",
            ),
        }
    }

    fn verify_token(&self, token: &str, a: &Answers, now: i64, ctx: &mut Ctx) -> R<Verified> {
        let limits = Limits::DEFAULT;
        if token.len() > limits.max_token_bytes {
            return deny(ErrorCode::DecodeFailed, "token too large");
        }
        let (provider, claims) = if token.split('.').count() == 3 {
            let untrusted = UntrustedToken::parse(token, &limits)
                .map_err(|e| Flow::Deny(e.code(), "token decode failed".into(), None))?;
            let unverified = untrusted
                .claims_unverified(&limits)
                .map_err(|e| Flow::Deny(e.code(), "token decode failed".into(), None))?;
            let Some(iss) = unverified.get("iss").and_then(Value::as_str) else {
                return deny(ErrorCode::InvalidToken, "token has no issuer");
            };
            let Some(p) = self
                .config
                .providers
                .iter()
                .find(|p| p.issuer.as_deref() == Some(iss))
            else {
                return deny(ErrorCode::InvalidToken, "issuer not accepted");
            };
            let claims = self.verify_jwt(p, token, a, now, ctx)?;
            (p, claims)
        } else {
            let Some(p) = self.config.providers.iter().find(|p| p.accepts_opaque()) else {
                return deny(ErrorCode::DecodeFailed, "not a JWT");
            };
            let claims = if p.introspection.is_some() {
                self.introspect(p, token, a, now, ctx)?
            } else {
                self.custom(p, token, a, now)?
            };
            (p, claims)
        };
        let mapped = match provider.map_claims(&claims, now) {
            Ok(m) => m,
            Err(ProviderRejection::InvalidClaims) => {
                return deny(
                    ErrorCode::InvalidToken,
                    "claims not accepted by the provider",
                )
            }
            Err(ProviderRejection::RuleFailed) => {
                return deny(ErrorCode::AccessDenied, "provider claim rule not met")
            }
        };
        match claims.get("jti") {
            None => {}
            Some(Value::String(jti)) => self.check_revoked(jti, a)?,
            // An integer jti is checked under its canonical decimal form.
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
                self.check_revoked(&n.to_string(), a)?
            }
            // With revocation on, never skipped: any other jti is refused.
            Some(_) if self.config.revocation => {
                return deny(ErrorCode::InvalidToken, "jti is not a string")
            }
            Some(_) => {}
        }
        Ok(Verified {
            provider: provider.name.clone(),
            claims,
            roles: mapped.roles,
            permissions: mapped.permissions,
            org: mapped.org,
            sub: mapped.sub,
        })
    }

    fn remote_keys<'c>(
        &self,
        p: &Provider,
        url: &str,
        a: &Answers,
        now: i64,
        ctx: &'c Ctx,
    ) -> R<&'c JwkSet> {
        // A set past its cache policy's `max_stale` is not used (AUTH-007 once the host has
        // nothing newer for this request).
        match ctx.jwks.get(&p.name).filter(|c| c.usable_at(now)) {
            Some(c) => Ok(&c.set),
            None if a.jwks_failed.contains(&p.name) || a.jwks_refreshed.contains(&p.name) => {
                deny(ErrorCode::JwksUnavailable, "jwks unavailable")
            }
            None => Err(Flow::Need(Box::new(Io::Jwks {
                provider: p.name.clone(),
                url: url.into(),
                refresh: false,
            }))),
        }
    }

    fn jwks_url(&self, p: &Provider, a: &Answers, ctx: &mut Ctx) -> R<Option<String>> {
        match &p.keys {
            KeySource::Remote { url } => Ok(Some(url.clone())),
            KeySource::Discovery { url } => match ctx.discovery.get(&p.name) {
                Some((iss, uri)) => {
                    // The one URL rule (src/url.rs): https, or http to a loopback host.
                    let https = crate::url::fetchable(uri).is_ok();
                    let problem = if Some(iss.as_str()) != p.issuer.as_deref() {
                        Some("discovery issuer does not match the provider")
                    } else if !https {
                        Some("discovery jwks_uri is not https")
                    } else {
                        None
                    };
                    if let Some(detail) = problem {
                        // Not kept: the next request fetches the document again.
                        ctx.discovery.remove(&p.name);
                        return deny(ErrorCode::ProviderError, detail);
                    }
                    Ok(Some(uri.clone()))
                }
                None if a.discovery_failed.contains(&p.name) => {
                    deny(ErrorCode::JwksUnavailable, "discovery unavailable")
                }
                None => Err(Flow::Need(Box::new(Io::Discovery {
                    provider: p.name.clone(),
                    url: url.clone(),
                }))),
            },
            _ => Ok(None),
        }
    }

    fn verify_jwt(
        &self,
        p: &Provider,
        token: &str,
        a: &Answers,
        now: i64,
        ctx: &mut Ctx,
    ) -> R<Map<String, Value>> {
        let (result, remote_url) = match &p.keys {
            KeySource::Key(key) => {
                // One configured key: the token's kid is not consulted (JwkSet::direct).
                let Ok(set) = JwkSet::direct(key.clone()) else {
                    return deny(ErrorCode::ConfigError, "unusable configured key");
                };
                (
                    jwt_verify(token, &set, &p.options, now, self.backend.as_ref()),
                    None,
                )
            }
            KeySource::Local(set) => (
                jwt_verify(token, set, &p.options, now, self.backend.as_ref()),
                None,
            ),
            KeySource::Host => return self.custom(p, token, a, now),
            KeySource::Remote { .. } | KeySource::Discovery { .. } => {
                let url = self.jwks_url(p, a, ctx)?.unwrap_or_default();
                let set = self.remote_keys(p, &url, a, now, ctx)?;
                (
                    jwt_verify(token, set, &p.options, now, self.backend.as_ref()),
                    Some(url),
                )
            }
        };
        match result {
            Ok(v) => Ok(v.into_claims()),
            Err(VerifyError::NoMatchingKey)
                if remote_url.is_some() && !a.jwks_refreshed.contains(&p.name) =>
            {
                Err(Flow::Need(Box::new(Io::Jwks {
                    provider: p.name.clone(),
                    url: remote_url.unwrap_or_default(),
                    refresh: true,
                })))
            }
            Err(e) => deny(e.code(), verify_detail(&e)),
        }
    }

    fn custom(&self, p: &Provider, token: &str, a: &Answers, now: i64) -> R<Map<String, Value>> {
        match a.custom.get(&token_key(&p.name, token)) {
            None => Err(Flow::Need(Box::new(Io::Custom {
                provider: p.name.clone(),
                token: token.into(),
            }))),
            Some(None) => deny(ErrorCode::InvalidToken, "rejected by the custom provider"),
            Some(Some(claims)) => {
                check_exp(claims, now, p.options.clock_tolerance)?;
                Ok(claims.clone())
            }
        }
    }

    fn introspect(
        &self,
        p: &Provider,
        token: &str,
        a: &Answers,
        now: i64,
        ctx: &mut Ctx,
    ) -> R<Map<String, Value>> {
        let Some(cfg) = &p.introspection else {
            return deny(ErrorCode::ConfigError, "no introspection endpoint");
        };
        let key = token_key(&p.name, token);
        let hash = key.1;
        ctx.introspection_cache.retain(|e| e.until > now);
        if let Some(hit) = ctx
            .introspection_cache
            .iter()
            .find(|e| e.provider == p.name && api_key::ct_eq(&e.token_hash, &hash))
        {
            return Ok(hit.claims.clone());
        }
        let claims = match a.introspection.get(&key) {
            None => {
                return Err(Flow::Need(Box::new(introspection_request(
                    &p.name, cfg, token,
                ))))
            }
            Some(Err(())) => return deny(ErrorCode::ProviderError, "introspection failed"),
            Some(Ok(m)) => m.clone(),
        };
        if claims.get("active") != Some(&Value::Bool(true)) {
            return deny(ErrorCode::InvalidToken, "token is not active");
        }
        check_exp(&claims, now, p.options.clock_tolerance)?;
        if let (Some(iss), Some(want)) = (claims.get("iss"), p.issuer.as_deref()) {
            if iss.as_str() != Some(want) {
                return deny(ErrorCode::InvalidToken, "issuer not accepted");
            }
        }
        if !p.options.audience.is_empty() {
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => p.options.audience.contains(a),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|a| p.options.audience.iter().any(|w| w == a)),
                _ => false,
            };
            if !ok {
                return deny(ErrorCode::InvalidToken, "audience not accepted");
            }
        }
        let ttl_end = now.saturating_add(cfg.cache_ttl as i64);
        let until = match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) => exp.min(ttl_end),
            None => ttl_end,
        };
        if ctx.introspection_cache.len() >= MAX_INTROSPECTION_ENTRIES {
            if let Some(i) = ctx
                .introspection_cache
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.until)
                .map(|(i, _)| i)
            {
                ctx.introspection_cache.swap_remove(i);
            }
        }
        ctx.introspection_cache.push(CachedIntrospection {
            provider: p.name.clone(),
            token_hash: hash,
            until,
            claims: claims.clone(),
        });
        Ok(claims)
    }

    fn identity_headers(&self, id: &Identity) -> Vec<(String, String)> {
        let h = &self.config.identity_headers;
        let mut out = Vec::new();
        let list = |v: &[String]| {
            v.iter()
                .map(|s| header_value(s))
                .collect::<Vec<_>>()
                .join(",")
        };
        if let Some(n) = &h.user_id {
            out.push((n.clone(), header_value(&id.sub)));
        }
        if let Some(n) = &h.roles {
            out.push((n.clone(), list(&id.roles)));
        }
        if let Some(n) = &h.permissions {
            out.push((n.clone(), list(&id.permissions)));
        }
        if let Some(n) = &h.provider {
            out.push((n.clone(), header_value(&id.provider)));
        }
        if let (Some(n), Some(org)) = (&h.org, &id.org) {
            out.push((n.clone(), header_value(org)));
        }
        if let Some(n) = &h.claims {
            let json = serde_json::to_vec(&id.claims).unwrap_or_default();
            out.push((n.clone(), crate::codec::b64::encode(&json)));
        }
        out
    }

    fn make_deny(
        &self,
        code: ErrorCode,
        detail: String,
        scope: Option<String>,
        route: Option<String>,
    ) -> Deny {
        let realm = &self.config.realm;
        let www = match code {
            ErrorCode::MissingToken => Some(format!("Bearer realm=\"{realm}\"")),
            ErrorCode::InsufficientRoles | ErrorCode::InsufficientPermissions => {
                let scope: String = scope
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| is_nqchar(*c) || *c == ' ')
                    .collect();
                Some(format!(
                    "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{scope}\""
                ))
            }
            c if c.status() == 401 => Some(format!(
                "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{}\"",
                c.title()
            )),
            _ => None,
        };
        let body = problem_body(code, &detail, None);
        Deny {
            status: code.status(),
            code,
            www_authenticate: www,
            detail,
            body,
            route,
            response_headers: Vec::new(),
            retry_after: None,
        }
    }
}

/// What a host must supply for a config to work, checked once when the host starts (a
/// missing piece is a start-up error, not a failure on every request).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Names of the providers whose tokens the host verifies (`custom` without keys):
    /// the host needs a custom verifier.
    pub custom_providers: Vec<String>,
    /// `jti` revocation is on: the host needs a store that answers "is revoked".
    pub revocation: bool,
    /// API keys are accepted: the host needs a store that looks up key records.
    pub api_keys: bool,
}

impl Gate {
    /// What the host must supply for this config (nothing when the gate is disabled).
    pub fn requirements(&self) -> Requirements {
        let c = &self.config;
        if !c.enabled {
            return Requirements::default();
        }
        Requirements {
            custom_providers: c
                .providers
                .iter()
                .filter(|p| p.keys == KeySource::Host)
                .map(|p| p.name.clone())
                .collect(),
            revocation: c.revocation,
            api_keys: c.api_keys,
        }
    }
}

/// The `application/problem+json` body of a denial (with `retryAfter` on a 429).
fn problem_body(code: ErrorCode, detail: &str, retry_after: Option<u64>) -> String {
    let mut body = Map::new();
    body.insert(
        "type".into(),
        Value::String(format!("urn:edgegate:error:{}", code.as_str())),
    );
    body.insert("title".into(), Value::String(code.title().into()));
    body.insert("status".into(), Value::from(code.status()));
    body.insert("code".into(), Value::String(code.as_str().into()));
    body.insert("detail".into(), Value::String(detail.into()));
    if let Some(r) = retry_after {
        body.insert("retryAfter".into(), Value::from(r));
    }
    serde_json::to_string(&Value::Object(body)).unwrap_or_default()
}

/// The JSON forms the hosts (wasm bindings, the Worker) exchange with the core. Field
/// names are camelCase, as JS expects.
mod json_forms {
    use super::*;

    fn str_field<'a>(o: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
        o.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("request.{name}: expected string"))
    }

    impl Request {
        /// A host's request as JSON text (see [`Request::from_json`]), parsed strictly
        /// (`codec::json::parse_untrusted`: byte budget, depth, no duplicate member).
        pub fn from_json_bytes(bytes: &[u8]) -> Result<Request, String> {
            let v = crate::codec::json::parse_untrusted(bytes, &Limits::DEFAULT)
                .map_err(|e| format!("request: {e}"))?;
            Request::from_json(&v)
        }

        /// `{"method", "path", "headers": {name: value | [values]} | [[name, value], ...],
        /// "clientCert": {"verified", "fingerprintSha256"}, "tlsClientAuth": {raw TLS facts,
        /// see [`ClientCert::from_tls_facts`]} (at most one of the last two), "clientIp"}`.
        pub fn from_json(v: &Value) -> Result<Request, String> {
            let o = v.as_object().ok_or("request: expected object")?;
            let mut req = Request::new(str_field(o, "method")?, str_field(o, "path")?);
            match o.get("headers") {
                None | Some(Value::Null) => {}
                Some(Value::Object(h)) => {
                    for (name, value) in h {
                        match value {
                            Value::String(x) => req.headers.push((name.clone(), x.clone())),
                            Value::Array(xs) => {
                                for x in xs {
                                    let x = x
                                        .as_str()
                                        .ok_or("request.headers: expected string values")?;
                                    req.headers.push((name.clone(), x.into()));
                                }
                            }
                            _ => return Err("request.headers: expected string values".into()),
                        }
                    }
                }
                Some(Value::Array(pairs)) => {
                    for p in pairs {
                        match p.as_array().map(Vec::as_slice) {
                            Some([Value::String(n), Value::String(x)]) => {
                                req.headers.push((n.clone(), x.clone()))
                            }
                            _ => return Err("request.headers: expected [name, value] pairs".into()),
                        }
                    }
                }
                Some(_) => return Err("request.headers: expected object or array".into()),
            }
            match o.get("clientCert") {
                None | Some(Value::Null) => {}
                Some(Value::Object(c)) => {
                    let verified = c.get("verified").and_then(Value::as_bool).unwrap_or(false);
                    let fingerprint_sha256 = c
                        .get("fingerprintSha256")
                        .and_then(Value::as_str)
                        .map(String::from);
                    req.client_cert = Some(ClientCert {
                        verified,
                        fingerprint_sha256,
                    });
                }
                Some(_) => return Err("request.clientCert: expected object".into()),
            }
            match o.get("clientIp") {
                None | Some(Value::Null) => {}
                Some(Value::String(ip)) => req.client_ip = Some(ip.clone()),
                Some(_) => return Err("request.clientIp: expected string".into()),
            }
            match o.get("tlsClientAuth") {
                None | Some(Value::Null) => {}
                Some(Value::Object(t)) => {
                    if req.client_cert.is_some() {
                        return Err("request: clientCert and tlsClientAuth are exclusive".into());
                    }
                    let f = |k: &str| t.get(k).and_then(Value::as_str);
                    req.client_cert = ClientCert::from_tls_facts(
                        f("certPresented"),
                        f("certVerified"),
                        f("certRevoked"),
                        f("certFingerprintSHA256"),
                    );
                }
                Some(_) => return Err("request.tlsClientAuth: expected object".into()),
            }
            Ok(req)
        }
    }

    fn strings(v: &[String]) -> Value {
        Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
    }

    fn header_map(h: &[(String, String)]) -> Value {
        Value::Object(
            h.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    fn opt(v: &Option<String>) -> Value {
        v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
    }

    impl Identity {
        /// `{"sub", "provider", "roles", "permissions", "org", "claims"}`.
        pub fn to_json(&self) -> Value {
            let mut m = Map::new();
            m.insert("sub".into(), Value::String(self.sub.clone()));
            m.insert("provider".into(), Value::String(self.provider.clone()));
            m.insert("roles".into(), strings(&self.roles));
            m.insert("permissions".into(), strings(&self.permissions));
            m.insert("org".into(), opt(&self.org));
            m.insert("claims".into(), Value::Object(self.claims.clone()));
            Value::Object(m)
        }
    }

    impl Deny {
        /// `{"allow": false, "status", "code", "detail", "wwwAuthenticate", "body", "route"}`.
        pub fn to_json(&self) -> Value {
            let mut m = Map::new();
            m.insert("allow".into(), Value::Bool(false));
            m.insert("status".into(), Value::from(self.status));
            m.insert("code".into(), Value::String(self.code.as_str().into()));
            m.insert("detail".into(), Value::String(self.detail.clone()));
            m.insert("wwwAuthenticate".into(), opt(&self.www_authenticate));
            m.insert("body".into(), Value::String(self.body.clone()));
            m.insert("route".into(), opt(&self.route));
            m.insert("responseHeaders".into(), header_map(&self.response_headers));
            m.insert(
                "retryAfter".into(),
                self.retry_after.map_or(Value::Null, Value::from),
            );
            Value::Object(m)
        }
    }

    impl AllowReason {
        /// `authenticated`, `public`, `disabled`, `shadow`.
        pub const fn as_str(self) -> &'static str {
            match self {
                AllowReason::Authenticated => "authenticated",
                AllowReason::Public => "public",
                AllowReason::Anonymous => "anonymous",
                AllowReason::Disabled => "disabled",
                AllowReason::Shadow => "shadow",
            }
        }
    }

    impl Preflight {
        /// `{"allow": false, "preflight": true, "status": 204, "code": null,
        /// "reason": "preflight", "headers": {name: value}, "route": null}`: `allow` is
        /// false so that no host forwards it; answer it with `status`, `headers` and no body.
        pub fn to_json(&self) -> Value {
            let mut m = Map::new();
            m.insert("allow".into(), Value::Bool(false));
            m.insert("preflight".into(), Value::Bool(true));
            m.insert("status".into(), Value::from(self.status));
            m.insert("code".into(), Value::Null);
            m.insert("reason".into(), Value::String("preflight".into()));
            let headers: Map<String, Value> = self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            m.insert("headers".into(), Value::Object(headers));
            m.insert("route".into(), Value::Null);
            Value::Object(m)
        }
    }

    impl Decision {
        /// Allow: `{"allow": true, "status": 200, "code": null, "reason", "identity",
        /// "headers": {name: value}, "stripHeaders", "route", "path", "forwardPath", "shadow"}`;
        /// deny: see [`Deny::to_json`]; preflight: see [`Preflight::to_json`].
        pub fn to_json(&self) -> Value {
            match self {
                Decision::Deny(d) => d.to_json(),
                Decision::Preflight(p) => p.to_json(),
                Decision::Allow(a) => {
                    let mut m = Map::new();
                    m.insert("allow".into(), Value::Bool(true));
                    m.insert("status".into(), Value::from(200));
                    m.insert("code".into(), Value::Null);
                    m.insert("reason".into(), Value::String(a.reason.as_str().into()));
                    m.insert(
                        "identity".into(),
                        a.identity.as_ref().map_or(Value::Null, Identity::to_json),
                    );
                    let headers: Map<String, Value> = a
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect();
                    m.insert("headers".into(), Value::Object(headers));
                    m.insert("stripHeaders".into(), strings(&a.strip_headers));
                    m.insert("route".into(), opt(&a.route));
                    m.insert("path".into(), opt(&a.path));
                    m.insert("forwardPath".into(), opt(&a.forward_path));
                    m.insert(
                        "shadow".into(),
                        a.shadow.as_ref().map_or(Value::Null, Deny::to_json),
                    );
                    m.insert("responseHeaders".into(), header_map(&a.response_headers));
                    Value::Object(m)
                }
            }
        }
    }

    impl Io {
        /// `{"type": "jwks" | "discovery" | "introspect" | "custom" | "apiKey" | "revoked", ...}`
        /// with the variant's fields in camelCase. Carries the token for `introspect` and
        /// `custom` (the host needs it): never log it.
        pub fn to_json(&self) -> Value {
            let mut m = Map::new();
            let mut put = |k: &str, v: Value| {
                m.insert(k.into(), v);
            };
            let s = |x: &String| Value::String(x.clone());
            match self {
                Io::Jwks {
                    provider,
                    url,
                    refresh,
                } => {
                    put("type", "jwks".into());
                    put("provider", s(provider));
                    put("url", s(url));
                    put("refresh", Value::Bool(*refresh));
                }
                Io::Discovery { provider, url } => {
                    put("type", "discovery".into());
                    put("provider", s(provider));
                    put("url", s(url));
                }
                Io::Introspect {
                    provider,
                    url,
                    token,
                    authorization,
                    body,
                } => {
                    put("type", "introspect".into());
                    put("provider", s(provider));
                    put("url", s(url));
                    put("token", s(token));
                    put("authorization", s(authorization));
                    put("body", s(body));
                }
                Io::Custom { provider, token } => {
                    put("type", "custom".into());
                    put("provider", s(provider));
                    put("token", s(token));
                }
                Io::ApiKey { key_id } => {
                    put("type", "apiKey".into());
                    put("keyId", s(key_id));
                }
                Io::Revoked { id } => {
                    put("type", "revoked".into());
                    put("id", s(id));
                }
                Io::Session { hash } => {
                    put("type", "session".into());
                    put("hash", s(hash));
                }
                Io::RateLimitLoad {
                    policy,
                    key,
                    store,
                    timeout_ms,
                } => {
                    put("type", "rateLimitLoad".into());
                    put("policy", s(policy));
                    put("key", s(key));
                    put("store", s(store));
                    put("timeoutMs", Value::from(*timeout_ms));
                }
                Io::RateLimitStore {
                    policy,
                    key,
                    store,
                    expected,
                    version,
                    new,
                    ttl_ms,
                    timeout_ms,
                } => {
                    put("type", "rateLimitStore".into());
                    put("policy", s(policy));
                    put("key", s(key));
                    put("store", s(store));
                    put("expected", opt(expected));
                    put("version", opt(version));
                    put("new", s(new));
                    put("ttlMs", Value::from(*ttl_ms));
                    put("timeoutMs", Value::from(*timeout_ms));
                }
            }
            Value::Object(m)
        }
    }

    impl Step {
        /// `{"done": <decision>}` or `{"need": <io>}`.
        pub fn to_json(&self) -> Value {
            let mut m = Map::new();
            match self {
                Step::Done(d) => m.insert("done".into(), d.to_json()),
                Step::Need(io) => m.insert("need".into(), io.to_json()),
            };
            Value::Object(m)
        }
    }
}

/// Most header names echoed in `Access-Control-Allow-Headers`.
const MAX_ECHOED_HEADERS: usize = 64;

/// The request's `Access-Control-Request-Headers` as a lowercase list, when every item is
/// a header name (a token) and there are at most [`MAX_ECHOED_HEADERS`]; else `None`.
fn echo_header_list(req: &Request) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    for value in req.header_values("access-control-request-headers") {
        for item in value.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if !crate::gate::cfg::is_token(item) || names.len() >= MAX_ECHOED_HEADERS {
                return None;
            }
            names.push(item.to_ascii_lowercase());
        }
    }
    if names.is_empty() {
        None
    } else {
        Some(names.join(", "))
    }
}

fn is_nqchar(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// Percent-encodes what may not appear in a header value item: controls, non-ASCII,
/// space, `%` and `,` (the list separator).
fn header_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'%' && b != b',' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn check_exp(claims: &Map<String, Value>, now: i64, tolerance: u64) -> R<()> {
    match claims.get("exp") {
        None => Ok(()),
        Some(v) => match v.as_f64() {
            Some(exp) if (now as f64) < exp + tolerance as f64 => Ok(()),
            Some(_) => deny(ErrorCode::TokenExpired, "token expired"),
            None => deny(ErrorCode::InvalidToken, "exp is not a number"),
        },
    }
}

/// The detail of a refused token: the core's one text for the error (its `Display`).
fn verify_detail(e: &VerifyError) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_encoded() {
        assert_eq!(header_value("user-1"), "user-1");
        assert_eq!(header_value("a b,c%\r\n"), "a%20b%2Cc%25%0D%0A");
        assert_eq!(header_value("é"), "%C3%A9");
    }

    #[test]
    fn io_debug_never_shows_tokens_or_secrets() {
        let io = Io::Introspect {
            provider: "p".into(),
            url: "https://x".into(),
            token: "TOKEN".into(),
            authorization: "Basic SECRET".into(),
            body: "token=TOKEN".into(),
        };
        let s = format!("{io:?}");
        assert!(!s.contains("SECRET") && !s.contains("TOKEN"), "{s}");
        let s = format!(
            "{:?}",
            Io::Custom {
                provider: "p".into(),
                token: "TOKEN".into()
            }
        );
        assert!(!s.contains("TOKEN"));
    }

    #[test]
    fn json_forms() {
        let v: Value = serde_json::from_str(
            r#"{"method": "GET", "path": "/x", "headers": {"a": "1", "b": ["2", "3"]},
                "clientCert": {"verified": true, "fingerprintSha256": "ab"}}"#,
        )
        .unwrap();
        let r = Request::from_json(&v).unwrap();
        assert_eq!(r.headers.len(), 3);
        assert_eq!(
            r.client_cert.unwrap().fingerprint_sha256.as_deref(),
            Some("ab")
        );
        let v: Value =
            serde_json::from_str(r#"{"method": "GET", "path": "/x", "headers": [["a", "1"]]}"#)
                .unwrap();
        assert_eq!(
            Request::from_json(&v).unwrap().headers,
            alloc::vec![("a".into(), "1".into())]
        );
        let v: Value = serde_json::from_str(r#"{"method": "GET"}"#).unwrap();
        assert_eq!(
            Request::from_json(&v).unwrap_err(),
            "request.path: expected string"
        );
        let g = Gate::from_config(
            br#"{"routes": [{"path": "/h", "public": true}]}"#,
            &Env::new(),
        )
        .unwrap();
        let mut ctx = Ctx::new();
        let step = g.decide(&Pending::new(Request::new("GET", "/h")), 0, &mut ctx);
        let j = step.to_json();
        assert_eq!(j["done"]["allow"], true);
        assert_eq!(j["done"]["reason"], "public");
        assert_eq!(j["done"]["code"], Value::Null);
        assert_eq!(j["done"]["stripHeaders"].as_array().unwrap().len(), 6);
        let j = g
            .decide(&Pending::new(Request::new("GET", "/nope")), 0, &mut ctx)
            .to_json();
        assert_eq!(j["done"]["allow"], false);
        assert_eq!(j["done"]["status"], 403);
        assert_eq!(j["done"]["code"], "AUTH-013");
        let io = Io::Jwks {
            provider: "p".into(),
            url: "https://u".into(),
            refresh: true,
        }
        .to_json();
        assert_eq!(io["type"], "jwks");
        assert_eq!(io["refresh"], true);
        assert_eq!(Io::ApiKey { key_id: "k".into() }.to_json()["keyId"], "k");
    }

    #[test]
    fn deny_shapes() {
        let g = Gate::from_config(b"{}", &Env::new()).unwrap();
        let d = g.make_deny(ErrorCode::MissingToken, "no credentials".into(), None, None);
        assert_eq!(
            d.www_authenticate.as_deref(),
            Some("Bearer realm=\"edgegate\"")
        );
        let d = g.make_deny(
            ErrorCode::InsufficientPermissions,
            "x".into(),
            Some("reports:read a\"b".into()),
            None,
        );
        assert_eq!(
            d.www_authenticate.as_deref(),
            Some("Bearer realm=\"edgegate\", error=\"insufficient_scope\", scope=\"reports:read ab\"")
        );
        let d = g.make_deny(ErrorCode::TokenExpired, "token expired".into(), None, None);
        assert_eq!(
            d.www_authenticate.as_deref(),
            Some("Bearer realm=\"edgegate\", error=\"invalid_token\", error_description=\"token expired\"")
        );
        let body: Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(body["code"], "AUTH-002");
        assert_eq!(body["status"], 401);
        assert_eq!(body["type"], "urn:edgegate:error:AUTH-002");
        let d = g.make_deny(
            ErrorCode::AccessDenied,
            "no route matches".into(),
            None,
            None,
        );
        assert_eq!(d.www_authenticate, None);
        assert_eq!(d.status, 403);
    }
}
