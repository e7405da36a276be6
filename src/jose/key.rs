//! Key material and key errors (leaf of `jwk`, `pem` and `crypto`): what a checked public key is,
//! where it came from, why one was refused, and the math that checks it (RSA bounds, EC points,
//! Ed25519 points).

use alloc::vec::Vec;

use crate::jose::alg::{EcCurve, RSA_MAX_BITS};

/// Where a key set came from. A remote (fetched) set never yields HMAC keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Given by the caller (config, code).
    Local,
    /// Fetched from a `jwks_uri`.
    Remote,
}

/// Public key material, checked at import.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyParams {
    /// RSA public key: big-endian `n` (>= 2048 bits) and `e` (odd, > 1).
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// EC public key, a point on `crv`: big-endian affine coordinates.
    Ec {
        crv: EcCurve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
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
    /// RSA modulus over [`RSA_MAX_BITS`].
    RsaTooLarge { bits: usize },
    /// JSON nested deeper than `Limits::max_json_depth`.
    TooDeep { limit: usize },
}

impl core::fmt::Display for KeyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KeyError::Malformed { reason } => write!(f, "malformed key: {reason}"),
            KeyError::UnsupportedKeyType => f.write_str("unsupported key type"),
            KeyError::PrivateKey => f.write_str("private key where a public key is expected"),
            KeyError::RsaTooSmall { bits } => write!(f, "rsa modulus of {bits} bits is under 2048"),
            KeyError::RsaBadExponent => f.write_str("rsa public exponent is unusable"),
            KeyError::RsaRoca => {
                f.write_str("rsa modulus has the roca (cve-2017-15361) fingerprint")
            }
            KeyError::InvalidPoint => f.write_str("invalid curve point"),
            KeyError::HmacTooShort { bytes, min } => {
                write!(f, "hmac secret of {bytes} bytes is shorter than {min}")
            }
            KeyError::DuplicateKid => f.write_str("two keys share a kid"),
            KeyError::MixedSet => {
                f.write_str("key set mixes hmac and asymmetric, or public and private keys")
            }
            KeyError::SymmetricInRemoteSet => f.write_str("hmac key in a remote key set"),
            KeyError::TooManyKeys { limit } => write!(f, "more than {limit} keys in the set"),
            KeyError::TooLarge { limit } => write!(f, "key set larger than {limit} bytes"),
            KeyError::Pem => f.write_str("pem document could not be parsed"),
            KeyError::RsaTooLarge { bits } => write!(f, "rsa modulus of {bits} bits is too large"),
            KeyError::TooDeep { limit } => write!(f, "json nested deeper than {limit}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for KeyError {}

impl KeyError {
    /// The stable code: a bad key given by the caller is a configuration error.
    pub const fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::ConfigError
    }

    /// The stable code for a set of this origin: a caller's own keys are a configuration
    /// error (AUTH-015); a fetched JWKS that cannot be used is "JWKS unavailable" (AUTH-007).
    pub const fn code_for(&self, origin: KeyOrigin) -> crate::ErrorCode {
        match origin {
            KeyOrigin::Local => crate::ErrorCode::ConfigError,
            KeyOrigin::Remote => crate::ErrorCode::JwksUnavailable,
        }
    }
}

pub(crate) fn rsa_public_key(n: &[u8], e: &[u8]) -> Option<rsa::RsaPublicKey> {
    let n = rsa::BigUint::from_bytes_be(n);
    let e = rsa::BigUint::from_bytes_be(e);
    rsa::RsaPublicKey::new_with_max_size(n, e, RSA_MAX_BITS).ok()
}

pub(crate) fn ec_point_is_valid(crv: EcCurve, x: &[u8], y: &[u8]) -> bool {
    match crv {
        EcCurve::P256 => p256_key(x, y).is_some(),
        EcCurve::P384 => p384_key(x, y).is_some(),
        EcCurve::P521 => p521_key(x, y).is_some(),
    }
}

pub(crate) fn p256_key(x: &[u8], y: &[u8]) -> Option<p256::ecdsa::VerifyingKey> {
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let point = p256::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
    p256::ecdsa::VerifyingKey::from_encoded_point(&point).ok()
}

pub(crate) fn p384_key(x: &[u8], y: &[u8]) -> Option<p384::ecdsa::VerifyingKey> {
    if x.len() != 48 || y.len() != 48 {
        return None;
    }
    let point = p384::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
    p384::ecdsa::VerifyingKey::from_encoded_point(&point).ok()
}

pub(crate) fn p521_key(x: &[u8], y: &[u8]) -> Option<p521::ecdsa::VerifyingKey> {
    if x.len() != 66 || y.len() != 66 {
        return None;
    }
    let point = p521::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
    p521::ecdsa::VerifyingKey::from_encoded_point(&point).ok()
}

/// An Ed25519 public key that decodes to a curve point and is not of small order.
pub(crate) fn ed25519_key(x: &[u8]) -> Option<ed25519_dalek::VerifyingKey> {
    let bytes: &[u8; 32] = x.try_into().ok()?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).ok()?;
    if key.is_weak() {
        return None;
    }
    Some(key)
}

/// The checks on key material shared by JWK and PEM import.
pub(crate) fn check_params(params: &KeyParams) -> Result<(), KeyError> {
    match params {
        KeyParams::Rsa { n, e } => {
            let bits = bit_len(n);
            if bits < 2048 {
                return Err(KeyError::RsaTooSmall { bits });
            }
            if bits > RSA_MAX_BITS {
                return Err(KeyError::RsaTooLarge { bits });
            }
            // e odd, > 1, and within the rsa crate's bound.
            let e_bits = bit_len(e);
            let odd = e.last().is_some_and(|b| b & 1 == 1);
            if !odd || e_bits <= 1 || e_bits > 33 {
                return Err(KeyError::RsaBadExponent);
            }
            if n.last().is_some_and(|b| b & 1 == 0) {
                return Err(KeyError::Malformed {
                    reason: "rsa modulus is even",
                });
            }
            if crate::jose::roca::has_fingerprint(n) {
                return Err(KeyError::RsaRoca);
            }
            if rsa_public_key(n, e).is_none() {
                return Err(KeyError::RsaBadExponent);
            }
            Ok(())
        }
        KeyParams::Ec { crv, x, y } => {
            if x.len() != crv.field_len() || y.len() != crv.field_len() {
                return Err(KeyError::InvalidPoint);
            }
            if !ec_point_is_valid(*crv, x, y) {
                return Err(KeyError::InvalidPoint);
            }
            Ok(())
        }
        KeyParams::Ed25519 { x } => {
            if ed25519_key(x).is_none() {
                return Err(KeyError::InvalidPoint);
            }
            Ok(())
        }
        KeyParams::Oct { k } => {
            if k.is_empty() {
                return Err(KeyError::HmacTooShort { bytes: 0, min: 32 });
            }
            Ok(())
        }
    }
}

/// Bit length of a big-endian unsigned integer.
pub(crate) fn bit_len(be: &[u8]) -> usize {
    match be.iter().position(|&b| b != 0) {
        Some(i) => {
            let top = be.get(i).copied().unwrap_or(0);
            (be.len() - i - 1) * 8 + (8 - top.leading_zeros() as usize)
        }
        None => 0,
    }
}
