//! Route rules: path normalization, pattern matching, per-route requirements.
//!
//! ## Path normalization (before any matching)
//! 1. The query (`?...`) and fragment (`#...`) are cut off; the path must start with `/`.
//! 2. The path is split on `/`; each segment is percent-decoded. Refused (AUTH-013):
//!    a malformed escape (`%4`, `%zz`), decoded bytes that are not UTF-8, a decoded `/`
//!    or `\` (`%2F`, `%5C`: an encoded separator would make the gate and the origin see
//!    different paths), a decoded `%` (double encoding such as `%252e`), control
//!    characters, and `.;...` / `..;...` segments (path parameters some servers treat as
//!    dot segments).
//! 3. Empty segments (`//`, a trailing `/`) are dropped, `.` is dropped, `..` removes the
//!    previous segment (never above the root, as RFC 3986 `remove_dot_segments`).
//! 4. Refused (AUTH-013) because origins may read them as another path: any other segment
//!    ending in `.` or a space after decoding (`/admin./x`, `/admin%20/x`; also before a
//!    `;`), and segments with non-ASCII characters that NFKC normalization would change
//!    (full-width `ａｄｍｉｎ`, ligatures, non-breaking spaces) or might change (the NFKC
//!    quick check's "maybe": combining marks, conjoining jamo).
//!
//! So `/api/../admin/x`, `/api/%2e%2e/admin/x` and `/api/%2E%2E/admin/x` are all
//! `/admin/x`, and never match `/api/**`. The normalized path is in the decision so the
//! host can forward exactly what was checked.
//!
//! ## Patterns
//! Segments of a pattern are literals, `:name` (one segment, captured), `*` (one segment)
//! or a final `**` (zero or more segments: `/admin/**` matches `/admin` and
//! `/admin/a/b`). Matching is case-sensitive unless the config sets
//! `"caseInsensitivePaths": true` (for origins that treat `/ADMIN` as `/admin`): then
//! literal segments match when equal after Unicode lower- or upper-casing. A rule's `methods` apply to `HEAD`
//! as to `GET` (servers answer `HEAD` with the `GET` handler), so a `GET`-only rule also
//! decides `HEAD`. Rules are tried in order; the first match wins; no match is denied
//! (AUTH-013).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;

use crate::gate::cfg::{is_token, join, CResult, ConfigError};
use crate::gate::claim_path::ClaimPath;
use crate::gate::wire::{Bool, BoolOr, RawClaimCondition, RawRoute, Str, StrList};

/// Why a request path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// Does not start with `/`.
    NotAbsolute,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// Decoded bytes are not UTF-8.
    NotUtf8,
    /// An encoded `/`, `\` or `%`, a control character, or a `.;`/`..;` segment.
    Forbidden,
    /// A segment the origin may read as another one: ending in `.` or a space (Windows and
    /// some servers drop them: `/admin./x`, `/admin%20/x`), or not NFKC-stable (full-width
    /// `／ａｄｍｉｎ`, ligatures: servers that normalize Unicode read them as ASCII).
    Ambiguous,
}

/// A normalized path: decoded segments with dot segments resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizedPath {
    pub segments: Vec<String>,
}

impl NormalizedPath {
    /// `/a/b` form (`/` for the root).
    pub fn as_path(&self) -> String {
        if self.segments.is_empty() {
            return "/".into();
        }
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            s.push_str(seg);
        }
        s
    }

    /// The path to forward to the origin, already percent-encoded: each decoded segment is
    /// encoded again, so a `?`, `#`, `;`, space, `%`, `/` or non-ASCII character inside a
    /// segment cannot change the path the origin sees. Parity with [`normalize`]:
    /// `normalize(&p.forward_path())` gives back `p`'s segments.
    pub fn forward_path(&self) -> String {
        if self.segments.is_empty() {
            return "/".into();
        }
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            encode_segment(seg, &mut s);
        }
        s
    }
}

/// Percent-encodes one path segment for the origin: RFC 3986 unreserved characters and the
/// sub-delimiters `!$&'()*+,=` plus `:` and `@` stay; everything else (`;` too) is `%XX`.
fn encode_segment(seg: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in seg.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one segment or query component (no `+` handling).
pub(crate) fn percent_decode(s: &str) -> Result<String, PathError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = bytes
                .get(i + 1)
                .copied()
                .and_then(hex)
                .ok_or(PathError::BadEscape)?;
            let lo = bytes
                .get(i + 2)
                .copied()
                .and_then(hex)
                .ok_or(PathError::BadEscape)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PathError::NotUtf8)
}

