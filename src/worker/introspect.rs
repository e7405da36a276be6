//! RFC 7662 token introspection for the Rust Worker (`Io::Introspect`).
//!
//! The core builds the call (the form-encoded body with the token, and the HTTP Basic client
//! credentials, RFC 6749 section 2.3.1); this host only sends it, bounded
//! ([`super::http::fetch_bounded`]: no redirects, `200` only, [`Limits::MAX_RESPONSE_BYTES`],
//! the timeout), and hands the bytes to the core ([`Pending::provide_introspection`]), which
//! parses them strictly and decides (`active`, `exp`, `iss`, `aud`, the cache). Any failure
//! is `None`: the core answers 502 AUTH-014 (fail closed). Nothing here logs the token or the
//! credentials.

use worker::Method;

use super::http::fetch_bounded;
use crate::gate::Pending;
use crate::limits::Limits;

/// Performs the introspection call and gives the core its answer.
pub(crate) async fn introspect(
    pending: &mut Pending,
    provider: &str,
    url: &str,
    token: &str,
    authorization: &str,
    body: &str,
) {
    let headers = [
        ("authorization", authorization),
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "application/json"),
    ];
    let answer = fetch_bounded(
        Method::Post,
        url,
        &headers,
        Some(body),
        Limits::MAX_RESPONSE_BYTES,
    )
    .await
    .ok();
    pending.provide_introspection(provider, token, answer.as_ref().map(|a| a.body.as_slice()));
}
