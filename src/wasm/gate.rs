//! The gate for the JS host: translation only. Every rule lives in `crate::gate` (and
//! config, route, rbac, providers, api_key); this file turns JSON strings and bytes into
//! core calls and back.

use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;

use super::js_error;
use crate::error::ErrorCode;
use crate::gate::api_key;
use crate::gate::cfg::Env;
use crate::gate::decide::{Ctx, Gate, Pending, Request};

/// A configured gate and the context its requests share (fetched keys, discovery, the
/// introspection cache). Requests are decided through [`GateRequestHandle`]s from
/// [`GateCore::begin`], one per request.
#[wasm_bindgen]
#[derive(Debug)]
pub struct GateCore {
    gate: Rc<Gate>,
    ctx: Rc<RefCell<Ctx>>,
}

/// One request being decided, with its own answers (DESIGN.md: "the step protocol is per
/// request"). JWKS and discovery answers also update the key sets the gate shares; every
/// other answer stays with this request. `free()` it when done.
#[wasm_bindgen]
#[derive(Debug)]
pub struct GateRequestHandle {
    gate: Rc<Gate>,
    ctx: Rc<RefCell<Ctx>>,
    pending: Pending,
}

fn usage(message: &str) -> JsValue {
    js_error(ErrorCode::ConfigError, message, None, None)
}

fn busy() -> JsValue {
    js_error(ErrorCode::ConfigError, "gate: re-entrant call", None, None)
}

#[wasm_bindgen]
impl GateCore {
    /// `config`: the JSON config; `env`: a JSON object of environment variables (string
    /// values; others are ignored). A bad config throws AUTH-015 with `reason` = the path.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, env: &str) -> Result<GateCore, JsValue> {
        let env_value: serde_json::Value =
            serde_json::from_str(env).map_err(|_| usage("env: expected a JSON object"))?;
        let mut map = Env::new();
        if let Some(o) = env_value.as_object() {
            for (k, v) in o {
                if let Some(s) = v.as_str() {
                    map.insert(k.clone(), s.to_string());
                }
            }
        }
        let gate = Gate::from_config(config.as_bytes(), &map)
            .map_err(|e| js_error(e.code(), &e.to_string(), None, Some(&e.path)))?;
        Ok(GateCore {
            gate: Rc::new(gate),
            ctx: Rc::new(RefCell::new(Ctx::new())),
        })
    }

    /// Warnings to log loudly at every start (JSON array of strings).
    pub fn warnings(&self) -> String {
        serde_json::to_string(self.gate.warnings()).unwrap_or_else(|_| "[]".into())
    }

    /// What the host must supply for this config (`Gate::requirements`), as JSON:
    /// `{"customProviders": [names], "revocation": bool, "apiKeys": bool}`.
    pub fn requirements(&self) -> String {
        let r = self.gate.requirements();
        serde_json::json!({
            "customProviders": r.custom_providers,
            "revocation": r.revocation,
            "apiKeys": r.api_keys,
        })
        .to_string()
    }

    /// Starts deciding `request` (JSON, see `Request::from_json`): a handle holding this
    /// request's answers.
    pub fn begin(&self, request: &str) -> Result<GateRequestHandle, JsValue> {
        let req = Request::from_json_bytes(request.as_bytes()).map_err(|m| usage(&m))?;
        Ok(GateRequestHandle {
            gate: Rc::clone(&self.gate),
            ctx: Rc::clone(&self.ctx),
            pending: Pending::new(req),
        })
    }
}

/// `usableUntil` (ms) from the JS host: absent or not a finite non-negative number means
/// "no expiry given".
fn until_ms(v: Option<f64>) -> Option<u64> {
    v.filter(|x| x.is_finite() && *x >= 0.0).map(|x| x as u64)
}

