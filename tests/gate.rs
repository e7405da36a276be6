//! Table-driven tests of the gate's decision over a realistic config: public routes, an
//! admin area, a multi-tenant rule, several providers, API keys, revocation, a shadow
//! route, mTLS, CORS preflight, header stripping and path normalization attacks; and one
//! test per provider preset with a token shaped like that provider's real tokens
//! (fixtures from `tests/fixtures/gate/gen.py`).

use std::collections::BTreeMap;

use edgegate::gate::Env;
use edgegate::gate::{AllowReason, ClientCert, Ctx, Decision, Gate, Io, Pending, Request, Step};
use edgegate::gate::{MemoryStore, NewKey, Store, RANDOM_BYTES};
use edgegate::ErrorCode;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

mod common;
use common::b64url;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "main-test-secret-0123456789abcdef!!";
const PARTNER_SECRET: &str = "partner-test-secret-0123456789abcd";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gate/");
const FP: &str = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

fn b64url_decode(s: &str) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let vals: Vec<u32> = s
        .bytes()
        .map(|c| A.iter().position(|a| *a == c).unwrap() as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, v)| acc | (v << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// Signs an HS256 JWT with `secret` (what a real issuer would do).
fn hs256(secret: &str, claims: Value) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

fn main_token(extra: Value) -> String {
    let mut claims = json!({"iss": "https://issuer.example", "aud": "api", "sub": "user-1", "iat": NOW - 10, "exp": NOW + 3600});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    hs256(SECRET, claims)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}{name}")).unwrap()
}

fn token_fixture(name: &str) -> String {
    let all: Value = serde_json::from_str(&fixture("tokens.json")).unwrap();
    all[name].as_str().unwrap().to_string()
}

fn env() -> Env {
    let mut e = BTreeMap::new();
    e.insert("JWT_SECRET".to_string(), SECRET.to_string());
    e.insert("PARTNER_SECRET".to_string(), PARTNER_SECRET.to_string());
    e
}

fn config() -> Value {
    json!({
        "providers": [
            {"type": "jwt", "name": "main", "issuer": "https://issuer.example", "audience": "api",
             "secret": {"env": "JWT_SECRET"}, "orgClaim": "org_id"},
            {"type": "jwt", "name": "partner", "issuer": "https://partner.example", "audience": "api",
             "secret": {"env": "PARTNER_SECRET"}},
            {"type": "keycloak", "serverUrl": "https://kc.acme.example", "realm": "acme", "clientId": "gateway"}
        ],
        "apiKeys": {"enabled": true},
        "revocation": {"enabled": true},
        "rbac": {
            "roles": {
                "admin": {"inherits": ["editor"], "permissions": ["admin:*"]},
                "editor": {"inherits": ["viewer"], "permissions": ["reports:*"]},
                "viewer": {"permissions": ["*:read"]}
            },
            "superAdmins": ["root"]
        },
        "cors": {"preflight": true, "origins": ["https://app.example"]},
        "routes": [
            {"name": "health", "path": "/health", "methods": ["GET"], "public": true},
            {"name": "admin", "path": "/admin/**", "roles": ["admin"]},
            {"name": "tenant", "path": "/orgs/:org/**", "claims": [{"claim": "org_id", "equalsParam": "org"}]},
            {"name": "reports", "path": "/reports/**", "permissions": ["reports:export"]},
            {"name": "owners", "path": "/owners/**", "roles": ["owner", "admin"], "rolesMode": "all"},
            {"name": "plans", "path": "/pro/**", "claims": [{"claim": "plan", "in": ["pro", "team"]}]},
            {"name": "partner", "path": "/partner/**", "providers": ["partner"]},
            {"name": "machines", "path": "/machine/**", "providers": ["apiKey"]},
            {"name": "beta", "path": "/beta/**", "roles": ["beta"], "shadow": true},
            {"name": "internal", "path": "/internal/**", "mtls": {"fingerprints": [FP]}},
            {"name": "api", "path": "/api/**"},
            {"name": "ops", "path": "/ops/**", "roles": ["admin"], "providers": ["apiKey"]}
        ]
    })
}

fn gate() -> Gate {
    Gate::from_config(config().to_string().as_bytes(), &env()).unwrap()
}

fn rnd(seed: u8) -> [u8; RANDOM_BYTES] {
    let mut r = [0u8; RANDOM_BYTES];
    for (i, b) in r.iter_mut().enumerate() {
        *b = (u32::from(seed)
            .wrapping_mul(2_654_435_761)
            .wrapping_add(i as u32 * 40_503)
            >> 11) as u8;
    }
    r
}

/// Runs the step machine as a host would, with fixture JWKS/discovery and `store`.
fn run(
    gate: &Gate,
    req: &Request,
    now: i64,
    ctx: &mut Ctx,
    store: &dyn Store,
) -> (Decision, Vec<Io>) {
    let mut ios = Vec::new();
    let mut pending = Pending::new(req.clone());
    for _ in 0..10 {
        match gate.decide_with_store(&mut pending, now, ctx, store) {
            Step::Done(d) => return (d, ios),
            Step::Need(io) => {
                match &io {
                    Io::Jwks { provider, .. } => pending
                        .provide_jwks(ctx, provider, fixture("jwks.json").as_bytes())
                        .unwrap(),
                    Io::Discovery { provider, .. } => pending.provide_discovery(
                        ctx,
                        provider,
                        fixture("discovery.json").as_bytes(),
                    ),
                    other => panic!("unexpected io {other:?}"),
                }
                ios.push(io);
            }
        }
    }
    panic!("no decision after 10 steps")
}

