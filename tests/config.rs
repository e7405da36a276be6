//! The config contract: `schema/config.schema.json`, `docs/config.md`, `examples/gate.json`
//! and the Rust parser agree; config errors name the path of the bad field.

use std::collections::{BTreeMap, BTreeSet};

use edgegate::gate::{Config, Env};
use edgegate::gate::{Ctx, Decision, Gate, Pending, Request, Step};
use edgegate::ErrorCode;
use serde_json::{json, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap()
}

fn schema() -> Value {
    serde_json::from_str(&read("schema/config.schema.json")).unwrap()
}

/// A small JSON Schema (2020-12) validator for the keywords the config schema uses:
/// `$ref` (local), `type`, `enum`, `const`, `properties`, `required`,
/// `additionalProperties`, `items`, `minItems`, `minLength`, `pattern` (only `^/`),
/// `minimum`, `maximum`, `oneOf`. Unknown keywords make the test fail, so the schema
/// cannot silently use something this does not check.
fn validate(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        panic!("schema at {path} is not an object");
    };
    for key in s.keys() {
        let known = [
            "$ref",
            "$schema",
            "$id",
            "$defs",
            "title",
            "description",
            "type",
            "enum",
            "const",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "minItems",
            "minLength",
            "pattern",
            "minimum",
            "maximum",
            "oneOf",
        ];
        assert!(
            known.contains(&key.as_str()),
            "schema keyword {key} is not checked by this validator"
        );
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("local $ref");
        validate(root, &root["$defs"][name], v, path, errors);
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(x) => vec![x.as_str()],
            Value::Array(xs) => xs.iter().filter_map(Value::as_str).collect(),
            _ => panic!("bad type"),
        };
        let ok = types.iter().any(|t| match *t {
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            "null" => v.is_null(),
            other => panic!("type {other}"),
        });
        if !ok {
            errors.push(format!("{path}: expected {types:?}"));
            return;
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.contains(v) {
            errors.push(format!("{path}: not one of {options:?}"));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errors.push(format!("{path}: expected {c}"));
        }
    }
    if let Some(Value::Array(options)) = s.get("oneOf") {
        let passing = options
            .iter()
            .filter(|o| {
                let mut e = Vec::new();
                validate(root, o, v, path, &mut e);
                e.is_empty()
            })
            .count();
        if passing != 1 {
            errors.push(format!(
                "{path}: matches {passing} of the oneOf alternatives"
            ));
        }
    }
    if let Some(x) = v.as_str() {
        if let Some(n) = s.get("minLength").and_then(Value::as_u64) {
            if (x.chars().count() as u64) < n {
                errors.push(format!("{path}: too short"));
            }
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            assert_eq!(p, "^/", "only the ^/ pattern is supported");
            if !x.starts_with('/') {
                errors.push(format!("{path}: does not match {p}"));
            }
        }
    }
    if let Some(n) = v.as_f64() {
        if s.get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
            || s.get("maximum")
                .and_then(Value::as_f64)
                .is_some_and(|m| n > m)
        {
            errors.push(format!("{path}: out of range"));
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(n) = s.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < n {
                errors.push(format!("{path}: too few items"));
            }
        }
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(root, item_schema, item, &format!("{path}[{i}]"), errors);
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(req)) = s.get("required") {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    errors.push(format!("{path}.{r}: required"));
                }
            }
        }
        for (k, val) in obj {
            let p = format!("{path}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(ps) => validate(root, ps, val, &p, errors),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{p}: unknown field")),
                    Some(extra @ Value::Object(_)) => validate(root, extra, val, &p, errors),
                    _ => {}
                },
            }
        }
    }
}

fn schema_errors(v: &Value) -> Vec<String> {
    let root = schema();
    let mut errors = Vec::new();
    validate(&root, &root, v, "$", &mut errors);
    errors
}

fn env() -> Env {
    let mut e = BTreeMap::new();
    for name in ["JWT_SECRET", "SUPABASE_JWT_SECRET", "OAUTH2_CLIENT_SECRET"] {
        e.insert(
            name.to_string(),
            "an-env-secret-of-at-least-32-bytes!!".to_string(),
        );
    }
    e.insert("AUTH_ENABLED".to_string(), "true".to_string());
    e
}

/// Every property name declared anywhere in the schema.
fn schema_fields(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(props)) = m.get("properties") {
                out.extend(props.keys().cloned());
            }
            m.values().for_each(|x| schema_fields(x, out));
        }
        Value::Array(xs) => xs.iter().for_each(|x| schema_fields(x, out)),
        _ => {}
    }
}

/// Field names of the doc: the first cell of table rows, written `` `name` ``.
fn doc_fields(doc: &str) -> BTreeSet<String> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_string()))
        .collect()
}

