//! Helpers shared by the integration tests (each test file includes this with `mod common;`).
//! Independent of the crate under test: tokens are built with this encoder, not the crate's.
#![allow(dead_code)]

/// base64url without padding (RFC 4648 section 5).
pub fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
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

/// A small Structured Fields (RFC 9651) list checker for what the rate-limit fields use:
/// members that are sf-strings with sf-integer parameters.
pub mod sf {
    pub type Member = (String, Vec<(String, u64)>);

    pub fn parse_list(input: &str) -> Result<Vec<Member>, String> {
        let b = input.as_bytes();
        let mut i = 0;
        // Leading and trailing SP are stripped by the parser (RFC 9651 4.2).
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let mut end = b.len();
        while end > i && b[end - 1] == b' ' {
            end -= 1;
        }
        let b = &b[..end];
        let mut out = Vec::new();
        if i == b.len() {
            return Err("empty list (the field would be omitted)".into());
        }
        loop {
            let name = string(b, &mut i)?;
            let params = parameters(b, &mut i)?;
            out.push((name, params));
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            if i == b.len() {
                return Ok(out);
            }
            if b[i] != b',' {
                return Err(format!("expected ',' at {i}"));
            }
            i += 1;
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            if i == b.len() {
                return Err("trailing comma".into());
            }
        }
    }

    fn string(b: &[u8], i: &mut usize) -> Result<String, String> {
        if b.get(*i) != Some(&b'"') {
            return Err(format!("expected sf-string at {i}"));
        }
        *i += 1;
        let mut s = String::new();
        loop {
            let Some(&c) = b.get(*i) else {
                return Err("unterminated string".into());
            };
            *i += 1;
            match c {
                b'\\' => {
                    let Some(&n) = b.get(*i) else {
                        return Err("dangling escape".into());
                    };
                    if n != b'"' && n != b'\\' {
                        return Err("bad escape".into());
                    }
                    *i += 1;
                    s.push(n as char);
                }
                b'"' => return Ok(s),
                0x20..=0x7e => s.push(c as char),
                _ => return Err("character outside printable ascii".into()),
            }
        }
    }

    fn parameters(b: &[u8], i: &mut usize) -> Result<Vec<(String, u64)>, String> {
        let mut out = Vec::new();
        while b.get(*i) == Some(&b';') {
            *i += 1;
            while b.get(*i) == Some(&b' ') {
                *i += 1;
            }
            let start = *i;
            match b.get(*i) {
                Some(c) if c.is_ascii_lowercase() || *c == b'*' => {}
                _ => return Err("bad key".into()),
            }
            while let Some(c) = b.get(*i) {
                if c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.*".contains(c) {
                    *i += 1;
                } else {
                    break;
                }
            }
            let key = String::from_utf8_lossy(&b[start..*i]).into_owned();
            if b.get(*i) != Some(&b'=') {
                return Err("expected '=' (boolean parameters are not used here)".into());
            }
            *i += 1;
            let ds = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            let digits = &b[ds..*i];
            if digits.is_empty() || digits.len() > 15 {
                return Err("sf-integer must have 1 to 15 digits".into());
            }
            let v = std::str::from_utf8(digits)
                .map_err(|e| e.to_string())?
                .parse::<u64>()
                .map_err(|e| e.to_string())?;
            out.push((key, v));
        }
        Ok(out)
    }
}
