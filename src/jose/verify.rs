//! JWS verification and JWT claim checks.
//!
//! The path is split so a host can do the signature check itself with native crypto:
//! [`prepare`] (parse, pin alg, select candidate keys) -> signature check (any
//! [`CryptoBackend`], or the host) -> [`Prepared::finish`] (claims, identity).
//! [`jwt_verify`] and [`compact_verify`] run all three with a backend.
//!
//! Rules enforced here (RFC 8725, DESIGN.md):
//! - `alg` only selects: it must name a supported algorithm (`none` never does), be in the
//!   caller's allowlist when one is given, and the key must be usable for it
//!   ([`Jwk::is_usable_for`], which requires a key `alg` to equal the token's).
//! - Keys come only from the caller's [`JwkSet`]; `jwk`, `jku`, `x5u`, `x5c`, `x5t` header
//!   members are never read. A remote set never supplies an HMAC key.
//! - `crit` must be a non-empty array of non-empty strings, naming present, non-standard
//!   members that the caller listed in [`VerifyOptions::crit`]; `b64` is never supported.
//! - Claim checks follow jose's `jwtVerify` edge semantics (see [`check_claims`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

use crate::jose::alg::Algorithm;
use crate::jose::crypto::CryptoBackend;
use crate::jose::jwk::{Jwk, JwkSet};
use crate::jose::key::KeyOrigin;
use crate::jose::token::{DecodeError, Header, UntrustedToken};
use crate::limits::Limits;

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

/// The options a host normalizes from jose's option object (`issuer`/`audience` as
/// arrays, durations in seconds, `crit` as the list of understood names).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HostOptions {
    #[serde(default)]
    algorithms: Vec<String>,
    #[serde(default)]
    issuer: Vec<String>,
    #[serde(default)]
    audience: Vec<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    clock_tolerance: u64,
    #[serde(default)]
    max_token_age: Option<u64>,
    #[serde(default)]
    required_claims: Vec<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Vec<String>,
    #[serde(default)]
    max_token_bytes: Option<usize>,
}

impl VerifyOptions {
    /// From a host's normalized options (JSON, camelCase: `algorithms`, `issuer`,
    /// `audience`, `subject`, `clockTolerance`, `maxTokenAge`, `requiredClaims`, `typ`,
    /// `crit`, `maxTokenBytes`). Unknown members are refused, and so is an unknown
    /// algorithm name: an allowlist never silently shrinks to "anything". The error is
    /// the text of a configuration error (AUTH-015).
    pub fn from_host_json(json: &[u8]) -> Result<VerifyOptions, String> {
        let i: HostOptions =
            serde_json::from_slice(json).map_err(|_| String::from("invalid verify options"))?;
        let mut algorithms = Vec::with_capacity(i.algorithms.len());
        for name in &i.algorithms {
            match Algorithm::from_name(name) {
                Some(a) => algorithms.push(a),
                None => {
                    return Err(alloc::format!(
                        "options.algorithms: unsupported algorithm {:?}",
                        short(name)
                    ))
                }
            }
        }
        let mut limits = Limits::DEFAULT;
        if let Some(m) = i.max_token_bytes {
            limits.max_token_bytes = m;
        }
        Ok(VerifyOptions {
            algorithms,
            issuer: i.issuer,
            audience: i.audience,
            subject: i.subject,
            clock_tolerance: i.clock_tolerance,
            max_token_age: i.max_token_age,
            required_claims: i.required_claims,
            typ: i.typ,
            crit: i.crit,
            limits,
        })
    }
}

/// A claim check that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimError {
    /// `exp` is in the past (AUTH-002).
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is further in the past than `max_token_age` allows (AUTH-002, as jose's
    /// `JWTExpired`).
    TooOld,
    /// A claim has the wrong JSON type (e.g. `exp` a string).
    WrongType { claim: String },
    /// A required claim is missing.
    Missing { claim: String },
    /// A claim has an unexpected value (`iss`, `aud`, `sub`, `typ`).
    Mismatch { claim: String },
    /// `iat` is in the future beyond the clock tolerance (checked with `max_token_age`).
    IssuedInFuture,
}

impl ClaimError {
    /// AUTH-002 for `Expired` and `TooOld`, AUTH-001 otherwise.
    pub const fn code(&self) -> crate::ErrorCode {
        match self {
            ClaimError::Expired | ClaimError::TooOld => crate::ErrorCode::TokenExpired,
            _ => crate::ErrorCode::InvalidToken,
        }
    }

    /// The claim that failed (jose's `JWTClaimValidationFailed.claim`).
    pub fn claim(&self) -> Option<&str> {
        match self {
            ClaimError::Expired => Some("exp"),
            ClaimError::NotYetValid => Some("nbf"),
            ClaimError::TooOld | ClaimError::IssuedInFuture => Some("iat"),
            ClaimError::WrongType { claim }
            | ClaimError::Missing { claim }
            | ClaimError::Mismatch { claim } => Some(claim),
        }
    }

