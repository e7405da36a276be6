//! Telling an echo of a credential from the core's fixed texts (shared by the fuzz targets
//! that check "an error never echoes its input").
//!
//! An echo is text that is in a message *because of* the input. The fuzzer also finds
//! inputs that are phrases of fixed messages ("no route matches", "expected 3 (compact j"):
//! those appear whatever the input. So a message that contains the input counts as an echo
//! only when the message for [`rot`] of the input (a different string of the same shape)
//! does not contain the original input too.

/// `s` with its letters rotated by 13 and its digits by 5, everything else kept.
pub fn rot(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a' + 13) % 26) + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A' + 13) % 26) + b'A') as char,
            '0'..='9' => (((c as u8 - b'0' + 5) % 10) + b'0') as char,
            _ => c,
        })
        .collect()
}

/// `true` when `message(input)` contains `input` because of the input: `message` is the
/// text the code under test gives for an input (`None`: no message, e.g. it passed).
/// Inputs under 16 bytes, and inputs `rot` leaves unchanged, are never counted.
pub fn echoes(input: &str, message: impl Fn(&str) -> Option<String>) -> bool {
    if input.len() < 16 || !message(input).is_some_and(|m| m.contains(input)) {
        return false;
    }
    let other = rot(input);
    other != input && !message(&other).is_some_and(|m| m.contains(input))
}
