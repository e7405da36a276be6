//! Sessions as a credential (AUTH-008/009/010): a session id from a cookie source marked
//! `"session": true` is looked up by the host (`Io::Session`), keyed by the SHA-256 of the
//! id (stores keep only that hash), and judged here: the record's hash is compared in
//! constant time, then revocation (AUTH-010) and expiry (AUTH-009); no record is AUTH-008.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

use crate::gate::api_key::{ct_eq, hash_key};
use crate::gate::wire::{read, RawSessionRecord};

/// Longest session id accepted (longer ones are unknown without a lookup).
pub const MAX_SESSION_ID: usize = 256;

/// A stored session (no id: its SHA-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub hash: [u8; 32],
    pub user_id: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub org: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub revoked: bool,
}

/// Why a session is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionRejection {
    Unknown,
    Expired,
    Revoked,
}

/// The lookup key of a session id: its SHA-256, lowercase hex.
pub fn session_hash(id: &str) -> String {
    hex(&hash_key(id))
}

fn hex(b: &[u8; 32]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        let d = |c: u8| (c as char).to_digit(16);
        let hi = d(*pair.first()?)?;
        let lo = d(*pair.get(1)?)?;
        *out.get_mut(i)? = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

impl SessionRecord {
    /// `{hash, userId, roles, permissions, org, expiresAt, revoked}` (read as the serde wire
    /// type `RawSessionRecord`, `crate::gate::wire`); `None` when malformed.
    pub fn from_json(v: &Value) -> Option<SessionRecord> {
        let r: RawSessionRecord = read("", v).ok()?;
        if r.user_id.0.is_empty() {
            return None;
        }
        Some(SessionRecord {
            hash: unhex(&r.hash.0)?,
            user_id: r.user_id.0,
            roles: r.roles.map(|l| l.0).unwrap_or_default(),
            permissions: r.permissions.map(|l| l.0).unwrap_or_default(),
            org: r.org.map(|s| s.0),
            expires_at: r.expires_at.0,
            revoked: r.revoked.is_some_and(|b| b.0),
        })
    }

    /// Judges the record for the presented id at `now`.
    pub fn check(&self, id: &str, now: i64) -> Result<(), SessionRejection> {
        if !ct_eq(&self.hash, &hash_key(id)) {
            return Err(SessionRejection::Unknown);
        }
        if self.revoked {
            return Err(SessionRejection::Revoked);
        }
        if self.expires_at <= now {
            return Err(SessionRejection::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_checks() {
        let h = session_hash("sid-1");
        assert_eq!(h.len(), 64);
        let rec = |extra: &str| {
            let j = alloc::format!(
                r#"{{"hash": "{h}", "userId": "u", "roles": ["a"], "expiresAt": 100{extra}}}"#
            );
            SessionRecord::from_json(&serde_json::from_str(&j).unwrap())
        };
        let r = rec("").unwrap();
        assert_eq!(r.check("sid-1", 99), Ok(()));
        assert_eq!(r.check("sid-2", 99), Err(SessionRejection::Unknown));
        assert_eq!(r.check("sid-1", 100), Err(SessionRejection::Expired));
        assert_eq!(
            rec(r#", "revoked": true"#).unwrap().check("sid-1", 1),
            Err(SessionRejection::Revoked)
        );
        assert!(rec(r#", "revoked": "no""#).is_none());
        assert!(SessionRecord::from_json(
            &serde_json::json!({"hash": "zz", "userId": "u", "expiresAt": 1})
        )
        .is_none());
    }
}
