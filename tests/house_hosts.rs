//! Rules that used to live in hosts (issue 8, item 2): the origin-ready path and the
//! client-certificate interpretation are the core's.

use edgegate::gate::{normalize, ClientCert, Decision, Gate, Pending, Request, Step};
use edgegate::gate::{Ctx, MemoryStore};
use serde_json::json;

#[test]
fn forward_path_escapes_what_would_change_the_origin_path() {
    let cases = [
        ("/a/b", "/a/b"),
        ("/", "/"),
        ("/a%3Fx=1/b", "/a%3Fx=1/b"),
        ("/a%23frag", "/a%23frag"),
        ("/a%3Bjsessionid=1", "/a%3Bjsessionid=1"),
        ("/a%20b", "/a%20b"),
        ("/caf%C3%A9", "/caf%C3%A9"),
        ("/x/./y/../z", "/x/z"),
        ("/user:1@host/$&+,=!*'()~", "/user:1@host/$&+,=!*'()~"),
        ("/a\"b<c>", "/a%22b%3Cc%3E"),
    ];
    for (target, want) in cases {
        let n = normalize(target).unwrap_or_else(|e| panic!("{target}: {e:?}"));
        assert_eq!(n.forward_path(), want, "{target}");
    }
}

#[test]
fn forward_path_round_trips_through_normalization() {
    for target in [
        "/a%3Fb/c%23d/e%3Bf/g%20h",
        "/%E2%82%AC/x",
        "/a/b/",
        "/a//b",
        "/Ünïcode/路径",
        "/a%2Bb/c+d",
    ] {
        let n = normalize(target).unwrap();
        let again = normalize(&n.forward_path()).unwrap();
        assert_eq!(again.segments, n.segments, "{target}");
        assert_eq!(again.forward_path(), n.forward_path(), "{target}");
        assert!(!n.forward_path().contains(['?', '#', ';', ' ']), "{target}");
    }
}

#[test]
fn the_allow_decision_carries_the_forward_path() {
    let g = Gate::from_config(
        br#"{"routes": [{"name": "pub", "path": "/**", "public": true}]}"#,
        &Default::default(),
    )
    .unwrap();
    let req = Request::new("GET", "/files/a%3Fb%23c%3Bd%20e?q=1");
    let step = g.decide_with_store(
        &mut Pending::new(req),
        1_700_000_000,
        &mut Ctx::new(),
        &MemoryStore::default(),
    );
    let Step::Done(d @ Decision::Allow(_)) = step else {
        panic!("expected allow, got {step:?}");
    };
    let j = d.to_json();
    assert_eq!(j["path"], json!("/files/a?b#c;d e"));
    assert_eq!(j["forwardPath"], json!("/files/a%3Fb%23c%3Bd%20e"));
}

#[test]
fn client_certificate_interpretation_is_the_core_s() {
    let fp = "ab:cd";
    assert_eq!(
        ClientCert::from_tls_facts(Some("1"), Some("SUCCESS"), Some("0"), Some(fp)),
        Some(ClientCert {
            verified: true,
            fingerprint_sha256: Some(fp.into())
        })
    );
    // Presented but not verified, or revoked: present, not verified.
    for (verified, revoked) in [
        (Some("FAILED:self signed certificate"), None),
        (Some("NONE"), None),
        (Some("success"), None),
        (None, None),
        (Some("SUCCESS"), Some("1")),
    ] {
        let c = ClientCert::from_tls_facts(Some("1"), verified, revoked, Some(""));
        assert_eq!(
            c,
            Some(ClientCert {
                verified: false,
                fingerprint_sha256: None
            }),
            "{verified:?} {revoked:?}"
        );
    }
    // Not presented: no certificate, whatever else is claimed.
    for presented in [None, Some("0"), Some("true"), Some("")] {
        assert_eq!(
            ClientCert::from_tls_facts(presented, Some("SUCCESS"), None, Some(fp)),
            None
        );
    }
}

#[test]
fn request_json_takes_raw_tls_facts() {
    let r = Request::from_json(&json!({"method": "GET", "path": "/", "tlsClientAuth": {
        "certPresented": "1", "certVerified": "SUCCESS", "certRevoked": "0",
        "certFingerprintSHA256": "aa"}}))
    .unwrap();
    assert_eq!(
        r.client_cert,
        Some(ClientCert {
            verified: true,
            fingerprint_sha256: Some("aa".into())
        })
    );
    let r = Request::from_json(&json!({"method": "GET", "path": "/", "tlsClientAuth": {
        "certPresented": "1", "certVerified": "FAILED:x"}}))
    .unwrap();
    assert_eq!(r.client_cert.map(|c| c.verified), Some(false));
    assert!(Request::from_json(&json!({"method": "GET", "path": "/",
        "clientCert": {"verified": true}, "tlsClientAuth": {"certPresented": "1"}}))
    .is_err());
}
