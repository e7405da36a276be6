//! Time is a type (issue 8, item 1; issue 7, finding 7).
//!
//! The core never reads a clock: hosts pass the time in. A host's number is untrusted (a
//! `Date` built from a bad string, a `now()` hook returning `NaN`, `undefined` or
//! `Infinity`), and a cast like `now as i64` turns every one of those into `0` or
//! `i64::MAX` (1970 or the end of time: expired tokens pass). So every entry point turns
//! the host's number into a [`UnixTime`] (or a [`Duration`]) first; a number that is not a
//! usable time is a [`TimeError`] (AUTH-015), never a default. The core's `i64` APIs stay:
//! after the boundary, [`UnixTime::secs`] is always in `0..=UnixTime::MAX_SECS`.

use core::fmt;

use crate::error::ErrorCode;

/// Why a host's number is not a usable time or duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// `NaN` or an infinity (a `Date` from a bad string, `undefined` coerced to a number).
    NotFinite,
    /// Before 1970-01-01T00:00:00Z (a time), or a negative duration.
    Negative,
    /// After 9999-12-31T23:59:59Z (a time), or longer than [`Duration::MAX_MILLIS`].
    OutOfRange,
}

impl TimeError {
    /// A bad clock or duration is a usage/configuration error of the host (AUTH-015).
    pub const fn code(&self) -> ErrorCode {
        ErrorCode::ConfigError
    }
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::NotFinite => f.write_str("invalid time: not a finite number"),
            TimeError::Negative => f.write_str("invalid time: negative (before 1970)"),
            TimeError::OutOfRange => f.write_str("invalid time: out of range (after year 9999)"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TimeError {}

/// An instant: milliseconds since the Unix epoch, within 1970-01-01 ..= 9999-12-31.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime {
    ms: u64,
}

impl UnixTime {
    /// 9999-12-31T23:59:59Z in unix seconds: the last instant accepted.
    pub const MAX_SECS: i64 = 253_402_300_799;
    /// The epoch.
    pub const EPOCH: UnixTime = UnixTime { ms: 0 };

    /// From unix seconds (the core's `i64` form).
    pub fn from_secs(secs: i64) -> Result<UnixTime, TimeError> {
        if secs < 0 {
            return Err(TimeError::Negative);
        }
        if secs > Self::MAX_SECS {
            return Err(TimeError::OutOfRange);
        }
        // In range: 0 ..= MAX_SECS * 1000 fits u64 easily.
        Ok(UnixTime {
            ms: secs.unsigned_abs() * 1000,
        })
    }

    /// From a host's unix seconds (fractions are floored).
    pub fn from_secs_f64(secs: f64) -> Result<UnixTime, TimeError> {
        if !secs.is_finite() {
            return Err(TimeError::NotFinite);
        }
        Self::from_millis_f64(secs * 1000.0)
    }

    /// From a host's milliseconds since the epoch (`Date.now()`; fractions are floored).
    pub fn from_millis_f64(ms: f64) -> Result<UnixTime, TimeError> {
        if !ms.is_finite() {
            return Err(TimeError::NotFinite);
        }
        if ms < 0.0 {
            return Err(TimeError::Negative);
        }
        let max = (Self::MAX_SECS as f64) * 1000.0 + 999.0;
        if ms > max {
            return Err(TimeError::OutOfRange);
        }
        // Finite, in 0 ..= max (< 2^53): the cast truncates, which is floor for a
        // non-negative number (no `f64::floor` in no_std).
        Ok(UnixTime { ms: ms as u64 })
    }

    /// Unix seconds (floored), always in `0..=MAX_SECS`.
    pub fn secs(self) -> i64 {
        // ms / 1000 <= MAX_SECS < i64::MAX.
        i64::try_from(self.ms / 1000).unwrap_or(Self::MAX_SECS)
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> u64 {
        self.ms
    }
}

/// A span of time in milliseconds: never negative, never `NaN`, at most
/// [`Duration::MAX_MILLIS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    ms: u64,
}

impl Duration {
    /// 2^53 - 1 ms (JavaScript's `Number.MAX_SAFE_INTEGER`, about 285,000 years): the
    /// longest duration accepted, and what a host may pass for "forever".
    pub const MAX_MILLIS: u64 = (1 << 53) - 1;
    /// Zero.
    pub const ZERO: Duration = Duration { ms: 0 };

