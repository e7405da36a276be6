//! The wire forms: the config and the stored records (API keys, sessions) as serde-derived
//! "raw" types, read from the strict parser's document with field paths
//! (`routes[3].roles: expected array of strings`).
//!
//! A leaf of the gate layer (below `config`, `providers`, `route`, `rbac`,
//! `ratelimit_config`): these types say which fields exist, their JSON types and which are
//! required; unknown fields are refused (`deny_unknown_fields`, or the same rule written out
//! where a type reads its map by hand). The rules (URLs, names, ranges, cross-field checks)
//! stay with the compiled types, which are built from these.
//!
//! Reading: [`read`] runs `serde` over a `serde_json::Value` that the strict parser
//! (`crate::codec::parse_value`: duplicate members refused, depth budget) produced, through a
//! small deserializer that notes the field path of an error (`De`; no_std + alloc), and
//! `WireError::config_error` maps serde's wording to the house style in one place (`missing
//! required field`, `unknown field`, `expected X`). The
//! leaf types below (`Str`, `StrList`, `Secret`, ...) name what they expect the way the
//! errors always have. A serde message never carries the bad value: `invalid type:
//! string "...", expected X` becomes `expected X`.
//!
//! `schema/config.schema.json` is generated from these types (`schemars`, a dev-dependency:
//! the unit test `schema::config_schema_is_generated_from_the_types` at the bottom of this
//! file; bless with `EDGEGATE_BLESS=1`). The library, the wasm and the no_std builds never
//! carry `schemars`.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::gate::cfg::{join, CResult, ConfigError, Env};

/// Reads `value` (whose field path is `path`) as `T`, with the path of the first bad field.
pub(crate) fn read<T: DeserializeOwned>(path: &str, value: &Value) -> CResult<T> {
    T::deserialize(De(value)).map_err(|e| e.config_error(path))
}

/// One step of a field path.
#[derive(Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A serde error with the path where it happened (boxed: one pointer in every `Result`,
/// which keeps the derived readers small).
#[derive(Debug)]
pub(crate) struct WireError(Box<WireErrorInner>);

#[derive(Debug)]
struct WireErrorInner {
    /// Reversed: the innermost segment first (built on the way out).
    rev_path: Vec<Seg>,
    msg: String,
}

impl WireError {
    fn under(mut self, seg: Seg) -> WireError {
        self.0.rev_path.push(seg);
        self
    }

    /// The error at its path under `base`, in the house wording.
    fn config_error(self, base: &str) -> ConfigError {
        let WireErrorInner { rev_path, msg } = *self.0;
        let mut path = String::from(base);
        for seg in rev_path.iter().rev() {
            match seg {
                Seg::Index(i) => path.push_str(&format!("[{i}]")),
                Seg::Key(k) => path = join(&path, k),
            }
        }
        if msg.starts_with("unknown field `") {
            // The path already ends with the member's name (see `MapDe::next_key_seed`).
            return ConfigError::new(path, "unknown field");
        }
        let quoted = |rest: &str| rest.split_once('`').map(|(name, _)| name.to_string());
        // A reader that refuses a member after reading the whole map (`env_ref`) names it.
        if let Some(name) = msg.strip_prefix("unknown member `").and_then(quoted) {
            return ConfigError::new(join(&path, &name), "unknown field");
        }
        if let Some(name) = msg.strip_prefix("missing field `").and_then(quoted) {
            return ConfigError::new(join(&path, &name), "missing required field");
        }
        if msg.starts_with("invalid type: ")
            || msg.starts_with("invalid value: ")
            || msg.starts_with("invalid length ")
        {
            // `invalid type: <what was found>, expected <what>`: the found value (it may be a
            // secret) is dropped.
            if let Some(i) = msg.rfind(", expected ") {
                return ConfigError::new(
                    path,
                    format!("expected {}", &msg[i + ", expected ".len()..]),
                );
            }
            return ConfigError::new(path, "invalid value");
        }
        ConfigError::new(path, msg)
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.msg)
    }
}

impl de::StdError for WireError {}

impl de::Error for WireError {
    fn custom<M: fmt::Display>(msg: M) -> WireError {
        WireError(Box::new(WireErrorInner {
            rev_path: Vec::new(),
            msg: msg.to_string(),
        }))
    }
}

/// A deserializer over a parsed document that notes the path of an error on its way out:
/// an element's error gets `[i]`, a member's error (its name or its value) gets `.name`;
/// what a visitor says about a whole value (a missing field, a bad type) stays at the
/// value's path. (Written here instead of `serde_path_to_error`, whose generic wrapper
/// layers cost 8 KB more gate wasm; the boxed [`WireError`] saves another 18 KB and
/// `deserialize_struct` reading objects only another 38 KB.)
struct De<'a>(&'a Value);

