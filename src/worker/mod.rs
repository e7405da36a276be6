//! The Rust Cloudflare Worker (workers-rs): the gate in front of an origin, with state at
//! the edge (docs/worker.md). The only place in the crate that uses `worker::`.
//!
//! A thin host: every rule is the core's. Per request it runs [`Gate::decide`] with a
//! per-request [`Pending`] and the isolate's [`Ctx`], performs the I/O the core asks for
//! (JWKS in tiers: isolate memory, KV, the IdP; API key records and revocation answers
//! from KV or the revocation Durable Object), then answers the denial / preflight or
//! forwards the request to `ORIGIN_URL` on the decision's path.
//!
//! Never logged: tokens, keys, secrets, header values. One JSON line per decision.

mod crypto;
mod http;
mod introspect;
mod jwks;
mod ratelimit;
mod store;

use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;
use worker::{event, Context, Env, Headers, Response};

use crate::gate::{Allow, Ctx, Decision, Env as GateEnv, Gate, Io, Pending, Step};

pub use ratelimit::RateLimiter;
pub use store::Revocations;

/// The KV namespace binding: `jwks:<provider>`, `apikey:<id>`, `revoked:<id>`.
pub const KV_BINDING: &str = "EDGEGATE_KV";
/// The revocation Durable Object binding (`revocation.store: "durable-object"`).
pub const REVOCATIONS_BINDING: &str = "REVOCATIONS";
/// The health endpoint, answered at the edge (before routing).
pub const HEALTH_PATH: &str = "/.well-known/edgegate/health";
/// Test-only: with the var `EDGEGATE_PANIC_PROBE = "1"`, this path panics (to check that the
/// isolate recovers; docs/worker.md "Panics"). Never set it in production.
const PANIC_PROBE_PATH: &str = "/.well-known/edgegate/panic-probe";

/// Most decision steps per request (the core needs a handful; a `durable-object` rate
/// limit under contention retries its compare-and-set up to
/// `MAX_RATE_LIMIT_CONFLICTS_SERIALIZED` times, a step each).
const MAX_STEPS: usize = 64;

/// The isolate's state, built on the first request.
pub(crate) struct Isolate {
    gate: Gate,
    /// `scheme://host[:port][/base]`, no trailing `/`.
    origin: String,
    /// Hex SHA-256 of `EDGEGATE_CONFIG` (first 16 hex digits), for the health endpoint.
    config_hash: String,
    ctx: RefCell<Ctx>,
    jwks: jwks::Tiers,
    /// WebCrypto signature verdicts and imported keys (the gate's backend reads them).
    verdicts: Rc<crypto::Verdicts>,
    panic_probe: bool,
    /// This isolate's id in `kv` rate-limit entry names (`rl:...:<id>`).
    isolate_id: String,
    /// A delayed flush of coalesced `kv` rate-limit writes is scheduled.
    kv_flush_scheduled: core::cell::Cell<bool>,
    /// Some route requires a client certificate: only then is `request.cf` read (workerd
    /// parses it on every access; measured at ~4% of a request's CPU).
    reads_client_cert: bool,
}

enum Init {
    Ready(Rc<Isolate>),
    Failed,
}

std::thread_local! {
    static STATE: RefCell<Option<Rc<Init>>> = const { RefCell::new(None) };
}

const CONFIG_ERROR: &str = "{\"code\":\"AUTH-015\",\"detail\":\"the gate is misconfigured\",\"status\":500,\"title\":\"configuration error\",\"type\":\"urn:edgegate:error:AUTH-015\"}";
const BAD_GATEWAY: &str = "{\"detail\":\"the origin could not be reached\",\"status\":502,\"title\":\"bad gateway\",\"type\":\"about:blank\"}";

