//! The gate's decision over random requests and a fixed config, driven as a host would
//! (`Gate::decide_with_store` with a MemoryStore; every other Io answered with an error).
//! Invariants: a decision in a bounded number of steps; an authenticated pass only with a
//! credential in the request; a denial never echoes the credential; the forwarded path
//! is a normalized path.
#![no_main]
use arbitrary::Arbitrary;
use edgegate::gate::{
    normalize, AllowReason, Ctx, Decision, Env, Gate, Io, MemoryStore, NewKey, Pending, Request,
    Step, RANDOM_BYTES,
};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;

#[path = "../common/echo.rs"]
mod echo;
use sha2::Sha256;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "fuzz-gate-secret-0123456789abcdef!!";

const CONFIG: &str = r#"{
  "providers": [
    {"type": "jwt", "name": "main", "issuer": "https://issuer.example", "audience": "api",
     "secret": {"env": "JWT_SECRET"}, "orgClaim": "org_id"},
    {"type": "jwt", "name": "remote", "issuer": "https://remote.example", "audience": "api",
     "jwksUrl": "https://remote.example/jwks.json"}
  ],
  "apiKeys": {"enabled": true},
  "revocation": {"enabled": true},
  "rbac": {
    "roles": {
      "admin": {"inherits": ["editor"], "permissions": ["admin:*"]},
      "editor": {"inherits": ["viewer"], "permissions": ["reports:*"]},
      "viewer": {"permissions": ["*:read"]}
    }
  },
  "cors": {"preflight": true, "origins": ["https://app.example"]},
  "routes": [
    {"name": "health", "path": "/health", "methods": ["GET"], "public": true},
    {"name": "admin", "path": "/admin/**", "roles": ["admin"]},
    {"name": "tenant", "path": "/orgs/:org/**", "claims": [{"claim": "org_id", "equalsParam": "org"}]},
    {"name": "reports", "path": "/reports/**", "permissions": ["reports:export"]},
    {"name": "machines", "path": "/machine/**", "providers": ["apiKey"]},
    {"name": "beta", "path": "/beta/**", "roles": ["beta"], "shadow": true},
    {"name": "api", "path": "/api/**"}
  ]
}"#;

fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn hs256(claims: &str) -> String {
    let input = format!(
        "{}.{}",
        b64url(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64url(claims.as_bytes())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("hmac key");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

struct Fixture {
    gate: Gate,
    store: MemoryStore,
    tokens: Vec<String>,
}

fn fixture() -> Fixture {
    {
        let mut env = Env::new();
        env.insert("JWT_SECRET".into(), SECRET.into());
        let gate = Gate::from_config(CONFIG.as_bytes(), &env).expect("fixed config");
        let mut store = MemoryStore::new();
        let key = store
            .create(
                NewKey {
                    account: "acct".into(),
                    name: "fuzz".into(),
                    roles: vec!["admin".into()],
                    permissions: vec![],
                    expires_at: NOW + 3600,
                },
                &[7u8; RANDOM_BYTES],
                NOW - 10,
            )
            .expect("api key");
        let base = r#""iss":"https://issuer.example","aud":"api","sub":"user-1","iat":1700000000,"exp":1700003600"#;
        let tokens = vec![
            hs256(&format!("{{{base}}}")),
            hs256(&format!(
                r#"{{{base},"roles":["admin"],"org_id":"acme","jti":"j1"}}"#
            )),
            hs256(&format!(r#"{{{base},"permissions":["reports:export"]}}"#)),
            key.key.clone(),
        ];
        Fixture {
            gate,
            store,
            tokens,
        }
    }
}

thread_local! {
    static FIXTURE: Fixture = fixture();
}

#[derive(Arbitrary, Debug)]
enum Cred {
    None,
    Token(u8),
    Raw(String),
    Mutated(u8, u16, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    raw_method: String,
    path: String,
    prefix: u8,
    cred: Cred,
    scheme: u8,
    headers: Vec<(String, String)>,
    now_delta: i32,
}

const METHODS: [&str; 7] = ["GET", "POST", "OPTIONS", "HEAD", "DELETE", "get", "PUT"];
const PREFIXES: [&str; 8] = [
    "",
    "/api",
    "/admin",
    "/orgs/acme",
    "/reports",
    "/machine",
    "/health",
    "/beta",
];
const SCHEMES: [&str; 5] = ["Bearer ", "bearer ", "Basic ", "Bearer  ", ""];

fuzz_target!(|input: Input| FIXTURE.with(|f| run(f, input)));

/// One request through the gate, every Io answered as a host with failing stores would.
fn decide(
    f: &Fixture,
    input: &Input,
    method: &str,
    path: &str,
    cred: Option<&str>,
    now: i64,
) -> Decision {
    let mut req = Request::new(method, path);
    if let Some(c) = cred {
        let scheme = SCHEMES[usize::from(input.scheme) % SCHEMES.len()];
        req = req.header("Authorization", &format!("{scheme}{c}"));
    }
    for (n, v) in input.headers.iter().take(64) {
        req = req.header(n, v);
    }
    let mut ctx = Ctx::new();
    let mut pending = Pending::new(req.clone());
    for _ in 0..8 {
        match f
            .gate
            .decide_with_store(&mut pending, now, &mut ctx, &f.store)
        {
            Step::Done(d) => return d,
            Step::Need(io) => match io {
                Io::Jwks { provider, .. } => pending.provide_jwks_error(&provider),
                Io::Discovery { provider, .. } => pending.provide_discovery_error(&provider),
                Io::Introspect {
                    provider, token, ..
                } => pending.provide_introspection(&provider, &token, None),
                Io::Custom { provider, token } => pending.provide_custom(&provider, &token, None),
                Io::ApiKey { key_id } => pending.provide_api_key(&key_id, None),
                Io::Revoked { id } => pending.provide_revoked(&id, true),
                _ => {}
            },
        }
    }
    panic!("no decision within 8 steps");
}

fn run(f: &Fixture, input: Input) {
    let input = &input;
    let method = if input.method >= 200 {
        input.raw_method.as_str()
    } else {
        METHODS[usize::from(input.method) % METHODS.len()]
    };
    let path = format!(
        "{}{}",
        PREFIXES[usize::from(input.prefix) % PREFIXES.len()],
        input.path
    );
    let cred = match &input.cred {
        Cred::None => None,
        Cred::Token(i) => Some(f.tokens[usize::from(*i) % f.tokens.len()].clone()),
        Cred::Raw(s) => Some(s.clone()),
        Cred::Mutated(i, pos, b) => {
            let mut t = f.tokens[usize::from(*i) % f.tokens.len()]
                .clone()
                .into_bytes();
            if !t.is_empty() {
                let p = usize::from(*pos) % t.len();
                t[p] = *b;
            }
            String::from_utf8(t).ok()
        }
    };
    let now = NOW + i64::from(input.now_delta);
    let d = decide(f, &input, method, &path, cred.as_deref(), now);
    match &d {
        Decision::Allow(a) => {
            if a.reason == AllowReason::Authenticated {
                assert!(a.identity.is_some());
                assert!(
                    cred.is_some() || !input.headers.is_empty(),
                    "authenticated without any header"
                );
            }
            if let Some(p) = &a.path {
                let n = normalize(p).expect("forwarded path normalizes");
                assert_eq!(&n.as_path(), p, "forwarded path is not normalized");
            }
        }
        Decision::Deny(deny) => {
            assert!(deny.status >= 400);
            // (fuzz/common/echo.rs: phrases of the core's fixed texts are not echoes.)
            if let Some(c) = &cred {
                let text = |cr: &str| match decide(f, input, method, &path, Some(cr), now) {
                    Decision::Deny(d) => Some(format!("{}\n{}", d.body, d.detail)),
                    _ => None,
                };
                assert!(!echo::echoes(c, text), "denial echoes the credential");
            }
        }
        Decision::Preflight(p) => assert_eq!(p.status, 204),
    }
}