impl<'de> Deserializer<'de> for De<'de> {
    type Error = WireError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, WireError> {
        match self.0 {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    v.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    v.visit_i64(i)
                } else {
                    v.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => v.visit_borrowed_str(s),
            Value::Array(items) => v.visit_seq(SeqDe {
                items: items.iter(),
                index: 0,
            }),
            Value::Object(map) => v.visit_map(MapDe {
                members: map.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, WireError> {
        match self.0 {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    /// A struct is read from an object only: the derived struct-from-array readers are never
    /// instantiated (gate wasm size).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, WireError> {
        match self.0 {
            Value::Object(map) => v.visit_map(MapDe {
                members: map.iter(),
                value: None,
            }),
            other => Err(de::Error::invalid_type(unexpected(other), &v)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// What a value is, for serde's "invalid type" (the value itself is dropped by the mapper).
fn unexpected(v: &Value) -> de::Unexpected<'_> {
    match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => de::Unexpected::Unsigned(u),
            (None, Some(i)) => de::Unexpected::Signed(i),
            _ => de::Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

struct SeqDe<'a> {
    items: core::slice::Iter<'a, Value>,
    index: usize,
}

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = WireError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, WireError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        seed.deserialize(De(item))
            .map(Some)
            .map_err(|e| e.under(Seg::Index(i)))
    }
}

struct MapDe<'a> {
    members: serde_json::map::Iter<'a>,
    /// The member whose name was just read.
    value: Option<(&'a String, &'a Value)>,
}

impl<'de> MapAccess<'de> for MapDe<'de> {
    type Error = WireError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, WireError> {
        let Some((k, v)) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some((k, v));
        // An unknown member is refused while its name is read: the path names it.
        seed.deserialize(de::value::BorrowedStrDeserializer::<WireError>::new(k))
            .map(Some)
            .map_err(|e| e.under(Seg::Key(k.clone())))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, WireError> {
        let Some((k, v)) = self.value.take() else {
            return Err(de::Error::custom("value before its name"));
        };
        seed.deserialize(De(v))
            .map_err(|e| e.under(Seg::Key(k.clone())))
    }
}

macro_rules! expecting {
    ($what:expr) => {
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str($what)
        }
    };
}

/// A string (`expected string`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Str(pub String);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Str;
            expecting!("string");
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str, E> {
                Ok(Str(s.into()))
            }
        }
        d.deserialize_str(V)
    }
}

/// `true` or `false` (`expected boolean`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bool(pub bool);

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bool;
            expecting!("boolean");
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Bool, E> {
                Ok(Bool(b))
            }
        }
        d.deserialize_bool(V)
    }
}

/// A non-negative integer (`expected non-negative integer`); the bound is the reader's
/// ([`UInt::at_most`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UInt(pub u64);

impl UInt {
    /// The value, if at most `max` (`must be at most {max}`).
    pub(crate) fn at_most(self, path: &str, max: u64) -> CResult<u64> {
        if self.0 <= max {
            Ok(self.0)
        } else {
            Err(ConfigError::new(path, format!("must be at most {max}")))
        }
    }
}

impl<'de> Deserialize<'de> for UInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = UInt;
            expecting!("non-negative integer");
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<UInt, E> {
                Ok(UInt(n))
            }
        }
        d.deserialize_u64(V)
    }
}

/// Reads an array whose items must all be strings; `what` names the whole on failure.
fn string_items<'de, A: SeqAccess<'de>>(mut seq: A, what: &str) -> Result<Vec<String>, A::Error> {
    let mut out = Vec::new();
    while let Some(item) = seq.next_element::<Value>()? {
        match item {
            Value::String(s) => out.push(s),
            _ => return Err(de::Error::custom(format!("expected {what}"))),
        }
    }
    Ok(out)
}

/// An array of strings (a single string is not accepted: say what you mean).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StrList(pub Vec<String>);

impl<'de> Deserialize<'de> for StrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrList;
            expecting!("array of strings");
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<StrList, A::Error> {
                string_items(seq, "array of strings").map(StrList)
            }
        }
        d.deserialize_seq(V)
    }
}

/// A string or an array of strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StrOrList(pub Vec<String>);

impl<'de> Deserialize<'de> for StrOrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOrList;
            expecting!("string or array of strings");
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StrOrList, E> {
                Ok(StrOrList(alloc::vec![s.into()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<StrOrList, A::Error> {
                string_items(seq, "string or array of strings").map(StrOrList)
            }
        }
        d.deserialize_any(V)
    }
}

/// An array (`expected array`) of `T`, each read with its index in the path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct List<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            expecting!("array");
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<T>()? {
                    out.push(item);
                }
                Ok(List(out))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// An object used as a map (`rbac.roles`, `roleLimits`): every member name is the caller's.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Map<T>(pub BTreeMap<String, T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Map<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Map<T>;
            expecting!("object");
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Map<T>, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v = map.next_value::<T>()?;
                    out.insert(k, v);
                }
                Ok(Map(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// A string given inline or as `{"env": "NAME"}`, read from the host's environment when the
/// config is built ([`Secret::resolve`]). Never printed: `Debug` hides a literal.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Secret {
    Literal(String),
    Env(String),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Literal(_) => f.write_str("Secret::Literal(..)"),
            Secret::Env(name) => write!(f, "Secret::Env({name:?})"),
        }
    }
}

impl Secret {
    /// The value: the literal, or the variable from `env` (set and non-empty).
    pub(crate) fn resolve(&self, path: &str, env: &Env) -> CResult<String> {
        match self {
            Secret::Literal(s) => Ok(s.clone()),
            Secret::Env(name) => match env.get(name) {
                Some(value) if !value.is_empty() => Ok(value.clone()),
                Some(_) => Err(ConfigError::new(
                    path,
                    format!("environment variable {name} is empty"),
                )),
                None => Err(ConfigError::new(
                    path,
                    format!("environment variable {name} is not set"),
                )),
            },
        }
    }
}