    /// Why it failed (jose's `JWTClaimValidationFailed.reason`): `"missing"`, `"invalid"`
    /// (wrong type) or `"check_failed"`.
    pub const fn reason(&self) -> &'static str {
        match self {
            ClaimError::Missing { .. } => "missing",
            ClaimError::WrongType { .. } => "invalid",
            ClaimError::Expired
            | ClaimError::NotYetValid
            | ClaimError::TooOld
            | ClaimError::IssuedInFuture
            | ClaimError::Mismatch { .. } => "check_failed",
        }
    }
}

/// Claim names are caller-chosen or standard; cap what Display prints anyway.
fn short(s: &str) -> &str {
    if s.len() <= 64 {
        return s;
    }
    let mut end = 64;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimError::Expired => f.write_str("\"exp\" claim timestamp check failed"),
            ClaimError::NotYetValid => f.write_str("\"nbf\" claim timestamp check failed"),
            ClaimError::TooOld => {
                f.write_str("\"iat\" claim timestamp check failed (too far in the past)")
            }
            ClaimError::IssuedInFuture => {
                f.write_str("\"iat\" claim timestamp check failed (it should be in the past)")
            }
            ClaimError::WrongType { claim } => {
                write!(f, "\"{}\" claim has the wrong type", short(claim))
            }
            ClaimError::Missing { claim } => {
                write!(f, "missing required \"{}\" claim", short(claim))
            }
            ClaimError::Mismatch { claim } => {
                write!(f, "unexpected \"{}\" claim value", short(claim))
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ClaimError {}

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
            VerifyError::Claim(c) => c.code(),
            _ => crate::ErrorCode::InvalidToken,
        }
    }

    /// The claim that failed, for a claim error.
    pub fn claim(&self) -> Option<&str> {
        match self {
            VerifyError::Claim(c) => c.claim(),
            VerifyError::Decode(_)
            | VerifyError::AlgorithmNotAllowed
            | VerifyError::ForbiddenHeader { .. }
            | VerifyError::NoMatchingKey
            | VerifyError::InvalidSignature => None,
        }
    }

    /// Why a claim check failed (see [`ClaimError::reason`]), for a claim error.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            VerifyError::Claim(c) => Some(c.reason()),
            VerifyError::Decode(_)
            | VerifyError::AlgorithmNotAllowed
            | VerifyError::ForbiddenHeader { .. }
            | VerifyError::NoMatchingKey
            | VerifyError::InvalidSignature => None,
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Decode(e) => fmt::Display::fmt(e, f),
            VerifyError::AlgorithmNotAllowed => f.write_str("algorithm not allowed"),
            VerifyError::ForbiddenHeader { name } => {
                write!(f, "forbidden or unsupported header \"{}\"", short(name))
            }
            VerifyError::NoMatchingKey => f.write_str("no key matches the token's kid and alg"),
            VerifyError::InvalidSignature => f.write_str("signature verification failed"),
            VerifyError::Claim(c) => fmt::Display::fmt(c, f),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for VerifyError {}

impl From<DecodeError> for VerifyError {
    fn from(e: DecodeError) -> Self {
        VerifyError::Decode(e)
    }
}

impl From<ClaimError> for VerifyError {
    fn from(e: ClaimError) -> Self {
        VerifyError::Claim(e)
    }
}

/// A JWS whose signature verified (payload bytes are now trusted). Only verification builds
/// one: the fields are private, read them with the accessors.
///
/// ```compile_fail
/// let forged = edgegate::VerifiedJws {
///     header: unimplemented!(),
///     payload: Vec::new(),
///     alg: edgegate::Algorithm::Hs256,
///     kid: None,
/// };
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedJws {
    header: Header,
    payload: Vec<u8>,
    alg: Algorithm,
    /// The `kid` of the key that verified it, if it had one.
    kid: Option<String>,
}

