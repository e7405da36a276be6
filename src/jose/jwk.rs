//! JSON Web Keys and Key Sets (RFC 7517): import with checks, and key selection.
//!
//! Selection follows jose's `isUsableJWK`.
//!
//! Import decisions, for one JWK ([`Jwk::from_json`]) and for a set ([`JwkSet::from_json`]):
//!
//! | key | `Jwk::from_json` | in a `JwkSet` |
//! |---|---|---|
//! | unknown `kty` / `crv` (X25519, Ed448, secp256k1, ...) | `UnsupportedKeyType` | skipped |
//! | `use` other than `sig`, `key_ops` without `verify`, an `alg` that is not a supported JWS alg (A256GCM, RSA-OAEP, ES224, ...) or does not fit the key | imported, never usable | skipped |
//! | private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`) on RSA / EC / OKP | `PrivateKey` | the whole set fails: `MixedSet` when public keys are also present, else `PrivateKey` |
//! | RSA < 2048 bits, bad `e`, ROCA, EC point off the curve or of the wrong length, bad Ed25519 point, malformed members | error | skipped and recorded in [`JwkSet::rejected`] |
//! | HMAC secret shorter than its hash (`alg`, else HS256's 32 bytes) | imported (unusable: [`Jwk::is_usable_for`] enforces the length) | skipped and recorded |
//! | empty HMAC secret | `HmacTooShort` | skipped and recorded |
//!
//! Set-level checks (over the keys that are not skipped): HMAC mixed with asymmetric keys
//! is `MixedSet`; two keys with one `kid` is `DuplicateKid`; any `oct` key in a
//! [`KeyOrigin::Remote`] set is `SymmetricInRemoteSet`. Budgets: `max_jwks_bytes`,
//! `max_keys_per_set`, `max_json_depth`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};

use crate::jose::alg::{Algorithm, EcCurve};
use crate::jose::key::{check_params, KeyError, KeyOrigin, KeyParams};
use crate::limits::Limits;

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

/// A checked set of keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    origin: KeyOrigin,
    rejected: Vec<(usize, KeyError)>,
    /// One key the caller passed directly (jose's `KeyLike`): selection does not consult
    /// the token's `kid` (the algorithm and usability checks still apply).
    direct: bool,
}

/// What one member of a set's `keys` array turned into.
enum Entry {
    /// Imported and checked.
    Key(Jwk),
    /// Not a signature verification key (encryption key, unknown type, ...).
    Skipped,
    /// A signing key that is weak or invalid.
    Rejected(KeyError),
}

impl JwkSet {
    /// Parses and checks a JWKS document (`{"keys": [...]}`).
    pub fn from_json(bytes: &[u8], origin: KeyOrigin, limits: &Limits) -> Result<JwkSet, KeyError> {
        if bytes.len() > limits.max_jwks_bytes {
            return Err(KeyError::TooLarge {
                limit: limits.max_jwks_bytes,
            });
        }
        let doc = parse_json_object(bytes, limits.max_json_depth)?;
        let members = match doc.get("keys") {
            Some(Value::Array(members)) => members,
            _ => {
                return Err(KeyError::Malformed {
                    reason: "keys is not an array",
                })
            }
        };
        if members.len() > limits.max_keys_per_set {
            return Err(KeyError::TooManyKeys {
                limit: limits.max_keys_per_set,
            });
        }

        let mut private = false;
        let mut public = false;
        let mut oct = false;
        let mut entries = Vec::with_capacity(members.len());
        // `kid`s of the keys that are not skipped (kept or rejected), for DuplicateKid.
        let mut kids: Vec<&str> = Vec::new();
        let mut symmetric = false;
        let mut asymmetric = false;

        for member in members {
            let obj = match member {
                Value::Object(obj) => obj,
                _ => {
                    entries.push(Entry::Rejected(KeyError::Malformed {
                        reason: "key is not an object",
                    }));
                    continue;
                }
            };
            let kty = obj.get("kty").and_then(Value::as_str);
            if kty == Some("oct") {
                oct = true;
            } else if kty.is_some() {
                if has_private_members(obj) {
                    private = true;
                } else {
                    public = true;
                }
            }
            let entry = classify_in_set(obj);
            if !matches!(entry, Entry::Skipped) {
                if let Some(Value::String(kid)) = obj.get("kid") {
                    if kids.contains(&kid.as_str()) {
                        return Err(KeyError::DuplicateKid);
                    }
                    kids.push(kid.as_str());
                }
                match kty {
                    Some("oct") => symmetric = true,
                    Some(_) => asymmetric = true,
                    None => {}
                }
            }
            entries.push(entry);
        }

        if private {
            return Err(if public {
                KeyError::MixedSet
            } else {
                KeyError::PrivateKey
            });
        }
        if oct && origin == KeyOrigin::Remote {
            return Err(KeyError::SymmetricInRemoteSet);
        }
        if symmetric && asymmetric {
            return Err(KeyError::MixedSet);
        }

        let mut keys = Vec::new();
        let mut rejected = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            match entry {
                Entry::Key(key) => keys.push(key),
                Entry::Skipped => {}
                Entry::Rejected(error) => rejected.push((index, error)),
            }
        }
        Ok(JwkSet {
            keys,
            origin,
            rejected,
            direct: false,
        })
    }

    /// Builds a set from keys already imported, with the set-level checks (HMAC never
    /// mixed with asymmetric keys, none at all in a remote set; unique `kid`s).
    pub fn from_keys(keys: Vec<Jwk>, origin: KeyOrigin) -> Result<JwkSet, KeyError> {
        let symmetric = keys.iter().any(Jwk::is_symmetric);
        if symmetric && origin == KeyOrigin::Remote {
            return Err(KeyError::SymmetricInRemoteSet);
        }
        if symmetric && keys.iter().any(|k| !k.is_symmetric()) {
            return Err(KeyError::MixedSet);
        }
        for (i, key) in keys.iter().enumerate() {
            if let Some(kid) = &key.kid {
                if keys
                    .iter()
                    .skip(i + 1)
                    .any(|other| other.kid.as_ref() == Some(kid))
                {
                    return Err(KeyError::DuplicateKid);
                }
            }
        }
        Ok(JwkSet {
            keys,
            origin,
            rejected: Vec::new(),
            direct: false,
        })
    }

    /// A set of one key the caller passed directly, as jose's `jwtVerify(token, key)`:
    /// the key verifies whatever `kid` the token names (or none), while every other rule
    /// (the key's `alg`, `use`, `key_ops`, type and size against the token's `alg`, the
    /// caller's allowlist) still applies. Sets built with [`JwkSet::from_keys`] or
    /// [`JwkSet::from_json`] match `kid` strictly.
    pub fn direct(key: Jwk) -> Result<JwkSet, KeyError> {
        let mut set = JwkSet::from_keys(alloc::vec![key], KeyOrigin::Local)?;
        set.direct = true;
        Ok(set)
    }

    /// Whether this set is one directly passed key (see [`JwkSet::direct`]).
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// The keys.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Where the set came from.
    pub fn origin(&self) -> KeyOrigin {
        self.origin
    }

    /// Signing keys of the document that were skipped because they are weak or invalid:
    /// their index in the document's `keys` array and why.
    pub fn rejected(&self) -> &[(usize, KeyError)] {
        &self.rejected
    }

    /// `true` when no key was kept.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys usable for a token with this `alg` and `kid`, at most `limit` of them,
    /// in document order. As jose's `LocalJWKSet._getKey`: when the token has a `kid`, only
    /// keys with that `kid` match (a key without `kid` never does); then `kty`/`crv` must fit
    /// `alg`, a key `alg` must equal it, `use` must be `sig`, `key_ops` must contain
    /// `verify` (see [`Jwk::is_usable_for`]).
    pub fn select(&self, alg: Algorithm, kid: Option<&str>, limit: usize) -> Vec<&Jwk> {
        self.keys
            .iter()
            .filter(|key| match kid {
                Some(kid) if !self.direct => key.kid.as_deref() == Some(kid),
                _ => true,
            })
            .filter(|key| key.is_usable_for(alg))
            .take(limit)
            .collect()
    }

    /// jose's `LocalJWKSet` key selection for a key function given a protected header
    /// (`alg` as written, `kid` when it is a string): the positions in [`JwkSet::keys`] of
    /// every key [`JwkSet::select`] accepts, in document order. An unsupported `alg`, or an
    /// HMAC `alg` against a fetched set, selects nothing (as verification does).
    pub fn select_for_header(&self, alg: &str, kid: Option<&str>) -> Vec<usize> {
        let Some(alg) = Algorithm::from_name(alg) else {
            return Vec::new();
        };
        if alg.is_symmetric() && self.origin == KeyOrigin::Remote {
            return Vec::new();
        }
        self.select(alg, kid, self.keys.len())
            .into_iter()
            .filter_map(|k| self.keys.iter().position(|x| core::ptr::eq(x, k)))
            .collect()
    }
}

