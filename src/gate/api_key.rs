//! API keys for machine users, and the store interface hosts implement.
//!
//! ## Format
//! `egk_<id>_<secret><check>`: `egk_` is the prefix secret scanners look for; `<id>` is
//! 12 base62 characters (the lookup key, not secret); `<secret>` is 32 base62 characters
//! (~190 bits); `<check>` is the CRC-32 of everything before it, as 6 base62 digits, so a
//! scanner (or the gate, before any lookup) can tell a real key from random text. 55
//! characters in all.
//!
//! Only the SHA-256 of the whole key is stored; the key itself is shown once, at creation.
//! Creation takes the random bytes as an argument (the core draws no randomness). Hashes are
//! compared in constant time.
//!
//! A key belongs to an account, has a name, roles and permissions, and expires at most one
//! year after creation. Rotation issues a new key; the old one stops working at once or
//! after an explicit overlap. Unknown, malformed, expired and revoked keys all give
//! AUTH-003 (the DESIGN table: "API key unknown, revoked"), so a caller cannot tell a
//! revoked key from one that never existed.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use sha2::{Digest, Sha256};

use crate::gate::revocation::Denylist;
use crate::gate::wire::{read, RawApiKeyRecord};

/// The prefix of every edgegate API key.
pub const PREFIX: &str = "egk_";
/// Length of the id part.
pub const ID_LEN: usize = 12;
/// Length of the secret part.
pub const SECRET_LEN: usize = 32;
/// Length of the checksum part.
pub const CHECK_LEN: usize = 6;
/// Total key length.
pub const KEY_LEN: usize = PREFIX.len() + ID_LEN + 1 + SECRET_LEN + CHECK_LEN;
/// Random bytes needed to create a key (one per base62 character of id and secret).
pub const RANDOM_BYTES: usize = ID_LEN + SECRET_LEN;
/// Longest lifetime of a key, in seconds (365 days).
pub const MAX_LIFETIME: i64 = 365 * 24 * 3600;

const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why an API key operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// Not `egk_<id>_<secret><check>` or the checksum does not match (AUTH-003).
    Malformed,
    /// No such key, wrong secret, expired or revoked (AUTH-003).
    Invalid,
    /// Expiry not in (now, now + 1 year] at creation/rotation (AUTH-015: a caller error).
    BadExpiry,
    /// No key with this id to rotate or revoke.
    UnknownKey,
    /// The store already holds a key with this id (draw new random bytes).
    DuplicateId,
    /// A creation request (`createApiKey`) that is not what [`create_from_json`] expects
    /// (AUTH-015: a caller error); `reason` names the field.
    BadRequest { reason: &'static str },
    /// Not [`RANDOM_BYTES`] random bytes (AUTH-015: a host error).
    RandomBytes { got: usize },
}

impl ApiKeyError {
    /// The stable code.
    pub const fn code(&self) -> crate::ErrorCode {
        match self {
            ApiKeyError::BadExpiry
            | ApiKeyError::BadRequest { .. }
            | ApiKeyError::RandomBytes { .. } => crate::ErrorCode::ConfigError,
            _ => crate::ErrorCode::InvalidCredentials,
        }
    }
}

impl core::fmt::Display for ApiKeyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ApiKeyError::Malformed => "malformed api key",
            ApiKeyError::Invalid => "invalid api key",
            ApiKeyError::BadExpiry => {
                "apiKey.expiresAt: must be after now and at most one year ahead"
            }
            ApiKeyError::UnknownKey => "no api key with this id",
            ApiKeyError::DuplicateId => "an api key with this id already exists",
            ApiKeyError::BadRequest { reason } => reason,
            ApiKeyError::RandomBytes { got } => {
                return write!(f, "apiKey: expected {RANDOM_BYTES} random bytes, got {got}");
            }
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ApiKeyError {}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn base62_fixed(mut n: u64, width: usize) -> String {
    let mut out = alloc::vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    out.into_iter().map(char::from).collect()
}

fn is_b62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether a credential looks like an edgegate API key (prefix only; see [`parse`]).
pub fn looks_like_key(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

/// A syntactically valid key (checksum verified): its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    pub id: &'a str,
    full: &'a str,
}

