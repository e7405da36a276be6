//! Identity-provider admin lookups ([`crate::gate::idp_admin`]) for the JS host
//! (`pkg-js/src/idp-admin.ts`): the host fetches, times out, caches; the core says where to
//! go, what a status means and what a body is. Translation only.

use alloc::string::{String, ToString};
use wasm_bindgen::prelude::*;

use super::js_error;
use crate::gate::idp_admin::{
    self, AdminConfig, AdminError, AdminProvider, AdminStep, StatusAction,
};

fn admin_error(e: &AdminError) -> JsValue {
    js_error(e.code(), &e.to_string(), None, e.field())
}

fn provider(name: &str) -> Result<AdminProvider, JsValue> {
    AdminProvider::parse(name).map_err(|e| admin_error(&e))
}

/// A validated admin client configuration.
#[wasm_bindgen]
#[derive(Debug)]
pub struct IdpAdminConfig {
    c: AdminConfig,
}

#[wasm_bindgen]
impl IdpAdminConfig {
    /// Throws AUTH-015 (`reason` = the field) for a bad setting; never echoes the secret.
    #[wasm_bindgen(constructor)]
    pub fn new(
        provider: &str,
        base_url: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<IdpAdminConfig, JsValue> {
        AdminConfig::new(provider, base_url, client_id, client_secret)
            .map(|c| IdpAdminConfig { c })
            .map_err(|e| admin_error(&e))
    }

    /// The token endpoint.
    #[wasm_bindgen(getter, js_name = tokenUrl)]
    pub fn token_url(&self) -> String {
        self.c.token_url.clone()
    }

    /// Auth0's Management API audience (`undefined` for Keycloak).
    #[wasm_bindgen(getter)]
    pub fn audience(&self) -> Option<String> {
        self.c.audience.clone()
    }

    /// The URL of one user; an id that cannot name a user throws AUTH-017.
    #[wasm_bindgen(js_name = userUrl)]
    pub fn user_url(&self, id: &str) -> Result<String, JsValue> {
        self.c.user_url(id).map_err(|e| admin_error(&e))
    }
}

/// What a status means: 0 read the body, 1 fetch a new token and retry once; else throws
/// (AUTH-014 / AUTH-017). `step`: 0 token endpoint, 1 user endpoint.
#[wasm_bindgen(js_name = idpAdminStatus)]
pub fn idp_admin_status(
    provider_name: &str,
    step: u8,
    status: u16,
    retried: bool,
) -> Result<u8, JsValue> {
    let step = if step == 0 {
        AdminStep::Token
    } else {
        AdminStep::User
    };
    match idp_admin::status_action(provider(provider_name)?, step, status, retried) {
        Ok(StatusAction::ReadBody) => Ok(0),
        Ok(StatusAction::RetryWithNewToken) => Ok(1),
        Err(e) => Err(admin_error(&e)),
    }
}

/// A token endpoint's 200 body: `[accessToken, cacheMs]`; throws AUTH-014.
#[wasm_bindgen(js_name = idpAdminToken)]
pub fn idp_admin_token(provider_name: &str, body: &[u8]) -> Result<js_sys::Array, JsValue> {
    let t = idp_admin::parse_token(provider(provider_name)?, body).map_err(|e| admin_error(&e))?;
    let out = js_sys::Array::new();
    out.push(&JsValue::from_str(&t.access_token));
    out.push(&JsValue::from_f64(t.cache_ms as f64));
    Ok(out)
}

/// A user endpoint's 200 body, normalized (JSON text); with `require_enabled`, a disabled
/// user throws AUTH-018; a malformed answer throws AUTH-014.
#[wasm_bindgen(js_name = idpAdminUser)]
pub fn idp_admin_user(
    provider_name: &str,
    requested_id: &str,
    body: &[u8],
    require_enabled: bool,
) -> Result<String, JsValue> {
    let u = idp_admin::parse_user(provider(provider_name)?, requested_id, body)
        .map_err(|e| admin_error(&e))?;
    if require_enabled {
        idp_admin::require_enabled(&u).map_err(|e| admin_error(&e))?;
    }
    Ok(u.to_json())
}

/// `requireEnabled` on a cached profile (the host caches the normalized profile).
#[wasm_bindgen(js_name = idpAdminRequireEnabled)]
pub fn idp_admin_require_enabled(enabled: bool) -> Result<(), JsValue> {
    idp_admin::require_enabled_flag(enabled).map_err(|e| admin_error(&e))
}
