//! Issue 7, findings 1, 2, 3 and 11 in the core: every answer belongs to one request
//! ([`Pending`]) and, for custom and introspection answers, to one token; interleaved
//! requests are decided exactly as they are one at a time; store answers of the wrong type
//! fail closed; key sets past the cache policy's `max_stale` are withdrawn.

use std::collections::BTreeMap;

use edgegate::gate::Env;
use edgegate::gate::{Ctx, Decision, Gate, Io, Pending, Request, Step};
use edgegate::gate::{MemoryStore, NewKey, Store, RANDOM_BYTES};
use edgegate::jose::{CachePolicy, JwksCache, Need};
use edgegate::ErrorCode;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

mod common;
use common::b64url;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "main-test-secret-0123456789abcdef!!";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gate/");

fn hs256(claims: Value) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

fn main_token(extra: Value) -> String {
    let mut claims =
        json!({"iss": "https://issuer.example", "aud": "api", "sub": "user-1", "exp": NOW + 3600});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    hs256(claims)
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
    e
}

fn gate(c: Value) -> Gate {
    Gate::from_config(c.to_string().as_bytes(), &env()).unwrap()
}

fn bearer(token: &str) -> Request {
    Request::new("GET", "/x").header("Authorization", &format!("Bearer {token}"))
}

fn claims(v: Value) -> Option<Map<String, Value>> {
    v.as_object().cloned()
}

fn done(step: Step) -> Decision {
    match step {
        Step::Done(d) => d,
        Step::Need(io) => panic!("expected a decision, got {io:?}"),
    }
}

fn sub(d: &Decision) -> String {
    match d {
        Decision::Allow(a) => a.identity.as_ref().unwrap().sub.clone(),
        Decision::Deny(d) => panic!("denied: {d:?}"),
        other => panic!("not an allow: {other:?}"),
    }
}

#[test]
fn custom_answers_stay_with_their_request_and_token() {
    let g = gate(json!({"providers": [{"type": "custom", "name": "mine"}],
                        "routes": [{"path": "/x", "roles": ["admin"]}]}));
    let mut ctx = Ctx::new();
    let mut junk = Pending::new(bearer("junk-token"));
    let mut admin = Pending::new(bearer("admin-session"));
    assert!(matches!(
        g.decide(&junk, NOW, &mut ctx),
        Step::Need(Io::Custom { .. })
    ));
    assert!(matches!(
        g.decide(&admin, NOW, &mut ctx),
        Step::Need(Io::Custom { .. })
    ));
    // The admin's verdict arrives first: the junk request is not decided on it.
    admin.provide_custom(
        "mine",
        "admin-session",
        claims(json!({"sub": "admin-1", "roles": ["admin"]})),
    );
    assert!(matches!(
        g.decide(&junk, NOW, &mut ctx),
        Step::Need(Io::Custom { .. })
    ));
    // Even given to the junk request's own scope, an answer for another token is unused.
    junk.provide_custom(
        "mine",
        "admin-session",
        claims(json!({"sub": "admin-1", "roles": ["admin"]})),
    );
    assert!(matches!(
        g.decide(&junk, NOW, &mut ctx),
        Step::Need(Io::Custom { .. })
    ));
    junk.provide_custom("mine", "junk-token", None);
    let d = done(g.decide(&junk, NOW, &mut ctx));
    assert_eq!(d.code(), Some(ErrorCode::InvalidToken), "{d:?}");
    assert_eq!(sub(&done(g.decide(&admin, NOW, &mut ctx))), "admin-1");
}

