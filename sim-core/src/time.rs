//! Simulated time: integer nanoseconds, never floating point.
//!
//! [`SimTime`] is an instant since the start of a run, [`SimDuration`] a span.
//! Both wrap a `u64` count of nanoseconds, enough for 584 years of simulated
//! time. Durations in scenario files are strings such as `"250us"`, `"3ms"`,
//! `"1.5s"`, `"10m"`; [`SimDuration::parse`] reads them exactly (the decimal
//! is scaled in integers, so `"0.1s"` is exactly 100,000,000 ns).

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds in one microsecond.
pub const MICROS: u64 = 1_000;
/// Nanoseconds in one millisecond.
pub const MILLIS: u64 = 1_000_000;
/// Nanoseconds in one second.
pub const SECS: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest representable instant.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start, as a float (for reports only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / SECS as f64
    }

    /// The span from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// The empty span.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `n` nanoseconds.
    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }
    /// A span of `n` microseconds.
    pub const fn from_micros(n: u64) -> Self {
        SimDuration(n * MICROS)
    }
    /// A span of `n` milliseconds.
    pub const fn from_millis(n: u64) -> Self {
        SimDuration(n * MILLIS)
    }
    /// A span of `n` seconds.
    pub const fn from_secs(n: u64) -> Self {
        SimDuration(n * SECS)
    }
    /// A span from floating-point seconds, rounded to the nearest nanosecond
    /// (negative and NaN give zero). For converting rates, not for the clock.
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            SimDuration(0)
        } else if s >= u64::MAX as f64 / SECS as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration((s * SECS as f64).round() as u64)
        }
    }
    /// Nanoseconds in the span.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds, as a float (for statistics and reports).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / SECS as f64
    }
    /// Milliseconds, as a float (for statistics and reports).
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / MILLIS as f64
    }

    /// Parses a duration string: a non-negative decimal number followed by a
    /// unit, `ns`, `us` (or `µs`), `ms`, `s`, `m` (or `min`), `h`, or `d`.
    /// Examples: `"250us"`, `"3ms"`, `"1.5s"`, `"10m"`, `"0s"`.
    ///
    /// The value must be a whole number of nanoseconds and fit in `u64`.
    pub fn parse(text: &str) -> Result<SimDuration, DurationError> {
        let s = text.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| DurationError::new(text, "missing unit (ns, us, ms, s, m, h, d)"))?;
        let (num, unit) = s.split_at(split);
        let unit_ns: u64 = match unit.trim() {
            "ns" => 1,
            "us" | "µs" => MICROS,
            "ms" => MILLIS,
            "s" => SECS,
            "m" | "min" => 60 * SECS,
            "h" => 3600 * SECS,
            "d" => 86_400 * SECS,
            other => {
                return Err(DurationError::new(
                    text,
                    &format!("unknown unit `{other}` (use ns, us, ms, s, m, h or d)"),
                ));
            }
        };
        if num.is_empty() {
            return Err(DurationError::new(text, "missing number before the unit"));
        }
        let (int_part, frac_part) = match num.split_once('.') {
            Some((i, f)) => (i, f),
            None => (num, ""),
        };
        if frac_part.contains('.') || (int_part.is_empty() && frac_part.is_empty()) {
            return Err(DurationError::new(text, "malformed number"));
        }
        let overflow = || DurationError::new(text, "too large (more than 584 years)");
        let int: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| overflow())?
        };
        let mut total = int.checked_mul(unit_ns).ok_or_else(overflow)?;
        // Fractional digits, scaled exactly in integers.
        let mut scale = unit_ns;
        for d in frac_part.bytes() {
            let digit = u64::from(d - b'0');
            if !scale.is_multiple_of(10) {
                if digit != 0 {
                    return Err(DurationError::new(text, "finer than one nanosecond"));
                }
                continue;
            }
            scale /= 10;
            total = total.checked_add(digit * scale).ok_or_else(overflow)?;
        }
        Ok(SimDuration(total))
    }
}

/// A duration string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: {reason}")]
pub struct DurationError {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl DurationError {
    fn new(text: &str, reason: &str) -> Self {
        DurationError {
            text: text.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for SimDuration {
    /// Formats with the largest unit that keeps the number exact and short:
    /// `250us`, `3ms`, `1.5s`, `10m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let units: [(u64, &str); 6] = [
            (3600 * SECS, "h"),
            (60 * SECS, "m"),
            (SECS, "s"),
            (MILLIS, "ms"),
            (MICROS, "us"),
            (1, "ns"),
        ];
        if ns == 0 {
            return write!(f, "0s");
        }
        for (scale, name) in units {
            if ns >= scale && (u128::from(ns) * 1000).is_multiple_of(u128::from(scale)) {
                if ns.is_multiple_of(scale) {
                    return write!(f, "{}{name}", ns / scale);
                }
                let whole = ns / scale;
                let frac = (u128::from(ns % scale) * 1000 / u128::from(scale)) as u64;
                let frac = format!("{frac:03}");
                return write!(f, "{whole}.{}{name}", frac.trim_end_matches('0'));
            }
        }
        write!(f, "{ns}ns")
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// The span between two instants; saturates at zero.
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.saturating_since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, o: SimDuration) {
        self.0 = self.0.saturating_add(o.0);
    }
}

impl serde::Serialize for SimDuration {
    /// Serialises as the duration string, e.g. `"250ms"`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SimDuration {
    /// Reads a duration string such as `"250ms"`; a bare number is refused
    /// with a hint, because a unit-less number is the classic mistake.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"250ms\", \"1.5s\" or \"10m\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SimDuration, E> {
                SimDuration::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_exactly() {
        assert_eq!(SimDuration::parse("250us").unwrap().0, 250_000);
        assert_eq!(SimDuration::parse("3ms").unwrap().0, 3_000_000);
        assert_eq!(SimDuration::parse("1.5s").unwrap().0, 1_500_000_000);
        assert_eq!(SimDuration::parse("10m").unwrap().0, 600 * SECS);
        assert_eq!(SimDuration::parse("2h").unwrap().0, 7200 * SECS);
        assert_eq!(SimDuration::parse("0.1s").unwrap().0, 100_000_000);
        assert_eq!(SimDuration::parse("7ns").unwrap().0, 7);
        assert_eq!(SimDuration::parse(".5ms").unwrap().0, 500_000);
        assert_eq!(SimDuration::parse("0s").unwrap().0, 0);
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in [
            "",
            "5",
            "ms",
            "1.2.3s",
            "5 parsecs",
            "-3ms",
            "1.5ns",
            "99999999999999h",
        ] {
            assert!(SimDuration::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["250us", "3ms", "1.5s", "10m", "2h", "7ns", "1.25ms"] {
            let d = SimDuration::parse(text).unwrap();
            assert_eq!(d.to_string(), text);
            assert_eq!(SimDuration::parse(&d.to_string()).unwrap(), d);
        }
    }

    #[test]
    fn adding_durations_saturates() {
        let mut d = SimDuration::from_millis(2);
        d += SimDuration::from_micros(500);
        assert_eq!(d, SimDuration(2_500_000));
        d += SimDuration(u64::MAX);
        assert_eq!(d, SimDuration(u64::MAX));
    }
}