/// Whether NFKC leaves `s` as it is, by the quick check alone (its one small table): a
/// "maybe" (combining marks, conjoining jamo that might compose) counts as not stable.
/// Fail closed and far smaller than the full check's decomposition tables in the wasm.
fn nfkc_stable(s: &str) -> bool {
    unicode_normalization::is_nfkc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes
}

/// Normalizes a request target (path with optional query) as described in the module docs.
pub fn normalize(target: &str) -> Result<NormalizedPath, PathError> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    let mut segments: Vec<String> = Vec::new();
    for raw in path.split('/') {
        let seg = percent_decode(raw)?;
        if seg
            .chars()
            .any(|c| c == '/' || c == '\\' || c == '%' || c.is_control())
        {
            return Err(PathError::Forbidden);
        }
        let before_params = seg.split(';').next().unwrap_or("");
        if seg.contains(';') && (before_params == "." || before_params == "..") {
            return Err(PathError::Forbidden);
        }
        match seg.as_str() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => {
                if [seg.as_str(), before_params]
                    .iter()
                    .any(|s| s.ends_with('.') || s.ends_with(' '))
                    || (!seg.is_ascii() && !nfkc_stable(&seg))
                {
                    return Err(PathError::Ambiguous);
                }
                segments.push(seg)
            }
        }
    }
    Ok(NormalizedPath { segments })
}

/// One pattern segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Lit(String),
    Param(String),
    Any,
    Rest,
}

/// A compiled path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    segs: Vec<Seg>,
    /// Literal segments match regardless of case (`caseInsensitivePaths`).
    case_insensitive: bool,
}

/// Equal after Unicode lower-casing or upper-casing (`ADMIN`, `Admin`, `admin`; and
/// `admın`, whose dotless `ı` upper-cases to `I` as servers comparing upper-cased paths do).
fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
        || a.chars()
            .flat_map(char::to_uppercase)
            .eq(b.chars().flat_map(char::to_uppercase))
}

impl Pattern {
    /// Compiles `/health`, `/api/*`, `/admin/**`, `/users/:id`.
    pub fn parse(p: &str) -> Result<Pattern, &'static str> {
        if !p.starts_with('/') {
            return Err("pattern must start with '/'");
        }
        let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
        let mut segs = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let seg = if *part == "**" {
                if i + 1 != parts.len() {
                    return Err("'**' may only be the last segment");
                }
                Seg::Rest
            } else if *part == "*" {
                Seg::Any
            } else if let Some(name) = part.strip_prefix(':') {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err("a parameter is ':' followed by letters, digits or '_'");
                }
                Seg::Param(name.into())
            } else {
                if part.contains('*')
                    || part.contains('%')
                    || part.contains('?')
                    || part.contains('#')
                    || *part == "."
                    || *part == ".."
                {
                    return Err(
                        "a literal segment may not contain '*', '%', '?', '#' or be a dot segment",
                    );
                }
                Seg::Lit((*part).into())
            };
            segs.push(seg);
        }
        Ok(Pattern {
            source: p.into(),
            segs,
            case_insensitive: false,
        })
    }

    /// The same pattern, matching literal segments regardless of case.
    pub fn case_insensitive(mut self) -> Pattern {
        self.case_insensitive = true;
        self
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Matches a normalized path; returns the captured `:params`.
    pub fn matches(&self, path: &NormalizedPath) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        let mut i = 0;
        for seg in &self.segs {
            match seg {
                Seg::Rest => return Some(params),
                Seg::Lit(l) => {
                    let seg = path.segments.get(i)?;
                    let same = if self.case_insensitive {
                        eq_ignore_case(seg, l)
                    } else {
                        seg == l
                    };
                    if !same {
                        return None;
                    }
                }
                Seg::Any => {
                    path.segments.get(i)?;
                }
                Seg::Param(name) => params.push((name.clone(), path.segments.get(i)?.clone())),
            }
            i += 1;
        }
        if i == path.segments.len() {
            Some(params)
        } else {
            None
        }
    }
}

/// A condition on a verified claim.
#[derive(Clone, Debug, PartialEq)]
pub enum ClaimTest {
    /// The claim equals this JSON value.
    Equals(Value),
    /// The claim equals one of these values.
    In(Vec<Value>),
    /// The claim (a string) equals the route parameter of this name (multi-tenant rules).
    EqualsParam(String),
    /// The claim is present (any value but `null`).
    Exists,
}

