//! Regression tests for issue 7, config and policy rules:
//! finding 4 (token permissions are literal), 8 (path and method differentials with the
//! origin), 9 (`AUTH_ENABLED` exactly `true`/`false`), 10 (one URL rule judging the real
//! host) and 13 (role-graph validation in linear time).
//! Each test fails on the code before its fix.

use std::time::{Duration, Instant};

use edgegate::gate::{Config, Env};
use edgegate::gate::{Ctx, Decision, Gate, Io, Pending, Request, Step};
use edgegate::gate::{MemoryStore, NewKey, Store, RANDOM_BYTES};
use edgegate::url::{fetchable, UrlError};
use edgegate::ErrorCode;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

mod common;
use common::b64url;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "sec-rules-test-secret-0123456789abcdef";

/// An HS256 JWT for the test issuer with extra claims.
fn token(extra: Value) -> String {
    let mut claims = json!({"iss": "https://issuer.example", "aud": "api", "sub": "user-1",
                            "iat": NOW - 10, "exp": NOW + 3600});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let input = format!(
        "{}.{}",
        b64url(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

fn env() -> Env {
    let mut e = Env::new();
    e.insert("JWT_SECRET".into(), SECRET.into());
    e
}

fn provider() -> Value {
    json!({"type": "jwt", "issuer": "https://issuer.example", "audience": "api",
           "secret": {"env": "JWT_SECRET"}, "permissionsClaim": ["permissions", "scope"]})
}

fn gate(config: Value) -> Gate {
    Gate::from_config(config.to_string().as_bytes(), &env()).unwrap()
}

/// Decides as a host would, API-key and revocation lookups answered from `store`; any
/// other I/O is a test failure.
fn decide(g: &Gate, req: &Request, store: &dyn Store) -> Decision {
    match g.decide_with_store(&mut Pending::new(req.clone()), NOW, &mut Ctx::new(), store) {
        Step::Done(d) => d,
        Step::Need(io) => panic!("unexpected io {io:?}"),
    }
}

fn bearer(method: &str, path: &str, credential: &str) -> Request {
    Request::new(method, path).header("Authorization", &format!("Bearer {credential}"))
}

fn deny_of(d: &Decision) -> (ErrorCode, String) {
    match d {
        Decision::Deny(d) => (d.code, d.detail.clone()),
        Decision::Allow(a) => panic!("allowed: {a:?}"),
        other => panic!("not a denial: {other:?}"),
    }
}

// ---------------------------------------------------------------- finding 4

fn rbac_gate() -> Gate {
    gate(json!({
        "providers": [provider()],
        "apiKeys": {"enabled": true},
        "rbac": {"roles": {"viewer": {"permissions": ["*:read"]},
                           "ops": {"permissions": ["admin:*"]}}},
        "routes": [
            {"path": "/admin/delete", "permissions": ["admin:delete"], "providers": ["jwt", "apiKey"]},
            {"path": "/posts", "permissions": ["posts:read"], "providers": ["jwt", "apiKey"]}
        ]
    }))
}

#[test]
fn finding4_token_permissions_are_literal_never_wildcards() {
    let g = rbac_gate();
    let store = MemoryStore::new();
    for claims in [
        json!({"scope": "*"}),
        json!({"scope": "openid *"}),
        json!({"permissions": ["*"]}),
        json!({"permissions": ["admin:*"]}),
        json!({"permissions": ["*:*"]}),
        json!({"permissions": ["*:delete"]}),
        json!({"scope": "admin:*"}),
    ] {
        let d = decide(
            &g,
            &bearer("GET", "/admin/delete", &token(claims.clone())),
            &store,
        );
        assert_eq!(
            deny_of(&d).0,
            ErrorCode::InsufficientPermissions,
            "{claims}"
        );
    }
    // literal token permissions and config role patterns still grant
    let ok = [
        (json!({"permissions": ["admin:delete"]}), "/admin/delete"),
        (json!({"scope": "admin:delete"}), "/admin/delete"),
        (json!({"roles": ["ops"]}), "/admin/delete"),
        (json!({"roles": ["viewer"]}), "/posts"),
    ];
    for (claims, path) in ok {
        let d = decide(&g, &bearer("GET", path, &token(claims.clone())), &store);
        assert!(d.is_allowed(), "{claims} {path}: {d:?}");
    }
}

fn rnd(seed: u8) -> [u8; RANDOM_BYTES] {
    let mut r = [0u8; RANDOM_BYTES];
    for (i, b) in r.iter_mut().enumerate() {
        *b = seed.wrapping_mul(31).wrapping_add(i as u8).wrapping_mul(7);
    }
    r
}

#[test]
fn finding4_api_key_record_permissions_are_literal() {
    let g = rbac_gate();
    let mut store = MemoryStore::new();
    let mk = |perms: &[&str], seed: u8, store: &mut MemoryStore| {
        store
            .create(
                NewKey {
                    account: "acct".into(),
                    name: "ci".into(),
                    roles: vec![],
                    permissions: perms.iter().map(|s| s.to_string()).collect(),
                    expires_at: NOW + 3600,
                },
                &rnd(seed),
                NOW - 10,
            )
            .unwrap()
            .key
    };
    for (i, perms) in [&["*"][..], &["admin:*"], &["*:*"]].iter().enumerate() {
        let key = mk(perms, i as u8 + 1, &mut store);
        let d = decide(&g, &bearer("GET", "/admin/delete", &key), &store);
        assert_eq!(
            deny_of(&d).0,
            ErrorCode::InsufficientPermissions,
            "{perms:?}"
        );
    }
    let key = mk(&["admin:delete"], 9, &mut store);
    assert!(decide(&g, &bearer("GET", "/admin/delete", &key), &store).is_allowed());
}

// ---------------------------------------------------------------- finding 8

fn path_config(case_insensitive: Option<bool>) -> Value {
    let mut c = json!({
        "providers": [provider()],
        "routes": [
            {"path": "/admin/**", "roles": ["admin"]},
            {"path": "/reports/**", "methods": ["GET"], "roles": ["admin"]},
            {"path": "/**"}
        ]
    });
    if let Some(ci) = case_insensitive {
        c["caseInsensitivePaths"] = json!(ci);
    }
    c
}

#[test]
fn finding8_ambiguous_segments_are_refused() {
    let g = gate(path_config(None));
    let store = MemoryStore::new();
    let user = token(json!({"roles": ["user"]}));
    for path in [
        "/admin./x",
        "/admin%2E/x",
        "/admin%20/x",
        "/admin /x",
        "/admin.%20/x",
        "/admin.;v=1/x",
        "/\u{ff41}dmin/x",
        "/%EF%BD%81dmin/x",
        "/\u{ff21}\u{ff24}\u{ff2d}\u{ff29}\u{ff2e}/x",
        "/admin\u{00a0}/x",
        "/admin\u{3000}/x",
    ] {
        let d = decide(&g, &bearer("GET", path, &user), &store);
        let (code, detail) = deny_of(&d);
        assert_eq!(
            (code, detail.as_str()),
            (ErrorCode::AccessDenied, "invalid request path"),
            "{path}"
        );
    }
    // ordinary paths still work
    for path in [
        "/api/x",
        "/.well-known/x",
        "/files/a.b",
        "/caf%C3%A9",
        "/a%20b",
    ] {
        assert!(
            decide(&g, &bearer("GET", path, &user), &store).is_allowed(),
            "{path}"
        );
    }
}

#[test]
fn finding8_head_is_matched_as_get() {
    let g = gate(path_config(None));
    let store = MemoryStore::new();
    let user = token(json!({"roles": ["user"]}));
    let admin = token(json!({"roles": ["admin"]}));
    for method in ["HEAD", "head", "GET"] {
        let d = decide(&g, &bearer(method, "/reports/x", &user), &store);
        assert_eq!(deny_of(&d).0, ErrorCode::InsufficientRoles, "{method}");
        let d = decide(&g, &bearer(method, "/reports/x", &admin), &store);
        assert!(d.is_allowed(), "{method}");
    }
    // a POST to /reports is not a GET: the catch-all decides it
    assert!(decide(&g, &bearer("POST", "/reports/x", &user), &store).is_allowed());
}

#[test]
fn finding8_case_insensitive_paths_per_config() {
    let store = MemoryStore::new();
    let user = token(json!({"roles": ["user"]}));
    let admin = token(json!({"roles": ["admin"]}));
    let ci = gate(path_config(Some(true)));
    // U+0131 (dotless i) upper-cases to `I`: servers comparing upper-cased paths read
    // `/ADMıN` as `/ADMIN`, so it meets the admin rule too.
    for path in [
        "/ADMIN/x",
        "/Admin",
        "/aDmIn/a/b",
        "/admin/x",
        "/adm\u{0131}n/x",
        "/ADM%C4%B1N",
    ] {
        let d = decide(&ci, &bearer("GET", path, &user), &store);
        assert_eq!(deny_of(&d).0, ErrorCode::InsufficientRoles, "{path}");
        assert!(
            decide(&ci, &bearer("GET", path, &admin), &store).is_allowed(),
            "{path}"
        );
    }
    assert!(ci.config().case_insensitive_paths);
    // default: case-sensitive (documented), so /ADMIN is another path
    let cs = gate(path_config(None));
    assert!(!cs.config().case_insensitive_paths);
    assert!(decide(&cs, &bearer("GET", "/ADMIN/x", &user), &store).is_allowed());
    assert!(
        !gate(path_config(Some(false)))
            .config()
            .case_insensitive_paths
    );
    let e = Config::from_json(br#"{"caseInsensitivePaths": "yes"}"#, &Env::new()).unwrap_err();
    assert_eq!(e.path, "caseInsensitivePaths");
}

// ---------------------------------------------------------------- finding 9

#[test]
fn finding9_auth_enabled_is_exactly_true_or_false() {
    for bad in [
        "0", "1", "no", "off", "yes", "on", " false", "false ", "FALSE", "False", "TRUE", "",
        "maybe",
    ] {
        let mut e = Env::new();
        e.insert("AUTH_ENABLED".into(), bad.into());
        let err = Config::from_json(b"{}", &e).unwrap_err();
        assert_eq!(err.path, "env.AUTH_ENABLED", "{bad:?}");
        assert_eq!(err.code(), ErrorCode::ConfigError, "{bad:?}");
        // `enabled` from the environment follows the same rule
        let mut e = Env::new();
        e.insert("GATE_ON".into(), bad.into());
        if !bad.is_empty() {
            let err = Config::from_json(br#"{"enabled": {"env": "GATE_ON"}}"#, &e).unwrap_err();
            assert_eq!(err.path, "enabled", "{bad:?}");
        }
        let err = Config::from_value(&json!({ "enabled": bad }), &Env::new()).unwrap_err();
        assert_eq!(err.path, "enabled", "{bad:?}");
    }
    for (v, enabled) in [("true", true), ("false", false)] {
        let mut e = Env::new();
        e.insert("AUTH_ENABLED".into(), v.into());
        assert_eq!(Config::from_json(b"{}", &e).unwrap().enabled, enabled);
    }
}

// ---------------------------------------------------------------- finding 10

#[test]
fn finding10_one_url_rule_judges_the_real_host() {
    for bad in [
        "http://localhost:1@attacker.example/jwks",
        "http://127.0.0.1:@attacker.example/jwks",
        "http://localhost@attacker.example/jwks",
        "https://user:pw@idp.example/jwks",
        "http://localhost.attacker.example/jwks",
        "http://127.0.0.1.attacker.example/jwks",
        "http://attacker.example/jwks",
        "http://localhost\\@attacker.example/jwks",
        "ftp://idp.example/jwks",
    ] {
        assert!(fetchable(bad).is_err(), "{bad}");
        let c =
            json!({"providers": [{"type": "jwt", "issuer": "https://i.example", "jwksUrl": bad}]});
        let err = Config::from_value(&c, &Env::new()).unwrap_err();
        assert_eq!(err.path, "providers[0].jwksUrl", "{bad}");
        // every other configured URL goes through the same rule
        let c = json!({"providers": [{"type": "oidc", "issuer": "https://i.example",
            "introspection": {"url": bad, "clientId": "c", "clientSecret": "s"}}]});
        let err = Config::from_value(&c, &Env::new()).unwrap_err();
        assert_eq!(err.path, "providers[0].introspection.url", "{bad}");
    }
    assert_eq!(
        fetchable("http://localhost:1@attacker.example/jwks"),
        Err(UrlError::Userinfo)
    );
    for good in [
        "https://idp.example/jwks",
        "http://localhost:8080/jwks",
        "http://127.0.0.1/jwks",
        "http://[::1]:9000/jwks",
    ] {
        let f = fetchable(good).unwrap();
        assert!(f.https == good.starts_with("https://"), "{good}");
        let c =
            json!({"providers": [{"type": "jwt", "issuer": "https://i.example", "jwksUrl": good}]});
        assert!(Config::from_value(&c, &Env::new()).is_ok(), "{good}");
    }
}

#[test]
fn finding10_discovery_jwks_uri_with_userinfo_is_never_fetched() {
    let g = gate(json!({
        "providers": [{"type": "oidc", "name": "idp", "issuer": "https://id.example"}],
        "routes": [{"path": "/**"}]
    }));
    let t = {
        let input = format!(
            "{}.{}",
            b64url(br#"{"alg":"RS256","kid":"k1"}"#),
            b64url(
                json!({"iss": "https://id.example", "sub": "u", "exp": NOW + 60})
                    .to_string()
                    .as_bytes()
            )
        );
        format!("{input}.{}", b64url(&[1u8; 256]))
    };
    for uri in [
        "http://127.0.0.1:@attacker.example/jwks",
        "http://localhost:1@attacker.example/jwks",
        "http://localhost.attacker.example/jwks",
        "https://u@attacker.example/jwks",
    ] {
        let mut req = Pending::new(bearer("GET", "/x", &t));
        let mut ctx = Ctx::new();
        let mut fetched = Vec::new();
        let mut decision = None;
        for _ in 0..10 {
            match g.decide(&req, NOW, &mut ctx) {
                Step::Done(d) => {
                    decision = Some(d);
                    break;
                }
                Step::Need(Io::Discovery { provider, .. }) => {
                    let doc = json!({"issuer": "https://id.example", "jwks_uri": uri});
                    req.provide_discovery(&mut ctx, &provider, doc.to_string().as_bytes());
                }
                Step::Need(Io::Jwks { url, provider, .. }) => {
                    fetched.push(url);
                    req.provide_jwks_error(&provider);
                }
                Step::Need(other) => panic!("unexpected io {other:?}"),
            }
        }
        assert_eq!(fetched, Vec::<String>::new(), "{uri}");
        let d = decision.expect("a decision");
        assert_eq!(deny_of(&d).0, ErrorCode::ProviderError, "{uri}");
    }
}

// ---------------------------------------------------------------- finding 13

/// `levels` levels of `width` roles; every role inherits `fan` roles of the next level
/// (`fan == width`: every role of the next level).
fn lattice(levels: usize, width: usize, fan: usize) -> Value {
    let mut roles = serde_json::Map::new();
    for l in 0..levels {
        for i in 0..width {
            let inherits: Vec<String> = if l + 1 < levels {
                (0..fan)
                    .map(|k| format!("r{}_{}", l + 1, (i + k) % width))
                    .collect()
            } else {
                vec![]
            };
            roles.insert(
                format!("r{l}_{i}"),
                json!({"inherits": inherits, "permissions": [format!("p{l}:x")]}),
            );
        }
    }
    json!({"rbac": {"roles": roles}})
}

fn timed(c: &Value) -> (Result<Config, edgegate::gate::ConfigError>, Duration) {
    let t = Instant::now();
    let r = Config::from_value(c, &Env::new());
    (r, t.elapsed())
}

#[test]
fn finding13_role_hierarchy_validates_in_linear_time() {
    // 10 levels of 6 roles, each inheriting all 6 of the next: 6^9 chains, 60 roles.
    let (r, t) = timed(&lattice(10, 6, 6));
    let config = r.unwrap();
    assert!(t < Duration::from_secs(2), "60 roles took {t:?}");
    assert_eq!(config.rbac.roles.len(), 60);
    // a 2000-role diamond lattice (10 levels of 200, fan-out 20)
    let (r, t) = timed(&lattice(10, 200, 20));
    assert!(r.is_ok(), "{:?}", r.err());
    assert!(t < Duration::from_secs(2), "2000 roles took {t:?}");
    // the top role inherits every role below it
    let g = Gate::new(config);
    let all = g.config().rbac.expand_roles(&["r0_0".to_string()]);
    assert_eq!(all.len(), 1 + 6 * 9);
    // depth and cycle checks are kept, also on big graphs
    let (r, t) = timed(&lattice(12, 200, 20));
    let e = r.unwrap_err();
    assert!(e.message.contains("deeper than 10"), "{e}");
    assert_eq!(e.path, "rbac.roles.r0_0.inherits");
    assert!(t < Duration::from_secs(2), "12 levels took {t:?}");
    let mut c = lattice(10, 200, 20);
    c["rbac"]["roles"]["r2_0"]["inherits"]
        .as_array_mut()
        .unwrap()
        .push(json!("r1_0"));
    let (r, t) = timed(&c);
    let e = r.unwrap_err();
    assert!(e.message.contains("inheritance cycle"), "{e}");
    assert!(t < Duration::from_secs(2), "cycle took {t:?}");
}
