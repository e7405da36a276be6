//! Per-request costs found by profiling the Rust Worker under load (docs/benchmarks.md, "The
//! Worker in workerd"): the header-stripping check ran for every header of every request and
//! allocated a default `IdentityHeaders`, two name lists and a lowercased copy of every name
//! it compared (about 7% of the Worker's CPU). It now compares in place.
//!
//! Allocations are counted per thread by this test binary's global allocator (tests run on
//! several threads).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use edgegate::gate::{Decision, Env, Gate, Pending, Request, Step};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

mod common;
use common::b64url;

struct Counting;

std::thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCS.with(Cell::get);
    let out = f();
    (out, ALLOCS.with(Cell::get) - before)
}

const SECRET: &str = "perf-test-secret-0123456789abcdef!!";
const NOW: i64 = 1_700_000_100;

fn gate(identity_headers: serde_json::Value) -> Gate {
    let mut env = Env::new();
    env.insert("JWT_SECRET".into(), SECRET.into());
    let mut config = json!({
        "providers": [{"type": "jwt", "name": "hs", "issuer": "https://issuer.example",
            "audience": "api", "secret": {"env": "JWT_SECRET"}, "algorithms": ["HS256"],
            "rolesClaim": "roles"}],
        "routes": [{"name": "api", "path": "/api/**", "roles": ["admin"]}],
    });
    if !identity_headers.is_null() {
        config["identityHeaders"] = identity_headers;
    }
    Gate::from_config(config.to_string().as_bytes(), &env).unwrap()
}

fn token() -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({"iss": "https://issuer.example", "aud": "api", "sub": "u1",
        "roles": ["admin"], "iat": NOW - 10, "exp": NOW + 3600});
    let input = format!("{header}.{}", b64url(claims.to_string().as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

#[test]
fn header_strip_check_allocates_nothing_and_keeps_its_rules() {
    let renamed = gate(json!({"userId": "X-Subject", "claims": null}));
    let default = gate(serde_json::Value::Null);

    // The rules: configured names, default names (also when renamed or disabled), CGI-style
    // look-alikes (`_`, `.`, case, surrounding whitespace); nothing else.
    for (g, name, stripped) in [
        (&default, "X-User-Id", true),
        (&default, "x_user_id", true),
        (&default, " X.User.Roles ", true),
        (&default, "X-Auth-Claims", true),
        (&default, "X-Subject", false),
        (&default, "X-User-Idx", false),
        (&default, "X-User-I", false),
        (&default, "authorization", false),
        (&renamed, "x_subject", true),
        (&renamed, "X-User-Id", true),
        (&renamed, "X-Auth-Claims", true),
        (&renamed, "X-Subject-", false),
    ] {
        let (got, n) = allocations(|| g.is_stripped_header(name));
        assert_eq!(got, stripped, "{name}");
        assert_eq!(n, 0, "is_stripped_header({name:?}) allocated {n} times");
    }

    // A whole allowed decision: the forged look-alike is stripped, the real names are
    // listed once each, and the strip list costs no per-header allocations beyond the names.
    let req = Request::new("GET", "/api/x")
        .header("authorization", &format!("Bearer {}", token()))
        .header("x_user_id", "forged")
        .header("accept", "*/*")
        .header("user-agent", "perf")
        .header("x-forwarded-for", "10.0.0.1");
    let mut ctx = edgegate::gate::Ctx::new();
    let pending = Pending::new(req);
    let Step::Done(Decision::Allow(a)) = renamed.decide(&pending, NOW, &mut ctx) else {
        panic!("not allowed");
    };
    let mut names = a.strip_headers.clone();
    names.sort();
    assert_eq!(
        names,
        [
            "X-Auth-Claims",
            "X-Auth-Provider",
            "X-Subject",
            "X-User-Id",
            "X-User-Org",
            "X-User-Permissions",
            "X-User-Roles",
            "x_user_id",
        ]
    );
    let (_, with_5_headers) = allocations(|| renamed.decide(&pending, NOW, &mut ctx));
    let many = (0..40).fold(
        Request::new("GET", "/api/x").header("authorization", &format!("Bearer {}", token())),
        |r, i| r.header(&format!("x-extra-{i}"), "v"),
    );
    let pending = Pending::new(many);
    let (_, with_41_headers) = allocations(|| renamed.decide(&pending, NOW, &mut ctx));
    // 36 more headers: the old check allocated ~26 times per header (~900 more).
    assert!(
        with_41_headers <= with_5_headers + 40,
        "decide allocates per header: {with_5_headers} with 5 headers, {with_41_headers} with 41"
    );
}

/// The JS Gate's backend (src/wasm/gate.rs): `MemoBackend` over the pure backend. A repeated
/// check is answered from memory (valid or not); any change in the check asks the inner
/// backend; HMAC is never remembered; the memory is bounded.
#[test]
fn memo_backend_remembers_each_exact_check_once() {
    use edgegate::jose::{
        Algorithm, CryptoBackend, Jwk, KeyParams, MemoBackend, MAX_MEMO_VERDICTS,
    };
    struct Inner<'a>(&'a Cell<usize>);
    impl CryptoBackend for Inner<'_> {
        fn verify(&self, _: Algorithm, _: &Jwk, input: &[u8], _: &[u8]) -> bool {
            self.0.set(self.0.get() + 1);
            input.starts_with(b"ok")
        }
    }
    let key = |params: KeyParams| Jwk {
        kid: None,
        alg: None,
        use_: None,
        key_ops: None,
        params,
    };
    let rsa = key(KeyParams::Rsa {
        n: vec![1; 256],
        e: vec![1, 0, 1],
    });
    let rsa2 = key(KeyParams::Rsa {
        n: vec![2; 256],
        e: vec![1, 0, 1],
    });
    let oct = key(KeyParams::Oct {
        k: b"secret".to_vec(),
    });
    let calls = Cell::new(0);
    let memo = MemoBackend::new(Inner(&calls));
    let rs = Algorithm::Rs256;

    assert!(memo.verify(rs, &rsa, b"ok.1", b"sig"));
    assert!(memo.verify(rs, &rsa, b"ok.1", b"sig"));
    assert_eq!(calls.get(), 1);
    assert!(!memo.verify(rs, &rsa, b"bad.1", b"sig"));
    assert!(!memo.verify(rs, &rsa, b"bad.1", b"sig"));
    assert_eq!(calls.get(), 2);
    // Another signature, input, key or algorithm is another check.
    memo.verify(rs, &rsa, b"ok.1", b"sig2");
    memo.verify(rs, &rsa, b"ok.2", b"sig");
    memo.verify(rs, &rsa2, b"ok.1", b"sig");
    memo.verify(Algorithm::Ps256, &rsa, b"ok.1", b"sig");
    assert_eq!(calls.get(), 6);
    assert_eq!(memo.len(), 6);
    // HMAC passes through, every time.
    memo.verify(Algorithm::Hs256, &oct, b"ok.1", b"sig");
    memo.verify(Algorithm::Hs256, &oct, b"ok.1", b"sig");
    assert_eq!(calls.get(), 8);
    assert_eq!(memo.len(), 6);
    // Bounded.
    for i in 0..(2 * MAX_MEMO_VERDICTS) {
        memo.verify(rs, &rsa, format!("ok.{i}").as_bytes(), b"s");
        assert!(memo.len() <= MAX_MEMO_VERDICTS);
    }
}