#[test]
fn introspection_answers_stay_with_their_request_and_token() {
    let g = gate(json!({
        "providers": [{"type": "oauth2", "name": "idp", "issuer": "https://id.example", "jwksUrl": "https://id.example/jwks",
                       "introspection": {"url": "https://id.example/introspect", "clientId": "gw", "clientSecret": {"env": "JWT_SECRET"}, "cacheTtl": 60}}],
        "routes": [{"path": "/x"}]
    }));
    let mut ctx = Ctx::new();
    let mut a = Pending::new(bearer("opaque-junk"));
    let mut b = Pending::new(bearer("opaque-admin"));
    assert!(matches!(
        g.decide(&a, NOW, &mut ctx),
        Step::Need(Io::Introspect { .. })
    ));
    assert!(matches!(
        g.decide(&b, NOW, &mut ctx),
        Step::Need(Io::Introspect { .. })
    ));
    // Both answers arrive "in the same tick", each on its own request.
    b.provide_introspection(
        "idp",
        "opaque-admin",
        Some(br#"{"active": true, "sub": "admin-1", "roles": ["admin"]}"#),
    );
    a.provide_introspection("idp", "opaque-junk", Some(br#"{"active": false}"#));
    let da = done(g.decide(&a, NOW, &mut ctx));
    assert_eq!(da.code(), Some(ErrorCode::InvalidToken), "{da:?}");
    assert_eq!(sub(&done(g.decide(&b, NOW, &mut ctx))), "admin-1");
    // An answer for another token is never used, in any request.
    let mut c = Pending::new(bearer("opaque-other"));
    c.provide_introspection(
        "idp",
        "opaque-admin2",
        Some(br#"{"active": true, "sub": "admin-2", "roles": ["admin"]}"#),
    );
    assert!(matches!(
        g.decide(&c, NOW, &mut ctx),
        Step::Need(Io::Introspect { .. })
    ));
}

fn rnd(seed: u8) -> [u8; RANDOM_BYTES] {
    let mut r = [0u8; RANDOM_BYTES];
    for (i, b) in r.iter_mut().enumerate() {
        *b = seed
            .wrapping_mul(31)
            .wrapping_add((i as u8).wrapping_mul(7));
    }
    r
}

fn key_config() -> Value {
    json!({
        "providers": [{"type": "jwt", "name": "main", "issuer": "https://issuer.example", "audience": "api", "secret": {"env": "JWT_SECRET"}}],
        "apiKeys": {"enabled": true},
        "revocation": {"enabled": true},
        "routes": [{"path": "/x", "providers": ["main", "apiKey"]}]
    })
}

#[test]
fn interleaved_api_keys_and_revocation_do_not_wipe_each_other() {
    let g = gate(key_config());
    let mut store = MemoryStore::new();
    let new = |n: &str| NewKey {
        account: "acct".into(),
        name: n.into(),
        roles: vec![],
        permissions: vec![],
        expires_at: NOW + 3600,
    };
    let k1 = store.create(new("a"), &rnd(1), NOW - 10).unwrap().key;
    let k2 = store.create(new("b"), &rnd(2), NOW - 10).unwrap().key;
    let t1 = main_token(json!({"jti": "j-1", "sub": "u-1"}));
    let t2 = main_token(json!({"jti": "j-2", "sub": "u-2"}));
    let mut ctx = Ctx::new();
    let mut ps: Vec<Pending> = [&k1, &k2, &t1, &t2]
        .iter()
        .map(|c| Pending::new(bearer(c)))
        .collect();
    // Round-robin: each request takes one step, then the next request; answers go to
    // the request that asked.
    let mut decisions: Vec<Option<Decision>> = vec![None, None, None, None];
    for _ in 0..8 {
        for i in (0..ps.len()).rev() {
            if decisions[i].is_some() {
                continue;
            }
            match g.decide(&ps[i], NOW, &mut ctx) {
                Step::Done(d) => decisions[i] = Some(d),
                Step::Need(Io::ApiKey { key_id }) => {
                    ps[i].provide_api_key(&key_id, store.api_key(&key_id))
                }
                Step::Need(Io::Revoked { id }) => ps[i].provide_revoked(&id, id == "j-2"),
                Step::Need(io) => panic!("{io:?}"),
            }
        }
    }
    let d: Vec<Decision> = decisions.into_iter().map(Option::unwrap).collect();
    assert!(
        d[0].is_allowed() && d[1].is_allowed() && d[2].is_allowed(),
        "{d:?}"
    );
    assert_eq!(d[3].code(), Some(ErrorCode::Revoked));
    assert_ne!(sub(&d[0]), sub(&d[1]));
    assert_eq!(sub(&d[2]), "u-1");
}

fn keycloak() -> Gate {
    gate(
        json!({"providers": [{"type": "keycloak", "serverUrl": "https://kc.acme.example", "realm": "acme", "clientId": "gateway"}],
                "routes": [{"path": "/x"}]}),
    )
}

const KC_NOW: i64 = 1_700_000_100;

#[test]
fn an_unknown_kid_refresh_is_not_wiped_by_another_request() {
    let g = keycloak();
    let mut ctx = Ctx::new();
    ctx.provide_jwks("keycloak", fixture("jwks.json").as_bytes())
        .unwrap();
    let mut unknown = Pending::new(bearer(&token_fixture("rsa_unknown_kid")));
    let Step::Need(Io::Jwks { refresh: true, .. }) = g.decide(&unknown, KC_NOW, &mut ctx) else {
        panic!("expected a refresh")
    };
    // Another request is decided in between (on the old code it reset the answers).
    let other = Pending::new(bearer(&token_fixture("keycloak")));
    assert!(done(g.decide(&other, KC_NOW, &mut ctx)).is_allowed());
    unknown
        .provide_jwks(&mut ctx, "keycloak", fixture("jwks.json").as_bytes())
        .unwrap();
    let d = done(g.decide(&unknown, KC_NOW, &mut ctx));
    assert_eq!(d.code(), Some(ErrorCode::InvalidToken), "{d:?}");
}

// ---- finding 3: store answers of the wrong type ----

fn revoked_answer(answer: Value) -> Decision {
    let g = gate(key_config());
    let mut ctx = Ctx::new();
    let mut p = Pending::new(bearer(&main_token(json!({"jti": "j-1"}))));
    let Step::Need(Io::Revoked { id }) = g.decide(&p, NOW, &mut ctx) else {
        panic!("expected a revocation lookup")
    };
    p.provide_revoked_json(&id, &answer);
    done(g.decide(&p, NOW, &mut ctx))
}

#[test]
fn only_false_or_zero_mean_not_revoked() {
    for ok in [json!(false), json!(0)] {
        assert!(revoked_answer(ok.clone()).is_allowed(), "{ok}");
    }
    for yes in [json!(true), json!(1)] {
        assert_eq!(revoked_answer(yes).code(), Some(ErrorCode::Revoked));
    }
    for bad in [
        json!("true"),
        json!("false"),
        json!("1"),
        json!(2),
        json!(-1),
        json!(0.5),
        json!(null),
        json!({}),
        json!({"revoked": false}),
        json!([]),
    ] {
        let d = revoked_answer(bad.clone());
        assert!(!d.is_allowed(), "{bad} let the token through");
        assert_eq!(d.code(), Some(ErrorCode::ConfigError), "{bad}");
        assert_eq!(d.status(), 500);
    }
}

#[test]
fn a_numeric_jti_is_checked_and_other_types_are_refused() {
    let g = gate(key_config());
    let mut ctx = Ctx::new();
    let mut p = Pending::new(bearer(&main_token(json!({"jti": 42}))));
    let Step::Need(Io::Revoked { id }) = g.decide(&p, NOW, &mut ctx) else {
        panic!("a numeric jti must be checked")
    };
    assert_eq!(id, "42");
    p.provide_revoked(&id, true);
    assert_eq!(
        done(g.decide(&p, NOW, &mut ctx)).code(),
        Some(ErrorCode::Revoked)
    );
    for jti in [
        json!(1.5),
        json!(true),
        json!({"a": 1}),
        json!(["x"]),
        json!(null),
    ] {
        let p = Pending::new(bearer(&main_token(json!({ "jti": jti }))));
        let d = done(g.decide(&p, NOW, &mut ctx));
        assert_eq!(d.code(), Some(ErrorCode::InvalidToken), "{jti}: {d:?}");
    }
}

fn record_answer(edit: impl Fn(&mut Map<String, Value>)) -> Decision {
    let g = gate(key_config());
    let mut store = MemoryStore::new();
    let created = store
        .create(
            NewKey {
                account: "acct".into(),
                name: "ci".into(),
                roles: vec![],
                permissions: vec![],
                expires_at: NOW + 3600,
            },
            &rnd(9),
            NOW - 10,
        )
        .unwrap();
    let mut rec = created.record.to_json().as_object().unwrap().clone();
    edit(&mut rec);
    let mut ctx = Ctx::new();
    let mut p = Pending::new(bearer(&created.key));
    for _ in 0..4 {
        match g.decide(&p, NOW, &mut ctx) {
            Step::Done(d) => return d,
            Step::Need(Io::ApiKey { key_id }) => {
                p.provide_api_key_json(&key_id, Some(&Value::Object(rec.clone())))
            }
            Step::Need(Io::Revoked { id }) => p.provide_revoked(&id, false),
            Step::Need(io) => panic!("{io:?}"),
        }
    }
    panic!("no decision")
}

#[test]
fn api_key_records_are_parsed_strictly() {
    assert!(record_answer(|_| {}).is_allowed());
    assert_eq!(
        record_answer(|r| {
            r.insert("revoked".into(), json!(true));
        })
        .code(),
        Some(ErrorCode::InvalidCredentials)
    );
    let bad: Vec<(&str, Value)> = vec![
        ("revoked", json!(1)),
        ("revoked", json!("true")),
        ("revoked", json!("false")),
        ("revoked", json!(null)),
        ("expiresAt", json!(1.7e12)),
        ("expiresAt", json!("1700003700")),
        ("createdAt", json!("0")),
        ("roles", json!("admin")),
        ("roles", json!([1])),
        ("name", json!(5)),
        ("hash", json!("zz")),
    ];
    for (field, value) in bad {
        let d = record_answer(|r| {
            r.insert(field.into(), value.clone());
        });
        assert!(!d.is_allowed(), "{field}: {value} accepted");
        assert_eq!(d.code(), Some(ErrorCode::ConfigError), "{field}: {value}");
    }
    let d = record_answer(|r| {
        r.remove("revoked");
    });
    assert_eq!(d.code(), Some(ErrorCode::ConfigError), "missing revoked");
}

// ---- finding 11: keys past max_stale ----

#[test]
fn keys_past_max_stale_are_withdrawn() {
    let g = keycloak();
    let policy = CachePolicy::DEFAULT;
    let fetched_ms = (KC_NOW as u64 - 10) * 1000;
    let mut cache = JwksCache::new(policy);
    cache.decide(fetched_ms, Need::Keys);
    cache.fetch_succeeded(fetched_ms, None);
    let until = cache.usable_until();
    let mut ctx = Ctx::new();
    ctx.provide_jwks_until("keycloak", fixture("jwks.json").as_bytes(), until)
        .unwrap();
    let token = token_fixture("keycloak");
    // Fresh and stale (within max_stale): the keys serve.
    assert!(done(g.decide(&Pending::new(bearer(&token)), KC_NOW, &mut ctx)).is_allowed());
    // Past max_stale the set is not used: the gate asks for keys again...
    let later = KC_NOW + ((policy.max_age_ms + policy.max_stale_ms) / 1000) as i64;
    let mut p = Pending::new(bearer(&token));
    let Step::Need(Io::Jwks { refresh: false, .. }) = g.decide(&p, later, &mut ctx) else {
        panic!("expired keys were used")
    };
    // ... and when the host has nothing newer (the refresh failed): AUTH-007.
    p.provide_jwks_error("keycloak");
    let d = done(g.decide(&p, later, &mut ctx));
    assert_eq!(d.code(), Some(ErrorCode::JwksUnavailable), "{d:?}");
    // The host handing the same expired set back does not revive it.
    let mut p = Pending::new(bearer(&token));
    let _ = p.provide_jwks_until(&mut ctx, "keycloak", fixture("jwks.json").as_bytes(), until);
    let d = done(g.decide(&p, later, &mut ctx));
    assert_eq!(d.code(), Some(ErrorCode::JwksUnavailable), "{d:?}");
}
