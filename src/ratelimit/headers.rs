//! The IETF rate-limit header fields (draft-ietf-httpapi-ratelimit-headers), as pure
//! functions over [`Outcome`]s.
//!
//! Both fields are Structured Fields lists (RFC 9651) with one member per policy. The member
//! is the policy name as an sf-string; the parameters are sf-integers:
//!
//! - `RateLimit-Policy: "per-user";q=100;w=60` (`q` the quota, `w` the window in seconds),
//! - `RateLimit: "per-user";r=99;t=60` (`r` the remaining quota, `t` seconds until the
//!   quota is full again).
//!
//! Names are checked by [`super::Policy::new`] (printable ASCII); here `"` and `\` are
//! escaped, and any other character outside printable ASCII (not reachable through a
//! `Policy`) becomes `?`, so the output is always a valid list. Integers are capped at the
//! sf-integer maximum, [`super::MAX_LIMIT`].

use alloc::string::String;
use core::fmt::Write;

use super::{Outcome, MAX_LIMIT};

/// Appends `name` as an sf-string.
fn push_sf_string(out: &mut String, name: &str) {
    out.push('"');
    for ch in name.chars() {
        match ch {
            '"' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            ' '..='~' => out.push(ch),
            _ => out.push('?'),
        }
    }
    out.push('"');
}

fn push_member(out: &mut String, name: &str, params: [(&str, u64); 2]) {
    if !out.is_empty() {
        out.push_str(", ");
    }
    push_sf_string(out, name);
    for (key, value) in params {
        // Writing to a String cannot fail.
        let _ = write!(out, ";{key}={}", value.min(MAX_LIMIT));
    }
}

/// The `RateLimit-Policy` field value for these outcomes (one member each, in order).
/// Empty for no outcomes: the host then sends no field.
pub fn rate_limit_policy(outcomes: &[Outcome<'_>]) -> String {
    let mut out = String::new();
    for o in outcomes {
        push_member(&mut out, o.policy, [("q", o.limit), ("w", o.window)]);
    }
    out
}

/// The `RateLimit` field value for these outcomes (one member each, in order).
/// Empty for no outcomes: the host then sends no field.
pub fn rate_limit(outcomes: &[Outcome<'_>]) -> String {
    let mut out = String::new();
    for o in outcomes {
        push_member(&mut out, o.policy, [("r", o.remaining), ("t", o.reset)]);
    }
    out
}

/// The `Retry-After` value (integer seconds) for a set of outcomes: the longest wait among
/// the denied ones, `None` when none is denied.
pub fn retry_after(outcomes: &[Outcome<'_>]) -> Option<u64> {
    outcomes
        .iter()
        .filter(|o| !o.allowed)
        .map(|o| o.retry_after.max(1))
        .max()
}

#[cfg(test)]
mod tests {
    use super::super::{check, Algorithm, Policy};
    use super::*;

    #[test]
    fn fields_for_two_policies() {
        let a = Policy::new("per-user", Algorithm::FixedWindow, 100, 60_000).unwrap();
        let b = Policy::new("say \"hi\\\"", Algorithm::Gcra, 1, 1_500).unwrap();
        let (oa, _) = check(&a, None, 0, 1);
        let (ob, s) = check(&b, None, 0, 1);
        let (ob2, _) = check(&b, Some(s), 0, 1);
        assert_eq!(rate_limit_policy(&[oa]), "\"per-user\";q=100;w=60");
        assert_eq!(rate_limit(&[oa]), "\"per-user\";r=99;t=60");
        assert_eq!(
            rate_limit_policy(&[oa, ob]),
            "\"per-user\";q=100;w=60, \"say \\\"hi\\\\\\\"\";q=1;w=2"
        );
        assert_eq!(
            rate_limit(&[oa, ob2]),
            "\"per-user\";r=99;t=60, \"say \\\"hi\\\\\\\"\";r=0;t=2"
        );
        assert_eq!(retry_after(&[oa, ob2]), Some(2));
        assert_eq!(retry_after(&[oa]), None);
        assert_eq!(rate_limit(&[]), "");
        // A sliding window is full again only once the current window has also slid out.
        let c = Policy::new("s", Algorithm::SlidingWindow, 100, 60_000).unwrap();
        let (oc, _) = check(&c, None, 0, 1);
        assert_eq!(rate_limit(&[oc]), "\"s\";r=99;t=120");
    }

    #[test]
    fn unreachable_characters_are_replaced_and_values_capped() {
        let p = Policy::new("x", Algorithm::FixedWindow, 1, 1_000).unwrap();
        let (mut o, _) = check(&p, None, 0, 1);
        o.policy = "a\u{e9}\nb";
        o.remaining = u64::MAX;
        assert_eq!(rate_limit(&[o]), "\"a??b\";r=999999999999999;t=1");
    }
}
