//! Outbound calls the core asks for (JWKS, discovery, introspection): one bounded fetch.
//!
//! No redirects; only a `200` counts; the whole call, body included, is aborted after
//! [`FETCH_TIMEOUT_MS`]; a `Content-Length` over the limit is refused before reading, and the
//! body is read as a stream and cut off (the stream cancelled) once it passes the limit, so
//! an endless or huge answer never sits in memory whole. Errors carry no detail: the core
//! turns a failed call into its documented answer (stale keys or AUTH-007 for key sets,
//! AUTH-014 for introspection and discovery).

use alloc::vec::Vec;

use wasm_bindgen::{JsCast, JsValue};
use worker::{Fetch, Headers, Method, Request, RequestInit, RequestRedirect, ResponseBody};

/// Longest wait for an outbound call, body included, ms.
pub(crate) const FETCH_TIMEOUT_MS: u32 = 5_000;

/// A `200` answer: its body (at most `max` bytes) and its `Cache-Control`.
pub(crate) struct Bounded {
    pub body: Vec<u8>,
    pub cache_control: Option<alloc::string::String>,
}

/// `method url` with `headers` (and `body`), bounded as the module doc says.
pub(crate) async fn fetch_bounded(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    max: usize,
) -> Result<Bounded, ()> {
    let h = Headers::new();
    for (k, v) in headers {
        h.set(k, v).map_err(|_| ())?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_redirect(RequestRedirect::Manual)
        .with_headers(h);
    if let Some(b) = body {
        init.with_body(Some(JsValue::from_str(b)));
    }
    let req = Request::new_with_init(url, &init).map_err(|_| ())?;
    let signal =
        worker::AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS));
    let resp = Fetch::Request(req)
        .send_with_signal(&signal)
        .await
        .map_err(|_| ())?;
    let cache_control = resp.headers().get("cache-control").ok().flatten();
    let stream = match resp.body() {
        ResponseBody::Stream(s) => s,
        ResponseBody::Body(b) if resp.status_code() == 200 && b.len() <= max => {
            return Ok(Bounded {
                body: b.clone(),
                cache_control,
            })
        }
        ResponseBody::Empty if resp.status_code() == 200 => {
            return Ok(Bounded {
                body: Vec::new(),
                cache_control,
            })
        }
        _ => return Err(()),
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
    let body = read_bounded(&reader, max).await?;
    Ok(Bounded {
        body,
        cache_control,
    })
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
