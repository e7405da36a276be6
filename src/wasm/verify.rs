//! Key sets, verify options and the one-call verify entry point.
//!
//! `verify` is the whole hot path in one boundary crossing: the token string goes in, a
//! small `Int32Array` comes out. With the pure backend the core does everything
//! (`verify::jwt_verify` / `verify::compact_verify`). With a host backend, HMAC still runs
//! here; for RSA/ECDSA/EdDSA the core parses, pins the algorithm, selects candidate keys
//! and runs the claim checks (`verify::prepare` / `Prepared::finish`), and the host only
//! checks the signature with native crypto, then reports the claim result the core
//! already computed (a bad signature always wins over a claim error, as in jose).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;

use super::js_error;
use crate::error::ErrorCode;
use crate::jose::crypto::PreparedKeys;
use crate::jose::jwk::{Jwk, JwkSet};
use crate::jose::key::{KeyError, KeyOrigin};
use crate::jose::verify::{HostVerdict, VerifyError, VerifyOptions};
use crate::limits::Limits;

/// A checked key set held in wasm memory.
#[wasm_bindgen]
#[derive(Debug)]
pub struct KeySet {
    set: JwkSet,
    /// The set's keys prepared on first use (HMAC key schedule, decoded points): the
    /// checks that stay in the core (HMAC; everything without a host) do that once.
    prepared: PreparedKeys,
}

impl KeySet {
    fn of(set: JwkSet) -> KeySet {
        KeySet {
            set,
            prepared: PreparedKeys::new(),
        }
    }

    /// A key the caller passed directly (jose: `jwtVerify(token, key)`): the core's
    /// `JwkSet::direct` selects it whatever `kid` the token names.
    fn direct(k: Jwk) -> Result<KeySet, JsValue> {
        let set = JwkSet::direct(k).map_err(|e| key_error(&e, ErrorCode::ConfigError))?;
        Ok(KeySet::of(set))
    }
}

fn key_error(e: &KeyError, code: ErrorCode) -> JsValue {
    js_error(code, &e.to_string(), None, None)
}

#[wasm_bindgen]
impl KeySet {
    /// A JWK Set document. `remote`: fetched from a `jwks_uri` (no HMAC keys; errors are
    /// AUTH-007), else given by the caller (errors are AUTH-015).
    #[wasm_bindgen(js_name = fromJwks)]
    pub fn from_jwks(json: &[u8], remote: bool) -> Result<KeySet, JsValue> {
        let (origin, code) = if remote {
            (KeyOrigin::Remote, ErrorCode::JwksUnavailable)
        } else {
            (KeyOrigin::Local, ErrorCode::ConfigError)
        };
        JwkSet::from_json(json, origin, &Limits::DEFAULT)
            .map(KeySet::of)
            .map_err(|e| key_error(&e, code))
    }

    /// One JWK (a JSON object).
    #[wasm_bindgen(js_name = fromJwk)]
    pub fn from_jwk(json: &[u8]) -> Result<KeySet, JsValue> {
        let k = Jwk::from_json(json, &Limits::DEFAULT)
            .map_err(|e| key_error(&e, ErrorCode::ConfigError))?;
        KeySet::direct(k)
    }

    /// A PEM `PUBLIC KEY` (SPKI).
    #[wasm_bindgen(js_name = fromPem)]
    pub fn from_pem(pem: &str) -> Result<KeySet, JsValue> {
        let k = Jwk::from_pem(pem).map_err(|e| key_error(&e, ErrorCode::ConfigError))?;
        KeySet::direct(k)
    }

    /// A raw HMAC secret.
    #[wasm_bindgen(js_name = fromSecret)]
    pub fn from_secret(secret: &[u8]) -> Result<KeySet, JsValue> {
        let k = Jwk::from_hmac_secret(secret).map_err(|e| key_error(&e, ErrorCode::ConfigError))?;
        KeySet::direct(k)
    }

