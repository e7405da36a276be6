//! Signature algorithms behind one trait (DESIGN.md, "Crypto").
//!
//! CONTRACT (owner: keys/crypto helper): `Algorithm`, `CryptoBackend`, `PureBackend` keep
//! these names and signatures (more methods may be added).
//!
//! The pure backend uses `jwt-compact` 0.8's [`jwt_compact::Algorithm`] impls where it has
//! them (`Hs256/384/512`, `Es256`, `Ed25519` over ed25519-dalek) and implements that trait
//! here for the rest over RustCrypto: [`Es384`], [`Es512`] (p384 / p521) and [`RsaVerifier`]
//! (RS/PS 256/384/512 over the `rsa` crate; jwt-compact's own `rsa` feature would pull
//! `getrandom`, which does not build on `thumbv7em-none-eabi`). These are verify-only:
//! their signing key type is uninhabited.
//!
//! Rules every check here follows:
//! - a signature of the wrong length is `false` (ECDSA `r||s` must be exactly 64/96/132
//!   bytes, RSA exactly the modulus length, HMAC exactly the hash length, Ed25519 64);
//! - ECDSA `r` or `s` equal to 0 or `>= n` is `false`; high-S is valid (JWS has no low-S rule);
//! - RSA signatures `>= n` are `false` (never reduced); PKCS#1 v1.5 compares the whole
//!   encoded message, so the DigestInfo must be the exact DER; PSS uses MGF1 with the same
//!   hash and a salt exactly as long as the hash (RFC 7518 section 3.5);
//! - HMAC tags are compared in constant time (`hmac::CtOutput` equality);
//! - nothing panics on any input.
//!
//! Cost: [`PreparedKey::new`] builds the verifying key (EC point decoding and validation,
//! RSA bignum import); [`PureBackend::verify`] does that on every call. Callers that verify
//! many tokens with one key should keep a [`PreparedKey`] and call [`PreparedKey::verify`].

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::convert::Infallible;

use jwt_compact::{Algorithm as JwtAlgorithm, AlgorithmSignature};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::jwk::{EcCurve, Jwk, KeyParams};

/// A JWS signature algorithm edgegate supports. `none` is not one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Hs256,
    Hs384,
    Hs512,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
    EdDsa,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 13] = [
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::EdDsa,
    ];

    /// The JOSE name (`"RS256"`, `"EdDSA"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// Looks up a JOSE name, case-sensitively. `"none"` and unknown names give `None`.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// HMAC algorithms (a shared secret, never from a remote JWK Set).
    pub const fn is_symmetric(self) -> bool {
        matches!(self, Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512)
    }

    /// The JWK `kty` a key for this algorithm has (`"oct"`, `"RSA"`, `"EC"`, `"OKP"`).
    pub const fn key_type(self) -> &'static str {
        match self {
            Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => "oct",
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => "RSA",
            Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 => "EC",
            Algorithm::EdDsa => "OKP",
        }
    }

    /// The curve an ECDSA algorithm is bound to (RFC 7518 section 3.4).
    pub const fn curve(self) -> Option<EcCurve> {
        match self {
            Algorithm::Es256 => Some(EcCurve::P256),
            Algorithm::Es384 => Some(EcCurve::P384),
            Algorithm::Es512 => Some(EcCurve::P521),
            _ => None,
        }
    }

    /// Output length of the SHA-2 hash the algorithm uses (EdDSA: SHA-512 inside Ed25519).
    pub const fn hash_len(self) -> usize {
        match self {
            Algorithm::Hs256 | Algorithm::Rs256 | Algorithm::Ps256 | Algorithm::Es256 => 32,
            Algorithm::Hs384 | Algorithm::Rs384 | Algorithm::Ps384 | Algorithm::Es384 => 48,
            Algorithm::Hs512
            | Algorithm::Rs512
            | Algorithm::Ps512
            | Algorithm::Es512
            | Algorithm::EdDsa => 64,
        }
    }

    /// Shortest HMAC secret accepted for an `HS*` algorithm: the hash length
    /// (RFC 7518 section 3.2). `None` for asymmetric algorithms.
    pub const fn min_hmac_key_len(self) -> Option<usize> {
        if self.is_symmetric() {
            Some(self.hash_len())
        } else {
            None
        }
    }

    /// The exact signature length, when it does not depend on the key (RSA: modulus length).
    pub const fn signature_len(self) -> Option<usize> {
        match self {
            Algorithm::Hs256 => Some(32),
            Algorithm::Hs384 => Some(48),
            Algorithm::Hs512 => Some(64),
            Algorithm::Es256 => Some(64),
            Algorithm::Es384 => Some(96),
            Algorithm::Es512 => Some(132),
            Algorithm::EdDsa => Some(64),
            _ => None,
        }
    }
}

