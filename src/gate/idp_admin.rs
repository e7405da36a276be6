//! Identity-provider admin lookups: reading one user's profile from the Auth0 Management API
//! or the Keycloak Admin API with client credentials (issue #12; the seed's `AUTH_API_*`
//! variables). Sans-I/O: the host does the HTTP, the timers and the caches; this module says
//! where to go (URLs), what an answer's status means, and what an answer's body is (strict
//! JSON, the token answer and the user normalized, or a typed error). Errors never carry the
//! client secret, the access token or a body.
//!
//! The documented endpoints:
//! - Auth0: a Management API token is `POST https://{domain}/oauth/token` with
//!   `grant_type=client_credentials`, `client_id`, `client_secret` and
//!   `audience=https://{domain}/api/v2/` (auth0.com/docs, "Get Management API Access Tokens for
//!   Production"; the answer holds `access_token`, `token_type: "Bearer"`, `expires_in`:
//!   auth0.com/docs/get-started/authentication-and-authorization-flow/client-credentials-flow/
//!   call-your-api-using-the-client-credentials-flow). A user is
//!   `GET https://{domain}/api/v2/users/{id}` with the id URL-encoded and `read:users`
//!   (auth0.com/docs/manage-users/user-search/retrieve-users-with-get-users-by-id-endpoint).
//! - Keycloak: the admin base is `<server>/admin/realms/<realm>`; the token endpoint is
//!   `<server>/realms/<realm>/protocol/openid-connect/token` (keycloak.org/securing-apps/
//!   oidc-layers, "Token endpoint"; a confidential client's service account posts
//!   `grant_type=client_credentials` form-encoded, keycloak.org server admin guide, "Service
//!   accounts"); a user is `GET /admin/realms/{realm}/users/{user-id}`, a `UserRepresentation`
//!   (keycloak.org/docs-api/26.5.7/rest-api/openapi.json), with `view-users`.

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Map, Value};

use crate::codec::json::parse_untrusted;
use crate::error::ErrorCode;
use crate::limits::Limits;

/// Which admin API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminProvider {
    /// The Auth0 Management API v2.
    Auth0,
    /// The Keycloak Admin REST API.
    Keycloak,
}

impl AdminProvider {
    /// `auth0` or `keycloak` (exactly; `AUTH_API_PROVIDER`).
    pub fn parse(s: &str) -> Result<AdminProvider, AdminError> {
        match s {
            "auth0" => Ok(AdminProvider::Auth0),
            "keycloak" => Ok(AdminProvider::Keycloak),
            _ => Err(AdminError::config(
                "provider",
                "expected \"auth0\" or \"keycloak\"",
            )),
        }
    }

    /// The name as configured.
    pub const fn as_str(self) -> &'static str {
        match self {
            AdminProvider::Auth0 => "auth0",
            AdminProvider::Keycloak => "keycloak",
        }
    }

    fn api(self) -> &'static str {
        match self {
            AdminProvider::Auth0 => "Auth0 Management API",
            AdminProvider::Keycloak => "Keycloak Admin API",
        }
    }
}

/// Why a lookup failed: a stable code and a message without secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminError {
    code: ErrorCode,
    message: String,
    field: Option<&'static str>,
}

impl AdminError {
    fn config(field: &'static str, why: &str) -> AdminError {
        AdminError {
            code: ErrorCode::ConfigError,
            message: format!("identity-provider admin client: {field}: {why}"),
            field: Some(field),
        }
    }

    fn provider(message: String) -> AdminError {
        AdminError {
            code: ErrorCode::ProviderError,
            message,
            field: None,
        }
    }

    /// The stable code (AUTH-014, AUTH-015, AUTH-017, AUTH-018).
    pub const fn code(&self) -> ErrorCode {
        self.code
    }

    /// The config field a configuration error is about.
    pub const fn field(&self) -> Option<&'static str> {
        self.field
    }
}

impl core::fmt::Display for AdminError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AdminError {}

