//! The gate: config, providers, routes, RBAC, API keys, revocation and the decision.
//! Depends on `jose`, `codec` and the crate's leaves; nothing below depends on it.
//!
//! Inside the layer: `cfg` (config errors, `Env`) and `claim_path` are leaves; `wire` (the
//! config's serde types, read with field paths) builds on `cfg`;
//! `rbac`, `route`, `providers`, `api_key`, `revocation`, `identity`, `ratelimit_config`
//! build on them; `config`
//! assembles them; `decide` runs a request through all of it.

pub(crate) mod api_key;
pub(crate) mod cfg;
pub(crate) mod claim_path;
pub(crate) mod config;
pub(crate) mod decide;
pub(crate) mod identity;
pub mod idp_admin;
pub(crate) mod presets;
pub(crate) mod providers;
pub(crate) mod ratelimit_config;
pub(crate) mod ratelimit_state;
pub(crate) mod rbac;
pub(crate) mod revocation;
pub(crate) mod route;
pub(crate) mod session;
pub(crate) mod wire;

pub use api_key::{
    create as create_api_key, create_from_json as create_api_key_from_json, hash_key,
    looks_like_key, parse as parse_api_key, ApiKeyError, ApiKeyRecord, CreatedKey, MemoryStore,
    NewKey, ParsedKey, Store, KEY_LEN, MAX_LIFETIME, PREFIX as API_KEY_PREFIX, RANDOM_BYTES,
};
pub use cfg::{ConfigError, Env};
pub use claim_path::ClaimPath;
pub use config::{
    Config, Cors, IdentityHeaders, RevocationStore, TokenSource, API_KEY_PROVIDER,
    DEFAULT_CORS_METHODS, MAX_CONFIG_BYTES, MAX_CORS_MAX_AGE, SESSION_PROVIDER,
};
pub use decide::{
    Allow, AllowReason, ClientCert, Ctx, Decision, Deny, Gate, Io, Pending, Preflight, Request,
    Requirements, Step, MAX_INTROSPECTION_ENTRIES, MAX_RATE_LIMIT_CONFLICTS,
    MAX_RATE_LIMIT_CONFLICTS_SERIALIZED,
};
pub use identity::Identity;
pub use presets::{catalog_json as provider_catalog, Preset, PresetField, PRESETS};
pub use providers::{KeySource, Provider, ProviderKind};
pub use ratelimit_config::{
    OnStoreError, RateLimitKey, RateLimitPolicy, StoreKind, DEFAULT_STORE_TIMEOUT_MS,
    MAX_RATE_LIMITS, MAX_STORE_TIMEOUT_MS,
};
pub use ratelimit_state::{
    decode_state as decode_rate_limit_state, encode_state as encode_rate_limit_state,
    store_key as rate_limit_store_key, KvWrite as RateLimitKvWrite, RateLimitCtx,
    MAX_KEYS_PER_POLICY, MAX_STATE_BYTES,
};
pub use rbac::{Missing, Rbac, RoleDef};
pub use revocation::Denylist;
pub use route::{normalize, NormalizedPath, PathError, Route};
pub use session::{session_hash, SessionRecord, SessionRejection, MAX_SESSION_ID};
