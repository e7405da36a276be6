//! The remote JWKS cache policy (`crate::jose::jwks_cache`) for the JS host. The host does the
//! fetch and the timers; every decision is made here.

use alloc::string::{String, ToString};
use wasm_bindgen::prelude::*;

use super::js_error;
use crate::jose::jwks_cache::{Action, CachePolicy, JwksCache, Need, Snapshot};

use crate::time::{Duration, UnixTime};

/// The core's one URL rule ([`crate::url::fetchable`]) for `createRemoteJWKSet`: `undefined`
/// when the URL may be fetched, else why not.
#[wasm_bindgen(js_name = fetchableUrl)]
pub fn fetchable_url(url: &str) -> Option<String> {
    crate::url::fetchable(url).err().map(|e| e.to_string())
}

use crate::abi::cache_action::{FAIL as A_FAIL, FETCH as A_FETCH, USE as A_USE, WAIT as A_WAIT};

/// A host's duration option (ms; `Infinity` is "forever", `Duration::from_option_millis_f64`):
/// `NaN`, `-Infinity` or a negative number is an AUTH-015 error naming the option, never `0`.
fn duration(v: f64, field: &str) -> Result<u64, JsValue> {
    Duration::from_option_millis_f64(v)
        .map(Duration::millis)
        .map_err(|e| {
            js_error(
                e.code(),
                &alloc::format!("createRemoteJWKSet: options.{field}: {e}"),
                None,
                Some("invalid_time"),
            )
        })
}

/// `createRemoteJWKSet`'s other duration options (`timeoutDuration`): the core's
/// [`Duration`] decides, as for the cache policy's durations. Returns milliseconds.
#[wasm_bindgen(js_name = durationOption)]
pub fn duration_option(v: f64, field: &str) -> Result<f64, JsValue> {
    duration(v, field).map(|ms| ms as f64)
}

/// The host's clock (ms since the epoch) as core time; unusable values throw (AUTH-015).
fn now_ms(now: f64) -> Result<u64, JsValue> {
    super::unix_time_ms(now).map(UnixTime::millis)
}

/// One remote JWKS URL's cache state.
#[wasm_bindgen]
#[derive(Debug)]
pub struct JwksCacheState {
    c: JwksCache,
}

#[wasm_bindgen]
impl JwksCacheState {
    /// All durations in milliseconds; an unusable one throws (AUTH-015).
    #[wasm_bindgen(constructor)]
    pub fn new(
        max_age: f64,
        cooldown: f64,
        max_stale: f64,
        retry_after_error: f64,
        refetch_budget: u32,
    ) -> Result<JwksCacheState, JsValue> {
        let d = CachePolicy::DEFAULT;
        Ok(JwksCacheState {
            c: JwksCache::new(CachePolicy {
                max_age_ms: duration(max_age, "cacheMaxAge")?,
                cooldown_ms: duration(cooldown, "cooldownDuration")?,
                max_stale_ms: duration(max_stale, "maxStale")?,
                max_fresh_ms: d.max_fresh_ms,
                retry_after_error_ms: duration(retry_after_error, "retryAfterError")?,
                refetch_budget,
            }),
        })
    }

    /// 0 use cached, 1 fetch (now in flight), 2 wait for the fetch in flight, 3 fail (AUTH-007).
    /// An unusable `now` throws (AUTH-015).
    pub fn decide(&mut self, now: f64, unknown_kid: bool) -> Result<u32, JsValue> {
        let now = now_ms(now)?;
        let need = if unknown_kid {
            Need::UnknownKid
        } else {
            Need::Keys
        };
        Ok(match self.c.decide(now, need) {
            Action::UseCached => A_USE,
            Action::Fetch => A_FETCH,
            Action::Wait => A_WAIT,
            Action::Fail(_) => A_FAIL,
        })
    }

    #[wasm_bindgen(js_name = fetchSucceeded)]
    pub fn fetch_succeeded(
        &mut self,
        now: f64,
        cache_control: Option<String>,
    ) -> Result<(), JsValue> {
        self.c
            .fetch_succeeded(now_ms(now)?, cache_control.as_deref());
        Ok(())
    }

    #[wasm_bindgen(js_name = fetchFailed)]
    pub fn fetch_failed(&mut self, now: f64) -> Result<(), JsValue> {
        self.c.fetch_failed(now_ms(now)?);
        Ok(())
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

    /// Seeds from a persisted snapshot; `false` when refused (see `JwksCache::restore`; a
    /// snapshot time that is not a usable time is refused too). An unusable `now` throws.
    pub fn restore(
        &mut self,
        fetched_at: f64,
        fresh_until: f64,
        now: f64,
    ) -> Result<bool, JsValue> {
        let now = now_ms(now)?;
        let (Ok(fetched_at), Ok(fresh_until)) = (
            UnixTime::from_millis_f64(fetched_at),
            UnixTime::from_millis_f64(fresh_until),
        ) else {
            return Ok(false);
        };
        Ok(self.c.restore(
            Snapshot {
                fetched_at: fetched_at.millis(),
                fresh_until: fresh_until.millis(),
            },
            now,
        ))
    }
}
