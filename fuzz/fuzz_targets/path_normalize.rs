//! Path normalization invariants: the result never climbs above the root (no `..`, `.` or
//! empty segment is left), normalizing twice changes nothing (the normalized path, each
//! segment re-encoded as a host forwards it, normalizes to itself), and the query never
//! changes the path.
#![no_main]
use edgegate::gate::normalize;
use libfuzzer_sys::fuzz_target;

/// Percent-encodes a decoded segment (everything but RFC 3986 unreserved characters).
fn encode(seg: &str) -> String {
    let mut out = String::new();
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(n) = normalize(s) else {
        return;
    };
    for seg in &n.segments {
        assert!(
            !seg.is_empty() && seg != "." && seg != "..",
            "unresolved segment {seg:?}"
        );
        assert!(!seg.contains('/') && !seg.contains('\\') && !seg.contains('%'));
    }
    let p = n.as_path();
    assert!(p.starts_with('/'));
    let encoded: String = if n.segments.is_empty() {
        "/".into()
    } else {
        n.segments
            .iter()
            .map(|s| format!("/{}", encode(s)))
            .collect()
    };
    let again = normalize(&encoded).expect("a normalized path normalizes again");
    assert_eq!(again, n, "normalizing twice changed the path");
    // The query and fragment never change the path.
    let with_q = format!("{}?x=/../..#/..", s.split(['?', '#']).next().unwrap_or(""));
    assert_eq!(normalize(&with_q).ok(), Some(n.clone()));
    // Prefixing `/..` (climbing above the root) changes nothing.
    if s.starts_with('/') {
        assert_eq!(normalize(&format!("/..{s}")).ok(), Some(n));
    }
});