impl Jwk {
    /// The public JWK of this key as JSON (for a host's native key import): `kty` and the
    /// public parameters only; `null` for an HMAC secret, which never leaves the core.
    pub fn public_jwk_json(&self) -> Value {
        use crate::codec::b64::encode;
        match &self.params {
            KeyParams::Rsa { n, e } => {
                serde_json::json!({"kty": "RSA", "n": encode(n), "e": encode(e)})
            }
            KeyParams::Ec { crv, x, y } => {
                serde_json::json!({"kty": "EC", "crv": crv.name(), "x": encode(x), "y": encode(y)})
            }
            KeyParams::Ed25519 { x } => {
                serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": encode(x)})
            }
            KeyParams::Oct { .. } => Value::Null,
        }
    }

    /// Parses and checks one JWK (a JSON object).
    pub fn from_json(bytes: &[u8], limits: &Limits) -> Result<Jwk, KeyError> {
        if bytes.len() > limits.max_jwks_bytes {
            return Err(KeyError::TooLarge {
                limit: limits.max_jwks_bytes,
            });
        }
        let obj = parse_json_object(bytes, limits.max_json_depth)?;
        Jwk::from_object(&obj)
    }

    /// Checks one JWK given as an already-parsed JSON object.
    pub fn from_object(obj: &Map<String, Value>) -> Result<Jwk, KeyError> {
        let kty = match obj.get("kty") {
            Some(Value::String(kty)) => kty.as_str(),
            Some(_) => {
                return Err(KeyError::Malformed {
                    reason: "kty is not a string",
                })
            }
            None => return Err(KeyError::UnsupportedKeyType),
        };
        if !matches!(kty, "RSA" | "EC" | "OKP" | "oct") {
            return Err(KeyError::UnsupportedKeyType);
        }
        let kid = opt_string(obj, "kid")?;
        let alg = opt_string(obj, "alg")?;
        let use_ = opt_string(obj, "use")?;
        let key_ops = match obj.get("key_ops") {
            None => None,
            Some(Value::Array(ops)) => {
                let mut out = Vec::with_capacity(ops.len());
                for op in ops {
                    match op {
                        Value::String(op) => out.push(op.clone()),
                        _ => {
                            return Err(KeyError::Malformed {
                                reason: "key_ops member is not a string",
                            })
                        }
                    }
                }
                Some(out)
            }
            Some(_) => {
                return Err(KeyError::Malformed {
                    reason: "key_ops is not an array",
                })
            }
        };
        if kty != "oct" && has_private_members(obj) {
            return Err(KeyError::PrivateKey);
        }
        let params = match kty {
            "RSA" => KeyParams::Rsa {
                n: strip_leading_zeros(b64_member(obj, "n")?),
                e: strip_leading_zeros(b64_member(obj, "e")?),
            },
            "EC" => {
                let crv = match obj.get("crv").and_then(Value::as_str) {
                    Some("P-256") => EcCurve::P256,
                    Some("P-384") => EcCurve::P384,
                    Some("P-521") => EcCurve::P521,
                    _ => return Err(KeyError::UnsupportedKeyType),
                };
                KeyParams::Ec {
                    crv,
                    x: b64_member(obj, "x")?,
                    y: b64_member(obj, "y")?,
                }
            }
            "OKP" => match obj.get("crv").and_then(Value::as_str) {
                Some("Ed25519") => KeyParams::Ed25519 {
                    x: b64_member(obj, "x")?,
                },
                _ => return Err(KeyError::UnsupportedKeyType),
            },
            _ => {
                let k = b64_member(obj, "k")?;
                if k.is_empty() {
                    let min = alg
                        .as_deref()
                        .and_then(Algorithm::from_name)
                        .and_then(Algorithm::min_hmac_key_len)
                        .unwrap_or(32);
                    return Err(KeyError::HmacTooShort { bytes: 0, min });
                }
                KeyParams::Oct { k }
            }
        };
        check_params(&params)?;
        Ok(Jwk {
            kid,
            alg,
            use_,
            key_ops,
            params,
        })
    }

    /// Imports the public part of a JWK that may be private: the private members (`d`, `p`,
    /// `q`, `dp`, `dq`, `qi`, `oth`) are dropped, then the key is checked as by
    /// [`Jwk::from_json`]. For tooling and tests that hold private JWKs (a CLI given the
    /// issuer's key pair); a verifier's configuration should hold public keys, and
    /// [`Jwk::from_json`] refuses private ones.
    pub fn from_json_public_part(bytes: &[u8], limits: &Limits) -> Result<Jwk, KeyError> {
        if bytes.len() > limits.max_jwks_bytes {
            return Err(KeyError::TooLarge {
                limit: limits.max_jwks_bytes,
            });
        }
        let mut obj = parse_json_object(bytes, limits.max_json_depth)?;
        if obj.get("kty").and_then(Value::as_str) != Some("oct") {
            for member in PRIVATE_MEMBERS {
                obj.remove(member);
            }
        }
        Jwk::from_object(&obj)
    }

    /// Imports a PEM `PUBLIC KEY` (SPKI) document: RSA, EC P-256/384/521 or Ed25519;
    /// also `RSA PUBLIC KEY` (PKCS#1). The key gets the same checks as a JWK.
    pub fn from_pem(pem: &str) -> Result<Jwk, KeyError> {
        let params = crate::jose::pem::parse_public_key_pem(pem)?;
        check_params(&params)?;
        Ok(Jwk {
            kid: None,
            alg: None,
            use_: None,
            key_ops: None,
            params,
        })
    }

