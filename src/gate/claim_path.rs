//! Claim paths (leaf of `providers` and `route`): where a value sits in a claims set,
//! parsed once at config time and looked up per request.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// Where a value sits in the claims. [`ClaimPath::parse`] gives a path that first tries
/// the whole string as a top-level claim name (Auth0's `https://example.com/roles`), then
/// as a `.`-separated path (`realm_access.roles`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimPath {
    /// Exactly these nested member names.
    Exact(Vec<String>),
    /// A top-level name, or else a dotted path.
    Flexible(String),
}

impl ClaimPath {
    /// A path as written in the config.
    pub fn parse(s: &str) -> ClaimPath {
        ClaimPath::Flexible(s.into())
    }

    pub(crate) fn exact(segs: &[&str]) -> ClaimPath {
        ClaimPath::Exact(segs.iter().map(|s| s.to_string()).collect())
    }

    /// Looks the value up.
    pub fn lookup<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        match self {
            ClaimPath::Exact(segs) => walk(claims, segs.iter().map(String::as_str)),
            ClaimPath::Flexible(s) => claims
                .get(s.as_str())
                .or_else(|| walk(claims, s.split('.'))),
        }
    }
}

fn walk<'a, 'b>(
    claims: &'a Map<String, Value>,
    mut segs: impl Iterator<Item = &'b str>,
) -> Option<&'a Value> {
    let first = segs.next()?;
    let mut v = claims.get(first)?;
    for s in segs {
        v = v.as_object()?.get(s)?;
    }
    Some(v)
}

/// Strings at a claim: an array's string members, or a string split on whitespace
/// (`scope`); anything else gives none.
pub fn strings_at(claims: &Map<String, Value>, path: &ClaimPath) -> Vec<String> {
    match path.lookup(claims) {
        Some(Value::String(s)) => s.split_whitespace().map(ToString::to_string).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str())
            .map(ToString::to_string)
            .collect(),
        _ => Vec::new(),
    }
}