/// Longest user id accepted (Auth0 ids are `connection|id`, Keycloak ids UUIDs).
pub const MAX_USER_ID_BYTES: usize = 512;
/// Longest access token accepted from a token endpoint.
pub const MAX_ACCESS_TOKEN_BYTES: usize = 16 * 1024;
/// Lifetime assumed when a token answer has no `expires_in`, seconds.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 60;
/// Longest token lifetime believed (a larger `expires_in` is capped), seconds.
pub const MAX_TOKEN_LIFETIME_SECS: u64 = 86_400;
/// A token is refreshed this long before it expires (at most half its lifetime), ms.
pub const TOKEN_EXPIRY_SKEW_MS: u64 = 30_000;

/// A validated admin client configuration: where the token and the users are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminConfig {
    /// Which API.
    pub provider: AdminProvider,
    /// The token endpoint.
    pub token_url: String,
    /// Auth0 only: the Management API audience (`{base}/api/v2/`).
    pub audience: Option<String>,
    /// The users collection, with a trailing `/` (a user is this + the encoded id).
    pub users_url: String,
}

impl AdminConfig {
    /// Validates the settings (`AUTH_API_PROVIDER`, `AUTH_API_BASEURL`, `AUTH_API_CLIENT_ID`,
    /// `AUTH_API_CLIENT_SECRET`): the base URL must pass the core's URL rule
    /// ([`crate::url::fetchable`]: https, or http to localhost only), without query or
    /// fragment; a Keycloak base must be `<server>/admin/realms/<realm>`. Errors (AUTH-015)
    /// name the field, never the secret's value.
    pub fn new(
        provider: &str,
        base_url: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<AdminConfig, AdminError> {
        let provider = AdminProvider::parse(provider)?;
        if client_id.is_empty() {
            return Err(AdminError::config("clientId", "missing"));
        }
        if client_secret.is_empty() {
            return Err(AdminError::config("clientSecret", "missing"));
        }
        if base_url.is_empty() {
            return Err(AdminError::config("baseUrl", "missing"));
        }
        if let Err(e) = crate::url::fetchable(base_url) {
            return Err(AdminError::config("baseUrl", &e.to_string()));
        }
        if base_url.contains(['?', '#']) {
            return Err(AdminError::config(
                "baseUrl",
                "the URL must not have a query or fragment",
            ));
        }
        let base = base_url.trim_end_matches('/');
        match provider {
            AdminProvider::Auth0 => Ok(AdminConfig {
                provider,
                token_url: format!("{base}/oauth/token"),
                audience: Some(format!("{base}/api/v2/")),
                users_url: format!("{base}/api/v2/users/"),
            }),
            AdminProvider::Keycloak => {
                const SHAPE: &str =
                    "a Keycloak Admin API URL is <server>/admin/realms/<realm> (e.g. https://sso.example/admin/realms/myrealm)";
                let (server, realm) = base
                    .rsplit_once("/admin/realms/")
                    .ok_or_else(|| AdminError::config("baseUrl", SHAPE))?;
                if realm.is_empty() || realm.contains('/') || realm == "." || realm == ".." {
                    return Err(AdminError::config("baseUrl", SHAPE));
                }
                Ok(AdminConfig {
                    provider,
                    token_url: format!("{server}/realms/{realm}/protocol/openid-connect/token"),
                    audience: None,
                    users_url: format!("{base}/users/"),
                })
            }
        }
    }

    /// The URL of one user: the id percent-encoded as `encodeURIComponent` does. An id that
    /// cannot name a user (empty, over [`MAX_USER_ID_BYTES`], control characters, or `.` /
    /// `..`, which URL parsers read as path segments even when encoded, so `..` would reach
    /// the collection's parent) is AUTH-017 without a request.
    pub fn user_url(&self, id: &str) -> Result<String, AdminError> {
        if id.is_empty()
            || id.len() > MAX_USER_ID_BYTES
            || id.chars().any(char::is_control)
            || id == "."
            || id == ".."
        {
            return Err(AdminError {
                code: ErrorCode::UserNotFound,
                message: String::from("user not found (not a valid user id)"),
                field: None,
            });
        }
        let mut out = self.users_url.clone();
        out.push_str(&crate::url::component_encode(id));
        Ok(out)
    }
}

/// Which request an HTTP status answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminStep {
    /// The token endpoint.
    Token,
    /// The user endpoint.
    User,
}

