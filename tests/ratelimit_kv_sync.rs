//! The `kv` rate-limit store evaluated in the gate's context by `KvSync` (the Worker:
//! `Ctx::set_kv_sync`): exact local counts, the other isolates' entries read at most once
//! per second (`Io::RateLimitLoad` answered with `Pending::provide_rate_limit_peers`),
//! coalesced writes (`Ctx::take_rate_limit_kv_writes`, at most one per second per key), no
//! compare-and-set, `onStoreError` on a failed read or a malformed entry.

use std::collections::BTreeMap;

use edgegate::gate::{Ctx, Decision, Env, Gate, Io, Pending, Request, Step};
use edgegate::ErrorCode;
use serde_json::json;

const T0: i64 = 1_700_000_040_000;

fn gate(limit: u64, on_error: &str) -> Gate {
    let c = json!({
        "providers": [{"type": "jwt", "name": "main", "issuer": "https://issuer.example",
            "audience": "api", "secret": "kv-sync-test-secret-0123456789abcdef"}],
        "rateLimits": [{"name": "per-ip", "algorithm": "sliding-window", "limit": limit,
            "window": "1m", "key": "ip", "store": "kv", "onStoreError": on_error}],
        "routes": [{"path": "/api/**", "public": true, "rateLimits": ["per-ip"]}],
    });
    Gate::from_config(c.to_string().as_bytes(), &Env::new()).unwrap()
}

/// The KV namespace model: `<key>:<isolate>` -> (state, written ms).
#[derive(Default)]
struct Kv {
    entries: BTreeMap<String, (String, u64)>,
    reads: usize,
    down: bool,
    malformed: bool,
}

fn run(g: &Gate, iso: &str, ctx: &mut Ctx, kv: &mut Kv, now: i64) -> Decision {
    let mut p = Pending::new(Request::new("GET", "/api/x").client_ip("203.0.113.7"));
    for _ in 0..16 {
        match g.decide_at_ms(&p, now, ctx) {
            Step::Done(d) => return d,
            Step::Need(Io::RateLimitLoad {
                policy, key, store, ..
            }) => {
                assert_eq!(store, "kv");
                kv.reads += 1;
                if kv.down {
                    p.provide_rate_limit_error(&policy, &key);
                    continue;
                }
                let prefix = format!("{key}:");
                let own = format!("{key}:{iso}");
                let mut peers: Vec<(String, u64)> = kv
                    .entries
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix) && **k != own)
                    .map(|(_, v)| v.clone())
                    .collect();
                if kv.malformed {
                    peers.push(("{\"window\":{}}".into(), now as u64));
                }
                let refs: Vec<(&str, u64)> = peers.iter().map(|(s, t)| (s.as_str(), *t)).collect();
                p.provide_rate_limit_peers(&policy, &key, &refs);
            }
            Step::Need(other) => panic!("kv with KvSync asks no {other:?}"),
        }
    }
    panic!("no decision")
}

/// The host's flush: every due write into the model.
fn flush(iso: &str, ctx: &mut Ctx, kv: &mut Kv, now: i64) -> usize {
    let writes = ctx.take_rate_limit_kv_writes(now as u64);
    for w in &writes {
        assert_eq!(w.ttl_ms, 120_000);
        kv.entries
            .insert(format!("{}:{iso}", w.key), (w.state.clone(), w.written_ms));
    }
    writes.len()
}

fn kv_ctx() -> Ctx {
    let mut c = Ctx::new();
    c.set_kv_sync(true);
    c
}

#[test]
fn kv_sync_counts_locally_coalesces_writes_and_reads_peers() {
    let g = gate(5, "deny");
    let mut kv = Kv::default();
    let (mut a, mut b) = (kv_ctx(), kv_ctx());
    // Isolate A: 3 requests in the same second, one read, one coalesced write.
    for i in 0..3 {
        assert!(run(&g, "a", &mut a, &mut kv, T0 + i).is_allowed());
        let n = flush("a", &mut a, &mut kv, T0 + i);
        assert_eq!(
            n,
            usize::from(i == 0),
            "one write per second per key (request {i})"
        );
    }
    assert_eq!(kv.reads, 1, "one read per second per key");
    assert_eq!(a.next_rate_limit_kv_write_ms(), Some(T0 as u64 + 1_000));
    assert_eq!(
        flush("a", &mut a, &mut kv, T0 + 1_000),
        1,
        "the coalesced delta"
    );
    assert_eq!(a.next_rate_limit_kv_write_ms(), None);
    // Isolate B reads A's entry (3 used): 2 left.
    let now = T0 + 1_000;
    assert!(run(&g, "b", &mut b, &mut kv, now).is_allowed());
    assert!(run(&g, "b", &mut b, &mut kv, now).is_allowed());
    match run(&g, "b", &mut b, &mut kv, now) {
        Decision::Deny(d) => {
            assert_eq!(d.status, 429);
            assert_eq!(d.code, ErrorCode::RateLimited);
            assert!(d.response_headers.iter().any(|(n, _)| n == "Retry-After"));
            assert!(d.response_headers.iter().any(|(n, _)| n == "RateLimit"));
        }
        other => panic!("expected 429, got {other:?}"),
    }
}

