//! PEM / SPKI DER / PKCS#1 DER public key import.
#![no_main]
use edgegate::jose::{parse_pkcs1_der, parse_public_key_pem, parse_spki_der};
use edgegate::Jwk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_spki_der(data);
    let _ = parse_pkcs1_der(data);
    let _ = Jwk::from_spki_der(data);
    if let Ok(s) = core::str::from_utf8(data) {
        let _ = parse_public_key_pem(s);
        let _ = Jwk::from_pem(s);
    }
});