impl VerifiedJws {
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    /// The payload bytes, owned.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }
    /// The algorithm the signature verified with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
    /// The `kid` of the key that verified it, if it had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

/// A JWT whose signature and claims verified. Only verification builds one: the fields are
/// private, read them with the accessors.
///
/// ```compile_fail
/// let forged = edgegate::VerifiedToken {
///     header: unimplemented!(),
///     claims: serde_json::Map::new(),
///     alg: edgegate::Algorithm::Hs256,
///     kid: None,
/// };
/// ```
///
/// ```
/// # fn f(v: &edgegate::VerifiedToken) {
/// let _ = (v.header(), v.claims(), v.alg(), v.kid());
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedToken {
    header: Header,
    claims: Map<String, Value>,
    alg: Algorithm,
    kid: Option<String>,
}

impl VerifiedToken {
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The verified claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
    /// The verified claims, owned.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }
    /// The algorithm the signature verified with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
    /// The `kid` of the key that verified it, if it had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

/// A token parsed, its algorithm pinned and candidate keys chosen: ready for a signature check.
/// Only [`prepare`] builds one (private fields): a caller cannot hand `finish` its own
/// candidates or signing input.
///
/// ```compile_fail
/// let forged = edgegate::jose::Prepared {
///     alg: edgegate::Algorithm::Hs256,
///     header: unimplemented!(),
///     signing_input: b"",
///     signature: Vec::new(),
///     payload: Vec::new(),
///     candidates: Vec::new(),
/// };
/// ```
#[derive(Clone, Debug)]
pub struct Prepared<'a> {
    alg: Algorithm,
    header: Header,
    signing_input: &'a [u8],
    signature: Vec<u8>,
    payload: Vec<u8>,
    /// Usable keys to try, in order.
    candidates: Vec<&'a Jwk>,
}

impl<'a> Prepared<'a> {
    /// The pinned algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The bytes the signature covers (`header.payload`).
    pub fn signing_input(&self) -> &'a [u8] {
        self.signing_input
    }
    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// The decoded payload (not verified yet).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    /// The usable keys to try, in order.
    pub fn candidates(&self) -> &[&'a Jwk] {
        &self.candidates
    }
}

/// Header names registered by RFC 7515 / 7516 / 7518 / 7797, which `crit` must not list
/// (RFC 7515 section 4.1.11), except `b64`, handled on its own.
const REGISTERED_HEADERS: [&str; 20] = [
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc",
    "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c",
];

fn forbidden(name: &str) -> VerifyError {
    VerifyError::ForbiddenHeader {
        name: String::from(short(name)),
    }
}

/// Checks `crit` (RFC 7515 section 4.1.11, jose's `validateCrit`).
fn check_crit(header: &Header, understood: &[String]) -> Result<(), VerifyError> {
    let Some(crit) = header.raw.get("crit") else {
        return Ok(());
    };
    let Value::Array(items) = crit else {
        return Err(forbidden("crit"));
    };
    if items.is_empty() {
        return Err(forbidden("crit"));
    }
    for (i, item) in items.iter().enumerate() {
        // No duplicate names (jose's validateCritDuplicates).
        if items.get(..i).is_some_and(|seen| seen.contains(item)) {
            return Err(forbidden("crit"));
        }
        let name = match item {
            Value::String(s) if !s.is_empty() => s.as_str(),
            _ => return Err(forbidden("crit")),
        };
        if name == "b64" {
            // RFC 7797 unencoded payloads are not supported.
            return Err(forbidden("b64"));
        }
        if REGISTERED_HEADERS.contains(&name) {
            return Err(forbidden("crit"));
        }
        if !understood.iter().any(|u| u == name) || !header.raw.contains_key(name) {
            return Err(forbidden(name));
        }
    }
    Ok(())
}

/// Parse, pin the algorithm and select candidate keys.
pub fn prepare<'a>(
    token: &'a str,
    keys: &'a JwkSet,
    options: &VerifyOptions,
) -> Result<Prepared<'a>, VerifyError> {
    let parts = UntrustedToken::parse(token, &options.limits)?.into_parts();
    let header = parts.header;

    // `alg` selects, never decides: supported, allowed, and (below) usable with the key.
    let alg = Algorithm::from_name(&header.alg).ok_or(VerifyError::AlgorithmNotAllowed)?;
    if !options.algorithms.is_empty() && !options.algorithms.contains(&alg) {
        return Err(VerifyError::AlgorithmNotAllowed);
    }
    check_crit(&header, &options.crit)?;
    if matches!(header.raw.get("kid"), Some(v) if !v.is_string()) {
        return Err(forbidden("kid"));
    }
    if alg.is_symmetric() && keys.origin() == KeyOrigin::Remote {
        return Err(VerifyError::NoMatchingKey);
    }

    let limit = options.limits.max_candidate_keys;
    let candidates: Vec<&'a Jwk> = keys
        .select(alg, header.kid.as_deref(), limit)
        .into_iter()
        .filter(|k| k.is_usable_for(alg))
        // Defence in depth: a kid the token names must be the key's, except for a key the
        // caller passed directly (jose's `KeyLike`, `JwkSet::direct`).
        .filter(|k| {
            keys.is_direct()
                || match (&header.kid, &k.kid) {
                    (Some(want), Some(have)) => want == have,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        })
        .take(limit)
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::NoMatchingKey);
    }
    Ok(Prepared {
        alg,
        header,
        signing_input: parts.signing_input,
        signature: parts.signature,
        payload: parts.payload,
        candidates,
    })
}

impl<'a> Prepared<'a> {
    /// Tries each candidate with `backend`; the index of the first that verifies.
    pub fn verify_signature(&self, backend: &dyn CryptoBackend) -> Result<usize, VerifyError> {
        self.candidates
            .iter()
            .position(|key| backend.verify(self.alg, key, self.signing_input, &self.signature))
            .ok_or(VerifyError::InvalidSignature)
    }

