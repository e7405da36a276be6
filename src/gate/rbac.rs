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

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

use crate::gate::cfg::{CResult, ConfigError, Obj};

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
        let mut o = Obj::new(path, v)?;
        let mut rbac = Rbac::default();
        if let Some(mut roles) = o.opt_obj("roles")? {
            for (name, def) in roles.entries() {
                let p = crate::gate::cfg::join(&roles.path, name);
                if name.is_empty() {
                    return Err(ConfigError::new(p, "role name must not be empty"));
                }
                let mut d = Obj::new(p.clone(), def)?;
                let inherits = d.opt_str_list("inherits")?.unwrap_or_default();
                let permissions = d.opt_str_list("permissions")?.unwrap_or_default();
                for (i, perm) in permissions.iter().enumerate() {
                    check_permission_pattern(&format!("{p}.permissions[{i}]"), perm, true)?;
                }
                d.finish()?;
                rbac.roles.insert(
                    name.clone(),
                    RoleDef {
                        inherits,
                        permissions,
                    },
                );
            }
            roles.finish()?;
        }
        rbac.super_admins = o.opt_str_list("superAdmins")?.unwrap_or_default();
        o.finish()?;
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
        for name in rbac.roles.keys() {
            let mut chain = Vec::new();
            rbac.check_chain(path, name, &mut chain)?;
        }
        Ok(rbac)
    }

    fn check_chain<'a>(
        &'a self,
        path: &str,
        role: &'a str,
        chain: &mut Vec<&'a str>,
    ) -> CResult<()> {
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
        if let Some(def) = self.roles.get(role) {
            for parent in &def.inherits {
                self.check_chain(path, parent, chain)?;
            }
        }
        chain.pop();
        Ok(())
    }

    /// The roles and every role they inherit (sorted, deduplicated). Unknown roles are kept.
    pub fn expand_roles(&self, roles: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut stack: Vec<(&str, usize)> = roles.iter().map(|r| (r.as_str(), 0)).collect();
        while let Some((role, depth)) = stack.pop() {
            if out.iter().any(|r| r == role) {
                continue;
            }
            out.push(role.into());
            if depth < MAX_DEPTH {
                if let Some(def) = self.roles.get(role) {
                    stack.extend(def.inherits.iter().map(|p| (p.as_str(), depth + 1)));
                }
            }
        }
        out.sort();
        out
    }

    /// Token permissions plus those of every (expanded) role, sorted, deduplicated.
    pub fn expand_permissions(
        &self,
        expanded_roles: &[String],
        token_permissions: &[String],
    ) -> Vec<String> {
        let mut out: Vec<String> = token_permissions.to_vec();
        for role in expanded_roles {
            if let Some(def) = self.roles.get(role) {
                out.extend(def.permissions.iter().cloned());
            }
        }
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
    pub fn check(
        &self,
        roles: &[String],
        permissions: &[String],
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
            .filter(|need| !permissions.iter().any(|g| grants(g, need)))
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
        assert_eq!(
            r.check(
                &roles,
                &perms,
                &s(&["viewer"]),
                false,
                &s(&["reports:export", "posts:read"])
            ),
            Ok(())
        );
        let viewer = r.expand_roles(&s(&["viewer"]));
        let vperms = r.expand_permissions(&viewer, &[]);
        assert_eq!(
            r.check(&viewer, &vperms, &s(&["admin", "editor"]), false, &[]),
            Err(Missing::Roles(s(&["admin", "editor"])))
        );
        assert_eq!(
            r.check(&viewer, &vperms, &[], false, &s(&["posts:write"])),
            Err(Missing::Permissions(s(&["posts:write"])))
        );
        assert_eq!(
            r.check(&roles, &perms, &s(&["admin", "owner"]), true, &[]),
            Err(Missing::Roles(s(&["owner"])))
        );
        // super-admin passes everything
        assert_eq!(
            r.check(&s(&["root"]), &[], &s(&["owner"]), true, &s(&["x:y"])),
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