fn decide(gate: &Gate, req: &Request, store: &dyn Store) -> Decision {
    run(gate, req, NOW, &mut Ctx::new(), store).0
}

fn bearer(method: &str, path: &str, token: &str) -> Request {
    Request::new(method, path).header("Authorization", &format!("Bearer {token}"))
}

fn expect(d: &Decision, allowed: bool, code: Option<ErrorCode>, what: &str) {
    assert_eq!(d.is_allowed(), allowed, "{what}: {d:?}");
    assert_eq!(d.code(), code, "{what}: {d:?}");
}

struct Keys {
    store: MemoryStore,
    machine: String,
    admin_key: String,
    expired: String,
    revoked: String,
    /// Well-formed, never stored.
    unknown: String,
}

fn keys() -> Keys {
    let mut store = MemoryStore::new();
    let mk = |roles: &[&str], exp: i64| NewKey {
        account: "acct_42".into(),
        name: "ci".into(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        permissions: vec!["deploy:run".into()],
        expires_at: exp,
    };
    let machine = store
        .create(mk(&[], NOW + 86_400), &rnd(1), NOW - 100)
        .unwrap()
        .key;
    let admin_key = store
        .create(mk(&["admin"], NOW + 86_400), &rnd(2), NOW - 100)
        .unwrap()
        .key;
    let expired = store
        .create(mk(&[], NOW - 1), &rnd(3), NOW - 100)
        .unwrap()
        .key;
    let r = store
        .create(mk(&[], NOW + 86_400), &rnd(4), NOW - 100)
        .unwrap();
    store.revoke_key(&r.record.id).unwrap();
    store.revoke("revoked-jti", NOW + 3600);
    let unknown = edgegate::gate::create_api_key(mk(&[], NOW + 60), &rnd(9), NOW)
        .unwrap()
        .key;
    Keys {
        store,
        machine,
        admin_key,
        expired,
        revoked: r.key,
        unknown,
    }
}

#[test]
fn decision_table() {
    let g = gate();
    let k = keys();
    let s = &k.store;
    let user = main_token(json!({}));
    let admin = main_token(json!({"roles": ["admin"], "org_id": "acme", "plan": "pro"}));
    let root = main_token(json!({"roles": ["root"]}));
    let editor = main_token(json!({"roles": ["editor"]}));
    let viewer = main_token(json!({"roles": ["viewer"], "org_id": "acme"}));
    let partner = hs256(
        PARTNER_SECRET,
        json!({"iss": "https://partner.example", "aud": "api", "sub": "p-1", "exp": NOW + 60}),
    );
    let forged_partner = hs256(
        SECRET,
        json!({"iss": "https://partner.example", "aud": "api", "sub": "p-1", "exp": NOW + 60}),
    );
    let expired = main_token(json!({"exp": NOW - 100}));
    let wrong_aud = main_token(json!({"aud": "other"}));
    let unknown_iss = hs256(
        SECRET,
        json!({"iss": "https://unknown.example", "sub": "x", "exp": NOW + 60}),
    );
    let revoked = main_token(json!({"jti": "revoked-jti"}));
    let live_jti = main_token(json!({"jti": "live-jti"}));
    let mut bad_sig = main_token(json!({}));
    bad_sig.pop();
    bad_sig.push(if user.ends_with('A') { 'B' } else { 'A' });

    use ErrorCode::*;
    let cases: Vec<(&str, Request, bool, Option<ErrorCode>)> = vec![
        (
            "public route, no token",
            Request::new("GET", "/health"),
            true,
            None,
        ),
        (
            "public route is GET only",
            Request::new("POST", "/health"),
            false,
            Some(AccessDenied),
        ),
        (
            "no route matches",
            bearer("GET", "/nowhere", &admin),
            false,
            Some(AccessDenied),
        ),
        (
            "api without token",
            Request::new("GET", "/api/x"),
            false,
            Some(MissingToken),
        ),
        ("api with token", bearer("GET", "/api/x", &user), true, None),
        (
            "api with lowercase scheme",
            Request::new("GET", "/api/x").header("authorization", &format!("bearer {user}")),
            true,
            None,
        ),
        (
            "basic auth is not a bearer token",
            Request::new("GET", "/api/x").header("Authorization", "Basic dTpw"),
            false,
            Some(MissingToken),
        ),
        (
            "two bearer tokens",
            bearer("GET", "/api/x", &user).header("Authorization", &format!("Bearer {admin}")),
            false,
            Some(InvalidToken),
        ),
        (
            "garbage token",
            bearer("GET", "/api/x", "not.a.jwt"),
            false,
            Some(DecodeFailed),
        ),
        (
            "opaque token, no introspection",
            bearer("GET", "/api/x", "opaque-token"),
            false,
            Some(DecodeFailed),
        ),
        (
            "expired",
            bearer("GET", "/api/x", &expired),
            false,
            Some(TokenExpired),
        ),
        (
            "bad signature",
            bearer("GET", "/api/x", &bad_sig),
            false,
            Some(InvalidSignature),
        ),
        (
            "wrong audience",
            bearer("GET", "/api/x", &wrong_aud),
            false,
            Some(InvalidToken),
        ),
        (
            "unknown issuer",
            bearer("GET", "/api/x", &unknown_iss),
            false,
            Some(InvalidToken),
        ),
        (
            "revoked jti",
            bearer("GET", "/api/x", &revoked),
            false,
            Some(Revoked),
        ),
        ("live jti", bearer("GET", "/api/x", &live_jti), true, None),
        (
            "admin area as user",
            bearer("GET", "/admin/users", &user),
            false,
            Some(InsufficientRoles),
        ),
        (
            "admin area as editor",
            bearer("GET", "/admin/users", &editor),
            false,
            Some(InsufficientRoles),
        ),
        (
            "admin area as admin",
            bearer("DELETE", "/admin/users/1", &admin),
            true,
            None,
        ),
        (
            "admin area root",
            bearer("GET", "/admin", &admin),
            true,
            None,
        ),
        (
            "super-admin passes role checks",
            bearer("GET", "/admin/x", &root),
            true,
            None,
        ),
        (
            "rolesMode all, admin without owner",
            bearer("GET", "/owners/x", &admin),
            false,
            Some(InsufficientRoles),
        ),
        (
            "permission via role inheritance",
            bearer("GET", "/reports/q3", &admin),
            true,
            None,
        ),
        (
            "permission via wildcard",
            bearer("GET", "/reports/q3", &editor),
            true,
            None,
        ),
        (
            "missing permission",
            bearer("GET", "/reports/q3", &viewer),
            false,
            Some(InsufficientPermissions),
        ),
        (
            "tenant: own org",
            bearer("GET", "/orgs/acme/projects", &admin),
            true,
            None,
        ),
        (
            "tenant: other org",
            bearer("GET", "/orgs/globex/projects", &admin),
            false,
            Some(AccessDenied),
        ),
        (
            "tenant: no org claim",
            bearer("GET", "/orgs/acme/projects", &user),
            false,
            Some(AccessDenied),
        ),
        ("plan in list", bearer("GET", "/pro/x", &admin), true, None),
        (
            "plan missing",
            bearer("GET", "/pro/x", &user),
            false,
            Some(AccessDenied),
        ),
        (
            "partner route, partner token",
            bearer("GET", "/partner/x", &partner),
            true,
            None,
        ),
        (
            "partner route, main token",
            bearer("GET", "/partner/x", &user),
            false,
            Some(AccessDenied),
        ),
        (
            "partner issuer, main secret",
            bearer("GET", "/api/x", &forged_partner),
            false,
            Some(InvalidSignature),
        ),
        (
            "machine route, api key",
            bearer("POST", "/machine/deploy", &k.machine),
            true,
            None,
        ),
        (
            "machine route, jwt",
            bearer("POST", "/machine/deploy", &admin),
            false,
            Some(AccessDenied),
        ),
        // Least privilege: a route without `providers` takes tokens, not API keys.
        (
            "api key on api (no providers list)",
            bearer("GET", "/api/x", &k.machine),
            false,
            Some(InvalidCredentials),
        ),
        (
            "api key on admin (no providers list)",
            bearer("GET", "/admin/x", &k.admin_key),
            false,
            Some(InvalidCredentials),
        ),
        (
            "api key with admin role",
            bearer("GET", "/ops/x", &k.admin_key),
            true,
            None,
        ),
        (
            "api key without admin role",
            bearer("GET", "/ops/x", &k.machine),
            false,
            Some(InsufficientRoles),
        ),
        (
            "expired api key",
            bearer("GET", "/machine/x", &k.expired),
            false,
            Some(InvalidCredentials),
        ),
        (
            "revoked api key",
            bearer("GET", "/machine/x", &k.revoked),
            false,
            Some(InvalidCredentials),
        ),
        (
            "malformed api key",
            bearer("GET", "/machine/x", "egk_nothing"),
            false,
            Some(InvalidCredentials),
        ),
        (
            "unknown api key",
            bearer("GET", "/machine/x", &k.unknown),
            false,
            Some(InvalidCredentials),
        ),
        (
            "shadow route lets a denial through",
            bearer("GET", "/beta/x", &user),
            true,
            None,
        ),
        (
            "mtls without certificate",
            bearer("GET", "/internal/x", &user),
            false,
            Some(AccessDenied),
        ),
        (
            "mtls unverified certificate",
            Request {
                client_cert: Some(ClientCert {
                    verified: false,
                    fingerprint_sha256: Some(FP.into()),
                }),
                ..bearer("GET", "/internal/x", &user)
            },
            false,
            Some(AccessDenied),
        ),
        (
            "mtls wrong fingerprint",
            Request {
                client_cert: Some(ClientCert {
                    verified: true,
                    fingerprint_sha256: Some("00".repeat(32)),
                }),
                ..bearer("GET", "/internal/x", &user)
            },
            false,
            Some(AccessDenied),
        ),
        (
            "mtls right fingerprint",
            Request {
                client_cert: Some(ClientCert {
                    verified: true,
                    fingerprint_sha256: Some(FP.to_lowercase().replace(':', "")),
                }),
                ..bearer("GET", "/internal/x", &user)
            },
            true,
            None,
        ),
        (
            "cors preflight from allowed origin (answered, not forwarded)",
            Request::new("OPTIONS", "/admin/x")
                .header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "DELETE"),
            false,
            None,
        ),
        (
            "cors preflight from other origin",
            Request::new("OPTIONS", "/admin/x")
                .header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "DELETE"),
            false,
            Some(MissingToken),
        ),
        (
            "OPTIONS without preflight headers",
            Request::new("OPTIONS", "/admin/x"),
            false,
            Some(MissingToken),
        ),
    ];
    let mut failures = Vec::new();
    for (name, req, allowed, code) in &cases {
        let d = decide(&g, req, s);
        if d.is_allowed() != *allowed || d.code() != *code {
            failures.push(format!(
                "{name}: expected allowed={allowed} code={code:?}, got {d:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn path_normalization_attacks_never_reach_api_rules() {
    let g = gate();
    let s = MemoryStore::new();
    let user = main_token(json!({}));
    for path in [
        "/api/../admin/x",
        "/api/%2e%2e/admin/x",
        "/api/%2E%2E/admin/x",
        "/api/.%2e/admin/x",
        "/api/./../admin/x",
        "//api/../admin/x",
        "/api/x/../../admin/x",
    ] {
        let d = decide(&g, &bearer("GET", path, &user), &s);
        expect(&d, false, Some(ErrorCode::InsufficientRoles), path);
    }
    for path in [
        "/api/%2fadmin",
        "/api%2F..%2Fadmin/x",
        "/api/%252e%252e/admin/x",
        "/api/..;/admin/x",
        "/api/%zz",
        "/api/%c0%ae%c0%ae/admin",
    ] {
        let d = decide(&g, &bearer("GET", path, &user), &s);
        expect(&d, false, Some(ErrorCode::AccessDenied), path);
    }
    // and a public route is still reachable through a normalized form
    let d = decide(&g, &Request::new("GET", "/api/../health"), &s);
    expect(&d, true, None, "/api/../health");
    let Decision::Allow(a) = d else {
        unreachable!()
    };
    assert_eq!(a.path.as_deref(), Some("/health"));
}

#[test]
fn allow_carries_identity_headers_and_strips_forged_ones() {
    let g = gate();
    let s = MemoryStore::new();
    let t =
        main_token(json!({"roles": ["editor"], "org_id": "acme", "permissions": ["extra:thing"]}));
    let req = bearer("GET", "/api/x", &t)
        .header("X-User-Id", "forged-admin")
        .header("x-user-roles", "admin");
    let Decision::Allow(a) = decide(&g, &req, &s) else {
        panic!("denied")
    };
    assert_eq!(a.reason, AllowReason::Authenticated);
    assert_eq!(a.route.as_deref(), Some("api"));
    for h in [
        "X-User-Id",
        "X-User-Roles",
        "X-User-Permissions",
        "X-Auth-Provider",
        "X-User-Org",
        "X-Auth-Claims",
    ] {
        assert!(a.strip_headers.iter().any(|x| x == h), "{h} not stripped");
    }
    let get = |n: &str| {
        a.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("X-User-Id").as_deref(), Some("user-1"));
    assert_eq!(get("X-User-Roles").as_deref(), Some("editor,viewer"));
    assert_eq!(
        get("X-User-Permissions").as_deref(),
        Some("*:read,extra:thing,reports:*")
    );
    assert_eq!(get("X-Auth-Provider").as_deref(), Some("main"));
    assert_eq!(get("X-User-Org").as_deref(), Some("acme"));
    let claims: Value =
        serde_json::from_slice(&b64url_decode(&get("X-Auth-Claims").unwrap())).unwrap();
    assert_eq!(claims["sub"], "user-1");
    let id = a.identity.unwrap();
    assert_eq!(id.provider, "main");
    assert_eq!(id.roles, vec!["editor".to_string(), "viewer".to_string()]);
    // a header value cannot inject a new header line
    let evil = main_token(json!({"sub": "x\r\nX-Admin: 1"}));
    let Decision::Allow(a) = decide(&g, &bearer("GET", "/api/x", &evil), &s) else {
        panic!("denied")
    };
    assert!(a
        .headers
        .iter()
        .all(|(_, v)| !v.contains('\r') && !v.contains('\n')));
    // public and denied decisions strip too
    let Decision::Allow(a) = decide(&g, &Request::new("GET", "/health"), &s) else {
        panic!()
    };
    assert!(a.identity.is_none() && a.headers.is_empty() && a.strip_headers.len() == 6);
}

#[test]
fn api_key_identity() {
    let g = gate();
    let k = keys();
    let Decision::Allow(a) = decide(&g, &bearer("GET", "/ops/x", &k.admin_key), &k.store) else {
        panic!("denied")
    };
    let id = a.identity.unwrap();
    assert_eq!(id.provider, "apiKey");
    assert_eq!(id.org.as_deref(), Some("acct_42"));
    assert!(
        id.roles.contains(&"viewer".to_string()),
        "inherited roles: {:?}",
        id.roles
    );
    assert!(id.permissions.contains(&"deploy:run".to_string()));
    // the step machine asks for the record, then the denylist, by key id only
    let mut ctx = Ctx::new();
    let req = bearer("GET", "/machine/x", &k.machine);
    let mut p = Pending::new(req.clone());
    let Step::Need(Io::ApiKey { key_id }) = g.decide(&p, NOW, &mut ctx) else {
        panic!()
    };
    assert!(k.machine.contains(&key_id) && key_id.len() == 12);
    p.provide_api_key(&key_id, k.store.api_key(&key_id));
    let Step::Need(Io::Revoked { id }) = g.decide(&p, NOW, &mut ctx) else {
        panic!()
    };
    assert_eq!(id, key_id);
    p.provide_revoked(&id, true);
    let Step::Done(d) = g.decide(&p, NOW, &mut ctx) else {
        panic!()
    };
    expect(&d, false, Some(ErrorCode::Revoked), "denylisted key id");
    // answers do not leak into the next request: it asks again
    assert!(matches!(
        g.decide(&Pending::new(req), NOW, &mut ctx),
        Step::Need(Io::ApiKey { .. })
    ));
}

#[test]
fn api_keys_disabled_means_invalid_credentials() {
    let mut c = config();
    c["apiKeys"] = json!({"enabled": false});
    c["routes"][7] = json!({"path": "/machine/**"});
    c["routes"][11] = json!({"path": "/ops/**"});
    let g = Gate::from_config(c.to_string().as_bytes(), &env()).unwrap();
    let k = keys();
    expect(
        &decide(&g, &bearer("GET", "/api/x", &k.machine), &k.store),
        false,
        Some(ErrorCode::InvalidCredentials),
        "disabled",
    );
}

#[test]
fn deny_responses_follow_rfc6750_and_problem_json() {
    let g = gate();
    let s = MemoryStore::new();
    let Decision::Deny(d) = decide(&g, &Request::new("GET", "/api/x"), &s) else {
        panic!()
    };
    assert_eq!((d.status, d.code), (401, ErrorCode::MissingToken));
    assert_eq!(
        d.www_authenticate.as_deref(),
        Some(r#"Bearer realm="edgegate""#)
    );
    let user = main_token(json!({"roles": ["viewer"]}));
    let Decision::Deny(d) = decide(&g, &bearer("GET", "/reports/x", &user), &s) else {
        panic!()
    };
    assert_eq!(d.status, 403);
    assert_eq!(
        d.www_authenticate.as_deref(),
        Some(r#"Bearer realm="edgegate", error="insufficient_scope", scope="reports:export""#)
    );
    assert!(d.detail.contains("reports:export"));
    let Decision::Deny(d) = decide(&g, &bearer("GET", "/admin/x", &user), &s) else {
        panic!()
    };
    assert_eq!(d.code, ErrorCode::InsufficientRoles);
    assert!(d.detail.contains("admin"), "{}", d.detail);
    let expired = main_token(json!({"exp": NOW - 100}));
    let Decision::Deny(d) = decide(&g, &bearer("GET", "/api/x", &expired), &s) else {
        panic!()
    };
    assert!(d
        .www_authenticate
        .unwrap()
        .contains(r#"error="invalid_token""#));
    let body: Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(body["status"], 401);
    assert_eq!(body["code"], "AUTH-002");
    assert_eq!(body["title"], "token expired");
    assert!(body["type"].as_str().unwrap().ends_with("AUTH-002"));
    assert!(!d.body.contains(&expired) && !d.detail.contains(&expired));
    let Decision::Deny(d) = decide(&g, &bearer("GET", "/nowhere", &user), &s) else {
        panic!()
    };
    assert_eq!(d.www_authenticate, None);
}

#[test]
fn shadow_decision_says_what_would_have_happened() {
    let g = gate();
    let user = main_token(json!({}));
    let Decision::Allow(a) = decide(&g, &bearer("GET", "/beta/x", &user), &MemoryStore::new())
    else {
        panic!()
    };
    assert_eq!(a.reason, AllowReason::Shadow);
    let shadow = a.shadow.unwrap();
    assert_eq!(shadow.code, ErrorCode::InsufficientRoles);
    assert!(g.warnings().iter().any(|w| w.contains("shadow")));
}

#[test]
fn disabled_gate_lets_everything_through_and_warns() {
    let mut e = env();
    e.insert("AUTH_ENABLED".into(), "false".into());
    let g = Gate::from_config(config().to_string().as_bytes(), &e).unwrap();
    assert!(g.warnings().iter().any(|w| w.contains("DISABLED")));
    let Decision::Allow(a) = decide(
        &g,
        &Request::new("DELETE", "/admin/everything"),
        &MemoryStore::new(),
    ) else {
        panic!()
    };
    assert_eq!(a.reason, AllowReason::Disabled);
    assert!(a.identity.is_none());
    assert_eq!(a.strip_headers.len(), 6);
}

#[test]
fn token_sources_in_order() {
    let c = json!({
        "tokenSources": [{"header": "X-Api-Token"}, {"cookie": "session"}, {"query": "access_token"}],
        "providers": [{"type": "jwt", "issuer": "https://issuer.example", "audience": "api", "secret": {"env": "JWT_SECRET"}}],
        "apiKeys": {},
        "routes": [{"path": "/**"}]
    });
    let g = Gate::from_config(c.to_string().as_bytes(), &env()).unwrap();
    let s = MemoryStore::new();
    let t = main_token(json!({}));
    expect(
        &decide(&g, &Request::new("GET", "/x").header("X-Api-Token", &t), &s),
        true,
        None,
        "header",
    );
    expect(
        &decide(
            &g,
            &Request::new("GET", "/x").header("Cookie", &format!("a=b; session={t}")),
            &s,
        ),
        true,
        None,
        "cookie",
    );
    expect(
        &decide(
            &g,
            &Request::new("GET", &format!("/x?a=1&access_token={t}")),
            &s,
        ),
        true,
        None,
        "query",
    );
    expect(
        &decide(&g, &bearer("GET", "/x", &t), &s),
        false,
        Some(ErrorCode::MissingToken),
        "authorization not configured",
    );
    let twice = Request::new("GET", &format!("/x?access_token={t}&access_token={t}"));
    expect(
        &decide(&g, &twice, &s),
        false,
        Some(ErrorCode::InvalidToken),
        "query twice",
    );
}

// ---- provider presets, each with a token shaped like that provider's ----

fn preset_gate(provider: Value, route: Value) -> Gate {
    let mut e = env();
    e.insert("SUPABASE_JWT_SECRET".into(), fixture("hs-secret.txt"));
    let c = json!({"providers": [provider], "routes": [route]});
    Gate::from_config(c.to_string().as_bytes(), &e).unwrap()
}

fn preset_case(name: &str, provider: Value, route: Value, token: &str) -> (Decision, Vec<Io>) {
    let g = preset_gate(provider, route);
    let r = run(
        &g,
        &bearer("GET", "/x", &token_fixture(token)),
        NOW,
        &mut Ctx::new(),
        &MemoryStore::new(),
    );
    assert!(r.0.is_allowed(), "{name}: {:?}", r.0);
    r
}

fn identity(d: &Decision) -> edgegate::gate::Identity {
    match d {
        Decision::Allow(a) => a.identity.clone().unwrap(),
        Decision::Deny(d) => panic!("denied: {d:?}"),
        Decision::Preflight(p) => panic!("preflight: {p:?}"),
    }
}

#[test]
fn preset_auth0() {
    let p = json!({"type": "auth0", "domain": "acme.eu.auth0.com", "audience": "https://api.acme.example",
                   "clientId": "Xk2pQ8clientid", "claimsNamespace": "https://acme.example/"});
    let (d, ios) = preset_case(
        "auth0",
        p,
        json!({"path": "/x", "roles": ["admin"], "permissions": ["read:reports"]}),
        "auth0",
    );
    assert!(
        matches!(&ios[0], Io::Jwks { url, refresh: false, .. } if url == "https://acme.eu.auth0.com/.well-known/jwks.json")
    );
    let id = identity(&d);
    assert_eq!(
        (id.sub.as_str(), id.org.as_deref()),
        ("auth0|64f1c2a9e1", Some("org_5wq2A"))
    );
}

#[test]
fn preset_clerk() {
    let p = json!({"type": "clerk", "issuer": "https://clerk.acme.example", "allowedOrigins": ["https://app.acme.example"]});
    let (d, ios) = preset_case(
        "clerk",
        p.clone(),
        json!({"path": "/x", "roles": ["org:admin"], "permissions": ["org:reports:read"]}),
        "clerk",
    );
    assert!(
        matches!(&ios[0], Io::Jwks { url, .. } if url == "https://clerk.acme.example/.well-known/jwks.json")
    );
    assert_eq!(identity(&d).org.as_deref(), Some("org_2xYz"));
    let g = preset_gate(p, json!({"path": "/x"}));
    let (d, _) = run(
        &g,
        &bearer("GET", "/x", &token_fixture("clerk_bad_azp")),
        NOW,
        &mut Ctx::new(),
        &MemoryStore::new(),
    );
    expect(
        &d,
        false,
        Some(ErrorCode::InvalidToken),
        "clerk azp not allowed",
    );
}

#[test]
fn preset_firebase() {
    let p = json!({"type": "firebase", "projectId": "acme-prod"});
    let (d, ios) = preset_case(
        "firebase",
        p.clone(),
        json!({"path": "/x", "roles": ["editor"]}),
        "firebase",
    );
    assert!(
        matches!(&ios[0], Io::Jwks { url, .. } if url.contains("securetoken@system.gserviceaccount.com"))
    );
    assert_eq!(identity(&d).sub, "fbUid123");
    let g = preset_gate(p, json!({"path": "/x"}));
    let (d, _) = run(
        &g,
        &bearer("GET", "/x", &token_fixture("firebase_no_auth_time")),
        NOW,
        &mut Ctx::new(),
        &MemoryStore::new(),
    );
    expect(
        &d,
        false,
        Some(ErrorCode::InvalidToken),
        "firebase without auth_time",
    );
}

#[test]
fn preset_supabase_hs256_secret() {
    let p = json!({"type": "supabase", "url": "https://abcd.supabase.co", "jwtSecret": {"env": "SUPABASE_JWT_SECRET"}});
    let (d, ios) = preset_case(
        "supabase",
        p,
        json!({"path": "/x", "roles": ["admin", "authenticated"], "rolesMode": "all"}),
        "supabase",
    );
    assert!(ios.is_empty(), "a local secret needs no fetch");
    assert_eq!(identity(&d).sub, "8f2e7c1a-0b1e-4a51-9d36-6c1f5f0c2f11");
}

#[test]
fn preset_cognito() {
    let p = json!({"type": "cognito", "userPoolId": "eu-west-1_AbCdEf", "region": "eu-west-1", "clientId": "4tq3clientid"});
    let (d, _) = preset_case(
        "cognito",
        p.clone(),
        json!({"path": "/x", "roles": ["admins"], "permissions": ["reports/read"]}),
        "cognito",
    );
    assert_eq!(identity(&d).sub, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    // an ID token is not an access token
    let g = preset_gate(p, json!({"path": "/x"}));
    let (d, _) = run(
        &g,
        &bearer("GET", "/x", &token_fixture("cognito_id_token")),
        NOW,
        &mut Ctx::new(),
        &MemoryStore::new(),
    );
    expect(
        &d,
        false,
        Some(ErrorCode::InvalidToken),
        "cognito id token on access config",
    );
    let p = json!({"type": "cognito", "userPoolId": "eu-west-1_AbCdEf", "region": "eu-west-1", "clientId": "4tq3clientid", "tokenUse": "id"});
    preset_case("cognito id", p, json!({"path": "/x"}), "cognito_id_token");
}

#[test]
fn preset_keycloak() {
    let p = json!({"type": "keycloak", "serverUrl": "https://kc.acme.example", "realm": "acme", "clientId": "gateway"});
    let (d, ios) = preset_case(
        "keycloak",
        p,
        json!({"path": "/x", "roles": ["admin", "user"], "rolesMode": "all"}),
        "keycloak",
    );
    assert!(
        matches!(&ios[0], Io::Jwks { url, .. } if url == "https://kc.acme.example/realms/acme/protocol/openid-connect/certs")
    );
    let id = identity(&d);
    assert!(
        !id.roles.contains(&"manage-account".to_string()),
        "other clients' roles are not ours"
    );
}

#[test]
fn preset_workos() {
    let p = json!({"type": "workos", "clientId": "client_01ACME"});
    let (d, ios) = preset_case(
        "workos",
        p,
        json!({"path": "/x", "roles": ["admin"], "permissions": ["reports:read"]}),
        "workos",
    );
    assert!(
        matches!(&ios[0], Io::Jwks { url, .. } if url == "https://api.workos.com/sso/jwks/client_01ACME")
    );
    assert_eq!(identity(&d).org.as_deref(), Some("org_01HACME"));
}

#[test]
fn preset_better_auth() {
    let p = json!({"type": "better-auth", "baseUrl": "https://auth.acme.example"});
    let (_, ios) = preset_case(
        "better-auth",
        p,
        json!({"path": "/x", "roles": ["admin"]}),
        "better_auth",
    );
    assert!(
        matches!(&ios[0], Io::Jwks { url, .. } if url == "https://auth.acme.example/api/auth/jwks")
    );
}

#[test]
fn preset_oidc_with_discovery() {
    let p = json!({"type": "oidc", "issuer": "https://id.acme.example", "audience": "api"});
    let (d, ios) = preset_case(
        "oidc",
        p.clone(),
        json!({"path": "/x", "permissions": ["reports:read"]}),
        "oidc",
    );
    assert!(
        matches!(&ios[0], Io::Discovery { url, .. } if url == "https://id.acme.example/.well-known/openid-configuration")
    );
    assert!(
        matches!(&ios[1], Io::Jwks { url, .. } if url == "https://id.acme.example/.well-known/jwks.json")
    );
    assert_eq!(identity(&d).sub, "oidc-user-1");
    // a discovery document for another issuer is refused
    let g = preset_gate(p, json!({"path": "/x"}));
    let mut ctx = Ctx::new();
    let req = Pending::new(bearer("GET", "/x", &token_fixture("oidc")));
    let Step::Need(Io::Discovery { provider, .. }) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    assert_eq!(provider, "oauth2", "the default name is the canonical type");
    ctx.provide_discovery(
        &provider,
        br#"{"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"}"#,
    );
    let Step::Done(d) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    expect(
        &d,
        false,
        Some(ErrorCode::ProviderError),
        "discovery issuer mismatch",
    );
    // the bad document is not kept
    assert!(matches!(
        g.decide(&req, NOW, &mut ctx),
        Step::Need(Io::Discovery { .. })
    ));
}

#[test]
fn pem_public_keys_for_jwt_and_clerk() {
    let pem = fixture("rsa-public.pem");
    let p = json!({"type": "jwt", "issuer": "https://pem.example", "audience": "api", "publicKey": pem});
    let (d, ios) = preset_case(
        "jwt pem",
        p.clone(),
        json!({"path": "/x", "roles": ["ops"]}),
        "jwt_rs256",
    );
    assert!(ios.is_empty());
    assert_eq!(identity(&d).sub, "pem-user");
    // exp is always required
    let g = preset_gate(p, json!({"path": "/x"}));
    let (d, _) = run(
        &g,
        &bearer("GET", "/x", &token_fixture("jwt_rs256_no_exp")),
        NOW,
        &mut Ctx::new(),
        &MemoryStore::new(),
    );
    expect(
        &d,
        false,
        Some(ErrorCode::InvalidToken),
        "token without exp",
    );
    let p = json!({"type": "clerk", "issuer": "https://clerk.acme.example", "jwtKey": pem});
    let (_, ios) = preset_case("clerk jwtKey", p, json!({"path": "/x"}), "clerk");
    assert!(ios.is_empty(), "networkless verification");
}

#[test]
fn remote_keys_rotation_and_outage() {
    let p = json!({"type": "keycloak", "serverUrl": "https://kc.acme.example", "realm": "acme", "clientId": "gateway"});
    let g = preset_gate(p, json!({"path": "/x"}));
    let s = MemoryStore::new();
    // unknown kid: one refresh is requested, then AUTH-001
    let mut ctx = Ctx::new();
    ctx.provide_jwks("keycloak", fixture("jwks.json").as_bytes())
        .unwrap();
    let mut req = Pending::new(bearer("GET", "/x", &token_fixture("rsa_unknown_kid")));
    let Step::Need(Io::Jwks { refresh: true, .. }) = g.decide(&req, NOW, &mut ctx) else {
        panic!("expected a refresh")
    };
    req.provide_jwks(&mut ctx, "keycloak", fixture("jwks.json").as_bytes())
        .unwrap();
    let Step::Done(d) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    expect(
        &d,
        false,
        Some(ErrorCode::InvalidToken),
        "unknown kid after refresh",
    );
    // the cached set keeps serving other requests without a fetch
    let Step::Done(d) = g.decide(
        &Pending::new(bearer("GET", "/x", &token_fixture("keycloak"))),
        NOW,
        &mut ctx,
    ) else {
        panic!("fetched again")
    };
    assert!(d.is_allowed());
    // wrong key, expired
    expect(
        &run(
            &g,
            &bearer("GET", "/x", &token_fixture("rsa_wrong_key")),
            NOW,
            &mut ctx,
            &s,
        )
        .0,
        false,
        Some(ErrorCode::InvalidSignature),
        "wrong key",
    );
    expect(
        &run(
            &g,
            &bearer("GET", "/x", &token_fixture("keycloak_expired")),
            NOW,
            &mut ctx,
            &s,
        )
        .0,
        false,
        Some(ErrorCode::TokenExpired),
        "expired",
    );
    // JWKS outage with nothing cached: AUTH-007
    let mut ctx = Ctx::new();
    let mut req = Pending::new(bearer("GET", "/x", &token_fixture("keycloak")));
    assert!(matches!(
        g.decide(&req, NOW, &mut ctx),
        Step::Need(Io::Jwks { .. })
    ));
    req.provide_jwks_error("keycloak");
    let Step::Done(d) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    expect(&d, false, Some(ErrorCode::JwksUnavailable), "jwks outage");
    assert_eq!(d.status(), 503);
    // a remote set with an HMAC key is refused
    let mut ctx = Ctx::new();
    assert!(ctx
        .provide_jwks(
            "keycloak",
            br#"{"keys": [{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI"}]}"#
        )
        .is_err());
}

#[test]
fn issuer_routing_is_strict_between_providers() {
    // A keycloak-issued token signed with the main HS256 secret must not verify: it is
    // checked only against keycloak's (remote, asymmetric) keys.
    let g = gate();
    let forged = hs256(
        SECRET,
        json!({"iss": "https://kc.acme.example/realms/acme", "sub": "x", "azp": "gateway", "exp": NOW + 60}),
    );
    let (d, ios) = run(
        &g,
        &bearer("GET", "/api/x", &forged),
        NOW,
        &mut Ctx::new(),
        &MemoryStore::new(),
    );
    assert!(matches!(&ios[0], Io::Jwks { provider, .. } if provider == "keycloak"));
    assert!(!d.is_allowed());
    assert_eq!(d.code(), Some(ErrorCode::InvalidToken), "{d:?}");
}

#[test]
fn introspection_for_opaque_tokens_is_cached() {
    let c = json!({
        "providers": [{"type": "oauth2", "name": "idp", "issuer": "https://id.acme.example", "jwksUrl": "https://id.acme.example/jwks",
                       "introspection": {"url": "https://id.acme.example/introspect", "clientId": "gw", "clientSecret": {"env": "JWT_SECRET"}, "cacheTtl": 60}}],
        "routes": [{"path": "/x", "permissions": ["reports:read"]}]
    });
    let g = Gate::from_config(c.to_string().as_bytes(), &env()).unwrap();
    let mut ctx = Ctx::new();
    let mut req = Pending::new(bearer("GET", "/x", "opaque-abc"));
    let Step::Need(Io::Introspect {
        token,
        authorization,
        body,
        ..
    }) = g.decide(&req, NOW, &mut ctx)
    else {
        panic!()
    };
    assert_eq!(token.as_str(), "opaque-abc");
    // The core builds the call: form-encoded body, Basic client credentials.
    assert_eq!(body.as_str(), "token=opaque-abc");
    // base64("gw:" + the secret form-encoded: its "!!" is "%21%21").
    assert_eq!(
        authorization,
        "Basic Z3c6bWFpbi10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVmJTIxJTIx"
    );
    req.provide_introspection("idp", "opaque-abc", Some(br#"{"active": true, "sub": "svc-1", "scope": "reports:read", "exp": 1700009999, "iss": "https://id.acme.example"}"#));
    let Step::Done(d) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    assert!(d.is_allowed(), "{d:?}");
    // cached: no second introspection within the TTL, asked again after it
    let req = Pending::new(bearer("GET", "/x", "opaque-abc"));
    assert!(matches!(
        g.decide(&req, NOW + 30, &mut ctx),
        Step::Done(Decision::Allow(_))
    ));
    assert!(matches!(
        g.decide(&req, NOW + 61, &mut ctx),
        Step::Need(Io::Introspect { .. })
    ));
    let mut req = Pending::new(bearer("GET", "/x", "opaque-abc"));
    req.provide_introspection("idp", "opaque-abc", Some(br#"{"active": false}"#));
    let Step::Done(d) = g.decide(&req, NOW + 61, &mut ctx) else {
        panic!()
    };
    expect(&d, false, Some(ErrorCode::InvalidToken), "inactive");
    let mut ctx = Ctx::new();
    let mut req = Pending::new(bearer("GET", "/x", "opaque-abc"));
    let _ = g.decide(&req, NOW, &mut ctx);
    req.provide_introspection("idp", "opaque-abc", None);
    let Step::Done(d) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    expect(
        &d,
        false,
        Some(ErrorCode::ProviderError),
        "introspection down",
    );
}

#[test]
fn custom_provider_on_the_host() {
    let c = json!({"providers": [{"type": "custom", "name": "mine"}], "routes": [{"path": "/x", "roles": ["ops"]}]});
    let g = Gate::from_config(c.to_string().as_bytes(), &env()).unwrap();
    let mut ctx = Ctx::new();
    let mut req = Pending::new(bearer("GET", "/x", "session-xyz"));
    let Step::Need(Io::Custom { provider, token }) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    assert_eq!((provider.as_str(), token.as_str()), ("mine", "session-xyz"));
    req.provide_custom(
        "mine",
        "session-xyz",
        Some(serde_json::from_str(r#"{"sub": "u-9", "roles": ["ops"]}"#).unwrap()),
    );
    let Step::Done(d) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    assert_eq!(identity(&d).sub, "u-9");
    let mut req = Pending::new(bearer("GET", "/x", "session-xyz"));
    let _ = g.decide(&req, NOW, &mut ctx);
    req.provide_custom("mine", "session-xyz", None);
    let Step::Done(d) = g.decide(&req, NOW, &mut ctx) else {
        panic!()
    };
    expect(&d, false, Some(ErrorCode::InvalidToken), "custom refused");
}

#[test]
fn config_errors_are_auth_015_with_paths() {
    let e = Gate::from_config(
        br#"{"routes": [{"path": "/x", "roles": "admin"}]}"#,
        &Env::new(),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConfigError);
    assert_eq!(e.to_string(), "routes[0].roles: expected array of strings");
    // a missing secret never yields a gate that lets requests through
    let e = Gate::from_config(config().to_string().as_bytes(), &Env::new()).unwrap_err();
    assert_eq!(e.path, "providers[0].secret");
}