    /// Completes a JWS verification (no claim checks) after candidate `key_index`
    /// verified the signature.
    pub fn finish_jws(self, key_index: usize) -> Result<VerifiedJws, VerifyError> {
        let key = self
            .candidates
            .get(key_index)
            .ok_or(VerifyError::InvalidSignature)?;
        Ok(VerifiedJws {
            kid: key.kid.clone(),
            header: self.header,
            payload: self.payload,
            alg: self.alg,
        })
    }

    /// The claim checks of [`Prepared::finish`] without building the claims `Map`: for a
    /// host that only needs the verdict (it reads the payload JSON itself). Same strictness
    /// and the same errors as `finish`.
    pub fn check(
        &self,
        key_index: usize,
        now: i64,
        options: &VerifyOptions,
    ) -> Result<(), VerifyError> {
        self.candidates
            .get(key_index)
            .ok_or(VerifyError::InvalidSignature)?;
        let raw = crate::codec::json::scan_object(&self.payload, options.limits.max_json_depth)
            .map_err(|error| {
                VerifyError::Decode(DecodeError::Json {
                    part: crate::jose::token::Part::Payload,
                    error,
                })
            })?;
        check_claims_in(&self.header, &raw, now, options)?;
        Ok(())
    }

    /// Completes a JWT verification after candidate `key_index` verified the signature.
    /// `now` is unix seconds.
    pub fn finish(
        self,
        key_index: usize,
        now: i64,
        options: &VerifyOptions,
    ) -> Result<VerifiedToken, VerifyError> {
        let key = self
            .candidates
            .get(key_index)
            .ok_or(VerifyError::InvalidSignature)?;
        let claims = crate::jose::token::parse_claims(&self.payload, &options.limits)?;
        check_claims(&self.header, &claims, now, options)?;
        Ok(VerifiedToken {
            kid: key.kid.clone(),
            header: self.header,
            claims,
            alg: self.alg,
        })
    }
}

/// What [`check_claims`] asks of a claims set: implemented by the parsed `Map` (the
/// `finish` path) and by the scanned raw payload (the `check` path, no `Value` tree), so
/// the rules are written once.
trait Claims {
    fn has(&self, name: &str) -> bool;
    /// Member `name` is a string equal to one of `accepted`.
    fn string_in(&self, name: &str, accepted: &[String]) -> bool;
    /// `aud` is a string in `accepted`, or an array with a string element in it.
    fn aud_in(&self, accepted: &[String]) -> bool;
    /// `Ok(None)` when absent, the value when a number, `WrongType` otherwise.
    fn number(&self, name: &str) -> Result<Option<f64>, ClaimError>;
}

fn wrong_type(name: &str) -> ClaimError {
    ClaimError::WrongType {
        claim: String::from(name),
    }
}

impl Claims for Map<String, Value> {
    fn has(&self, name: &str) -> bool {
        self.contains_key(name)
    }

    fn string_in(&self, name: &str, accepted: &[String]) -> bool {
        matches!(self.get(name), Some(Value::String(s)) if accepted.contains(s))
    }

    fn aud_in(&self, accepted: &[String]) -> bool {
        match self.get("aud") {
            Some(Value::String(aud)) => accepted.contains(aud),
            Some(Value::Array(auds)) => auds
                .iter()
                .any(|a| matches!(a, Value::String(s) if accepted.contains(s))),
            _ => false,
        }
    }

    fn number(&self, name: &str) -> Result<Option<f64>, ClaimError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| wrong_type(name)),
            Some(_) => Err(wrong_type(name)),
        }
    }
}

fn raw_in(s: crate::codec::json::RawName<'_>, accepted: &[String]) -> bool {
    let s = s.decode();
    accepted.iter().any(|a| *a == *s)
}

impl Claims for crate::codec::json::RawObject<'_> {
    fn has(&self, name: &str) -> bool {
        self.contains_key(name)
    }

    fn string_in(&self, name: &str, accepted: &[String]) -> bool {
        self.get(name)
            .and_then(crate::codec::json::raw_string)
            .is_some_and(|s| raw_in(s, accepted))
    }

    fn aud_in(&self, accepted: &[String]) -> bool {
        let Some(text) = self.get("aud") else {
            return false;
        };
        match crate::codec::json::raw_string(text) {
            Some(s) => raw_in(s, accepted),
            None => crate::codec::json::raw_array_any_string(text, |s| raw_in(s, accepted)),
        }
    }

    fn number(&self, name: &str) -> Result<Option<f64>, ClaimError> {
        match self.get(name) {
            None => Ok(None),
            // serde_json's number parser, as for the `Map` path: the same f64.
            Some(text) if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
                serde_json::from_str::<f64>(text)
                    .map(Some)
                    .map_err(|_| wrong_type(name))
            }
            Some(_) => Err(wrong_type(name)),
        }
    }
}

