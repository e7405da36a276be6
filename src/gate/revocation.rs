//! The revocation list: a denylist of `jti` values (and API key ids) whose entries expire
//! with the token they revoke. The gate checks it after the signature, through the
//! [`crate::gate::api_key::Store`] interface (or the `Io::Revoked` step). Revoked = AUTH-010.

use alloc::collections::BTreeMap;
use alloc::string::String;

/// Most entries a [`Denylist`] holds; inserting more first drops expired entries, then
/// the entries expiring soonest.
pub const MAX_ENTRIES: usize = 100_000;

/// Revoked ids with the instant (unix seconds) their entry may be forgotten.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Denylist {
    entries: BTreeMap<String, i64>,
}

impl Denylist {
    /// An empty list.
    pub fn new() -> Denylist {
        Denylist::default()
    }

    /// Revokes `id` until `expires_at` (the revoked token's `exp`; keep the later one).
    pub fn insert(&mut self, id: &str, expires_at: i64) {
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(id) {
            let earliest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(k, _)| k.clone());
            if let Some(k) = earliest {
                self.entries.remove(&k);
            }
        }
        let e = self.entries.entry(id.into()).or_insert(expires_at);
        *e = (*e).max(expires_at);
    }

    /// Whether `id` is revoked at `now`.
    pub fn contains(&self, id: &str, now: i64) -> bool {
        self.entries.get(id).is_some_and(|e| now < *e)
    }

    /// Drops entries that expired.
    pub fn purge(&mut self, now: i64) {
        self.entries.retain(|_, e| now < *e);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_the_token() {
        let mut d = Denylist::new();
        d.insert("a", 100);
        d.insert("a", 50); // keeps the later expiry
        assert!(d.contains("a", 99));
        assert!(!d.contains("a", 100));
        assert!(!d.contains("b", 0));
        d.insert("b", 10);
        d.purge(20);
        assert_eq!(d.len(), 1);
        assert!(!d.is_empty());
    }
}