#[wasm_bindgen]
impl GateRequestHandle {
    /// One step at `now` (unix seconds): `{"done": decision}` or `{"need": io}` as JSON.
    pub fn decide(&mut self, now: f64) -> Result<String, JsValue> {
        let now = super::unix_time(now)?.secs();
        let mut ctx = self.ctx.try_borrow_mut().map_err(|_| busy())?;
        Ok(self
            .gate
            .decide(&self.pending, now, &mut ctx)
            .to_json()
            .to_string())
    }

    /// A fetched JWK Set and the instant (ms) its cache policy stops allowing it
    /// (`JwksCache::usable_until`); `false` when refused (the previous set, if any, is kept).
    #[wasm_bindgen(js_name = provideJwks)]
    pub fn provide_jwks(
        &mut self,
        provider: &str,
        bytes: &[u8],
        usable_until: Option<f64>,
    ) -> bool {
        match self.ctx.try_borrow_mut() {
            Ok(mut ctx) => self
                .pending
                .provide_jwks_until(&mut ctx, provider, bytes, until_ms(usable_until))
                .is_ok(),
            Err(_) => {
                self.pending.provide_jwks_error(provider);
                false
            }
        }
    }

    #[wasm_bindgen(js_name = provideJwksError)]
    pub fn provide_jwks_error(&mut self, provider: &str) {
        self.pending.provide_jwks_error(provider);
    }

    #[wasm_bindgen(js_name = provideDiscovery)]
    pub fn provide_discovery(&mut self, provider: &str, bytes: &[u8]) {
        match self.ctx.try_borrow_mut() {
            Ok(mut ctx) => self.pending.provide_discovery(&mut ctx, provider, bytes),
            Err(_) => self.pending.provide_discovery_error(provider),
        }
    }

    #[wasm_bindgen(js_name = provideDiscoveryError)]
    pub fn provide_discovery_error(&mut self, provider: &str) {
        self.pending.provide_discovery_error(provider);
    }

    /// The introspection response body for `token`, or `undefined` when the call failed.
    #[wasm_bindgen(js_name = provideIntrospection)]
    pub fn provide_introspection(&mut self, provider: &str, token: &str, body: Option<Vec<u8>>) {
        self.pending
            .provide_introspection(provider, token, body.as_deref());
    }

    /// The custom verifier's claims on `token` (JSON object), or `undefined` when it
    /// refused the token.
    #[wasm_bindgen(js_name = provideCustom)]
    pub fn provide_custom(&mut self, provider: &str, token: &str, claims: Option<String>) {
        self.pending
            .provide_custom_json(provider, token, claims.as_deref().map(str::as_bytes));
    }

    /// An API key record as the store returned it (JSON, see `ApiKeyRecord::from_json`),
    /// or `undefined` when unknown. A malformed record is a store error (AUTH-015).
    #[wasm_bindgen(js_name = provideApiKey)]
    pub fn provide_api_key(&mut self, key_id: &str, record: Option<String>) {
        self.pending
            .provide_api_key_text(key_id, record.as_deref().map(str::as_bytes));
    }

    /// The store's raw "is revoked" answer as JSON text (`undefined`: the store answered
    /// nothing). See `Pending::provide_revoked_json`: only `false`/`0` mean not revoked.
    #[wasm_bindgen(js_name = provideRevoked)]
    pub fn provide_revoked(&mut self, id: &str, answer: Option<String>) {
        self.pending
            .provide_revoked_text(id, answer.as_deref().map(str::as_bytes));
    }
}

/// Creates an API key: `new` is `{"account", "name", "roles", "permissions", "expiresAt"}`
/// (JSON), `random` 44 fresh random bytes from the host's CSPRNG, `now` unix seconds.
/// Returns `{"key", "record"}` as JSON (show `key` once; store `record`).
#[wasm_bindgen(js_name = createApiKey)]
pub fn create_api_key(new: &str, random: &[u8], now: f64) -> Result<String, JsValue> {
    let now = super::unix_time(now)?.secs();
    let created = api_key::create_from_json(new.as_bytes(), random, now)
        .map_err(|e| js_error(e.code(), &e.to_string(), None, None))?;
    Ok(serde_json::json!({"key": created.key, "record": created.record.to_json()}).to_string())
}
