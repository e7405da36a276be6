//! JSON Web Keys and Key Sets (RFC 7517): import with checks, and key selection.
//!
//! CONTRACT (owner: keys/crypto helper): the public items below keep these names and
//! signatures (more may be added). Selection follows jose's `isUsableJWK`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::crypto::Algorithm;
use crate::limits::Limits;

/// Where a key set came from. A remote (fetched) set never yields HMAC keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Given by the caller (config, code).
    Local,
    /// Fetched from a `jwks_uri`.
    Remote,
}

/// An elliptic curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcCurve {
    P256,
    P384,
    P521,
}

/// Public key material, checked at import.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyParams {
    /// RSA public key: big-endian `n` (>= 2048 bits) and `e` (odd, > 1).
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// EC public key, a point on `crv`: big-endian affine coordinates.
    Ec { crv: EcCurve, x: Vec<u8>, y: Vec<u8> },
    /// Ed25519 public key.
    Ed25519 { x: Vec<u8> },
    /// HMAC secret (at least the hash length of the algorithm it is used with).
    Oct { k: Vec<u8> },
}

impl core::fmt::Debug for KeyParams {
    // Never print key material.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KeyParams::Rsa { n, .. } => write!(f, "Rsa {{ bits: {} }}", n.len() * 8),
            KeyParams::Ec { crv, .. } => write!(f, "Ec {{ crv: {crv:?} }}"),
            KeyParams::Ed25519 { .. } => f.write_str("Ed25519"),
            KeyParams::Oct { k } => write!(f, "Oct {{ bytes: {} }}", k.len()),
        }
    }
}

/// One imported, checked public key (or HMAC secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwk {
    /// `kid`, if any.
    pub kid: Option<String>,
    /// `alg`, as written (an unknown name makes the key unusable, not an error).
    pub alg: Option<String>,
    /// `use`, as written.
    pub use_: Option<String>,
    /// `key_ops`, as written.
    pub key_ops: Option<Vec<String>>,
    /// The key material.
    pub params: KeyParams,
}

/// Why a key or key set was refused. Never carries key material.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a JSON object, or a member of the wrong type.
    Malformed { reason: &'static str },
    /// `kty` missing or not one edgegate supports.
    UnsupportedKeyType,
    /// A private key where a public one is expected.
    PrivateKey,
    /// RSA modulus under 2048 bits.
    RsaTooSmall { bits: usize },
    /// RSA public exponent even, 1, or otherwise unusable.
    RsaBadExponent,
    /// RSA modulus with the ROCA (CVE-2017-15361) fingerprint.
    RsaRoca,
    /// EC point not on the curve, or coordinates of the wrong length.
    InvalidPoint,
    /// HMAC secret shorter than allowed.
    HmacTooShort { bytes: usize, min: usize },
    /// Two keys in one set share a `kid`.
    DuplicateKid,
    /// A set mixes HMAC and asymmetric keys, or public and private keys.
    MixedSet,
    /// An HMAC key in a fetched (remote) set.
    SymmetricInRemoteSet,
    /// More keys than `Limits::max_keys_per_set`.
    TooManyKeys { limit: usize },
    /// A JWKS document larger than `Limits::max_jwks_bytes`.
    TooLarge { limit: usize },
    /// A PEM/SPKI document that could not be parsed.
    Pem,
}

impl KeyError {
    /// The stable code: a bad key given by the caller is a configuration error.
    pub const fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::ConfigError
    }
}

/// A checked set of keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    origin: KeyOrigin,
}

impl JwkSet {
    /// Parses and checks a JWKS document (`{"keys": [...]}`).
    pub fn from_json(bytes: &[u8], origin: KeyOrigin, limits: &Limits) -> Result<JwkSet, KeyError> {
        let _ = (bytes, limits);
        let _ = origin;
        Err(KeyError::Malformed { reason: "scaffold" }) // SCAFFOLD: replaced by the owner
    }

    /// Builds a set from keys already imported, with the set-level checks.
    pub fn from_keys(keys: Vec<Jwk>, origin: KeyOrigin) -> Result<JwkSet, KeyError> {
        Ok(JwkSet { keys, origin }) // SCAFFOLD: set-level checks added by the owner
    }

    /// The keys.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Where the set came from.
    pub fn origin(&self) -> KeyOrigin {
        self.origin
    }

    /// The keys usable for a token with this `alg` and `kid`, at most `limit` of them.
    pub fn select(&self, alg: Algorithm, kid: Option<&str>, limit: usize) -> Vec<&Jwk> {
        let _ = (alg, kid, limit);
        Vec::new() // SCAFFOLD: replaced by the owner
    }
}

impl Jwk {
    /// Parses and checks one JWK (a JSON object).
    pub fn from_json(bytes: &[u8], limits: &Limits) -> Result<Jwk, KeyError> {
        let _ = (bytes, limits);
        Err(KeyError::Malformed { reason: "scaffold" }) // SCAFFOLD: replaced by the owner
    }

    /// Imports a PEM `PUBLIC KEY` (SPKI) document: RSA, EC P-256/384/521 or Ed25519.
    pub fn from_pem(pem: &str) -> Result<Jwk, KeyError> {
        let _ = pem;
        Err(KeyError::Pem) // SCAFFOLD: replaced by the owner
    }

    /// Wraps a raw HMAC secret.
    pub fn from_hmac_secret(secret: &[u8]) -> Result<Jwk, KeyError> {
        Ok(Jwk { kid: None, alg: None, use_: None, key_ops: None, params: KeyParams::Oct { k: secret.to_vec() } })
    }

    /// Whether this key may verify a signature made with `alg` (kty/crv, `alg`, `use`,
    /// `key_ops`, HMAC length), as jose's `isUsableJWK` decides.
    pub fn is_usable_for(&self, alg: Algorithm) -> bool {
        let _ = alg;
        false // SCAFFOLD: replaced by the owner
    }
}
