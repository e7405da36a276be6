//! The worked examples of RFC 7515 Appendix A (A.1 HS256, A.2 RS256, A.3 ES256, A.4 ES512)
//! and RFC 7520 section 4 (4.1 RS256, 4.2 PS384, 4.3 ES512, 4.4 HS256) verify, exactly as
//! published, and stop verifying when one byte changes.

use edgegate::jose::Algorithm;
use edgegate::jose::ClaimError;
use edgegate::jose::Part;
use edgegate::{
    compact_verify, jwt_verify, DecodeError, Jwk, JwkSet, KeyOrigin, Limits, PureBackend,
    VerifyError, VerifyOptions,
};

// RFC 7515 A.1: HMAC SHA-256. Header has CRLF + space inside the JSON.
const A1_KEY: &str = r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#;
const A1_JWS: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// RFC 7515 A.2: RSASSA-PKCS1-v1_5 SHA-256.
const A2_KEY: &str = r#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#;
const A2_JWS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

// RFC 7515 A.3: ECDSA P-256 SHA-256.
const A3_KEY: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
const A3_JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 7515 A.4: ECDSA P-521 SHA-512; the payload is the string "Payload" (not JSON).
const A4_KEY: &str = r#"{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}"#;
const A4_JWS: &str = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

// RFC 7520 Figure 4 (RSA), Figure 3 (EC P-521), Figure 5 (HMAC): public parts only.
const RFC7520_RSA: &str = r#"{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQAB"}"#;
const RFC7520_EC: &str = r#"{"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}"#;
const RFC7520_HMAC: &str = r#"{"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256","k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"}"#;
const RFC7520_PAYLOAD: &str = "It\u{2019}s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there\u{2019}s no knowing where you might be swept off to.";
const RFC7520_PAYLOAD_B64: &str = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";
// 4.1 (Figure 13), 4.2 (Figure 20), 4.3 (Figure 27), 4.4 (Figure 35): header.signature.
const RFC7520_4_1: (&str, &str) = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9", "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg");
const RFC7520_4_2: (&str, &str) = ("eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9", "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw");
const RFC7520_4_3: (&str, &str) = ("eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9", "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2");
const RFC7520_4_4: (&str, &str) = (
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9",
    "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0",
);

/// RFC 7515 A.1-A.3 claims expire at 1300819380.
const EXP: i64 = 1_300_819_380;

fn set(jwk: &str) -> JwkSet {
    let key = Jwk::from_json(jwk.as_bytes(), &Limits::DEFAULT).expect("RFC key imports");
    JwkSet::from_keys(vec![key], KeyOrigin::Local).expect("one-key set")
}

fn only(alg: Algorithm) -> VerifyOptions {
    VerifyOptions {
        algorithms: vec![alg],
        ..Default::default()
    }
}