impl ParsedKey<'_> {
    /// SHA-256 of the whole key (what the store keeps).
    pub fn hash(&self) -> [u8; 32] {
        hash_key(self.full)
    }
}

/// Checks the format and checksum of a presented key.
pub fn parse(key: &str) -> Result<ParsedKey<'_>, ApiKeyError> {
    if key.len() != KEY_LEN || !key.is_ascii() {
        return Err(ApiKeyError::Malformed);
    }
    let rest = key.strip_prefix(PREFIX).ok_or(ApiKeyError::Malformed)?;
    let (id, rest) = rest.split_at(ID_LEN);
    let rest = rest.strip_prefix('_').ok_or(ApiKeyError::Malformed)?;
    let (secret, check) = rest.split_at(SECRET_LEN);
    if !is_b62(id) || !is_b62(secret) || !is_b62(check) {
        return Err(ApiKeyError::Malformed);
    }
    let body = &key[..KEY_LEN - CHECK_LEN];
    if base62_fixed(u64::from(crc32(body.as_bytes())), CHECK_LEN) != check {
        return Err(ApiKeyError::Malformed);
    }
    Ok(ParsedKey { id, full: key })
}

/// SHA-256 of a key string.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Constant-time equality of two hashes.
pub fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    // black_box keeps the optimizer from short-circuiting the fold.
    core::hint::black_box(diff) == 0
}

/// A stored API key (no secret: only its hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    /// The account the key is scoped to (the identity's `org`).
    pub account: String,
    pub name: String,
    pub hash: [u8; 32],
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub created_at: i64,
    /// Unix seconds; the key is refused from this instant on.
    pub expires_at: i64,
    pub revoked: bool,
}

impl ApiKeyRecord {
    /// Checks a presented key against this record at `now`.
    pub fn check(&self, key: &ParsedKey<'_>, now: i64) -> Result<(), ApiKeyError> {
        let hash_ok = ct_eq(&self.hash, &key.hash());
        if !hash_ok || self.id != key.id || self.revoked || now >= self.expires_at {
            return Err(ApiKeyError::Invalid);
        }
        Ok(())
    }
}

impl ApiKeyRecord {
    /// `{"id", "account", "name", "hash" (hex SHA-256), "roles", "permissions",
    /// "createdAt", "expiresAt", "revoked"}`: how hosts store records (no secret in it).
    pub fn to_json(&self) -> serde_json::Value {
        let hex: String = self
            .hash
            .iter()
            .map(|b| alloc::format!("{b:02x}"))
            .collect();
        serde_json::json!({
            "id": self.id, "account": self.account, "name": self.name, "hash": hex,
            "roles": self.roles, "permissions": self.permissions,
            "createdAt": self.created_at, "expiresAt": self.expires_at, "revoked": self.revoked,
        })
    }

    /// Parses [`ApiKeyRecord::to_json`]'s form strictly (as the serde wire type
    /// `RawApiKeyRecord`, `crate::gate::wire`); `None` when malformed (the gate
    /// treats that as a store error, AUTH-015, never as an unknown or a valid key):
    /// `id`, `account` and `hash` (64 hex digits) are required strings; `name` a string if
    /// present; `roles` and `permissions` arrays of strings (absent or `null`: none);
    /// `expiresAt` a required integer and `createdAt` an integer if present (`1e9`, `1.5` or
    /// `"1"` are refused); `revoked` a required JSON boolean (`1`, `"true"` are refused).
    pub fn from_json(v: &serde_json::Value) -> Option<ApiKeyRecord> {
        let r: RawApiKeyRecord = read("", v).ok()?;
        let hex = r.hash.0;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut hash = [0u8; 32];
        for (i, b) in hash.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(ApiKeyRecord {
            id: r.id.0,
            account: r.account.0,
            name: r.name.map(|n| n.0).unwrap_or_default(),
            hash,
            roles: r.roles.map(|l| l.0).unwrap_or_default(),
            permissions: r.permissions.map(|l| l.0).unwrap_or_default(),
            created_at: r.created_at.map_or(0, |n| n.0),
            expires_at: r.expires_at.0,
            revoked: r.revoked.0,
        })
    }
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewKey {
    pub account: String,
    pub name: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    /// Unix seconds, within one year of `now`.
    pub expires_at: i64,
}

/// A freshly created key: the secret string (show it once) and the record to store.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatedKey {
    /// The full key. Show it once; it is not retrievable later.
    pub key: String,
    pub record: ApiKeyRecord,
}

