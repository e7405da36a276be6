//! Strict base64url (RFC 7515 section 2 / RFC 4648 section 5): no padding, no `+`/`/`, no
//! whitespace, non-canonical trailing bits rejected.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a base64url string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum B64Error {
    /// A byte outside the base64url alphabet (includes `=`, `+`, `/`, whitespace).
    InvalidByte { offset: usize },
    /// A length of 1 mod 4, which no byte string encodes to.
    InvalidLength,
    /// The unused low bits of the last symbol are not zero.
    NonCanonical,
}

impl B64Error {
    /// Always AUTH-006 (token decode failed).
    pub const fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::DecodeFailed
    }
}

impl fmt::Display for B64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            B64Error::InvalidByte { offset } => {
                write!(f, "invalid base64url byte at offset {offset}")
            }
            B64Error::InvalidLength => f.write_str("invalid base64url length"),
            B64Error::NonCanonical => f.write_str("non-canonical base64url encoding"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for B64Error {}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Marks a byte outside the alphabet in [`DECODE`].
const INVALID: u8 = 0xFF;

/// Byte -> 6-bit value, or [`INVALID`].
static DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

#[inline]
fn sextet(input: &[u8], offset: usize) -> Result<u32, B64Error> {
    match input.get(offset) {
        Some(&b) => {
            let v = DECODE[b as usize];
            if v == INVALID {
                Err(B64Error::InvalidByte { offset })
            } else {
                Ok(u32::from(v))
            }
        }
        None => Err(B64Error::InvalidLength),
    }
}

/// Decodes strict, unpadded base64url.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, B64Error> {
    // Fast path: whole groups with one validity check per group; any refusal (or the
    // tail) is left to the exact path below, which reports the precise error.
    let full = input.len() / 4;
    let mut out = alloc::vec![0u8; full * 3];
    let mut bad = 0u8;
    // Plain index loop: at opt-level "s" (the wasm build) slice iterator adaptors are not
    // inlined, and this loop is the largest item of a verify call.
    let mut i = 0;
    let mut j = 0;
    while let (Some(&[a, b, c, d]), Some([x, y, z])) = (input.get(i..i + 4), out.get_mut(j..j + 3))
    {
        let a = DECODE[usize::from(a)];
        let b = DECODE[usize::from(b)];
        let c = DECODE[usize::from(c)];
        let d = DECODE[usize::from(d)];
        bad |= a | b | c | d;
        *x = (a << 2) | (b >> 4);
        *y = (b << 4) | (c >> 2);
        *z = (c << 6) | d;
        i += 4;
        j += 3;
    }
    // INVALID is 0xFF and every valid sextet is < 64: the high bits flag a refusal.
    if bad & 0xC0 != 0 {
        return decode_exact(input);
    }
    let rem = input.get(full * 4..).unwrap_or(&[]);
    let tail = match *rem {
        [] => return Ok(out),
        [a, b] => [a, b, b'A', b'A'],
        [a, b, c] => [a, b, c, b'A'],
        _ => return decode_exact(input),
    };
    let [a, b, c, _] = tail.map(|x| DECODE[usize::from(x)]);
    if (a | b | c) & 0xC0 != 0 {
        return decode_exact(input);
    }
    let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6);
    if rem.len() == 2 {
        if n & 0xFFFF != 0 {
            return Err(B64Error::NonCanonical);
        }
        out.push((n >> 16) as u8);
    } else {
        if n & 0xFF != 0 {
            return Err(B64Error::NonCanonical);
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8]);
    }
    Ok(out)
}

/// The byte-at-a-time decoder: exact errors (first bad offset, length, trailing bits).
fn decode_exact(input: &[u8]) -> Result<Vec<u8>, B64Error> {
    let full = input.len() / 4;
    let rem = input.len() % 4;
    let mut out = Vec::with_capacity(full * 3 + rem);
    let mut i = 0;
    for _ in 0..full {
        let n = (sextet(input, i)? << 18)
            | (sextet(input, i + 1)? << 12)
            | (sextet(input, i + 2)? << 6)
            | sextet(input, i + 3)?;
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        i += 4;
    }
    match rem {
        0 => {}
        1 => {
            sextet(input, i)?;
            return Err(B64Error::InvalidLength);
        }
        2 => {
            let a = sextet(input, i)?;
            let b = sextet(input, i + 1)?;
            if b & 0x0F != 0 {
                return Err(B64Error::NonCanonical);
            }
            out.push(((a << 2) | (b >> 4)) as u8);
        }
        _ => {
            let a = sextet(input, i)?;
            let b = sextet(input, i + 1)?;
            let c = sextet(input, i + 2)?;
            if c & 0x03 != 0 {
                return Err(B64Error::NonCanonical);
            }
            let n = (a << 18) | (b << 12) | (c << 6);
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8]);
        }
    }
    Ok(out)
}

