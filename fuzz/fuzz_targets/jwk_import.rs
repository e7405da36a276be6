//! One JWK from JSON (full and public-part import).
#![no_main]
use edgegate::{Algorithm, Jwk, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::DEFAULT;
    if let Ok(k) = Jwk::from_json(data, &limits) {
        for alg in Algorithm::ALL {
            let _ = k.is_usable_for(alg);
        }
        // The public export re-imports to a key of the same type.
        let public = k.to_public_jwk_json();
        if !k.is_symmetric() {
            let again = Jwk::from_json(public.as_bytes(), &limits);
            assert!(again.is_ok(), "public export does not re-import");
            if let Ok(again) = again {
                assert_eq!(again.kty(), k.kty());
            }
        }
    }
    let _ = Jwk::from_json_public_part(data, &limits);
});