/// Reads `{"env": "NAME"}` from a map: `env` is looked for first (a missing `env` is said
/// before an unknown member), then unknown members are refused.
fn env_ref<'de, A: MapAccess<'de>>(mut map: A) -> Result<String, A::Error> {
    let mut name: Option<Str> = None;
    let mut unknown: Option<String> = None;
    while let Some(k) = map.next_key::<String>()? {
        if k == "env" {
            name = Some(map.next_value::<Str>()?);
        } else {
            map.next_value::<IgnoredAny>()?;
            unknown.get_or_insert(k);
        }
    }
    let Some(Str(name)) = name else {
        return Err(de::Error::missing_field("env"));
    };
    if let Some(k) = unknown {
        return Err(de::Error::custom(format!("unknown member `{k}`")));
    }
    Ok(name)
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Secret;
            expecting!("string or {\"env\": name}");
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Secret, E> {
                Ok(Secret::Literal(s.into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Secret, A::Error> {
                env_ref(map).map(Secret::Env)
            }
        }
        d.deserialize_any(V)
    }
}

/// `enabled`: a boolean, or a string (`"true"`/`"false"`, inline or from the environment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Enabled {
    Bool(bool),
    Str(Secret),
}

impl<'de> Deserialize<'de> for Enabled {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Enabled;
            expecting!("string or {\"env\": name}");
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Enabled, E> {
                Ok(Enabled::Bool(b))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Enabled, E> {
                Ok(Enabled::Str(Secret::Literal(s.into())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Enabled, A::Error> {
                env_ref(map).map(|n| Enabled::Str(Secret::Env(n)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean or an object (`mtls`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BoolOr<T> {
    Bool(bool),
    Obj(T),
}

/// A string or an object (a rate limit's `key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StrOr<T> {
    Str(String),
    Obj(T),
}

/// What the two unions above say they expect.
pub(crate) trait Expecting {
    const EXPECTING: &'static str;
}

impl<'de, T: Deserialize<'de> + Expecting> Deserialize<'de> for BoolOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Expecting> Visitor<'de> for V<T> {
            type Value = BoolOr<T>;
            expecting!(T::EXPECTING);
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<BoolOr<T>, E> {
                Ok(BoolOr::Bool(b))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BoolOr<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(BoolOr::Obj)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<'de, T: Deserialize<'de> + Expecting> Deserialize<'de> for StrOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Expecting> Visitor<'de> for V<T> {
            type Value = StrOr<T>;
            expecting!(T::EXPECTING);
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StrOr<T>, E> {
                Ok(StrOr::Str(s.into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StrOr<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(StrOr::Obj)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// `identityHeaders.*`: absent (`None`: the default name), `null` (`Some(None)`: not sent) or
/// a name.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Str>>, D::Error> {
    Option::<Str>::deserialize(d).map(Some)
}

// ---- the config ----

/// The whole config document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "config"))]
pub(crate) struct RawConfig {
    /// The JSON Schema the document follows (ignored).
    #[serde(rename = "$schema")]
    #[allow(dead_code)] // accepted, never used
    pub schema: Option<Str>,
    /// `false` lets every request through as anonymous (local development only); the
    /// `AUTH_ENABLED` variable overrides it.
    #[serde(default)]
    #[cfg_attr(test, schemars(schema_with = "schema::enabled"))]
    pub enabled: Option<Enabled>,
    /// The `realm` of `WWW-Authenticate`.
    pub realm: Option<Str>,
    /// Where a credential is looked for, in order (default: `Authorization: Bearer`).
    #[cfg_attr(test, schemars(extend("minItems" = 1)))]
    pub token_sources: Option<List<RawTokenSource>>,
    /// Identity providers (a preset's fields may come from the environment).
    // Each entry is read as a `RawProvider` once the fields it leaves unset are filled from
    // the environment (`crate::gate::presets`).
    #[cfg_attr(test, schemars(with = "List<RawProvider>"))]
    pub providers: Option<List<Value>>,
    /// edgegate API keys (`egk_...`).
    pub api_keys: Option<RawApiKeys>,
    /// The `jti` revocation list.
    pub revocation: Option<RawRevocation>,
    /// Roles, their inheritance and permissions.
    pub rbac: Option<RawRbac>,
    /// Route rules, first match wins; a request that matches none is denied.
    pub routes: Option<List<RawRoute>>,
    /// Literal route segments match regardless of case.
    pub case_insensitive_paths: Option<Bool>,
    /// At most 64 policies.
    pub rate_limits: Option<List<RawRateLimit>>,
    /// Send RateLimit-Policy and RateLimit on limited routes (default true).
    pub rate_limit_headers: Option<Bool>,
    /// Names of the identity headers forwarded on allow (`null`: not sent).
    pub identity_headers: Option<RawIdentityHeaders>,
    /// CORS preflights, answered at the edge.
    pub cors: Option<RawCors>,
}

/// One `tokenSources[i]`: exactly one of `header`, `cookie`, `query`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object")]
pub(crate) struct RawTokenSource {
    pub header: Option<Str>,
    pub scheme: Option<Str>,
    pub cookie: Option<Str>,
    pub session: Option<Bool>,
    pub query: Option<Str>,
}

/// Accept edgegate API keys (`egk_...`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "apiKeys"))]
pub(crate) struct RawApiKeys {
    /// Default `true` once `apiKeys` is given.
    pub enabled: Option<Bool>,
}

/// Check `jti` against the revocation list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "revocation"))]
pub(crate) struct RawRevocation {
    /// Default `true` once `revocation` is given.
    pub enabled: Option<Bool>,
    /// Where a Worker host keeps revoked ids.
    #[cfg_attr(test, schemars(extend("enum" = ["kv", "durable-object"])))]
    pub store: Option<Str>,
}

/// Roles, their inheritance and permissions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "rbac"))]
pub(crate) struct RawRbac {
    pub roles: Option<Map<RawRole>>,
    /// Roles that pass every role and permission check.
    pub super_admins: Option<StrList>,
}

/// One role: the roles it inherits and the permissions it grants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "role"))]
pub(crate) struct RawRole {
    pub inherits: Option<StrList>,
    pub permissions: Option<StrList>,
}

/// Names of the identity headers forwarded on allow (`null`: not sent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "identityHeaders"))]
pub(crate) struct RawIdentityHeaders {
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(test, schemars(schema_with = "schema::nullable_string"))]
    pub user_id: Option<Option<Str>>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(test, schemars(schema_with = "schema::nullable_string"))]
    pub roles: Option<Option<Str>>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(test, schemars(schema_with = "schema::nullable_string"))]
    pub permissions: Option<Option<Str>>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(test, schemars(schema_with = "schema::nullable_string"))]
    pub provider: Option<Option<Str>>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(test, schemars(schema_with = "schema::nullable_string"))]
    pub org: Option<Option<Str>>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(test, schemars(schema_with = "schema::nullable_string"))]
    pub claims: Option<Option<Str>>,
}

/// CORS preflights, answered at the edge.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "cors"))]
pub(crate) struct RawCors {
    /// Answer CORS preflights at the edge (never forwarded).
    pub preflight: Option<Bool>,
    /// Exact serialized origins, http(s)://host[:port] in lowercase (empty: any, answered with `*`).
    pub origins: Option<StrList>,
    /// Access-Control-Allow-Methods (HTTP tokens).
    pub methods: Option<StrList>,
    /// Access-Control-Allow-Headers (HTTP tokens).
    pub headers: Option<StrList>,
    pub echo_headers: Option<Bool>,
    #[cfg_attr(test, schemars(extend("maximum" = 86400)))]
    pub max_age: Option<UInt>,
    /// Needs a non-empty `origins`.
    pub credentials: Option<Bool>,
}

/// `{"claim": "org_id", "equals": "acme"}` and friends: exactly one of `equals`, `in`,
/// `equalsParam`, `exists`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
pub(crate) struct RawClaimCondition {
    pub claim: Str,
    pub equals: Option<Value>,
    #[serde(rename = "in")]
    pub in_: Option<Value>,
    pub equals_param: Option<Str>,
    pub exists: Option<Bool>,
}

/// A route rule (first match wins).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "route"))]
pub(crate) struct RawRoute {
    pub name: Option<Str>,
    #[cfg_attr(test, schemars(extend("pattern" = "^/")))]
    pub path: Str,
    pub methods: Option<StrList>,
    pub public: Option<Bool>,
    /// Credentials optional (Envoy jwt_authn `allow_missing`): a request with none passes
    /// as anonymous; one that carries a credential must pass every check.
    pub optional: Option<Bool>,
    pub providers: Option<StrList>,
    pub roles: Option<StrList>,
    #[cfg_attr(test, schemars(extend("enum" = ["any", "all"])))]
    pub roles_mode: Option<Str>,
    pub permissions: Option<StrList>,
    pub claims: Option<List<RawClaimCondition>>,
    pub mtls: Option<BoolOr<RawMtls>>,
    pub shadow: Option<Bool>,
    /// Names of `rateLimits` policies that apply (all of them).
    pub rate_limits: Option<StrList>,
}

/// A client certificate is required, with one of these SHA-256 fingerprints when given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "mtls"))]
pub(crate) struct RawMtls {
    pub fingerprints: Option<StrList>,
}

impl Expecting for RawMtls {
    const EXPECTING: &'static str = "boolean or {\"fingerprints\": [...]}";
}

/// A rate-limit policy; routes name it in `rateLimits`.
// `limit`, `window` and `cost` keep their JSON value: the policy reader says what is wrong
// with them in its own words.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "rateLimit", extend("required" = ["name", "limit", "window", "key"])))]
pub(crate) struct RawRateLimit {
    /// 1..64 printable ASCII characters, unique.
    #[cfg_attr(test, schemars(extend("minLength" = 1)))]
    pub name: Str,
    #[cfg_attr(test, schemars(extend("enum" = ["gcra", "sliding-window", "fixed-window"])))]
    pub algorithm: Option<Str>,
    #[serde(default)]
    #[cfg_attr(test, schemars(schema_with = "schema::limit"))]
    pub limit: Option<Value>,
    #[serde(default)]
    #[cfg_attr(test, schemars(schema_with = "schema::window"))]
    pub window: Option<Value>,
    #[serde(default)]
    #[cfg_attr(test, schemars(schema_with = "schema::cost"))]
    pub cost: Option<Value>,
    #[serde(default)]
    #[cfg_attr(test, schemars(schema_with = "schema::rate_limit_key"))]
    pub key: Option<StrOr<RawRateLimitKey>>,
    #[serde(default)]
    #[cfg_attr(test, schemars(schema_with = "schema::role_limits"))]
    pub role_limits: Option<Map<Value>>,
    pub skip_roles: Option<StrList>,
    #[cfg_attr(test, schemars(extend("enum" = ["memory", "redis", "kv", "durable-object"])))]
    pub store: Option<Str>,
    #[cfg_attr(test, schemars(extend("enum" = ["local", "allow", "deny"])))]
    pub on_store_error: Option<Str>,
    #[cfg_attr(test, schemars(extend("minimum" = 1, "maximum" = 10000)))]
    pub timeout_ms: Option<UInt>,
}

/// A rate limit's `key` as an object: exactly one of `claim`, `header`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object")]
pub(crate) struct RawRateLimitKey {
    pub claim: Option<Str>,
    pub header: Option<Str>,
}

impl Expecting for RawRateLimitKey {
    const EXPECTING: &'static str = "string or object";
}

/// RFC 7662 token introspection for opaque tokens (`oauth2`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "introspection"))]
pub(crate) struct RawIntrospection {
    pub url: Secret,
    pub client_id: Secret,
    pub client_secret: Secret,
    #[cfg_attr(test, schemars(extend("maximum" = 3600)))]
    pub cache_ttl: Option<UInt>,
}

/// An identity provider: one of the presets, chosen by `type`.
// The fields of every preset. Which preset fields an entry may set is the preset table's
// (`crate::gate::presets::PRESETS`): `RawProvider::preset_fields` lists the ones set, and the
// provider reader refuses those its preset does not have (`unknown field`). The schema has
// one definition per preset, built from this type and that table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "object", rename_all = "camelCase")]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "provider"))]
pub(crate) struct RawProvider {
    /// The preset (or one of its aliases).
    #[serde(rename = "type")]
    pub kind: Str,
    // Common fields (every preset).
    /// Unique provider name (default: the canonical type).
    pub name: Option<Str>,
    /// Expected `iss`; tokens are routed to the provider by it.
    pub issuer: Option<Secret>,
    /// Accepted `aud` values.
    pub audience: Option<StrOrList>,
    /// JWKS URL override (https).
    pub jwks_url: Option<Secret>,
    #[serde(default)]
    #[cfg_attr(test, schemars(schema_with = "schema::algorithms"))]
    pub algorithms: Option<StrList>,
    #[cfg_attr(test, schemars(extend("maximum" = 300)))]
    pub clock_tolerance: Option<UInt>,
    pub roles_claim: Option<StrOrList>,
    pub permissions_claim: Option<StrOrList>,
    pub org_claim: Option<Str>,
    pub required_claims: Option<StrList>,
    pub claims: Option<List<RawClaimCondition>>,
    // Preset fields.
    pub domain: Option<Secret>,
    pub client_id: Option<Secret>,
    pub claims_namespace: Option<Str>,
    pub jwt_key: Option<Secret>,
    pub allowed_origins: Option<StrList>,
    pub project_id: Option<Secret>,
    pub url: Option<Secret>,
    pub jwt_secret: Option<Secret>,
    pub user_pool_id: Option<Secret>,
    pub region: Option<Secret>,
    #[cfg_attr(test, schemars(extend("enum" = ["access", "id"])))]
    pub token_use: Option<Str>,
    pub server_url: Option<Secret>,
    pub realm: Option<Secret>,
    pub base_url: Option<Secret>,
    pub introspection: Option<RawIntrospection>,
    pub secret: Option<Secret>,
    pub public_key: Option<Secret>,
    #[serde(default)]
    #[cfg_attr(test, schemars(schema_with = "schema::object"))]
    pub jwks: Option<Value>,
}

/// The fields every provider entry may set (besides `type`): the schema's list; the reader
/// checks the preset fields ([`RawProvider::preset_fields`]).
#[cfg(test)]
pub(crate) const COMMON_PROVIDER_FIELDS: &[&str] = &[
    "name",
    "issuer",
    "audience",
    "jwksUrl",
    "algorithms",
    "clockTolerance",
    "rolesClaim",
    "permissionsClaim",
    "orgClaim",
    "requiredClaims",
    "claims",
];

impl RawProvider {
    /// The preset fields (not common ones) the entry sets, by their config names.
    pub(crate) fn preset_fields(&self) -> Vec<&'static str> {
        let set = [
            ("domain", self.domain.is_some()),
            ("clientId", self.client_id.is_some()),
            ("claimsNamespace", self.claims_namespace.is_some()),
            ("jwtKey", self.jwt_key.is_some()),
            ("allowedOrigins", self.allowed_origins.is_some()),
            ("projectId", self.project_id.is_some()),
            ("url", self.url.is_some()),
            ("jwtSecret", self.jwt_secret.is_some()),
            ("userPoolId", self.user_pool_id.is_some()),
            ("region", self.region.is_some()),
            ("tokenUse", self.token_use.is_some()),
            ("serverUrl", self.server_url.is_some()),
            ("realm", self.realm.is_some()),
            ("baseUrl", self.base_url.is_some()),
            ("introspection", self.introspection.is_some()),
            ("secret", self.secret.is_some()),
            ("publicKey", self.public_key.is_some()),
            ("jwks", self.jwks.is_some()),
        ];
        set.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect()
    }
}

// ---- stored records (what hosts keep in their stores; read strictly, unknown members ignored) ----

/// A whole number that fits `i64` (`1e9`, `1.5` and `"1"` are refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            expecting!("integer");
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Int, E> {
                Ok(Int(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Int, E> {
                i64::try_from(n)
                    .map(Int)
                    .map_err(|_| de::Error::custom("integer out of range"))
            }
        }
        d.deserialize_i64(V)
    }
}

/// A member that may be absent but, when present, must not be `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A stored API key: `{"id", "account", "name", "hash" (hex SHA-256), "roles",
/// "permissions", "createdAt", "expiresAt", "revoked"}` (`crate::gate::ApiKeyRecord`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawApiKeyRecord {
    pub id: Str,
    pub account: Str,
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Str>,
    pub hash: Str,
    pub roles: Option<StrList>,
    pub permissions: Option<StrList>,
    #[serde(default, deserialize_with = "present")]
    pub created_at: Option<Int>,
    pub expires_at: Int,
    pub revoked: Bool,
}

/// A stored session: `{hash, userId, roles, permissions, org, expiresAt, revoked}`
/// (`crate::gate::SessionRecord`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawSessionRecord {
    pub hash: Str,
    pub user_id: Str,
    pub roles: Option<StrList>,
    pub permissions: Option<StrList>,
    pub org: Option<Str>,
    pub expires_at: Int,
    pub revoked: Option<Bool>,
}

/// A stored rate-limit state: `{"gcra":{"tat":N}}` or
/// `{"window":{"window":N,"count":N,"prev":N}}` (`crate::gate::encode_rate_limit_state`);
/// nothing else, no other member.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRateLimitState {
    #[serde(default, deserialize_with = "present")]
    pub gcra: Option<RawGcraState>,
    #[serde(default, deserialize_with = "present")]
    pub window: Option<RawWindowState>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGcraState {
    pub tat: UInt,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindowState {
    pub window: UInt,
    pub count: UInt,
    pub prev: UInt,
}

/// The JSON Schema of the config, generated from the types above (`schemars`, tests only).
/// Leaf types with a house wording get their schema here; unions that serde reads by hand
/// (`tokenSources[i]`, claim conditions) say their alternatives here, next to the reader.
#[cfg(test)]
mod schema {
    use super::*;
    use alloc::borrow::Cow;
    use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

    pub(crate) fn nullable_string(_: &mut SchemaGenerator) -> Schema {
        // `oneOf`, which `without_option_null` leaves alone: here `null` means "not sent".
        json_schema!({"oneOf": [{"type": "string"}, {"type": "null"}]})
    }
    pub(crate) fn enabled(g: &mut SchemaGenerator) -> Schema {
        json_schema!({"oneOf": [{"type": "boolean"}, g.subschema_for::<Secret>()]})
    }
    pub(crate) fn object(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "object"})
    }
    const MAX_LIMIT: u64 = crate::ratelimit::MAX_LIMIT;
    pub(crate) fn limit(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})
    }
    pub(crate) fn cost(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 1})
    }
    pub(crate) fn role_limits(g: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "object", "additionalProperties": limit(g)})
    }
    pub(crate) fn window(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"oneOf": [
            {"type": "integer", "minimum": 1},
            {"type": "string", "minLength": 2, "description": "<n>ms, <n>s, <n>m, <n>h or <n>d."}
        ]})
    }
    pub(crate) fn rate_limit_key(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"oneOf": [
            {"enum": ["sub", "apiKey", "org", "ip"]},
            {"type": "object", "properties": {"claim": {"type": "string", "minLength": 1}},
             "required": ["claim"], "additionalProperties": false},
            {"type": "object", "properties": {"header": {"type": "string", "minLength": 1}},
             "required": ["header"], "additionalProperties": false}
        ]})
    }
    pub(crate) fn algorithms(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = crate::jose::alg::Algorithm::ALL
            .iter()
            .map(|a| a.name())
            .collect();
        json_schema!({"type": "array", "items": {"enum": names}, "minItems": 1})
    }

    macro_rules! leaf {
        ($t:ty, $name:literal, $schema:tt) => {
            impl JsonSchema for $t {
                fn inline_schema() -> bool {
                    true
                }
                fn schema_name() -> Cow<'static, str> {
                    Cow::Borrowed($name)
                }
                fn json_schema(_: &mut SchemaGenerator) -> Schema {
                    json_schema!($schema)
                }
            }
        };
    }
    leaf!(Str, "string", {"type": "string"});
    leaf!(Bool, "boolean", {"type": "boolean"});
    leaf!(UInt, "uint", {"type": "integer", "minimum": 0});
    leaf!(StrList, "strings", {"type": "array", "items": {"type": "string"}});

    impl JsonSchema for StrOrList {
        fn schema_name() -> Cow<'static, str> {
            Cow::Borrowed("stringOrList")
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
        }
    }

    impl JsonSchema for Secret {
        fn schema_name() -> Cow<'static, str> {
            Cow::Borrowed("stringOrEnv")
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A literal string, or {\"env\": \"NAME\"} read from the host's environment.",
                "oneOf": [
                    {"type": "string"},
                    {"type": "object", "properties": {"env": {"type": "string", "minLength": 1}},
                     "required": ["env"], "additionalProperties": false}
                ]
            })
        }
    }

    impl<T: JsonSchema> JsonSchema for List<T> {
        fn inline_schema() -> bool {
            true
        }
        fn schema_name() -> Cow<'static, str> {
            Cow::Owned(format!("list-{}", T::schema_name()))
        }
        fn json_schema(g: &mut SchemaGenerator) -> Schema {
            json_schema!({"type": "array", "items": g.subschema_for::<T>()})
        }
    }

    impl<T: JsonSchema> JsonSchema for Map<T> {
        fn inline_schema() -> bool {
            true
        }
        fn schema_name() -> Cow<'static, str> {
            Cow::Owned(format!("map-{}", T::schema_name()))
        }
        fn json_schema(g: &mut SchemaGenerator) -> Schema {
            json_schema!({"type": "object", "additionalProperties": g.subschema_for::<T>()})
        }
    }

    impl<T: JsonSchema> JsonSchema for BoolOr<T> {
        fn inline_schema() -> bool {
            true
        }
        fn schema_name() -> Cow<'static, str> {
            Cow::Owned(format!("boolOr-{}", T::schema_name()))
        }
        fn json_schema(g: &mut SchemaGenerator) -> Schema {
            json_schema!({"oneOf": [{"type": "boolean"}, g.subschema_for::<T>()]})
        }
    }

    impl JsonSchema for RawTokenSource {
        fn schema_name() -> Cow<'static, str> {
            Cow::Borrowed("tokenSource")
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            let one = |kind: &str, extra: Option<(&str, &str)>| {
                let mut props = serde_json::Map::new();
                props.insert(
                    kind.into(),
                    serde_json::json!({"type": "string", "minLength": 1}),
                );
                if let Some((name, ty)) = extra {
                    props.insert(name.into(), serde_json::json!({"type": ty}));
                }
                serde_json::json!({"type": "object", "properties": props,
                    "required": [kind], "additionalProperties": false})
            };
            json_schema!({"oneOf": [
                one("header", Some(("scheme", "string"))),
                one("cookie", Some(("session", "boolean"))),
                one("query", None)
            ]})
        }
    }

    impl JsonSchema for RawClaimCondition {
        fn schema_name() -> Cow<'static, str> {
            Cow::Borrowed("claimCondition")
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            let one = |test: &str, schema: Value| {
                serde_json::json!({"type": "object",
                    "properties": {"claim": {"type": "string"}, test: schema},
                    "required": ["claim", test], "additionalProperties": false})
            };
            json_schema!({"oneOf": [
                one("equals", serde_json::json!({})),
                one("in", serde_json::json!({"type": "array", "minItems": 1})),
                one("equalsParam", serde_json::json!({"type": "string"})),
                one("exists", serde_json::json!({"const": true}))
            ]})
        }
    }
    /// The schema document: the derived schema of [`RawConfig`], with one definition per
    /// provider preset (the [`RawProvider`] fields its preset has, from
    /// `crate::gate::presets::PRESETS`).
    pub(crate) fn generate() -> Value {
        let settings = schemars::generate::SchemaSettings::draft2020_12();
        let root = settings
            .into_generator()
            .into_root_schema_for::<RawConfig>();
        let mut doc = root.to_value();
        without_option_null(&mut doc);
        let Value::Object(top) = &mut doc else {
            panic!("schema is an object")
        };
        top.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        top.insert(
            "$id".into(),
            "https://example.invalid/edgegate/config.schema.json".into(),
        );
        top.insert("title".into(), "edgegate gate configuration".into());
        top.remove("description");
        let defs = top
            .get_mut("$defs")
            .and_then(Value::as_object_mut)
            .expect("$defs");
        let provider = defs.remove("provider").expect("provider schema");
        let props = provider["properties"]
            .as_object()
            .expect("properties")
            .clone();
        let mut one_of = Vec::new();
        for p in crate::gate::presets::PRESETS {
            let canonical = p.kind.name();
            let mut types = alloc::vec![Value::from(canonical)];
            types.extend(p.aliases.iter().map(|a| Value::from(*a)));
            let mut mine = serde_json::Map::new();
            let mut ty = props["type"].clone();
            ty["enum"] = Value::Array(types);
            ty.as_object_mut().expect("type").remove("type");
            mine.insert("type".into(), ty);
            for name in COMMON_PROVIDER_FIELDS
                .iter()
                .chain(p.fields.iter().map(|f| &f.name))
            {
                let schema = props
                    .get(*name)
                    .unwrap_or_else(|| panic!("no field {name}"));
                mine.insert((*name).into(), schema.clone());
            }
            let needs: Vec<&str> = p
                .fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name)
                .collect();
            let description = if needs.is_empty() {
                format!("{canonical} provider")
            } else {
                format!(
                    "needs {} (in the entry or from the environment)",
                    needs.join(", ")
                )
            };
            let name = format!("provider-{canonical}");
            one_of.push(serde_json::json!({"$ref": format!("#/$defs/{name}")}));
            defs.insert(
                name,
                serde_json::json!({
                    "type": "object",
                    "title": format!("{canonical} provider"),
                    "description": description,
                    "properties": mine,
                    "required": ["type"],
                    "additionalProperties": false,
                }),
            );
        }
        defs.insert(
            "provider".into(),
            serde_json::json!({"description": provider["description"], "oneOf": one_of}),
        );
        doc
    }

    /// `Option<T>` is "may be absent" (and `null` reads as absent): the schema says `T` and
    /// leaves the field out of `required`, as the docs do, instead of schemars' `T | null`.
    fn without_option_null(v: &mut Value) {
        match v {
            Value::Object(m) => {
                // `#[serde(default)]` on an `Option`: schemars says `"default": null`.
                if m.get("default").is_some_and(Value::is_null) {
                    m.remove("default");
                }
                if let Some(Value::Array(types)) = m.get_mut("type") {
                    types.retain(|t| t != "null");
                    if types.len() == 1 {
                        let t = types.remove(0);
                        m.insert("type".into(), t);
                    }
                }
                if let Some(Value::Array(alts)) = m.get("anyOf") {
                    let not_null: Vec<Value> = alts
                        .iter()
                        .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                        .cloned()
                        .collect();
                    if let [only] = not_null.as_slice() {
                        let only = only.as_object().expect("schema").clone();
                        m.remove("anyOf");
                        for (k, x) in only {
                            m.entry(k).or_insert(x);
                        }
                    }
                }
                m.values_mut().for_each(without_option_null);
            }
            Value::Array(xs) => xs.iter_mut().for_each(without_option_null),
            _ => {}
        }
    }

    #[test]
    fn config_schema_is_generated_from_the_types() {
        extern crate std;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/config.schema.json");
        let mut text = serde_json::to_string_pretty(&generate()).expect("json");
        text.push('\n');
        if std::env::var_os("EDGEGATE_BLESS").is_some() {
            std::fs::write(path, &text).expect("write the schema");
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == text,
            "schema/config.schema.json differs from the one generated from src/gate/wire.rs: \
             run EDGEGATE_BLESS=1 cargo test --lib config_schema_is_generated_from_the_types"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: DeserializeOwned + fmt::Debug>(json: &str) -> String {
        let v: Value = serde_json::from_str(json).unwrap();
        read::<T>("p", &v).unwrap_err().to_string()
    }

    #[test]
    fn serde_errors_in_the_house_wording() {
        assert_eq!(
            err::<RawRoute>(r#"{"path": "/", "x": 1}"#),
            "p.x: unknown field"
        );
        assert_eq!(err::<RawRoute>(r#"{}"#), "p.path: missing required field");
        assert_eq!(err::<RawRoute>(r#"3"#), "p: expected object");
        assert_eq!(
            err::<RawRoute>(r#"{"path": "/", "roles": "admin"}"#),
            "p.roles: expected array of strings"
        );
        assert_eq!(
            err::<RawRoute>(r#"{"path": "/", "roles": ["a", 1]}"#),
            "p.roles: expected array of strings"
        );
        assert_eq!(
            err::<RawRoute>(r#"{"path": "/", "claims": [{"claim": "a"}, {"claim": 1}]}"#),
            "p.claims[1].claim: expected string"
        );
        assert_eq!(
            err::<RawRoute>(r#"{"path": "/", "mtls": {"x": 1}}"#),
            "p.mtls.x: unknown field"
        );
        assert_eq!(
            err::<RawRoute>(r#"{"path": "/", "mtls": "on"}"#),
            "p.mtls: expected boolean or {\"fingerprints\": [...]}"
        );
        assert_eq!(
            err::<RawRbac>(r#"{"roles": {"a": {"inherits": "b"}}}"#),
            "p.roles.a.inherits: expected array of strings"
        );
        assert_eq!(
            err::<RawCors>(r#"{"maxAge": -1}"#),
            "p.maxAge: expected non-negative integer"
        );
        assert_eq!(
            err::<RawProvider>(r#"{"type": "jwt", "secret": {"vault": "x"}}"#),
            "p.secret.env: missing required field"
        );
        assert_eq!(
            err::<RawProvider>(r#"{"type": "jwt", "secret": {"env": "X", "y": 1}}"#),
            "p.secret.y: unknown field"
        );
        assert_eq!(
            err::<RawProvider>(r#"{"type": "jwt", "secret": 3}"#),
            "p.secret: expected string or {\"env\": name}"
        );
        // The bad value is never echoed (it may be a secret).
        let e = err::<RawProvider>(r#"{"type": "jwt", "issuer": ["s3cr3t"]}"#);
        assert!(!e.contains("s3cr3t"), "{e}");
        let e = err::<RawConfig>(
            r#"{"realm": "x", "tokenSources": [{"header": "A"}, {"cookie": "s3cr3t", "session": "yes"}]}"#,
        );
        assert_eq!(e, "p.tokenSources[1].session: expected boolean");
        // `null` is absent.
        let v: Value = serde_json::from_str(r#"{"path": "/", "roles": null}"#).unwrap();
        assert!(read::<RawRoute>("p", &v).unwrap().roles.is_none());
    }
}