/// What the host does with a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusAction {
    /// 200: read the body.
    ReadBody,
    /// The API refused the cached access token (401): fetch a new token and ask once more.
    RetryWithNewToken,
}

/// What an HTTP status of the token or user endpoint means. A user 401 asks for one retry
/// with a new token (`retried` false); after that, and for 403, it is AUTH-014 saying which
/// (no secret). A user 404 is AUTH-017. Everything else but 200 is AUTH-014.
pub fn status_action(
    provider: AdminProvider,
    step: AdminStep,
    status: u16,
    retried: bool,
) -> Result<StatusAction, AdminError> {
    let api = provider.api();
    match (step, status) {
        (_, 200) => Ok(StatusAction::ReadBody),
        (AdminStep::Token, 400 | 401 | 403) => Err(AdminError::provider(format!(
            "{api}: the token endpoint refused the client credentials (status {status}): check the client id and secret and that client credentials are enabled"
        ))),
        (AdminStep::Token, s) => Err(AdminError::provider(format!(
            "{api}: the token endpoint answered status {s}"
        ))),
        (AdminStep::User, 404) => Err(AdminError {
            code: ErrorCode::UserNotFound,
            message: String::from("user not found"),
            field: None,
        }),
        (AdminStep::User, 401) if !retried => Ok(StatusAction::RetryWithNewToken),
        (AdminStep::User, 401) => Err(AdminError::provider(format!(
            "{api}: the access token was refused (status 401) after a refresh"
        ))),
        (AdminStep::User, 403) => Err(AdminError::provider(format!(
            "{api}: access denied (status 403): the client needs {}",
            match provider {
                AdminProvider::Auth0 => "the read:users scope",
                AdminProvider::Keycloak => "the realm-management view-users role",
            }
        ))),
        (AdminStep::User, s) => Err(AdminError::provider(format!(
            "{api}: the user endpoint answered status {s}"
        ))),
    }
}

/// A token endpoint's answer.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken {
    /// The bearer token (printable ASCII only: it goes into a header).
    pub access_token: String,
    /// How long the host may reuse it, ms: `expires_in` (capped at
    /// [`MAX_TOKEN_LIFETIME_SECS`], [`DEFAULT_TOKEN_LIFETIME_SECS`] when absent) minus a
    /// skew of [`TOKEN_EXPIRY_SKEW_MS`] or half the lifetime, whichever is less.
    pub cache_ms: u64,
}

impl core::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdminToken")
            .field("access_token", &"<redacted>")
            .field("cache_ms", &self.cache_ms)
            .finish()
    }
}

fn body_object(
    provider: AdminProvider,
    what: &str,
    body: &[u8],
) -> Result<Map<String, Value>, AdminError> {
    let api = provider.api();
    match parse_untrusted(body, &Limits::DEFAULT) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(AdminError::provider(format!(
            "{api}: malformed {what} answer: not a JSON object"
        ))),
        Err(e) => Err(AdminError::provider(format!(
            "{api}: malformed {what} answer: {e}"
        ))),
    }
}