/// Encodes unpadded base64url.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    let sym = |v: u32| char::from(ALPHABET[(v & 0x3F) as usize]);
    let mut chunks = input.chunks_exact(3);
    for c in chunks.by_ref() {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(sym(n >> 6));
        out.push(sym(n));
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.push(sym(n >> 18));
            out.push(sym(n >> 12));
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            out.push(sym(n >> 18));
            out.push(sym(n >> 12));
            out.push(sym(n >> 6));
        }
        _ => {}
    }
    out
}

/// Encodes standard base64 with padding (RFC 4648 section 4), as HTTP Basic credentials
/// use it (RFC 7617).
pub fn encode_std(input: &[u8]) -> String {
    let mut out: String = encode(input)
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_padded_encoding() {
        assert_eq!(encode_std(b""), "");
        assert_eq!(encode_std(b"f"), "Zg==");
        assert_eq!(encode_std(b"fo"), "Zm8=");
        assert_eq!(encode_std(b"foo"), "Zm9v");
        assert_eq!(encode_std(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn rfc4648_vectors_round_trip() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (raw, enc) in cases {
            assert_eq!(encode(raw), enc);
            assert_eq!(decode(enc.as_bytes()).as_deref(), Ok(raw));
        }
    }

    #[test]
    fn url_alphabet_only() {
        assert_eq!(decode(b"-_8").as_deref(), Ok(&[0xfb, 0xff][..]));
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode(b"+_8"), Err(B64Error::InvalidByte { offset: 0 }));
        assert_eq!(decode(b"-/8"), Err(B64Error::InvalidByte { offset: 1 }));
    }

    #[test]
    fn rejects_padding_whitespace_and_junk() {
        assert_eq!(decode(b"Zg=="), Err(B64Error::InvalidByte { offset: 2 }));
        assert_eq!(decode(b"Zm8="), Err(B64Error::InvalidByte { offset: 3 }));
        assert_eq!(decode(b"Zm9v Yg"), Err(B64Error::InvalidByte { offset: 4 }));
        assert_eq!(
            decode(b"Zm9v\nYg"),
            Err(B64Error::InvalidByte { offset: 4 })
        );
        assert_eq!(decode(b"Zm9?"), Err(B64Error::InvalidByte { offset: 3 }));
        assert_eq!(
            decode(&[0x5a, 0xff]),
            Err(B64Error::InvalidByte { offset: 1 })
        );
    }

    #[test]
    fn rejects_bad_length() {
        assert_eq!(decode(b"Z"), Err(B64Error::InvalidLength));
        assert_eq!(decode(b"Zm9vY"), Err(B64Error::InvalidLength));
        assert_eq!(decode(b"Zm9v?"), Err(B64Error::InvalidByte { offset: 4 }));
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // "Zg" is canonical for "f"; "Zh".."Zv" carry non-zero unused bits.
        assert!(decode(b"Zg").is_ok());
        assert_eq!(decode(b"Zh"), Err(B64Error::NonCanonical));
        assert_eq!(decode(b"Zv"), Err(B64Error::NonCanonical));
        assert!(decode(b"Zm8").is_ok());
        assert_eq!(decode(b"Zm9"), Err(B64Error::NonCanonical));
        assert_eq!(decode(b"Zm-"), Err(B64Error::NonCanonical));
    }

    #[test]
    fn every_length_round_trips() {
        let data: Vec<u8> = (0u8..=255).collect();
        for n in 0..data.len() {
            let enc = encode(&data[..n]);
            assert!(!enc.contains('='));
            assert_eq!(decode(enc.as_bytes()).as_deref(), Ok(&data[..n]));
        }
    }

    #[test]
    fn display_is_lowercase() {
        let s = alloc::format!("{}", B64Error::InvalidByte { offset: 3 });
        assert_eq!(s, "invalid base64url byte at offset 3");
    }
    mod fast_path {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            /// The group-at-a-time decoder and the exact one agree on bytes and errors.
            #[test]
            fn fast_and_exact_decoders_agree(
                s in prop::collection::vec(prop::sample::select(
                    b"AQgwBhxz09-_+/= \xff".to_vec()), 0..40),
                clean in any::<bool>(),
            ) {
                let s: Vec<u8> = if clean {
                    s.into_iter().filter(|b| DECODE[usize::from(*b)] != INVALID).collect()
                } else {
                    s
                };
                prop_assert_eq!(decode(&s), decode_exact(&s));
            }

            #[test]
            fn round_trips(raw in prop::collection::vec(any::<u8>(), 0..200)) {
                prop_assert_eq!(decode(encode(&raw).as_bytes()), Ok(raw));
            }
        }
    }
}
