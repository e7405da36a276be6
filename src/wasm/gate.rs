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
use crate::jose::{AskHostBackend, CryptoBackend, HostVerdicts, PureBackend, WantedCheck};

// Host crypto mode (`GateCore::new(.., true)`): RSA/ECDSA/EdDSA checks are answered from
// verdicts the JS host computed with node:crypto / WebCrypto (the core's `HostVerdicts` and
// `AskHostBackend`); the request's next step (`decideAt`) asks the host for a wanted check
// (`{"need": {"type": "verify", ...}}`) instead of returning that decision, and the decision
// runs again once the verdicts are in. HMAC stays in the core.

/// The public JWK the host imports for `w` (`None`: an HMAC secret, which never leaves the
/// core).
fn host_jwk(w: &WantedCheck) -> Option<serde_json::Value> {
    let v = w.key.public_jwk_json();
    (!v.is_null()).then_some(v)
}

/// A configured gate and the context its requests share (fetched keys, discovery, the
/// introspection cache). Requests are decided through [`GateRequestHandle`]s from
/// [`GateCore::begin`], one per request.
#[wasm_bindgen]
#[derive(Debug)]
pub struct GateCore {
    gate: Rc<Gate>,
    ctx: Rc<RefCell<Ctx>>,
    host: Option<Rc<HostVerdicts>>,
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
    host: Option<Rc<HostVerdicts>>,
    /// Checks this request's last step asked the host for (`provideVerdict` answers them).
    checks: Vec<WantedCheck>,
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
    /// `host_crypto`: RSA/ECDSA/EdDSA checks are asked of the host (`{"need": {"type":
    /// "verify"}}` steps, answered with `provideVerdict`); otherwise the pure backend checks
    /// them in wasm, remembering verdicts.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, env: &str, host_crypto: Option<bool>) -> Result<GateCore, JsValue> {
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
        // One gate per process / isolate: repeated tokens (the common case) are checked once.
        // The pure RSA check costs about a millisecond in wasm (measured in workerd: ~75% of
        // the JS Worker's CPU with one token reused); a remembered verdict one SHA-256.
        let gate = Gate::from_config(config.as_bytes(), &map)
            .map_err(|e| js_error(e.code(), &e.to_string(), None, Some(&e.path)))?;
        let host = host_crypto
            .unwrap_or(false)
            .then(|| Rc::new(HostVerdicts::default()));
        let gate = match &host {
            Some(h) => gate.with_backend(alloc::boxed::Box::new(AskHostBackend(Rc::clone(h)))),
            None => gate.with_backend(alloc::boxed::Box::new(crate::jose::MemoBackend::new(
                PureBackend,
            ))),
        };
        Ok(GateCore {
            gate: Rc::new(gate),
            ctx: Rc::new(RefCell::new(Ctx::new())),
            host,
        })
    }

    /// The shared stores the config needs (JSON `[{"store", "path"}]`): the host refuses the
    /// config when it cannot provide one (AUTH-015 with `path`).
    #[wasm_bindgen(js_name = requiredStores)]
    pub fn required_stores(&self) -> String {
        let list: Vec<serde_json::Value> = self
            .gate
            .required_stores()
            .into_iter()
            .map(|(store, path)| serde_json::json!({"store": store, "path": path}))
            .collect();
        serde_json::Value::Array(list).to_string()
    }

    /// Of `names` (a JSON array of incoming header names), those the gate strips before
    /// forwarding (they read as identity headers): for hosts that let a request through
    /// without a decision's `stripHeaders` (an anonymous request on an optional route).
    #[wasm_bindgen(js_name = strippedHeaders)]
    pub fn stripped_headers(&self, names: &str) -> String {
        let names: Vec<String> = serde_json::from_str(names).unwrap_or_default();
        let out: Vec<&String> = names
            .iter()
            .filter(|n| self.gate.is_stripped_header(n))
            .collect();
        serde_json::to_string(&out).unwrap_or_else(|_| "[]".into())
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

    /// Where each provider's keys come from (for `edgegate health`), as JSON:
    /// `[{"name", "issuer", "jwksUrl", "discoveryUrl"}]`, `null` where not remote. URLs and
    /// issuers only: never a secret or key.
    #[wasm_bindgen(js_name = keyEndpoints)]
    pub fn key_endpoints(&self) -> String {
        use crate::gate::providers::KeySource;
        let list: Vec<serde_json::Value> = self
            .gate
            .config()
            .providers
            .iter()
            .map(|p| {
                let (jwks, discovery) = match &p.keys {
                    KeySource::Remote { url } => (Some(url.clone()), None),
                    KeySource::Discovery { url } => (None, Some(url.clone())),
                    _ => (None, None),
                };
                serde_json::json!({
                    "name": p.name,
                    "issuer": p.issuer,
                    "jwksUrl": jwks,
                    "discoveryUrl": discovery,
                })
            })
            .collect();
        serde_json::Value::Array(list).to_string()
    }

    /// Where policy `policy`'s counter for the key value `value` lives (for `edgegate
    /// ratelimit status`), and, given the stored state (`stored`: the raw value read from
    /// that store key, `None` when absent), what it means at `now_ms`: JSON `{"policy",
    /// "store", "storeKey", "keyKind", "limit", "window", "remaining", "resetMs",
    /// "state"}` (`state`: "absent", "ok" or "malformed"). Nothing is consumed.
    #[wasm_bindgen(js_name = rateLimitStatus)]
    pub fn rate_limit_status(
        &self,
        policy: &str,
        value: &str,
        stored: Option<String>,
        now_ms: f64,
    ) -> Result<String, JsValue> {
        use crate::gate::ratelimit_state as rls;
        let Some(rp) = self
            .gate
            .config()
            .rate_limits
            .iter()
            .find(|r| r.name() == policy)
        else {
            return Err(js_error(
                ErrorCode::ConfigError,
                "no rate limit policy of that name in the config",
                None,
                Some("rateLimits"),
            ));
        };
        if !now_ms.is_finite() || now_ms < 0.0 {
            return Err(js_error(ErrorCode::ConfigError, "bad clock", None, None));
        }
        let now = now_ms as u64;
        let (state, parsed) = match stored.as_deref() {
            None => ("absent", None),
            Some(raw) => match rls::decode_state(raw) {
                Some(s) => ("ok", Some(s)),
                None => ("malformed", None),
            },
        };
        // As the gate reads it (`rate_limit_key`): an address is trimmed, other values not.
        let key_value = match rp.key {
            crate::gate::ratelimit_config::RateLimitKey::Ip => value.trim(),
            _ => value,
        };
        let (o, _) = crate::ratelimit::check(&rp.policy, parsed, now, 0);
        Ok(serde_json::json!({
            "policy": rp.name(),
            "store": rp.store.as_str(),
            "storeKey": rls::store_key(rp.name(), key_value),
            "keyKind": rp.key.kind(),
            "limit": o.limit,
            "window": o.window,
            "remaining": o.remaining,
            "resetMs": o.reset_ms,
            "state": state,
        })
        .to_string())
    }

    /// Starts deciding `request` (JSON, see `Request::from_json`): a handle holding this
    /// request's answers.
    pub fn begin(&self, request: &str) -> Result<GateRequestHandle, JsValue> {
        let req = Request::from_json_bytes(request.as_bytes()).map_err(|m| usage(&m))?;
        Ok(GateRequestHandle {
            gate: Rc::clone(&self.gate),
            ctx: Rc::clone(&self.ctx),
            pending: Pending::new(req),
            host: self.host.clone(),
            checks: Vec::new(),
        })
    }
}