/// Checks one signature with one key. The key has already been selected and checked as
/// usable for `alg` by the caller (verify.rs); a backend must still refuse a key whose
/// type does not fit `alg`, and must return `false`, never panic, on malformed input.
pub trait CryptoBackend {
    /// `true` when `signature` is a valid `alg` signature over `signing_input` by `key`.
    fn verify(&self, alg: Algorithm, key: &Jwk, signing_input: &[u8], signature: &[u8]) -> bool;
}

/// The pure-Rust backend (jwt-compact + RustCrypto). Works everywhere, including no_std.
///
/// Each call builds the verifying key from the JWK (see the module docs for the cost);
/// keep a [`PreparedKey`] to avoid that.
#[derive(Clone, Copy, Debug, Default)]
pub struct PureBackend;

impl CryptoBackend for PureBackend {
    fn verify(&self, alg: Algorithm, key: &Jwk, signing_input: &[u8], signature: &[u8]) -> bool {
        match PreparedKey::new(alg, key) {
            Some(prepared) => prepared.verify(signing_input, signature),
            None => false,
        }
    }
}

/// A verifying key built once from a [`Jwk`] for one algorithm.
///
/// Building it decodes and validates the key material (EC point on the curve, RSA
/// bignums); [`PreparedKey::verify`] then only does the signature arithmetic.
#[derive(Clone)]
pub struct PreparedKey {
    alg: Algorithm,
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Hs256(jwt_compact::alg::Hs256Key),
    Hs384(jwt_compact::alg::Hs384Key),
    Hs512(jwt_compact::alg::Hs512Key),
    Rsa(rsa::RsaPublicKey),
    Es256(p256::ecdsa::VerifyingKey),
    Es384(p384::ecdsa::VerifyingKey),
    Es512(p521::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl core::fmt::Debug for PreparedKey {
    // Never print key material.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PreparedKey {{ alg: {} }}", self.alg.name())
    }
}

/// Largest RSA modulus accepted, in bits (bounds the cost of one verification).
pub const RSA_MAX_BITS: usize = 8192;

/// Largest RSA public exponent accepted (the `rsa` crate's bound, 2^33 - 1).
pub const RSA_MAX_EXPONENT: u64 = (1 << 33) - 1;

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

fn p256_key(x: &[u8], y: &[u8]) -> Option<p256::ecdsa::VerifyingKey> {
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let point = p256::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
    p256::ecdsa::VerifyingKey::from_encoded_point(&point).ok()
}

fn p384_key(x: &[u8], y: &[u8]) -> Option<p384::ecdsa::VerifyingKey> {
    if x.len() != 48 || y.len() != 48 {
        return None;
    }
    let point = p384::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
    p384::ecdsa::VerifyingKey::from_encoded_point(&point).ok()
}

fn p521_key(x: &[u8], y: &[u8]) -> Option<p521::ecdsa::VerifyingKey> {
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

impl PreparedKey {
    /// Builds the verifying key for `alg`, or `None` if the key does not fit `alg`
    /// (wrong `kty`/`crv`, HMAC secret shorter than the hash, invalid material).
    /// Only the key type is checked here; `alg`/`use`/`key_ops` are the caller's
    /// ([`Jwk::is_usable_for`]).
    pub fn new(alg: Algorithm, key: &Jwk) -> Option<PreparedKey> {
        let inner = match (alg, &key.params) {
            (Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512, KeyParams::Oct { k }) => {
                if k.len() < alg.hash_len() {
                    return None;
                }
                match alg {
                    Algorithm::Hs256 => Inner::Hs256(jwt_compact::alg::Hs256Key::new(k)),
                    Algorithm::Hs384 => Inner::Hs384(jwt_compact::alg::Hs384Key::new(k)),
                    _ => Inner::Hs512(jwt_compact::alg::Hs512Key::new(k)),
                }
            }
            (
                Algorithm::Rs256
                | Algorithm::Rs384
                | Algorithm::Rs512
                | Algorithm::Ps256
                | Algorithm::Ps384
                | Algorithm::Ps512,
                KeyParams::Rsa { n, e },
            ) => Inner::Rsa(rsa_public_key(n, e)?),
            (
                Algorithm::Es256,
                KeyParams::Ec {
                    crv: EcCurve::P256,
                    x,
                    y,
                },
            ) => Inner::Es256(p256_key(x, y)?),
            (
                Algorithm::Es384,
                KeyParams::Ec {
                    crv: EcCurve::P384,
                    x,
                    y,
                },
            ) => Inner::Es384(p384_key(x, y)?),
            (
                Algorithm::Es512,
                KeyParams::Ec {
                    crv: EcCurve::P521,
                    x,
                    y,
                },
            ) => Inner::Es512(p521_key(x, y)?),
            (Algorithm::EdDsa, KeyParams::Ed25519 { x }) => Inner::Ed25519(ed25519_key(x)?),
            _ => return None,
        };
        Some(PreparedKey { alg, inner })
    }

    /// The algorithm this key verifies.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// `true` when `signature` is a valid signature over `signing_input`.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        use jwt_compact::alg as jc;
        match &self.inner {
            Inner::Hs256(key) => check(&jc::Hs256, key, signing_input, signature),
            Inner::Hs384(key) => check(&jc::Hs384, key, signing_input, signature),
            Inner::Hs512(key) => check(&jc::Hs512, key, signing_input, signature),
            Inner::Rsa(key) => check(&RsaVerifier(self.alg), key, signing_input, signature),
            Inner::Es256(key) => check(&jc::Es256, key, signing_input, signature),
            Inner::Es384(key) => check(&Es384, key, signing_input, signature),
            Inner::Es512(key) => check(&Es512, key, signing_input, signature),
            Inner::Ed25519(key) => check(&jc::Ed25519, key, signing_input, signature),
        }
    }
}

/// Runs a jwt-compact algorithm's check with the length rule applied first (jwt-compact's
/// HMAC `try_from_slice` would panic on a wrong length; its token validator checks the
/// length before calling it, and so do we).
fn check<A: JwtAlgorithm>(
    alg: &A,
    key: &A::VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    if let Some(len) = <A::Signature as AlgorithmSignature>::LENGTH {
        if signature.len() != len.get() {
            return false;
        }
    }
    match <A::Signature as AlgorithmSignature>::try_from_slice(signature) {
        Ok(signature) => alg.verify_signature(&signature, key, message),
        Err(_) => false,
    }
}

/// `ES384`: ECDSA on P-384 with SHA-384 (jwt-compact 0.8 has no impl). Verify-only.
#[derive(Clone, Copy, Debug, Default)]
pub struct Es384;

/// `ES512`: ECDSA on P-521 with SHA-512 (jwt-compact 0.8 has no impl). Verify-only.
#[derive(Clone, Copy, Debug, Default)]
pub struct Es512;

/// An ECDSA P-384 signature, raw `r || s` (96 bytes), `0 < r, s < n`.
#[derive(Clone, Debug)]
pub struct Es384Signature(p384::ecdsa::Signature);

/// An ECDSA P-521 signature, raw `r || s` (132 bytes), `0 < r, s < n`.
#[derive(Clone, Debug)]
pub struct Es512Signature(p521::ecdsa::Signature);

impl AlgorithmSignature for Es384Signature {
    const LENGTH: Option<core::num::NonZeroUsize> = core::num::NonZeroUsize::new(96);

    fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
        p384::ecdsa::Signature::from_slice(slice)
            .map(Es384Signature)
            .map_err(|_| anyhow::Error::msg("invalid ES384 signature"))
    }

    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.to_bytes().to_vec())
    }
}

impl AlgorithmSignature for Es512Signature {
    const LENGTH: Option<core::num::NonZeroUsize> = core::num::NonZeroUsize::new(132);

    fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
        p521::ecdsa::Signature::from_slice(slice)
            .map(Es512Signature)
            .map_err(|_| anyhow::Error::msg("invalid ES512 signature"))
    }

    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.to_bytes().to_vec())
    }
}

impl JwtAlgorithm for Es384 {
    type SigningKey = Infallible;
    type VerifyingKey = p384::ecdsa::VerifyingKey;
    type Signature = Es384Signature;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("ES384")
    }

    fn sign(&self, signing_key: &Infallible, _message: &[u8]) -> Es384Signature {
        match *signing_key {}
    }

    fn verify_signature(
        &self,
        signature: &Es384Signature,
        key: &p384::ecdsa::VerifyingKey,
        message: &[u8],
    ) -> bool {
        use p384::ecdsa::signature::Verifier;
        key.verify(message, &signature.0).is_ok()
    }
}

impl JwtAlgorithm for Es512 {
    type SigningKey = Infallible;
    type VerifyingKey = p521::ecdsa::VerifyingKey;
    type Signature = Es512Signature;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("ES512")
    }

    fn sign(&self, signing_key: &Infallible, _message: &[u8]) -> Es512Signature {
        match *signing_key {}
    }

    fn verify_signature(
        &self,
        signature: &Es512Signature,
        key: &p521::ecdsa::VerifyingKey,
        message: &[u8],
    ) -> bool {
        use p521::ecdsa::signature::Verifier;
        key.verify(message, &signature.0).is_ok()
    }
}