/// `fut`'s output, or `None` when `ms` milliseconds pass first (a workerd timer).
pub(crate) async fn with_timeout<F: core::future::Future>(fut: F, ms: u32) -> Option<F::Output> {
    use core::future::Future;
    use core::task::Poll;
    let mut fut = core::pin::pin!(fut);
    let mut timer = core::pin::pin!(worker::Delay::from(core::time::Duration::from_millis(
        u64::from(ms)
    )));
    core::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// Unix milliseconds from the runtime's clock (`Date.now()`).
fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn problem(status: u16, body: &str, extra: &[(&str, &str)]) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/problem+json")?;
    headers.set("cache-control", "no-store")?;
    for (k, v) in extra {
        if !v.is_empty() {
            headers.set(k, v)?;
        }
    }
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

fn config_error() -> worker::Result<Response> {
    problem(500, CONFIG_ERROR, &[])
}

/// Every string binding (vars and secrets): the gate's environment for `{"env": NAME}`.
fn string_bindings(env: &Env) -> GateEnv {
    let mut out = GateEnv::new();
    let obj: &js_sys::Object = env.unchecked_ref();
    for entry in js_sys::Object::entries(obj).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            out.insert(k, v);
        }
    }
    out
}

/// `http(s)://host[:port][/base]` without a trailing `/`; `None` for anything else.
fn origin_base(raw: &str) -> Option<String> {
    let url = worker::Url::parse(raw).ok()?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return None;
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return None;
    }
    let mut base = String::from(url.scheme());
    base.push_str("://");
    base.push_str(url.host_str()?);
    if let Some(port) = url.port() {
        base.push(':');
        base.push_str(&port.to_string());
    }
    base.push_str(url.path().trim_end_matches('/'));
    Some(base)
}

fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(D[usize::from(b >> 4)]));
        s.push(char::from(D[usize::from(b & 15)]));
    }
    s
}

fn init(env: &Env) -> Init {
    let strings = string_bindings(env);
    let Some(origin) = strings.get("ORIGIN_URL").and_then(|o| origin_base(o)) else {
        worker::console_error!(
            "edgegate: ORIGIN_URL is missing or not an http(s) URL; answering 500 AUTH-015"
        );
        return Init::Failed;
    };
    let Some(config) = strings.get("EDGEGATE_CONFIG").filter(|c| !c.is_empty()) else {
        worker::console_error!("edgegate: EDGEGATE_CONFIG is not set; answering 500 AUTH-015");
        return Init::Failed;
    };
    let verdicts = Rc::new(crypto::Verdicts::default());
    let gate = match Gate::from_config(config.as_bytes(), &strings) {
        Ok(g) => g.with_backend(alloc::boxed::Box::new(verdicts.backend())),
        Err(e) => {
            // The path of the bad field only: never the message's value, the config or the env.
            let field = if e.path.is_empty() {
                "<document>"
            } else {
                e.path.as_str()
            };
            worker::console_error!(
                "edgegate: EDGEGATE_CONFIG rejected (AUTH-015) at {}; answering 500 AUTH-015",
                field
            );
            return Init::Failed;
        }
    };
    // A store this host cannot provide is refused at start-up (docs/config.md `store`).
    for (i, rp) in gate.config().rate_limits.iter().enumerate() {
        if rp.store == crate::gate::StoreKind::Redis {
            worker::console_error!(
                "edgegate: EDGEGATE_CONFIG rejected (AUTH-015) at rateLimits[{}].store: the Worker has no redis store (kv, durable-object or memory); answering 500 AUTH-015",
                i
            );
            return Init::Failed;
        }
    }
    // A `custom` provider (the host verifies its tokens) cannot exist here: the Rust Worker
    // has no custom verifier. Refused at start-up, naming the provider, not per request.
    if let Some(name) = gate.requirements().custom_providers.first() {
        let i = gate
            .config()
            .providers
            .iter()
            .position(|p| &p.name == name)
            .unwrap_or(0);
        worker::console_error!(
            "edgegate: EDGEGATE_CONFIG rejected (AUTH-015) at providers[{}]: provider \"{}\" is of type custom (its tokens are verified by the host) and the Rust Worker has no custom verifier; give it keys (jwks, jwksUrl, publicKey) or use the npm package; answering 500 AUTH-015",
            i,
            name
        );
        return Init::Failed;
    }
    for w in gate.warnings() {
        worker::console_warn!("edgegate: {}", w);
    }
    let panic_probe = strings.get("EDGEGATE_PANIC_PROBE").map(String::as_str) == Some("1");
    if panic_probe {
        worker::console_warn!(
            "edgegate: EDGEGATE_PANIC_PROBE is set: {} panics (tests only)",
            PANIC_PROBE_PATH
        );
    }
    let reads_client_cert = gate
        .config()
        .routes
        .iter()
        .any(|r| r.mtls != crate::gate::route::Mtls::Off);
    let digest = Sha256::digest(config.as_bytes());
    let config_hash = hex(digest.get(..8).unwrap_or_default());
    Init::Ready(Rc::new(Isolate {
        gate,
        origin,
        config_hash,
        ctx: RefCell::new({
            let mut c = Ctx::new();
            // `kv` rate limits: KvSync in the core, coalesced writes here (ratelimit.rs).
            c.set_kv_sync(true);
            c
        }),
        jwks: jwks::Tiers::default(),
        verdicts,
        panic_probe,
        isolate_id: ratelimit::isolate_id(),
        kv_flush_scheduled: core::cell::Cell::new(false),
        reads_client_cert,
    }))
}

