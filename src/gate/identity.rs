//! Who the caller is, once verified.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// A verified caller: from a JWT (after signature, claims and provider checks), an
/// introspected token, a host's custom provider, or an API key.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// `sub` of the token, or the API key id.
    pub sub: String,
    /// The provider's `name` from the config (`apiKey` for API keys).
    pub provider: String,
    /// Roles with inherited ones (sorted).
    pub roles: Vec<String>,
    /// Permissions from the token and from roles (sorted; may hold wildcards).
    pub permissions: Vec<String>,
    /// Organization / tenant / account, if the provider maps one.
    pub org: Option<String>,
    /// The verified claims (for API keys: `sub`, `key_id`, `account`, `name`, `exp`).
    pub claims: Map<String, Value>,
}
