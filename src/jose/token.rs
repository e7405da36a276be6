//! Untrusted parsing of compact JWS / JWT, and unverified inspection.
//!
//! Parsing is strict and cheap: the size budget first, then exactly three parts, strict
//! base64url for each (see [`crate::codec::b64`]), and a strict JSON object for the header (see
//! [`crate::codec::json`]: UTF-8, no duplicate members, bounded depth). The payload stays raw
//! bytes (a JWS payload need not be JSON); [`UntrustedToken::claims_unverified`] parses it.
//! Nothing here is trusted: `alg`, `kid`, `jwk`, `jku`, `x5u`, `x5c`, `x5t` are data.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

use crate::codec::json::JsonError;
use crate::limits::Limits;

/// Which part of a compact token a decode error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Header,
    Payload,
    Signature,
}

impl Part {
    /// `"header"`, `"payload"` or `"signature"`.
    pub const fn name(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a token could not be decoded (AUTH-006). Never carries the token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Longer than `Limits::max_token_bytes`.
    TooLarge { limit: usize, actual: usize },
    /// Not three dot-separated parts.
    Segments { expected: usize, actual: usize },
    /// A part is not strict base64url.
    Base64 { part: Part },
    /// A part is not valid JSON / UTF-8 / an object, has duplicate members, or is too deep.
    Json {
        part: Part,
        error: crate::codec::json::JsonError,
    },
    /// The header has no string `alg`.
    MissingAlg,
}

impl DecodeError {
    /// Always AUTH-006.
    pub const fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::DecodeFailed
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLarge { limit, actual } => {
                write!(f, "token is {actual} bytes, over the {limit}-byte limit")
            }
            DecodeError::Segments { expected, actual } => write!(
                f,
                "token has {actual} parts, expected {expected} (compact jws only)"
            ),
            DecodeError::Base64 { part } => write!(f, "token {part} is not valid base64url"),
            DecodeError::Json { part, error } => write!(f, "token {part}: {error}"),
            DecodeError::MissingAlg => f.write_str("token header has no string \"alg\""),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// The protected header, as decoded (nothing in it is trusted yet).
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// `alg` as written (may be `"none"` or unknown; verification refuses those).
    pub alg: String,
    /// `kid`, if a string.
    pub kid: Option<String>,
    /// `typ`, if a string.
    pub typ: Option<String>,
    /// `crit`, if present and an array of strings (verification checks the raw member
    /// and refuses any other shape).
    pub crit: Option<Vec<String>>,
    /// Every header member.
    pub raw: Map<String, Value>,
}

impl Header {
    fn from_map(raw: Map<String, Value>) -> Result<Header, DecodeError> {
        let alg = match raw.get("alg") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(DecodeError::MissingAlg),
        };
        let string = |name: &str| match raw.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let kid = string("kid");
        let typ = string("typ");
        let crit = match raw.get("crit") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(ToString::to_string))
                .collect::<Option<Vec<String>>>(),
            _ => None,
        };
        Ok(Header {
            alg,
            kid,
            typ,
            crit,
            raw,
        })
    }
}

/// A compact JWS split and decoded, with nothing verified.
#[derive(Clone, Debug)]
pub struct UntrustedToken<'a> {
    raw: &'a str,
    header: Header,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// The pieces of a parsed token, moved out without copies (for verify.rs).
pub(crate) struct Parts<'a> {
    pub(crate) signing_input: &'a [u8],
    pub(crate) header: Header,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

impl<'a> UntrustedToken<'a> {
    /// Splits and decodes a compact JWS within `limits`.
    pub fn parse(token: &'a str, limits: &Limits) -> Result<UntrustedToken<'a>, DecodeError> {
        if token.len() > limits.max_token_bytes {
            return Err(DecodeError::TooLarge {
                limit: limits.max_token_bytes,
                actual: token.len(),
            });
        }
        let mut parts = token.split('.');
        let (h, p, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(s), None) => (h, p, s),
            _ => {
                return Err(DecodeError::Segments {
                    expected: 3,
                    actual: token.split('.').count(),
                })
            }
        };
        let header_bytes = crate::codec::b64::decode(h.as_bytes())
            .map_err(|_| DecodeError::Base64 { part: Part::Header })?;
        let payload = crate::codec::b64::decode(p.as_bytes()).map_err(|_| DecodeError::Base64 {
            part: Part::Payload,
        })?;
        let signature =
            crate::codec::b64::decode(s.as_bytes()).map_err(|_| DecodeError::Base64 {
                part: Part::Signature,
            })?;
        let raw_header = crate::codec::json::parse_object(&header_bytes, limits.max_json_depth)
            .map_err(|error| DecodeError::Json {
                part: Part::Header,
                error,
            })?;
        let header = Header::from_map(raw_header)?;
        Ok(UntrustedToken {
            raw: token,
            header,
            payload,
            signature,
        })
    }