impl core::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &"<redacted>")
            .field("record", &self.record)
            .finish()
    }
}

/// Creates a key from a host's JSON request `{"account", "name", "roles", "permissions",
/// "expiresAt"}` (parsed strictly), `random` (fresh bytes from the host's CSPRNG, exactly
/// [`RANDOM_BYTES`]) and `now` (unix seconds). `name`, `roles` and `permissions` are
/// optional; a role or permission that is not a string is refused.
pub fn create_from_json(
    request: &[u8],
    random: &[u8],
    now: i64,
) -> Result<CreatedKey, ApiKeyError> {
    use serde_json::Value;
    let bad = |reason| ApiKeyError::BadRequest { reason };
    let v = crate::codec::json::parse_untrusted(request, &crate::limits::Limits::DEFAULT)
        .map_err(|_| bad("apiKey: expected a strict JSON object"))?;
    let o = v
        .as_object()
        .ok_or(bad("apiKey: expected a strict JSON object"))?;
    let account = o
        .get("account")
        .and_then(Value::as_str)
        .ok_or(bad("apiKey.account: expected string"))?;
    let name = match o.get("name") {
        None | Some(Value::Null) => "",
        Some(v) => v.as_str().ok_or(bad("apiKey.name: expected string"))?,
    };
    let list = |k: &str, reason| -> Result<Vec<String>, ApiKeyError> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map(String::from).ok_or(bad(reason)))
                .collect(),
            Some(_) => Err(bad(reason)),
        }
    };
    let roles = list("roles", "apiKey.roles: expected array of strings")?;
    let permissions = list(
        "permissions",
        "apiKey.permissions: expected array of strings",
    )?;
    let expires_at = o
        .get("expiresAt")
        .and_then(Value::as_i64)
        .ok_or(bad("apiKey.expiresAt: expected unix seconds"))?;
    let random: &[u8; RANDOM_BYTES] = random
        .try_into()
        .map_err(|_| ApiKeyError::RandomBytes { got: random.len() })?;
    create(
        NewKey {
            account: account.into(),
            name: name.into(),
            roles,
            permissions,
            expires_at,
        },
        random,
        now,
    )
}

/// Creates a key from `random` (fresh random bytes from the host's CSPRNG) at `now`.
pub fn create(
    new: NewKey,
    random: &[u8; RANDOM_BYTES],
    now: i64,
) -> Result<CreatedKey, ApiKeyError> {
    if new.expires_at <= now || new.expires_at > now.saturating_add(MAX_LIFETIME) {
        return Err(ApiKeyError::BadExpiry);
    }
    // byte % 62 has a slight bias; 32 characters still carry over 190 bits.
    let chars: String = random
        .iter()
        .map(|b| char::from(B62[usize::from(*b) % 62]))
        .collect();
    let (id, secret) = chars.split_at(ID_LEN);
    let mut key = String::with_capacity(KEY_LEN);
    key.push_str(PREFIX);
    key.push_str(id);
    key.push('_');
    key.push_str(secret);
    let check = base62_fixed(u64::from(crc32(key.as_bytes())), CHECK_LEN);
    key.push_str(&check);
    let record = ApiKeyRecord {
        id: id.into(),
        account: new.account,
        name: new.name,
        hash: hash_key(&key),
        roles: new.roles,
        permissions: new.permissions,
        created_at: now,
        expires_at: new.expires_at,
        revoked: false,
    };
    Ok(CreatedKey { key, record })
}

