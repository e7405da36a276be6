//! Algorithms and curves: the leaf every key and crypto module builds on.

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

/// An elliptic curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcCurve {
    P256,
    P384,
    P521,
}

impl EcCurve {
    /// The JWK `crv` name.
    pub const fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }

    /// Length of one coordinate (and of a scalar) in bytes.
    pub const fn field_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }
}

/// Largest RSA modulus accepted, in bits (bounds the cost of one verification).
pub const RSA_MAX_BITS: usize = 8192;

/// Largest RSA public exponent accepted (the `rsa` crate's bound, 2^33 - 1).
pub const RSA_MAX_EXPONENT: u64 = (1 << 33) - 1;