    /// Imports a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Jwk, KeyError> {
        let params = crate::jose::pem::parse_spki_der(der)?;
        check_params(&params)?;
        Ok(Jwk {
            kid: None,
            alg: None,
            use_: None,
            key_ops: None,
            params,
        })
    }

    /// Wraps a raw HMAC secret. An empty secret is an error; a short one imports but is
    /// not usable for an `HS*` algorithm whose hash is longer (see [`Jwk::is_usable_for`]).
    pub fn from_hmac_secret(secret: &[u8]) -> Result<Jwk, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::HmacTooShort { bytes: 0, min: 32 });
        }
        Ok(Jwk {
            kid: None,
            alg: None,
            use_: None,
            key_ops: None,
            params: KeyParams::Oct { k: secret.to_vec() },
        })
    }

    /// `true` for an HMAC secret (`kty: oct`).
    pub fn is_symmetric(&self) -> bool {
        matches!(self.params, KeyParams::Oct { .. })
    }

    /// The JWK `kty`.
    pub fn kty(&self) -> &'static str {
        match self.params {
            KeyParams::Rsa { .. } => "RSA",
            KeyParams::Ec { .. } => "EC",
            KeyParams::Ed25519 { .. } => "OKP",
            KeyParams::Oct { .. } => "oct",
        }
    }

    /// Whether the key material fits `alg` (kty, curve, HMAC length), ignoring the
    /// `alg`/`use`/`key_ops` members.
    pub fn fits(&self, alg: Algorithm) -> bool {
        match (&self.params, alg) {
            (KeyParams::Oct { k }, _) => alg.min_hmac_key_len().is_some_and(|min| k.len() >= min),
            (KeyParams::Rsa { .. }, _) => alg.key_type() == "RSA",
            (KeyParams::Ec { crv, .. }, _) => alg.curve() == Some(*crv),
            (KeyParams::Ed25519 { .. }, Algorithm::EdDsa) => true,
            (KeyParams::Ed25519 { .. }, _) => false,
        }
    }

    /// Whether this key may verify a signature made with `alg` (kty/crv, `alg`, `use`,
    /// `key_ops`, HMAC length), as jose's `isUsableJWK` decides.
    pub fn is_usable_for(&self, alg: Algorithm) -> bool {
        self.fits(alg)
            && self.alg.as_deref().is_none_or(|a| a == alg.name())
            && self.use_.as_deref().is_none_or(|u| u == "sig")
            && self
                .key_ops
                .as_ref()
                .is_none_or(|ops| ops.iter().any(|op| op == "verify"))
    }

    /// Whether the key is usable for at least one supported algorithm.
    pub fn is_usable(&self) -> bool {
        Algorithm::ALL.iter().any(|&alg| self.is_usable_for(alg))
    }

    /// The public JWK as JSON (`kty` and the public parameters, plus `kid`, `alg`, `use`,
    /// `key_ops` when present), for a host to import into native crypto. An HMAC key
    /// (`oct`) never has its secret written: its JSON has no `k` (a host keeps HMAC in wasm).
    pub fn to_public_jwk_json(&self) -> String {
        let mut obj = Map::new();
        obj.insert("kty".to_string(), Value::String(self.kty().to_string()));
        match &self.params {
            KeyParams::Rsa { n, e } => {
                obj.insert("n".to_string(), Value::String(b64_encode(n)));
                obj.insert("e".to_string(), Value::String(b64_encode(e)));
            }
            KeyParams::Ec { crv, x, y } => {
                obj.insert("crv".to_string(), Value::String(crv.name().to_string()));
                obj.insert("x".to_string(), Value::String(b64_encode(x)));
                obj.insert("y".to_string(), Value::String(b64_encode(y)));
            }
            KeyParams::Ed25519 { x } => {
                obj.insert("crv".to_string(), Value::String("Ed25519".to_string()));
                obj.insert("x".to_string(), Value::String(b64_encode(x)));
            }
            KeyParams::Oct { .. } => {}
        }
        if let Some(kid) = &self.kid {
            obj.insert("kid".to_string(), Value::String(kid.clone()));
        }
        if let Some(alg) = &self.alg {
            obj.insert("alg".to_string(), Value::String(alg.clone()));
        }
        if let Some(use_) = &self.use_ {
            obj.insert("use".to_string(), Value::String(use_.clone()));
        }
        if let Some(ops) = &self.key_ops {
            obj.insert(
                "key_ops".to_string(),
                Value::Array(ops.iter().cloned().map(Value::String).collect()),
            );
        }
        Value::Object(obj).to_string()
    }
}

/// Decides what one member of a set's `keys` array becomes.
fn classify_in_set(obj: &Map<String, Value>) -> Entry {
    let key = match Jwk::from_object(obj) {
        Ok(key) => key,
        Err(KeyError::UnsupportedKeyType) => return Entry::Skipped,
        Err(error) => {
            // A key that was not for signing anyway is skipped, not recorded.
            return if not_for_signing(obj) {
                Entry::Skipped
            } else {
                Entry::Rejected(error)
            };
        }
    };
    if !key.is_usable() {
        if let KeyParams::Oct { k } = &key.params {
            let min = key
                .alg
                .as_deref()
                .and_then(Algorithm::from_name)
                .and_then(Algorithm::min_hmac_key_len)
                .unwrap_or(32);
            if k.len() < min && !not_for_signing(obj) {
                return Entry::Rejected(KeyError::HmacTooShort {
                    bytes: k.len(),
                    min,
                });
            }
        }
        return Entry::Skipped;
    }
    Entry::Key(key)
}

/// `use` other than `sig`, `key_ops` without `verify`, or an `alg` that is not a
/// supported JWS algorithm: a key that is not meant for verifying JWS signatures.
fn not_for_signing(obj: &Map<String, Value>) -> bool {
    if let Some(use_) = obj.get("use") {
        if use_.as_str() != Some("sig") {
            return true;
        }
    }
    if let Some(ops) = obj.get("key_ops") {
        match ops.as_array() {
            Some(ops) if ops.iter().any(|op| op.as_str() == Some("verify")) => {}
            _ => return true,
        }
    }
    if let Some(alg) = obj.get("alg") {
        if alg.as_str().and_then(Algorithm::from_name).is_none() {
            return true;
        }
    }
    false
}

/// Private-key members of RSA / EC / OKP JWKs (RFC 7518 section 6).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

fn has_private_members(obj: &Map<String, Value>) -> bool {
    PRIVATE_MEMBERS.iter().any(|m| obj.contains_key(*m))
}

fn strip_leading_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|&&b| b == 0).count();
    v.drain(..zeros);
    v
}

fn opt_string(obj: &Map<String, Value>, name: &'static str) -> Result<Option<String>, KeyError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(KeyError::Malformed {
            reason: member_not_string(name),
        }),
    }
}

fn member_not_string(name: &str) -> &'static str {
    match name {
        "kid" => "kid is not a string",
        "alg" => "alg is not a string",
        "use" => "use is not a string",
        _ => "member is not a string",
    }
}

