//! wasm-bindgen bindings for the npm package (`pkg-js/`). Translation only: every rule
//! lives in the core modules; a check written here is a bug (DESIGN.md).
//!
//! Four builds use this module: feature `wasm-inspect` (token inspection only, for the
//! small `edgegate/browser` entry), `wasm-verify` (inspection + verification: the wasm a
//! Node `import('edgegate')` compiles), `wasm-gate` (inspection + the gate: loaded by Node
//! on first use of the gate) and `wasm` (everything: workerd, browsers, Node CommonJS).
//!
//! Errors cross the boundary as a JS `Error` with a `code` property (`AUTH-0xx`) and,
//! where relevant, `claim` / `reason`; the JS wrapper turns them into its error classes.
//! Messages never contain the token, a key or a signature.

use alloc::string::{String, ToString};
use wasm_bindgen::prelude::*;

use crate::error::ErrorCode;
use crate::jose::token::DecodeError;
use crate::limits::Limits;
use crate::time::{TimeError, UnixTime};

#[cfg(feature = "wasm-gate")]
mod gate;
#[cfg(feature = "wasm-gate")]
mod idp;
#[cfg(feature = "wasm-verify")]
mod jwks;
#[cfg(feature = "wasm-verify")]
mod verify;

#[cfg(feature = "wasm-gate")]
pub use self::gate::{create_api_key, GateCore, GateRequestHandle};
#[cfg(feature = "wasm-gate")]
pub use self::idp::{
    idp_admin_require_enabled, idp_admin_status, idp_admin_token, idp_admin_user, IdpAdminConfig,
};
#[cfg(feature = "wasm-verify")]
pub use self::jwks::{duration_option, fetchable_url, JwksCacheState};
#[cfg(feature = "wasm-verify")]
pub use self::verify::{KeySet, Options, VerifyLane};

/// Installs the panic hook (a panic is a bug; the hook makes it legible in the console).
/// Not in the inspect-only build, to keep it small.
#[cfg(any(feature = "wasm-verify", feature = "wasm-gate"))]
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Builds the JS error object the wrapper understands.
pub(crate) fn js_error(
    code: ErrorCode,
    message: &str,
    claim: Option<&str>,
    reason: Option<&str>,
) -> JsValue {
    let err = js_sys_error(message);
    set_prop(&err, "code", &JsValue::from_str(code.as_str()));
    if let Some(c) = claim {
        set_prop(&err, "claim", &JsValue::from_str(c));
    }
    if let Some(r) = reason {
        set_prop(&err, "reason", &JsValue::from_str(r));
    }
    err
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Error)]
    fn js_error_ctor(message: &str) -> JsValue;
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn reflect_set(target: &JsValue, key: &JsValue, value: &JsValue) -> bool;
}

fn js_sys_error(message: &str) -> JsValue {
    js_error_ctor(message)
}

fn set_prop(target: &JsValue, key: &str, value: &JsValue) {
    let _ = reflect_set(target, &JsValue::from_str(key), value);
}

fn decode_error(e: &DecodeError) -> JsValue {
    js_error(e.code(), &e.to_string(), None, None)
}

/// The host's clock (unix seconds) as core time: a number that is not a usable time
/// (`NaN`, an infinity, before 1970, after year 9999) is an AUTH-015 error, never `0`.
pub(crate) fn unix_time(now: f64) -> Result<UnixTime, JsValue> {
    UnixTime::from_secs_f64(now).map_err(|e| time_error(&e))
}

/// The host's clock in milliseconds since the epoch (`Date.now()`), as core time.
#[cfg(any(feature = "wasm-verify", feature = "wasm-gate"))]
pub(crate) fn unix_time_ms(now: f64) -> Result<UnixTime, JsValue> {
    UnixTime::from_millis_f64(now).map_err(|e| time_error(&e))
}

/// The JS error for an unusable time or duration (the core's text, code AUTH-015).
pub(crate) fn time_error(e: &TimeError) -> JsValue {
    js_error(e.code(), &e.to_string(), None, Some("invalid_time"))
}

