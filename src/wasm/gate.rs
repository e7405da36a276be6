//! The gate for the JS host: translation only. Every rule lives in `crate::gate` (and
//! config, route, rbac, providers, api_key); this file turns JSON strings and bytes into
//! core calls and back.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use wasm_bindgen::prelude::*;

use super::js_error;
use crate::api_key::{self, ApiKeyRecord, NewKey};
use crate::config::Env;
use crate::error::ErrorCode;
use crate::gate::{Ctx, Gate, Request};

/// A configured gate and its context (fetched keys, discovery, introspection cache, the
/// answers for the request in progress).
#[wasm_bindgen]
#[derive(Debug)]
pub struct GateCore {
    gate: Gate,
    ctx: Ctx,
}

fn usage(message: &str) -> JsValue {
    js_error(ErrorCode::ConfigError, message, None, None)
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
            gate,
            ctx: Ctx::new(),
        })
    }

    /// Warnings to log loudly at every start (JSON array of strings).
    pub fn warnings(&self) -> String {
        serde_json::to_string(self.gate.warnings()).unwrap_or_else(|_| "[]".into())
    }

    /// One step for `request` (JSON, see `Request::from_json`) at `now` (unix seconds):
    /// `{"done": decision}` or `{"need": io}` as JSON.
    pub fn decide(&mut self, request: &str, now: f64) -> Result<String, JsValue> {
        let v: serde_json::Value =
            serde_json::from_str(request).map_err(|_| usage("request: expected JSON"))?;
        let req = Request::from_json(&v).map_err(|m| usage(&m))?;
        let now = super::unix_time(now)?.secs();
        Ok(self
            .gate
            .decide(&req, now, &mut self.ctx)
            .to_json()
            .to_string())
    }

    /// A fetched JWK Set; `false` when refused (the previous set, if any, is kept).
    #[wasm_bindgen(js_name = provideJwks)]
    pub fn provide_jwks(&mut self, provider: &str, bytes: &[u8]) -> bool {
        self.ctx.provide_jwks(provider, bytes).is_ok()
    }

    #[wasm_bindgen(js_name = provideJwksError)]
    pub fn provide_jwks_error(&mut self, provider: &str) {
        self.ctx.provide_jwks_error(provider);
    }

    #[wasm_bindgen(js_name = provideDiscovery)]
    pub fn provide_discovery(&mut self, provider: &str, bytes: &[u8]) {
        self.ctx.provide_discovery(provider, bytes);
    }

    #[wasm_bindgen(js_name = provideDiscoveryError)]
    pub fn provide_discovery_error(&mut self, provider: &str) {
        self.ctx.provide_discovery_error(provider);
    }

    /// The introspection response body, or `undefined` when the call failed.
    #[wasm_bindgen(js_name = provideIntrospection)]
    pub fn provide_introspection(&mut self, provider: &str, body: Option<Vec<u8>>) {
        self.ctx.provide_introspection(provider, body.as_deref());
    }

    /// The custom verifier's claims (JSON object), or `undefined` when it refused the token.
    #[wasm_bindgen(js_name = provideCustom)]
    pub fn provide_custom(&mut self, provider: &str, claims: Option<String>) {
        let parsed = claims.and_then(|c| match serde_json::from_str::<serde_json::Value>(&c) {
            Ok(serde_json::Value::Object(m)) => Some(m),
            _ => None,
        });
        self.ctx.provide_custom(provider, parsed);
    }

    /// An API key record (JSON, see `ApiKeyRecord::to_json`), or `undefined` when unknown.
    #[wasm_bindgen(js_name = provideApiKey)]
    pub fn provide_api_key(&mut self, key_id: &str, record: Option<String>) {
        let rec = record
            .and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok())
            .and_then(|v| ApiKeyRecord::from_json(&v));
        self.ctx.provide_api_key(key_id, rec);
    }

    #[wasm_bindgen(js_name = provideRevoked)]
    pub fn provide_revoked(&mut self, id: &str, revoked: bool) {
        self.ctx.provide_revoked(id, revoked);
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
}

/// Creates an API key: `new` is `{"account", "name", "roles", "permissions", "expiresAt"}`
/// (JSON), `random` 44 fresh random bytes from the host's CSPRNG, `now` unix seconds.
/// Returns `{"key", "record"}` as JSON (show `key` once; store `record`).
#[wasm_bindgen(js_name = createApiKey)]
pub fn create_api_key(new: &str, random: &[u8], now: f64) -> Result<String, JsValue> {
    let v: serde_json::Value =
        serde_json::from_str(new).map_err(|_| usage("apiKey: expected JSON"))?;
    let s = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(String::from)
    };
    let list = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let new = NewKey {
        account: s("account").ok_or_else(|| usage("apiKey.account: expected string"))?,
        name: s("name").unwrap_or_default(),
        roles: list("roles"),
        permissions: list("permissions"),
        expires_at: v
            .get("expiresAt")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| usage("apiKey.expiresAt: expected unix seconds"))?,
    };
    let random: &[u8; api_key::RANDOM_BYTES] = random
        .try_into()
        .map_err(|_| usage("apiKey: expected 44 random bytes"))?;
    let now = super::unix_time(now)?.secs();
    let created = api_key::create(new, random, now)
        .map_err(|_| usage("apiKey.expiresAt: must be after now and at most one year ahead"))?;
    Ok(serde_json::json!({"key": created.key, "record": created.record.to_json()}).to_string())
}