/// jose's `normalizeTyp`: lowercase, and a value without `/` gets `application/`.
fn normalize_typ(typ: &str) -> String {
    let lower = typ.to_lowercase();
    if lower.contains('/') {
        lower
    } else {
        let mut out = String::with_capacity(lower.len() + 12);
        out.push_str("application/");
        out.push_str(&lower);
        out
    }
}

fn check_typ(header: &Header, options: &VerifyOptions) -> Result<(), ClaimError> {
    if let Some(want) = &options.typ {
        match header.raw.get("typ") {
            Some(Value::String(have)) if normalize_typ(have) == normalize_typ(want) => {}
            _ => {
                return Err(ClaimError::Mismatch {
                    claim: String::from("typ"),
                })
            }
        }
    }
    Ok(())
}

/// The JWT claim checks of [`jwt_verify`], on their own (jose's `validateClaimsSet`):
///
/// 1. `typ` header, if `options.typ` (case-insensitive, `application/` optional);
/// 2. presence: `iss`, `sub`, `aud`, `iat` when the matching option is set, then
///    `required_claims`;
/// 3. `iss` one of `issuer`; `sub` equals `subject`; `aud` (string or array) overlaps
///    `audience`;
/// 4. `iat` is a number when present; `nbf > now + tol` fails; `exp <= now - tol` is
///    expired; with `max_token_age`: `now - iat - tol > max` is too old and
///    `now - iat < -tol` is issued in the future.
///
/// NumericDates may be integers or fractions. `now` is unix seconds.
pub fn check_claims(
    header: &Header,
    claims: &Map<String, Value>,
    now: i64,
    options: &VerifyOptions,
) -> Result<(), ClaimError> {
    check_claims_in(header, claims, now, options)
}

fn check_claims_in<C: Claims + ?Sized>(
    header: &Header,
    claims: &C,
    now: i64,
    options: &VerifyOptions,
) -> Result<(), ClaimError> {
    check_typ(header, options)?;

    let mut presence: Vec<&str> = Vec::new();
    if !options.issuer.is_empty() {
        presence.push("iss");
    }
    if options.subject.is_some() {
        presence.push("sub");
    }
    if !options.audience.is_empty() {
        presence.push("aud");
    }
    if options.max_token_age.is_some() {
        presence.push("iat");
    }
    presence.extend(options.required_claims.iter().rev().map(String::as_str));
    if let Some(missing) = presence.iter().find(|c| !claims.has(c)) {
        return Err(ClaimError::Missing {
            claim: String::from(*missing),
        });
    }

    let mismatch = |claim: &str| ClaimError::Mismatch {
        claim: String::from(claim),
    };
    if !options.issuer.is_empty() && !claims.string_in("iss", &options.issuer) {
        return Err(mismatch("iss"));
    }
    if let Some(subject) = &options.subject {
        if !claims.string_in("sub", core::slice::from_ref(subject)) {
            return Err(mismatch("sub"));
        }
    }
    if !options.audience.is_empty() {
        let ok = claims.aud_in(&options.audience);
        if !ok {
            return Err(mismatch("aud"));
        }
    }

    let now = now as f64;
    let tolerance = options.clock_tolerance as f64;
    let iat = claims.number("iat")?;
    if let Some(nbf) = claims.number("nbf")? {
        if nbf > now + tolerance {
            return Err(ClaimError::NotYetValid);
        }
    }
    if let Some(exp) = claims.number("exp")? {
        if exp <= now - tolerance {
            return Err(ClaimError::Expired);
        }
    }
    if let Some(max) = options.max_token_age {
        let iat = iat.ok_or(ClaimError::Missing {
            claim: String::from("iat"),
        })?;
        let age = now - iat;
        if age - tolerance > max as f64 {
            return Err(ClaimError::TooOld);
        }
        if age < -tolerance {
            return Err(ClaimError::IssuedInFuture);
        }
    }
    Ok(())
}

/// The claim checks alone, at `now`, for a token that was ALREADY verified with the same
/// key set and `options` (a host's verified-token cache asks this on every hit): `Ok`
/// exactly when the claim checks of a fresh [`jwt_verify`] at `now` pass (`exp`, `nbf`,
/// `max_token_age`, and the checks that do not depend on time). The signature is not
/// checked: never call it on a token that was not verified.
pub fn recheck_claims(
    token: &str,
    now: crate::time::UnixTime,
    options: &VerifyOptions,
) -> Result<(), VerifyError> {
    let parts = UntrustedToken::parse(token, &options.limits)?.into_parts();
    let raw = crate::codec::json::scan_object(&parts.payload, options.limits.max_json_depth)
        .map_err(|error| {
            VerifyError::Decode(DecodeError::Json {
                part: crate::jose::token::Part::Payload,
                error,
            })
        })?;
    check_claims_in(&parts.header, &raw, now.secs(), options)?;
    Ok(())
}

