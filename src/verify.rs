//! JWS verification and JWT claim checks.
//!
//! The path is split so a host can do the signature check itself with native crypto:
//! [`prepare`] (parse, pin alg, select candidate keys) -> signature check (any
//! [`CryptoBackend`], or the host) -> [`Prepared::finish`] (claims, identity).
//! [`jwt_verify`] and [`compact_verify`] run all three with a backend.
//!
//! CONTRACT (owner: token/verify helper): the public items below keep these names and
//! signatures (more may be added).

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use crate::crypto::{Algorithm, CryptoBackend};
use crate::jwk::{Jwk, JwkSet};
use crate::limits::Limits;
use crate::token::{DecodeError, Header};

/// What the caller requires of a token (jose's `JWTVerifyOptions`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VerifyOptions {
    /// Allowed algorithms; empty means every algorithm the selected key allows.
    pub algorithms: Vec<Algorithm>,
    /// Accepted issuers; empty means any.
    pub issuer: Vec<String>,
    /// Accepted audiences; empty means no `aud` check.
    pub audience: Vec<String>,
    /// Required `sub`.
    pub subject: Option<String>,
    /// Seconds of leeway for `exp` / `nbf` / `iat`.
    pub clock_tolerance: u64,
    /// Maximum seconds since `iat` (requires `iat`).
    pub max_token_age: Option<u64>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
    /// Required `typ` (compared as jose does: case-insensitive, `application/` prefix optional).
    pub typ: Option<String>,
    /// Critical header extensions the caller understands (`crit` names outside it are refused).
    pub crit: Vec<String>,
    /// Budgets.
    pub limits: Limits,
}

/// A claim check that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimError {
    /// `exp` is in the past (AUTH-002).
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is too far in the past for `max_token_age`, or in the future.
    TooOld,
    /// A claim has the wrong JSON type (e.g. `exp` a string).
    WrongType { claim: String },
    /// A required claim is missing.
    Missing { claim: String },
    /// A claim has an unexpected value (`iss`, `aud`, `sub`, `typ`).
    Mismatch { claim: String },
    /// The payload is not a JSON object.
    NotAnObject,
}

/// Why verification failed. `Display` and `Debug` never include the token or a key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token could not be decoded (AUTH-006).
    Decode(DecodeError),
    /// `alg` is `none`, unknown, or not in the caller's allowlist (AUTH-001).
    AlgorithmNotAllowed,
    /// A header edgegate refuses (unknown `crit`, `b64`, ...) (AUTH-001).
    ForbiddenHeader { name: String },
    /// No key in the set is usable for the token's `kid`/`alg` (AUTH-001).
    NoMatchingKey,
    /// A key matched, the signature did not verify (AUTH-004).
    InvalidSignature,
    /// A claim check failed (AUTH-002 for expiry, AUTH-001 otherwise).
    Claim(ClaimError),
}

impl VerifyError {
    /// The stable code.
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            VerifyError::Decode(_) => crate::ErrorCode::DecodeFailed,
            VerifyError::InvalidSignature => crate::ErrorCode::InvalidSignature,
            VerifyError::Claim(ClaimError::Expired) => crate::ErrorCode::TokenExpired,
            _ => crate::ErrorCode::InvalidToken,
        }
    }
}

/// A JWS whose signature verified (payload bytes are now trusted).
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedJws {
    pub header: Header,
    pub payload: Vec<u8>,
    pub alg: Algorithm,
    /// The `kid` of the key that verified it, if it had one.
    pub kid: Option<String>,
}

/// A JWT whose signature and claims verified.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedToken {
    pub header: Header,
    pub claims: Map<String, Value>,
    pub alg: Algorithm,
    pub kid: Option<String>,
}

/// A token parsed, its algorithm pinned and candidate keys chosen: ready for a signature check.
#[derive(Clone, Debug)]
pub struct Prepared<'a> {
    pub alg: Algorithm,
    pub header: Header,
    pub signing_input: &'a [u8],
    pub signature: Vec<u8>,
    pub payload: Vec<u8>,
    /// Usable keys to try, in order.
    pub candidates: Vec<&'a Jwk>,
}

/// Parse, pin the algorithm and select candidate keys.
pub fn prepare<'a>(token: &'a str, keys: &'a JwkSet, options: &VerifyOptions) -> Result<Prepared<'a>, VerifyError> {
    let _ = (token, keys, options);
    Err(VerifyError::NoMatchingKey) // SCAFFOLD: replaced by the owner
}

impl<'a> Prepared<'a> {
    /// Completes a JWT verification after candidate `key_index` verified the signature.
    /// `now` is unix seconds.
    pub fn finish(self, key_index: usize, now: i64, options: &VerifyOptions) -> Result<VerifiedToken, VerifyError> {
        let _ = (key_index, now, options);
        Err(VerifyError::InvalidSignature) // SCAFFOLD: replaced by the owner
    }
}

/// Verifies a compact JWS (no claim checks; the payload is raw bytes).
pub fn compact_verify(token: &str, keys: &JwkSet, options: &VerifyOptions, backend: &dyn CryptoBackend) -> Result<VerifiedJws, VerifyError> {
    let _ = (token, keys, options, backend);
    Err(VerifyError::NoMatchingKey) // SCAFFOLD: replaced by the owner
}

/// Verifies a JWT: signature with `backend`, then every claim check. `now` is unix seconds.
pub fn jwt_verify(token: &str, keys: &JwkSet, options: &VerifyOptions, now: i64, backend: &dyn CryptoBackend) -> Result<VerifiedToken, VerifyError> {
    let _ = (token, keys, options, now, backend);
    Err(VerifyError::NoMatchingKey) // SCAFFOLD: replaced by the owner
}