    /// Number of keys.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.set.keys().len()
    }

    /// jose's key selection for a key function (`JwkSet::select_for_header`): the indices
    /// (into `describe()`) of the keys usable for a token with this `alg` and `kid`.
    pub fn select(&self, alg: &str, kid: Option<String>) -> Vec<u32> {
        self.set
            .select_for_header(alg, kid.as_deref())
            .into_iter()
            .filter_map(|i| u32::try_from(i).ok())
            .collect()
    }

    /// JSON array, one entry per key: `{"kid": ..., "jwk": <public JWK or null>}`.
    pub fn describe(&self) -> String {
        let list: Vec<serde_json::Value> = self
            .set
            .keys()
            .iter()
            .map(|k| serde_json::json!({"kid": k.kid, "jwk": k.public_jwk_json()}))
            .collect();
        serde_json::Value::Array(list).to_string()
    }
}

/// Verify options, translated once and reused across calls.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Options {
    o: VerifyOptions,
}

#[wasm_bindgen]
impl Options {
    /// From the JSON the JS wrapper normalizes (`VerifyOptions::from_host_json`); a bad
    /// option is a configuration error (AUTH-015).
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<Options, JsValue> {
        VerifyOptions::from_host_json(json.as_bytes())
            .map(|o| Options { o })
            .map_err(|m| js_error(ErrorCode::ConfigError, &m, None, None))
    }
}

use crate::abi::verify_flags::{HOST as F_HOST, JWT as F_JWT};
use crate::abi::verify_result::{
    ALG as R_ALG, CODE as R_CODE, HEAD as R_HEAD, NCAND as R_NCAND, NO_KEY as R_NO_KEY,
    STATUS as R_STATUS,
};
use crate::abi::verify_status::{ERR as ST_ERR, HOST as ST_HOST, OK as ST_OK};

struct Detail {
    code: ErrorCode,
    message: String,
    claim: Option<String>,
    reason: Option<&'static str>,
}

std::thread_local! {
    static LAST: RefCell<Option<Detail>> = const { RefCell::new(None) };
}

use crate::abi::{alg_index, code_number};

fn record(e: &VerifyError) -> i32 {
    record_detail(Detail {
        code: e.code(),
        message: e.to_string(),
        claim: e.claim().map(String::from),
        reason: e.reason(),
    })
}

fn record_detail(d: Detail) -> i32 {
    let code = d.code;
    LAST.with(|l| *l.borrow_mut() = Some(d));
    code_number(code)
}

/// The details of the last failure reported by [`verify`], as a JS `Error` with `code`,
/// `claim` and `reason` (or `undefined`).
#[wasm_bindgen(js_name = takeError)]
pub fn take_error() -> JsValue {
    LAST.with(|l| match l.borrow_mut().take() {
        Some(d) => js_error(d.code, &d.message, d.claim.as_deref(), d.reason),
        None => JsValue::UNDEFINED,
    })
}

fn fail(out: &mut Vec<i32>, e: &VerifyError) -> Vec<i32> {
    out[R_STATUS] = ST_ERR;
    out[R_CODE] = record(e);
    out[R_NO_KEY] = i32::from(matches!(e, VerifyError::NoMatchingKey));
    core::mem::take(out)
}

/// Verifies `token` against `keys` in one call. `now` is unix seconds; `flags` is
/// `F_JWT | F_HOST`. Returns `[status, code, alg, noKey, nCandidates, candidates...]`.
#[wasm_bindgen]
pub fn verify(token: &str, keys: &KeySet, options: &Options, now: f64, flags: u32) -> Vec<i32> {
    verify_in(token, keys, options, now, flags)
}