fn state(env: &Env) -> Rc<Init> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        match &*s {
            Some(st) => st.clone(),
            None => {
                let st = Rc::new(init(env));
                *s = Some(st.clone());
                st
            }
        }
    })
}

/// A string property of a JS object (`None` when absent or not a string).
fn js_str(obj: &wasm_bindgen::JsValue, name: &str) -> Option<String> {
    js_sys::Reflect::get(obj, &wasm_bindgen::JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

/// `(path, query)` of a URL as the runtime serializes it (WHATWG: for http(s) the path starts
/// at the first `/` after the host, and `?` / `#` inside it are percent-encoded), without
/// parsing it again. The fragment is dropped.
fn path_and_query(url: &str) -> (&str, Option<&str>) {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let path = before_query.find('/').map_or("/", |i| &before_query[i..]);
    (path, query)
}

/// Every header of `headers` as `(name, value)` (names lower-case, as the runtime iterates
/// them). Two calls into JS for the whole list, not several per header:
/// `Array.from(headers).join("\n")` writes each entry as `name,value` (a field name is a
/// token, so it has no `,`; a value cannot hold a line break, so lines are entries).
fn header_entries(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let all = String::from(js_sys::Array::from(headers).join("\n"));
    all.split('\n')
        .filter_map(|line| line.split_once(','))
        .map(|(n, v)| (String::from(n), String::from(v)))
        .collect()
}

/// The gate request: method, path + query, every header, the client address
/// (`CF-Connecting-IP`, set by Cloudflare) and, when some route requires one
/// (`reads_client_cert`), the raw TLS facts of `request.cf.tlsClientAuth` (the core's
/// `ClientCert::from_tls_facts` decides what they mean).
fn gate_request(
    req: &web_sys::Request,
    method: &str,
    path: &str,
    query: Option<&str>,
    reads_client_cert: bool,
) -> crate::gate::Request {
    let mut target = String::from(path);
    if let Some(q) = query {
        target.push('?');
        target.push_str(q);
    }
    let mut out = crate::gate::Request::new(method, &target);
    out.headers = header_entries(&req.headers());
    // The iterated value is `Headers.get`'s (repeated fields joined with ", ").
    out.client_ip = out
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("cf-connecting-ip"))
        .map(|(_, v)| v.clone());
    if !reads_client_cert {
        return out;
    }
    // Read with Reflect: a missing `cf` or `tlsClientAuth` is no certificate, never a panic.
    let cf = js_sys::Reflect::get(req, &wasm_bindgen::JsValue::from_str("cf"))
        .unwrap_or(wasm_bindgen::JsValue::UNDEFINED);
    if cf.is_object() {
        let tls = js_sys::Reflect::get(&cf, &wasm_bindgen::JsValue::from_str("tlsClientAuth"))
            .unwrap_or(wasm_bindgen::JsValue::UNDEFINED);
        if tls.is_object() {
            out.client_cert = crate::gate::ClientCert::from_tls_facts(
                js_str(&tls, "certPresented").as_deref(),
                js_str(&tls, "certVerified").as_deref(),
                js_str(&tls, "certRevoked").as_deref(),
                js_str(&tls, "certFingerprintSHA256").as_deref(),
            );
        }
    }
    out
}

/// Runs the core's decision loop, performing the I/O it asks for.
async fn decide(
    iso: &Rc<Isolate>,
    env: &Env,
    wctx: &Context,
    pending: &mut Pending,
) -> Option<Decision> {
    for _ in 0..MAX_STEPS {
        let now = now_ms();
        // The runtime's clock through the core's time type: an unusable reading (NaN, an
        // absurd time) is no decision (500 AUTH-015), never "1970".
        let Ok(t) = crate::time::UnixTime::from_millis_f64(now) else {
            return None;
        };
        let step = {
            let mut ctx = iso.ctx.borrow_mut();
            iso.gate.decide(pending, t.secs(), &mut ctx)
        };
        // Signature checks the core asked for without a verdict yet: WebCrypto answers
        // them, and the decision runs again (the first answer is discarded).
        if crypto::answer_wanted(&iso.verdicts).await {
            continue;
        }
        match step {
            Step::Done(d) => return Some(d),
            Step::Need(io) => perform(iso, env, wctx, pending, io, now).await,
        }
    }
    crypto::clear_wanted(&iso.verdicts);
    None
}

async fn perform(
    iso: &Rc<Isolate>,
    env: &Env,
    wctx: &Context,
    pending: &mut Pending,
    io: Io,
    now: f64,
) {
    match io {
        Io::Jwks {
            provider,
            url,
            refresh,
        } => {
            jwks::provide(iso, env, wctx, pending, &provider, &url, refresh, now).await;
        }
        Io::Discovery { provider, url } => match jwks::fetch_bounded(&url).await {
            Ok(answer) => {
                let bytes = answer.body;
                let mut ctx = iso.ctx.borrow_mut();
                pending.provide_discovery(&mut ctx, &provider, &bytes);
            }
            Err(()) => pending.provide_discovery_error(&provider),
        },
        Io::ApiKey { key_id } => store::api_key(env, pending, &key_id).await,
        Io::Revoked { id } => {
            store::revoked(env, iso.gate.config().revocation_store, pending, &id).await
        }
        Io::Introspect {
            provider,
            url,
            token,
            authorization,
            body,
        } => introspect::introspect(pending, &provider, &url, &token, &authorization, &body).await,
        Io::Custom { provider, token } => {
            // Unreachable in practice: a config with a `custom` provider is refused at
            // start-up (`init`). Fail closed all the same.
            pending.provide_custom(&provider, &token, None);
        }
        Io::RateLimitLoad {
            policy,
            key,
            store,
            timeout_ms,
        } => ratelimit::load(iso, env, pending, &policy, &key, &store, timeout_ms).await,
        Io::RateLimitStore {
            policy,
            key,
            store,
            expected,
            new,
            ttl_ms,
            timeout_ms,
            ..
        } => {
            ratelimit::store(
                env, pending, &policy, &key, &store, expected, new, ttl_ms, timeout_ms,
            )
            .await
        }
        // No session store in the Rust Worker: an unknown session.
        Io::Session { hash } => pending.provide_session_json(&hash, None),
    }
}

/// The allowed request to the origin: the request's own headers (one copy), minus the
/// identity headers and their look-alikes the core lists (deleted only when the request has
/// them: `sent` are its header names), plus the identity headers the core computed.
async fn forward(
    req: &web_sys::Request,
    method: &str,
    query: Option<&str>,
    sent: &[(String, String)],
    allow: &Allow,
    origin: &str,
    path: &str,
) -> worker::Result<web_sys::Response> {
    let headers = web_sys::Headers::new_with_headers(&req.headers())?;
    let present = |name: &str| sent.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    // Exact names from the core (identity header names and incoming look-alikes).
    for name in &allow.strip_headers {
        if present(name) {
            headers.delete(name)?;
        }
    }
    if present("host") {
        headers.delete("host")?;
    }
    for (name, value) in &allow.headers {
        headers.set(name, value)?;
    }
    // The core's percent-encoded form of the path it checked: forwarded as is.
    let path = allow.forward_path.as_deref().unwrap_or(path);
    let mut target = String::from(origin);
    target.push_str(path);
    if let Some(q) = query {
        target.push('?');
        target.push_str(q);
    }
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD") {
        if let Some(body) = req.body() {
            init.set_body(&body);
        }
    }
    // `fetch(url, init)`: no intermediate `Request` object (a URL `fetch` cannot use is a
    // rejected promise, answered like an unreachable origin).
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let sent =
        wasm_bindgen_futures::JsFuture::from(global.fetch_with_str_and_init(&target, &init)).await;
    match sent.and_then(|r| r.dyn_into::<web_sys::Response>()) {
        Ok(resp) => Ok(resp),
        Err(_) => {
            worker::console_error!("edgegate: origin unreachable");
            problem(502, BAD_GATEWAY, &[]).map(Into::into)
        }
    }
}

