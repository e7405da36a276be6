//! Decision tables for rate limits in the gate (issue 10): role limits, skip roles,
//! several policies on one route (a denial consumes none of the others), an `ip` policy on
//! a public route, a missing key value, shared stores over the `Io` steps (a real
//! compare-and-set model, conflicts and retries, a malformed stored state, the block
//! cache), a store that is down under each `onStoreError`, the bounded memory store, and
//! the header fields parsed by a Structured Fields checker.

use std::collections::BTreeMap;

use edgegate::gate::{
    decode_rate_limit_state, Config, Ctx, Decision, Env, Gate, Io, Pending, Request, Step,
    MAX_KEYS_PER_POLICY,
};
use edgegate::ErrorCode;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

mod common;
use common::{b64url, sf};

const NOW_MS: i64 = 1_700_000_100_000;
const SECRET: &str = "rate-limit-test-secret-0123456789ab";

fn token(sub: &str, extra: Value) -> String {
    let mut claims = json!({"iss": "https://issuer.example", "aud": "api", "sub": sub,
        "iat": NOW_MS / 1000 - 10, "exp": NOW_MS / 1000 + 36_000});
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

fn gate_with(rate_limits: Value, routes: Value) -> Gate {
    let c = json!({
        "providers": [{"type": "jwt", "name": "main", "issuer": "https://issuer.example",
            "audience": "api", "secret": SECRET, "orgClaim": "org_id"}],
        "rbac": {"roles": {"admin": {"inherits": ["premium"]}, "premium": {}}},
        "rateLimits": rate_limits,
        "routes": routes,
    });
    Gate::from_config(c.to_string().as_bytes(), &Env::new()).unwrap()
}

fn config_err(rate_limits: Value, routes: Value) -> String {
    let c = json!({
        "providers": [{"type": "jwt", "issuer": "https://issuer.example", "audience": "api", "secret": SECRET}],
        "rateLimits": rate_limits, "routes": routes,
    });
    Config::from_json(c.to_string().as_bytes(), &Env::new())
        .unwrap_err()
        .path
}

fn req(sub: &str, extra: Value) -> Request {
    Request::new("GET", "/api/x").header("Authorization", &format!("Bearer {}", token(sub, extra)))
}

/// A shared store: a map with an atomic compare-and-set, as Redis' script or a Durable
/// Object gives; `down` makes every operation fail.
#[derive(Default)]
struct SharedStore {
    map: BTreeMap<String, String>,
    down: bool,
    loads: usize,
    writes: usize,
    /// Before the next compare-and-set, another writer stores this value (a race).
    race: Vec<String>,
}

/// Runs one request to its decision, answering rate-limit steps from `store`.
fn run(gate: &Gate, r: &Request, now_ms: i64, ctx: &mut Ctx, store: &mut SharedStore) -> Decision {
    let mut p = Pending::new(r.clone());
    for _ in 0..32 {
        match gate.decide_at_ms(&p, now_ms, ctx) {
            Step::Done(d) => return d,
            Step::Need(Io::RateLimitLoad { policy, key, .. }) => {
                store.loads += 1;
                if store.down {
                    p.provide_rate_limit_error(&policy, &key);
                } else {
                    p.provide_rate_limit_state(&policy, &key, store.map.get(&key).cloned(), None);
                }
            }
            Step::Need(Io::RateLimitStore {
                policy,
                key,
                expected,
                new,
                ttl_ms,
                ..
            }) => {
                assert!(ttl_ms >= 1000, "ttl {ttl_ms}");
                if store.down {
                    p.provide_rate_limit_error(&policy, &key);
                    continue;
                }
                if let Some(v) = store.race.pop() {
                    store.map.insert(key.clone(), v);
                }
                let current = store.map.get(&key).cloned();
                if current == expected {
                    store.writes += 1;
                    store.map.insert(key.clone(), new);
                    p.provide_rate_limit_stored(&policy, &key, Ok(()));
                } else {
                    p.provide_rate_limit_stored(&policy, &key, Err(current));
                }
            }
            Step::Need(other) => panic!("unexpected io {other:?}"),
        }
    }
    panic!("no decision")
}

fn allowed_count(
    gate: &Gate,
    r: &Request,
    n: usize,
    ctx: &mut Ctx,
    store: &mut SharedStore,
) -> usize {
    (0..n)
        .filter(|_| run(gate, r, NOW_MS, ctx, store).is_allowed())
        .count()
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn response_headers(d: &Decision) -> &[(String, String)] {
    match d {
        Decision::Allow(a) => &a.response_headers,
        Decision::Deny(d) => &d.response_headers,
        Decision::Preflight(_) => &[],
    }
}

fn policy(name: &str, limit: u64, key: Value, extra: Value) -> Value {
    let mut p = json!({"name": name, "algorithm": "fixed-window", "limit": limit, "window": "1m", "key": key});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

#[test]
fn memory_policy_allows_exactly_the_limit_then_429_with_headers() {
    let g = gate_with(
        json!([policy("per-user", 3, json!("sub"), json!({}))]),
        json!([{"path": "/api/**", "rateLimits": ["per-user"]}]),
    );
    let mut ctx = Ctx::new();
    let mut s = SharedStore::default();
    let r = req("alice", json!({}));
    for i in 0..3 {
        let d = run(&g, &r, NOW_MS, &mut ctx, &mut s);
        assert!(d.is_allowed(), "request {i}: {d:?}");
        let h = response_headers(&d);
        let pol = sf::parse_list(header(h, "RateLimit-Policy").unwrap()).unwrap();
        assert_eq!(
            pol,
            vec![("per-user".into(), vec![("q".into(), 3), ("w".into(), 60)])]
        );
        let rl = sf::parse_list(header(h, "RateLimit").unwrap()).unwrap();
        assert_eq!(rl[0].1[0], ("r".into(), 2 - i));
        assert_eq!(header(h, "Retry-After"), None);
    }
    let d = run(&g, &r, NOW_MS, &mut ctx, &mut s);
    let Decision::Deny(deny) = &d else {
        panic!("{d:?}")
    };
    assert_eq!((deny.status, deny.code), (429, ErrorCode::RateLimited));
    let retry = deny.retry_after.unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        header(&deny.response_headers, "Retry-After"),
        Some(retry.to_string().as_str())
    );
    let rl = sf::parse_list(header(&deny.response_headers, "RateLimit").unwrap()).unwrap();
    assert_eq!(rl[0].1[0], ("r".into(), 0));
    let body: Value = serde_json::from_str(&deny.body).unwrap();
    assert_eq!(body["code"], "AUTH-016");
    assert_eq!(body["status"], 429);
    assert_eq!(body["retryAfter"], retry);
    // Another caller has its own bucket; the window passing restores the quota.
    assert!(run(&g, &req("bob", json!({})), NOW_MS, &mut ctx, &mut s).is_allowed());
    let later = NOW_MS + i64::try_from(retry).unwrap() * 1000;
    assert!(run(&g, &r, later, &mut ctx, &mut s).is_allowed());
    // The JSON form the hosts read.
    let j = d.to_json();
    assert_eq!(j["retryAfter"], retry);
    assert!(j["responseHeaders"]["RateLimit-Policy"].is_string());
    assert_eq!(s.loads + s.writes, 0, "memory store does no host I/O");
}

#[test]
fn role_limits_highest_wins_inherited_roles_count_and_skip_roles_skip() {
    let g = gate_with(
        json!([policy(
            "u",
            2,
            json!("sub"),
            json!({"roleLimits": {"premium": 4, "gold": 3}, "skipRoles": ["root"]})
        )]),
        json!([{"path": "/api/**", "rateLimits": ["u"]}]),
    );
    let mut s = SharedStore::default();
    let cases = [
        ("plain", json!({}), 2),
        ("premium", json!({"roles": ["premium"]}), 4),
        ("both", json!({"roles": ["gold", "premium"]}), 4),
        // admin inherits premium.
        ("admin", json!({"roles": ["admin"]}), 4),
        ("gold", json!({"roles": ["gold"]}), 3),
        ("root", json!({"roles": ["root"]}), 50),
    ];
    for (sub, extra, want) in cases {
        let mut ctx = Ctx::new();
        let r = req(sub, extra);
        assert_eq!(allowed_count(&g, &r, 50, &mut ctx, &mut s), want, "{sub}");
    }
    // A skipped caller gets no rate-limit headers.
    let d = run(
        &g,
        &req("root", json!({"roles": ["root"]})),
        NOW_MS,
        &mut Ctx::new(),
        &mut s,
    );
    assert_eq!(response_headers(&d), &[] as &[(String, String)]);
}

#[test]
fn several_policies_all_apply_and_a_denial_consumes_none_of_the_others() {
    let g = gate_with(
        json!([
            policy("burst", 2, json!("sub"), json!({})),
            policy("org", 3, json!("org"), json!({})),
        ]),
        json!([{"path": "/api/**", "rateLimits": ["burst", "org"]}]),
    );
    let mut ctx = Ctx::new();
    let mut s = SharedStore::default();
    let a = req("a", json!({"org_id": "acme"}));
    let b = req("b", json!({"org_id": "acme"}));
    assert_eq!(allowed_count(&g, &a, 5, &mut ctx, &mut s), 2);
    // "a" was denied by "burst" three times: the org bucket kept 1 for "b".
    assert_eq!(allowed_count(&g, &b, 5, &mut ctx, &mut s), 1);
    let d = run(&g, &b, NOW_MS, &mut ctx, &mut s);
    let Decision::Deny(deny) = &d else { panic!() };
    assert!(deny.detail.contains("org"), "{}", deny.detail);
    let members =
        sf::parse_list(header(&deny.response_headers, "RateLimit-Policy").unwrap()).unwrap();
    let names: Vec<&str> = members.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(names, ["burst", "org"]);
}

#[test]
fn ip_policy_guards_a_public_route_and_a_missing_key_is_denied() {
    let g = gate_with(
        json!([
            policy("by-ip", 2, json!("ip"), json!({})),
            policy("org", 5, json!("org"), json!({}))
        ]),
        json!([
            {"path": "/login", "public": true, "rateLimits": ["by-ip"]},
            {"path": "/api/**", "rateLimits": ["org"]}
        ]),
    );
    let mut ctx = Ctx::new();
    let mut s = SharedStore::default();
    let login = |ip: &str| Request::new("POST", "/login").client_ip(ip);
    assert_eq!(
        allowed_count(&g, &login("198.51.100.7"), 5, &mut ctx, &mut s),
        2
    );
    assert_eq!(
        allowed_count(&g, &login("198.51.100.8"), 5, &mut ctx, &mut s),
        2
    );
    // No client address: not one shared bucket for everyone, a documented denial.
    let d = run(
        &g,
        &Request::new("POST", "/login"),
        NOW_MS,
        &mut ctx,
        &mut s,
    );
    assert_eq!(d.code(), Some(ErrorCode::AccessDenied), "{d:?}");
    // A caller without an org on an org-keyed route.
    let d = run(&g, &req("u", json!({})), NOW_MS, &mut ctx, &mut s);
    let Decision::Deny(deny) = &d else {
        panic!("{d:?}")
    };
    assert_eq!(deny.code, ErrorCode::AccessDenied);
    assert_eq!(deny.detail, "rate limit key missing (org)");
    // An identity key on a public route is refused at start-up.
    assert_eq!(
        config_err(
            json!([policy("u", 1, json!("sub"), json!({}))]),
            json!([{"path": "/p", "public": true, "rateLimits": ["u"]}])
        ),
        "routes[0].rateLimits[0]"
    );
}

#[test]
fn config_refuses_unknown_names_and_reports_required_stores() {
    assert_eq!(
        config_err(
            json!([]),
            json!([{"path": "/api/**", "rateLimits": ["nope"]}])
        ),
        "routes[0].rateLimits[0]"
    );
    assert_eq!(
        config_err(
            json!([
                policy("a", 1, json!("sub"), json!({})),
                policy("a", 1, json!("sub"), json!({}))
            ]),
            json!([])
        ),
        "rateLimits[1].name"
    );
    let g = gate_with(
        json!([
            policy("m", 1, json!("sub"), json!({})),
            policy("r", 1, json!("sub"), json!({"store": "redis"})),
            policy("k", 1, json!("sub"), json!({"store": "kv"})),
            policy("r2", 1, json!("sub"), json!({"store": "redis"})),
        ]),
        json!([]),
    );
    assert_eq!(
        g.required_stores(),
        vec![
            ("redis".to_string(), "rateLimits[1].store".to_string()),
            ("kv".to_string(), "rateLimits[2].store".to_string())
        ]
    );
}

fn shared_gate(on_error: &str) -> Gate {
    gate_with(
        json!([policy(
            "shared",
            3,
            json!("sub"),
            json!({"store": "redis", "onStoreError": on_error})
        )]),
        json!([{"path": "/api/**", "rateLimits": ["shared"]}]),
    )
}

#[test]
fn two_gates_share_one_limit_exactly_through_the_store() {
    let g1 = shared_gate("deny");
    let g2 = shared_gate("deny");
    let (mut c1, mut c2) = (Ctx::new(), Ctx::new());
    let mut s = SharedStore::default();
    let r = req("alice", json!({}));
    let mut allowed = 0;
    for i in 0..10 {
        let (g, c) = if i % 2 == 0 {
            (&g1, &mut c1)
        } else {
            (&g2, &mut c2)
        };
        if run(g, &r, NOW_MS, c, &mut s).is_allowed() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 3);
    let stored: Vec<&String> = s.map.keys().collect();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("rl:shared:") && stored[0].len() == "rl:shared:".len() + 64);
    assert!(decode_rate_limit_state(s.map.values().next().unwrap()).is_some());
}

#[test]
fn block_cache_denies_without_a_store_round_trip() {
    let g = shared_gate("deny");
    let mut ctx = Ctx::new();
    let mut s = SharedStore::default();
    let r = req("alice", json!({}));
    assert_eq!(allowed_count(&g, &r, 4, &mut ctx, &mut s), 3);
    let loads = s.loads;
    for _ in 0..5 {
        let d = run(&g, &r, NOW_MS, &mut ctx, &mut s);
        assert_eq!(d.code(), Some(ErrorCode::RateLimited));
    }
    assert_eq!(s.loads, loads, "blocked key went to the store");
    // Once the window passed, the store is asked again.
    assert!(run(&g, &r, NOW_MS + 60_000, &mut ctx, &mut s).is_allowed());
    assert_eq!(s.loads, loads + 1);
}

#[test]
fn conflicts_are_recomputed_then_on_store_error() {
    let g = shared_gate("deny");
    let r = req("alice", json!({}));
    // Another writer took 2 of 3 between our read and our write: we recompute and take the last.
    let other = r#"{"window":{"window":28333335,"count":2,"prev":0}}"#.to_string();
    let mut s = SharedStore {
        race: vec![other],
        ..SharedStore::default()
    };
    let d = run(&g, &r, NOW_MS, &mut Ctx::new(), &mut s);
    assert!(d.is_allowed(), "{d:?}");
    let stored = decode_rate_limit_state(s.map.values().next().unwrap()).unwrap();
    assert_eq!(
        format!("{stored:?}"),
        "Window(WindowState { window: 28333335, count: 3, prev: 0 })"
    );
    // Every compare-and-set conflicts: bounded retries, then onStoreError (deny).
    let mut s = SharedStore {
        race: (0..10)
            .map(|i| format!(r#"{{"window":{{"window":28333335,"count":0,"prev":{i}}}}}"#))
            .collect(),
        ..SharedStore::default()
    };
    let d = run(&g, &r, NOW_MS, &mut Ctx::new(), &mut s);
    assert_eq!(d.code(), Some(ErrorCode::ConfigError), "{d:?}");
    assert_eq!(s.writes, 0);
}

#[test]
fn store_down_under_each_on_store_error() {
    let r = req("alice", json!({}));
    let down = || SharedStore {
        down: true,
        ..SharedStore::default()
    };
    // local: the in-process limiter enforces the same limit.
    let g = shared_gate("local");
    let mut ctx = Ctx::new();
    assert_eq!(allowed_count(&g, &r, 10, &mut ctx, &mut down()), 3);
    let d = run(&g, &r, NOW_MS, &mut ctx, &mut down());
    assert_eq!(d.code(), Some(ErrorCode::RateLimited));
    // allow: the policy is skipped (and no headers claim a quota).
    let g = shared_gate("allow");
    let mut ctx = Ctx::new();
    assert_eq!(allowed_count(&g, &r, 10, &mut ctx, &mut down()), 10);
    let d = run(&g, &r, NOW_MS, &mut ctx, &mut down());
    assert_eq!(response_headers(&d), &[] as &[(String, String)]);
    // deny: fail closed, 500 AUTH-015, not a 429 that blames the caller.
    let g = shared_gate("deny");
    let d = run(&g, &r, NOW_MS, &mut Ctx::new(), &mut down());
    let Decision::Deny(deny) = &d else {
        panic!("{d:?}")
    };
    assert_eq!((deny.status, deny.code), (500, ErrorCode::ConfigError));
    assert_eq!(deny.detail, "rate limit store unavailable (shared)");
}

#[test]
fn malformed_stored_state_is_a_store_error() {
    let g = shared_gate("deny");
    let r = req("alice", json!({}));
    for bad in [
        "{}",
        "[]",
        "not json",
        r#"{"window":{"window":1,"count":-1,"prev":0}}"#,
        r#"{"gcra":{"tat":1}}x"#,
    ] {
        let mut ctx = Ctx::new();
        let mut p = Pending::new(r.clone());
        let Step::Need(Io::RateLimitLoad { policy, key, .. }) =
            g.decide_at_ms(&p, NOW_MS, &mut ctx)
        else {
            panic!()
        };
        p.provide_rate_limit_state(&policy, &key, Some(bad.into()), None);
        let Step::Done(d) = g.decide_at_ms(&p, NOW_MS, &mut ctx) else {
            panic!("{bad}")
        };
        assert_eq!(d.code(), Some(ErrorCode::ConfigError), "{bad}");
    }
}

#[test]
fn headers_can_be_switched_off_but_retry_after_stays() {
    let c = json!({
        "providers": [{"type": "jwt", "issuer": "https://issuer.example", "audience": "api", "secret": SECRET}],
        "rateLimits": [policy("u", 1, json!("sub"), json!({}))],
        "rateLimitHeaders": false,
        "routes": [{"path": "/api/**", "rateLimits": ["u"]}],
    });
    let g = Gate::from_config(c.to_string().as_bytes(), &Env::new()).unwrap();
    let mut ctx = Ctx::new();
    let mut s = SharedStore::default();
    let r = req("a", json!({}));
    let d = run(&g, &r, NOW_MS, &mut ctx, &mut s);
    assert!(d.is_allowed());
    assert!(response_headers(&d).is_empty());
    let d = run(&g, &r, NOW_MS, &mut ctx, &mut s);
    let h = response_headers(&d);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].0, "Retry-After");
}

#[test]
fn a_flood_of_distinct_keys_cannot_grow_the_memory_store() {
    let g = gate_with(
        json!([policy(
            "by-header",
            1,
            json!({"header": "X-Client"}),
            json!({})
        )]),
        json!([{"path": "/open/**", "public": true, "rateLimits": ["by-header"]}]),
    );
    let mut ctx = Ctx::new();
    let mut s = SharedStore::default();
    for i in 0..(MAX_KEYS_PER_POLICY + 500) {
        let r = Request::new("GET", "/open/x").header("X-Client", &format!("c{i}"));
        assert!(run(&g, &r, NOW_MS, &mut ctx, &mut s).is_allowed());
    }
    assert_eq!(
        ctx.rate_limits().memory_keys("by-header"),
        MAX_KEYS_PER_POLICY
    );
    // Two values of the key header: ambiguous, denied (never a bucket of its own).
    let r = Request::new("GET", "/open/x")
        .header("X-Client", "a")
        .header("x-client", "b");
    assert_eq!(
        run(&g, &r, NOW_MS, &mut ctx, &mut s).code(),
        Some(ErrorCode::AccessDenied)
    );
}

#[test]
fn gcra_and_sliding_window_through_the_gate() {
    for alg in ["gcra", "sliding-window"] {
        let g = gate_with(
            json!([{"name": "p", "algorithm": alg, "limit": 5, "window": 10, "key": "sub", "cost": 2}]),
            json!([{"path": "/api/**", "rateLimits": ["p"]}]),
        );
        let mut ctx = Ctx::new();
        // Cost 2 of 5: two requests pass.
        assert_eq!(
            allowed_count(
                &g,
                &req("a", json!({})),
                5,
                &mut ctx,
                &mut SharedStore::default()
            ),
            2,
            "{alg}"
        );
    }
}