/// Parses a token endpoint's 200 answer strictly: a JSON object with a non-empty printable
/// `access_token`, `token_type` `Bearer` (any case) when present, and `expires_in` a
/// non-negative integer when present. Anything else is AUTH-014 (the message names the
/// member, never its value).
pub fn parse_token(provider: AdminProvider, body: &[u8]) -> Result<AdminToken, AdminError> {
    let api = provider.api();
    let bad = |why: &str| AdminError::provider(format!("{api}: malformed token answer: {why}"));
    let m = body_object(provider, "token", body)?;
    let token = match m.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(_) => return Err(bad("\"access_token\" is not a non-empty string")),
        None => return Err(bad("no \"access_token\"")),
    };
    if token.len() > MAX_ACCESS_TOKEN_BYTES || !token.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(bad(
            "\"access_token\" is too long or has characters a header cannot carry",
        ));
    }
    match m.get("token_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err(bad("\"token_type\" is not Bearer")),
    }
    let lifetime = match m.get("expires_in") {
        None | Some(Value::Null) => DEFAULT_TOKEN_LIFETIME_SECS,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(s) => s.min(MAX_TOKEN_LIFETIME_SECS),
            None => return Err(bad("\"expires_in\" is not a non-negative integer")),
        },
        Some(_) => return Err(bad("\"expires_in\" is not a number")),
    };
    let ms = lifetime * 1000;
    Ok(AdminToken {
        access_token: token.clone(),
        cache_ms: ms - TOKEN_EXPIRY_SKEW_MS.min(ms / 2),
    })
}

/// A user's profile, the same for both APIs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminUser {
    /// Auth0 `user_id`, Keycloak `id`.
    pub id: String,
    /// `email`.
    pub email: Option<String>,
    /// Auth0 `email_verified`, Keycloak `emailVerified` (absent: false).
    pub email_verified: bool,
    /// Auth0 `name`; Keycloak `firstName` and `lastName` joined by a space.
    pub name: Option<String>,
    /// Auth0 `username` (database connections) or else `nickname`; Keycloak `username`.
    pub username: Option<String>,
    /// Auth0 `picture` (Keycloak has none).
    pub picture: Option<String>,
    /// Auth0: not `blocked` (absent: not blocked); Keycloak `enabled` (absent: false,
    /// fail closed).
    pub enabled: bool,
    /// Which API answered.
    pub provider: AdminProvider,
}

impl AdminUser {
    /// The profile as JSON: `{ id, email, emailVerified, name, username, picture, enabled,
    /// provider }` (absent strings as `null`).
    pub fn to_json(&self) -> String {
        let s = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let mut m = Map::new();
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("email".into(), s(&self.email));
        m.insert("emailVerified".into(), Value::Bool(self.email_verified));
        m.insert("name".into(), s(&self.name));
        m.insert("username".into(), s(&self.username));
        m.insert("picture".into(), s(&self.picture));
        m.insert("enabled".into(), Value::Bool(self.enabled));
        m.insert(
            "provider".into(),
            Value::String(self.provider.as_str().into()),
        );
        serde_json::to_string(&Value::Object(m)).unwrap_or_default()
    }
}

/// Parses a user endpoint's 200 answer strictly and normalizes it. The answer must be an
/// object for `requested_id` (its id equal to it: an answer about another user is refused);
/// a known member with the wrong type (an `email` that is a number, an `enabled` that is a
/// string) is refused rather than guessed; `null` counts as absent. AUTH-014 otherwise.
pub fn parse_user(
    provider: AdminProvider,
    requested_id: &str,
    body: &[u8],
) -> Result<AdminUser, AdminError> {
    let api = provider.api();
    let bad = |why: String| AdminError::provider(format!("{api}: malformed user answer: {why}"));
    let m = body_object(provider, "user", body)?;
    let string = |k: &str| -> Result<Option<String>, AdminError> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!("\"{k}\" is not a string"))),
        }
    };
    let boolean = |k: &str| -> Result<Option<bool>, AdminError> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(bad(format!("\"{k}\" is not a boolean"))),
        }
    };
    let id_key = match provider {
        AdminProvider::Auth0 => "user_id",
        AdminProvider::Keycloak => "id",
    };
    let id = string(id_key)?.ok_or_else(|| bad(format!("no \"{id_key}\"")))?;
    if id != requested_id {
        return Err(AdminError::provider(format!(
            "{api}: the answer is about another user than the one asked for"
        )));
    }
    let user = match provider {
        AdminProvider::Auth0 => AdminUser {
            id,
            email: string("email")?,
            email_verified: boolean("email_verified")?.unwrap_or(false),
            name: string("name")?,
            username: match string("username")? {
                Some(u) => Some(u),
                None => string("nickname")?,
            },
            picture: string("picture")?,
            enabled: !boolean("blocked")?.unwrap_or(false),
            provider,
        },
        AdminProvider::Keycloak => {
            let first = string("firstName")?.filter(|s| !s.is_empty());
            let last = string("lastName")?.filter(|s| !s.is_empty());
            let name = match (first, last) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (f, l) => f.or(l),
            };
            AdminUser {
                id,
                email: string("email")?,
                email_verified: boolean("emailVerified")?.unwrap_or(false),
                name,
                username: string("username")?,
                picture: None,
                enabled: boolean("enabled")?.unwrap_or(false),
                provider,
            }
        }
    };
    Ok(user)
}