/// The outcome of [`verify_for_host`].
#[derive(Debug)]
pub enum HostVerdict {
    /// Verified here (signature and, for a JWT, claims).
    Verified { alg: Algorithm },
    /// The host checks the signature with native crypto against `candidates` (indices into
    /// the set's keys, in order). `claims` is the claim result the core already computed for
    /// a JWT: the host reports it only after a good signature (a bad signature wins, as in
    /// jose).
    HostCheck {
        alg: Algorithm,
        candidates: Vec<usize>,
        claims: Result<(), VerifyError>,
    },
    /// Refused; `alg` is the pinned algorithm when parsing got that far.
    Failed {
        alg: Option<Algorithm>,
        error: VerifyError,
    },
}

/// Verification for a host that may check asymmetric signatures itself (the wasm binding
/// with node:crypto / WebCrypto). `jwt`: run the claim checks (else a bare JWS); `host`:
/// the host checks RSA/ECDSA/EdDSA signatures (HMAC always stays here, with `backend`).
/// Without `host`, everything runs here.
pub fn verify_for_host(
    token: &str,
    keys: &JwkSet,
    options: &VerifyOptions,
    now: i64,
    jwt: bool,
    host: bool,
    backend: &dyn CryptoBackend,
) -> HostVerdict {
    if !host {
        let r = if jwt {
            jwt_verify(token, keys, options, now, backend).map(|v| v.alg)
        } else {
            compact_verify(token, keys, options, backend).map(|v| v.alg)
        };
        return match r {
            Ok(alg) => HostVerdict::Verified { alg },
            Err(error) => HostVerdict::Failed { alg: None, error },
        };
    }
    let p = match prepare(token, keys, options) {
        Ok(p) => p,
        Err(error) => return HostVerdict::Failed { alg: None, error },
    };
    let alg = p.alg;
    let failed = |error| HostVerdict::Failed {
        alg: Some(alg),
        error,
    };
    if alg.is_symmetric() {
        let hit = p
            .candidates
            .iter()
            .position(|k| backend.verify(alg, k, p.signing_input, &p.signature));
        return match hit {
            None => failed(VerifyError::InvalidSignature),
            Some(_) if !jwt => HostVerdict::Verified { alg },
            Some(i) => match p.check(i, now, options) {
                Ok(()) => HostVerdict::Verified { alg },
                Err(e) => failed(e),
            },
        };
    }
    let all = keys.keys();
    let candidates: Vec<usize> = p
        .candidates
        .iter()
        .filter_map(|c| all.iter().position(|k| core::ptr::eq(k, *c)))
        .collect();
    if candidates.is_empty() {
        return failed(VerifyError::NoMatchingKey);
    }
    // Claims do not depend on which candidate verifies.
    let claims = if jwt {
        p.check(0, now, options)
    } else {
        Ok(())
    };
    HostVerdict::HostCheck {
        alg,
        candidates,
        claims,
    }
}

/// Verifies a compact JWS (no claim checks; the payload is raw bytes).
pub fn compact_verify(
    token: &str,
    keys: &JwkSet,
    options: &VerifyOptions,
    backend: &dyn CryptoBackend,
) -> Result<VerifiedJws, VerifyError> {
    let prepared = prepare(token, keys, options)?;
    let index = prepared.verify_signature(backend)?;
    prepared.finish_jws(index)
}

