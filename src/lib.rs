//! edgegate: an auth gate for the edge.
//!
//! One sans-I/O core verifies JWTs against a cached JWK Set (and API keys), evaluates
//! route rules and RBAC, and turns a request into a decision. Time, randomness, fetched
//! bytes and storage results come in as arguments; the hosts (the wasm bindings for the
//! npm package, the Cloudflare Worker entry) do the I/O. See `DESIGN.md`.
//!
//! The core is `no_std` + `alloc`; the `std` feature (default) adds `std::error::Error`
//! impls only.
//!
//! Trust is in the type names: [`token::UntrustedToken`] is what a request carries;
//! [`verify::VerifiedToken`] only comes out of [`verify::jwt_verify`] (or the split
//! [`verify::prepare`] / [`verify::Prepared::finish`] used by native-crypto hosts).
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::todo,
        clippy::unimplemented,
        clippy::unreachable
    )
)]
#![warn(missing_debug_implementations)]

extern crate alloc;

pub mod api_key;
pub mod b64;
pub mod config;
pub mod crypto;
pub mod error;
pub mod gate;
pub mod identity;
pub mod json;
pub mod jwk;
pub mod jwks_cache;
pub mod limits;
pub mod pem;
pub mod providers;
pub mod rbac;
pub mod revocation;
pub mod roca;
pub mod route;
pub mod time;
pub mod token;
pub mod verify;
#[cfg(feature = "wasm-inspect")]
pub mod wasm;

pub use crate::crypto::{Algorithm, CryptoBackend, PureBackend};
pub use crate::error::ErrorCode;
pub use crate::jwk::{Jwk, JwkSet, KeyError, KeyOrigin};
pub use crate::limits::Limits;
pub use crate::time::{TimeError, UnixTime};
pub use crate::token::{inspect, DecodeError, Header, Inspection, UntrustedToken};
pub use crate::verify::{
    compact_verify, jwt_verify, ClaimError, VerifiedJws, VerifiedToken, VerifyError, VerifyOptions,
};

/// The README's Rust examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
