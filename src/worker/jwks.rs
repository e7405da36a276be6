//! JWK Sets in tiers: isolate memory, then KV (`jwks:<provider>`, shared by isolates and
//! surviving restarts), then the IdP. When to fetch, stale-if-error within `maxStale`, the
//! cooldown and refetch budget for unknown `kid`s are the core's policy
//! ([`crate::jose::jwks_cache::JwksCache`]); this file only does the I/O it asks for.
//!
//! De-duplication: workerd forbids awaiting one request's I/O from another request
//! (panva/jose#355), so concurrent requests of an isolate never share a fetch promise.
//! When the policy says a fetch is in flight (`Action::Wait`), a request that has usable
//! keys uses them, and one that has none fetches on its own. Key sets past their freshness
//! are refreshed once, in the background (`ctx.wait_until`), while the stale keys keep
//! serving.

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use serde_json::Value;
use worker::{Context, Env, Method};

use super::{Isolate, KV_BINDING};
use crate::gate::Pending;
use crate::jose::jwks_cache::{
    Action, CachePolicy, Freshness, JwksCache, Need, Snapshot, StoredJwks,
};
use crate::jose::{JwkSet, KeyOrigin};
use crate::limits::Limits;

struct Entry {
    url: String,
    cache: JwksCache,
    bytes: Option<Rc<Vec<u8>>>,
    /// KV was read for this entry (once per isolate and URL).
    kv_checked: bool,
}

impl Entry {
    fn new(url: &str) -> Entry {
        Entry {
            url: url.into(),
            cache: JwksCache::new(CachePolicy::DEFAULT),
            bytes: None,
            kv_checked: false,
        }
    }

    /// The cached bytes while the policy still allows them, with the instant it stops.
    fn usable(&self, now: u64) -> Option<(Rc<Vec<u8>>, Option<u64>)> {
        let until = self.cache.usable_until();
        match (&self.bytes, until) {
            (Some(b), Some(u)) if now < u => Some((b.clone(), until)),
            _ => None,
        }
    }
}

/// The isolate's JWKS tier (memory) and its cache states, per provider.
#[derive(Default)]
pub(crate) struct Tiers {
    entries: RefCell<BTreeMap<String, Entry>>,
}

impl Tiers {
    /// `{name, jwks: {state, ageSeconds}}` for the health endpoint (no keys).
    pub(crate) fn health(&self, provider: &str, now: u64) -> Value {
        let entries = self.entries.borrow();
        let Some(e) = entries.get(provider) else {
            return serde_json::json!({ "name": provider, "jwks": { "state": "empty" } });
        };
        let state = match e.cache.freshness(now) {
            Freshness::Empty => "empty",
            Freshness::Fresh => "fresh",
            Freshness::Stale => "stale",
            Freshness::Expired => "expired",
        };
        let age = e
            .cache
            .snapshot()
            .map(|s| now.saturating_sub(s.fetched_at) / 1000);
        serde_json::json!({ "name": provider, "jwks": { "state": state, "ageSeconds": age } })
    }
}

/// KV record under `jwks:<provider>` (the core's [`StoredJwks`]): the bytes and the cache
/// times of the last fetch.
fn kv_record(url: &str, snapshot: Snapshot, bytes: &[u8]) -> String {
    StoredJwks {
        url: url.into(),
        snapshot,
        jwks: String::from_utf8_lossy(bytes).into_owned(),
    }
    .to_json()
}

fn kv_key(provider: &str) -> String {
    let mut k = String::from("jwks:");
    k.push_str(provider);
    k
}

/// Reads `jwks:<provider>` and seeds the entry when it is for `url`, parses and the core's
/// `restore` accepts its times.
async fn seed_from_kv(iso: &Isolate, env: &Env, provider: &str, url: &str, now: u64) {
    let Ok(kv) = env.kv(KV_BINDING) else {
        return;
    };
    // A slow or failing KV only skips this tier: the IdP is next.
    let Some(Ok(Some(text))) = super::with_timeout(
        kv.get(&kv_key(provider)).text(),
        super::store::STORE_TIMEOUT_MS,
    )
    .await
    else {
        return;
    };
    // Read strictly by the core (exact members and types, duplicates refused).
    let Some(StoredJwks {
        url: u,
        snapshot,
        jwks,
    }) = StoredJwks::from_json(text.as_bytes(), &Limits::DEFAULT)
    else {
        return;
    };
    if u != url || JwkSet::from_json(jwks.as_bytes(), KeyOrigin::Remote, &Limits::DEFAULT).is_err()
    {
        return;
    }
    let mut entries = iso.jwks.entries.borrow_mut();
    let Some(e) = entries.get_mut(provider) else {
        return;
    };
    if e.bytes.is_none() && e.cache.restore(snapshot, now) {
        e.bytes = Some(Rc::new(jwks.as_bytes().to_vec()));
    }
}

/// GET `url` for a key set or a discovery document: `200` only, no redirects, at most
/// `max_jwks_bytes` (streamed, [`super::http::fetch_bounded`]), within the timeout.
pub(crate) async fn fetch_bounded(url: &str) -> Result<super::http::Bounded, ()> {
    super::http::fetch_bounded(
        Method::Get,
        url,
        &[("accept", "application/json")],
        None,
        Limits::DEFAULT.max_jwks_bytes,
    )
    .await
}

