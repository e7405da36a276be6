//! Strict JSON for untrusted input: UTF-8, objects where objects are expected, duplicate
//! member names rejected (no parser differentials), nesting depth bounded.
//!
//! CONTRACT (owner: token/verify helper): `parse_object` keeps this signature; other
//! modules (jwk, config) use it for untrusted JSON.
//!
//! Implementation: serde_json's tokenizer driven by our own `DeserializeSeed`, which
//! counts depth (the top-level value is depth 1 when it is an object or array) and
//! refuses a member name that appears twice in one object, after unescaping (so
//! `{"a":1,"\u0061":2}` is a duplicate too). serde_json's own recursion limit (128)
//! still applies on top of `max_depth`.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a JSON document was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not UTF-8.
    Utf8,
    /// Not well-formed JSON (the message is the parser's, never the input).
    Syntax,
    /// Well-formed, but the top level is not an object.
    NotObject,
    /// A member name appears twice in one object.
    DuplicateMember { name: alloc::string::String },
    /// Nested deeper than allowed.
    TooDeep { limit: usize },
}

impl JsonError {
    /// AUTH-006 (decode failed). Callers parsing a JWKS or a config map it to their own code.
    pub const fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::DecodeFailed
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Utf8 => f.write_str("json is not valid utf-8"),
            JsonError::Syntax => f.write_str("malformed json"),
            JsonError::NotObject => f.write_str("json is not an object"),
            // Member names are short structural data, not secrets; cap them anyway.
            JsonError::DuplicateMember { name } => {
                write!(f, "duplicate json member {:?}", truncate(name, 64))
            }
            JsonError::TooDeep { limit } => write!(f, "json nested deeper than {limit}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for JsonError {}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// Parses `bytes` as one JSON object with at most `max_depth` levels of nesting.
pub fn parse_object(
    bytes: &[u8],
    max_depth: usize,
) -> Result<Map<alloc::string::String, Value>, JsonError> {
    match parse_value(bytes, max_depth)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::NotObject),
    }
}

/// Parses `bytes` as one JSON value of any type with the same strictness as
/// [`parse_object`] (duplicates, depth).
pub fn parse_value(bytes: &[u8], max_depth: usize) -> Result<Value, JsonError> {
    let text = core::str::from_utf8(bytes).map_err(|_| JsonError::Utf8)?;
    let failure = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = StrictSeed {
        depth: 0,
        max_depth,
        failure: &failure,
    };
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(_) => Err(failure.take().unwrap_or(JsonError::Syntax)),
    }
}

/// One value at a given depth; reports our own refusals through `failure`.
struct StrictSeed<'c> {
    depth: usize,
    max_depth: usize,
    failure: &'c Cell<Option<JsonError>>,
}

impl<'c> StrictSeed<'c> {
    fn child(&self) -> StrictSeed<'c> {
        StrictSeed {
            depth: self.depth + 1,
            max_depth: self.max_depth,
            failure: self.failure,
        }
    }

    fn fail<E: de::Error>(&self, error: JsonError) -> E {
        self.failure.set(Some(error));
        E::custom("refused")
    }

    fn enter<E: de::Error>(&self) -> Result<(), E> {
        if self.depth + 1 > self.max_depth {
            Err(self.fail(JsonError::TooDeep {
                limit: self.max_depth,
            }))
        } else {
            Ok(())
        }
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a json value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(String::from(v)))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child())? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(self.fail(JsonError::DuplicateMember { name: key }));
            }
            let v = map.next_value_seed(self.child())?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn parses_objects() {
        let m = parse_object(br#"{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}"#, 16).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m["a"], Value::from(1));
        assert_eq!(m["c"]["d"], Value::from(1.5));
        assert_eq!(parse_object(b" {} ", 1).unwrap().len(), 0);
    }

    #[test]
    fn rejects_non_objects() {
        for doc in [&b"[]"[..], b"1", b"\"a\"", b"null", b"true"] {
            assert_eq!(parse_object(doc, 16), Err(JsonError::NotObject), "{doc:?}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for doc in [
            &b""[..],
            b"{",
            b"{\"a\":1,}",
            b"{'a':1}",
            b"{\"a\":1} x",
            b"{\"a\":1}{}",
            b"{\"a\":NaN}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":1e999}",
        ] {
            assert_eq!(parse_object(doc, 16), Err(JsonError::Syntax), "{doc:?}");
        }
    }

    #[test]
    fn rejects_invalid_utf8() {
        assert_eq!(parse_object(b"{\"a\":\"\xff\"}", 16), Err(JsonError::Utf8));
    }

    #[test]
    fn rejects_duplicates_at_any_level_and_after_unescaping() {
        let dup = |n: &str| Err(JsonError::DuplicateMember { name: n.into() });
        assert_eq!(
            parse_object(br#"{"alg":"HS256","alg":"none"}"#, 16),
            dup("alg")
        );
        assert_eq!(parse_object(br#"{"a":1,"\u0061":2}"#, 16), dup("a"));
        assert_eq!(parse_object(br#"{"x":{"b":1,"b":1}}"#, 16), dup("b"));
        assert_eq!(parse_object(br#"{"x":[{"c":1,"c":2}]}"#, 16), dup("c"));
        assert!(parse_object(br#"{"a":{"a":{"a":1}}}"#, 16).is_ok());
    }

    #[test]
    fn depth_budget_is_exact() {
        // depth 3: object > array > object
        let doc = br#"{"a":[{"b":1}]}"#;
        assert!(parse_object(doc, 3).is_ok());
        assert_eq!(parse_object(doc, 2), Err(JsonError::TooDeep { limit: 2 }));
        assert_eq!(parse_object(b"{}", 0), Err(JsonError::TooDeep { limit: 0 }));
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            parse_object(deep.as_bytes(), 16),
            Err(JsonError::TooDeep { limit: 16 })
        );
    }

    #[test]
    fn display_never_echoes_values() {
        let err = parse_object(br#"{"secret":"hunter2","secret":"x"}"#, 16).unwrap_err();
        let shown = format!("{err}");
        assert!(!shown.contains("hunter2"));
        assert_eq!(shown, "duplicate json member \"secret\"");
    }
}
