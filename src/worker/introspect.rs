//! RFC 7662 token introspection for the Rust Worker (`Io::Introspect`): the same request
//! the npm package's `Gate` makes (pkg-js/src/gate.ts, `case 'introspect'`).
//!
//! `POST <url>` with `token=<token>` (form-encoded), HTTP Basic client authentication
//! (RFC 6749 2.3.1: client id and secret form-encoded, then base64), `Accept:
//! application/json`, no redirects, within [`jwks::FETCH_TIMEOUT_MS`]; only a `200` counts,
//! and the body is read as a stream and cut off past [`Limits::MAX_RESPONSE_BYTES`]. The bytes
//! go to the core as they are ([`Pending::provide_introspection`]): the core parses them
//! strictly and decides (`active`, `exp`, `iss`, `aud`, the cache). Any failure is `None`,
//! which the core answers with 503 AUTH-014 (fail closed). Nothing here logs the token or
//! the client secret.

use alloc::string::String;
use alloc::vec::Vec;

use wasm_bindgen::{JsCast, JsValue};
use worker::{Fetch, Method, Request, RequestInit, RequestRedirect, ResponseBody};

use super::jwks::FETCH_TIMEOUT_MS;
use crate::gate::Pending;
use crate::limits::Limits;

/// Performs the introspection call and gives the core its answer.
pub(crate) async fn introspect(
    pending: &mut Pending,
    provider: &str,
    url: &str,
    client_id: &str,
    client_secret: &str,
    token: &str,
) {
    let body = call(url, client_id, client_secret, token).await.ok();
    pending.provide_introspection(provider, token, body.as_deref());
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form(v: &str) -> String {
    worker::url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// Standard base64 with padding (RFC 4648 section 4), for the Basic credentials.
fn base64_std(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sym = |shift: u32| char::from(A[((n >> shift) & 0x3F) as usize]);
        out.push(sym(18));
        out.push(sym(12));
        out.push(if chunk.len() > 1 { sym(6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(0) } else { '=' });
    }
    out
}

/// The `Authorization` header value for client `id` with `secret`.
fn basic(id: &str, secret: &str) -> String {
    let mut pair = form(id);
    pair.push(':');
    pair.push_str(&form(secret));
    let mut v = String::from("Basic ");
    v.push_str(&base64_std(pair.as_bytes()));
    v
}

async fn call(url: &str, client_id: &str, client_secret: &str, token: &str) -> Result<Vec<u8>, ()> {
    let mut payload = String::from("token=");
    payload.push_str(&form(token));
    let headers = worker::Headers::new();
    headers
        .set("authorization", &basic(client_id, client_secret))
        .map_err(|_| ())?;
    headers
        .set("content-type", "application/x-www-form-urlencoded")
        .map_err(|_| ())?;
    headers.set("accept", "application/json").map_err(|_| ())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_redirect(RequestRedirect::Manual)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&payload)));
    let req = Request::new_with_init(url, &init).map_err(|_| ())?;
    // The timeout covers the body too: a body that never ends is aborted with the request.
    let signal =
        worker::AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS));
    let resp = Fetch::Request(req)
        .send_with_signal(&signal)
        .await
        .map_err(|_| ())?;
    let max = Limits::MAX_RESPONSE_BYTES;
    let ResponseBody::Stream(stream) = resp.body() else {
        return match resp.body() {
            ResponseBody::Body(b) if resp.status_code() == 200 && b.len() <= max => Ok(b.clone()),
            _ => Err(()),
        };
    };
    let reader: web_sys::ReadableStreamDefaultReader =
        stream.get_reader().dyn_into().map_err(|_| ())?;
    if resp.status_code() != 200 {
        cancel(&reader);
        return Err(());
    }
    if let Ok(Some(len)) = resp.headers().get("content-length") {
        if len.trim().parse::<usize>().map_or(true, |n| n > max) {
            cancel(&reader);
            return Err(());
        }
    }
    read_bounded(&reader, max).await
}

/// Reads the stream to its end, or fails (and cancels it) once more than `max` bytes came.
async fn read_bounded(
    reader: &web_sys::ReadableStreamDefaultReader,
    max: usize,
) -> Result<Vec<u8>, ()> {
    let mut out = Vec::new();
    loop {
        let step = wasm_bindgen_futures::JsFuture::from(reader.read())
            .await
            .map_err(|_| ())?;
        let done = js_sys::Reflect::get(&step, &JsValue::from_str("done")).map_err(|_| ())?;
        if done.is_truthy() {
            return Ok(out);
        }
        let value = js_sys::Reflect::get(&step, &JsValue::from_str("value")).map_err(|_| ())?;
        let chunk: js_sys::Uint8Array = value.dyn_into().map_err(|_| ())?;
        let n = chunk.length() as usize;
        if out.len().saturating_add(n) > max {
            cancel(reader);
            return Err(());
        }
        let start = out.len();
        out.resize(start + n, 0);
        if let Some(dst) = out.get_mut(start..) {
            chunk.copy_to(dst);
        }
    }
}

/// Stops reading a body that is not wanted (errors ignored: the answer is a failure anyway).
fn cancel(reader: &web_sys::ReadableStreamDefaultReader) {
    let _ = reader.cancel();
}