/// The storage the gate consults: API key records and the revocation list. Hosts
/// implement it over Workers KV, Redis, ...; [`MemoryStore`] is the in-memory one. An
/// async host answers the gate's `Io::ApiKey` / `Io::Revoked` requests instead.
pub trait Store {
    /// The record of key `id`, if any.
    fn api_key(&self, id: &str) -> Option<ApiKeyRecord>;
    /// Whether `id` (a `jti` or an API key id) is on the revocation list at `now`.
    fn is_revoked(&self, id: &str, now: i64) -> bool;
}

/// An in-memory store (tests, single-instance hosts).
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    keys: BTreeMap<String, ApiKeyRecord>,
    denylist: Denylist,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Creates and stores a key; returns it (show `key` once).
    pub fn create(
        &mut self,
        new: NewKey,
        random: &[u8; RANDOM_BYTES],
        now: i64,
    ) -> Result<CreatedKey, ApiKeyError> {
        let created = create(new, random, now)?;
        if self.keys.contains_key(&created.record.id) {
            return Err(ApiKeyError::DuplicateId);
        }
        self.keys
            .insert(created.record.id.clone(), created.record.clone());
        Ok(created)
    }

    /// Stores a record made elsewhere.
    pub fn insert(&mut self, record: ApiKeyRecord) {
        self.keys.insert(record.id.clone(), record);
    }

    /// Rotates key `id`: a new key with the same account, name, roles and permissions
    /// expiring at `expires_at`; the old key stops working at `now + overlap` (0: at once).
    pub fn rotate(
        &mut self,
        id: &str,
        random: &[u8; RANDOM_BYTES],
        now: i64,
        expires_at: i64,
        overlap: i64,
    ) -> Result<CreatedKey, ApiKeyError> {
        let old = self.keys.get(id).cloned().ok_or(ApiKeyError::UnknownKey)?;
        if old.revoked || now >= old.expires_at {
            return Err(ApiKeyError::UnknownKey);
        }
        let created = create(
            NewKey {
                account: old.account,
                name: old.name,
                roles: old.roles,
                permissions: old.permissions,
                expires_at,
            },
            random,
            now,
        )?;
        if self.keys.contains_key(&created.record.id) {
            return Err(ApiKeyError::DuplicateId);
        }
        if let Some(rec) = self.keys.get_mut(id) {
            rec.expires_at = rec.expires_at.min(now.saturating_add(overlap.max(0)));
        }
        self.keys
            .insert(created.record.id.clone(), created.record.clone());
        Ok(created)
    }

    /// Revokes key `id` at once.
    pub fn revoke_key(&mut self, id: &str) -> Result<(), ApiKeyError> {
        let rec = self.keys.get_mut(id).ok_or(ApiKeyError::UnknownKey)?;
        rec.revoked = true;
        Ok(())
    }

    /// Puts a `jti` (or key id) on the revocation list until `expires_at` (the token's `exp`).
    pub fn revoke(&mut self, id: &str, expires_at: i64) {
        self.denylist.insert(id, expires_at);
    }

    /// Drops expired revocation entries.
    pub fn purge(&mut self, now: i64) {
        self.denylist.purge(now);
    }

    /// Every record of `account` (no secrets).
    pub fn list(&self, account: &str) -> Vec<&ApiKeyRecord> {
        self.keys
            .values()
            .filter(|r| r.account == account)
            .collect()
    }
}

