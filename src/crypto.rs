//! Signature algorithms behind one trait (DESIGN.md, "Crypto").
//!
//! CONTRACT (owner: keys/crypto helper): `Algorithm`, `CryptoBackend`, `PureBackend` keep
//! these names and signatures (more methods may be added).

use crate::jwk::Jwk;

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
}

/// Checks one signature with one key. The key has already been selected and checked as
/// usable for `alg` by the caller (verify.rs); a backend must still refuse a key whose
/// type does not fit `alg`, and must return `false`, never panic, on malformed input.
pub trait CryptoBackend {
    /// `true` when `signature` is a valid `alg` signature over `signing_input` by `key`.
    fn verify(&self, alg: Algorithm, key: &Jwk, signing_input: &[u8], signature: &[u8]) -> bool;
}

/// The pure-Rust backend (jwt-compact + RustCrypto). Works everywhere, including no_std.
#[derive(Clone, Copy, Debug, Default)]
pub struct PureBackend;

impl CryptoBackend for PureBackend {
    fn verify(&self, alg: Algorithm, key: &Jwk, signing_input: &[u8], signature: &[u8]) -> bool {
        let _ = (alg, key, signing_input, signature);
        false // SCAFFOLD: replaced by the owner
    }
}