fn doc_examples(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in doc.lines() {
        match (&mut cur, line.trim_end()) {
            (None, "```json") => cur = Some(String::new()),
            (Some(buf), "```") => {
                out.push(std::mem::take(buf));
                cur = None;
            }
            (Some(buf), l) => {
                buf.push_str(l);
                buf.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[test]
fn docs_and_schema_name_the_same_fields() {
    let mut fields = BTreeSet::new();
    schema_fields(&schema(), &mut fields);
    let documented = doc_fields(&read("docs/config.md"));
    let undocumented: Vec<_> = fields.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&fields).collect();
    assert!(
        undocumented.is_empty(),
        "schema fields missing from docs/config.md: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/config.md documents fields the schema lacks: {unknown:?}"
    );
    assert!(fields.len() > 60, "{} fields", fields.len());
}

#[test]
fn example_gate_json_validates_and_loads() {
    let text = read("examples/gate.json");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let mut e = Env::new();
    e.insert(
        "JWT_SECRET".into(),
        "the-example-secret-from-the-environment".into(),
    );
    let g = Gate::from_config(text.as_bytes(), &e).unwrap();
    let c = g.config();
    assert_eq!(
        c.providers[0].issuer.as_deref(),
        Some("https://issuer.example")
    );
    assert_eq!(c.providers[0].options.audience, vec!["api".to_string()]);
    assert_eq!(c.routes.len(), 3);
    // GET /health public; /admin and /api need credentials; everything else denied.
    let mut ctx = Ctx::new();
    let mut check = |req: Request, allowed: bool, code: Option<ErrorCode>| {
        let Step::Done(d) = g.decide(&Pending::new(req.clone()), 1_700_000_000, &mut ctx) else {
            panic!("needs io")
        };
        assert_eq!(
            (d.is_allowed(), d.code()),
            (allowed, code),
            "{req:?}: {d:?}"
        );
    };
    check(Request::new("GET", "/health"), true, None);
    check(
        Request::new("POST", "/health"),
        false,
        Some(ErrorCode::AccessDenied),
    );
    check(
        Request::new("GET", "/admin/x"),
        false,
        Some(ErrorCode::MissingToken),
    );
    check(
        Request::new("GET", "/api/x"),
        false,
        Some(ErrorCode::MissingToken),
    );
    check(
        Request::new("GET", "/other"),
        false,
        Some(ErrorCode::AccessDenied),
    );
    // without JWT_SECRET the example does not load
    let err = Gate::from_config(text.as_bytes(), &Env::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "providers[0].secret: environment variable JWT_SECRET is not set"
    );
}

#[test]
fn every_doc_example_validates_and_loads() {
    let examples = doc_examples(&read("docs/config.md"));
    assert!(examples.len() >= 5, "{} examples", examples.len());
    for (i, ex) in examples.iter().enumerate() {
        let v: Value =
            serde_json::from_str(ex).unwrap_or_else(|e| panic!("example {i} is not JSON: {e}"));
        assert_eq!(schema_errors(&v), Vec::<String>::new(), "example {i}");
        if let Err(e) = Config::from_json(ex.as_bytes(), &env()) {
            panic!("example {i} does not load: {e}");
        }
    }
}

#[test]
fn schema_and_parser_refuse_the_same_bad_configs() {
    let bad = [
        (json!({"nope": true}), "nope"),
        (
            json!({"routes": [{"path": "/x", "roles": "admin"}]}),
            "routes[0].roles",
        ),
        (json!({"routes": [{"path": "x"}]}), "routes[0].path"),
        (json!({"routes": [{"roles": []}]}), "routes[0].path"),
        (
            json!({"routes": [{"path": "/x", "rolesMode": "most"}]}),
            "routes[0].rolesMode",
        ),
        (
            json!({"routes": [{"path": "/x", "shadow": "yes"}]}),
            "routes[0].shadow",
        ),
        (
            json!({"routes": [{"path": "/x", "claims": [{"claim": "a"}]}]}),
            "routes[0].claims[0]",
        ),
        (
            json!({"routes": [{"path": "/x", "claims": [{"claim": "a", "in": []}]}]}),
            "routes[0].claims[0].in",
        ),
        (
            json!({"routes": [{"path": "/x", "mtls": "on"}]}),
            "routes[0].mtls",
        ),
        (
            json!({"providers": [{"type": "nope"}]}),
            "providers[0].type",
        ),
        // A preset field missing from the entry (auth0 `audience`) is not a schema error any
        // more: it may come from the environment (AUTH0_AUDIENCE, src/gate/presets.rs); the
        // parser still refuses it when the environment does not have it either.
        (
            json!({"providers": [{"type": "firebase", "projectId": "p", "secret": "x"}]}),
            "providers[0].secret",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "secret": {"vault": "x"}}]}),
            "providers[0].secret.env",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "jwksUrl": "https://i/k", "algorithms": ["none"]}]}),
            "providers[0].algorithms[0]",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "jwksUrl": "https://i/k", "clockTolerance": 9999}]}),
            "providers[0].clockTolerance",
        ),
        (
            json!({"providers": [{"type": "cognito", "userPoolId": "eu-west-1_x", "region": "eu-west-1", "clientId": "c", "tokenUse": "refresh"}]}),
            "providers[0].tokenUse",
        ),
        (json!({"tokenSources": []}), "tokenSources"),
        (
            json!({"tokenSources": [{"header": "A", "cookie": "b"}]}),
            "tokenSources[0]",
        ),
        (
            json!({"rbac": {"roles": {"a": {"inherits": "b"}}}}),
            "rbac.roles.a.inherits",
        ),
        (json!({"rbac": {"admins": []}}), "rbac.admins"),
        (
            json!({"identityHeaders": {"userId": 3}}),
            "identityHeaders.userId",
        ),
        (
            json!({"cors": {"preflight": true, "origin": "x"}}),
            "cors.origin",
        ),
        (json!({"apiKeys": {"enabled": "yes"}}), "apiKeys.enabled"),
    ];
    for (config, path) in bad {
        assert!(
            !schema_errors(&config).is_empty(),
            "schema accepts {config}"
        );
        let err = Config::from_json(config.to_string().as_bytes(), &env()).unwrap_err();
        assert_eq!(err.path, path, "{config}: {err}");
        assert_eq!(err.code(), ErrorCode::ConfigError);
    }
}