/// Fetches the set, reports the outcome to the policy, and stores it in KV on success.
/// `true` when new keys were stored in the entry.
async fn refetch(
    iso: &Isolate,
    env: &Env,
    wctx: Option<&Context>,
    provider: &str,
    url: &str,
) -> bool {
    let fetched = fetch_bounded(url).await;
    let now = super::now_ms() as u64;
    let ok = match fetched {
        Ok(super::http::Bounded {
            body: bytes,
            cache_control: cc,
        }) => {
            if JwkSet::from_json(&bytes, KeyOrigin::Remote, &Limits::DEFAULT).is_ok() {
                let record = iso
                    .jwks
                    .entries
                    .borrow_mut()
                    .get_mut(provider)
                    .and_then(|e| {
                        e.cache.fetch_succeeded(now, cc.as_deref());
                        let record = e.cache.snapshot().map(|s| kv_record(url, s, &bytes));
                        e.bytes = Some(Rc::new(bytes));
                        record.map(|r| (r, e.cache.usable_until()))
                    });
                if let (Some((record, until)), Ok(kv)) = (record, env.kv(KV_BINDING)) {
                    // Expires with the policy (KV's minimum TTL is 60 s).
                    let ttl = until.map_or(3600, |u| u.saturating_sub(now) / 1000).max(60);
                    let key = kv_key(provider);
                    let put = async move {
                        if let Ok(b) = kv.put(&key, record) {
                            if b.expiration_ttl(ttl).execute().await.is_err() {
                                worker::console_error!("edgegate: jwks KV write failed");
                            }
                        }
                    };
                    match wctx {
                        Some(w) => w.wait_until(put),
                        None => put.await,
                    }
                }
                true
            } else {
                false
            }
        }
        Err(()) => false,
    };
    if !ok {
        if let Some(e) = iso.jwks.entries.borrow_mut().get_mut(provider) {
            e.cache.fetch_failed(now);
        }
        worker::console_error!("edgegate: JWKS fetch failed for provider {}", provider);
    }
    ok
}

/// Answers `Io::Jwks` for one request.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn provide(
    iso: &Rc<Isolate>,
    env: &Env,
    wctx: &Context,
    pending: &mut Pending,
    provider: &str,
    url: &str,
    refresh: bool,
    now: f64,
) {
    let now = now.max(0.0) as u64;
    let check_kv = {
        let mut entries = iso.jwks.entries.borrow_mut();
        let e = entries
            .entry(provider.into())
            .or_insert_with(|| Entry::new(url));
        if e.url != url {
            // Discovery moved the keys: start over for the new URL.
            *e = Entry::new(url);
        }
        let check = !e.kv_checked && e.bytes.is_none();
        e.kv_checked = true;
        check
    };
    if check_kv {
        seed_from_kv(iso, env, provider, url, now).await;
    }
    let action = {
        let mut entries = iso.jwks.entries.borrow_mut();
        match entries.get_mut(provider) {
            Some(e) => e.cache.decide(
                now,
                if refresh {
                    Need::UnknownKid
                } else {
                    Need::Keys
                },
            ),
            None => Action::Fail(crate::ErrorCode::JwksUnavailable),
        }
    };
    let usable_now = || {
        iso.jwks
            .entries
            .borrow()
            .get(provider)
            .and_then(|e| e.usable(now))
    };
    match action {
        Action::Wait if !refresh && usable_now().is_some() => {}
        Action::Fetch | Action::Wait => {
            refetch(iso, env, Some(wctx), provider, url).await;
        }
        Action::UseCached | Action::Fail(_) => {}
    }
    let now = super::now_ms().max(0.0) as u64;
    let usable = iso
        .jwks
        .entries
        .borrow()
        .get(provider)
        .and_then(|e| e.usable(now));
    let mut ctx = iso.ctx.borrow_mut();
    match usable {
        Some((bytes, until)) => {
            if pending
                .provide_jwks_until(&mut ctx, provider, &bytes, until)
                .is_err()
            {
                pending.provide_jwks_error(provider);
            }
        }
        None => pending.provide_jwks_error(provider),
    }
}

/// Refreshes, in the background, every key set past its freshness (once per set: the
/// policy marks the fetch in flight). The stale keys keep serving until `maxStale`.
pub(crate) fn refresh_stale(iso: &Rc<Isolate>, env: &Env, wctx: &Context, now: f64) {
    let now = now.max(0.0) as u64;
    let due: Vec<(String, String)> = {
        let mut entries = iso.jwks.entries.borrow_mut();
        entries
            .iter_mut()
            .filter(|(_, e)| e.cache.freshness(now) == Freshness::Stale && !e.cache.in_flight())
            .filter_map(|(p, e)| {
                (e.cache.decide(now, Need::Keys) == Action::Fetch)
                    .then(|| (p.clone(), e.url.clone()))
            })
            .collect()
    };
    for (provider, url) in due {
        let iso = iso.clone();
        let env = env.clone();
        wctx.wait_until(async move {
            if refetch(&iso, &env, None, &provider, &url).await {
                let now = super::now_ms().max(0.0) as u64;
                let usable = iso
                    .jwks
                    .entries
                    .borrow()
                    .get(&provider)
                    .and_then(|e| e.usable(now));
                if let Some((bytes, until)) = usable {
                    let _ = iso
                        .ctx
                        .borrow_mut()
                        .provide_jwks_until(&provider, &bytes, until);
                }
            }
        });
    }
}
