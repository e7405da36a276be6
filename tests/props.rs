//! Property tests at the core's seams (issue 8, item 7): `Gate::decide` over random
//! requests (headers, cookies, query, paths) with a fixed config; path normalization; config
//! parsing; API-key parsing. No panic, and the invariants that can be stated.

use std::collections::BTreeMap;

use edgegate::gate::{
    normalize, parse_api_key, Ctx, Decision, Env, Gate, Io, Pending, Request, Step,
};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use serde_json::{json, Value};
use sha2::Sha256;

mod common;
use common::b64url;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "props-test-secret-0123456789abcdef!!";
const IDENTITY: [&str; 4] = [
    "x-user-id",
    "x-user-roles",
    "x-user-permissions",
    "x-user-org",
];

fn hs256(claims: Value) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

fn gate() -> Gate {
    let mut env: Env = BTreeMap::new();
    env.insert("JWT_SECRET".into(), SECRET.into());
    let c = json!({
        "tokenSources": [
            {"header": "Authorization", "scheme": "Bearer"},
            {"cookie": "session"},
            {"query": "access_token"}
        ],
        "providers": [{"type": "jwt", "name": "main", "issuer": "https://issuer.example",
                       "audience": "api", "secret": {"env": "JWT_SECRET"}}],
        "apiKeys": {"enabled": true},
        "revocation": {"enabled": true},
        "rbac": {"roles": {"admin": {"inherits": ["viewer"]}, "viewer": {}}},
        "routes": [
            {"name": "health", "path": "/health", "public": true},
            {"name": "admin", "path": "/admin/**", "roles": ["admin"]},
            {"name": "api", "path": "/api/**"},
            {"name": "shadow", "path": "/beta/**", "roles": ["admin"], "shadow": true}
        ]
    });
    Gate::from_config(c.to_string().as_bytes(), &env).unwrap()
}

fn token(roles: Vec<&str>, exp_delta: i64) -> String {
    hs256(
        json!({"iss": "https://issuer.example", "aud": "api", "sub": "u-1",
                 "roles": roles, "iat": NOW - 10, "exp": NOW + exp_delta}),
    )
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("api".to_string()),
        Just("admin".to_string()),
        Just("ADMIN".to_string()),
        Just("health".to_string()),
        Just("beta".to_string()),
        Just("..".to_string()),
        Just(".".to_string()),
        Just("%2e%2e".to_string()),
        Just("%2F".to_string()),
        Just("a;b".to_string()),
        Just("..;".to_string()),
        Just("%00".to_string()),
        Just("%zz".to_string()),
        Just("%C3%A9".to_string()),
        Just("".to_string()),
        "[a-zA-Z0-9%._~;:@!$&'()*+,=\\\\ -]{0,8}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(segment(), 0..7),
        prop::option::of("[a-z_=&%0-9.]{0,20}"),
        any::<bool>(),
    )
        .prop_map(|(segs, q, leading)| {
            let mut p = if leading {
                String::from("/")
            } else {
                String::new()
            };
            p.push_str(&segs.join("/"));
            if let Some(q) = q {
                p.push('?');
                p.push_str(&q);
            }
            p
        })
}

fn credential() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(token(vec!["admin"], 3600)),
        Just(token(vec!["viewer"], 3600)),
        Just(token(vec![], -100)),
        Just("egk_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB".to_string()),
        "[ -~]{0,40}",
        Just(String::new()),
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    let names = prop_oneof![
        Just("Authorization".to_string()),
        Just("authorization".to_string()),
        Just("Cookie".to_string()),
        Just("X-User-Id".to_string()),
        Just("x_user_roles".to_string()),
        Just("X.User.Org".to_string()),
        Just("X-USER-PERMISSIONS".to_string()),
        Just("Origin".to_string()),
        Just("Access-Control-Request-Method".to_string()),
        "[A-Za-z_.-]{1,12}",
    ];
    (names, credential()).prop_flat_map(|(n, c)| {
        let value = prop_oneof![
            Just(format!("Bearer {c}")),
            Just(format!("session={c}")),
            Just(format!("a=1; session={c}; session=2")),
            Just(c.clone()),
            Just("admin".to_string()),
        ];
        (Just(n), value)
    })
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("OPTIONS"),
            Just("get"),
            Just("DELETE")
        ],
        path(),
        prop::collection::vec(header(), 0..6),
        prop::option::of(credential()),
    )
        .prop_map(|(m, mut p, hs, q)| {
            if let Some(q) = q {
                p.push(if p.contains('?') { '&' } else { '?' });
                p.push_str("access_token=");
                p.push_str(&q.replace(['&', '#', ' '], ""));
            }
            let mut r = Request::new(m, &p);
            for (n, v) in hs {
                r = r.header(&n, &v);
            }
            r
        })
}