/// A required base64url member.
fn b64_member(obj: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyError> {
    match obj.get(name) {
        Some(Value::String(s)) => b64_decode(s.as_bytes()).ok_or(KeyError::Malformed {
            reason: b64_reason(name),
        }),
        Some(_) => Err(KeyError::Malformed {
            reason: b64_reason(name),
        }),
        None => Err(KeyError::Malformed {
            reason: missing_reason(name),
        }),
    }
}

fn b64_reason(name: &str) -> &'static str {
    match name {
        "n" => "n is not base64url",
        "e" => "e is not base64url",
        "x" => "x is not base64url",
        "y" => "y is not base64url",
        "k" => "k is not base64url",
        _ => "member is not base64url",
    }
}

fn missing_reason(name: &str) -> &'static str {
    match name {
        "n" => "n is missing",
        "e" => "e is missing",
        "x" => "x is missing",
        "y" => "y is missing",
        "k" => "k is missing",
        _ => "member is missing",
    }
}

/// Strict unpadded base64url (no padding, no whitespace, canonical trailing bits).
fn b64_decode(input: &[u8]) -> Option<Vec<u8>> {
    crate::codec::b64::decode(input).ok()
}

fn b64_encode(input: &[u8]) -> String {
    crate::codec::b64::encode(input)
}

/// Parses one JSON object with the shared strict parser (UTF-8, duplicate member names
/// refused, depth bounded).
fn parse_json_object(bytes: &[u8], max_depth: usize) -> Result<Map<String, Value>, KeyError> {
    use crate::codec::json::JsonError;
    crate::codec::json::parse_object(bytes, max_depth).map_err(|e| match e {
        JsonError::TooDeep { limit } => KeyError::TooDeep { limit },
        JsonError::DuplicateMember { .. } => KeyError::Malformed {
            reason: "duplicate member name",
        },
        _ => KeyError::Malformed {
            reason: "not a json object",
        },
    })
}

#[cfg(test)]
mod tests {
    // The tests also build without the `std` feature (`cargo test --no-default-features`).
    extern crate std;
    #[allow(unused_imports)]
    use alloc::{borrow::ToOwned, string::ToString};

    use super::*;
    use alloc::format;
    use alloc::vec;

    const FIXTURES: &str = include_str!("../../tests/fixtures/keys/keys.json");
    const WYCHEPROOF_KEYS: &str =
        include_str!("../../tests/vectors/wycheproof/json_web_key_test.json");

    fn fixtures() -> Value {
        serde_json::from_str(FIXTURES).unwrap()
    }

    fn fixture_jwk(name: &str) -> Map<String, Value> {
        match &fixtures()["keys"][name]["jwk"] {
            Value::Object(obj) => obj.clone(),
            _ => panic!("no fixture {name}"),
        }
    }

    fn with(mut obj: Map<String, Value>, members: &[(&str, Value)]) -> Map<String, Value> {
        for (k, v) in members {
            obj.insert((*k).to_string(), v.clone());
        }
        obj
    }

    fn import(obj: &Map<String, Value>) -> Result<Jwk, KeyError> {
        Jwk::from_json(
            Value::Object(obj.clone()).to_string().as_bytes(),
            &Limits::DEFAULT,
        )
    }

    fn set(keys: &[Map<String, Value>], origin: KeyOrigin) -> Result<JwkSet, KeyError> {
        let doc = serde_json::json!({ "keys": keys });
        JwkSet::from_json(doc.to_string().as_bytes(), origin, &Limits::DEFAULT)
    }

    fn hmac(len: usize, alg: Option<&str>, kid: &str) -> Map<String, Value> {
        let mut obj = Map::new();
        obj.insert("kty".into(), "oct".into());
        obj.insert("k".into(), b64_encode(&vec![7u8; len]).into());
        obj.insert("kid".into(), kid.into());
        if let Some(alg) = alg {
            obj.insert("alg".into(), alg.into());
        }
        obj
    }

    #[test]
    fn fixture_keys_import() {
        for (name, kty) in [
            ("rsa2048", "RSA"),
            ("rsa3072", "RSA"),
            ("rsa2048_e3", "RSA"),
            ("p256", "EC"),
            ("p384", "EC"),
            ("p521", "EC"),
            ("ed25519", "OKP"),
        ] {
            let key = import(&fixture_jwk(name)).unwrap();
            assert_eq!(key.kty(), kty, "{name}");
            assert!(key.is_usable(), "{name}");
        }
    }

    #[test]
    fn rsa_checks() {
        assert_eq!(
            import(&fixture_jwk("rsa1024")),
            Err(KeyError::RsaTooSmall { bits: 1024 })
        );
        let rsa = fixture_jwk("rsa2048");
        for e in ["AQ", "AQAA", "Ag", "AA", "AAE"] {
            // 1, 65536 (even), 2, 0, and 1 with a leading zero byte.
            assert_eq!(
                import(&with(rsa.clone(), &[("e", e.into())])),
                Err(KeyError::RsaBadExponent),
                "{e}"
            );
        }
        // 2^33 + 1 is odd but over the bound.
        assert_eq!(
            import(&with(rsa.clone(), &[("e", "AgAAAAE".into())])),
            Err(KeyError::RsaBadExponent)
        );
        assert_eq!(
            import(&with(rsa.clone(), &[("e", 5.into())])),
            Err(KeyError::Malformed {
                reason: "e is not base64url"
            })
        );
        assert_eq!(
            import(&with(rsa.clone(), &[("n", "AA".into())])),
            Err(KeyError::RsaTooSmall { bits: 0 })
        );
        let mut no_n = rsa.clone();
        no_n.remove("n");
        assert_eq!(
            import(&no_n),
            Err(KeyError::Malformed {
                reason: "n is missing"
            })
        );
        // A modulus with a leading zero byte is the same key.
        let key = import(&rsa).unwrap();
        let KeyParams::Rsa { n, .. } = &key.params else {
            panic!()
        };
        let mut padded = vec![0u8];
        padded.extend_from_slice(n);
        assert_eq!(
            import(&with(rsa.clone(), &[("n", b64_encode(&padded).into())])).unwrap(),
            key
        );
        // An even modulus is refused.
        let mut even = n.clone();
        *even.last_mut().unwrap() &= 0xfe;
        assert!(import(&with(rsa.clone(), &[("n", b64_encode(&even).into())])).is_err());
        // Too large a modulus.
        let huge = vec![0xffu8; 1025];
        assert_eq!(
            import(&with(rsa, &[("n", b64_encode(&huge).into())])),
            Err(KeyError::RsaTooLarge { bits: 8200 })
        );
    }

