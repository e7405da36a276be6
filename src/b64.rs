//! Strict base64url (RFC 7515 section 2 / RFC 4648 section 5): no padding, no `+`/`/`, no
//! whitespace, non-canonical trailing bits rejected.
//!
//! CONTRACT (owner: token/verify helper): `decode` / `encode` keep these signatures.

use alloc::vec::Vec;

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

/// Decodes strict, unpadded base64url.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, B64Error> {
    let _ = input;
    Err(B64Error::InvalidLength) // SCAFFOLD: replaced by the owner
}

/// Encodes unpadded base64url.
pub fn encode(input: &[u8]) -> alloc::string::String {
    let _ = input;
    alloc::string::String::new() // SCAFFOLD: replaced by the owner
}
