//! The serde wire forms (src/gate/wire.rs): config errors keep their field paths and house
//! wording, a bad value is never echoed, and the stored records are read as strictly as
//! before (`ApiKeyRecord::from_json`, `SessionRecord::from_json`).

use edgegate::gate::{ApiKeyRecord, Config, Env, SessionRecord};
use serde_json::json;

fn err(config: serde_json::Value) -> String {
    Config::from_json(config.to_string().as_bytes(), &Env::new())
        .unwrap_err()
        .to_string()
}

const JWT: &str = "https://issuer.example";

#[test]
fn config_errors_name_the_path_in_the_house_wording() {
    let cases = [
        (json!(3), "config: expected object"),
        (json!({"routes": {}}), "routes: expected array"),
        (
            json!({"routes": [{"path": "/"}, {"path": 7}]}),
            "routes[1].path: expected string",
        ),
        (
            json!({"routes": [{"path": "/", "methods": ["GET", 1]}]}),
            "routes[0].methods: expected array of strings",
        ),
        (
            json!({"routes": [{"path": "/", "claims": [{"claim": "a", "exists": true, "x": 1}]}]}),
            "routes[0].claims[0].x: unknown field",
        ),
        (
            json!({"rbac": {"roles": {"admin": {"permissions": "all"}}}}),
            "rbac.roles.admin.permissions: expected array of strings",
        ),
        (
            json!({"rateLimits": [{"name": "a", "limit": 1, "window": 1, "key": "sub", "roleLimits": []}]}),
            "rateLimits[0].roleLimits: expected object",
        ),
        (
            json!({"rateLimits": [{"name": "a", "limit": 1, "window": 1, "key": {"claim": "x", "y": 1}}]}),
            "rateLimits[0].key.y: unknown field",
        ),
        (
            json!({"rateLimits": [{"name": "a", "limit": 1, "window": 1, "key": 5}]}),
            "rateLimits[0].key: expected string or object",
        ),
        (
            json!({"rateLimits": [{"name": "a", "window": 1, "key": "sub"}]}),
            "rateLimits[0].limit: missing required field",
        ),
        (
            json!({"cors": {"maxAge": 1.5}}),
            "cors.maxAge: expected non-negative integer",
        ),
        (
            json!({"cors": {"maxAge": 86401}}),
            "cors.maxAge: must be at most 86400",
        ),
        (
            json!({"revocation": {"store": "s3"}}),
            "revocation.store: expected \"kv\" or \"durable-object\"",
        ),
        (
            json!({"identityHeaders": {"org": false}}),
            "identityHeaders.org: expected string",
        ),
        (
            json!({"providers": [{"type": "oauth2", "issuer": JWT, "introspection": {"url": "https://i/x", "clientId": "c", "clientSecret": "s", "cacheTtl": 4000}}]}),
            "providers[0].introspection.cacheTtl: must be at most 3600",
        ),
        (
            json!({"providers": [{"type": "oauth2", "issuer": JWT, "introspection": {"url": "https://i/x", "clientId": "c"}}]}),
            "providers[0].introspection.clientSecret: missing required field",
        ),
        // A field of another preset is unknown to this one; the type is read first.
        (
            json!({"providers": [{"type": "auth0", "domain": "t.auth0.com", "audience": "a", "projectId": "p"}]}),
            "providers[0].projectId: unknown field",
        ),
        (
            json!({"providers": [{"type": "nope", "whatever": 1}]}),
            "providers[0].type: unknown provider type \"nope\"",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": JWT, "secret": {"env": "S", "default": "x"}}]}),
            "providers[0].secret.default: unknown field",
        ),
    ];
    for (config, want) in cases {
        assert_eq!(err(config.clone()), want, "{config}");
    }
}

#[test]
fn a_bad_value_is_never_echoed() {
    for config in [
        json!({"providers": [{"type": "jwt", "issuer": JWT, "secret": ["hunter2-secret-value"]}]}),
        json!({"providers": [{"type": "jwt", "issuer": JWT, "secret": {"env": ["hunter2-secret-value"]}}]}),
        json!({"realm": ["hunter2-secret-value"]}),
        json!({"routes": [{"path": "/", "roles": "hunter2-secret-value"}]}),
    ] {
        let e = err(config);
        assert!(!e.contains("hunter2"), "{e}");
    }
}

#[test]
fn schema_member_and_nulls_read_as_absent() {
    let c = Config::from_json(
        br#"{"$schema": "./schema/config.schema.json", "realm": null, "routes": [{"path": "/x", "public": true, "roles": null}]}"#,
        &Env::new(),
    )
    .unwrap();
    assert_eq!(c.realm, "edgegate");
    assert!(c.routes[0].roles.is_empty());
}

