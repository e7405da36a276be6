//! PEM / DER public keys: `PUBLIC KEY` (X.509 SubjectPublicKeyInfo, RFC 5280) for RSA,
//! EC P-256/384/521 (RFC 5480) and Ed25519 (RFC 8410), and `RSA PUBLIC KEY` (PKCS#1,
//! RFC 8017). Parsing uses the RustCrypto `der` / `spki` / `pkcs1` crates, which decode
//! strict DER and never panic on bad input. This module only extracts the key material;
//! [`crate::jwk::Jwk::from_pem`] runs the same checks as for a JWK (size, exponent,
//! ROCA, point on the curve).

use alloc::vec::Vec;

use der::asn1::ObjectIdentifier;
use der::Decode;

use crate::jwk::{EcCurve, KeyError, KeyParams};

/// rsaEncryption (PKCS#1).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// id-Ed25519 (RFC 8410).
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// prime256v1 / secp256r1.
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1.
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// secp521r1.
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// Decodes a PEM document holding a public key (`PUBLIC KEY` or `RSA PUBLIC KEY`).
/// Private-key labels give [`KeyError::PrivateKey`]; anything else [`KeyError::Pem`].
pub fn parse_public_key_pem(pem: &str) -> Result<KeyParams, KeyError> {
    let (label, der) = der::pem::decode_vec(pem.trim().as_bytes()).map_err(|_| KeyError::Pem)?;
    match label {
        "PUBLIC KEY" => parse_spki_der(&der),
        "RSA PUBLIC KEY" => parse_pkcs1_der(&der),
        "PRIVATE KEY"
        | "RSA PRIVATE KEY"
        | "EC PRIVATE KEY"
        | "ENCRYPTED PRIVATE KEY"
        | "OPENSSH PRIVATE KEY" => Err(KeyError::PrivateKey),
        _ => Err(KeyError::Pem),
    }
}

/// Decodes a DER `SubjectPublicKeyInfo`.
pub fn parse_spki_der(der: &[u8]) -> Result<KeyParams, KeyError> {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| KeyError::Pem)?;
    let key = spki.subject_public_key.as_bytes().ok_or(KeyError::Pem)?;
    let oid = spki.algorithm.oid;
    let params = spki.algorithm.parameters;
    if oid == RSA_ENCRYPTION {
        // RFC 3279: the parameters are NULL (absent is tolerated, as OpenSSL does).
        if params.is_some_and(|p| !p.is_null()) {
            return Err(KeyError::Pem);
        }
        parse_pkcs1_der(key)
    } else if oid == EC_PUBLIC_KEY {
        let curve_oid: ObjectIdentifier = params
            .ok_or(KeyError::Pem)?
            .decode_as()
            .map_err(|_| KeyError::Pem)?;
        let crv = if curve_oid == P256 {
            EcCurve::P256
        } else if curve_oid == P384 {
            EcCurve::P384
        } else if curve_oid == P521 {
            EcCurve::P521
        } else {
            return Err(KeyError::UnsupportedKeyType);
        };
        let (x, y) = sec1_point(crv, key)?;
        Ok(KeyParams::Ec { crv, x, y })
    } else if oid == ED25519 {
        // RFC 8410: parameters MUST be absent.
        if params.is_some() || key.len() != 32 {
            return Err(KeyError::Pem);
        }
        Ok(KeyParams::Ed25519 { x: key.to_vec() })
    } else {
        Err(KeyError::UnsupportedKeyType)
    }
}

/// Decodes a DER PKCS#1 `RSAPublicKey`.
pub fn parse_pkcs1_der(der: &[u8]) -> Result<KeyParams, KeyError> {
    let key = pkcs1::RsaPublicKey::from_der(der).map_err(|_| KeyError::Pem)?;
    Ok(KeyParams::Rsa {
        n: key.modulus.as_bytes().to_vec(),
        e: key.public_exponent.as_bytes().to_vec(),
    })
}

/// The affine coordinates of a SEC1 point (uncompressed or compressed), each exactly the
/// field length. Compressed points are decompressed (which checks they are on the curve).
fn sec1_point(crv: EcCurve, bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let len = crv.field_len();
    match bytes.first() {
        Some(0x04) if bytes.len() == 1 + 2 * len => {
            let x = bytes.get(1..1 + len).ok_or(KeyError::InvalidPoint)?;
            let y = bytes.get(1 + len..).ok_or(KeyError::InvalidPoint)?;
            Ok((x.to_vec(), y.to_vec()))
        }
        Some(0x02 | 0x03) if bytes.len() == 1 + len => {
            let uncompressed: Vec<u8> = match crv {
                EcCurve::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map_err(|_| KeyError::InvalidPoint)?
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec(),
                EcCurve::P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map_err(|_| KeyError::InvalidPoint)?
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec(),
                EcCurve::P521 => p521::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map_err(|_| KeyError::InvalidPoint)?
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec(),
            };
            sec1_point(crv, &uncompressed)
        }
        _ => Err(KeyError::InvalidPoint),
    }
}
