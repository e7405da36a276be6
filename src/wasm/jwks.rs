//! The remote JWKS cache policy (`crate::jose::jwks_cache`) for the JS host. The host does the
//! fetch and the timers; every decision is made here.

use alloc::string::{String, ToString};
use wasm_bindgen::prelude::*;

use crate::jose::jwks_cache::{Action, CachePolicy, JwksCache, Need, Snapshot};

/// The core's one URL rule ([`crate::url::fetchable`]) for `createRemoteJWKSet`: `undefined`
/// when the URL may be fetched, else why not.
#[wasm_bindgen(js_name = fetchableUrl)]
pub fn fetchable_url(url: &str) -> Option<String> {
    crate::url::fetchable(url).err().map(|e| e.to_string())
}

/// `decide` results.
const A_USE: u32 = 0;
const A_FETCH: u32 = 1;
const A_WAIT: u32 = 2;
const A_FAIL: u32 = 3;

fn ms(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v as u64
    } else {
        0
    }
}

/// One remote JWKS URL's cache state.
#[wasm_bindgen]
#[derive(Debug)]
pub struct JwksCacheState {
    c: JwksCache,
}

#[wasm_bindgen]
impl JwksCacheState {
    /// All durations in milliseconds.
    #[wasm_bindgen(constructor)]
    pub fn new(
        max_age: f64,
        cooldown: f64,
        max_stale: f64,
        retry_after_error: f64,
        refetch_budget: u32,
    ) -> JwksCacheState {
        let d = CachePolicy::DEFAULT;
        JwksCacheState {
            c: JwksCache::new(CachePolicy {
                max_age_ms: ms(max_age),
                cooldown_ms: ms(cooldown),
                max_stale_ms: ms(max_stale),
                max_fresh_ms: d.max_fresh_ms,
                retry_after_error_ms: ms(retry_after_error),
                refetch_budget,
            }),
        }
    }

    /// 0 use cached, 1 fetch (now in flight), 2 wait for the fetch in flight, 3 fail (AUTH-007).
    pub fn decide(&mut self, now: f64, unknown_kid: bool) -> u32 {
        let need = if unknown_kid {
            Need::UnknownKid
        } else {
            Need::Keys
        };
        match self.c.decide(ms(now), need) {
            Action::UseCached => A_USE,
            Action::Fetch => A_FETCH,
            Action::Wait => A_WAIT,
            Action::Fail(_) => A_FAIL,
        }
    }

    #[wasm_bindgen(js_name = fetchSucceeded)]
    pub fn fetch_succeeded(&mut self, now: f64, cache_control: Option<String>) {
        self.c.fetch_succeeded(ms(now), cache_control.as_deref());
    }

    #[wasm_bindgen(js_name = fetchFailed)]
    pub fn fetch_failed(&mut self, now: f64) {
        self.c.fetch_failed(ms(now));
    }

    /// The instant (ms) from which the cached keys are past `maxStale`
    /// (`JwksCache::usable_until`), or `undefined` when nothing was fetched.
    #[wasm_bindgen(js_name = usableUntil)]
    pub fn usable_until(&self) -> Option<f64> {
        self.c.usable_until().map(|u| u as f64)
    }

    /// `[fetchedAt, freshUntil]` in ms, or empty when nothing was fetched.
    pub fn snapshot(&self) -> Vec<f64> {
        match self.c.snapshot() {
            Some(s) => vec![s.fetched_at as f64, s.fresh_until as f64],
            None => Vec::new(),
        }
    }

    /// Seeds from a persisted snapshot; `false` when refused (see `JwksCache::restore`).
    pub fn restore(&mut self, fetched_at: f64, fresh_until: f64, now: f64) -> bool {
        self.c.restore(
            Snapshot {
                fetched_at: ms(fetched_at),
                fresh_until: ms(fresh_until),
            },
            ms(now),
        )
    }
}
