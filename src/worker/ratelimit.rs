//! Rate-limit stores of the Worker (docs/worker.md "Rate limits"): only I/O, every rule is
//! the core's.
//!
//! - `durable-object` (exact): the core's `Io::RateLimitLoad` / `Io::RateLimitStore`
//!   (compare-and-set) go to the [`RateLimiter`] object of the key's shard, which runs them
//!   one at a time on its storage: the single-store algorithm, never more than the limit.
//! - `kv` (approximate): the gate's context runs `ratelimit::edge::KvSync`
//!   (`Ctx::set_kv_sync`): exact counts of this isolate, plus the other isolates' entries
//!   read with one `list` per second per key (`Io::RateLimitLoad` with `store: "kv"`,
//!   answered with `Pending::provide_rate_limit_peers`), plus this isolate's own entry
//!   written at most once per second per key, after the response (`ctx.wait_until`).
//!
//! Errors and timeouts (`timeoutMs`) of either store are `provide_rate_limit_error`: the
//! policy's `onStoreError` applies.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use worker::{
    durable_object, Context, DurableObject, Env, Method, Request, RequestInit, Response, State,
};

use super::Isolate;
use crate::gate::Pending;

/// The KV namespace of the `kv` store: `rl:<policy>:<sha256 hex of the key value>:<isolate id>`.
pub const RATE_LIMIT_KV_BINDING: &str = "EDGEGATE_RATELIMIT_KV";
/// The Durable Object namespace of the `durable-object` store ([`RateLimiter`]).
pub const RATE_LIMITER_BINDING: &str = "RATE_LIMITER";
/// Rate-limiter objects (keys are spread over them by SHA-256).
pub const RATE_LIMITER_SHARDS: u16 = 256;
/// Most other-isolate entries read per key (one `list` page).
const MAX_PEERS: u64 = 1000;
/// KV's shortest expiration, seconds.
const KV_MIN_TTL_S: u64 = 60;

/// `fut`, or `None` after `ms` milliseconds.
pub(crate) async fn with_timeout<F: Future>(fut: F, ms: u64) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut delay = pin!(worker::Delay::from(Duration::from_millis(ms.max(1))));
    core::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if delay.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// The shard object's name for a store key.
pub fn shard_name(key: &str) -> String {
    let h = Sha256::digest(key.as_bytes());
    let n = u16::from_be_bytes([
        h.first().copied().unwrap_or(0),
        h.get(1).copied().unwrap_or(0),
    ]) % RATE_LIMITER_SHARDS;
    format!("ratelimit-{n}")
}

/// The isolate's id in KV entry names: random, fixed for the isolate's life.
pub(crate) fn isolate_id() -> String {
    let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{:08x}{:08x}", a & 0xffff_ffff, b & 0xffff_ffff)
}

/// A call to the key's [`RateLimiter`]: its JSON answer (`None`: any failure).
async fn call_do(env: &Env, key: &str, op: &str, body: &Value) -> Option<Value> {
    let ns = env.durable_object(RATE_LIMITER_BINDING).ok()?;
    let stub = ns.id_from_name(&shard_name(key)).ok()?.get_stub().ok()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(wasm_bindgen::JsValue::from_str(&body.to_string())));
    let req = Request::new_with_init(&format!("https://rate-limiter/{op}"), &init).ok()?;
    let mut resp = stub.fetch_with_request(req).await.ok()?;
    if resp.status_code() != 200 {
        return None;
    }
    resp.json::<Value>().await.ok()
}

/// `Io::RateLimitLoad`.
pub(crate) async fn load(
    iso: &Isolate,
    env: &Env,
    pending: &mut Pending,
    policy: &str,
    key: &str,
    store: &str,
    timeout_ms: u64,
) {
    match store {
        "durable-object" => {
            let body = serde_json::json!({ "key": key });
            let answer = with_timeout(call_do(env, key, "load", &body), timeout_ms).await;
            match answer.flatten().and_then(|v| v.get("value").cloned()) {
                Some(Value::Null) => pending.provide_rate_limit_state(policy, key, None, None),
                Some(Value::String(s)) => {
                    pending.provide_rate_limit_state(policy, key, Some(s), None)
                }
                _ => pending.provide_rate_limit_error(policy, key),
            }
        }
        "kv" => match with_timeout(peers(env, key, &iso.isolate_id), timeout_ms)
            .await
            .flatten()
        {
            Some(entries) => {
                let refs: Vec<(&str, u64)> =
                    entries.iter().map(|(s, t)| (s.as_str(), *t)).collect();
                pending.provide_rate_limit_peers(policy, key, &refs);
            }
            None => pending.provide_rate_limit_error(policy, key),
        },
        // `redis` has no store in the Worker: onStoreError.
        _ => pending.provide_rate_limit_error(policy, key),
    }
}

