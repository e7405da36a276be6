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

// Layers (docs/architecture.md): leaves (`error`, `limits`, `abi`) <- `codec` <- `jose` <- `gate`
// <- hosts (`wasm`). Dependencies point down only; each layer exports a chosen surface.
pub mod abi;
pub mod codec;
pub mod error;
pub mod gate;
pub mod jose;
pub mod limits;
pub mod ratelimit;
pub mod time;
pub mod url;
#[cfg(feature = "wasm-inspect")]
pub mod wasm;

pub use crate::error::ErrorCode;
pub use crate::gate::{Config, ConfigError, Decision, Env, Gate, Request, Step};
pub use crate::jose::{
    compact_verify, inspect, jwt_verify, Algorithm, ClaimError, CryptoBackend, DecodeError, Header,
    Inspection, Jwk, JwkSet, KeyError, KeyOrigin, PureBackend, UntrustedToken, VerifiedJws,
    VerifiedToken, VerifyError, VerifyOptions,
};
pub use crate::limits::Limits;
pub use crate::time::{TimeError, UnixTime};

/// The README's Rust examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
