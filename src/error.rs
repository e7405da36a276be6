//! Stable error codes shared by Rust, JS and HTTP bodies (DESIGN.md, "Error codes").
//!
//! Every phase has its own error enum (`DecodeError`, `KeyError`, `VerifyError`, ...);
//! each of them maps to one [`ErrorCode`] through a `code()` method. Error values never
//! carry a token, a key or a signature: only names, limits and sizes.

use core::fmt;

/// A stable `AUTH-0xx` code with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// AUTH-001: invalid token (no key matches, a claim check other than expiry, a forbidden header).
    InvalidToken,
    /// AUTH-002: expired token.
    TokenExpired,
    /// AUTH-003: invalid credentials (API key unknown, revoked).
    InvalidCredentials,
    /// AUTH-004: invalid signature (a key matched, the signature did not verify).
    InvalidSignature,
    /// AUTH-005: missing token.
    MissingToken,
    /// AUTH-006: token decode failed.
    DecodeFailed,
    /// AUTH-007: JWKS unavailable.
    JwksUnavailable,
    /// AUTH-008: session not found.
    SessionNotFound,
    /// AUTH-009: session expired.
    SessionExpired,
    /// AUTH-010: session or token revoked.
    Revoked,
    /// AUTH-011: insufficient permissions.
    InsufficientPermissions,
    /// AUTH-012: insufficient roles.
    InsufficientRoles,
    /// AUTH-013: access denied (route rule, mTLS, custom rule).
    AccessDenied,
    /// AUTH-014: provider error.
    ProviderError,
    /// AUTH-015: configuration error.
    ConfigError,
    /// AUTH-016: rate limited.
    RateLimited,
    /// AUTH-017: user not found.
    UserNotFound,
    /// AUTH-018: user disabled.
    UserDisabled,
    /// AUTH-019: email not verified.
    EmailNotVerified,
    /// AUTH-020: MFA required.
    MfaRequired,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::InvalidToken,
        ErrorCode::TokenExpired,
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidSignature,
        ErrorCode::MissingToken,
        ErrorCode::DecodeFailed,
        ErrorCode::JwksUnavailable,
        ErrorCode::SessionNotFound,
        ErrorCode::SessionExpired,
        ErrorCode::Revoked,
        ErrorCode::InsufficientPermissions,
        ErrorCode::InsufficientRoles,
        ErrorCode::AccessDenied,
        ErrorCode::ProviderError,
        ErrorCode::ConfigError,
        ErrorCode::RateLimited,
        ErrorCode::UserNotFound,
        ErrorCode::UserDisabled,
        ErrorCode::EmailNotVerified,
        ErrorCode::MfaRequired,
    ];

    /// The stable string form, `AUTH-001` .. `AUTH-020`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidToken => "AUTH-001",
            ErrorCode::TokenExpired => "AUTH-002",
            ErrorCode::InvalidCredentials => "AUTH-003",
            ErrorCode::InvalidSignature => "AUTH-004",
            ErrorCode::MissingToken => "AUTH-005",
            ErrorCode::DecodeFailed => "AUTH-006",
            ErrorCode::JwksUnavailable => "AUTH-007",
            ErrorCode::SessionNotFound => "AUTH-008",
            ErrorCode::SessionExpired => "AUTH-009",
            ErrorCode::Revoked => "AUTH-010",
            ErrorCode::InsufficientPermissions => "AUTH-011",
            ErrorCode::InsufficientRoles => "AUTH-012",
            ErrorCode::AccessDenied => "AUTH-013",
            ErrorCode::ProviderError => "AUTH-014",
            ErrorCode::ConfigError => "AUTH-015",
            ErrorCode::RateLimited => "AUTH-016",
            ErrorCode::UserNotFound => "AUTH-017",
            ErrorCode::UserDisabled => "AUTH-018",
            ErrorCode::EmailNotVerified => "AUTH-019",
            ErrorCode::MfaRequired => "AUTH-020",
        }
    }

    /// The HTTP status a response with this code carries.
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidToken
            | ErrorCode::TokenExpired
            | ErrorCode::InvalidCredentials
            | ErrorCode::InvalidSignature
            | ErrorCode::MissingToken
            | ErrorCode::DecodeFailed
            | ErrorCode::SessionNotFound
            | ErrorCode::SessionExpired
            | ErrorCode::Revoked
            | ErrorCode::MfaRequired => 401,
            ErrorCode::InsufficientPermissions
            | ErrorCode::InsufficientRoles
            | ErrorCode::AccessDenied
            | ErrorCode::UserDisabled
            | ErrorCode::EmailNotVerified => 403,
            ErrorCode::UserNotFound => 404,
            ErrorCode::RateLimited => 429,
            ErrorCode::ConfigError => 500,
            ErrorCode::ProviderError => 502,
            ErrorCode::JwksUnavailable => 503,
        }
    }

    /// A short, lowercase, human description (never includes request data).
    pub const fn title(self) -> &'static str {
        match self {
            ErrorCode::InvalidToken => "invalid token",
            ErrorCode::TokenExpired => "token expired",
            ErrorCode::InvalidCredentials => "invalid credentials",
            ErrorCode::InvalidSignature => "invalid signature",
            ErrorCode::MissingToken => "missing token",
            ErrorCode::DecodeFailed => "token decode failed",
            ErrorCode::JwksUnavailable => "jwks unavailable",
            ErrorCode::SessionNotFound => "session not found",
            ErrorCode::SessionExpired => "session expired",
            ErrorCode::Revoked => "session or token revoked",
            ErrorCode::InsufficientPermissions => "insufficient permissions",
            ErrorCode::InsufficientRoles => "insufficient roles",
            ErrorCode::AccessDenied => "access denied",
            ErrorCode::ProviderError => "provider error",
            ErrorCode::ConfigError => "configuration error",
            ErrorCode::RateLimited => "rate limited",
            ErrorCode::UserNotFound => "user not found",
            ErrorCode::UserDisabled => "user disabled",
            ErrorCode::EmailNotVerified => "email not verified",
            ErrorCode::MfaRequired => "mfa required",
        }
    }

    /// Parses `AUTH-0xx`.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_numbered_in_order_and_round_trip() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            let expected = alloc::format!("AUTH-{:03}", i + 1);
            assert_eq!(code.as_str(), expected);
            assert_eq!(ErrorCode::parse(&expected), Some(*code));
        }
        assert_eq!(ErrorCode::parse("AUTH-021"), None);
    }

    #[test]
    fn statuses_match_design_table() {
        assert_eq!(ErrorCode::TokenExpired.status(), 401);
        assert_eq!(ErrorCode::JwksUnavailable.status(), 503);
        assert_eq!(ErrorCode::InsufficientRoles.status(), 403);
        assert_eq!(ErrorCode::UserNotFound.status(), 404);
        assert_eq!(ErrorCode::RateLimited.status(), 429);
        assert_eq!(ErrorCode::ConfigError.status(), 500);
        assert_eq!(ErrorCode::ProviderError.status(), 502);
        assert_eq!(ErrorCode::MfaRequired.status(), 401);
    }
}