fn reads_as_identity(name: &str) -> bool {
    let n: String = name
        .chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    IDENTITY.contains(&n.as_str())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// No panic; a decision in at most a few steps whatever the store answers; an allowed
    /// request never carries an identity header of its own to the origin.
    #[test]
    fn decide_is_total_bounded_and_never_forwards_identity_headers(
        req in request(),
        answers in prop::collection::vec(0u8..4, 4),
    ) {
        let g = gate();
        let mut ctx = Ctx::new();
        let mut p = Pending::new(req.clone());
        let mut steps = 0;
        let d = loop {
            steps += 1;
            prop_assert!(steps <= 6, "no decision after {} steps", steps);
            match g.decide(&p, NOW, &mut ctx) {
                Step::Done(d) => break d,
                Step::Need(Io::ApiKey { key_id }) => {
                    let a = answers[steps % answers.len()];
                    let text: Option<&[u8]> = match a {
                        0 => None,
                        1 => Some(b"{not json"),
                        2 => Some(b"null"),
                        _ => Some(br#"{"id": "x", "id": "y"}"#),
                    };
                    p.provide_api_key_text(&key_id, text);
                }
                Step::Need(Io::Revoked { id }) => {
                    let a = answers[steps % answers.len()];
                    let text: Option<&[u8]> = match a {
                        0 => Some(b"false"),
                        1 => Some(b"true"),
                        2 => None,
                        _ => Some(b"\"false\""),
                    };
                    p.provide_revoked_text(&id, text);
                }
                Step::Need(io) => prop_assert!(false, "unexpected io {:?}", io),
            }
        };
        match &d {
            Decision::Allow(a) => {
                for (name, _) in &req.headers {
                    if reads_as_identity(name) {
                        prop_assert!(
                            a.strip_headers.iter().any(|s| s == name),
                            "{} not stripped: {:?}", name, a.strip_headers
                        );
                    }
                }
                let norm = |n: &str| -> String {
                    n.chars().map(|c| match c { '_' | '.' => '-', c => c.to_ascii_lowercase() }).collect()
                };
                // Identity headers come from the verified identity only, and each name the
                // gate sets is stripped from the request first.
                prop_assert!(a.identity.is_some() || a.headers.is_empty());
                for (name, _) in &a.headers {
                    prop_assert!(
                        a.strip_headers.iter().any(|s| norm(s) == norm(name)),
                        "added header {} is not stripped first", name
                    );
                }
                // Any request header that reads as a stripped name is stripped by its exact name.
                for (name, _) in &req.headers {
                    if a.strip_headers.iter().any(|s| norm(s) == norm(name)) {
                        prop_assert!(a.strip_headers.iter().any(|s| s == name), "{} kept", name);
                    }
                }
                if let Some(f) = &a.forward_path {
                    prop_assert!(f.starts_with('/'));
                    prop_assert!(!f.contains(['?', '#', ';', ' ', '\\']));
                    prop_assert!(!f.split('/').any(|s| s == ".." || s == "."));
                }
            }
            Decision::Deny(dn) => {
                prop_assert!(dn.status >= 400);
                // The problem body never echoes a credential.
                for (_, v) in &req.headers {
                    if v.len() > 20 {
                        prop_assert!(!dn.body.contains(v.as_str()));
                    }
                }
            }
            Decision::Preflight(_) => {}
        }
    }

    /// Normalization never climbs above the root, is idempotent, and `forward_path` parses
    /// back to the same segments.
    #[test]
    fn normalization_is_rooted_and_idempotent(p in path()) {
        if let Ok(n) = normalize(&p) {
            let s = n.as_path();
            prop_assert!(s.starts_with('/'));
            prop_assert!(!n.segments.iter().any(|x| x == ".." || x == "." || x.is_empty()));
            let f = n.forward_path();
            let again = normalize(&f).expect("a forward path normalizes");
            prop_assert_eq!(&again.segments, &n.segments);
            prop_assert_eq!(again.forward_path(), f);
        }
    }

    /// Config parsing never panics on arbitrary JSON values.
    #[test]
    fn config_parsing_never_panics(v in arb_json()) {
        let _ = Gate::from_config(v.to_string().as_bytes(), &Env::new());
        let wrapped = json!({"routes": [v.clone()], "providers": [v.clone()], "rbac": v});
        let _ = Gate::from_config(wrapped.to_string().as_bytes(), &Env::new());
    }

    /// Config parsing never panics on arbitrary bytes.
    #[test]
    fn config_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Gate::from_config(&b, &Env::new());
    }

    /// API-key parsing never panics, and what it accepts has the fixed shape.
    #[test]
    fn api_key_parsing(s in prop_oneof![
        "[ -~]{0,80}",
        "egk_[A-Za-z0-9_-]{0,70}",
        ".{0,80}",
    ]) {
        if parse_api_key(&s).is_ok() {
            prop_assert!(s.starts_with("egk_"));
            prop_assert_eq!(s.len(), edgegate::gate::KEY_LEN);
            prop_assert!(s.is_ascii());
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("/**"),
            Just("GET"),
            Just("jwt"),
            Just("admin"),
            Just("{\"env\": \"X\"}"),
            Just("https://x.example"),
            Just("*"),
            Just("**"),
            Just("")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("path"),
            Just("roles"),
            Just("permissions"),
            Just("type"),
            Just("issuer"),
            Just("secret"),
            Just("methods"),
            Just("public"),
            Just("name"),
            Just("claims"),
            Just("inherits"),
            Just("env"),
            Just("jwksUrl"),
            Just("audience"),
            Just("mtls"),
            Just("providers"),
            Just("routes"),
            Just("cors"),
            Just("identityHeaders"),
            Just("tokenSources"),
            Just("apiKeys"),
            Just("shadow"),
        ]
        .prop_map(String::from);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
