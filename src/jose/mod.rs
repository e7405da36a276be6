//! JOSE: algorithms, keys (JWK, JWK Set, PEM), the untrusted token, verification and the
//! JWKS cache policy. Depends on `codec` and the crate's leaves (`error`, `limits`, `time`).
//!
//! Inside the layer dependencies point one way: `alg` <- `key` <- `pem` <- `jwk` <- `crypto`
//! <- `token` <- `verify`; `roca` and `jwks_cache` are leaves.

pub(crate) mod alg;
pub(crate) mod crypto;
pub(crate) mod jwk;
pub(crate) mod jwks_cache;
pub(crate) mod key;
pub(crate) mod pem;
pub(crate) mod roca;
pub(crate) mod token;
pub(crate) mod verify;

pub use alg::{Algorithm, EcCurve, RSA_MAX_BITS, RSA_MAX_EXPONENT};
pub use crypto::{
    check_id, key_id, AskHostBackend, CryptoBackend, HostVerdicts, MemoBackend, PreparedKey,
    PreparedKeys, PureBackend, WantedCheck, MAX_MEMO_VERDICTS, MAX_PREPARED_KEYS,
};
pub use jwk::{Jwk, JwkSet};
pub use jwks_cache::{
    parse_cache_control, Action, CacheControl, CachePolicy, Freshness, JwksCache, Need, Snapshot,
    StoredJwks,
};
pub use key::{KeyError, KeyOrigin, KeyParams};
pub use pem::{parse_pkcs1_der, parse_public_key_pem, parse_spki_der};
pub use token::{inspect, DecodeError, Header, Inspection, Part, UntrustedToken};
pub use verify::{
    check_claims, compact_verify, jwt_verify, prepare, recheck_claims, verify_for_host, ClaimError,
    HostVerdict, Prepared, VerifiedJws, VerifiedToken, VerifyError, VerifyOptions,
};