/// Verifies a JWT: signature with `backend`, then every claim check. `now` is unix seconds.
pub fn jwt_verify(
    token: &str,
    keys: &JwkSet,
    options: &VerifyOptions,
    now: i64,
    backend: &dyn CryptoBackend,
) -> Result<VerifiedToken, VerifyError> {
    let prepared = prepare(token, keys, options)?;
    let index = prepared.verify_signature(backend)?;
    prepared.finish(index, now, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::b64::encode;
    use crate::jose::key::KeyOrigin;
    use alloc::format;
    use alloc::vec;
    use serde_json::json;

    fn tok(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            encode(header.as_bytes()),
            encode(payload.as_bytes()),
            encode(b"sig")
        )
    }

    fn empty_set() -> JwkSet {
        JwkSet::from_keys(Vec::new(), KeyOrigin::Local).unwrap()
    }

    fn header(v: Value) -> Header {
        let t = tok(&v.to_string(), "{}");
        UntrustedToken::parse(&t, &Limits::DEFAULT)
            .unwrap()
            .header()
            .clone()
    }

    #[test]
    fn none_and_unknown_algorithms_are_refused_before_key_lookup() {
        let keys = empty_set();
        let opts = VerifyOptions::default();
        for alg in ["none", "None", "NONE", "HS257", "hs256", "RSA-OAEP", ""] {
            let t = tok(&json!({ "alg": alg }).to_string(), "{}");
            assert_eq!(
                prepare(&t, &keys, &opts).unwrap_err(),
                VerifyError::AlgorithmNotAllowed,
                "{alg}"
            );
        }
    }

    #[test]
    fn allowlist_is_enforced() {
        let keys = empty_set();
        let opts = VerifyOptions {
            algorithms: vec![Algorithm::Rs256],
            ..Default::default()
        };
        let t = tok(r#"{"alg":"HS256"}"#, "{}");
        assert_eq!(
            prepare(&t, &keys, &opts).unwrap_err(),
            VerifyError::AlgorithmNotAllowed
        );
        let t = tok(r#"{"alg":"RS256"}"#, "{}");
        // allowed, but the set is empty
        assert_eq!(
            prepare(&t, &keys, &opts).unwrap_err(),
            VerifyError::NoMatchingKey
        );
    }

    #[test]
    fn decode_errors_pass_through() {
        let keys = empty_set();
        let e = prepare("a.b", &keys, &VerifyOptions::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::DecodeFailed);
        assert!(matches!(
            e,
            VerifyError::Decode(DecodeError::Segments { .. })
        ));
    }

    #[test]
    fn hmac_never_from_a_remote_set() {
        let keys = JwkSet::from_keys(Vec::new(), KeyOrigin::Remote).unwrap();
        let t = tok(r#"{"alg":"HS256"}"#, "{}");
        assert_eq!(
            prepare(&t, &keys, &VerifyOptions::default()).unwrap_err(),
            VerifyError::NoMatchingKey
        );
    }

    #[test]
    fn crit_rules() {
        let understood = vec![String::from("exp"), String::from("ext")];
        let ok = |h: Value| check_crit(&header(h), &understood);
        let refused = |name: &str| Err(forbidden(name));
        assert_eq!(ok(json!({"alg":"ES256"})), Ok(()));
        assert_eq!(ok(json!({"alg":"ES256","crit":["exp"],"exp":1})), Ok(()));
        assert_eq!(
            ok(json!({"alg":"ES256","crit":["exp","ext"],"exp":1,"ext":true})),
            Ok(())
        );
        assert_eq!(ok(json!({"alg":"ES256","crit":[]})), refused("crit"));
        assert_eq!(
            ok(json!({"alg":"ES256","crit":["exp","exp"],"exp":1})),
            refused("crit")
        );
        assert_eq!(
            ok(json!({"alg":"ES256","crit":"exp","exp":1})),
            refused("crit")
        );
        assert_eq!(ok(json!({"alg":"ES256","crit":[1]})), refused("crit"));
        assert_eq!(ok(json!({"alg":"ES256","crit":[""]})), refused("crit"));
        assert_eq!(
            ok(json!({"alg":"ES256","crit":["kid"],"kid":"a"})),
            refused("crit")
        );
        assert_eq!(ok(json!({"alg":"ES256","crit":["alg"]})), refused("crit"));
        // understood but absent
        assert_eq!(ok(json!({"alg":"ES256","crit":["exp"]})), refused("exp"));
        // present but not understood
        assert_eq!(
            ok(json!({"alg":"ES256","crit":["other"],"other":1})),
            refused("other")
        );
        // b64 never supported, even if the caller claims to understand it
        assert_eq!(
            check_crit(
                &header(json!({"alg":"HS256","crit":["b64"],"b64":false})),
                &[String::from("b64")]
            ),
            refused("b64")
        );
    }

    #[test]
    fn crit_and_kid_type_checked_in_prepare() {
        let keys = empty_set();
        let opts = VerifyOptions::default();
        let t = tok(r#"{"alg":"HS256","crit":["x"],"x":1}"#, "{}");
        assert_eq!(prepare(&t, &keys, &opts).unwrap_err(), forbidden("x"));
        let t = tok(r#"{"alg":"HS256","kid":7}"#, "{}");
        assert_eq!(prepare(&t, &keys, &opts).unwrap_err(), forbidden("kid"));
    }

    #[test]
    fn typ_normalization() {
        assert_eq!(normalize_typ("application/AT+JWT"), "application/at+jwt");
        assert_eq!(normalize_typ("JWT"), "application/jwt");
        assert_eq!(normalize_typ("application/"), "application/");
        assert_eq!(normalize_typ("app/jwt"), "app/jwt");
    }

    #[test]
    fn codes() {
        assert_eq!(
            VerifyError::Claim(ClaimError::Expired).code(),
            crate::ErrorCode::TokenExpired
        );
        assert_eq!(
            VerifyError::Claim(ClaimError::TooOld).code(),
            crate::ErrorCode::TokenExpired
        );
        assert_eq!(
            VerifyError::Claim(ClaimError::NotYetValid).code(),
            crate::ErrorCode::InvalidToken
        );
        assert_eq!(VerifyError::InvalidSignature.code().as_str(), "AUTH-004");
        assert_eq!(VerifyError::NoMatchingKey.code().as_str(), "AUTH-001");
        assert_eq!(VerifyError::AlgorithmNotAllowed.code().as_str(), "AUTH-001");
        assert_eq!(forbidden("crit").code().as_str(), "AUTH-001");
    }

    #[test]
    fn display_is_lowercase_and_bounded() {
        let long = "x".repeat(1000);
        let e = forbidden(&long);
        let shown = format!("{e}");
        assert!(shown.len() < 120, "{shown}");
        for e in [
            VerifyError::AlgorithmNotAllowed,
            VerifyError::NoMatchingKey,
            VerifyError::InvalidSignature,
            VerifyError::Claim(ClaimError::Expired),
            VerifyError::Claim(ClaimError::Missing {
                claim: "iss".into(),
            }),
        ] {
            let s = format!("{e}");
            assert_eq!(s, s.to_lowercase());
        }
    }

    #[test]
    fn claims_exp_nbf_edges() {
        let h = header(json!({"alg":"HS256"}));
        let opts = VerifyOptions {
            clock_tolerance: 5,
            ..Default::default()
        };
        let c = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(check_claims(&h, &c(json!({"exp": 96})), 100, &opts), Ok(()));
        assert_eq!(
            check_claims(&h, &c(json!({"exp": 95})), 100, &opts),
            Err(ClaimError::Expired)
        );
        assert_eq!(
            check_claims(&h, &c(json!({"nbf": 105})), 100, &opts),
            Ok(())
        );
        assert_eq!(
            check_claims(&h, &c(json!({"nbf": 105.5})), 100, &opts),
            Err(ClaimError::NotYetValid)
        );
        assert_eq!(
            check_claims(&h, &c(json!({"exp": "96"})), 100, &opts),
            Err(ClaimError::WrongType {
                claim: "exp".into()
            })
        );
    }
    mod fast_check {
        use super::*;
        use proptest::prelude::*;

        fn hs_set() -> JwkSet {
            let k = Jwk::from_hmac_secret(&[7u8; 32]).unwrap();
            JwkSet::from_keys(vec![k], KeyOrigin::Local).unwrap()
        }

        fn claim_value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::from("null")),
                Just(String::from("true")),
                Just(String::from("\"a\"")),
                Just(String::from("\"b\"")),
                Just(String::from("\"\\u0061\"")),
                Just(String::from("[\"a\",1]")),
                Just(String::from("[\"b\"]")),
                Just(String::from("[]")),
                Just(String::from("[\"\\u0061\"]")),
                Just(String::from("[[\"a\"], {\"a\":\"a\"}, \"b\" ,\"a\"]")),
                Just(String::from("-3")),
                Just(String::from("{\"a\":[1]}")),
                (0i64..200).prop_map(|n| n.to_string()),
                (0i64..200).prop_map(|n| format!("{n}.5")),
                Just(String::from("1e2")),
                Just(String::from("1e999")),
                Just(String::from("\"100\"")),
            ]
        }

        fn claim_name() -> impl Strategy<Value = String> {
            prop::sample::select(vec![
                "iss",
                "sub",
                "aud",
                "exp",
                "nbf",
                "iat",
                "jti",
                "x",
                "\\u0065xp",
                "\\u0069ss",
            ])
            .prop_map(String::from)
        }

        fn options() -> impl Strategy<Value = VerifyOptions> {
            (
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                0u64..20,
                prop::option::of(0u64..100),
                prop::collection::vec(prop::sample::select(vec!["x", "jti", "exp", "iat"]), 0..2),
                1usize..5,
            )
                .prop_map(|(iss, sub, aud, tol, age, req, depth)| VerifyOptions {
                    issuer: if iss { vec![String::from("a")] } else { vec![] },
                    subject: sub.then(|| String::from("a")),
                    audience: if aud { vec![String::from("a")] } else { vec![] },
                    clock_tolerance: tol,
                    max_token_age: age,
                    required_claims: req.into_iter().map(String::from).collect(),
                    limits: Limits {
                        max_json_depth: depth,
                        ..Limits::DEFAULT
                    },
                    ..VerifyOptions::default()
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(6000))]

            /// `check` (scanner, no Map) and `finish` (Value path) give the same verdict.
            #[test]
            fn check_agrees_with_finish(
                members in prop::collection::vec((claim_name(), claim_value()), 0..7),
                opts in options(),
                now in 0i64..200,
            ) {
                let body: Vec<String> =
                    members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                let payload = format!("{{{}}}", body.join(","));
                let t = tok(r#"{"alg":"HS256"}"#, &payload);
                let keys = hs_set();
                let p = prepare(&t, &keys, &opts).unwrap();
                let fast = p.check(0, now, &opts);
                let slow = p.clone().finish(0, now, &opts).map(|_| ());
                prop_assert_eq!(fast, slow, "{}", payload);
                prop_assert_eq!(
                    p.check(1, now, &opts).unwrap_err(),
                    VerifyError::InvalidSignature
                );
            }
        }
    }
}
