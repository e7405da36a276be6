//! Strict bytes: base64url and the strict JSON parser with budgets. The bottom layer: depends
//! on nothing else in the crate.

pub mod b64;
pub(crate) mod json;

pub use b64::B64Error;
pub use json::{parse_object, parse_value, scan_object, JsonError, RawName, RawObject};
