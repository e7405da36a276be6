//! Roles with inheritance, role -> permissions, wildcard permissions, super-admin roles.
//!
//! Config (`rbac`):
//! ```json
//! {"roles": {"admin": {"inherits": ["editor"], "permissions": ["reports:*"]},
//!            "editor": {"permissions": ["posts:write", "*:read"]}},
//!  "superAdmins": ["super-admin"]}
//! ```
//! Inheritance cycles, unknown parents and chains deeper than [`MAX_DEPTH`] are config errors.
//!
//! Permission patterns are `:`-separated segments. A granted `*` alone grants everything;
//! otherwise a `*` segment matches exactly one segment, except as the last segment, where it
//! matches one or more (`reports:*` grants `reports:read` and `reports:read:all`;
//! `*:read` grants `posts:read`, not `posts:read:all`). Required permissions are literal.
//! Only permissions granted by config roles are patterns: permissions from a token or an
//! API key record are literal strings (a token's `scope: "*"` grants the permission `*`
//! only, never `admin:delete`).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

use crate::gate::cfg::{join, CResult, ConfigError};
use crate::gate::wire::{RawRbac, StrList};

/// Deepest inheritance chain accepted (a role inheriting a role ... 10 levels).
pub const MAX_DEPTH: usize = 10;

/// One role's definition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleDef {
    pub inherits: Vec<String>,
    pub permissions: Vec<String>,
}

/// The role model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rbac {
    pub roles: BTreeMap<String, RoleDef>,
    /// Roles that pass every role and permission check.
    pub super_admins: Vec<String>,
}

/// What an RBAC check found missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    /// None of (mode any) / these (mode all) roles (AUTH-012).
    Roles(Vec<String>),
    /// These permissions (AUTH-011).
    Permissions(Vec<String>),
}

impl Rbac {
    /// Parses and checks `rbac`.
    pub fn from_value(path: &str, v: &Value) -> CResult<Rbac> {
        Rbac::from_raw(path, crate::gate::wire::read(path, v)?)
    }

    /// Checks and compiles the wire form of `rbac`.
    pub(crate) fn from_raw(path: &str, o: RawRbac) -> CResult<Rbac> {
        let mut rbac = Rbac::default();
        let list = |l: Option<StrList>| l.map(|l| l.0).unwrap_or_default();
        for (name, def) in o.roles.map(|m| m.0).unwrap_or_default() {
            let p = join(&join(path, "roles"), &name);
            if name.is_empty() {
                return Err(ConfigError::new(p, "role name must not be empty"));
            }
            let inherits = list(def.inherits);
            let permissions = list(def.permissions);
            for (i, perm) in permissions.iter().enumerate() {
                check_permission_pattern(&format!("{p}.permissions[{i}]"), perm, true)?;
            }
            rbac.roles.insert(
                name,
                RoleDef {
                    inherits,
                    permissions,
                },
            );
        }
        rbac.super_admins = list(o.super_admins);
        for (name, def) in &rbac.roles {
            for (i, parent) in def.inherits.iter().enumerate() {
                if !rbac.roles.contains_key(parent) {
                    return Err(ConfigError::new(
                        format!("{path}.roles.{name}.inherits[{i}]"),
                        format!("unknown role {parent:?}"),
                    ));
                }
            }
        }
        rbac.check_hierarchy(path)?;
        Ok(rbac)
    }

    /// Cycle and depth checks in one depth-first pass with memoized heights: every role and
    /// every `inherits` edge is looked at once (linear in the size of the role graph), and
    /// the recursion never goes deeper than [`MAX_DEPTH`] + 1 frames.
    fn check_hierarchy(&self, path: &str) -> CResult<()> {
        let mut height: BTreeMap<&str, usize> = BTreeMap::new();
        for name in self.roles.keys() {
            let mut chain = Vec::new();
            let h = self.height(path, name, &mut chain, &mut height)?;
            if h > MAX_DEPTH {
                return Err(ConfigError::new(
                    format!("{path}.roles.{name}.inherits"),
                    format!("inheritance deeper than {MAX_DEPTH}"),
                ));
            }
        }
        Ok(())
    }

