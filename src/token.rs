//! Untrusted parsing of compact JWS / JWT, and unverified inspection.
//!
//! CONTRACT (owner: token/verify helper): the public items below keep these names and
//! signatures (more may be added).

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use crate::limits::Limits;

/// Which part of a compact token a decode error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Header,
    Payload,
    Signature,
}

/// Why a token could not be decoded (AUTH-006). Never carries the token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Longer than `Limits::max_token_bytes`.
    TooLarge { limit: usize, actual: usize },
    /// Not three dot-separated parts.
    Segments { expected: usize, actual: usize },
    /// A part is not strict base64url.
    Base64 { part: Part },
    /// A part is not valid JSON / UTF-8 / an object, has duplicate members, or is too deep.
    Json { part: Part, error: crate::json::JsonError },
    /// The header has no string `alg`.
    MissingAlg,
}

impl DecodeError {
    /// Always AUTH-006.
    pub const fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::DecodeFailed
    }
}

/// The protected header, as decoded (nothing in it is trusted yet).
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// `alg` as written (may be `"none"` or unknown; verification refuses those).
    pub alg: String,
    /// `kid`, if a string.
    pub kid: Option<String>,
    /// `typ`, if a string.
    pub typ: Option<String>,
    /// `crit`, if present.
    pub crit: Option<Vec<String>>,
    /// Every header member.
    pub raw: Map<String, Value>,
}

/// A compact JWS split and decoded, with nothing verified.
#[derive(Clone, Debug)]
pub struct UntrustedToken<'a> {
    raw: &'a str,
    header: Header,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> UntrustedToken<'a> {
    /// Splits and decodes a compact JWS within `limits`.
    pub fn parse(token: &'a str, limits: &Limits) -> Result<UntrustedToken<'a>, DecodeError> {
        let _ = (token, limits);
        Err(DecodeError::MissingAlg) // SCAFFOLD: replaced by the owner
    }

    /// The decoded protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers.
    pub fn signing_input(&self) -> &'a [u8] {
        self.raw.as_bytes() // SCAFFOLD
    }

    /// The decoded payload bytes (not yet trusted).
    pub fn payload_unverified(&self) -> &[u8] {
        &self.payload
    }

    /// The decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The payload parsed as a JWT claims set, without any verification.
    pub fn claims_unverified(&self, limits: &Limits) -> Result<Map<String, Value>, DecodeError> {
        let _ = limits;
        Err(DecodeError::MissingAlg) // SCAFFOLD
    }
}

/// What `inspect` reports about a token, none of it verified.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    /// Always `false`: nothing here was verified.
    pub verified: bool,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `exp` in seconds, if a number.
    pub expires_at: Option<f64>,
    /// `exp <= now`.
    pub expired: bool,
    /// `exp - now` in seconds, if `exp` is a number.
    pub expires_in: Option<f64>,
    /// `nbf > now`.
    pub not_yet_valid: bool,
    /// Warnings (`alg: none`, missing `exp`, ...), as stable lowercase strings.
    pub warnings: Vec<String>,
}

/// Decodes a token for display, without verifying it. `now` is unix seconds.
pub fn inspect(token: &str, now: i64, limits: &Limits) -> Result<Inspection, DecodeError> {
    let _ = (token, now, limits);
    Err(DecodeError::MissingAlg) // SCAFFOLD: replaced by the owner
}
