//! API-key parsing: any string -> a parsed key or ApiKeyError::Malformed; a parsed key is
//! exactly KEY_LEN ASCII bytes with the prefix, and `looks_like_key` agrees.
#![no_main]
use edgegate::gate::{hash_key, looks_like_key, parse_api_key, API_KEY_PREFIX, KEY_LEN};
use libfuzzer_sys::fuzz_target;

#[path = "../common/echo.rs"]
mod echo;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = core::str::from_utf8(data) else {
        return;
    };
    let looks = looks_like_key(s);
    match parse_api_key(s) {
        Ok(k) => {
            assert_eq!(s.len(), KEY_LEN);
            assert!(s.is_ascii() && s.starts_with(API_KEY_PREFIX));
            assert!(s.contains(k.id));
            assert_eq!(k.hash(), hash_key(s));
            let _ = looks;
        }
        Err(_) => {
            let text = |k: &str| parse_api_key(k).err().map(|e| format!("{e:?} {e}"));
            assert!(!echo::echoes(s, text), "error echoes the key");
        }
    }
});