#[test]
fn parser_only_errors_name_their_path() {
    // Checks the schema cannot express (cross-references, key material, cycles).
    let cases = [
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "secret": "short"}]}),
            "providers[0].secret",
            "at least 32 bytes",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "secret": {"env": "UNSET"}}]}),
            "providers[0].secret",
            "UNSET is not set",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "jwksUrl": "https://i/k"}], "routes": [{"path": "/x", "providers": ["other"]}]}),
            "routes[0].providers[0]",
            "unknown provider",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "jwksUrl": "https://i/k"}, {"type": "jwt", "name": "b", "issuer": "https://i", "jwksUrl": "https://i/k"}]}),
            "providers[1]",
            "share one issuer",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "jwksUrl": "https://i/k"}, {"type": "jwt", "issuer": "https://j", "jwksUrl": "https://i/k"}]}),
            "providers[1].name",
            "duplicate provider name",
        ),
        (
            json!({"rbac": {"roles": {"a": {"inherits": ["b"]}, "b": {"inherits": ["a"]}}}}),
            "rbac.roles.a.inherits",
            "cycle",
        ),
        (
            json!({"routes": [{"path": "/a/**/b"}]}),
            "routes[0].path",
            "last segment",
        ),
        (
            json!({"routes": [{"path": "/x"}]}),
            "providers",
            "at least one provider",
        ),
        (
            json!({"routes": [{"path": "/x", "providers": ["apiKey"]}], "providers": [{"type": "custom"}]}),
            "routes[0].providers[0]",
            "apiKeys is not enabled",
        ),
        (
            json!({"providers": [{"type": "jwt", "issuer": "https://i", "jwksUrl": "http://evil.example/k"}]}),
            "providers[0].jwksUrl",
            "https",
        ),
        (
            json!({"providers": [{"type": "custom"}, {"type": "oauth2", "issuer": "https://i", "introspection": {"url": "https://i/in", "clientId": "c", "clientSecret": "s"}}]}),
            "providers[1]",
            "opaque",
        ),
    ];
    for (config, path, msg) in cases {
        let err = Config::from_json(config.to_string().as_bytes(), &env()).unwrap_err();
        assert_eq!(err.path, path, "{config}: {err}");
        assert!(err.message.contains(msg), "{config}: {err}");
        assert!(
            !err.to_string().contains("an-env-secret"),
            "secrets never appear in errors"
        );
    }
}

#[test]
fn disabled_by_env_is_loud() {
    let mut e = env();
    e.insert("AUTH_ENABLED".into(), "false".into());
    let g = Gate::from_config(read("examples/gate.json").as_bytes(), &e).unwrap();
    assert!(!g.warnings().is_empty());
    let Step::Done(Decision::Allow(_)) = g.decide(
        &Pending::new(Request::new("GET", "/admin")),
        0,
        &mut Ctx::new(),
    ) else {
        panic!()
    };
}
