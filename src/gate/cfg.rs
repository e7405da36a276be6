//! The leaf of every config type: `ConfigError` (AUTH-015 with the path of the bad field),
//! field paths, the host's `Env` and the HTTP token rule. The config's wire types and their
//! reader are `crate::gate::wire`.

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use core::fmt;

use crate::error::ErrorCode;

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

/// An RFC 9110 token (header names, methods, cookie names).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
