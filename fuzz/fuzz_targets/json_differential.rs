//! The strict JSON parser against serde_json: whatever the strict parser accepts,
//! serde_json accepts too, with the same value (the strict parser only refuses more:
//! duplicate members, depth, invalid UTF-8); and the hand-written scanner `scan_object`
//! against `parse_value` (two strict readers that must agree).
#![no_main]
use edgegate::codec::{parse_value, scan_object, JsonError};
use libfuzzer_sys::fuzz_target;

const DEPTH: usize = 64; // below serde_json's own recursion limit (128)

fuzz_target!(|data: &[u8]| {
    let strict = parse_value(data, DEPTH);
    let loose = serde_json::from_slice::<serde_json::Value>(data);
    match (&strict, &loose) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "strict and serde_json read different values"),
        (Ok(_), Err(e)) => panic!("strict accepts what serde_json refuses: {e}"),
        (Err(JsonError::Syntax), Ok(_)) => {
            // Only refusals with their own reason may differ from serde_json; a Syntax
            // error on serde-valid input would be a parser differential. The strict parser
            // reports duplicates/depth/UTF-8 with their own variants, so this is a bug.
            panic!("strict says syntax error on input serde_json accepts");
        }
        _ => {}
    }
    // The raw scanner (scan_object) is a second, hand-written parser that must accept
    // exactly what parse_object accepts.
    let raw = scan_object(data, DEPTH);
    let obj = match &strict {
        Ok(serde_json::Value::Object(m)) => Some(m),
        _ => None,
    };
    match (&raw, obj) {
        (Ok(r), Some(m)) => assert_eq!(
            r.len(),
            m.len(),
            "scan_object and parse_value disagree on members"
        ),
        (Ok(_), None) => panic!("scan_object accepts what parse_object refuses: {strict:?}"),
        (Err(e), Some(_)) => panic!("scan_object refuses ({e:?}) what parse_object accepts"),
        (Err(_), None) => {}
    }
});