/// `{ requireEnabled: true }`: a disabled (Auth0 blocked) user is AUTH-018.
pub fn require_enabled(user: &AdminUser) -> Result<(), AdminError> {
    require_enabled_flag(user.enabled)
}

/// The same rule on a cached profile's `enabled`.
pub fn require_enabled_flag(enabled: bool) -> Result<(), AdminError> {
    if enabled {
        return Ok(());
    }
    Err(AdminError {
        code: ErrorCode::UserDisabled,
        message: String::from("user disabled"),
        field: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-value";

    #[test]
    fn config_derives_the_documented_endpoints() {
        let a = AdminConfig::new("auth0", "https://t.eu.auth0.com/", "cid", SECRET).unwrap();
        assert_eq!(a.token_url, "https://t.eu.auth0.com/oauth/token");
        assert_eq!(
            a.audience.as_deref(),
            Some("https://t.eu.auth0.com/api/v2/")
        );
        assert_eq!(a.users_url, "https://t.eu.auth0.com/api/v2/users/");
        let k = AdminConfig::new(
            "keycloak",
            "https://sso.example/admin/realms/acme",
            "cid",
            SECRET,
        )
        .unwrap();
        assert_eq!(
            k.token_url,
            "https://sso.example/realms/acme/protocol/openid-connect/token"
        );
        assert_eq!(k.users_url, "https://sso.example/admin/realms/acme/users/");
        assert_eq!(k.audience, None);
    }

    #[test]
    fn config_errors_name_the_field_never_the_secret() {
        for (p, b, id, s, field) in [
            ("okta", "https://x.example", "c", SECRET, "provider"),
            ("auth0", "http://x.example", "c", SECRET, "baseUrl"),
            ("auth0", "https://u:p@x.example", "c", SECRET, "baseUrl"),
            ("auth0", "https://x.example?a=1", "c", SECRET, "baseUrl"),
            (
                "keycloak",
                "https://x.example/realms/a",
                "c",
                SECRET,
                "baseUrl",
            ),
            (
                "keycloak",
                "https://x.example/admin/realms/",
                "c",
                SECRET,
                "baseUrl",
            ),
            ("auth0", "https://x.example", "", SECRET, "clientId"),
            ("auth0", "https://x.example", "c", "", "clientSecret"),
        ] {
            let e = AdminConfig::new(p, b, id, s).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigError);
            assert_eq!(e.field(), Some(field));
            assert!(!e.to_string().contains(SECRET));
        }
        assert!(AdminConfig::new("auth0", "http://127.0.0.1:8080", "c", SECRET).is_ok());
    }

    #[test]
    fn user_ids_are_encoded_and_dot_segments_refused() {
        let a = AdminConfig::new("auth0", "https://t.example", "c", SECRET).unwrap();
        assert_eq!(
            a.user_url("auth0|abc/def?x#y").unwrap(),
            "https://t.example/api/v2/users/auth0%7Cabc%2Fdef%3Fx%23y"
        );
        assert_eq!(
            a.user_url("é").unwrap(),
            "https://t.example/api/v2/users/%C3%A9"
        );
        for id in ["", ".", "..", "a\nb"] {
            assert_eq!(a.user_url(id).unwrap_err().code(), ErrorCode::UserNotFound);
        }
        assert!(a.user_url(&"x".repeat(MAX_USER_ID_BYTES + 1)).is_err());
    }

    #[test]
    fn statuses_map_to_codes() {
        let p = AdminProvider::Auth0;
        let u = AdminStep::User;
        assert_eq!(status_action(p, u, 200, false), Ok(StatusAction::ReadBody));
        assert_eq!(
            status_action(p, u, 401, false),
            Ok(StatusAction::RetryWithNewToken)
        );
        assert_eq!(
            status_action(p, u, 401, true).unwrap_err().code(),
            ErrorCode::ProviderError
        );
        assert_eq!(
            status_action(p, u, 404, false).unwrap_err().code(),
            ErrorCode::UserNotFound
        );
        let e = status_action(AdminProvider::Keycloak, u, 403, false).unwrap_err();
        assert!(e.to_string().contains("view-users"), "{e}");
        let e = status_action(p, AdminStep::Token, 401, false).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ProviderError);
        assert!(e.to_string().contains("client credentials"));
    }

    #[test]
    fn token_answers_are_strict() {
        let p = AdminProvider::Keycloak;
        let t = parse_token(
            p,
            br#"{"access_token":"abc.def","token_type":"Bearer","expires_in":300}"#,
        )
        .unwrap();
        assert_eq!(t.cache_ms, 270_000);
        assert!(!format!("{t:?}").contains("abc.def"));
        assert_eq!(
            parse_token(p, br#"{"access_token":"a","expires_in":10}"#)
                .unwrap()
                .cache_ms,
            5_000
        );
        assert_eq!(
            parse_token(p, br#"{"access_token":"a"}"#).unwrap().cache_ms,
            30_000
        );
        for bad in [
            &br#"[]"#[..],
            br#"{"access_token":""}"#,
            br#"{"access_token":1}"#,
            br#"{"access_token":"a b"}"#,
            br#"{"access_token":"a","token_type":"mac"}"#,
            br#"{"access_token":"a","expires_in":-1}"#,
            br#"{"access_token":"a","expires_in":"60"}"#,
            br#"{"access_token":"a","access_token":"b"}"#,
            b"{not json",
        ] {
            assert_eq!(
                parse_token(p, bad).unwrap_err().code(),
                ErrorCode::ProviderError
            );
        }
    }

    #[test]
    fn users_are_normalized_and_checked() {
        let a = parse_user(
            AdminProvider::Auth0,
            "auth0|1",
            br#"{"user_id":"auth0|1","email":"a@x","email_verified":true,"name":"Ann","nickname":"ann","picture":"https://p","blocked":true}"#,
        )
        .unwrap();
        assert_eq!(a.username.as_deref(), Some("ann"));
        assert!(a.email_verified && !a.enabled);
        assert_eq!(
            require_enabled(&a).unwrap_err().code(),
            ErrorCode::UserDisabled
        );
        let k = parse_user(
            AdminProvider::Keycloak,
            "u-1",
            br#"{"id":"u-1","username":"bob","firstName":"Bob","lastName":"Lee","enabled":true}"#,
        )
        .unwrap();
        assert_eq!(k.name.as_deref(), Some("Bob Lee"));
        assert!(k.enabled && !k.email_verified);
        assert!(k.to_json().contains("\"provider\":\"keycloak\""));
        for (id, body) in [
            ("u-1", &br#"{"id":"u-2","enabled":true}"#[..]),
            ("u-1", br#"{"enabled":true}"#),
            ("u-1", br#"{"id":"u-1","enabled":"true"}"#),
            ("u-1", br#"{"id":"u-1","email":5}"#),
        ] {
            assert_eq!(
                parse_user(AdminProvider::Keycloak, id, body)
                    .unwrap_err()
                    .code(),
                ErrorCode::ProviderError
            );
        }
    }
}