    /// From a host's milliseconds (fractions are floored).
    pub fn from_millis_f64(ms: f64) -> Result<Duration, TimeError> {
        if !ms.is_finite() {
            return Err(TimeError::NotFinite);
        }
        if ms < 0.0 {
            return Err(TimeError::Negative);
        }
        if ms > Self::MAX_MILLIS as f64 {
            return Err(TimeError::OutOfRange);
        }
        // Non-negative and finite: truncation is floor.
        Ok(Duration { ms: ms as u64 })
    }

    /// A host option in milliseconds where `+Infinity` means "forever" (jose's
    /// `cacheMaxAge: Infinity`): [`Duration::MAX_MILLIS`]. `NaN`, `-Infinity` and negative
    /// values are refused as by [`Duration::from_millis_f64`].
    pub fn from_option_millis_f64(ms: f64) -> Result<Duration, TimeError> {
        if ms == f64::INFINITY {
            return Ok(Duration {
                ms: Self::MAX_MILLIS,
            });
        }
        Self::from_millis_f64(ms)
    }

    /// From a host's seconds (fractions of a millisecond are floored).
    pub fn from_secs_f64(secs: f64) -> Result<Duration, TimeError> {
        if !secs.is_finite() {
            return Err(TimeError::NotFinite);
        }
        Self::from_millis_f64(secs * 1000.0)
    }

    /// Milliseconds.
    pub fn millis(self) -> u64 {
        self.ms
    }

    /// Whole seconds (floored).
    pub fn secs(self) -> u64 {
        self.ms / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_durations_take_infinity_as_forever_only() {
        assert_eq!(
            Duration::from_option_millis_f64(f64::INFINITY).map(Duration::millis),
            Ok(Duration::MAX_MILLIS)
        );
        assert_eq!(
            Duration::from_option_millis_f64(1500.7).map(Duration::millis),
            Ok(1500)
        );
        assert_eq!(
            Duration::from_option_millis_f64(f64::NAN),
            Err(TimeError::NotFinite)
        );
        assert_eq!(
            Duration::from_option_millis_f64(f64::NEG_INFINITY),
            Err(TimeError::NotFinite)
        );
        assert_eq!(
            Duration::from_option_millis_f64(-1.0),
            Err(TimeError::Negative)
        );
    }

    #[test]
    fn refuses_unusable_numbers() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(UnixTime::from_secs_f64(bad), Err(TimeError::NotFinite));
            assert_eq!(UnixTime::from_millis_f64(bad), Err(TimeError::NotFinite));
            assert_eq!(Duration::from_millis_f64(bad), Err(TimeError::NotFinite));
        }
        assert_eq!(UnixTime::from_secs_f64(-1.0), Err(TimeError::Negative));
        assert_eq!(UnixTime::from_secs(-1), Err(TimeError::Negative));
        assert_eq!(
            UnixTime::from_secs_f64(253_402_300_800.0),
            Err(TimeError::OutOfRange)
        );
        assert_eq!(UnixTime::from_secs(i64::MAX), Err(TimeError::OutOfRange));
        assert_eq!(Duration::from_millis_f64(-0.5), Err(TimeError::Negative));
        assert_eq!(Duration::from_millis_f64(1e300), Err(TimeError::OutOfRange));
    }

    #[test]
    fn floors_good_numbers() {
        let t = UnixTime::from_millis_f64(1_700_000_000_999.9).unwrap();
        assert_eq!(t.secs(), 1_700_000_000);
        assert_eq!(t.millis(), 1_700_000_000_999);
        assert_eq!(UnixTime::from_secs_f64(12.75).unwrap().secs(), 12);
        assert_eq!(UnixTime::from_secs(0).unwrap(), UnixTime::EPOCH);
        assert_eq!(
            UnixTime::from_secs(UnixTime::MAX_SECS).unwrap().secs(),
            UnixTime::MAX_SECS
        );
        assert_eq!(
            Duration::from_millis_f64(Duration::MAX_MILLIS as f64)
                .unwrap()
                .millis(),
            Duration::MAX_MILLIS
        );
        assert_eq!(Duration::from_secs_f64(1.5).unwrap().millis(), 1500);
    }
}
