//! JWT claim checks, table-driven: one table per option, with the exact edges of the
//! clock tolerance (jose's `jwtVerify` semantics). These call `check_claims` directly so
//! they do not depend on a crypto backend; `tests/jose_fixtures.rs` runs the same checks
//! through `jwt_verify` on real signed tokens.

use edgegate::codec::b64::encode;
use edgegate::jose::Header;
use edgegate::jose::{check_claims, ClaimError};
use edgegate::{ErrorCode, Limits, UntrustedToken, VerifyError, VerifyOptions};
use serde_json::{json, Map, Value};

const NOW: i64 = 1_700_000_000;

fn header(h: Value) -> Header {
    let t = format!(
        "{}.{}.{}",
        encode(h.to_string().as_bytes()),
        encode(b"{}"),
        encode(b"sig")
    );
    UntrustedToken::parse(&t, &Limits::DEFAULT)
        .unwrap()
        .header()
        .clone()
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn missing(c: &str) -> Result<(), ClaimError> {
    Err(ClaimError::Missing { claim: c.into() })
}
fn mismatch(c: &str) -> Result<(), ClaimError> {
    Err(ClaimError::Mismatch { claim: c.into() })
}
fn wrong_type(c: &str) -> Result<(), ClaimError> {
    Err(ClaimError::WrongType { claim: c.into() })
}

/// Runs a table: (claims, now, expected), with one fixed set of options.
fn run(name: &str, opts: &VerifyOptions, table: &[(Value, i64, Result<(), ClaimError>)]) {
    let h = header(json!({"alg": "RS256", "typ": "JWT"}));
    for (i, (claims, now, want)) in table.iter().enumerate() {
        let got = check_claims(&h, &obj(claims.clone()), *now, opts);
        assert_eq!(&got, want, "{name} row {i}: claims {claims} now {now}");
    }
}

fn tol(t: u64) -> VerifyOptions {
    VerifyOptions {
        clock_tolerance: t,
        ..Default::default()
    }
}

#[test]
fn exp_without_tolerance() {
    let n = NOW as f64;
    run(
        "exp tol=0",
        &tol(0),
        &[
            (json!({}), NOW, Ok(())),
            (json!({"exp": NOW + 1}), NOW, Ok(())),
            (json!({"exp": NOW}), NOW, Err(ClaimError::Expired)),
            (json!({"exp": NOW - 1}), NOW, Err(ClaimError::Expired)),
            (json!({"exp": n + 0.5}), NOW, Ok(())),
            (json!({"exp": n + 0.001}), NOW, Ok(())),
            (json!({"exp": n - 0.5}), NOW, Err(ClaimError::Expired)),
            (json!({"exp": 0}), NOW, Err(ClaimError::Expired)),
            (json!({"exp": -1}), NOW, Err(ClaimError::Expired)),
            (json!({"exp": 1e300}), NOW, Ok(())),
            (json!({"exp": "1900000000"}), NOW, wrong_type("exp")),
            (json!({"exp": null}), NOW, wrong_type("exp")),
            (json!({"exp": true}), NOW, wrong_type("exp")),
            (json!({"exp": [NOW + 10]}), NOW, wrong_type("exp")),
            (json!({"exp": {"v": 1}}), NOW, wrong_type("exp")),
        ],
    );
}

#[test]
fn exp_with_tolerance() {
    let n = NOW as f64;
    run(
        "exp tol=10",
        &tol(10),
        &[
            (json!({"exp": NOW}), NOW, Ok(())),
            (json!({"exp": NOW - 9}), NOW, Ok(())),
            (json!({"exp": n - 9.5}), NOW, Ok(())),
            (json!({"exp": NOW - 10}), NOW, Err(ClaimError::Expired)),
            (json!({"exp": n - 10.0}), NOW, Err(ClaimError::Expired)),
            (json!({"exp": n - 10.5}), NOW, Err(ClaimError::Expired)),
            (json!({"exp": NOW - 11}), NOW, Err(ClaimError::Expired)),
        ],
    );
}

#[test]
fn nbf_edges() {
    let n = NOW as f64;
    run(
        "nbf tol=0",
        &tol(0),
        &[
            (json!({"nbf": NOW}), NOW, Ok(())),
            (json!({"nbf": NOW - 1}), NOW, Ok(())),
            (json!({"nbf": NOW + 1}), NOW, Err(ClaimError::NotYetValid)),
            (json!({"nbf": n + 0.5}), NOW, Err(ClaimError::NotYetValid)),
            (json!({"nbf": n - 0.5}), NOW, Ok(())),
            (json!({"nbf": "0"}), NOW, wrong_type("nbf")),
            (json!({"nbf": null}), NOW, wrong_type("nbf")),
        ],
    );
    run(
        "nbf tol=30",
        &tol(30),
        &[
            (json!({"nbf": NOW + 29}), NOW, Ok(())),
            (json!({"nbf": NOW + 30}), NOW, Ok(())),
            (json!({"nbf": n + 30.5}), NOW, Err(ClaimError::NotYetValid)),
            (json!({"nbf": NOW + 31}), NOW, Err(ClaimError::NotYetValid)),
        ],
    );
}

#[test]
fn iat_without_max_token_age() {
    // jose: iat must be a number when present; a future iat alone is not an error.
    run(
        "iat",
        &tol(0),
        &[
            (json!({}), NOW, Ok(())),
            (json!({"iat": NOW}), NOW, Ok(())),
            (json!({"iat": NOW + 3600}), NOW, Ok(())),
            (json!({"iat": "now"}), NOW, wrong_type("iat")),
            (json!({"iat": null}), NOW, wrong_type("iat")),
        ],
    );
}

#[test]
fn max_token_age_edges() {
    let n = NOW as f64;
    let opts = VerifyOptions {
        max_token_age: Some(60),
        ..Default::default()
    };
    run(
        "max_token_age=60 tol=0",
        &opts,
        &[
            (json!({}), NOW, missing("iat")),
            (json!({"iat": "x"}), NOW, wrong_type("iat")),
            (json!({"iat": NOW}), NOW, Ok(())),
            (json!({"iat": NOW - 59}), NOW, Ok(())),
            (json!({"iat": NOW - 60}), NOW, Ok(())),
            (json!({"iat": n - 60.5}), NOW, Err(ClaimError::TooOld)),
            (json!({"iat": NOW - 61}), NOW, Err(ClaimError::TooOld)),
            (
                json!({"iat": n + 0.5}),
                NOW,
                Err(ClaimError::IssuedInFuture),
            ),
            (
                json!({"iat": NOW + 1}),
                NOW,
                Err(ClaimError::IssuedInFuture),
            ),
        ],
    );
    let opts = VerifyOptions {
        max_token_age: Some(60),
        clock_tolerance: 5,
        ..Default::default()
    };
    run(
        "max_token_age=60 tol=5",
        &opts,
        &[
            (json!({"iat": NOW - 65}), NOW, Ok(())),
            (json!({"iat": n - 65.5}), NOW, Err(ClaimError::TooOld)),
            (json!({"iat": NOW - 66}), NOW, Err(ClaimError::TooOld)),
            (json!({"iat": NOW + 5}), NOW, Ok(())),
            (
                json!({"iat": n + 5.5}),
                NOW,
                Err(ClaimError::IssuedInFuture),
            ),
            (
                json!({"iat": NOW + 6}),
                NOW,
                Err(ClaimError::IssuedInFuture),
            ),
        ],
    );
    let opts = VerifyOptions {
        max_token_age: Some(0),
        ..Default::default()
    };
    run(
        "max_token_age=0",
        &opts,
        &[
            (json!({"iat": NOW}), NOW, Ok(())),
            (json!({"iat": NOW - 1}), NOW, Err(ClaimError::TooOld)),
        ],
    );
}

#[test]
fn issuer_one_of_several() {
    let opts = VerifyOptions {
        issuer: vec!["https://a.example/".into(), "https://b.example/".into()],
        ..Default::default()
    };
    run(
        "issuer",
        &opts,
        &[
            (json!({"iss": "https://a.example/"}), NOW, Ok(())),
            (json!({"iss": "https://b.example/"}), NOW, Ok(())),
            (json!({"iss": "https://a.example"}), NOW, mismatch("iss")),
            (json!({"iss": "HTTPS://A.EXAMPLE/"}), NOW, mismatch("iss")),
            (json!({"iss": ["https://a.example/"]}), NOW, mismatch("iss")),
            (json!({"iss": 1}), NOW, mismatch("iss")),
            (json!({"iss": null}), NOW, mismatch("iss")),
            (json!({}), NOW, missing("iss")),
        ],
    );
}

#[test]
fn audience_string_or_array_on_either_side() {
    let one = VerifyOptions {
        audience: vec!["api".into()],
        ..Default::default()
    };
    run(
        "audience [api]",
        &one,
        &[
            (json!({"aud": "api"}), NOW, Ok(())),
            (json!({"aud": ["other", "api"]}), NOW, Ok(())),
            (json!({"aud": ["api"]}), NOW, Ok(())),
            (json!({"aud": "API"}), NOW, mismatch("aud")),
            (json!({"aud": ["other"]}), NOW, mismatch("aud")),
            (json!({"aud": []}), NOW, mismatch("aud")),
            (json!({"aud": [1, null]}), NOW, mismatch("aud")),
            (json!({"aud": 1}), NOW, mismatch("aud")),
            (json!({"aud": {"api": true}}), NOW, mismatch("aud")),
            (json!({}), NOW, missing("aud")),
        ],
    );
    let two = VerifyOptions {
        audience: vec!["api".into(), "web".into()],
        ..Default::default()
    };
    run(
        "audience [api, web]",
        &two,
        &[
            (json!({"aud": "web"}), NOW, Ok(())),
            (json!({"aud": ["x", "web"]}), NOW, Ok(())),
            (json!({"aud": ["x", "y"]}), NOW, mismatch("aud")),
        ],
    );
    // No audience option: aud is not checked at all.
    run(
        "no audience",
        &tol(0),
        &[(json!({"aud": 1}), NOW, Ok(())), (json!({}), NOW, Ok(()))],
    );
}

#[test]
fn subject_exact() {
    let opts = VerifyOptions {
        subject: Some("user-1".into()),
        ..Default::default()
    };
    run(
        "subject",
        &opts,
        &[
            (json!({"sub": "user-1"}), NOW, Ok(())),
            (json!({"sub": "user-2"}), NOW, mismatch("sub")),
            (json!({"sub": "User-1"}), NOW, mismatch("sub")),
            (json!({"sub": 1}), NOW, mismatch("sub")),
            (json!({}), NOW, missing("sub")),
        ],
    );
}

#[test]
fn required_claims_presence_only() {
    let opts = VerifyOptions {
        required_claims: vec!["jti".into(), "tenant".into()],
        ..Default::default()
    };
    run(
        "required_claims",
        &opts,
        &[
            (json!({"jti": "1", "tenant": "t"}), NOW, Ok(())),
            // presence, as jose's `in`: a null value is present
            (json!({"jti": null, "tenant": false}), NOW, Ok(())),
            (json!({"jti": "1"}), NOW, missing("tenant")),
            (json!({"tenant": "t"}), NOW, missing("jti")),
        ],
    );
}

#[test]
fn typ_like_jose() {
    let cases: &[(&str, Option<Value>, Result<(), ClaimError>)] = &[
        ("JWT", Some(json!("JWT")), Ok(())),
        ("JWT", Some(json!("jwt")), Ok(())),
        ("JWT", Some(json!("application/jwt")), Ok(())),
        ("JWT", Some(json!("APPLICATION/JWT")), Ok(())),
        ("jwt", Some(json!("JWT")), Ok(())),
        ("JWT", Some(json!("at+jwt")), mismatch("typ")),
        ("JWT", Some(json!("JWT ")), mismatch("typ")),
        (
            "JWT",
            Some(json!("application/application/jwt")),
            mismatch("typ"),
        ),
        ("JWT", Some(json!("text/jwt")), mismatch("typ")),
        ("Jwt", Some(json!("application/JWT")), Ok(())),
        ("JWT", Some(json!(1)), mismatch("typ")),
        ("JWT", None, mismatch("typ")),
        ("at+jwt", Some(json!("at+jwt")), Ok(())),
        ("at+jwt", Some(json!("application/at+jwt")), Ok(())),
        ("at+jwt", Some(json!("AT+JWT")), Ok(())),
        ("at+jwt", Some(json!("JWT")), mismatch("typ")),
        ("application/at+jwt", Some(json!("at+jwt")), Ok(())),
        (
            "application/at+jwt",
            Some(json!("application/AT+JWT")),
            Ok(()),
        ),
    ];
    for (want, have, expected) in cases {
        let mut h = json!({"alg": "ES256"});
        if let Some(t) = have {
            h["typ"] = t.clone();
        }
        let opts = VerifyOptions {
            typ: Some((*want).into()),
            ..Default::default()
        };
        assert_eq!(
            &check_claims(&header(h.clone()), &Map::new(), NOW, &opts),
            expected,
            "typ option {want} header {h}"
        );
    }
    // No typ option: any typ (or none) passes.
    assert_eq!(
        check_claims(
            &header(json!({"alg":"ES256","typ":7})),
            &Map::new(),
            NOW,
            &tol(0)
        ),
        Ok(())
    );
}

#[test]
fn all_options_together() {
    let opts = VerifyOptions {
        issuer: vec!["iss".into()],
        audience: vec!["aud".into()],
        subject: Some("sub".into()),
        clock_tolerance: 2,
        max_token_age: Some(300),
        required_claims: vec!["jti".into()],
        typ: Some("at+jwt".into()),
        ..Default::default()
    };
    let h = header(json!({"alg": "ES256", "typ": "application/at+jwt"}));
    let good = json!({"iss":"iss","aud":["aud"],"sub":"sub","iat":NOW-10,"nbf":NOW+2,"exp":NOW-1,"jti":"j"});
    assert_eq!(check_claims(&h, &obj(good.clone()), NOW, &opts), Ok(()));
    let mut expired = good.clone();
    expired["exp"] = json!(NOW - 2);
    assert_eq!(
        check_claims(&h, &obj(expired), NOW, &opts),
        Err(ClaimError::Expired)
    );
    let mut no_jti = good;
    no_jti.as_object_mut().unwrap().remove("jti");
    assert_eq!(check_claims(&h, &obj(no_jti), NOW, &opts), missing("jti"));
}

#[test]
fn error_codes_follow_the_design_table() {
    let code = |e: ClaimError| VerifyError::Claim(e).code();
    assert_eq!(code(ClaimError::Expired), ErrorCode::TokenExpired);
    assert_eq!(code(ClaimError::TooOld), ErrorCode::TokenExpired);
    assert_eq!(code(ClaimError::NotYetValid), ErrorCode::InvalidToken);
    assert_eq!(code(ClaimError::IssuedInFuture), ErrorCode::InvalidToken);
    assert_eq!(
        code(ClaimError::Missing {
            claim: "iss".into()
        }),
        ErrorCode::InvalidToken
    );
    assert_eq!(
        code(ClaimError::Mismatch {
            claim: "aud".into()
        }),
        ErrorCode::InvalidToken
    );
    assert_eq!(
        code(ClaimError::WrongType {
            claim: "exp".into()
        }),
        ErrorCode::InvalidToken
    );
    assert_eq!(ErrorCode::TokenExpired.as_str(), "AUTH-002");
}