    /// The decoded protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers.
    pub fn signing_input(&self) -> &'a [u8] {
        let raw: &'a str = self.raw;
        let end = raw.rfind('.').unwrap_or(raw.len());
        raw.as_bytes().get(..end).unwrap_or(raw.as_bytes())
    }

    /// The decoded payload bytes (not yet trusted).
    pub fn payload_unverified(&self) -> &[u8] {
        &self.payload
    }

    /// The decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The payload parsed as a JWT claims set, without any verification.
    pub fn claims_unverified(&self, limits: &Limits) -> Result<Map<String, Value>, DecodeError> {
        parse_claims(&self.payload, limits)
    }

    pub(crate) fn into_parts(self) -> Parts<'a> {
        let signing_input = self.signing_input();
        Parts {
            signing_input,
            header: self.header,
            payload: self.payload,
            signature: self.signature,
        }
    }
}

/// Parses a payload as a JWT claims set (a strict JSON object).
pub(crate) fn parse_claims(
    payload: &[u8],
    limits: &Limits,
) -> Result<Map<String, Value>, DecodeError> {
    crate::codec::json::parse_object(payload, limits.max_json_depth).map_err(|error: JsonError| {
        DecodeError::Json {
            part: Part::Payload,
            error,
        }
    })
}

/// What `inspect` reports about a token, none of it verified.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    /// Always `false`: nothing here was verified.
    pub verified: bool,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `exp` in seconds, if a number.
    pub expires_at: Option<f64>,
    /// `exp <= now`.
    pub expired: bool,
    /// `exp - now` in seconds, if `exp` is a number.
    pub expires_in: Option<f64>,
    /// `nbf > now`.
    pub not_yet_valid: bool,
    /// Warnings (`alg: none`, missing `exp`, ...), as stable lowercase strings.
    pub warnings: Vec<String>,
}

/// Stable warning strings produced by [`inspect`].
pub mod warning {
    /// The header says `alg: none` (edgegate never accepts it).
    pub const ALG_NONE: &str = "alg: none";
    /// `alg` is not one edgegate supports.
    pub const ALG_UNSUPPORTED: &str = "alg: unsupported";
    /// No `exp` claim: the token never expires.
    pub const MISSING_EXP: &str = "missing exp";
    /// `exp` is present but not a number.
    pub const EXP_NOT_NUMBER: &str = "exp: not a number";
    /// `nbf` is present but not a number.
    pub const NBF_NOT_NUMBER: &str = "nbf: not a number";
    /// `iat` is present but not a number.
    pub const IAT_NOT_NUMBER: &str = "iat: not a number";
    /// Expired at `now`.
    pub const EXPIRED: &str = "expired";
    /// `nbf` is after `now`.
    pub const NOT_YET_VALID: &str = "not yet valid";
    /// `iat` is after `now`.
    pub const ISSUED_IN_FUTURE: &str = "iat: in the future";
    /// A `crit` header is present.
    pub const CRIT: &str = "crit header present";
    /// The header carries a key or key URL (`jwk`, `jku`, `x5u`, `x5c`); edgegate ignores it.
    pub const EMBEDDED_KEY: &str = "key-carrying header ignored (jwk/jku/x5u/x5c)";
}

fn push_unique(warnings: &mut Vec<String>, w: &str) {
    if !warnings.iter().any(|x| x == w) {
        warnings.push(String::from(w));
    }
}