impl GateRequestHandle {
    /// Before a step: no check is pending from an earlier step of any request.
    fn begin_step(&mut self) {
        self.checks.clear();
        if let Some(h) = &self.host {
            h.clear_wanted();
        }
    }

    /// After a step: the checks it wanted without a verdict, as a `verify` step for the host
    /// (the step's own answer is discarded: it saw `false` for them). Checks the host cannot
    /// take (not ASCII input, a key it does not import) are decided by the pure backend here.
    fn verify_step(&mut self) -> Option<String> {
        let host = self.host.as_ref()?;
        let wanted = host.take_wanted();
        if wanted.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for w in wanted {
            match (host_jwk(&w), core::str::from_utf8(&w.input)) {
                (Some(jwk), Ok(input)) => {
                    out.push(serde_json::json!({
                        "index": self.checks.len(),
                        "alg": w.alg.name(),
                        "jwk": jwk,
                        "input": input,
                        "signature": crate::codec::b64::encode(&w.signature),
                    }));
                    self.checks.push(w);
                }
                _ => host.remember(
                    w.id,
                    PureBackend.verify(w.alg, &w.key, &w.input, &w.signature),
                ),
            }
        }
        Some(serde_json::json!({"need": {"type": "verify", "checks": out}}).to_string())
    }
}

/// `usableUntil` (ms, the core's own `JwksCache::usable_until` passed back by the JS host):
/// absent means "no expiry given"; a value that is not a usable time withdraws the set at
/// once (fail closed), never "forever".
fn until_ms(v: Option<f64>) -> Option<u64> {
    v.map(|x| crate::time::UnixTime::from_millis_f64(x).map_or(0, |t| t.millis()))
}