/// `{"claim": "org_id", "equals": "acme"}` and friends.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimCondition {
    /// The claim path as written in the config (for messages).
    pub claim: String,
    /// The same path, parsed once at config time.
    pub path: ClaimPath,
    pub test: ClaimTest,
}

impl ClaimCondition {
    /// Reads and checks one condition (tests; the config reads the wire types once).
    #[cfg(test)]
    pub(crate) fn from_value(path: &str, v: &Value) -> CResult<ClaimCondition> {
        ClaimCondition::from_raw(path, crate::gate::wire::read(path, v)?)
    }

    pub(crate) fn from_raw(path: &str, o: RawClaimCondition) -> CResult<ClaimCondition> {
        let Str(claim) = o.claim;
        if claim.is_empty() {
            return Err(ConfigError::new(join(path, "claim"), "must not be empty"));
        }
        let n = [
            o.equals.is_some(),
            o.in_.is_some(),
            o.equals_param.is_some(),
            o.exists.is_some(),
        ]
        .iter()
        .filter(|k| **k)
        .count();
        if n != 1 {
            return Err(ConfigError::new(
                path,
                "expected exactly one of equals, in, equalsParam, exists",
            ));
        }
        let test = if let Some(v) = o.equals {
            ClaimTest::Equals(v)
        } else if let Some(v) = o.in_ {
            match v {
                Value::Array(items) if !items.is_empty() => ClaimTest::In(items),
                _ => {
                    return Err(ConfigError::new(
                        join(path, "in"),
                        "expected non-empty array",
                    ))
                }
            }
        } else if let Some(Str(p)) = o.equals_param {
            ClaimTest::EqualsParam(p)
        } else {
            match o.exists {
                Some(Bool(true)) => ClaimTest::Exists,
                _ => return Err(ConfigError::new(join(path, "exists"), "must be true")),
            }
        };
        let parsed = ClaimPath::parse(&claim);
        Ok(ClaimCondition {
            claim,
            path: parsed,
            test,
        })
    }

    /// Evaluates against verified claims and route params.
    pub fn holds(
        &self,
        claims: &serde_json::Map<String, Value>,
        params: &[(String, String)],
    ) -> bool {
        let value = self.path.lookup(claims);
        match (&self.test, value) {
            (_, None) | (_, Some(Value::Null)) => false,
            (ClaimTest::Exists, Some(_)) => true,
            (ClaimTest::Equals(want), Some(v)) => v == want,
            (ClaimTest::In(options), Some(v)) => options.contains(v),
            (ClaimTest::EqualsParam(name), Some(v)) => {
                let p = params
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str());
                matches!((v.as_str(), p), (Some(a), Some(b)) if a == b)
            }
        }
    }
}

/// mTLS requirement of a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mtls {
    /// No client certificate needed.
    Off,
    /// A verified client certificate; if the list is not empty, its SHA-256 fingerprint
    /// (hex, case and `:` ignored) must be one of these.
    Required { fingerprints: Vec<String> },
}

/// One route rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub name: Option<String>,
    pub pattern: Pattern,
    /// Upper-case methods; empty = any.
    pub methods: Vec<String>,
    pub public: bool,
    /// Credentials optional: a request without any passes as anonymous (identity headers
    /// stripped, `ip`/`header` rate limits applied); a request with a credential must pass
    /// every check of the route (a bad or expired token is refused, never downgraded).
    pub optional: bool,
    /// Providers accepted (names; `apiKey` for API keys); empty = any.
    pub providers: Vec<String>,
    pub roles: Vec<String>,
    /// `true`: every role in `roles`; `false`: at least one.
    pub all_roles: bool,
    /// Every one of these permissions.
    pub permissions: Vec<String>,
    pub claims: Vec<ClaimCondition>,
    pub mtls: Mtls,
    /// Decide, report, but let the request through.
    pub shadow: bool,
    /// Names of the `rateLimits` policies that apply (all of them), checked at start-up.
    pub rate_limits: Vec<String>,
}

