//! Hostile inputs (issue 13): each class of attacker-controlled input gets a typed error or
//! the right decision, in bounded time, and never a panic. Time bounds are generous (they
//! hold on a loaded 2-core machine in a debug build); the point is "bounded", not a
//! benchmark. The same classes through the packed npm package: pkg-js/test/hostile.test.mjs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use edgegate::codec::{parse_value, JsonError};
use edgegate::gate::{Ctx, Decision, Env, Gate, Io, MemoryStore, Pending, Request, Step};
use edgegate::jose::{Action, CachePolicy, JwksCache, Need};
use edgegate::{
    jwt_verify, DecodeError, ErrorCode, Jwk, JwkSet, KeyError, KeyOrigin, Limits, PureBackend,
    UntrustedToken, VerifyError, VerifyOptions,
};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const NOW: i64 = 1_700_000_100;
const SECRET: &str = "hostile-test-secret-0123456789abcdef!!";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gate/");

/// Runs `f` and asserts it took less than `secs` seconds.
fn bounded<T>(what: &str, secs: u64, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(secs),
        "{what}: took {took:?}, bound {secs} s"
    );
    out
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len() * 4 / 3 + 4);
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

/// An HS256 token over raw header and payload bytes (any bytes: hostile JSON too).
fn hs256_raw(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

fn hs256(claims: &str) -> String {
    hs256_raw(br#"{"alg":"HS256","typ":"JWT"}"#, claims.as_bytes())
}

fn hs_set() -> JwkSet {
    JwkSet::from_keys(
        vec![Jwk::from_hmac_secret(SECRET.as_bytes()).unwrap()],
        KeyOrigin::Local,
    )
    .unwrap()
}

fn verify(token: &str) -> Result<edgegate::VerifiedToken, VerifyError> {
    jwt_verify(
        token,
        &hs_set(),
        &VerifyOptions::default(),
        NOW,
        &PureBackend,
    )
}

fn code(r: &Result<edgegate::VerifiedToken, VerifyError>) -> Option<ErrorCode> {
    r.as_ref().err().map(|e| e.code())
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}{name}")).unwrap()
}

fn env() -> Env {
    let mut e = BTreeMap::new();
    e.insert("JWT_SECRET".to_string(), SECRET.to_string());
    e
}

/// A gate with an HS256 provider, a remote-JWKS provider, cookie and query token sources.
fn gate() -> Gate {
    let config = json!({
        "providers": [
            {"type": "jwt", "name": "main", "issuer": "https://issuer.example", "audience": "api",
             "secret": {"env": "JWT_SECRET"}},
            {"type": "jwt", "name": "idp", "issuer": "https://idp.example", "audience": "api",
             "jwksUrl": "https://idp.example/jwks.json"}
        ],
        "tokenSources": [
            {"header": "Authorization", "scheme": "Bearer"},
            {"cookie": "session"},
            {"query": "access_token"}
        ],
        "routes": [
            {"name": "health", "path": "/health", "public": true},
            {"name": "api", "path": "/api/**"}
        ]
    });
    Gate::from_config(config.to_string().as_bytes(), &env()).unwrap()
}

fn good_claims() -> String {
    json!({"iss": "https://issuer.example", "aud": "api", "sub": "user-1", "iat": NOW - 10, "exp": NOW + 3600})
        .to_string()
}

/// Runs the step machine as a host would: JWKS from the fixture, discovery refused,
/// everything else from an empty MemoryStore.
fn decide(gate: &Gate, req: Request) -> Decision {
    let mut ctx = Ctx::new();
    let mut pending = Pending::new(req);
    let store = MemoryStore::new();
    for _ in 0..8 {
        match gate.decide_with_store(&mut pending, NOW, &mut ctx, &store) {
            Step::Done(d) => return d,
            Step::Need(Io::Jwks { provider, .. }) => {
                let _ = pending.provide_jwks(&mut ctx, &provider, fixture("jwks.json").as_bytes());
            }
            Step::Need(Io::Discovery { provider, .. }) => {
                pending.provide_discovery_error(&provider)
            }
            Step::Need(other) => panic!("unexpected io {other:?}"),
        }
    }
    panic!("no decision after 8 steps")
}

fn deny_code(d: &Decision) -> Option<ErrorCode> {
    d.code()
}

#[test]
fn one_megabyte_token_is_a_size_error_before_any_work() {
    let big = hs256(&format!(r#"{{"pad":"{}"}}"#, "a".repeat(1 << 20)));
    assert!(big.len() > 1 << 20);
    let r = bounded("1 MB token verify", 2, || verify(&big));
    assert!(
        matches!(r, Err(VerifyError::Decode(DecodeError::TooLarge { .. }))),
        "{r:?}"
    );
    assert_eq!(code(&r), Some(ErrorCode::DecodeFailed));
    let r = bounded("1 MB token parse", 2, || {
        UntrustedToken::parse(&big, &Limits::DEFAULT)
    });
    assert!(matches!(r, Err(DecodeError::TooLarge { .. })));
    // 1 MB of garbage without dots, and through the gate.
    let junk = "A".repeat(1 << 20);
    assert!(matches!(
        verify(&junk),
        Err(VerifyError::Decode(DecodeError::TooLarge { .. }))
    ));
    let g = gate();
    let d = bounded("1 MB token through the gate", 5, || {
        decide(
            &g,
            Request::new("GET", "/api/x").header("Authorization", &format!("Bearer {big}")),
        )
    });
    assert_eq!(deny_code(&d), Some(ErrorCode::DecodeFailed), "{d:?}");
}

#[test]
fn hundred_thousand_deep_json_is_a_depth_error_without_stack_overflow() {
    let deep_arr = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    for doc in [&deep_arr, &deep_obj] {
        let r = bounded("deep json", 2, || parse_value(doc.as_bytes(), 16));
        assert!(matches!(r, Err(JsonError::TooDeep { limit: 16 })), "{r:?}");
        // As a JWKS (remote and local), a JWK, a config, a discovery document.
        let r = bounded("deep jwks", 2, || {
            JwkSet::from_json(doc.as_bytes(), KeyOrigin::Remote, &Limits::DEFAULT)
        });
        assert!(r.is_err());
        assert!(Jwk::from_json(doc.as_bytes(), &Limits::DEFAULT).is_err());
        let r = bounded("deep config", 2, || {
            Gate::from_config(doc.as_bytes(), &env())
        });
        assert_eq!(r.err().map(|e| e.code()), Some(ErrorCode::ConfigError));
        let mut ctx = Ctx::new();
        assert!(!ctx.provide_discovery("idp", doc.as_bytes()));
    }
    // Deep claims inside the token budget (16 KiB): 5,000 levels.
    let claims = format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    let r = bounded("deep claims", 2, || verify(&hs256(&claims)));
    assert_eq!(code(&r), Some(ErrorCode::DecodeFailed), "{r:?}");
}

#[test]
fn invalid_utf8_in_header_or_claims_is_a_decode_error() {
    for bad in [
        &b"\xff\xfe"[..],
        b"\xc3\x28",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
    ] {
        let mut claims = br#"{"sub":""#.to_vec();
        claims.extend_from_slice(bad);
        claims.extend_from_slice(br#""}"#);
        let r = verify(&hs256_raw(br#"{"alg":"HS256"}"#, &claims));
        assert_eq!(
            code(&r),
            Some(ErrorCode::DecodeFailed),
            "claims {bad:?}: {r:?}"
        );
        let mut header = br#"{"alg":"HS256","kid":""#.to_vec();
        header.extend_from_slice(bad);
        header.extend_from_slice(br#""}"#);
        let r = verify(&hs256_raw(&header, good_claims().as_bytes()));
        assert_eq!(
            code(&r),
            Some(ErrorCode::DecodeFailed),
            "header {bad:?}: {r:?}"
        );
    }
    // A lone surrogate escape is not UTF-8 either.
    let r = verify(&hs256(r#"{"sub":"\ud800"}"#));
    assert_eq!(code(&r), Some(ErrorCode::DecodeFailed));
    // Invalid UTF-8 in a JWKS.
    let r = JwkSet::from_json(b"{\"keys\":[\xff]}", KeyOrigin::Remote, &Limits::DEFAULT);
    assert!(r.is_err());
}

#[test]
fn duplicate_members_are_refused_everywhere() {
    let r = verify(&hs256(r#"{"sub":"a","sub":"b"}"#));
    assert_eq!(code(&r), Some(ErrorCode::DecodeFailed), "{r:?}");
    let r = verify(&hs256(r#"{"sub":"a","s\u0075b":"b"}"#));
    assert_eq!(code(&r), Some(ErrorCode::DecodeFailed), "{r:?}");
    let r = verify(&hs256_raw(br#"{"alg":"HS256","alg":"none"}"#, b"{}"));
    assert_eq!(code(&r), Some(ErrorCode::DecodeFailed), "{r:?}");
    let r = verify(&hs256(r#"{"x":{"a":1,"a":2}}"#));
    assert_eq!(code(&r), Some(ErrorCode::DecodeFailed), "{r:?}");
    let jwks = fixture("jwks.json").replacen(r#""keys""#, r#""keys":[],"keys""#, 1);
    assert!(JwkSet::from_json(jwks.as_bytes(), KeyOrigin::Remote, &Limits::DEFAULT).is_err());
    // A config read last-wins would open every path; a config reader that keeps the first
    // (or a reviewer) would see no route at all.
    let cfg = r#"{"routes":[],"routes":[{"path":"/**","public":true}]}"#;
    assert_eq!(
        Gate::from_config(cfg.as_bytes(), &env())
            .err()
            .map(|e| e.code()),
        Some(ErrorCode::ConfigError)
    );
    let cfg = r#"{"routes":[{"path":"/**","public":true,"public":false}]}"#;
    assert!(Gate::from_config(cfg.as_bytes(), &env()).is_err());
    // A discovery document with `jwks_uri` twice is refused, not read last-wins.
    let mut ctx = Ctx::new();
    let doc = br#"{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks","jwks_uri":"https://evil.example/jwks"}"#;
    assert!(!ctx.provide_discovery("idp", doc));
}

#[test]
fn odd_numbers_in_exp() {
    // 1e400 is not a finite number: refused, never read as "never expires".
    let r = verify(&hs256(r#"{"sub":"a","exp":1e400}"#));
    assert!(r.is_err(), "exp 1e400 accepted");
    assert_eq!(code(&r), Some(ErrorCode::DecodeFailed), "{r:?}");
    // -0 is a time long past.
    for exp in ["-0", "-0.0", "0", "-1e308"] {
        let r = verify(&hs256(&format!(r#"{{"sub":"a","exp":{exp}}}"#)));
        assert_eq!(code(&r), Some(ErrorCode::TokenExpired), "exp {exp}: {r:?}");
    }
    // 2^53 + 1 (not exactly representable in a double) and other huge values: a time far
    // in the future, valid, in every reading.
    for exp in ["9007199254740993", "18446744073709551615", "1e300"] {
        let r = verify(&hs256(&format!(r#"{{"sub":"a","exp":{exp}}}"#)));
        assert!(r.is_ok(), "exp {exp}: {r:?}");
    }
    // Not a number at all.
    for exp in [r#""9999999999""#, "true", "null", "[1]", "{}"] {
        let r = verify(&hs256(&format!(r#"{{"sub":"a","exp":{exp}}}"#)));
        assert!(r.is_err(), "exp {exp} accepted");
    }
    // nbf far in the future is not yet valid.
    let r = verify(&hs256(r#"{"sub":"a","nbf":9007199254740993}"#));
    assert!(r.is_err());
}

/// Claims naming the remote-JWKS provider (the gate picks the provider by `iss`).
const IDP_CLAIMS: &[u8] =
    br#"{"iss":"https://idp.example","aud":"api","sub":"u","exp":4102444800}"#;

fn rsa_key() -> Value {
    let set: Value = serde_json::from_str(&fixture("jwks.json")).unwrap();
    set["keys"][0].clone()
}

#[test]
fn huge_jwks_are_budget_errors() {
    let key = rsa_key();
    let keys: Vec<Value> = (0..10_000)
        .map(|i| {
            let mut k = key.clone();
            k["kid"] = json!(format!("k{i}"));
            k
        })
        .collect();
    let doc = json!({ "keys": keys }).to_string();
    assert!(doc.len() < Limits::DEFAULT.max_jwks_bytes * 20);
    // Under the byte budget? Then the key budget answers; over it, the byte budget.
    let r = bounded("10,000-key JWKS", 3, || {
        JwkSet::from_json(doc.as_bytes(), KeyOrigin::Remote, &Limits::DEFAULT)
    });
    assert!(
        matches!(
            r,
            Err(KeyError::TooManyKeys { .. }) | Err(KeyError::TooLarge { .. })
        ),
        "{r:?}"
    );
    // 10,000 tiny keys (well under the byte budget): the key budget.
    let tiny = format!(
        r#"{{"keys":[{}]}}"#,
        vec![r#"{"kty":"EC"}"#; 10_000].join(",")
    );
    assert!(tiny.len() < Limits::DEFAULT.max_jwks_bytes);
    let r = bounded("10,000 tiny keys", 2, || {
        JwkSet::from_json(tiny.as_bytes(), KeyOrigin::Remote, &Limits::DEFAULT)
    });
    assert!(
        matches!(r, Err(KeyError::TooManyKeys { limit: 64 })),
        "{r:?}"
    );
    // 50 MB: refused by size before parsing.
    let mut big = String::from(r#"{"keys":[],"pad":""#);
    big.push_str(&"x".repeat(50 << 20));
    big.push_str(r#""}"#);
    let r = bounded("50 MB JWKS", 2, || {
        JwkSet::from_json(big.as_bytes(), KeyOrigin::Remote, &Limits::DEFAULT)
    });
    assert!(matches!(r, Err(KeyError::TooLarge { .. })), "{r:?}");
    let mut ctx = Ctx::new();
    assert!(ctx.provide_jwks("idp", big.as_bytes()).is_err());
}

#[test]
fn hostile_kid_values_only_ever_compare_as_strings() {
    let kids = [
        "../../../../etc/passwd",
        "/dev/zero",
        "file:///etc/passwd",
        "' OR 1=1 --",
        "\"; DROP TABLE keys; --",
        "kid\u{0000}null",
        "\r\nX-Injected: 1",
        "\u{1b}[31mred",
        "https://evil.example/jwks.json",
        "%2e%2e%2f",
    ];
    let set = JwkSet::from_json(
        fixture("jwks.json").as_bytes(),
        KeyOrigin::Remote,
        &Limits::DEFAULT,
    )
    .unwrap();
    let g = gate();
    for kid in kids {
        let header = json!({"alg": "RS256", "kid": kid}).to_string();
        let token = format!(
            "{}.{}.{}",
            b64(header.as_bytes()),
            b64(IDP_CLAIMS),
            b64(&[0u8; 256])
        );
        let r = jwt_verify(&token, &set, &VerifyOptions::default(), NOW, &PureBackend);
        assert!(
            matches!(r, Err(VerifyError::NoMatchingKey)),
            "{kid:?}: {r:?}"
        );
        // Through the gate: one JWKS refresh, then AUTH-001; the detail never echoes the kid.
        let d = decide(
            &g,
            Request::new("GET", "/api/x").header("Authorization", &format!("Bearer {token}")),
        );
        assert_eq!(
            deny_code(&d),
            Some(ErrorCode::InvalidToken),
            "{kid:?}: {d:?}"
        );
        if let Decision::Deny(deny) = &d {
            assert!(!deny.body.contains(kid) && !deny.detail.contains(kid));
            assert!(deny
                .www_authenticate
                .as_deref()
                .is_none_or(|w| !w.contains('\n')));
        }
    }
}

#[test]
fn ten_thousand_unknown_kids_cost_no_more_fetches_than_the_cache_policy_allows() {
    let g = gate();
    let policy = CachePolicy::DEFAULT;
    let mut cache = JwksCache::new(policy);
    let mut ctx = Ctx::new();
    let store = MemoryStore::new();
    let jwks = fixture("jwks.json");
    let mut io_steps = 0u32;
    let mut fetches = 0u32;
    let start_ms = (NOW as u64) * 1000;
    let n = 10_000u64;
    let spacing_ms = 10; // 100 requests per second, 100 s in all
    bounded("10,000 unknown kids", 60, || {
        for i in 0..n {
            let now_ms = start_ms + i * spacing_ms;
            let now = (now_ms / 1000) as i64;
            let header = json!({"alg": "RS256", "kid": format!("made-up-{i}")}).to_string();
            let token = format!(
                "{}.{}.{}",
                b64(header.as_bytes()),
                b64(IDP_CLAIMS),
                b64(&[1u8; 256])
            );
            let mut pending = Pending::new(
                Request::new("GET", "/api/x").header("Authorization", &format!("Bearer {token}")),
            );
            let mut steps_this_request = 0;
            let decision = loop {
                match g.decide_with_store(&mut pending, now, &mut ctx, &store) {
                    Step::Done(d) => break d,
                    Step::Need(Io::Jwks {
                        provider, refresh, ..
                    }) => {
                        io_steps += 1;
                        steps_this_request += 1;
                        assert!(
                            steps_this_request <= 2,
                            "request {i}: more than 2 JWKS steps"
                        );
                        let need = if refresh {
                            Need::UnknownKid
                        } else {
                            Need::Keys
                        };
                        match cache.decide(now_ms, need) {
                            Action::Fetch => {
                                fetches += 1;
                                cache.fetch_succeeded(now_ms, None);
                                pending
                                    .provide_jwks_until(
                                        &mut ctx,
                                        &provider,
                                        jwks.as_bytes(),
                                        cache.usable_until(),
                                    )
                                    .unwrap();
                            }
                            // No refetch allowed now: the host reports it; the token has
                            // no key (AUTH-001), the cached keys stay.
                            Action::UseCached | Action::Wait | Action::Fail(_) => {
                                pending.provide_jwks_error(&provider)
                            }
                        }
                    }
                    Step::Need(other) => panic!("unexpected io {other:?}"),
                }
            };
            assert_eq!(
                decision.code(),
                Some(ErrorCode::InvalidToken),
                "request {i}: {decision:?}"
            );
        }
    });
    // 100 s of traffic: the first fetch, then at most one refetch per cooldown and at most
    // `refetch_budget` per max_age window.
    let duration_ms = n * spacing_ms;
    let by_cooldown = 1 + duration_ms / policy.cooldown_ms;
    let by_budget = 1 + u64::from(policy.refetch_budget) * (1 + duration_ms / policy.max_age_ms);
    let budget = by_cooldown.min(by_budget);
    assert!(
        u64::from(fetches) <= budget,
        "{fetches} fetches for {n} unknown kids, budget {budget}"
    );
    assert!(fetches >= 1);
    // The gate asks at most once per request (then the policy answers).
    assert!(u64::from(io_steps) <= n + 1, "{io_steps} JWKS steps");
    eprintln!(
        "hostile: {n} unknown kids -> {io_steps} JWKS steps, {fetches} fetches (budget {budget})"
    );
}

#[test]
fn header_floods() {
    let g = gate();
    let token = hs256(&good_claims());
    // Hundreds of headers, then the credential.
    let mut req = Request::new("GET", "/api/x");
    for i in 0..500 {
        req = req.header(&format!("X-Junk-{i}"), &"v".repeat(100));
    }
    let d = bounded("500 headers", 5, || {
        decide(
            &g,
            req.clone()
                .header("Authorization", &format!("Bearer {token}")),
        )
    });
    assert!(d.is_allowed(), "{d:?}");
    let d = bounded("500 headers, no credential", 5, || decide(&g, req.clone()));
    assert_eq!(d.code(), Some(ErrorCode::MissingToken));
    // One 64 KB header (as the credential and as junk).
    let big = "A".repeat(64 * 1024);
    let d = bounded("64 KB Authorization", 5, || {
        decide(
            &g,
            Request::new("GET", "/api/x").header("Authorization", &format!("Bearer {big}")),
        )
    });
    assert_eq!(d.code(), Some(ErrorCode::DecodeFailed), "{d:?}");
    let d = decide(
        &g,
        Request::new("GET", "/api/x")
            .header("X-Big", &big)
            .header("Authorization", &format!("Bearer {token}")),
    );
    assert!(d.is_allowed());
    // Duplicated Authorization (same or different values): ambiguous, never allowed.
    let other = hs256(
        &json!({"iss": "https://issuer.example", "aud": "api", "sub": "admin", "exp": NOW + 3600})
            .to_string(),
    );
    for (a, b) in [
        (&token, &token),
        (&token, &other),
        (&token, &"x".to_string()),
    ] {
        let d = decide(
            &g,
            Request::new("GET", "/api/x")
                .header("Authorization", &format!("Bearer {a}"))
                .header("authorization", &format!("Bearer {b}")),
        );
        assert!(!d.is_allowed(), "two Authorization headers allowed: {d:?}");
        assert!(d.status() == 400 || d.status() == 401, "{d:?}");
    }
    // 1,000 Authorization headers.
    let mut req = Request::new("GET", "/api/x");
    for _ in 0..1000 {
        req = req.header("Authorization", &format!("Bearer {token}"));
    }
    let d = bounded("1,000 Authorization headers", 5, || decide(&g, req));
    assert!(!d.is_allowed());
}

#[test]
fn identity_headers_in_odd_case_or_with_whitespace_are_stripped() {
    let g = gate();
    let token = hs256(&good_claims());
    let forged = [
        "x-user-id",
        "X-USER-ID",
        "x-UsEr-RoLeS",
        "X_User_Id",
        "x.user.permissions",
        " X-User-Id",
        "X-User-Id ",
        "\tX-Auth-Provider",
        "X-Auth-Claims",
        "x-user-org",
    ];
    let mut req = Request::new("GET", "/api/x").header("Authorization", &format!("Bearer {token}"));
    for name in forged {
        req = req.header(name, "admin");
    }
    let d = decide(&g, req);
    let Decision::Allow(a) = &d else {
        panic!("{d:?}")
    };
    for name in forged {
        assert!(
            a.strip_headers.iter().any(|s| s == name)
                || a.strip_headers
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(name.trim())),
            "{name:?} not stripped: {:?}",
            a.strip_headers
        );
        assert!(g.is_stripped_header(name), "{name:?}");
    }
    // The forwarded identity is the verified one.
    let uid = a
        .headers
        .iter()
        .find(|(n, _)| n == "X-User-Id")
        .map(|(_, v)| v.as_str());
    assert_eq!(uid, Some("user-1"));
    // A public route strips them too.
    let d = decide(
        &g,
        Request::new("GET", "/health").header("x-user-id", "admin"),
    );
    let Decision::Allow(a) = &d else {
        panic!("{d:?}")
    };
    assert!(a
        .strip_headers
        .iter()
        .any(|s| s.eq_ignore_ascii_case("x-user-id")));
}

#[test]
fn cookies_and_query_strings_at_their_limits() {
    let g = gate();
    let max = Limits::DEFAULT.max_token_bytes;
    // A signed token of exactly the budget passes; one byte more is AUTH-006.
    let base = hs256(&good_claims()).len();
    let mut pad = max - base;
    let exact = loop {
        // Padding grows the token by 4/3 per byte; search the largest token <= max.
        let claims = json!({"iss": "https://issuer.example", "aud": "api", "sub": "user-1", "exp": NOW + 3600, "p": "a".repeat(pad * 3 / 4)}).to_string();
        let t = hs256(&claims);
        if t.len() <= max {
            break t;
        }
        pad -= 1;
    };
    assert!(
        exact.len() <= max && exact.len() > max - 64,
        "{}",
        exact.len()
    );
    let over = hs256(&json!({"iss": "https://issuer.example", "aud": "api", "sub": "user-1", "exp": NOW + 3600, "p": "a".repeat(max)}).to_string());
    assert!(over.len() > max);
    let cookie = |t: &str| format!("a=1; session={t}; b=2");
    let d = decide(
        &g,
        Request::new("GET", "/api/x").header("Cookie", &cookie(&exact)),
    );
    assert!(d.is_allowed(), "cookie at the budget: {d:?}");
    let d = decide(
        &g,
        Request::new("GET", "/api/x").header("Cookie", &cookie(&over)),
    );
    assert_eq!(
        d.code(),
        Some(ErrorCode::DecodeFailed),
        "cookie over the budget: {d:?}"
    );
    let d = decide(
        &g,
        Request::new("GET", &format!("/api/x?access_token={exact}")),
    );
    assert!(d.is_allowed(), "query at the budget: {d:?}");
    let d = decide(
        &g,
        Request::new("GET", &format!("/api/x?access_token={over}")),
    );
    assert_eq!(
        d.code(),
        Some(ErrorCode::DecodeFailed),
        "query over the budget: {d:?}"
    );
    // A cookie header of 10,000 pairs and a query of 10,000 parameters: bounded.
    let many: Vec<String> = (0..10_000).map(|i| format!("c{i}=v{i}")).collect();
    let d = bounded("10,000 cookies", 5, || {
        decide(
            &g,
            Request::new("GET", "/api/x").header("Cookie", &many.join("; ")),
        )
    });
    assert_eq!(d.code(), Some(ErrorCode::MissingToken));
    let d = bounded("10,000 query parameters", 5, || {
        decide(
            &g,
            Request::new("GET", &format!("/api/x?{}", many.join("&"))),
        )
    });
    assert_eq!(d.code(), Some(ErrorCode::MissingToken));
    // Two session cookies, or a token in two sources of one kind: ambiguous.
    let d = decide(
        &g,
        Request::new("GET", "/api/x")
            .header("Cookie", &format!("session={exact}; session={exact}")),
    );
    assert!(!d.is_allowed());
    let d = decide(
        &g,
        Request::new(
            "GET",
            &format!("/api/x?access_token={exact}&access_token=x"),
        ),
    );
    assert!(!d.is_allowed());
    // A bad escape in the query credential: refused, not guessed.
    let d = decide(&g, Request::new("GET", "/api/x?access_token=%zz"));
    assert!(!d.is_allowed());
    // A 1 MB path: bounded, refused or routed, never a panic.
    let d = bounded("1 MB path", 5, || {
        decide(
            &g,
            Request::new("GET", &format!("/api/{}", "a/".repeat(1 << 19))),
        )
    });
    assert!(!d.is_allowed());
}

#[test]
fn introspection_answers_with_duplicate_members_are_refused() {
    let c = json!({
        "providers": [{"type": "oauth2", "name": "idp", "issuer": "https://id.acme.example", "jwksUrl": "https://id.acme.example/jwks",
                       "introspection": {"url": "https://id.acme.example/introspect", "clientId": "gw", "clientSecret": {"env": "JWT_SECRET"}}}],
        "routes": [{"path": "/x", "permissions": ["reports:read"]}]
    });
    let g = Gate::from_config(c.to_string().as_bytes(), &env()).unwrap();
    let req = || Request::new("GET", "/x").header("Authorization", "Bearer opaque-abc");
    let answer = |body: &[u8]| {
        let mut ctx = Ctx::new();
        let mut p = Pending::new(req());
        assert!(matches!(
            g.decide(&p, NOW, &mut ctx),
            Step::Need(Io::Introspect { .. })
        ));
        p.provide_introspection("idp", "opaque-abc", Some(body));
        match g.decide(&p, NOW, &mut ctx) {
            Step::Done(d) => d,
            other => panic!("{other:?}"),
        }
    };
    // The well-formed answer passes ...
    let ok = br#"{"active": true, "sub": "svc-1", "scope": "reports:read", "exp": 1700009999, "iss": "https://id.acme.example"}"#;
    assert!(answer(ok).is_allowed());
    // ... the same with `active` twice (read last-wins it would pass) is a provider error.
    let dup = br#"{"active": false, "sub": "svc-1", "scope": "reports:read", "exp": 1700009999, "iss": "https://id.acme.example", "active": true}"#;
    let d = answer(dup);
    assert!(!d.is_allowed(), "{d:?}");
    assert_eq!(d.code(), Some(ErrorCode::ProviderError), "{d:?}");
}