/// The other isolates' entries of `key`: (raw state, written ms) from each entry's
/// metadata; an entry without them is passed as `""` (the core: a store error).
async fn peers(env: &Env, key: &str, own: &str) -> Option<Vec<(String, u64)>> {
    let kv = env.kv(RATE_LIMIT_KV_BINDING).ok()?;
    let prefix = format!("{key}:");
    let own = format!("{prefix}{own}");
    let list = kv
        .list()
        .prefix(prefix)
        .limit(MAX_PEERS)
        .execute()
        .await
        .ok()?;
    let mut out = Vec::with_capacity(list.keys.len());
    for k in list.keys {
        if k.name == own {
            continue;
        }
        let meta = k.metadata.as_ref();
        let state = meta
            .and_then(|m| m.get("s"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let written = meta
            .and_then(|m| m.get("t"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        out.push((String::from(state), written));
    }
    Some(out)
}

/// `Io::RateLimitStore` (compare-and-set): only the Durable Object store gets one (`kv`
/// policies run in the context); anything else is a store error.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn store(
    env: &Env,
    pending: &mut Pending,
    policy: &str,
    key: &str,
    store: &str,
    expected: Option<String>,
    new: String,
    ttl_ms: u64,
    timeout_ms: u64,
) {
    if store != "durable-object" {
        pending.provide_rate_limit_error(policy, key);
        return;
    }
    let body = serde_json::json!({ "key": key, "expected": expected, "new": new, "ttlMs": ttl_ms });
    let answer = with_timeout(call_do(env, key, "cas", &body), timeout_ms)
        .await
        .flatten();
    match answer {
        Some(v) if v.get("ok") == Some(&Value::Bool(true)) => {
            pending.provide_rate_limit_stored(policy, key, Ok(()))
        }
        Some(v) if v.get("ok") == Some(&Value::Bool(false)) => match v.get("current") {
            Some(Value::Null) | None => pending.provide_rate_limit_stored(policy, key, Err(None)),
            Some(Value::String(s)) => {
                pending.provide_rate_limit_stored(policy, key, Err(Some(s.clone())))
            }
            Some(_) => pending.provide_rate_limit_error(policy, key),
        },
        _ => pending.provide_rate_limit_error(policy, key),
    }
}

/// Writes the `kv` entries due now (the core decides: at most one per second per key).
async fn write_due(iso: &Isolate, env: &Env) {
    let now = super::now_ms().max(0.0) as u64;
    let writes = iso.ctx.borrow_mut().take_rate_limit_kv_writes(now);
    if writes.is_empty() {
        return;
    }
    let Ok(kv) = env.kv(RATE_LIMIT_KV_BINDING) else {
        worker::console_error!(
            "edgegate: kv rate limits without the {} binding",
            RATE_LIMIT_KV_BINDING
        );
        return;
    };
    for w in writes {
        let name = format!("{}:{}", w.key, iso.isolate_id);
        let ttl = w.ttl_ms.div_ceil(1000).max(KV_MIN_TTL_S);
        let meta = serde_json::json!({ "s": w.state, "t": w.written_ms });
        let ok = match kv.put(&name, "").and_then(|p| p.metadata(meta)) {
            Ok(p) => p.expiration_ttl(ttl).execute().await.is_ok(),
            Err(_) => false,
        };
        if !ok {
            // Cumulative entries: the next write repairs a lost one.
            worker::console_warn!("edgegate: rate-limit KV write failed");
        }
    }
}

/// After the response (`ctx.wait_until`): the `kv` writes due now, then, when a write was
/// coalesced (its key was written less than a second ago), one delayed flush per isolate
/// at the time it may go out.
pub(crate) fn flush_kv(iso: &Rc<Isolate>, env: &Env, wctx: &Context) {
    let now = super::now_ms().max(0.0) as u64;
    let next = iso.ctx.borrow().next_rate_limit_kv_write_ms();
    let Some(next) = next else {
        return;
    };
    let iso = iso.clone();
    let env = env.clone();
    wctx.wait_until(async move {
        if next <= now {
            write_due(&iso, &env).await;
        }
        let pending = iso.ctx.borrow().next_rate_limit_kv_write_ms();
        if let Some(at) = pending {
            if !iso.kv_flush_scheduled.replace(true) {
                let wait = at.saturating_sub(super::now_ms().max(0.0) as u64);
                worker::Delay::from(Duration::from_millis(wait.clamp(1, 1_000))).await;
                iso.kv_flush_scheduled.set(false);
                write_due(&iso, &env).await;
            }
        }
    });
}

/// One stored state with its expiry (Unix ms).
#[derive(Serialize, Deserialize)]
struct Entry {
    v: String,
    exp: u64,
}

/// The `durable-object` rate-limit store, one object per key shard ([`shard_name`]). Each
/// request runs alone on the object's storage (the runtime delivers no other event while a
/// storage operation is in flight), so a compare-and-set is atomic and the core's check
/// over it is exact. Storage: `<store key>` -> `{"v": state, "exp": unix ms}`; an alarm
/// sweeps expired entries.
///
/// - `POST /load {"key"}` -> `{"value": state | null}`
/// - `POST /cas {"key", "expected": state | null, "new", "ttlMs"}` -> `{"ok": true}` or
///   `{"ok": false, "current": state | null}`
#[durable_object]
pub struct RateLimiter {
    state: State,
}

impl core::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RateLimiter")
    }
}

#[derive(Deserialize)]
struct Op {
    key: String,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    new: Option<String>,
    #[serde(default, rename = "ttlMs")]
    ttl_ms: Option<u64>,
}

impl RateLimiter {
    async fn current(&self, key: &str, now: u64) -> worker::Result<Option<String>> {
        let storage = self.state.storage();
        match storage.get::<Entry>(key).await? {
            Some(e) if e.exp > now => Ok(Some(e.v)),
            Some(_) => {
                storage.delete(key).await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        RateLimiter { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        if req.method() != Method::Post {
            return Response::error("not found", 404);
        }
        let path = req.url()?.path().to_owned();
        let Ok(op) = req.json::<Op>().await else {
            return Response::error("bad request", 400);
        };
        if op.key.is_empty() || op.key.len() > 512 {
            return Response::error("bad key", 400);
        }
        let now = js_sys::Date::now().max(0.0) as u64;
        let current = self.current(&op.key, now).await?;
        match path.as_str() {
            "/load" => Response::from_json(&serde_json::json!({ "value": current })),
            "/cas" => {
                let Some(new) = op.new else {
                    return Response::error("bad request", 400);
                };
                if current != op.expected {
                    return Response::from_json(
                        &serde_json::json!({ "ok": false, "current": current }),
                    );
                }
                let ttl = op.ttl_ms.unwrap_or(60_000).clamp(1_000, 86_400_000);
                let storage = self.state.storage();
                storage
                    .put(
                        &op.key,
                        Entry {
                            v: new,
                            exp: now.saturating_add(ttl),
                        },
                    )
                    .await?;
                if storage.get_alarm().await?.is_none() {
                    storage
                        .set_alarm(Duration::from_millis(ttl.saturating_add(1_000)))
                        .await?;
                }
                Response::from_json(&serde_json::json!({ "ok": true }))
            }
            _ => Response::error("not found", 404),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let storage = self.state.storage();
        let now = js_sys::Date::now().max(0.0) as u64;
        let all = storage.list().await?;
        let mut next: Option<u64> = None;
        for key in all.keys() {
            let Some(name) = key.ok().and_then(|k| k.as_string()) else {
                continue;
            };
            match storage.get::<Entry>(&name).await {
                Ok(Some(e)) if e.exp > now => {
                    next = Some(next.map_or(e.exp, |n| n.min(e.exp)));
                }
                _ => {
                    storage.delete(&name).await?;
                }
            }
        }
        if let Some(at) = next {
            storage
                .set_alarm(Duration::from_millis(
                    at.saturating_sub(now).saturating_add(1_000),
                ))
                .await?;
        }
        Response::ok("swept")
    }
}