/// [`verify`] without a copy in or out per call, for a host that can write a string into
/// wasm memory itself (Node: `Buffer#utf8Write`): the host writes the token as UTF-8 at
/// [`VerifyLane::reserve`]'s address and reads the result at the address
/// [`VerifyLane::verify`] returns. Same checks, same result layout as [`verify`]; the
/// wasm-bindgen string and array copies (a JS loop over the token, a malloc, a free, a new
/// `Int32Array`) are what it saves.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct VerifyLane {
    input: Vec<u8>,
    out: Vec<i32>,
}

#[wasm_bindgen]
impl VerifyLane {
    /// An empty lane.
    #[wasm_bindgen(constructor)]
    pub fn new() -> VerifyLane {
        VerifyLane::default()
    }

    /// Room for `n` input bytes; the address of the first (valid until the next `reserve`).
    pub fn reserve(&mut self, n: usize) -> usize {
        self.input.clear();
        self.input.resize(n, 0);
        self.input.as_ptr() as usize
    }

    /// Verifies the first `len` input bytes as the token; the address of the result,
    /// `[status, code, alg, noKey, nCandidates, candidates...]` as [`verify`] returns it
    /// (valid until the next call). Bytes that are not UTF-8 (a host bug: it writes UTF-8)
    /// or a `len` past the input are verified as an empty token: refused, never read past.
    pub fn verify(
        &mut self,
        len: usize,
        keys: &KeySet,
        options: &Options,
        now: f64,
        flags: u32,
    ) -> usize {
        let token = self
            .input
            .get(..len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("");
        self.out = verify_in(token, keys, options, now, flags);
        self.out.as_ptr() as usize
    }
}

fn verify_in(token: &str, keys: &KeySet, options: &Options, now: f64, flags: u32) -> Vec<i32> {
    let mut out = alloc::vec![0i32; R_HEAD];
    out[R_STATUS] = ST_OK;
    let opts = &options.o;
    let now = match crate::time::UnixTime::from_secs_f64(now) {
        Ok(t) => t.secs(),
        Err(e) => {
            out[R_STATUS] = ST_ERR;
            out[R_CODE] = record_detail(Detail {
                code: e.code(),
                message: e.to_string(),
                claim: None,
                reason: Some("invalid_time"),
            });
            return out;
        }
    };
    let jwt = flags & F_JWT != 0;
    let host = flags & F_HOST != 0;
    match crate::jose::verify::verify_for_host(
        token,
        &keys.set,
        opts,
        now,
        jwt,
        host,
        &keys.prepared,
    ) {
        HostVerdict::Verified { alg } => {
            out[R_ALG] = alg_index(alg);
            out
        }
        HostVerdict::Failed { alg, error } => {
            if let Some(alg) = alg {
                out[R_ALG] = alg_index(alg);
            }
            fail(&mut out, &error)
        }
        HostVerdict::HostCheck {
            alg,
            candidates,
            claims,
        } => {
            out[R_ALG] = alg_index(alg);
            out[R_STATUS] = ST_HOST;
            out[R_NCAND] = i32::try_from(candidates.len()).unwrap_or(0);
            if let Err(e) = claims {
                out[R_CODE] = record(&e);
            }
            out.extend(candidates.iter().filter_map(|i| i32::try_from(*i).ok()));
            out
        }
    }
}

/// Records the failure of a host signature check, so `takeError` describes it.
#[wasm_bindgen(js_name = signatureFailed)]
pub fn signature_failed() -> i32 {
    record(&VerifyError::InvalidSignature)
}

/// For a verified-token cache hit: whether `token`, which already verified against the
/// same key set with `options`, still passes every claim check at `now` (unix seconds),
/// as a fresh verification would (`verify::recheck_claims`). An unusable `now` throws
/// (AUTH-015). `false`: the host drops the entry and verifies afresh.
#[wasm_bindgen(js_name = recheckClaims)]
pub fn recheck_claims(token: &str, options: &Options, now: f64) -> Result<bool, JsValue> {
    let now = super::unix_time(now)?;
    Ok(crate::jose::verify::recheck_claims(token, now, &options.o).is_ok())
}