    #[test]
    fn roca_modulus_from_wycheproof_is_refused() {
        let doc: Value = serde_json::from_str(WYCHEPROOF_KEYS).unwrap();
        let group = doc["testGroups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["comment"] == "jws_rsa_roca_key")
            .unwrap();
        let Value::Object(key) = &group["public"]["keys"][0] else {
            panic!()
        };
        assert_eq!(import(key), Err(KeyError::RsaRoca));
        // And no fixture key (generated by OpenSSL) has the fingerprint.
        let key = import(&fixture_jwk("rsa2048")).unwrap();
        let KeyParams::Rsa { n, .. } = &key.params else {
            panic!()
        };
        assert!(!crate::jose::roca::has_fingerprint(n));
        // In a set it is skipped and recorded.
        let s = set(&[key_obj(&group["public"]["keys"][0])], KeyOrigin::Remote).unwrap();
        assert!(s.is_empty());
        assert_eq!(s.rejected(), &[(0, KeyError::RsaRoca)]);
    }

    fn key_obj(v: &Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn ec_checks() {
        let p256 = fixture_jwk("p256");
        let key = import(&p256).unwrap();
        let KeyParams::Ec { crv, x, y } = &key.params else {
            panic!()
        };
        assert_eq!(*crv, EcCurve::P256);
        // y + 1 is not on the curve.
        let mut y2 = y.clone();
        *y2.last_mut().unwrap() ^= 1;
        assert_eq!(
            import(&with(p256.clone(), &[("y", b64_encode(&y2).into())])),
            Err(KeyError::InvalidPoint)
        );
        // Coordinates of the wrong length (a leading zero added, or one byte dropped).
        let mut x_long = vec![0u8];
        x_long.extend_from_slice(x);
        assert_eq!(
            import(&with(p256.clone(), &[("x", b64_encode(&x_long).into())])),
            Err(KeyError::InvalidPoint)
        );
        assert_eq!(
            import(&with(p256.clone(), &[("x", b64_encode(&x[1..]).into())])),
            Err(KeyError::InvalidPoint)
        );
        // The same coordinates declared on another curve.
        assert_eq!(
            import(&with(p256.clone(), &[("crv", "P-384".into())])),
            Err(KeyError::InvalidPoint)
        );
        assert_eq!(
            import(&with(p256.clone(), &[("crv", "secp256k1".into())])),
            Err(KeyError::UnsupportedKeyType)
        );
        // A private EC JWK.
        assert_eq!(
            import(&with(p256.clone(), &[("d", "AAAA".into())])),
            Err(KeyError::PrivateKey)
        );
        // The P-521 coordinates are 66 bytes.
        let key = import(&fixture_jwk("p521")).unwrap();
        let KeyParams::Ec { x, .. } = &key.params else {
            panic!()
        };
        assert_eq!(x.len(), 66);
    }

    #[test]
    fn okp_checks() {
        let ed = fixture_jwk("ed25519");
        assert!(import(&ed).is_ok());
        // The identity point (small order) and a non-point.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            import(&with(ed.clone(), &[("x", b64_encode(&identity).into())])),
            Err(KeyError::InvalidPoint)
        );
        assert_eq!(
            import(&with(ed.clone(), &[("x", b64_encode(&[1u8; 31]).into())])),
            Err(KeyError::InvalidPoint)
        );
        for crv in ["X25519", "Ed448"] {
            assert_eq!(
                import(&with(ed.clone(), &[("crv", crv.into())])),
                Err(KeyError::UnsupportedKeyType)
            );
        }
        assert_eq!(
            import(&with(ed, &[("d", "AAAA".into())])),
            Err(KeyError::PrivateKey)
        );
    }

    #[test]
    fn oct_checks() {
        let mut empty = hmac(0, Some("HS384"), "a");
        assert_eq!(
            import(&empty),
            Err(KeyError::HmacTooShort { bytes: 0, min: 48 })
        );
        empty.remove("alg");
        assert_eq!(
            import(&empty),
            Err(KeyError::HmacTooShort { bytes: 0, min: 32 })
        );
        assert_eq!(
            Jwk::from_hmac_secret(b""),
            Err(KeyError::HmacTooShort { bytes: 0, min: 32 })
        );
        // A short secret imports but is unusable; lengths gate each HS algorithm.
        let short = import(&hmac(16, None, "a")).unwrap();
        assert!(!short.is_usable());
        let k32 = Jwk::from_hmac_secret(&[1u8; 32]).unwrap();
        assert!(k32.is_usable_for(Algorithm::Hs256));
        assert!(!k32.is_usable_for(Algorithm::Hs384));
        assert!(!k32.is_usable_for(Algorithm::Hs512));
        assert!(!k32.is_usable_for(Algorithm::Rs256));
        let k64 = Jwk::from_hmac_secret(&[1u8; 64]).unwrap();
        assert!(
            Algorithm::ALL
                .iter()
                .filter(|a| k64.is_usable_for(**a))
                .count()
                == 3
        );
        // Non-canonical base64url (set trailing bits) and padding are refused.
        let mut bad = hmac(32, None, "a");
        bad.insert(
            "k".into(),
            "-xxuDNsVZ2iJtos-akfXTSCt4UO2cruLCsbWlBingge".into(),
        );
        assert_eq!(
            import(&bad),
            Err(KeyError::Malformed {
                reason: "k is not base64url"
            })
        );
        bad.insert(
            "k".into(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
        );
        assert_eq!(
            import(&bad),
            Err(KeyError::Malformed {
                reason: "k is not base64url"
            })
        );
    }

    #[test]
    fn a_direct_key_ignores_the_token_kid_but_not_the_algorithm() {
        let mut key = import(&fixture_jwk("rsa2048")).unwrap();
        key.kid = Some(String::from("configured"));
        key.alg = Some(String::from("RS256"));
        let direct = JwkSet::direct(key.clone()).unwrap();
        assert!(direct.is_direct());
        for kid in [Some("configured"), Some("other"), None] {
            assert_eq!(direct.select(Algorithm::Rs256, kid, 4).len(), 1, "{kid:?}");
        }
        // Every other rule still applies: the key's alg pins it to RS256.
        assert!(direct.select(Algorithm::Ps256, Some("other"), 4).is_empty());
        assert!(direct.select(Algorithm::Hs256, None, 4).is_empty());
        // A set matches kids strictly.
        let set = JwkSet::from_keys(alloc::vec![key], KeyOrigin::Local).unwrap();
        assert!(!set.is_direct());
        assert!(set.select(Algorithm::Rs256, Some("other"), 4).is_empty());
        assert_eq!(set.select(Algorithm::Rs256, Some("configured"), 4).len(), 1);
    }

    #[test]
    fn duplicate_members_are_refused() {
        let doc = br#"{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","k":"AQ"}"#;
        assert_eq!(
            Jwk::from_json(doc, &Limits::DEFAULT),
            Err(KeyError::Malformed {
                reason: "duplicate member name"
            })
        );
        let set = br#"{"keys":[],"keys":[]}"#;
        assert!(JwkSet::from_json(set, KeyOrigin::Local, &Limits::DEFAULT).is_err());
    }

    #[test]
    fn member_types_and_kty() {
        let rsa = fixture_jwk("rsa2048");
        assert_eq!(
            import(&with(rsa.clone(), &[("kty", "rsa".into())])),
            Err(KeyError::UnsupportedKeyType)
        );
        assert!(matches!(
            import(&with(rsa.clone(), &[("kty", 1.into())])),
            Err(KeyError::Malformed { .. })
        ));
        let mut no_kty = rsa.clone();
        no_kty.remove("kty");
        assert_eq!(import(&no_kty), Err(KeyError::UnsupportedKeyType));
        assert!(matches!(
            import(&with(rsa.clone(), &[("kid", 1.into())])),
            Err(KeyError::Malformed { .. })
        ));
        assert!(matches!(
            import(&with(rsa.clone(), &[("key_ops", "verify".into())])),
            Err(KeyError::Malformed { .. })
        ));
        assert!(matches!(
            import(&with(
                rsa.clone(),
                &[("key_ops", serde_json::json!(["verify", 1]))]
            )),
            Err(KeyError::Malformed { .. })
        ));
        for member in PRIVATE_MEMBERS {
            assert_eq!(
                import(&with(rsa.clone(), &[(member, "AQAB".into())])),
                Err(KeyError::PrivateKey),
                "{member}"
            );
        }
        assert!(Jwk::from_json(b"[]", &Limits::DEFAULT).is_err());
        assert!(Jwk::from_json(b"{", &Limits::DEFAULT).is_err());
        assert!(Jwk::from_json(b"", &Limits::DEFAULT).is_err());
    }

    #[test]
    fn usability_follows_alg_use_and_key_ops() {
        let rsa = fixture_jwk("rsa2048");
        let plain = import(&rsa).unwrap();
        for alg in [
            Algorithm::Rs256,
            Algorithm::Rs384,
            Algorithm::Rs512,
            Algorithm::Ps256,
            Algorithm::Ps384,
            Algorithm::Ps512,
        ] {
            assert!(plain.is_usable_for(alg));
        }
        assert!(!plain.is_usable_for(Algorithm::Es256));
        assert!(!plain.is_usable_for(Algorithm::Hs256));
        let pinned = import(&with(rsa.clone(), &[("alg", "RS256".into())])).unwrap();
        assert!(pinned.is_usable_for(Algorithm::Rs256));
        assert!(!pinned.is_usable_for(Algorithm::Ps256));
        assert!(!pinned.is_usable_for(Algorithm::Rs384));
        let unknown_alg = import(&with(rsa.clone(), &[("alg", "RSA-OAEP".into())])).unwrap();
        assert!(!unknown_alg.is_usable());
        let enc = import(&with(rsa.clone(), &[("use", "enc".into())])).unwrap();
        assert!(!enc.is_usable());
        let sig = import(&with(rsa.clone(), &[("use", "sig".into())])).unwrap();
        assert!(sig.is_usable_for(Algorithm::Rs256));
        let encrypt = import(&with(
            rsa.clone(),
            &[("key_ops", serde_json::json!(["encrypt"]))],
        ))
        .unwrap();
        assert!(!encrypt.is_usable());
        let verify = import(&with(
            rsa.clone(),
            &[("key_ops", serde_json::json!(["sign", "verify"]))],
        ))
        .unwrap();
        assert!(verify.is_usable_for(Algorithm::Rs256));
        // Curves bind the ES algorithm.
        let p384 = import(&fixture_jwk("p384")).unwrap();
        assert!(p384.is_usable_for(Algorithm::Es384));
        assert!(!p384.is_usable_for(Algorithm::Es256));
        assert!(!p384.is_usable_for(Algorithm::Es512));
        let ed = import(&fixture_jwk("ed25519")).unwrap();
        assert_eq!(
            Algorithm::ALL
                .iter()
                .filter(|a| ed.is_usable_for(**a))
                .collect::<Vec<_>>(),
            [&Algorithm::EdDsa]
        );
    }

    #[test]
    fn selection_follows_jose() {
        let a = with(fixture_jwk("rsa2048"), &[("kid", "a".into())]);
        let b = with(
            fixture_jwk("rsa3072"),
            &[("kid", "b".into()), ("alg", "PS256".into())],
        );
        let c = fixture_jwk("rsa2048_e3"); // no kid
        let d = with(fixture_jwk("p256"), &[("kid", "d".into())]);
        let s = set(&[a, b, c, d], KeyOrigin::Remote).unwrap();
        assert_eq!(s.keys().len(), 4);
        let kids = |v: Vec<&Jwk>| v.iter().map(|k| k.kid.clone()).collect::<Vec<_>>();
        // With a kid: only that key, and only if usable for alg.
        assert_eq!(
            kids(s.select(Algorithm::Rs256, Some("a"), 4)),
            [Some("a".into())]
        );
        assert!(s.select(Algorithm::Rs256, Some("b"), 4).is_empty());
        assert_eq!(
            kids(s.select(Algorithm::Ps256, Some("b"), 4)),
            [Some("b".into())]
        );
        assert!(s.select(Algorithm::Rs256, Some("zzz"), 4).is_empty());
        assert!(s.select(Algorithm::Es256, Some("a"), 4).is_empty());
        // Without a kid: every usable key in order, up to the limit; a key without kid
        // only matches tokens without kid.
        assert_eq!(
            kids(s.select(Algorithm::Rs256, None, 4)),
            [Some("a".into()), None]
        );
        assert_eq!(
            kids(s.select(Algorithm::Rs256, None, 1)),
            [Some("a".into())]
        );
        assert_eq!(
            kids(s.select(Algorithm::Ps256, None, 4)),
            [Some("a".into()), Some("b".into()), None]
        );
        assert_eq!(
            kids(s.select(Algorithm::Es256, None, 4)),
            [Some("d".into())]
        );
        assert!(s.select(Algorithm::Es384, None, 4).is_empty());
        assert!(s.select(Algorithm::Hs256, None, 4).is_empty());
        assert!(s.select(Algorithm::Rs256, None, 0).is_empty());
    }

    #[test]
    fn set_level_checks() {
        let rsa = with(fixture_jwk("rsa2048"), &[("kid", "r".into())]);
        let ec = with(fixture_jwk("p256"), &[("kid", "e".into())]);
        // HMAC + asymmetric.
        assert_eq!(
            set(
                &[hmac(32, Some("HS256"), "h"), ec.clone()],
                KeyOrigin::Local
            ),
            Err(KeyError::MixedSet)
        );
        // HMAC in a remote set, even alone.
        assert_eq!(
            set(&[hmac(32, Some("HS256"), "h")], KeyOrigin::Remote),
            Err(KeyError::SymmetricInRemoteSet)
        );
        assert_eq!(
            set(
                &[hmac(32, None, "h"), hmac(48, None, "i")],
                KeyOrigin::Local
            )
            .unwrap()
            .keys()
            .len(),
            2
        );
        // Duplicate kid.
        assert_eq!(
            set(
                &[hmac(32, None, "h"), hmac(48, None, "h")],
                KeyOrigin::Local
            ),
            Err(KeyError::DuplicateKid)
        );
        assert_eq!(
            set(
                &[ec.clone(), with(rsa.clone(), &[("kid", "e".into())])],
                KeyOrigin::Remote
            ),
            Err(KeyError::DuplicateKid)
        );
        // ... but an encryption key may share a signing key's kid (real IdPs do that).
        let enc = with(rsa.clone(), &[("kid", "e".into()), ("use", "enc".into())]);
        assert_eq!(
            set(&[ec.clone(), enc.clone()], KeyOrigin::Remote)
                .unwrap()
                .keys()
                .len(),
            1
        );
        // Public + private, and private only.
        let private = with(ec.clone(), &[("d", "AAAA".into()), ("kid", "p".into())]);
        assert_eq!(
            set(&[rsa.clone(), private.clone()], KeyOrigin::Local),
            Err(KeyError::MixedSet)
        );
        assert_eq!(set(&[private], KeyOrigin::Local), Err(KeyError::PrivateKey));
        // Not-for-signing keys are skipped, weak ones recorded.
        let x25519 =
            serde_json::json!({"kty": "OKP", "crv": "X25519", "x": b64_encode(&[9u8; 32])});
        let aes = with(
            rsa.clone(),
            &[("kid", "aes".into()), ("alg", "A256GCM".into())],
        );
        let weak = with(fixture_jwk("rsa1024"), &[("kid", "w".into())]);
        let doc = serde_json::json!({"keys": [rsa, enc, x25519, aes, weak, {"kty": "foo"}, 5, ec]});
        let s = JwkSet::from_json(
            doc.to_string().as_bytes(),
            KeyOrigin::Remote,
            &Limits::DEFAULT,
        )
        .unwrap();
        assert_eq!(
            s.keys()
                .iter()
                .map(|k| k.kid.as_deref())
                .collect::<Vec<_>>(),
            [Some("r"), Some("e")]
        );
        assert_eq!(
            s.rejected(),
            &[
                (4, KeyError::RsaTooSmall { bits: 1024 }),
                (
                    6,
                    KeyError::Malformed {
                        reason: "key is not an object"
                    }
                )
            ]
        );
        assert_eq!(s.origin(), KeyOrigin::Remote);
    }

    #[test]
    fn set_budgets_and_shape() {
        let limits = Limits {
            max_keys_per_set: 2,
            max_jwks_bytes: 4096,
            max_json_depth: 3,
            ..Limits::DEFAULT
        };
        let three = serde_json::json!({"keys": [hmac(32, None, "a"), hmac(32, None, "b"), hmac(32, None, "c")]});
        assert_eq!(
            JwkSet::from_json(three.to_string().as_bytes(), KeyOrigin::Local, &limits),
            Err(KeyError::TooManyKeys { limit: 2 })
        );
        let big = vec![b' '; 4097];
        assert_eq!(
            JwkSet::from_json(&big, KeyOrigin::Local, &limits),
            Err(KeyError::TooLarge { limit: 4096 })
        );
        // depth: {keys: [ {key_ops: [..]} ]} is 4 levels.
        let deep = serde_json::json!({"keys": [with(hmac(32, None, "a"), &[("key_ops", serde_json::json!(["verify"]))])]});
        assert_eq!(
            JwkSet::from_json(deep.to_string().as_bytes(), KeyOrigin::Local, &limits),
            Err(KeyError::TooDeep { limit: 3 })
        );
        assert!(JwkSet::from_json(
            deep.to_string().as_bytes(),
            KeyOrigin::Local,
            &Limits::DEFAULT
        )
        .is_ok());
        for doc in [
            &b"{}"[..],
            b"{\"keys\":{}}",
            b"[]",
            b"{\"keys\":[]",
            b"\xff",
        ] {
            assert!(matches!(
                JwkSet::from_json(doc, KeyOrigin::Local, &Limits::DEFAULT),
                Err(KeyError::Malformed { .. })
            ));
        }
        let empty =
            JwkSet::from_json(b"{\"keys\":[]}", KeyOrigin::Remote, &Limits::DEFAULT).unwrap();
        assert!(empty.is_empty());
        // Nesting far past serde_json's own limit is an error, not a stack overflow.
        let nested = format!("{{\"keys\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(JwkSet::from_json(nested.as_bytes(), KeyOrigin::Local, &Limits::DEFAULT).is_err());
    }

    #[test]
    fn from_keys_applies_the_set_checks() {
        let rsa = import(&with(fixture_jwk("rsa2048"), &[("kid", "r".into())])).unwrap();
        let h = Jwk::from_hmac_secret(&[1; 32]).unwrap();
        assert_eq!(
            JwkSet::from_keys(vec![rsa.clone(), h.clone()], KeyOrigin::Local),
            Err(KeyError::MixedSet)
        );
        assert_eq!(
            JwkSet::from_keys(vec![h.clone()], KeyOrigin::Remote),
            Err(KeyError::SymmetricInRemoteSet)
        );
        assert_eq!(
            JwkSet::from_keys(vec![rsa.clone(), rsa.clone()], KeyOrigin::Remote),
            Err(KeyError::DuplicateKid)
        );
        assert_eq!(
            JwkSet::from_keys(vec![h.clone(), h], KeyOrigin::Local)
                .unwrap()
                .keys()
                .len(),
            2
        );
        assert_eq!(
            JwkSet::from_keys(vec![rsa], KeyOrigin::Remote)
                .unwrap()
                .rejected(),
            &[]
        );
    }

    #[test]
    fn public_jwk_json_round_trips_and_never_holds_a_secret() {
        for name in ["rsa2048", "p256", "p384", "p521", "ed25519"] {
            let obj = with(
                fixture_jwk(name),
                &[("kid", "k1".into()), ("use", "sig".into())],
            );
            let key = import(&obj).unwrap();
            let json = key.to_public_jwk_json();
            let back = Jwk::from_json(json.as_bytes(), &Limits::DEFAULT).unwrap();
            assert_eq!(back, key, "{name}");
            let parsed: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed["kid"], "k1");
            assert!(parsed.get("d").is_none());
        }
        let h = Jwk::from_hmac_secret(&[0x41; 32]).unwrap();
        let json = h.to_public_jwk_json();
        assert_eq!(json, "{\"kty\":\"oct\"}");
        // Debug never prints key material.
        let dbg = format!("{:?}", import(&fixture_jwk("rsa2048")).unwrap());
        assert!(dbg.contains("bits: 2048"), "{dbg}");
        let n = fixture_jwk("rsa2048")["n"].as_str().unwrap().to_string();
        assert!(!dbg.contains(&n[..16]));
        assert_eq!(format!("{:?}", h.params), "Oct { bytes: 32 }");
    }

    #[test]
    fn errors_map_to_the_config_code_and_display_lowercase() {
        let e = KeyError::RsaTooSmall { bits: 1024 };
        assert_eq!(e.code(), crate::ErrorCode::ConfigError);
        assert_eq!(e.to_string(), "rsa modulus of 1024 bits is under 2048");
        assert_eq!(KeyError::DuplicateKid.to_string(), "two keys share a kid");
        assert_eq!(e.code_for(KeyOrigin::Local), crate::ErrorCode::ConfigError);
        assert_eq!(
            e.code_for(KeyOrigin::Remote),
            crate::ErrorCode::JwksUnavailable
        );
    }

    /// The shape real IdPs publish: `x5c`/`x5t`/`issuer` members (ignored, never trusted),
    /// keys without `alg`, an encryption key sharing a signing key's `kid`, an EC key.
    #[test]
    fn idp_shaped_jwks() {
        let rsa = fixture_jwk("rsa2048");
        let signing = with(
            rsa.clone(),
            &[
                ("kid", "2024-a".into()),
                ("use", "sig".into()),
                ("x5t", "bm90IGEgdGh1bWJwcmludA".into()),
                ("x5c", serde_json::json!(["TUlJQy4uLg=="])),
                ("issuer", "https://login.example/tenant/v2.0".into()),
            ],
        );
        let encryption = with(
            rsa,
            &[
                ("kid", "2024-a".into()),
                ("use", "enc".into()),
                ("alg", "RSA-OAEP-256".into()),
            ],
        );
        let ec = with(
            fixture_jwk("p256"),
            &[("kid", "ec-1".into()), ("alg", "ES256".into())],
        );
        let doc = serde_json::json!({ "keys": [signing, encryption, ec] });
        let s = JwkSet::from_json(
            doc.to_string().as_bytes(),
            KeyOrigin::Remote,
            &Limits::DEFAULT,
        )
        .unwrap();
        assert_eq!(s.keys().len(), 2);
        assert!(s.rejected().is_empty());
        assert_eq!(s.select(Algorithm::Rs256, Some("2024-a"), 4).len(), 1);
        assert_eq!(s.select(Algorithm::Ps256, Some("2024-a"), 4).len(), 1);
        assert_eq!(s.select(Algorithm::Es256, Some("ec-1"), 4).len(), 1);
        assert!(s.select(Algorithm::Es256, Some("2024-a"), 4).is_empty());
    }

    #[test]
    fn public_part_of_a_private_jwk() {
        let private = with(fixture_jwk("p256"), &[("d", "AAAA".into())]);
        let bytes = Value::Object(private).to_string();
        assert_eq!(
            Jwk::from_json(bytes.as_bytes(), &Limits::DEFAULT),
            Err(KeyError::PrivateKey)
        );
        let key = Jwk::from_json_public_part(bytes.as_bytes(), &Limits::DEFAULT).unwrap();
        assert_eq!(key, import(&fixture_jwk("p256")).unwrap());
        // oct keys keep their secret.
        let h = Value::Object(hmac(32, None, "h")).to_string();
        assert!(Jwk::from_json_public_part(h.as_bytes(), &Limits::DEFAULT)
            .unwrap()
            .is_symmetric());
    }

    /// The `jws_*` groups of Wycheproof's `json_web_crypto_test.json`, with the groups'
    /// `private` keys: single keys through `from_json_public_part` (which must give the
    /// group's `public` key where there is one), key sets through `JwkSet::from_json`.
    #[test]
    fn wycheproof_crypto_jws_groups() {
        use crate::jose::crypto::{CryptoBackend, PureBackend};
        let doc: Value = serde_json::from_str(include_str!(
            "../../tests/vectors/wycheproof/json_web_crypto_test.json"
        ))
        .unwrap();
        let mut total = 0;
        let mut failures = Vec::new();
        for group in doc["testGroups"].as_array().unwrap() {
            if !group["comment"].as_str().unwrap().starts_with("jws_") {
                continue;
            }
            let keys = &group["private"];
            if let Some(public) = group.get("public") {
                let from_private =
                    Jwk::from_json_public_part(keys.to_string().as_bytes(), &Limits::DEFAULT);
                let from_public = Jwk::from_json(public.to_string().as_bytes(), &Limits::DEFAULT);
                assert_eq!(from_private, from_public, "{}", group["comment"]);
            }
            let set = if keys.get("keys").is_some() {
                JwkSet::from_json(
                    keys.to_string().as_bytes(),
                    KeyOrigin::Local,
                    &Limits::DEFAULT,
                )
            } else {
                Jwk::from_json_public_part(keys.to_string().as_bytes(), &Limits::DEFAULT)
                    .and_then(|k| JwkSet::from_keys(vec![k], KeyOrigin::Local))
            };
            for test in group["tests"].as_array().unwrap() {
                total += 1;
                // JSON serialization (an object) is not supported: rejected.
                let jws = test["jws"].as_str().unwrap_or("");
                let parts: Vec<&str> = jws.split('.').collect();
                let accepted = match (&set, &parts[..]) {
                    (Ok(set), [h, p, s]) => {
                        let header: Option<Value> =
                            b64_decode(h.as_bytes()).and_then(|h| serde_json::from_slice(&h).ok());
                        let sig = b64_decode(s.as_bytes());
                        match (header, sig) {
                            (Some(header), Some(sig)) => {
                                match header["alg"].as_str().and_then(Algorithm::from_name) {
                                    Some(alg) => set
                                        .select(alg, header["kid"].as_str(), 4)
                                        .into_iter()
                                        .any(|k| {
                                            PureBackend.verify(
                                                alg,
                                                k,
                                                &jws.as_bytes()[..h.len() + 1 + p.len()],
                                                &sig,
                                            )
                                        }),
                                    None => false,
                                }
                            }
                            _ => false,
                        }
                    }
                    _ => false,
                };
                if accepted != (test["result"] == "valid") {
                    failures.push((test["tcId"].as_u64().unwrap(), test["comment"].clone()));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(total, 49);
    }

    /// Every group of Wycheproof's `json_web_key_test.json` through `JwkSet::from_json`
    /// (Local; the `public` keys, or `private` where only that exists, i.e. oct keys), then
    /// a minimal compact-JWS check with `select` + `PureBackend`. A set import error counts
    /// as "rejected". The full harness (through `verify`) is `tests/wycheproof.rs`.
    #[test]
    fn wycheproof_key_groups() {
        use crate::jose::crypto::{CryptoBackend, PureBackend};
        let doc: Value = serde_json::from_str(WYCHEPROOF_KEYS).unwrap();
        let mut total = 0;
        let mut failures = Vec::new();
        let mut import_errors = Vec::new();
        for group in doc["testGroups"].as_array().unwrap() {
            let keys = group.get("public").unwrap_or(&group["private"]);
            let result = JwkSet::from_json(
                keys.to_string().as_bytes(),
                KeyOrigin::Local,
                &Limits::DEFAULT,
            );
            for test in group["tests"].as_array().unwrap() {
                total += 1;
                let id = test["tcId"].as_u64().unwrap();
                let jws = test["jws"].as_str().unwrap();
                let accepted = match &result {
                    Err(e) => {
                        import_errors.push((id, e.clone()));
                        false
                    }
                    Ok(set) => {
                        let parts: Vec<&str> = jws.split('.').collect();
                        let [h, p, s] = parts[..] else { panic!("{id}") };
                        let header: Value =
                            serde_json::from_slice(&b64_decode(h.as_bytes()).unwrap()).unwrap();
                        let sig = b64_decode(s.as_bytes()).unwrap_or_default();
                        match header["alg"].as_str().and_then(Algorithm::from_name) {
                            None => false,
                            Some(alg) => set
                                .select(alg, header["kid"].as_str(), 4)
                                .into_iter()
                                .any(|k| {
                                    PureBackend.verify(
                                        alg,
                                        k,
                                        &jws.as_bytes()[..h.len() + 1 + p.len()],
                                        &sig,
                                    )
                                }),
                        }
                    }
                };
                if accepted != (test["result"] == "valid") {
                    failures.push((id, test["comment"].clone()));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(total, 26);
        // The decisions at import (the rest are refused at selection: use, alg, AES keys).
        assert_eq!(
            import_errors,
            [(1, KeyError::MixedSet), (4, KeyError::DuplicateKid)],
        );
    }
}