impl Store for MemoryStore {
    fn api_key(&self, id: &str) -> Option<ApiKeyRecord> {
        self.keys.get(id).cloned()
    }
    fn is_revoked(&self, id: &str, now: i64) -> bool {
        self.denylist.contains(id, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rnd(seed: u8) -> [u8; RANDOM_BYTES] {
        let mut r = [0u8; RANDOM_BYTES];
        for (i, b) in r.iter_mut().enumerate() {
            // a small LCG: distinct seeds give distinct ids
            *b = (u32::from(seed)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(i as u32 * 40_503)
                >> 13) as u8;
        }
        r
    }
    fn new_key(expires_at: i64) -> NewKey {
        NewKey {
            account: "acct_1".into(),
            name: "ci".into(),
            roles: alloc::vec!["deployer".into()],
            permissions: Vec::new(),
            expires_at,
        }
    }

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn create_parse_and_check() {
        let now = 1_700_000_000;
        let c = create(new_key(now + 3600), &rnd(1), now).unwrap();
        assert_eq!(c.key.len(), KEY_LEN);
        assert!(c.key.starts_with("egk_"));
        assert!(!alloc::format!("{c:?}").contains(&c.key));
        let p = parse(&c.key).unwrap();
        assert_eq!(p.id, c.record.id);
        assert_eq!(c.record.check(&p, now), Ok(()));
        assert_eq!(c.record.check(&p, now + 3600), Err(ApiKeyError::Invalid));
        // one changed character breaks the checksum
        let mut bad = c.key.clone().into_bytes();
        bad[20] = if bad[20] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            parse(core::str::from_utf8(&bad).unwrap()),
            Err(ApiKeyError::Malformed)
        );
        assert_eq!(parse("egk_short"), Err(ApiKeyError::Malformed));
        // a well-formed key with another secret does not match the record
        let other = create(new_key(now + 10), &rnd(2), now).unwrap();
        let mut forged = other.record.clone();
        forged.id = c.record.id.clone();
        assert_eq!(forged.check(&p, now), Err(ApiKeyError::Invalid));
    }

    #[test]
    fn expiry_is_at_most_a_year() {
        let now = 1_000;
        assert_eq!(
            create(new_key(now + MAX_LIFETIME + 1), &rnd(1), now).unwrap_err(),
            ApiKeyError::BadExpiry
        );
        assert_eq!(
            create(new_key(now), &rnd(1), now).unwrap_err(),
            ApiKeyError::BadExpiry
        );
        assert!(create(new_key(now + MAX_LIFETIME), &rnd(1), now).is_ok());
    }

    #[test]
    fn rotation_and_revocation() {
        let now = 10_000;
        let mut s = MemoryStore::new();
        let a = s.create(new_key(now + 1000), &rnd(1), now).unwrap();
        let b = s
            .rotate(&a.record.id, &rnd(2), now + 10, now + 2000, 0)
            .unwrap();
        let pa = parse(&a.key).unwrap();
        let pb = parse(&b.key).unwrap();
        assert_eq!(
            s.api_key(&a.record.id).unwrap().check(&pa, now + 10),
            Err(ApiKeyError::Invalid)
        );
        assert_eq!(
            s.api_key(&b.record.id).unwrap().check(&pb, now + 10),
            Ok(())
        );
        // with overlap
        let c = s
            .rotate(&b.record.id, &rnd(3), now + 20, now + 2000, 60)
            .unwrap();
        let pc = parse(&c.key).unwrap();
        assert_eq!(
            s.api_key(&b.record.id).unwrap().check(&pb, now + 79),
            Ok(())
        );
        assert_eq!(
            s.api_key(&b.record.id).unwrap().check(&pb, now + 80),
            Err(ApiKeyError::Invalid)
        );
        s.revoke_key(&c.record.id).unwrap();
        assert_eq!(
            s.api_key(&c.record.id).unwrap().check(&pc, now + 30),
            Err(ApiKeyError::Invalid)
        );
        assert_eq!(s.revoke_key("nope"), Err(ApiKeyError::UnknownKey));
        assert_eq!(s.list("acct_1").len(), 3);
        assert_eq!(
            s.create(new_key(now + 1000), &rnd(1), now).unwrap_err(),
            ApiKeyError::DuplicateId
        );
        s.revoke("jti-1", now + 5);
        assert!(s.is_revoked("jti-1", now));
        assert!(!s.is_revoked("jti-1", now + 5));
        assert!(!s.is_revoked("jti-2", now));
    }

    #[test]
    fn record_json_round_trip() {
        let c = create(new_key(100), &rnd(5), 50).unwrap();
        let j = c.record.to_json();
        assert!(!j.to_string().contains(&c.key));
        assert_eq!(ApiKeyRecord::from_json(&j), Some(c.record.clone()));
        let mut bad = j.clone();
        bad["hash"] = "zz".into();
        assert_eq!(ApiKeyRecord::from_json(&bad), None);
    }

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(&[1; 32], &[1; 32]));
        let mut b = [1; 32];
        b[31] = 0;
        assert!(!ct_eq(&[1; 32], &b));
    }
}