/// `RS256/384/512` and `PS256/384/512` over the `rsa` crate. Verify-only. The wrapped
/// [`Algorithm`] picks the padding and hash; any other algorithm verifies nothing.
#[derive(Clone, Copy, Debug)]
pub struct RsaVerifier(pub Algorithm);

/// An RSA signature (its length is checked against the modulus at verification).
#[derive(Clone, Debug)]
pub struct RsaSignature(Vec<u8>);

impl AlgorithmSignature for RsaSignature {
    fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
        Ok(RsaSignature(slice.to_vec()))
    }

    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }
}

impl JwtAlgorithm for RsaVerifier {
    type SigningKey = Infallible;
    type VerifyingKey = rsa::RsaPublicKey;
    type Signature = RsaSignature;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.0.name())
    }

    fn sign(&self, signing_key: &Infallible, _message: &[u8]) -> RsaSignature {
        match *signing_key {}
    }

    fn verify_signature(
        &self,
        signature: &RsaSignature,
        key: &rsa::RsaPublicKey,
        message: &[u8],
    ) -> bool {
        rsa_verify(self.0, key, message, &signature.0)
    }
}

fn rsa_verify(alg: Algorithm, key: &rsa::RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    use rsa::{Pkcs1v15Sign, Pss};
    // Exactly the modulus length, and never a value >= n (no silent reduction).
    if signature.len() != key.size() {
        return false;
    }
    if rsa::BigUint::from_bytes_be(signature) >= *key.n() {
        return false;
    }
    let result = match alg {
        Algorithm::Rs256 => key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(message),
            signature,
        ),
        Algorithm::Rs384 => key.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(message),
            signature,
        ),
        Algorithm::Rs512 => key.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(message),
            signature,
        ),
        // Pss::new::<D>() fixes the salt length to the hash length (RFC 7518 section 3.5).
        Algorithm::Ps256 => key.verify(Pss::new::<Sha256>(), &Sha256::digest(message), signature),
        Algorithm::Ps384 => key.verify(Pss::new::<Sha384>(), &Sha384::digest(message), signature),
        Algorithm::Ps512 => key.verify(Pss::new::<Sha512>(), &Sha512::digest(message), signature),
        _ => return false,
    };
    result.is_ok()
}
