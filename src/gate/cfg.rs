//! The config-reading toolkit (leaf of every config type): field paths, typed getters over
//! `serde_json::Value`, `{"env": NAME}` secrets, and `ConfigError` (AUTH-015 with the path).

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

use crate::error::ErrorCode;

/// The host's environment variables (`process.env`, Worker `env` vars and secrets).
pub type Env = BTreeMap<String, String>;

/// A configuration that could not be accepted: the path of the bad field and why.
/// Never carries a secret value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Path of the bad field, e.g. `routes[3].roles` (empty for the document itself).
    pub path: String,
    /// What is wrong, lowercase, e.g. `expected array of strings`.
    pub message: String,
}

impl ConfigError {
    /// A new error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Always AUTH-015.
    pub const fn code(&self) -> ErrorCode {
        ErrorCode::ConfigError
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "config: {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ConfigError {}

pub(crate) type CResult<T> = Result<T, ConfigError>;

/// Joins a parent path and a member name.
pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Reads one JSON object, remembering which members were read, so that `finish` can
/// refuse the unknown ones.
pub(crate) struct Obj<'a> {
    pub(crate) path: String,
    map: &'a Map<String, Value>,
    seen: Vec<&'a str>,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(path: impl Into<String>, value: &'a Value) -> CResult<Obj<'a>> {
        let path = path.into();
        match value {
            Value::Object(map) => Ok(Obj {
                path,
                map,
                seen: Vec::new(),
            }),
            _ => Err(ConfigError::new(path, "expected object")),
        }
    }

    pub(crate) fn at(&self, name: &str) -> String {
        join(&self.path, name)
    }

    /// The member, if present (`null` counts as absent).
    pub(crate) fn get(&mut self, name: &str) -> Option<&'a Value> {
        let (key, value) = self.map.get_key_value(name)?;
        self.seen.push(key.as_str());
        if value.is_null() {
            None
        } else {
            Some(value)
        }
    }

    /// The member is present, even as `null`.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|v| !v.is_null())
    }

    pub(crate) fn opt_str(&mut self, name: &str) -> CResult<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ConfigError::new(self.at(name), "expected string")),
        }
    }

    pub(crate) fn str(&mut self, name: &str) -> CResult<String> {
        self.opt_str(name)?
            .ok_or_else(|| ConfigError::new(self.at(name), "missing required field"))
    }

    pub(crate) fn opt_bool(&mut self, name: &str) -> CResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ConfigError::new(self.at(name), "expected boolean")),
        }
    }

    pub(crate) fn opt_u64(&mut self, name: &str, max: u64) -> CResult<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n <= max => Ok(Some(n)),
                Some(_) => Err(ConfigError::new(
                    self.at(name),
                    format!("must be at most {max}"),
                )),
                None => Err(ConfigError::new(
                    self.at(name),
                    "expected non-negative integer",
                )),
            },
        }
    }

    /// An array of strings (a single string is not accepted: say what you mean).
    pub(crate) fn opt_str_list(&mut self, name: &str) -> CResult<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => str_list(&self.at(name), v).map(Some),
        }
    }

    /// A string or an array of strings.
    pub(crate) fn opt_str_or_list(&mut self, name: &str) -> CResult<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(alloc::vec![s.clone()])),
            Some(v) => str_list(&self.at(name), v).map(Some).map_err(|_| {
                ConfigError::new(self.at(name), "expected string or array of strings")
            }),
        }
    }

    /// A string given inline or as `{"env": "NAME"}` read from `env`.
    pub(crate) fn opt_secret(&mut self, name: &str, env: &Env) -> CResult<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => resolve_env_string(&self.at(name), v, env).map(Some),
        }
    }

    pub(crate) fn secret(&mut self, name: &str, env: &Env) -> CResult<String> {
        self.opt_secret(name, env)?
            .ok_or_else(|| ConfigError::new(self.at(name), "missing required field"))
    }

    pub(crate) fn opt_obj(&mut self, name: &str) -> CResult<Option<Obj<'a>>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => Obj::new(self.at(name), v).map(Some),
        }
    }

    /// The members of an array, each with its path (`routes[3]`).
    pub(crate) fn opt_array(&mut self, name: &str) -> CResult<Option<Vec<(String, &'a Value)>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                let base = self.at(name);
                Ok(Some(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (format!("{base}[{i}]"), v))
                        .collect(),
                ))
            }
            Some(_) => Err(ConfigError::new(self.at(name), "expected array")),
        }
    }

    /// Every member (for maps such as `rbac.roles`); all count as read.
    pub(crate) fn entries(&mut self) -> Vec<(&'a String, &'a Value)> {
        let map = self.map;
        for k in map.keys() {
            self.seen.push(k.as_str());
        }
        map.iter().collect()
    }

    /// Refuses members that were never read.
    pub(crate) fn finish(self) -> CResult<()> {
        for key in self.map.keys() {
            if !self.seen.contains(&key.as_str()) {
                return Err(ConfigError::new(join(&self.path, key), "unknown field"));
            }
        }
        Ok(())
    }
}

pub(crate) fn str_list(path: &str, v: &Value) -> CResult<Vec<String>> {
    let err = || ConfigError::new(path, "expected array of strings");
    let items = v.as_array().ok_or_else(err)?;
    items
        .iter()
        .map(|i| i.as_str().map(ToString::to_string).ok_or_else(err))
        .collect()
}

/// `"literal"` or `{"env": "NAME"}`.
pub(crate) fn resolve_env_string(path: &str, v: &Value, env: &Env) -> CResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(_) => {
            let mut o = Obj::new(path, v)?;
            let name = o.str("env")?;
            o.finish()?;
            match env.get(&name) {
                Some(value) if !value.is_empty() => Ok(value.clone()),
                Some(_) => Err(ConfigError::new(
                    path,
                    format!("environment variable {name} is empty"),
                )),
                None => Err(ConfigError::new(
                    path,
                    format!("environment variable {name} is not set"),
                )),
            }
        }
        _ => Err(ConfigError::new(path, "expected string or {\"env\": name}")),
    }
}

/// An RFC 9110 token (header names, methods, cookie names).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
