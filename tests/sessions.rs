//! Sessions as a credential: a `{"cookie": "sid", "session": true}` source makes the gate
//! ask the host for the session (`Io::Session` by the id's SHA-256) and judge the record:
//! unknown AUTH-008, expired AUTH-009, revoked AUTH-010, a malformed record AUTH-015.

use edgegate::gate::{session_hash, Ctx, Decision, Gate, Io, Pending, Request, Step};
use edgegate::ErrorCode;
use serde_json::json;

const NOW: i64 = 1_700_000_000;

fn gate() -> Gate {
    let cfg = json!({
        "tokenSources": [{ "cookie": "sid", "session": true }],
        "rbac": { "roles": { "admin": { "permissions": ["admin:*"] } } },
        "routes": [
            { "path": "/admin/**", "permissions": ["admin:write"] },
            { "path": "/s/**", "providers": ["session"] },
            { "path": "/**" }
        ]
    });
    Gate::from_config(cfg.to_string().as_bytes(), &Default::default()).unwrap()
}

/// Decides `path` with cookie `sid=<id>`, answering the session lookup with `record`.
fn decide(g: &Gate, path: &str, id: &str, record: Option<serde_json::Value>) -> (Decision, bool) {
    let mut req = Request::new("GET", path);
    req.headers
        .push(("Cookie".into(), format!("theme=dark; sid={id}")));
    let mut p = Pending::new(req);
    let mut ctx = Ctx::new();
    let mut asked = false;
    for _ in 0..4 {
        match g.decide(&p, NOW, &mut ctx) {
            Step::Done(d) => return (d, asked),
            Step::Need(Io::Session { hash }) => {
                assert_eq!(hash, session_hash(id), "the host is asked by the id's hash");
                asked = true;
                p.provide_session_json(&hash, record.as_ref());
            }
            Step::Need(other) => panic!("unexpected {other:?}"),
        }
    }
    panic!("no decision")
}

fn record(id: &str, expires: i64, revoked: bool) -> serde_json::Value {
    json!({ "hash": session_hash(id), "userId": "u1", "roles": ["admin"], "permissions": [],
            "org": "o1", "expiresAt": expires, "revoked": revoked })
}

#[test]
fn a_valid_session_is_an_identity_with_roles() {
    let g = gate();
    let (d, asked) = decide(
        &g,
        "/admin/x",
        "id-1",
        Some(record("id-1", NOW + 60, false)),
    );
    assert!(asked);
    let Decision::Allow(a) = d else {
        panic!("{d:?}")
    };
    let id = a.identity.unwrap();
    assert_eq!((id.sub.as_str(), id.provider.as_str()), ("u1", "session"));
    assert_eq!(id.org.as_deref(), Some("o1"));
    let (d, _) = decide(&g, "/s/x", "id-1", Some(record("id-1", NOW + 60, false)));
    assert!(d.is_allowed(), "routes may name the session provider");
}

#[test]
fn unknown_expired_revoked_malformed_and_mismatched() {
    let g = gate();
    let code = |d: Decision| d.code();
    assert_eq!(
        code(decide(&g, "/x", "id-1", None).0),
        Some(ErrorCode::SessionNotFound)
    );
    assert_eq!(
        code(decide(&g, "/x", "id-1", Some(record("id-1", NOW, false))).0),
        Some(ErrorCode::SessionExpired)
    );
    assert_eq!(
        code(decide(&g, "/x", "id-1", Some(record("id-1", NOW + 60, true))).0),
        Some(ErrorCode::Revoked)
    );
    assert_eq!(
        code(decide(&g, "/x", "id-1", Some(json!({"userId": "u1"}))).0),
        Some(ErrorCode::ConfigError)
    );
    // A store answering another session's record for this hash: unknown, never that user.
    assert_eq!(
        code(decide(&g, "/x", "id-1", Some(record("id-2", NOW + 60, false))).0),
        Some(ErrorCode::SessionNotFound)
    );
}

#[test]
fn a_session_source_is_only_a_cookie_source() {
    let bad = json!({ "tokenSources": [{ "header": "X-Sid", "session": true }], "routes": [] });
    let e = Gate::from_config(bad.to_string().as_bytes(), &Default::default()).unwrap_err();
    assert_eq!(e.path, "tokenSources[0].session");
    let named = json!({ "providers": [{ "type": "jwt", "name": "session", "issuer": "https://i",
        "secret": "0123456789abcdef0123456789abcdef" }], "routes": [] });
    assert!(Gate::from_config(named.to_string().as_bytes(), &Default::default()).is_err());
}