#[test]
fn without_kv_sync_kv_stays_a_compare_and_set() {
    let g = gate(5, "deny");
    let mut ctx = Ctx::new();
    let p = Pending::new(Request::new("GET", "/api/x").client_ip("203.0.113.7"));
    let Step::Need(Io::RateLimitLoad { policy, key, .. }) = g.decide_at_ms(&p, T0, &mut ctx) else {
        panic!("expected a load");
    };
    let mut p = p;
    p.provide_rate_limit_state(&policy, &key, None, None);
    assert!(matches!(
        g.decide_at_ms(&p, T0, &mut ctx),
        Step::Need(Io::RateLimitStore { .. })
    ));
}

#[test]
fn kv_read_errors_and_malformed_entries_apply_on_store_error() {
    for (on_error, allowed) in [("deny", false), ("allow", true), ("local", true)] {
        let g = gate(5, on_error);
        for (down, malformed) in [(true, false), (false, true)] {
            let mut kv = Kv {
                down,
                malformed,
                ..Kv::default()
            };
            let mut ctx = kv_ctx();
            let d = run(&g, "a", &mut ctx, &mut kv, T0);
            assert_eq!(d.is_allowed(), allowed, "{on_error} down={down}: {d:?}");
            if let Decision::Deny(d) = d {
                assert_eq!(d.code, ErrorCode::ConfigError);
            }
        }
    }
}

/// A shared store whose compare-and-set loses `conflicts` times (another request stored
/// first each time), then succeeds: the CAS attempts and the decision.
fn cas_with_conflicts(store: &str, conflicts: usize) -> (usize, Decision) {
    let c = json!({
        "providers": [{"type": "jwt", "name": "main", "issuer": "https://issuer.example",
            "audience": "api", "secret": "kv-sync-test-secret-0123456789abcdef"}],
        "rateLimits": [{"name": "p", "algorithm": "fixed-window", "limit": 100,
            "window": "1m", "key": "ip", "store": store, "onStoreError": "deny"}],
        "routes": [{"path": "/api/**", "public": true, "rateLimits": ["p"]}],
    });
    let g = Gate::from_config(c.to_string().as_bytes(), &Env::new()).unwrap();
    let mut ctx = Ctx::new();
    let mut p = Pending::new(Request::new("GET", "/api/x").client_ip("203.0.113.7"));
    let mut attempts = 0;
    for _ in 0..64 {
        match g.decide_at_ms(&p, T0, &mut ctx) {
            Step::Done(d) => return (attempts, d),
            Step::Need(Io::RateLimitLoad { policy, key, .. }) => {
                p.provide_rate_limit_state(&policy, &key, None, None)
            }
            Step::Need(Io::RateLimitStore { policy, key, .. }) => {
                attempts += 1;
                let r = if attempts <= conflicts {
                    Err(None)
                } else {
                    Ok(())
                };
                p.provide_rate_limit_stored(&policy, &key, r);
            }
            Step::Need(other) => panic!("unexpected {other:?}"),
        }
    }
    panic!("no decision")
}

#[test]
fn durable_object_cas_conflicts_have_the_serialized_budget() {
    use edgegate::gate::{MAX_RATE_LIMIT_CONFLICTS, MAX_RATE_LIMIT_CONFLICTS_SERIALIZED};
    // Redis keeps 3: the third conflict is a store error.
    let (n, d) = cas_with_conflicts("redis", 10);
    assert_eq!(n, MAX_RATE_LIMIT_CONFLICTS as usize);
    assert!(
        matches!(d, Decision::Deny(ref x) if x.code == ErrorCode::ConfigError),
        "{d:?}"
    );
    // A herd on a Durable Object: 10 conflicts, then the request is admitted (the limit's
    // verdict, not onStoreError).
    let (n, d) = cas_with_conflicts("durable-object", 10);
    assert_eq!(n, 11);
    assert!(d.is_allowed(), "{d:?}");
    // Still bounded.
    let (n, d) = cas_with_conflicts("durable-object", 1000);
    assert_eq!(n, MAX_RATE_LIMIT_CONFLICTS_SERIALIZED as usize);
    assert!(
        matches!(d, Decision::Deny(ref x) if x.code == ErrorCode::ConfigError),
        "{d:?}"
    );
}
