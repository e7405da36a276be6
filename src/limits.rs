//! Explicit budgets for everything that comes from outside (DESIGN.md: "Every bound is explicit").

/// Size and count budgets. Each has its own error variant where it is enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest compact token accepted, in bytes.
    pub max_token_bytes: usize,
    /// Deepest JSON nesting accepted in a header, a claims set, a JWK or a JWKS
    /// (the top-level object is depth 1).
    pub max_json_depth: usize,
    /// Most keys in one JWK Set.
    pub max_keys_per_set: usize,
    /// Largest JWKS document accepted, in bytes.
    pub max_jwks_bytes: usize,
    /// Most candidate keys tried for a token without `kid` (or with a `kid` shared by
    /// several usable keys, which a valid set never has).
    pub max_candidate_keys: usize,
}

impl Limits {
    /// Largest body a host reads for a discovery document or a token introspection
    /// response, in bytes (512 KiB): the host stops reading (streaming) past it.
    pub const MAX_RESPONSE_BYTES: usize = 512 * 1024;

    /// The defaults: 16 KiB tokens, depth 16, 64 keys, 512 KiB JWKS, 4 candidates.
    pub const DEFAULT: Limits = Limits {
        max_token_bytes: 16 * 1024,
        max_json_depth: 16,
        max_keys_per_set: 64,
        max_jwks_bytes: 512 * 1024,
        max_candidate_keys: 4,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