#[test]
fn api_key_records_are_read_strictly() {
    let hash = "ab".repeat(32);
    let base = json!({"id": "k1", "account": "acme", "name": "ci", "hash": hash,
        "roles": ["a"], "permissions": null, "createdAt": 1, "expiresAt": 2, "revoked": false,
        "extra": {"ignored": true}});
    let r = ApiKeyRecord::from_json(&base).unwrap();
    assert_eq!(
        (
            r.id.as_str(),
            r.roles.len(),
            r.permissions.len(),
            r.expires_at
        ),
        ("k1", 1, 0, 2)
    );
    let with = |k: &str, v: serde_json::Value| {
        let mut x = base.clone();
        x[k] = v;
        ApiKeyRecord::from_json(&x)
    };
    let without = |k: &str| {
        let mut x = base.clone();
        x.as_object_mut().unwrap().remove(k);
        ApiKeyRecord::from_json(&x)
    };
    assert!(with("name", json!(null)).is_none());
    assert_eq!(without("name").unwrap().name, "");
    assert_eq!(without("createdAt").unwrap().created_at, 0);
    for bad in [json!(1.5), json!("1"), json!(1e9), json!(null)] {
        assert!(with("createdAt", bad.clone()).is_none(), "createdAt {bad}");
        assert!(with("expiresAt", bad.clone()).is_none(), "expiresAt {bad}");
    }
    assert!(with("expiresAt", json!(u64::MAX)).is_none());
    for bad in [json!(1), json!("true"), json!(null)] {
        assert!(with("revoked", bad).is_none());
    }
    assert!(without("revoked").is_none());
    assert!(with("roles", json!("a")).is_none());
    assert!(with("roles", json!(["a", 1])).is_none());
    assert!(with("hash", json!("zz".repeat(32))).is_none());
    assert!(with("id", json!(null)).is_none());
    assert!(ApiKeyRecord::from_json(&json!([1])).is_none());
}

#[test]
fn session_records_are_read_strictly() {
    let hash = "cd".repeat(32);
    let base = json!({"hash": hash, "userId": "u1", "expiresAt": 10, "org": null, "other": 1});
    let r = SessionRecord::from_json(&base).unwrap();
    assert_eq!(
        (r.user_id.as_str(), r.org.clone(), r.revoked),
        ("u1", None, false)
    );
    let with = |k: &str, v: serde_json::Value| {
        let mut x = base.clone();
        x[k] = v;
        SessionRecord::from_json(&x)
    };
    assert!(with("revoked", json!(true)).unwrap().revoked);
    assert!(!with("revoked", json!(null)).unwrap().revoked);
    assert!(with("revoked", json!("no")).is_none());
    assert!(with("userId", json!("")).is_none());
    assert!(with("org", json!(3)).is_none());
    assert!(with("expiresAt", json!(1.5)).is_none());
    assert!(with("permissions", json!({})).is_none());
}

#[test]
fn a_config_over_the_byte_budget_is_refused_before_parsing() {
    use edgegate::gate::MAX_CONFIG_BYTES;
    // Valid JSON, one byte over: `{"realm": "xxx...x"}`.
    let pad = MAX_CONFIG_BYTES + 1 - r#"{"realm":""}"#.len();
    let doc = format!(r#"{{"realm":"{}"}}"#, "x".repeat(pad));
    assert_eq!(doc.len(), MAX_CONFIG_BYTES + 1);
    let e = Config::from_json(doc.as_bytes(), &Env::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("config: not valid JSON: json document over {MAX_CONFIG_BYTES} bytes")
    );
    // At the budget it is read.
    let doc = &doc[..doc.len() - 3];
    let doc = format!("{doc}\"}}");
    assert_eq!(doc.len(), MAX_CONFIG_BYTES);
    assert!(Config::from_json(doc.as_bytes(), &Env::new()).is_ok());
}

#[test]
fn rate_limit_state_with_a_duplicate_member_is_refused() {
    use edgegate::gate::{decode_rate_limit_state, encode_rate_limit_state};
    // A store record goes through the strict parser: serde_json alone keeps the last `tat`.
    assert_eq!(
        decode_rate_limit_state(r#"{"gcra":{"tat":1,"tat":2}}"#),
        None
    );
    assert_eq!(
        decode_rate_limit_state(r#"{"window":{"window":1,"count":1,"prev":0,"count":0}}"#),
        None
    );
    let s = decode_rate_limit_state(r#"{"gcra":{"tat":5}}"#).unwrap();
    assert_eq!(encode_rate_limit_state(&s), r#"{"gcra":{"tat":5}}"#);
}

#[test]
fn a_session_record_text_with_a_duplicate_member_is_a_store_error() {
    use edgegate::gate::{session_hash, Ctx, Decision, Gate, Io, Pending, Request, Step};
    use edgegate::ErrorCode;
    let cfg =
        json!({"tokenSources": [{"cookie": "sid", "session": true}], "routes": [{"path": "/**"}]});
    let g = Gate::from_config(cfg.to_string().as_bytes(), &Env::new()).unwrap();
    let now = 1_700_000_000;
    let decide = |text: &str| -> Decision {
        let mut req = Request::new("GET", "/x");
        req.headers.push(("Cookie".into(), "sid=id-1".into()));
        let mut p = Pending::new(req);
        let mut ctx = Ctx::new();
        for _ in 0..4 {
            match g.decide(&p, now, &mut ctx) {
                Step::Done(d) => return d,
                Step::Need(Io::Session { hash }) => {
                    p.provide_session_text(&hash, Some(text.as_bytes()))
                }
                Step::Need(other) => panic!("unexpected {other:?}"),
            }
        }
        panic!("no decision")
    };
    let h = session_hash("id-1");
    let ok = format!(
        r#"{{"hash":"{h}","userId":"u1","expiresAt":{},"revoked":false}}"#,
        now + 60
    );
    assert!(decide(&ok).is_allowed());
    // Read last-wins this would be a live session; read strictly it is malformed (AUTH-015).
    let dup = format!(
        r#"{{"hash":"{h}","userId":"u1","expiresAt":{},"revoked":true,"revoked":false}}"#,
        now + 60
    );
    assert_eq!(decide(&dup).code(), Some(ErrorCode::ConfigError));
    assert_eq!(decide("not json").code(), Some(ErrorCode::ConfigError));
}
