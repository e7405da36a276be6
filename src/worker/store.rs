//! API key records and revocation answers: Workers KV (`apikey:<id>`, `revoked:<id>`) and
//! the revocation Durable Object. The core validates every answer (a malformed record or
//! answer is a store error: AUTH-015, fail closed); this file only reads.
//!
//! Rate-limit stores (KV via the core's `KvSync`, the `RateLimiter` Durable Object) are in
//! `ratelimit.rs`.

use alloc::string::String;

use serde_json::Value;
use sha2::{Digest, Sha256};
use worker::{durable_object, DurableObject, Env, Method, Request, Response, State};

use super::{with_timeout, KV_BINDING, REVOCATIONS_BINDING};
use crate::gate::{Pending, RevocationStore};

/// Revocation Durable Object shards (ids are spread by SHA-256).
pub const REVOCATION_SHARDS: u8 = 16;

/// Longest wait for one KV read or Durable Object call (ms). Past it the lookup is a store
/// error (AUTH-015, fail closed) instead of holding the request for as long as the store
/// takes (the npm package's `storeTimeout` default is the same).
pub(crate) const STORE_TIMEOUT_MS: u32 = 1000;

/// A value that is never a record nor a revocation answer: the core's "store error".
fn store_error() -> Value {
    Value::String(String::from("store error"))
}

/// `Io::ApiKey`: the record JSON under `apikey:<id>` (the output of `createApiKey`: the
/// secret's hash, never the secret). A missing value is an unknown key; a KV error or a
/// value that is not JSON is a store error.
pub(crate) async fn api_key(env: &Env, pending: &mut Pending, key_id: &str) {
    let answer = match env.kv(KV_BINDING) {
        Err(_) => {
            worker::console_error!(
                "edgegate: API key lookup without the {} binding",
                KV_BINDING
            );
            Some(store_error())
        }
        Ok(kv) => {
            match with_timeout(kv.get(&format!("apikey:{key_id}")).text(), STORE_TIMEOUT_MS).await {
                Some(Ok(None)) => None,
                // The record text goes to the core's strict parser (a member name twice is a
                // malformed record, never the last one read).
                Some(Ok(Some(text))) => {
                    pending.provide_api_key_text(key_id, Some(text.as_bytes()));
                    return;
                }
                Some(Err(_)) | None => Some(store_error()),
            }
        }
    };
    pending.provide_api_key_json(key_id, answer.as_ref());
}

/// `Io::Revoked`: KV (`revoked:<id>` present = revoked; written with an expiration that
/// matches the token's) or the Durable Object (immediate everywhere).
pub(crate) async fn revoked(env: &Env, store: RevocationStore, pending: &mut Pending, id: &str) {
    let answer = match store {
        RevocationStore::Kv => match env.kv(KV_BINDING) {
            Err(_) => store_error(),
            Ok(kv) => match with_timeout(kv.get(&format!("revoked:{id}")).text(), STORE_TIMEOUT_MS)
                .await
            {
                Some(Ok(None)) => Value::Bool(false),
                Some(Ok(Some(_))) => Value::Bool(true),
                Some(Err(_)) | None => store_error(),
            },
        },
        RevocationStore::DurableObject => with_timeout(revoked_do(env, id), STORE_TIMEOUT_MS)
            .await
            .flatten()
            .unwrap_or_else(store_error),
    };
    pending.provide_revoked_json(id, &answer);
}

/// The shard object's name for `id`.
pub fn shard_name(id: &str) -> String {
    let h = Sha256::digest(id.as_bytes());
    let n = h.first().copied().unwrap_or(0) % REVOCATION_SHARDS;
    format!("revocations-{n}")
}

fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

async fn revoked_do(env: &Env, id: &str) -> Option<Value> {
    let ns = env.durable_object(REVOCATIONS_BINDING).ok()?;
    let stub = ns.id_from_name(&shard_name(id)).ok()?.get_stub().ok()?;
    let mut resp = stub
        .fetch_with_str(&format!("https://revocations/check?id={}", enc(id)))
        .await
        .ok()?;
    if resp.status_code() != 200 {
        return None;
    }
    let v: Value = resp.json().await.ok()?;
    v.get("revoked").cloned()
}

/// The revocation list, one object per shard (`shard_name`), state in its storage:
/// `r:<id>` -> expiry (unix seconds, 0 = never). Requests (from this Worker, or from
/// another Worker bound to the class with `script_name`):
///
/// - `GET /check?id=ID` -> `{"revoked": bool}`
/// - `POST /revoke?id=ID&exp=UNIX` -> `{"revoked": true}` (exp: when the token expires;
///   the entry is dropped after it)
/// - `POST /unrevoke?id=ID` -> `{"revoked": false}`
///
/// Send each to the shard `shard_name(id)` names (`idFromName`).
#[durable_object]
pub struct Revocations {
    state: State,
}

impl core::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Revocations")
    }
}

impl DurableObject for Revocations {
    fn new(state: State, _env: Env) -> Self {
        Revocations { state }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let url = req.url()?;
        let mut id = None;
        let mut exp: Option<u64> = None;
        for (k, v) in url.query_pairs() {
            match &*k {
                "id" => id = Some(v.into_owned()),
                "exp" => exp = v.parse().ok(),
                _ => {}
            }
        }
        let Some(id) = id.filter(|i| !i.is_empty() && i.len() <= 512) else {
            return Response::error("missing id", 400);
        };
        let key = format!("r:{id}");
        let storage = self.state.storage();
        let now = (js_sys::Date::now() / 1000.0) as u64;
        let revoked = match (req.method(), url.path()) {
            (Method::Get, "/check") => match storage.get::<u64>(&key).await? {
                None => false,
                Some(e) if e != 0 && e <= now => {
                    storage.delete(&key).await?;
                    false
                }
                Some(_) => true,
            },
            (Method::Post, "/revoke") => {
                storage.put(&key, exp.unwrap_or(0)).await?;
                true
            }
            (Method::Post, "/unrevoke") => {
                storage.delete(&key).await?;
                false
            }
            _ => return Response::error("not found", 404),
        };
        Response::from_json(&serde_json::json!({ "revoked": revoked }))
    }
}
