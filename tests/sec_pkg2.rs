//! Issue 9: API keys are accepted only on routes that name `apiKey` in `providers` (least
//! privilege). Fails on the code before the fix, where a route without a `providers` list
//! accepted every credential, API keys included.

use edgegate::gate::{Config, Env};
use edgegate::gate::{Ctx, Decision, Gate, Io, Pending, Request, Step};
use edgegate::gate::{MemoryStore, NewKey, Store, RANDOM_BYTES};
use edgegate::ErrorCode;
use serde_json::json;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "sec-pkg2-test-secret-0123456789abcdef";

fn env() -> Env {
    let mut e = Env::new();
    e.insert("JWT_SECRET".into(), SECRET.into());
    e
}

fn gate(routes: serde_json::Value) -> Result<Gate, String> {
    let c = json!({
        "providers": [{"type": "jwt", "name": "main", "issuer": "https://issuer.example",
                       "audience": "api", "secret": {"env": "JWT_SECRET"}}],
        "apiKeys": {},
        "routes": routes,
    });
    Gate::from_config(c.to_string().as_bytes(), &env()).map_err(|e| e.to_string())
}

fn key(store: &mut MemoryStore) -> String {
    let random = [7u8; RANDOM_BYTES];
    store
        .create(
            NewKey {
                account: "acct".into(),
                name: "ci".into(),
                roles: vec!["deployer".into()],
                permissions: vec![],
                expires_at: NOW + 3600,
            },
            &random,
            NOW - 10,
        )
        .unwrap()
        .key
}

fn bearer(path: &str, cred: &str) -> Request {
    Request::new("GET", path).header("Authorization", &format!("Bearer {cred}"))
}

fn decide(g: &Gate, req: &Request, store: &dyn Store) -> Decision {
    match g.decide_with_store(&mut Pending::new(req.clone()), NOW, &mut Ctx::new(), store) {
        Step::Done(d) => d,
        Step::Need(io) => panic!("unexpected io {io:?}"),
    }
}

#[test]
fn api_key_refused_on_routes_that_do_not_name_it_without_a_store_lookup() {
    let g = gate(json!([
        {"name": "any", "path": "/any/**"},
        {"name": "jwt", "path": "/jwt/**", "providers": ["main"]},
        {"name": "keys", "path": "/keys/**", "providers": ["apiKey"]},
        {"name": "both", "path": "/both/**", "providers": ["main", "apiKey"]}
    ]))
    .unwrap();
    let mut store = MemoryStore::new();
    let k = key(&mut store);
    for path in ["/any/x", "/jwt/x"] {
        // The first step is already the decision: the store is never asked.
        let mut ctx = Ctx::new();
        let Step::Done(d) = g.decide(&Pending::new(bearer(path, &k)), NOW, &mut ctx) else {
            panic!("{path}: the gate asked the store for a key the route does not accept")
        };
        let Decision::Deny(d) = d else {
            panic!("{path}: api key accepted on a route that does not name apiKey")
        };
        assert_eq!(d.code, ErrorCode::InvalidCredentials, "{path}");
        assert_eq!(d.status, 401);
        assert_eq!(d.detail, "api keys are not accepted on this route");
        assert!(!d.body.contains(&k));
    }
    for path in ["/keys/x", "/both/x"] {
        let mut ctx = Ctx::new();
        assert!(matches!(
            g.decide(&Pending::new(bearer(path, &k)), NOW, &mut ctx),
            Step::Need(Io::ApiKey { .. })
        ));
        let d = decide(&g, &bearer(path, &k), &store);
        assert!(d.is_allowed(), "{path}: {d:?}");
    }
}

#[test]
fn a_protected_route_that_could_accept_no_credential_is_a_config_error() {
    let c = json!({"apiKeys": {}, "routes": [
        {"path": "/keys/**", "providers": ["apiKey"]},
        {"path": "/x/**"}
    ]});
    let e = Config::from_json(c.to_string().as_bytes(), &Env::new()).unwrap_err();
    assert_eq!(e.path, "routes[1].providers");
    assert!(e.message.contains("apiKey"), "{}", e.message);
    // Public routes and routes naming apiKey are fine.
    let ok = json!({"apiKeys": {}, "routes": [
        {"path": "/keys/**", "providers": ["apiKey"]},
        {"path": "/health", "public": true}
    ]});
    assert!(Config::from_json(ok.to_string().as_bytes(), &Env::new()).is_ok());
}

#[test]
fn store_trait_is_used_by_decide_with() {
    // Sanity: the store answers the lookups on a route that names apiKey.
    let g = gate(json!([{"path": "/keys/**", "providers": ["apiKey"]}])).unwrap();
    let mut store = MemoryStore::new();
    let k = key(&mut store);
    let id = k.split('_').nth(1).unwrap_or_default().to_string();
    assert!(store.api_key(&id).is_some());
    assert!(decide(&g, &bearer("/keys/x", &k), &store).is_allowed());
}