    /// The longest inheritance chain below `role`, in edges. `chain` is the path from the
    /// role being checked (grey nodes); `memo` holds finished roles (black nodes).
    fn height<'a>(
        &'a self,
        path: &str,
        role: &'a str,
        chain: &mut Vec<&'a str>,
        memo: &mut BTreeMap<&'a str, usize>,
    ) -> CResult<usize> {
        if let Some(h) = memo.get(role) {
            return Ok(*h);
        }
        let at = format!(
            "{path}.roles.{}.inherits",
            chain.first().copied().unwrap_or(role)
        );
        if chain.contains(&role) {
            chain.push(role);
            return Err(ConfigError::new(
                at,
                format!("inheritance cycle: {}", chain.join(" -> ")),
            ));
        }
        if chain.len() > MAX_DEPTH {
            return Err(ConfigError::new(
                at,
                format!("inheritance deeper than {MAX_DEPTH}"),
            ));
        }
        chain.push(role);
        let mut h = 0;
        if let Some(def) = self.roles.get(role) {
            for parent in &def.inherits {
                h = h.max(self.height(path, parent, chain, memo)? + 1);
            }
        }
        chain.pop();
        memo.insert(role, h);
        Ok(h)
    }

    /// The roles and every role they inherit (sorted, deduplicated). Unknown roles are kept.
    pub fn expand_roles(&self, roles: &[String]) -> Vec<String> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<(&str, usize)> = roles.iter().map(|r| (r.as_str(), 0)).collect();
        while let Some((role, depth)) = stack.pop() {
            if !seen.insert(role) {
                continue;
            }
            if depth < MAX_DEPTH {
                if let Some(def) = self.roles.get(role) {
                    stack.extend(def.inherits.iter().map(|p| (p.as_str(), depth + 1)));
                }
            }
        }
        seen.into_iter().map(String::from).collect()
    }

    /// The permissions the config grants to the (expanded) roles, sorted, deduplicated.
    /// These may be patterns (`reports:*`, `*:read`, `*`).
    pub fn role_permissions(&self, expanded_roles: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for role in expanded_roles {
            if let Some(def) = self.roles.get(role) {
                out.extend(def.permissions.iter().cloned());
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Token permissions plus those of every (expanded) role, sorted, deduplicated: the
    /// identity's list, for reporting. Checks keep the two apart ([`Rbac::check`]): only
    /// role permissions are patterns.
    pub fn expand_permissions(
        &self,
        expanded_roles: &[String],
        token_permissions: &[String],
    ) -> Vec<String> {
        let mut out = self.role_permissions(expanded_roles);
        out.extend(token_permissions.iter().cloned());
        out.sort();
        out.dedup();
        out
    }

    /// Whether any of the (expanded) roles is a super-admin role.
    pub fn is_super_admin(&self, expanded_roles: &[String]) -> bool {
        expanded_roles.iter().any(|r| self.super_admins.contains(r))
    }

    /// Checks required roles (`all` or any) and permissions (all) against an identity's
    /// expanded roles and permissions.
    ///
    /// `role_permissions` come from config roles ([`Rbac::role_permissions`]) and may be
    /// patterns; `token_permissions` come from a token or an API key record and are
    /// literal: a token's `*`, `admin:*` or `*:*` grants only a permission spelled exactly
    /// so.
    pub fn check(
        &self,
        roles: &[String],
        role_permissions: &[String],
        token_permissions: &[String],
        required_roles: &[String],
        all_roles: bool,
        required_permissions: &[String],
    ) -> Result<(), Missing> {
        if self.is_super_admin(roles) {
            return Ok(());
        }
        if !required_roles.is_empty() {
            let missing: Vec<String> = required_roles
                .iter()
                .filter(|r| !roles.contains(r))
                .cloned()
                .collect();
            let ok = if all_roles {
                missing.is_empty()
            } else {
                missing.len() < required_roles.len()
            };
            if !ok {
                return Err(Missing::Roles(missing));
            }
        }
        let missing: Vec<String> = required_permissions
            .iter()
            .filter(|need| {
                !role_permissions.iter().any(|g| grants(g, need))
                    && !token_permissions.iter().any(|t| t == *need)
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(Missing::Permissions(missing));
        }
        Ok(())
    }
}

/// Whether the granted pattern `granted` covers the literal permission `needed`.
pub fn grants(granted: &str, needed: &str) -> bool {
    if granted == "*" || granted == needed {
        return true;
    }
    let g: Vec<&str> = granted.split(':').collect();
    let n: Vec<&str> = needed.split(':').collect();
    for (i, gs) in g.iter().enumerate() {
        let last = i + 1 == g.len();
        match n.get(i) {
            None => return false,
            Some(ns) => {
                if *gs == "*" {
                    if last {
                        return true; // trailing `*`: one or more remaining segments
                    }
                } else if gs != ns {
                    return false;
                }
            }
        }
    }
    g.len() == n.len()
}

pub(crate) fn check_permission_pattern(path: &str, p: &str, wildcards: bool) -> CResult<()> {
    if p == "*" && wildcards {
        return Ok(());
    }
    for seg in p.split(':') {
        if seg.is_empty()
            || seg
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        {
            return Err(ConfigError::new(
                path,
                "invalid permission (segments separated by ':', no spaces or commas)",
            ));
        }
        if seg.contains('*') && (seg != "*" || !wildcards) {
            return Err(ConfigError::new(
                path,
                "'*' may only be a whole segment of a granted permission",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn rbac(json: &str) -> CResult<Rbac> {
        Rbac::from_value("rbac", &serde_json::from_str(json).unwrap())
    }
    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn wildcards() {
        assert!(grants("*", "anything:at:all"));
        assert!(grants("reports:*", "reports:read"));
        assert!(grants("reports:*", "reports:read:all"));
        assert!(!grants("reports:*", "reports"));
        assert!(!grants("reports:*", "billing:read"));
        assert!(grants("*:read", "posts:read"));
        assert!(!grants("*:read", "posts:write"));
        assert!(!grants("*:read", "posts:read:all"));
        assert!(grants("posts:read", "posts:read"));
        assert!(!grants("posts:read", "posts:read:all"));
        assert!(!grants("posts", "posts:read"));
    }

    #[test]
    fn inheritance_expands_roles_and_permissions() {
        let r = rbac(
            r#"{"roles": {"admin": {"inherits": ["editor"], "permissions": ["reports:*"]},
                          "editor": {"inherits": ["viewer"], "permissions": ["posts:write"]},
                          "viewer": {"permissions": ["*:read"]}},
                "superAdmins": ["root"]}"#,
        )
        .unwrap();
        let roles = r.expand_roles(&s(&["admin"]));
        assert_eq!(roles, s(&["admin", "editor", "viewer"]));
        let perms = r.expand_permissions(&roles, &s(&["extra:x"]));
        assert_eq!(perms, s(&["*:read", "extra:x", "posts:write", "reports:*"]));
        let perms = r.role_permissions(&roles);
        assert_eq!(perms, s(&["*:read", "posts:write", "reports:*"]));
        assert_eq!(
            r.check(
                &roles,
                &perms,
                &s(&["extra:x"]),
                &s(&["viewer"]),
                false,
                &s(&["reports:export", "posts:read"])
            ),
            Ok(())
        );
        let viewer = r.expand_roles(&s(&["viewer"]));
        let vperms = r.role_permissions(&viewer);
        assert_eq!(
            r.check(&viewer, &vperms, &[], &s(&["admin", "editor"]), false, &[]),
            Err(Missing::Roles(s(&["admin", "editor"])))
        );
        assert_eq!(
            r.check(&viewer, &vperms, &[], &[], false, &s(&["posts:write"])),
            Err(Missing::Permissions(s(&["posts:write"])))
        );
        assert_eq!(
            r.check(&roles, &perms, &[], &s(&["admin", "owner"]), true, &[]),
            Err(Missing::Roles(s(&["owner"])))
        );
        // super-admin passes everything
        assert_eq!(
            r.check(&s(&["root"]), &[], &[], &s(&["owner"]), true, &s(&["x:y"])),
            Ok(())
        );
    }

    #[test]
    fn token_permissions_are_literal() {
        let r = rbac(r#"{"roles": {"viewer": {"permissions": ["*:read"]}}}"#).unwrap();
        let roles = r.expand_roles(&s(&["viewer"]));
        let rp = r.role_permissions(&roles);
        for token in [
            &["*"][..],
            &["admin:*"],
            &["*:*"],
            &["*:delete"],
            &["admin:*:*"],
        ] {
            assert_eq!(
                r.check(&[], &[], &s(token), &[], false, &s(&["admin:delete"])),
                Err(Missing::Permissions(s(&["admin:delete"]))),
                "{token:?}"
            );
        }
        // literal token permissions still count, as do role patterns
        assert_eq!(
            r.check(
                &roles,
                &rp,
                &s(&["admin:delete"]),
                &[],
                false,
                &s(&["admin:delete", "posts:read"])
            ),
            Ok(())
        );
    }

    #[test]
    fn cycles_depth_and_unknown_parents_are_config_errors() {
        let e =
            rbac(r#"{"roles": {"a": {"inherits": ["b"]}, "b": {"inherits": ["a"]}}}"#).unwrap_err();
        assert_eq!(e.path, "rbac.roles.a.inherits");
        assert!(e.message.contains("cycle: a -> b -> a"), "{e}");
        let e = rbac(r#"{"roles": {"a": {"inherits": ["a"]}}}"#).unwrap_err();
        assert!(e.message.contains("cycle"));
        let e = rbac(r#"{"roles": {"a": {"inherits": ["zzz"]}}}"#).unwrap_err();
        assert_eq!(e.path, "rbac.roles.a.inherits[0]");
        // a chain of 12 roles: r0 -> r1 -> ... -> r11
        let mut roles = vec![];
        for i in 0..12 {
            if i < 11 {
                roles.push(format!("\"r{i}\": {{\"inherits\": [\"r{}\"]}}", i + 1));
            } else {
                roles.push(format!("\"r{i}\": {{}}"));
            }
        }
        let e = rbac(&format!("{{\"roles\": {{{}}}}}", roles.join(","))).unwrap_err();
        assert!(e.message.contains("deeper than 10"), "{e}");
        // 10 levels is fine
        let ok: Vec<String> = (0..11)
            .map(|i| {
                if i < 10 {
                    format!("\"r{i}\": {{\"inherits\": [\"r{}\"]}}", i + 1)
                } else {
                    format!("\"r{i}\": {{}}")
                }
            })
            .collect();
        assert!(rbac(&format!("{{\"roles\": {{{}}}}}", ok.join(","))).is_ok());
        let e = rbac(r#"{"roles": {"a": {"permissions": ["re*ports"]}}}"#).unwrap_err();
        assert_eq!(e.path, "rbac.roles.a.permissions[0]");
        let e = rbac(r#"{"roles": {"a": {"perms": []}}}"#).unwrap_err();
        assert_eq!(e.path, "rbac.roles.a.perms");
    }
}