/// Flips one bit in the middle of the signature part (keeping strict base64url).
fn tamper_signature(jws: &str) -> String {
    let dot = jws.rfind('.').expect("three parts");
    let mut bytes = jws.as_bytes().to_vec();
    let i = dot + 1 + (jws.len() - dot - 1) / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

fn check_rfc7515_jwt(key: &str, jws: &str, alg: Algorithm) {
    let keys = set(key);
    let v = jwt_verify(jws, &keys, &only(alg), EXP - 1, &PureBackend)
        .unwrap_or_else(|e| panic!("{} must verify: {e:?}", alg.name()));
    assert_eq!(v.alg(), alg);
    assert_eq!(v.header().alg, alg.name());
    assert_eq!(v.claims()["iss"], "joe");
    assert_eq!(v.claims()["exp"], EXP);
    assert_eq!(v.claims()["http://example.com/is_root"], true);
    // At exp it is expired (AUTH-002), with the signature still good.
    assert_eq!(
        jwt_verify(jws, &keys, &only(alg), EXP, &PureBackend).unwrap_err(),
        VerifyError::Claim(ClaimError::Expired)
    );
    // The same JWS without claim checks.
    assert!(compact_verify(jws, &keys, &only(alg), &PureBackend).is_ok());
    // Not in the allowlist.
    let other = if alg == Algorithm::Hs256 {
        Algorithm::Hs384
    } else {
        Algorithm::Hs256
    };
    assert_eq!(
        compact_verify(jws, &keys, &only(other), &PureBackend).unwrap_err(),
        VerifyError::AlgorithmNotAllowed
    );
    assert_eq!(
        compact_verify(&tamper_signature(jws), &keys, &only(alg), &PureBackend).unwrap_err(),
        VerifyError::InvalidSignature
    );
}

#[test]
fn rfc7515_a1_hs256() {
    check_rfc7515_jwt(A1_KEY, A1_JWS, Algorithm::Hs256);
    let v = jwt_verify(
        A1_JWS,
        &set(A1_KEY),
        &VerifyOptions::default(),
        EXP - 1,
        &PureBackend,
    )
    .expect("verifies");
    assert_eq!(v.header().typ.as_deref(), Some("JWT"));
}

#[test]
fn rfc7515_a2_rs256() {
    check_rfc7515_jwt(A2_KEY, A2_JWS, Algorithm::Rs256);
}

#[test]
fn rfc7515_a3_es256() {
    check_rfc7515_jwt(A3_KEY, A3_JWS, Algorithm::Es256);
}

#[test]
fn rfc7515_a4_es512() {
    let keys = set(A4_KEY);
    let v = compact_verify(A4_JWS, &keys, &only(Algorithm::Es512), &PureBackend)
        .expect("A.4 must verify");
    assert_eq!(v.payload(), b"Payload");
    assert_eq!(v.alg(), Algorithm::Es512);
    // "Payload" is not a JWT claims set: a JWT verification is a decode failure.
    assert_eq!(
        jwt_verify(A4_JWS, &keys, &VerifyOptions::default(), 0, &PureBackend).unwrap_err(),
        VerifyError::Decode(DecodeError::Json {
            part: Part::Payload,
            error: edgegate::codec::JsonError::Syntax
        })
    );
    assert_eq!(
        compact_verify(
            &tamper_signature(A4_JWS),
            &keys,
            &VerifyOptions::default(),
            &PureBackend
        )
        .unwrap_err(),
        VerifyError::InvalidSignature
    );
}

fn check_rfc7520(key: &str, (header, sig): (&str, &str), alg: Algorithm, kid: &str) {
    let jws = format!("{header}.{RFC7520_PAYLOAD_B64}.{sig}");
    let keys = set(key);
    let v = compact_verify(&jws, &keys, &only(alg), &PureBackend)
        .unwrap_or_else(|e| panic!("RFC 7520 {} must verify: {e:?}", alg.name()));
    assert_eq!(v.payload(), RFC7520_PAYLOAD.as_bytes());
    assert_eq!(v.kid(), Some(kid));
    assert_eq!(v.header().kid.as_deref(), Some(kid));
    assert_eq!(v.alg(), alg);
    assert_eq!(
        compact_verify(&tamper_signature(&jws), &keys, &only(alg), &PureBackend).unwrap_err(),
        VerifyError::InvalidSignature
    );
}

#[test]
fn rfc7520_4_1_rs256() {
    check_rfc7520(
        RFC7520_RSA,
        RFC7520_4_1,
        Algorithm::Rs256,
        "bilbo.baggins@hobbiton.example",
    );
}

#[test]
fn rfc7520_4_2_ps384() {
    check_rfc7520(
        RFC7520_RSA,
        RFC7520_4_2,
        Algorithm::Ps384,
        "bilbo.baggins@hobbiton.example",
    );
}

#[test]
fn rfc7520_4_3_es512() {
    check_rfc7520(
        RFC7520_EC,
        RFC7520_4_3,
        Algorithm::Es512,
        "bilbo.baggins@hobbiton.example",
    );
}

#[test]
fn rfc7520_4_4_hs256() {
    check_rfc7520(
        RFC7520_HMAC,
        RFC7520_4_4,
        Algorithm::Hs256,
        "018c0ae5-4d9b-471b-bfd6-eef314bc7037",
    );
}

#[test]
fn rfc7520_payload_constant_matches_its_encoding() {
    assert_eq!(
        edgegate::codec::b64::decode(RFC7520_PAYLOAD_B64.as_bytes()).as_deref(),
        Ok(RFC7520_PAYLOAD.as_bytes())
    );
}