#[wasm_bindgen]
impl GateRequestHandle {
    /// One step at `now_ms` (unix milliseconds; rate limits count in milliseconds):
    /// `{"done": decision}` or `{"need": io}` as JSON.
    #[wasm_bindgen(js_name = decideAt)]
    pub fn decide_at(&mut self, now_ms: f64) -> Result<String, JsValue> {
        let now_ms = i64::try_from(super::unix_time_ms(now_ms)?.millis()).unwrap_or(i64::MAX);
        self.begin_step();
        let step = {
            let mut ctx = self.ctx.try_borrow_mut().map_err(|_| busy())?;
            self.gate.decide_at_ms(&self.pending, now_ms, &mut ctx)
        };
        Ok(self
            .verify_step()
            .unwrap_or_else(|| step.to_json().to_string()))
    }

    /// One step at `now` (unix seconds): `{"done": decision}` or `{"need": io}` as JSON.
    pub fn decide(&mut self, now: f64) -> Result<String, JsValue> {
        let now = super::unix_time(now)?.secs();
        self.begin_step();
        let step = {
            let mut ctx = self.ctx.try_borrow_mut().map_err(|_| busy())?;
            self.gate.decide(&self.pending, now, &mut ctx)
        };
        Ok(self
            .verify_step()
            .unwrap_or_else(|| step.to_json().to_string()))
    }

    /// The host's verdict on check `index` of the last `verify` step: `true`/`false`, or
    /// `undefined` when the host could not check it (the pure backend decides).
    #[wasm_bindgen(js_name = provideVerdict)]
    pub fn provide_verdict(&mut self, index: u32, ok: Option<bool>) {
        let (Some(host), Some(w)) = (&self.host, self.checks.get(index as usize)) else {
            return;
        };
        let verdict =
            ok.unwrap_or_else(|| PureBackend.verify(w.alg, &w.key, &w.input, &w.signature));
        host.remember(w.id, verdict);
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

    /// The session store's record (JSON text) for the session whose id hashes to `hash`
    /// (`undefined`: no such session). Text that is not a record is a store error.
    #[wasm_bindgen(js_name = provideSession)]
    pub fn provide_session(&mut self, hash: &str, record: Option<String>) {
        // Strict: a member name twice (`"revoked": true, "revoked": false`) is a malformed
        // record, never the last one read.
        self.pending
            .provide_session_text(hash, record.as_deref().map(str::as_bytes));
    }

    /// The store's raw "is revoked" answer as JSON text (`undefined`: the store answered
    /// nothing). See `Pending::provide_revoked_json`: only `false`/`0` mean not revoked.
    #[wasm_bindgen(js_name = provideRevoked)]
    pub fn provide_revoked(&mut self, id: &str, answer: Option<String>) {
        self.pending
            .provide_revoked_text(id, answer.as_deref().map(str::as_bytes));
    }

    /// The raw rate-limit state the store holds under `key` (`undefined`: absent) and its
    /// version, if the store has one. Parsed strictly by the core when used.
    #[wasm_bindgen(js_name = provideRateLimitState)]
    pub fn provide_rate_limit_state(
        &mut self,
        policy: &str,
        key: &str,
        state: Option<String>,
        version: Option<String>,
    ) {
        self.pending
            .provide_rate_limit_state(policy, key, state, version);
    }

    /// The store's compare-and-set answer: `ok`, or the raw value it holds now
    /// (`current`, `undefined` when absent).
    #[wasm_bindgen(js_name = provideRateLimitStored)]
    pub fn provide_rate_limit_stored(
        &mut self,
        policy: &str,
        key: &str,
        ok: bool,
        current: Option<String>,
    ) {
        let r = if ok { Ok(()) } else { Err(current) };
        self.pending.provide_rate_limit_stored(policy, key, r);
    }

    /// The store failed or timed out: the policy's `onStoreError` applies.
    #[wasm_bindgen(js_name = provideRateLimitError)]
    pub fn provide_rate_limit_error(&mut self, policy: &str, key: &str) {
        self.pending.provide_rate_limit_error(policy, key);
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

/// The provider presets (`edgegate providers`): a JSON array of `{type, aliases, fields,
/// env}` from the core's table (`crate::gate::presets`), so no host keeps a copy.
#[wasm_bindgen(js_name = providerCatalog)]
pub fn provider_catalog() -> String {
    crate::gate::provider_catalog().to_string()
}

/// Whether one of `granted` (a JSON array of permission patterns, an identity's
/// `permissions`) covers the literal permission `needed` (the core's wildcard rule,
/// `rbac::grants`). Malformed input grants nothing.
#[wasm_bindgen(js_name = permissionGranted)]
pub fn permission_granted(granted: &str, needed: &str) -> bool {
    let Ok(list) = serde_json::from_str::<Vec<String>>(granted) else {
        return false;
    };
    !needed.is_empty() && list.iter().any(|g| crate::gate::rbac::grants(g, needed))
}

/// The lookup key of a session id (SHA-256, hex): what a session store keys records by
/// and what `Io::Session` asks for.
#[wasm_bindgen(js_name = sessionHash)]
pub fn session_hash(id: &str) -> String {
    crate::gate::session_hash(id)
}
