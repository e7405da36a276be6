//! PEM / DER public keys: `PUBLIC KEY` (X.509 SubjectPublicKeyInfo, RFC 5280) for RSA,
//! EC P-256/384/521 (RFC 5480) and Ed25519 (RFC 8410), and `RSA PUBLIC KEY` (PKCS#1,
//! RFC 8017). Parsing uses the RustCrypto `der` / `spki` / `pkcs1` crates, which decode
//! strict DER and never panic on bad input. This module only extracts the key material;
//! [`crate::jose::jwk::Jwk::from_pem`] runs the same checks as for a JWK (size, exponent,
//! ROCA, point on the curve).

use alloc::vec::Vec;

use der::asn1::ObjectIdentifier;
use der::Decode;

use crate::jose::alg::EcCurve;
use crate::jose::key::{KeyError, KeyParams};

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
    let pem = pem.trim();
    // Say "private key" for any private-key document, even one the strict decoder refuses.
    if pem
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("-----BEGIN ") && l.contains("PRIVATE KEY"))
    {
        return Err(KeyError::PrivateKey);
    }
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).map_err(|_| KeyError::Pem)?;
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

#[cfg(test)]
mod tests {
    // The tests also build without the `std` feature (`cargo test --no-default-features`).
    extern crate std;
    #[allow(unused_imports)]
    use alloc::{borrow::ToOwned, string::ToString};

    use super::*;
    use crate::jose::jwk::Jwk;
    use crate::limits::Limits;
    use alloc::string::String;
    use serde_json::Value;

    const FIXTURES: &str = include_str!("../../tests/fixtures/keys/keys.json");

    fn entry(name: &str) -> Value {
        let f: Value = serde_json::from_str(FIXTURES).unwrap();
        f["keys"][name].clone()
    }

    fn jwk_of(name: &str) -> Jwk {
        Jwk::from_json(entry(name)["jwk"].to_string().as_bytes(), &Limits::DEFAULT).unwrap()
    }

    #[test]
    fn spki_pem_gives_the_same_key_as_the_jwk() {
        for name in ["rsa2048", "rsa3072", "p256", "p384", "p521", "ed25519"] {
            let pem = String::from(entry(name)["spki_pem"].as_str().unwrap());
            assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
            assert_eq!(Jwk::from_pem(&pem).unwrap(), jwk_of(name), "{name}");
            // Surrounding whitespace is tolerated; CRLF line endings too.
            assert_eq!(
                Jwk::from_pem(&alloc::format!("\n  {pem}\n\n")).unwrap(),
                jwk_of(name)
            );
            assert_eq!(
                Jwk::from_pem(&pem.replace('\n', "\r\n")).unwrap(),
                jwk_of(name)
            );
            // And the DER form.
            let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
            assert_eq!(Jwk::from_spki_der(&der).unwrap(), jwk_of(name));
            // Truncated DER is an error, never a panic.
            for cut in [0, 1, der.len() / 2, der.len() - 1] {
                assert!(Jwk::from_spki_der(&der[..cut]).is_err(), "{name} cut {cut}");
            }
            // Trailing bytes after the DER are refused.
            let mut long = der.clone();
            long.push(0);
            assert_eq!(Jwk::from_spki_der(&long), Err(KeyError::Pem));
        }
    }

    #[test]
    fn pkcs1_rsa_public_key_pem() {
        for name in ["rsa2048", "rsa3072"] {
            let pem = entry(name)["pkcs1_pem"].as_str().unwrap().to_owned();
            assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
            assert_eq!(Jwk::from_pem(&pem).unwrap(), jwk_of(name));
        }
    }

    #[test]
    fn pem_keys_get_the_jwk_checks() {
        let pem = entry("rsa1024")["spki_pem"].as_str().unwrap().to_owned();
        assert_eq!(
            Jwk::from_pem(&pem),
            Err(KeyError::RsaTooSmall { bits: 1024 })
        );
        let pem = entry("rsa1024")["pkcs1_pem"].as_str().unwrap().to_owned();
        assert_eq!(
            Jwk::from_pem(&pem),
            Err(KeyError::RsaTooSmall { bits: 1024 })
        );
    }

    #[test]
    fn other_documents_are_refused() {
        let pem = entry("p256")["spki_pem"].as_str().unwrap().to_owned();
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        let wrap = |label: &str| {
            alloc::format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
        };
        assert_eq!(Jwk::from_pem(&wrap("PUBLIC KEY")).unwrap(), jwk_of("p256"));
        for label in [
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "RSA PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ] {
            assert_eq!(
                Jwk::from_pem(&wrap(label)),
                Err(KeyError::PrivateKey),
                "{label}"
            );
        }
        assert_eq!(Jwk::from_pem(&wrap("CERTIFICATE")), Err(KeyError::Pem));
        // SPKI body under the PKCS#1 label does not parse as PKCS#1.
        assert_eq!(Jwk::from_pem(&wrap("RSA PUBLIC KEY")), Err(KeyError::Pem));
        for junk in [
            "",
            "hello",
            "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        ] {
            assert_eq!(Jwk::from_pem(junk), Err(KeyError::Pem));
        }
        // Mismatched END label.
        let bad = pem.replace("END PUBLIC KEY", "END PRIVATE KEY");
        assert_eq!(Jwk::from_pem(&bad), Err(KeyError::Pem));
    }

    #[test]
    fn sec1_points_and_unsupported_algorithms() {
        // Compressed and uncompressed encodings of the P-256 fixture point agree.
        let key = jwk_of("p256");
        let KeyParams::Ec { x, y, .. } = &key.params else {
            panic!()
        };
        let mut compressed = alloc::vec![if y[31] & 1 == 1 { 0x03 } else { 0x02 }];
        compressed.extend_from_slice(x);
        assert_eq!(
            sec1_point(EcCurve::P256, &compressed).unwrap(),
            (x.clone(), y.clone())
        );
        let mut flipped = compressed.clone();
        flipped[0] ^= 1;
        assert_ne!(sec1_point(EcCurve::P256, &flipped).unwrap().1, *y);
        assert_eq!(
            sec1_point(EcCurve::P256, &[0x00]),
            Err(KeyError::InvalidPoint)
        );
        assert_eq!(
            sec1_point(EcCurve::P384, &compressed),
            Err(KeyError::InvalidPoint)
        );
        // An SPKI with an unknown algorithm (X25519, 1.3.101.110).
        let x25519 = [
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00, 9, 9, 9, 9, 9,
            9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
        ];
        assert_eq!(parse_spki_der(&x25519), Err(KeyError::UnsupportedKeyType));
        // The same with the Ed25519 OID parses (the key material check is Jwk's).
        let mut ed = x25519;
        ed[8] = 0x70;
        assert!(matches!(parse_spki_der(&ed), Ok(KeyParams::Ed25519 { .. })));
    }
}