/// Hex SHA-256 fingerprint, lowercased, separators removed.
pub(crate) fn normalize_fingerprint(f: &str) -> String {
    f.chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl Route {
    /// Reads and checks one route (tests; the config reads the wire types once).
    #[cfg(test)]
    pub(crate) fn from_value(path: &str, v: &Value) -> CResult<Route> {
        Route::from_raw(path, crate::gate::wire::read(path, v)?)
    }

    pub(crate) fn from_raw(path: &str, o: RawRoute) -> CResult<Route> {
        let at = |name: &str| join(path, name);
        let list = |l: Option<StrList>| l.map(|l| l.0).unwrap_or_default();
        let name = o.name.map(|s| s.0);
        let pattern = Pattern::parse(&o.path.0).map_err(|m| ConfigError::new(at("path"), m))?;
        let methods = list(o.methods);
        let mut upper = Vec::new();
        for (i, m) in methods.iter().enumerate() {
            if !is_token(m) {
                return Err(ConfigError::new(
                    format!("{}[{i}]", at("methods")),
                    "not a valid method",
                ));
            }
            upper.push(m.to_ascii_uppercase());
        }
        let public = o.public.is_some_and(|Bool(b)| b);
        let optional = o.optional.is_some_and(|Bool(b)| b);
        let providers = list(o.providers);
        let roles = list(o.roles);
        let all_roles = match o.roles_mode.as_ref().map(|s| s.0.as_str()) {
            None | Some("any") => false,
            Some("all") => true,
            Some(_) => {
                return Err(ConfigError::new(
                    at("rolesMode"),
                    "expected \"any\" or \"all\"",
                ))
            }
        };
        let permissions = list(o.permissions);
        for (i, perm) in permissions.iter().enumerate() {
            crate::gate::rbac::check_permission_pattern(
                &format!("{}[{i}]", at("permissions")),
                perm,
                false,
            )?;
        }
        let mut claims = Vec::new();
        for (i, raw) in o
            .claims
            .map(|l| l.0)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let cp = format!("{}[{i}]", at("claims"));
            let c = ClaimCondition::from_raw(&cp, raw)?;
            if let ClaimTest::EqualsParam(param) = &c.test {
                let known = pattern
                    .segs
                    .iter()
                    .any(|s| matches!(s, Seg::Param(n) if n == param));
                if !known {
                    return Err(ConfigError::new(
                        format!("{cp}.equalsParam"),
                        format!("the path has no parameter :{param}"),
                    ));
                }
            }
            claims.push(c);
        }
        let mtls = match o.mtls {
            None | Some(BoolOr::Bool(false)) => Mtls::Off,
            Some(BoolOr::Bool(true)) => Mtls::Required {
                fingerprints: Vec::new(),
            },
            Some(BoolOr::Obj(m)) => {
                let mut out = Vec::new();
                for (i, f) in list(m.fingerprints).iter().enumerate() {
                    let n = normalize_fingerprint(f);
                    if n.len() != 64 || !n.chars().all(|c| c.is_ascii_hexdigit()) {
                        return Err(ConfigError::new(
                            format!("{}[{i}]", join(&at("mtls"), "fingerprints")),
                            "expected a hex SHA-256 fingerprint",
                        ));
                    }
                    out.push(n);
                }
                Mtls::Required { fingerprints: out }
            }
        };
        let shadow = o.shadow.is_some_and(|Bool(b)| b);
        let rate_limits = list(o.rate_limits);
        if public
            && (!providers.is_empty()
                || !roles.is_empty()
                || !permissions.is_empty()
                || !claims.is_empty())
        {
            return Err(ConfigError::new(
                path,
                "a public route cannot require providers, roles, permissions or claims",
            ));
        }
        if optional && public {
            return Err(ConfigError::new(
                at("optional"),
                "a route is public or optional, not both",
            ));
        }
        if optional && (!roles.is_empty() || !permissions.is_empty() || !claims.is_empty()) {
            return Err(ConfigError::new(
                at("optional"),
                "an optional route cannot require roles, permissions or claims (a request without credentials would skip them)",
            ));
        }
        Ok(Route {
            name,
            pattern,
            methods: upper,
            public,
            optional,
            providers,
            roles,
            all_roles,
            permissions,
            claims,
            mtls,
            shadow,
            rate_limits,
        })
    }

    /// Whether this rule applies to `method` and the normalized path; returns params.
    /// `HEAD` is matched as `GET` as well: a `GET`-only rule decides `HEAD` requests.
    pub fn matches(&self, method: &str, path: &NormalizedPath) -> Option<Vec<(String, String)>> {
        let head = method.eq_ignore_ascii_case("HEAD");
        if !self.methods.is_empty()
            && !self
                .methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method) || (head && m == "GET"))
        {
            return None;
        }
        self.pattern.matches(path)
    }

    /// A label for logs (`name`, else the pattern).
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.pattern.as_str().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(p: &str) -> Result<String, PathError> {
        normalize(p).map(|x| x.as_path())
    }
    fn m(pattern: &str, path: &str) -> bool {
        Pattern::parse(pattern)
            .unwrap()
            .matches(&normalize(path).unwrap())
            .is_some()
    }

    #[test]
    fn normalization() {
        assert_eq!(n("/"), Ok("/".into()));
        assert_eq!(n("/api//x/"), Ok("/api/x".into()));
        assert_eq!(n("/api/./x?y=1#f"), Ok("/api/x".into()));
        assert_eq!(n("/api/../admin/x"), Ok("/admin/x".into()));
        assert_eq!(n("/api/%2e%2e/admin/x"), Ok("/admin/x".into()));
        assert_eq!(n("/api/%2E%2E/admin/x"), Ok("/admin/x".into()));
        assert_eq!(n("/api/.%2e/admin/x"), Ok("/admin/x".into()));
        assert_eq!(n("/../../etc"), Ok("/etc".into()));
        assert_eq!(n("/caf%C3%A9"), Ok("/café".into()));
        assert_eq!(n("/a%2fb"), Err(PathError::Forbidden));
        assert_eq!(n("/a%2Fb"), Err(PathError::Forbidden));
        assert_eq!(n("/a%5cb"), Err(PathError::Forbidden));
        assert_eq!(n("/api/%252e%252e/admin"), Err(PathError::Forbidden));
        assert_eq!(n("/a%00"), Err(PathError::Forbidden));
        assert_eq!(n("/api/..;/admin"), Err(PathError::Forbidden));
        assert_eq!(n("/a%zz"), Err(PathError::BadEscape));
        assert_eq!(n("/a%4"), Err(PathError::BadEscape));
        assert_eq!(n("/a%ff"), Err(PathError::NotUtf8));
        assert_eq!(n("api"), Err(PathError::NotAbsolute));
        assert_eq!(n("/a;b"), Ok("/a;b".into()));
        // segments an origin may read as another one
        for p in [
            "/admin./x",
            "/admin%2e/x",
            "/admin%20/x",
            "/admin /x",
            "/admin.;x/y",
            "/admin...",
            "/%EF%BD%81dmin/x",
            "/\u{ff41}dmin/x",
            "/cafe%CC%81",
            "/a%C2%A0",
            "/%EF%AC%81le",
        ] {
            assert_eq!(n(p), Err(PathError::Ambiguous), "{p}");
        }
        assert_eq!(n("/.well-known/x"), Ok("/.well-known/x".into()));
        assert_eq!(n("/a.b/c"), Ok("/a.b/c".into()));
        assert_eq!(n("/a%20b"), Ok("/a b".into()));
        assert_eq!(
            n("/%ED%95%9C/\u{65e5}\u{672c}"),
            Ok("/\u{d55c}/\u{65e5}\u{672c}".into())
        );
        // a combining mark is a "maybe" for the quick check: refused (fail closed)
        assert_eq!(n("/x%CC%81"), Err(PathError::Ambiguous));
    }

    #[test]
    fn head_is_matched_as_get_and_case_is_optional() {
        let r = Route::from_value(
            "r",
            &serde_json::from_str(r#"{"path": "/admin/**", "methods": ["GET"]}"#).unwrap(),
        )
        .unwrap();
        let p = normalize("/admin/x").unwrap();
        assert!(r.matches("GET", &p).is_some());
        assert!(r.matches("HEAD", &p).is_some());
        assert!(r.matches("head", &p).is_some());
        assert!(r.matches("POST", &p).is_none());
        let ci = Pattern::parse("/admin/**").unwrap().case_insensitive();
        assert!(ci.matches(&normalize("/ADMIN/x").unwrap()).is_some());
        assert!(ci.matches(&normalize("/aDmIn").unwrap()).is_some());
        assert!(!m("/admin/**", "/ADMIN/x"));
        let ci = Pattern::parse("/caf\u{e9}").unwrap().case_insensitive();
        assert!(ci.matches(&normalize("/CAF%C3%89").unwrap()).is_some());
    }

    #[test]
    fn patterns() {
        assert!(m("/health", "/health"));
        assert!(!m("/health", "/health/x"));
        assert!(m("/api/*", "/api/x"));
        assert!(!m("/api/*", "/api"));
        assert!(!m("/api/*", "/api/x/y"));
        assert!(m("/admin/**", "/admin"));
        assert!(m("/admin/**", "/admin/a/b/c"));
        assert!(!m("/admin/**", "/administrator"));
        assert!(m("/**", "/"));
        assert!(!m("/api/**", "/api/../admin/x"));
        assert!(!m("/api/**", "/api/%2e%2e/admin/x"));
        let p = Pattern::parse("/orgs/:org/users/:id").unwrap();
        let got = p
            .matches(&normalize("/orgs/acme/users/42").unwrap())
            .unwrap();
        assert_eq!(
            got,
            alloc::vec![("org".into(), "acme".into()), ("id".into(), "42".into())]
        );
        assert!(Pattern::parse("/a/**/b").is_err());
        assert!(Pattern::parse("a").is_err());
        assert!(Pattern::parse("/a*").is_err());
        assert!(Pattern::parse("/:").is_err());
    }

    #[test]
    fn route_config_errors() {
        let r = |j: &str| Route::from_value("routes[3]", &serde_json::from_str(j).unwrap());
        assert_eq!(
            r(r#"{"path": "/x", "roles": "admin"}"#)
                .unwrap_err()
                .to_string(),
            "routes[3].roles: expected array of strings"
        );
        assert_eq!(r(r#"{"path": "x"}"#).unwrap_err().path, "routes[3].path");
        assert_eq!(
            r(r#"{"path": "/x", "rolesMode": "some"}"#)
                .unwrap_err()
                .path,
            "routes[3].rolesMode"
        );
        assert_eq!(
            r(r#"{"path": "/x", "public": true, "roles": ["a"]}"#)
                .unwrap_err()
                .path,
            "routes[3]"
        );
        assert_eq!(
            r(r#"{"path": "/o/:org", "claims": [{"claim": "org_id", "equalsParam": "tenant"}]}"#)
                .unwrap_err()
                .path,
            "routes[3].claims[0].equalsParam"
        );
        assert_eq!(
            r(r#"{"path": "/x", "claims": [{"claim": "a", "equals": 1, "in": [1]}]}"#)
                .unwrap_err()
                .path,
            "routes[3].claims[0]"
        );
        assert_eq!(
            r(r#"{"path": "/x", "mtls": {"fingerprints": ["ab"]}}"#)
                .unwrap_err()
                .path,
            "routes[3].mtls.fingerprints[0]"
        );
        assert_eq!(
            r(r#"{"path": "/x", "methods": ["GET X"]}"#)
                .unwrap_err()
                .path,
            "routes[3].methods[0]"
        );
        assert_eq!(
            r(r#"{"path": "/x", "permissions": ["a:*"]}"#)
                .unwrap_err()
                .path,
            "routes[3].permissions[0]"
        );
        let ok = r(r#"{"path": "/x", "methods": ["get"], "mtls": true}"#).unwrap();
        assert_eq!(ok.methods, alloc::vec![String::from("GET")]);
        assert_eq!(
            ok.mtls,
            Mtls::Required {
                fingerprints: Vec::new()
            }
        );
    }

    #[test]
    fn claim_conditions() {
        let claims: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"org_id": "acme", "plan": "pro", "app": {"tier": 2}}"#)
                .unwrap();
        let c =
            |j: &str| ClaimCondition::from_value("c", &serde_json::from_str(j).unwrap()).unwrap();
        let params = alloc::vec![("org".to_string(), "acme".to_string())];
        assert!(c(r#"{"claim": "org_id", "equals": "acme"}"#).holds(&claims, &[]));
        assert!(!c(r#"{"claim": "org_id", "equals": "evil"}"#).holds(&claims, &[]));
        assert!(c(r#"{"claim": "plan", "in": ["pro", "team"]}"#).holds(&claims, &[]));
        assert!(!c(r#"{"claim": "plan", "in": ["free"]}"#).holds(&claims, &[]));
        assert!(c(r#"{"claim": "app.tier", "equals": 2}"#).holds(&claims, &[]));
        assert!(c(r#"{"claim": "org_id", "equalsParam": "org"}"#).holds(&claims, &params));
        assert!(!c(r#"{"claim": "org_id", "equalsParam": "org"}"#)
            .holds(&claims, &[("org".into(), "other".into())]));
        assert!(!c(r#"{"claim": "missing", "exists": true}"#).holds(&claims, &[]));
        assert!(c(r#"{"claim": "plan", "exists": true}"#).holds(&claims, &[]));
    }
}
