//! The main job, locally: the gate on the demo config (`examples/gate.json`), deciding a
//! series of realistic requests. Run it with `bash scripts/demo.sh` (or `cargo run
//! --example demo`).
//!
//! The host part (this file) does what a real host does: it reads the config and the
//! environment, builds requests and prints decisions. Demo tokens are signed here with
//! HMAC-SHA256 and the demo secret; the gate verifies them like any other token.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use edgegate::codec::b64;
use edgegate::gate::{Ctx, Decision, Gate, Pending, Request, Step};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const DEMO_SECRET: &str = "demo-secret-for-local-use-only-32b!";

fn sign_hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    let header = b64::encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64::encode(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac takes any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64::encode(&mac.finalize().into_bytes()))
}

fn main() {
    let secret = std::env::var("JWT_SECRET").unwrap_or_else(|_| DEMO_SECRET.to_string());
    let mut env = BTreeMap::new();
    env.insert("JWT_SECRET".to_string(), secret.clone());
    let config_path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/gate.json".into());
    let config = std::fs::read(&config_path).unwrap_or_else(|e| {
        eprintln!("cannot read {config_path}: {e}");
        std::process::exit(2)
    });
    let gate = match Gate::from_config(&config, &env) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("config error: {e}");
            std::process::exit(2)
        }
    };
    for w in gate.warnings() {
        eprintln!("WARNING: {w}");
    }

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = |sub: &str, roles: &[&str], exp: i64| {
        serde_json::json!({
            "iss": "https://issuer.example", "aud": "api", "sub": sub,
            "roles": roles, "iat": now - 60, "exp": exp,
        })
    };
    let user = sign_hs256(&claims("alice", &["user"], now + 3600), secret.as_bytes());
    let admin = sign_hs256(&claims("root", &["admin"], now + 3600), secret.as_bytes());
    let expired = sign_hs256(&claims("alice", &["user"], now - 10), secret.as_bytes());
    let forged = sign_hs256(
        &claims("mallory", &["admin"], now + 3600),
        b"not-the-secret-not-the-secret-!!",
    );
    let bearer = |t: &str| format!("Bearer {t}");

    let cases: Vec<(&str, Request)> = vec![
        ("health check, no token", Request::new("GET", "/health")),
        ("api, no token", Request::new("GET", "/api/orders")),
        (
            "api, user token",
            Request::new("GET", "/api/orders").header("Authorization", &bearer(&user)),
        ),
        (
            "api, user token + forged identity header",
            Request::new("GET", "/api/orders")
                .header("Authorization", &bearer(&user))
                .header("X-User-Roles", "admin"),
        ),
        (
            "admin, user token",
            Request::new("GET", "/admin/users").header("Authorization", &bearer(&user)),
        ),
        (
            "admin, admin token",
            Request::new("DELETE", "/admin/users/7").header("Authorization", &bearer(&admin)),
        ),
        (
            "api, expired token",
            Request::new("GET", "/api/orders").header("Authorization", &bearer(&expired)),
        ),
        (
            "admin, token signed with another key",
            Request::new("GET", "/admin/x").header("Authorization", &bearer(&forged)),
        ),
        (
            "api, garbage token",
            Request::new("GET", "/api/orders").header("Authorization", "Bearer not.a.jwt"),
        ),
        (
            "traversal /api/%2e%2e/admin/x, user token",
            Request::new("GET", "/api/%2e%2e/admin/x").header("Authorization", &bearer(&user)),
        ),
        (
            "unlisted route, admin token",
            Request::new("GET", "/internal/metrics").header("Authorization", &bearer(&admin)),
        ),
    ];

    println!(
        "edgegate demo: {config_path} (JWT_SECRET {})",
        if std::env::var("JWT_SECRET").is_ok() {
            "from env"
        } else {
            "= built-in demo secret"
        }
    );
    println!("{:<44} {:>6}  {:<8}  detail", "request", "status", "code");
    let mut ctx = Ctx::new();
    let mut stripped_shown = false;
    for (label, req) in cases {
        let decision = match gate.decide(&Pending::new(req), now, &mut ctx) {
            Step::Done(d) => d,
            Step::Need(_) => {
                println!("{label:<44} needs I/O (not in the demo config)");
                continue;
            }
        };
        match &decision {
            Decision::Allow(a) => {
                if !stripped_shown {
                    // The same list on every allow: incoming copies are always removed.
                    println!(
                        "(every forwarded request first has these incoming headers removed: {})",
                        a.strip_headers.join(", ")
                    );
                    stripped_shown = true;
                }
                let who = a
                    .identity
                    .as_ref()
                    .map(|i| i.sub.clone())
                    .unwrap_or_else(|| "anonymous".into());
                let fwd: Vec<String> = a
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .filter(|h| !h.starts_with("X-Auth-Claims") && !h.ends_with(": "))
                    .collect();
                println!(
                    "{label:<44} {:>6}  {:<8}  allow ({:?}) as {who}; forward {}",
                    200,
                    "-",
                    a.reason,
                    if fwd.is_empty() {
                        "-".to_string()
                    } else {
                        fwd.join(", ")
                    },
                );
            }
            Decision::Deny(d) => {
                println!(
                    "{label:<44} {:>6}  {:<8}  {}",
                    d.status,
                    d.code.as_str(),
                    d.detail
                );
            }
            Decision::Preflight(p) => {
                println!(
                    "{label:<44} {:>6}  answered at the edge (CORS preflight)",
                    p.status
                );
            }
        }
    }
}
