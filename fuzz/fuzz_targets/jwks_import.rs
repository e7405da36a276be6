//! JWK Set import (remote and local): budgets hold; a remote set never yields HMAC keys;
//! a local set never mixes HMAC and asymmetric keys.
#![no_main]
use edgegate::{Algorithm, JwkSet, KeyOrigin, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_keys_per_set: 8,
        max_jwks_bytes: 64 * 1024,
        ..Limits::DEFAULT
    };
    for origin in [KeyOrigin::Remote, KeyOrigin::Local] {
        if let Ok(set) = JwkSet::from_json(data, origin, &limits) {
            assert!(
                data.len() <= limits.max_jwks_bytes,
                "over the JWKS byte budget"
            );
            assert!(
                set.keys().len() <= limits.max_keys_per_set,
                "over the key budget"
            );
            if origin == KeyOrigin::Remote {
                assert!(
                    set.keys().iter().all(|k| !k.is_symmetric()),
                    "HMAC key from a remote set"
                );
            } else {
                let sym = set.keys().iter().filter(|k| k.is_symmetric()).count();
                assert!(sym == 0 || sym == set.keys().len(), "mixed set");
            }
            for alg in Algorithm::ALL {
                let n = set.select(alg, Some("k"), limits.max_candidate_keys).len();
                assert!(n <= limits.max_candidate_keys);
                let n = set.select(alg, None, limits.max_candidate_keys).len();
                assert!(n <= limits.max_candidate_keys);
            }
        }
    }
});
