//! Signature checks through WebCrypto (`crypto.subtle`, reached through `js_sys::global()`)
//! for RSA, ECDSA and EdDSA; HMAC in pure Rust (faster than WebCrypto's here).
//!
//! The core keeps every rule: parsing, algorithm pinning, key selection and claims
//! (`jwt_verify` over the gate's [`CryptoBackend`]). WebCrypto is asynchronous and the core
//! is not, so the Worker's backend answers from verdicts it already has: a check it has no
//! verdict for is recorded as *wanted* and answered `false`; the host then runs the wanted
//! checks through WebCrypto, records the verdicts, and runs the (pure, repeatable) decision
//! again, discarding the first answer. A verdict is keyed by SHA-256 over the algorithm,
//! the key material, the signing input and the signature, so it only ever answers the very
//! same check. Keys are imported once per isolate and cached. When WebCrypto cannot import
//! or verify (an unsupported curve), the pure backend answers.

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::jose::alg::{Algorithm, EcCurve};
use crate::jose::key::KeyParams;
use crate::jose::{
    key_id, AskHostBackend, CryptoBackend, HostVerdicts, Jwk, PureBackend, WantedCheck,
};

/// Most imported keys (cleared when full).
const MAX_KEYS: usize = 256;

/// The isolate's signature state: the core's [`HostVerdicts`] (verdicts and wanted checks,
/// read by the gate's [`AskHostBackend`]), the imported WebCrypto keys, and counts.
#[derive(Default)]
pub(crate) struct Verdicts {
    host: Rc<HostVerdicts>,
    keys: RefCell<BTreeMap<[u8; 32], web_sys::CryptoKey>>,
    /// Checks answered by WebCrypto / by the pure backend (HMAC excluded), for the health
    /// endpoint.
    counts: core::cell::Cell<(u64, u64)>,
}

impl Verdicts {
    /// (WebCrypto, pure) signature checks so far in this isolate.
    pub(crate) fn counts(&self) -> (u64, u64) {
        self.counts.get()
    }

    /// The gate's backend: answers from this isolate's verdicts.
    pub(crate) fn backend(&self) -> AskHostBackend {
        AskHostBackend(Rc::clone(&self.host))
    }
}

fn obj(pairs: &[(&str, JsValue)]) -> js_sys::Object {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

fn b64(bytes: &[u8]) -> JsValue {
    JsValue::from_str(&crate::codec::b64::encode(bytes))
}

fn hash_name(alg: Algorithm) -> &'static str {
    match alg.hash_len() {
        48 => "SHA-384",
        64 => "SHA-512",
        _ => "SHA-256",
    }
}

/// (import algorithm, verify algorithm, JWK) for WebCrypto; `None`: not through WebCrypto.
fn webcrypto_params(
    alg: Algorithm,
    key: &Jwk,
) -> Option<(js_sys::Object, js_sys::Object, js_sys::Object)> {
    let hash = s(hash_name(alg));
    match (&key.params, alg) {
        (KeyParams::Rsa { n, e }, Algorithm::Rs256 | Algorithm::Rs384 | Algorithm::Rs512) => {
            let a = obj(&[("name", s("RSASSA-PKCS1-v1_5")), ("hash", hash)]);
            let jwk = obj(&[("kty", s("RSA")), ("n", b64(n)), ("e", b64(e))]);
            Some((a.clone(), a, jwk))
        }
        (KeyParams::Rsa { n, e }, Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512) => {
            let import = obj(&[("name", s("RSA-PSS")), ("hash", hash)]);
            let salt = JsValue::from_f64(alg.hash_len() as f64);
            let verify = obj(&[("name", s("RSA-PSS")), ("saltLength", salt)]);
            let jwk = obj(&[("kty", s("RSA")), ("n", b64(n)), ("e", b64(e))]);
            Some((import, verify, jwk))
        }
        (KeyParams::Ec { crv, x, y }, Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512) => {
            let curve = match crv {
                EcCurve::P256 => "P-256",
                EcCurve::P384 => "P-384",
                EcCurve::P521 => "P-521",
                #[allow(unreachable_patterns)]
                _ => return None,
            };
            let import = obj(&[("name", s("ECDSA")), ("namedCurve", s(curve))]);
            let verify = obj(&[("name", s("ECDSA")), ("hash", hash)]);
            let jwk = obj(&[
                ("kty", s("EC")),
                ("crv", s(curve)),
                ("x", b64(x)),
                ("y", b64(y)),
            ]);
            Some((import, verify, jwk))
        }
        (KeyParams::Ed25519 { x }, Algorithm::EdDsa) => {
            let a = obj(&[("name", s("Ed25519"))]);
            let jwk = obj(&[("kty", s("OKP")), ("crv", s("Ed25519")), ("x", b64(x))]);
            Some((a.clone(), a, jwk))
        }
        _ => None,
    }
}

fn subtle() -> Option<web_sys::SubtleCrypto> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &s("crypto")).ok()?;
    let crypto: web_sys::Crypto = crypto.dyn_into().ok()?;
    Some(crypto.subtle())
}

/// WebCrypto's verdict; `None` when WebCrypto cannot do this check.
async fn webcrypto_verify(v: &Verdicts, w: &WantedCheck) -> Option<bool> {
    let (import_alg, verify_alg, jwk) = webcrypto_params(w.alg, &w.key)?;
    let subtle = subtle()?;
    let kid = key_id(w.alg, &w.key);
    let cached = v.keys.borrow().get(&kid).cloned();
    let key = match cached {
        Some(k) => k,
        None => {
            let usages = js_sys::Array::of1(&s("verify"));
            let p = subtle
                .import_key_with_object("jwk", &jwk, &import_alg, false, &usages)
                .ok()?;
            let k: web_sys::CryptoKey = JsFuture::from(p).await.ok()?.dyn_into().ok()?;
            let mut keys = v.keys.borrow_mut();
            if keys.len() >= MAX_KEYS {
                keys.clear();
            }
            keys.insert(kid, k.clone());
            k
        }
    };
    let p = subtle
        .verify_with_object_and_u8_array_and_u8_array(&verify_alg, &key, &w.signature, &w.input)
        .ok()?;
    JsFuture::from(p).await.ok()?.as_bool()
}

/// Runs the wanted checks; `false` when there were none.
pub(crate) async fn answer_wanted(v: &Rc<Verdicts>) -> bool {
    let wanted: Vec<WantedCheck> = v.host.take_wanted();
    if wanted.is_empty() {
        return false;
    }
    for w in &wanted {
        let verdict = webcrypto_verify(v, w).await;
        let (web, pure) = v.counts.get();
        let verdict = match verdict {
            Some(ok) => {
                v.counts.set((web.saturating_add(1), pure));
                ok
            }
            None => {
                v.counts.set((web, pure.saturating_add(1)));
                PureBackend.verify(w.alg, &w.key, &w.input, &w.signature)
            }
        };
        v.host.remember(w.id, verdict);
    }
    true
}

/// Drops checks recorded by a decision that ended without asking (none should remain).
pub(crate) fn clear_wanted(v: &Verdicts) {
    v.host.clear_wanted();
}