/// Decodes a token for display, without verifying it. `now` is unix seconds.
pub fn inspect(token: &str, now: i64, limits: &Limits) -> Result<Inspection, DecodeError> {
    let parsed = UntrustedToken::parse(token, limits)?;
    let claims = parsed.claims_unverified(limits)?;
    let header = parsed.header;
    let now_f = now as f64;
    let mut warnings = Vec::new();

    if header.alg.eq_ignore_ascii_case("none") {
        push_unique(&mut warnings, warning::ALG_NONE);
    } else if crate::jose::alg::Algorithm::from_name(&header.alg).is_none() {
        push_unique(&mut warnings, warning::ALG_UNSUPPORTED);
    }
    if header.raw.contains_key("crit") {
        push_unique(&mut warnings, warning::CRIT);
    }
    if ["jwk", "jku", "x5u", "x5c"]
        .iter()
        .any(|k| header.raw.contains_key(*k))
    {
        push_unique(&mut warnings, warning::EMBEDDED_KEY);
    }

    let (expires_at, expired, expires_in) = match claims.get("exp") {
        None => {
            push_unique(&mut warnings, warning::MISSING_EXP);
            (None, false, None)
        }
        Some(v) => match v.as_f64() {
            Some(exp) => {
                let expired = exp <= now_f;
                if expired {
                    push_unique(&mut warnings, warning::EXPIRED);
                }
                (Some(exp), expired, Some(exp - now_f))
            }
            None => {
                push_unique(&mut warnings, warning::EXP_NOT_NUMBER);
                (None, false, None)
            }
        },
    };
    let not_yet_valid = match claims.get("nbf") {
        None => false,
        Some(v) => match v.as_f64() {
            Some(nbf) => nbf > now_f,
            None => {
                push_unique(&mut warnings, warning::NBF_NOT_NUMBER);
                false
            }
        },
    };
    if not_yet_valid {
        push_unique(&mut warnings, warning::NOT_YET_VALID);
    }
    if let Some(v) = claims.get("iat") {
        match v.as_f64() {
            Some(iat) if iat > now_f => push_unique(&mut warnings, warning::ISSUED_IN_FUTURE),
            Some(_) => {}
            None => push_unique(&mut warnings, warning::IAT_NOT_NUMBER),
        }
    }

    Ok(Inspection {
        verified: false,
        header: header.raw,
        claims,
        expires_at,
        expired,
        expires_in,
        not_yet_valid,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::b64::encode;
    use alloc::format;

    fn tok(header: &str, payload: &str, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            encode(header.as_bytes()),
            encode(payload.as_bytes()),
            encode(sig)
        )
    }

    const L: Limits = Limits::DEFAULT;

    #[test]
    fn parses_a_compact_jws() {
        let t = tok(
            r#"{"alg":"HS256","kid":"k1","typ":"JWT","crit":["exp"],"exp":1}"#,
            r#"{"sub":"a"}"#,
            b"sig",
        );
        let u = UntrustedToken::parse(&t, &L).unwrap();
        let h = u.header();
        assert_eq!(h.alg, "HS256");
        assert_eq!(h.kid.as_deref(), Some("k1"));
        assert_eq!(h.typ.as_deref(), Some("JWT"));
        assert_eq!(h.crit, Some(alloc::vec![String::from("exp")]));
        assert_eq!(u.payload_unverified(), br#"{"sub":"a"}"#);
        assert_eq!(u.signature(), b"sig");
        let dot = t.rfind('.').unwrap();
        assert_eq!(u.signing_input(), &t.as_bytes()[..dot]);
        assert_eq!(u.claims_unverified(&L).unwrap()["sub"], "a");
    }

    #[test]
    fn non_json_payload_is_fine_for_jws() {
        let t = tok(r#"{"alg":"HS256"}"#, "foo", b"x");
        let u = UntrustedToken::parse(&t, &L).unwrap();
        assert_eq!(u.payload_unverified(), b"foo");
        assert!(matches!(
            u.claims_unverified(&L),
            Err(DecodeError::Json {
                part: Part::Payload,
                error: JsonError::Syntax
            })
        ));
    }

    #[test]
    fn segment_count_is_exact() {
        for (t, n) in [
            ("", 1),
            ("a", 1),
            ("a.b", 2),
            ("a.b.c.d", 4),
            ("a.b.c.d.e", 5),
            ("..", 3),
        ] {
            let r = UntrustedToken::parse(t, &L);
            if n == 3 {
                // empty header decodes to empty bytes -> not JSON
                assert!(matches!(
                    r,
                    Err(DecodeError::Json {
                        part: Part::Header,
                        ..
                    })
                ));
            } else {
                assert_eq!(
                    r.unwrap_err(),
                    DecodeError::Segments {
                        expected: 3,
                        actual: n
                    }
                );
            }
        }
        // JWS JSON serialization is refused.
        let json = r#"{"payload":"e30","protected":"eyJhbGciOiJIUzI1NiJ9","signature":"AA"}"#;
        assert!(matches!(
            UntrustedToken::parse(json, &L),
            Err(DecodeError::Segments { actual: 1, .. })
        ));
    }

    #[test]
    fn size_budget() {
        let t = tok(r#"{"alg":"HS256"}"#, "{}", b"s");
        let limits = Limits {
            max_token_bytes: t.len() - 1,
            ..L
        };
        assert_eq!(
            UntrustedToken::parse(&t, &limits).unwrap_err(),
            DecodeError::TooLarge {
                limit: t.len() - 1,
                actual: t.len()
            }
        );
        let limits = Limits {
            max_token_bytes: t.len(),
            ..L
        };
        assert!(UntrustedToken::parse(&t, &limits).is_ok());
    }

    #[test]
    fn depth_budget() {
        let t = tok(r#"{"alg":"HS256","x":[[1]]}"#, "{}", b"s");
        let limits = Limits {
            max_json_depth: 2,
            ..L
        };
        assert_eq!(
            UntrustedToken::parse(&t, &limits).unwrap_err(),
            DecodeError::Json {
                part: Part::Header,
                error: JsonError::TooDeep { limit: 2 }
            }
        );
        let limits = Limits {
            max_json_depth: 3,
            ..L
        };
        assert!(UntrustedToken::parse(&t, &limits).is_ok());
    }

    #[test]
    fn strict_base64_per_part() {
        let good = tok(r#"{"alg":"HS256"}"#, "{}", b"sig");
        let parts: Vec<&str> = good.split('.').collect();
        let cases = [
            (
                format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
                Part::Header,
            ),
            (
                format!("{}.{}+.{}", parts[0], parts[1], parts[2]),
                Part::Payload,
            ),
            (
                format!("{}.{}.{} ", parts[0], parts[1], parts[2]),
                Part::Signature,
            ),
            (
                format!("{}.{}.{}/", parts[0], parts[1], parts[2]),
                Part::Signature,
            ),
            // "e30" is "{}"; "e31" has non-zero trailing bits.
            (format!("{}.e31.{}", parts[0], parts[2]), Part::Payload),
        ];
        for (t, part) in cases {
            assert_eq!(
                UntrustedToken::parse(&t, &L).unwrap_err(),
                DecodeError::Base64 { part },
                "{t}"
            );
        }
    }

    #[test]
    fn header_must_be_a_strict_object_with_string_alg() {
        let cases: [(&str, DecodeError); 5] = [
            (
                r#"[1]"#,
                DecodeError::Json {
                    part: Part::Header,
                    error: JsonError::NotObject,
                },
            ),
            (
                r#"{"alg":"HS256","alg":"none"}"#,
                DecodeError::Json {
                    part: Part::Header,
                    error: JsonError::DuplicateMember { name: "alg".into() },
                },
            ),
            (r#"{"alg":1}"#, DecodeError::MissingAlg),
            (r#"{"kid":"a"}"#, DecodeError::MissingAlg),
            (
                "{\"alg\":\"HS256\"",
                DecodeError::Json {
                    part: Part::Header,
                    error: JsonError::Syntax,
                },
            ),
        ];
        for (h, err) in cases {
            assert_eq!(
                UntrustedToken::parse(&tok(h, "{}", b"s"), &L).unwrap_err(),
                err,
                "{h}"
            );
        }
        let bad_utf8 = format!("{}.e30.AA", encode(b"{\"alg\":\"\xff\"}"));
        assert_eq!(
            UntrustedToken::parse(&bad_utf8, &L).unwrap_err(),
            DecodeError::Json {
                part: Part::Header,
                error: JsonError::Utf8
            }
        );
    }

    #[test]
    fn inspect_reports_unverified_state() {
        let t = tok(
            r#"{"alg":"none","jku":"https://evil.example/jwks"}"#,
            r#"{"sub":"u","nbf":200,"iat":300}"#,
            b"",
        );
        let i = inspect(&t, 100, &L).unwrap();
        assert!(!i.verified);
        assert_eq!(i.claims["sub"], "u");
        assert_eq!(i.header["alg"], "none");
        assert_eq!(i.expires_at, None);
        assert!(!i.expired);
        assert!(i.not_yet_valid);
        for w in [
            warning::ALG_NONE,
            warning::MISSING_EXP,
            warning::EMBEDDED_KEY,
            warning::NOT_YET_VALID,
            warning::ISSUED_IN_FUTURE,
        ] {
            assert!(i.warnings.iter().any(|x| x == w), "{w} in {:?}", i.warnings);
        }
    }

    #[test]
    fn inspect_expiry_edges() {
        let t = tok(r#"{"alg":"RS256"}"#, r#"{"exp":1000}"#, b"s");
        let at = |now| inspect(&t, now, &L).unwrap();
        assert!(!at(999).expired);
        assert_eq!(at(999).expires_in, Some(1.0));
        assert!(at(1000).expired);
        assert!(at(1001).expired);
        assert_eq!(at(1001).expires_in, Some(-1.0));
        assert_eq!(at(1000).expires_at, Some(1000.0));
        assert!(at(1000).warnings.iter().any(|w| w == warning::EXPIRED));
        assert!(at(999).warnings.is_empty(), "{:?}", at(999).warnings);
    }

    #[test]
    fn errors_never_echo_the_token() {
        let t = tok(r#"{"alg":"HS256","alg":"x"}"#, "{}", b"supersecret");
        let e = UntrustedToken::parse(&t, &L).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(&t));
        assert!(!shown.contains(t.split('.').next().unwrap()));
        assert_eq!(
            format!("{}", DecodeError::MissingAlg),
            "token header has no string \"alg\""
        );
    }
}