/// The decoded JSON text of a token's first (`0`) or second (`1`) segment. Only called on
/// a token the core already parsed, so the segment is strict base64url of a JSON object.
/// Returning the token's own text (not a re-serialised tree) keeps the member order and
/// keeps JSON serialisation out of the small inspect build.
fn segment_json(token: &str, index: usize) -> Result<String, JsValue> {
    let seg = token.split('.').nth(index).unwrap_or("");
    crate::codec::b64::decode(seg.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| js_error(ErrorCode::DecodeFailed, "token decode failed", None, None))
}

/// Appends a JSON number: integers exactly, others with millisecond precision (display only).
fn push_number(out: &mut String, v: Option<f64>) {
    use core::fmt::Write;
    match v {
        Some(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => {
            let _ = write!(out, "{}", v as i64);
        }
        Some(v) if v.is_finite() && v.abs() < 9.0e12 => {
            let milli = (v * 1000.0).round() as i64;
            let sign = if milli < 0 { "-" } else { "" };
            let m = milli.unsigned_abs();
            let _ = write!(out, "{sign}{}.{:03}", m / 1000, m % 1000);
        }
        _ => out.push_str("null"),
    }
}

/// Appends a JSON string (the warnings are stable lowercase ASCII; escaped anyway).
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `{"header": {...}, "claims": {...}}` of a token, unverified (jose's `decodeJwt` /
/// `decodeProtectedHeader`). Returned as JSON text: one `JSON.parse` on the JS side is
/// cheaper than building objects across the boundary.
#[wasm_bindgen(js_name = decodeToken)]
pub fn decode_token(token: &str) -> Result<String, JsValue> {
    let limits = Limits::DEFAULT;
    let t =
        crate::jose::token::UntrustedToken::parse(token, &limits).map_err(|e| decode_error(&e))?;
    t.claims_unverified(&limits).map_err(|e| decode_error(&e))?;
    let header = segment_json(token, 0)?;
    let claims = segment_json(token, 1)?;
    Ok(alloc::format!(
        "{{\"header\":{header},\"claims\":{claims}}}"
    ))
}

/// The protected header alone (works for any compact JWS, JSON payload or not).
#[wasm_bindgen(js_name = decodeHeader)]
pub fn decode_header(token: &str) -> Result<String, JsValue> {
    let limits = Limits::DEFAULT;
    crate::jose::token::UntrustedToken::parse(token, &limits).map_err(|e| decode_error(&e))?;
    segment_json(token, 0)
}

/// `token::inspect` as JSON text (`now` in unix seconds).
#[wasm_bindgen(js_name = inspectToken)]
pub fn inspect_token(token: &str, now: f64) -> Result<String, JsValue> {
    let i = crate::jose::token::inspect(token, unix_time(now)?.secs(), &Limits::DEFAULT)
        .map_err(|e| decode_error(&e))?;
    let header = segment_json(token, 0)?;
    let claims = segment_json(token, 1)?;
    let mut out = String::with_capacity(header.len() + claims.len() + 160);
    out.push_str("{\"verified\":");
    out.push_str(if i.verified { "true" } else { "false" });
    out.push_str(",\"header\":");
    out.push_str(&header);
    out.push_str(",\"claims\":");
    out.push_str(&claims);
    out.push_str(",\"expiresAt\":");
    push_number(&mut out, i.expires_at);
    out.push_str(",\"expired\":");
    out.push_str(if i.expired { "true" } else { "false" });
    out.push_str(",\"expiresIn\":");
    push_number(&mut out, i.expires_in);
    out.push_str(",\"notYetValid\":");
    out.push_str(if i.not_yet_valid { "true" } else { "false" });
    out.push_str(",\"warnings\":[");
    for (n, w) in i.warnings.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_string(&mut out, w);
    }
    out.push_str("]}");
    Ok(out)
}
