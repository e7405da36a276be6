//! The one rule for URLs the gate (or a host on its behalf) fetches: configured JWKS,
//! discovery, introspection and provider URLs, and a discovery document's `jwks_uri`.
//!
//! The URL is parsed strictly and the real host is judged:
//! - `https://` anywhere;
//! - `http://` only when the host is exactly `localhost`, `127.0.0.1` or `[::1]`
//!   (development).
//!
//! Refused outright: any other scheme (schemes are lower-case), userinfo (`user@`,
//! `localhost:1@attacker.example`: an `@` anywhere before the path), a backslash anywhere
//! (WHATWG parsers read it as `/`), whitespace, control and non-ASCII characters, an empty
//! host, a host with characters other than letters, digits, `.`, `-`, `_` (or a bracketed
//! IPv6 literal), and a port that is empty, not decimal or not in `1..=65535`.

use core::fmt;

/// Why a URL may not be fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// Not `https://` or `http://` (lower-case).
    Scheme,
    /// Whitespace, control, non-ASCII characters or a backslash.
    Characters,
    /// `user@` / `user:pass@` before the host.
    Userinfo,
    /// An empty or malformed host.
    Host,
    /// An empty, non-decimal or out-of-range port.
    Port,
    /// `http://` to a host other than `localhost`, `127.0.0.1`, `[::1]`.
    PlainHttp,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Scheme => "expected an https:// URL",
            UrlError::Characters => "the URL contains whitespace, control, non-ASCII characters or '\\'",
            UrlError::Userinfo => "the URL must not contain user information ('@')",
            UrlError::Host => "the URL has no valid host",
            UrlError::Port => "the URL has an invalid port",
            UrlError::PlainHttp => "http:// is only accepted for localhost, 127.0.0.1 and [::1]; expected an https:// URL",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for UrlError {}

/// A URL that passed [`fetchable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchableUrl<'a> {
    /// `true` for `https://`.
    pub https: bool,
    /// The host as written (IPv6 literals with their brackets).
    pub host: &'a str,
    pub port: Option<u16>,
}

/// The hosts plain `http://` may reach.
const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Judges a URL as described in the module docs.
pub fn fetchable(url: &str) -> Result<FetchableUrl<'_>, UrlError> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(UrlError::Scheme);
    };
    if url
        .chars()
        .any(|c| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control() || c == '\\')
    {
        return Err(UrlError::Characters);
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return Err(UrlError::Userinfo);
    }
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(UrlError::Host)?;
        let (h, after) = authority.split_at(close + 1);
        let inner = &h[1..close];
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(UrlError::Host);
        }
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':').ok_or(UrlError::Host)?)),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if !host.starts_with('[')
        && (host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'))
    {
        return Err(UrlError::Host);
    }
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlError::Port);
            }
            match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(UrlError::Port),
            }
        }
    };
    if !https && !LOCAL_HOSTS.contains(&host) {
        return Err(UrlError::PlainHttp);
    }
    Ok(FetchableUrl { https, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judged_by_the_real_host() {
        for ok in [
            "https://idp.example/jwks",
            "https://idp.example",
            "https://idp.example:8443/a?b#c",
            "https://[2001:db8::1]:443/jwks",
            "http://localhost/jwks",
            "http://localhost:8080/jwks",
            "http://127.0.0.1:1/jwks",
            "http://[::1]:9/jwks",
            "http://localhost?x",
        ] {
            assert!(fetchable(ok).is_ok(), "{ok}");
        }
        let cases = [
            (
                "http://localhost:1@attacker.example/jwks",
                UrlError::Userinfo,
            ),
            (
                "http://127.0.0.1:@attacker.example/jwks",
                UrlError::Userinfo,
            ),
            ("https://user:pw@idp.example/jwks", UrlError::Userinfo),
            ("http://localhost\\@attacker.example/", UrlError::Characters),
            ("http://attacker.example/jwks", UrlError::PlainHttp),
            ("http://localhost.attacker.example/", UrlError::PlainHttp),
            ("http://127.0.0.1.nip.io/", UrlError::PlainHttp),
            ("http://localhost./", UrlError::PlainHttp),
            ("http://LOCALHOST/", UrlError::PlainHttp),
            ("http://[::2]/", UrlError::PlainHttp),
            ("HTTPS://idp.example/", UrlError::Scheme),
            ("ftp://idp.example/", UrlError::Scheme),
            ("https:/idp.example/", UrlError::Scheme),
            ("https:///jwks", UrlError::Host),
            ("https://", UrlError::Host),
            ("https://idp.example:/x", UrlError::Port),
            ("https://idp.example:0/x", UrlError::Port),
            ("https://idp.example:65536/x", UrlError::Port),
            ("https://idp.example:+1/x", UrlError::Port),
            ("http://localhost:80:80/", UrlError::Port),
            ("https://idp.example /x", UrlError::Characters),
            ("https://idp.example/\tx", UrlError::Characters),
            ("https://ｉdp.example/", UrlError::Characters),
            ("https://[zz]/", UrlError::Host),
            ("https://[::1/", UrlError::Host),
            ("https://[::1]x/", UrlError::Host),
            ("https://a%2eb/", UrlError::Host),
        ];
        for (url, want) in cases {
            assert_eq!(fetchable(url), Err(want), "{url}");
        }
    }
}

/// `application/x-www-form-urlencoded` serialization of one value (the WHATWG URL standard's
/// byte serializer): ASCII letters, digits and `*-._` stay, a space becomes `+`, every other
/// byte is `%XX` (upper-case hex). Used for request bodies and for HTTP Basic client
/// credentials (RFC 6749 section 2.3.1 encodes the id and the secret this way).
pub fn form_encode(value: &str) -> alloc::string::String {
    percent_encode(value, b"*-._", true)
}

/// One path segment or query value encoded as JavaScript's `encodeURIComponent` does: ASCII
/// letters, digits and `-_.!~*'()` stay, every other byte is `%XX`. (`.` and `..` stay as
/// they are: a caller putting a value into a path refuses those itself.)
pub fn component_encode(value: &str) -> alloc::string::String {
    percent_encode(value, b"-_.!~*'()", false)
}

fn percent_encode(value: &str, keep: &[u8], space_plus: bool) -> alloc::string::String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = alloc::string::String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' && space_plus {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
    }
    out
}

#[cfg(test)]
mod form_tests {
    use super::form_encode;

    #[test]
    fn form_encoding_matches_the_url_standard() {
        assert_eq!(form_encode("abc-XYZ_0.9*"), "abc-XYZ_0.9*");
        assert_eq!(form_encode("a b+c&d=e/f:g"), "a+b%2Bc%26d%3De%2Ff%3Ag");
        assert_eq!(form_encode("é~!'()"), "%C3%A9%7E%21%27%28%29");
        assert_eq!(form_encode(""), "");
    }

    #[test]
    fn component_encoding_matches_encode_uri_component() {
        use super::component_encode;
        assert_eq!(
            component_encode("auth0|abc-_.!~*'()"),
            "auth0%7Cabc-_.!~*'()"
        );
        assert_eq!(component_encode("a b/c?d#é"), "a%20b%2Fc%3Fd%23%C3%A9");
    }
}