/// The fields of a decision's log line, in the order of the line (alphabetical, as the
/// `serde_json::json!` map wrote them before).
#[derive(serde::Serialize)]
struct DecisionLine<'a> {
    code: Option<&'a str>,
    edgegate: &'static str,
    #[serde(rename = "latencyMs")]
    latency_ms: f64,
    provider: Option<&'a str>,
    route: Option<&'a str>,
    status: u16,
}

/// One JSON line per decision: never a token, a key, a secret or a header value.
fn log_decision(
    route: Option<&str>,
    status: u16,
    code: Option<&str>,
    provider: Option<&str>,
    started: f64,
) {
    // Written straight from a struct (no JSON tree), and passed to `console.log` as is.
    let line = DecisionLine {
        code,
        edgegate: "decision",
        latency_ms: (now_ms() - started).max(0.0),
        provider,
        route,
        status,
    };
    if let Ok(line) = serde_json::to_string(&line) {
        web_sys::console::log_1(&wasm_bindgen::JsValue::from_str(&line));
    }
}

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// The fetch handler. Takes and returns the runtime's own `Request` / `Response`: workers-rs's
/// wrappers read `request.cf` (parsed by workerd on each access), parse the URL again and
/// rebuild the origin's response; measured at ~10% of a request's CPU.
#[event(fetch)]
async fn fetch(
    req: web_sys::Request,
    env: Env,
    wctx: Context,
) -> worker::Result<web_sys::Response> {
    let started = now_ms();
    let Init::Ready(iso) = &*state(&env) else {
        return config_error().map(Into::into);
    };
    let iso = iso.clone();
    let url = req.url();
    let (path, query) = path_and_query(&url);
    // The request's own method, as the runtime normalized it (workers-rs's `Method` read an
    // unknown method such as PROPFIND as GET: the gate decided, and the origin got, GET).
    let method = req.method();
    if path == HEALTH_PATH && method == "GET" {
        return health(&iso, &env, started).map(Into::into);
    }
    if iso.panic_probe && path == PANIC_PROBE_PATH {
        #[allow(clippy::panic)]
        {
            panic!("edgegate: panic probe");
        }
    }
    let mut pending = Pending::new(gate_request(
        &req,
        &method,
        path,
        query,
        iso.reads_client_cert,
    ));
    let Some(decision) = decide(&iso, &env, &wctx, &mut pending).await else {
        worker::console_error!(
            "edgegate: no decision (an unusable clock, or more than {} steps); answering 500 AUTH-015",
            MAX_STEPS
        );
        return config_error().map(Into::into);
    };
    // Keys past their freshness are refreshed after the answer (stale-while-revalidate).
    jwks::refresh_stale(&iso, &env, &wctx, started);
    // `kv` rate-limit entries, coalesced: at most one write per second per key.
    ratelimit::flush_kv(&iso, &env, &wctx);
    match decision {
        Decision::Preflight(p) => {
            log_decision(None, p.status, None, None, started);
            let headers = Headers::new();
            for (k, v) in &p.headers {
                headers.set(k, v)?;
            }
            Ok(Response::empty()?
                .with_status(p.status)
                .with_headers(headers)
                .into())
        }
        Decision::Deny(d) => {
            log_decision(
                d.route.as_deref(),
                d.status,
                Some(d.code.as_str()),
                None,
                started,
            );
            // The core's response headers (RateLimit-Policy, RateLimit, Retry-After on 429).
            let mut extra: Vec<(&str, &str)> = Vec::with_capacity(d.response_headers.len() + 1);
            extra.push((
                "www-authenticate",
                d.www_authenticate.as_deref().unwrap_or(""),
            ));
            for (k, v) in &d.response_headers {
                extra.push((k.as_str(), v.as_str()));
            }
            problem(d.status, &d.body, &extra).map(Into::into)
        }
        Decision::Allow(a) => {
            if let Some(shadow) = &a.shadow {
                worker::console_warn!(
                    "edgegate: shadow route {} would deny ({})",
                    a.route.as_deref().unwrap_or("?"),
                    shadow.code.as_str()
                );
            }
            let provider = a.identity.as_ref().map(|i| i.provider.as_str());
            let sent = &pending.request().headers;
            let mut resp = forward(&req, &method, query, sent, &a, &iso.origin, path).await?;
            if !a.response_headers.is_empty() {
                // A fetched response's headers are immutable: copy them, then add the core's
                // (RateLimit-Policy, RateLimit).
                let headers = web_sys::Headers::new_with_headers(&resp.headers())?;
                for (name, value) in &a.response_headers {
                    headers.set(name, value)?;
                }
                let init = web_sys::ResponseInit::new();
                init.set_status(resp.status());
                init.set_status_text(&resp.status_text());
                init.set_headers(&headers);
                resp = web_sys::Response::new_with_opt_readable_stream_and_init(
                    resp.body().as_ref(),
                    &init,
                )?;
            }
            log_decision(a.route.as_deref(), resp.status(), None, provider, started);
            Ok(resp)
        }
    }
}

