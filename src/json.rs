//! Strict JSON for untrusted input: UTF-8, objects where objects are expected, duplicate
//! member names rejected (no parser differentials), nesting depth bounded.
//!
//! CONTRACT (owner: token/verify helper): `parse_object` keeps this signature; other
//! modules (jwk, config) use it for untrusted JSON.

use serde_json::{Map, Value};

/// Why a JSON document was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not UTF-8.
    Utf8,
    /// Not well-formed JSON (the message is the parser's, never the input).
    Syntax,
    /// Well-formed, but the top level is not an object.
    NotObject,
    /// A member name appears twice in one object.
    DuplicateMember { name: alloc::string::String },
    /// Nested deeper than allowed.
    TooDeep { limit: usize },
}

/// Parses `bytes` as one JSON object with at most `max_depth` levels of nesting.
pub fn parse_object(bytes: &[u8], max_depth: usize) -> Result<Map<alloc::string::String, Value>, JsonError> {
    let _ = (bytes, max_depth);
    Err(JsonError::Syntax) // SCAFFOLD: replaced by the owner
}