/// Per provider the JWKS age and freshness, the config's hash, the bindings present.
fn health(iso: &Isolate, env: &Env, started: f64) -> worker::Result<Response> {
    let now = started.max(0.0) as u64;
    let providers: Vec<serde_json::Value> = iso
        .gate
        .config()
        .providers
        .iter()
        .map(|p| iso.jwks.health(&p.name, now))
        .collect();
    let body = serde_json::json!({
        "status": "ok",
        "configHash": iso.config_hash,
        "revocationStore": match iso.gate.config().revocation_store {
            crate::gate::RevocationStore::Kv => "kv",
            crate::gate::RevocationStore::DurableObject => "durable-object",
        },
        "providers": providers,
        "signatureChecks": { "webcrypto": iso.verdicts.counts().0, "pure": iso.verdicts.counts().1 },
        "bindings": {
            KV_BINDING: env.kv(KV_BINDING).is_ok(),
            REVOCATIONS_BINDING: env.durable_object(REVOCATIONS_BINDING).is_ok(),
            ratelimit::RATE_LIMITER_BINDING: env.durable_object(ratelimit::RATE_LIMITER_BINDING).is_ok(),
            ratelimit::RATE_LIMIT_KV_BINDING: env.kv(ratelimit::RATE_LIMIT_KV_BINDING).is_ok(),
        },
    });
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::ok(body.to_string())?.with_headers(headers))
}
