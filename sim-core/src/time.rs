//! Simulated time: integer nanoseconds, never floating point.
//!
//! [`SimTime`] is an instant since the start of a run, [`SimDuration`] a span.
//! Both wrap a `u64` count of nanoseconds, enough for 584 years of simulated
//! time. Durations in scenario files are strings such as `"250us"`, `"3ms"`,
//! `"1.5s"`, `"10m"`, `"1h30m"`; [`SimDuration::parse`] reads them exactly (the decimal
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

    /// Parses a duration string: one or more parts, each a non-negative
    /// decimal number followed by a unit — `ns`, `us` (or `µs`), `ms`,
    /// `s`, `m` (or `min`), `h` or `d` — with units from the largest to the
    /// smallest, each at most once. Spaces may separate a number from its
    /// unit and one part from the next; the parts add up.
    /// Examples: `"250us"`, `"3ms"`, `"1.5s"`, `"10m"`, `"1h30m"`,
    /// `"1m 15s"`, `"10 min"`, `"0s"`. A number may carry an exponent
    /// (`"1e3ms"`, `"2.5e-1s"`).
    ///
    /// The value must be a whole number of nanoseconds and fit in `u64`
    /// (about 584 years). Errors say what is wrong: a sign (`"-1ms"`), an
    /// unknown unit (listing the valid ones), a number without a unit, a
    /// value too large or finer than a nanosecond, units out of order.
    pub fn parse(text: &str) -> Result<SimDuration, DurationError> {
        let err = |reason: &str| DurationError::new(text, reason);
        let s = text.trim();
        if s.is_empty() {
            return Err(err("empty: write a number and a unit, e.g. 250ms"));
        }
        if let Some(rest) = s.strip_prefix('-') {
            return Err(
                if rest.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                    err("a duration cannot be negative")
                } else {
                    err("unexpected `-`: a duration is a number and a unit, e.g. 250ms")
                },
            );
        }
        if s.starts_with('+') {
            return Err(err("write the number without a sign, e.g. 250ms"));
        }
        let mut rest = s;
        let mut total: u64 = 0;
        // The previous part's unit, to keep units from largest to smallest.
        let mut previous: Option<(u64, &str)> = None;
        while !rest.is_empty() {
            let (number, after) = split_number(rest);
            if number.is_empty() {
                let c = rest.chars().next().unwrap_or(' ');
                return Err(if c == '-' {
                    err("a part of a duration cannot be negative")
                } else if previous.is_some() && c.is_alphabetic() {
                    err(&format!(
                        "a unit follows another without a number: `{}`",
                        unit_word(rest)
                    ))
                } else if c.is_alphabetic() {
                    err("missing number before the unit")
                } else {
                    err(&format!(
                        "unexpected `{c}`: a duration is a number and a unit, e.g. 250ms or 1h30m"
                    ))
                });
            }
            let after = after.trim_start();
            let word = unit_word(after);
            if word.is_empty() {
                return Err(match after.chars().next() {
                    None => err(&format!("missing unit after {number} (use {UNITS})")),
                    Some(c) => err(&format!(
                        "unexpected `{c}` after {number}: a duration is a number and a unit, e.g. 250ms or 1h30m"
                    )),
                });
            }
            let unit_ns = unit_nanos(word)
                .ok_or_else(|| err(&format!("unknown unit `{word}` (use {UNITS})")))?;
            if let Some((prev_ns, prev_word)) = previous {
                if unit_ns == prev_ns {
                    return Err(err(&format!("the unit `{word}` appears twice")));
                }
                if unit_ns > prev_ns {
                    return Err(err(&format!(
                        "`{word}` after `{prev_word}`: write the parts from the largest unit to the smallest, e.g. 1h30m"
                    )));
                }
            }
            let value = scaled(number, unit_ns).map_err(|e| match e {
                Scale::Overflow => err(TOO_LARGE),
                Scale::Finer => err("finer than one nanosecond"),
                Scale::Malformed => err(&format!("malformed number `{number}`")),
            })?;
            total = total.checked_add(value).ok_or_else(|| err(TOO_LARGE))?;
            previous = Some((unit_ns, word));
            rest = after[word.len()..].trim_start();
        }
        Ok(SimDuration(total))
    }
}

/// The units a duration accepts, for messages.
const UNITS: &str = "ns, us or µs, ms, s, m or min, h, d";

/// The message for a duration beyond `u64` nanoseconds.
const TOO_LARGE: &str =
    "too large: the longest duration is 18446744073709551615ns, about 584 years";

/// Nanoseconds in one `unit`, if it is one.
fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" => MICROS,
        "ms" => MILLIS,
        "s" => SECS,
        "m" | "min" => 60 * SECS,
        "h" => 3600 * SECS,
        "d" => 86_400 * SECS,
        _ => return None,
    })
}

/// The letters at the start of `s` (a unit, or a misspelt one).
fn unit_word(s: &str) -> &str {
    let end = s
        .char_indices()
        .find(|&(_, c)| !c.is_alphabetic())
        .map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// Splits a number (digits, one `.`, an exponent `e[+-]digits`) off the
/// start of `s`. Anything malformed is left to [`scaled`] to refuse.
fn split_number(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    if i > 0 && i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    s.split_at(i)
}

/// Why a number could not be scaled to nanoseconds.
enum Scale {
    Overflow,
    Finer,
    Malformed,
}

/// `number` (as split by [`split_number`]) times `unit_ns`, exactly.
fn scaled(number: &str, unit_ns: u64) -> Result<u64, Scale> {
    let (mantissa, exponent) = match number.find(['e', 'E']) {
        Some(at) => (&number[..at], &number[at + 1..]),
        None => (number, ""),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if frac_part.contains('.') || (int_part.is_empty() && frac_part.is_empty()) {
        return Err(Scale::Malformed);
    }
    let digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|d| d - b'0')
        .collect();
    if digits.iter().all(|&d| d == 0) {
        return Ok(0);
    }
    // The exponent only moves the decimal point; a huge one cannot help.
    let exponent: i64 = if exponent.is_empty() {
        0
    } else {
        exponent
            .parse::<i64>()
            .unwrap_or(if exponent.starts_with('-') {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            })
    };
    // Digits before the point: `point` of them (padded with zeros).
    let point = (int_part.len() as i64).saturating_add(exponent);
    let first_nonzero = digits.iter().position(|&d| d != 0).unwrap_or(0) as i64;
    // More than 20 significant integer digits never fit in u64.
    if point - first_nonzero > 20 {
        return Err(Scale::Overflow);
    }
    // A nonzero digit more than 14 places after the point is finer than a
    // nanosecond even in days (8.64e13 ns).
    let last_nonzero = digits.iter().rposition(|&d| d != 0).unwrap_or(0) as i64;
    if last_nonzero - point >= 14 {
        return Err(Scale::Finer);
    }
    let digit = |i: i64| -> u64 {
        if i < 0 || i >= digits.len() as i64 {
            0
        } else {
            u64::from(digits[i as usize])
        }
    };
    let mut total: u64 = 0;
    for i in first_nonzero.min(point)..point {
        let place = total.checked_mul(10).ok_or(Scale::Overflow)?;
        total = place.checked_add(digit(i)).ok_or(Scale::Overflow)?;
    }
    let mut total = total.checked_mul(unit_ns).ok_or(Scale::Overflow)?;
    // Fractional digits, scaled exactly in integers.
    let mut scale = unit_ns;
    for i in point..=last_nonzero {
        let d = digit(i);
        if !scale.is_multiple_of(10) {
            if d != 0 {
                return Err(Scale::Finer);
            }
            continue;
        }
        scale /= 10;
        total = total.checked_add(d * scale).ok_or(Scale::Overflow)?;
    }
    Ok(total)
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

impl SimDuration {
    /// For people: a duration of a minute or more that is not a whole
    /// number of its unit is written in parts, `1m15s` or `1h30m` (where
    /// [`Display`](fmt::Display), which builds objective ids, writes
    /// `1.25m`); anything else as `Display` writes it. Reads back with
    /// [`SimDuration::parse`].
    pub fn human(self) -> String {
        let plain = self.to_string();
        if self.0 < 60 * SECS
            || plain
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b.is_ascii_digit())
        {
            return plain;
        }
        let mut rest = self.0;
        let mut out = String::new();
        for (scale, name) in [(3600 * SECS, "h"), (60 * SECS, "m")] {
            if rest >= scale {
                out.push_str(&format!("{}{name}", rest / scale));
                rest %= scale;
            }
        }
        if rest > 0 {
            out.push_str(&SimDuration(rest).to_string());
        }
        out
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

/// One part of a duration: a number (digits with at most one `.`, an
/// optional exponent) and a unit, with optional spaces between them.
const DURATION_PART: &str =
    r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*(?:ns|us|µs|ms|s|min|m|h|d)";

/// The pattern every duration string matches: one or more parts
/// ([`DURATION_PART`]), optionally separated by spaces, with spaces allowed
/// around the whole. What it cannot say is checked when the file is read:
/// units from the largest to the smallest, each at most once, a whole
/// number of nanoseconds, at most about 584 years.
pub fn duration_pattern() -> String {
    format!(r"^\s*{DURATION_PART}(?:\s*{DURATION_PART})*\s*$")
}

/// A duration string in JSON Schema: the same syntax that
/// [`SimDuration::parse`] reads ([`duration_pattern`]).
impl schemars::JsonSchema for SimDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": duration_pattern(),
            "description": "A duration: a number and a unit (ns, us or µs, ms, s, m or min, h, d), \
                            or several from the largest unit to the smallest, e.g. \"250ms\", \
                            \"1.5s\", \"1h30m\". A bare number is refused.",
            "examples": ["250ms", "1.5s", "1h30m"],
        })
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
    fn parses_compound_durations_exactly() {
        let ns = |t: &str| SimDuration::parse(t).unwrap_or_else(|e| panic!("{e}")).0;
        assert_eq!(ns("1h30m"), 5400 * SECS);
        assert_eq!(ns("1m15s"), 75 * SECS);
        assert_eq!(ns("2m30s"), 150 * SECS);
        assert_eq!(ns("1.5s"), 1_500_000_000);
        assert_eq!(ns("500ms"), 500 * MILLIS);
        assert_eq!(ns("1h 30m"), 5400 * SECS);
        assert_eq!(ns(" 1 h 30 min "), 5400 * SECS);
        assert_eq!(ns("10 min"), 600 * SECS);
        assert_eq!(ns("1d2h3m4s5ms6us7ns"), 93_784 * SECS + 5_006_007);
        assert_eq!(ns("1m0.5s"), 60_500 * MILLIS);
        assert_eq!(ns("1e3ms"), SECS);
        assert_eq!(ns("2.5e-1s"), 250 * MILLIS);
        assert_eq!(ns("1e-9s"), 1);
        assert_eq!(ns("0e99h"), 0);
        assert_eq!(ns("18446744073709551615ns"), u64::MAX);
        assert_eq!(ns("584d"), 584 * 86_400 * SECS);
    }

    #[test]
    fn says_what_is_wrong_with_a_duration() {
        let reason = |t: &str| SimDuration::parse(t).unwrap_err().reason;
        assert_eq!(reason("-1ms"), "a duration cannot be negative");
        assert_eq!(reason("1h-30m"), "a part of a duration cannot be negative");
        assert!(
            reason("1e30h").starts_with("too large"),
            "{}",
            reason("1e30h")
        );
        assert!(reason("1e30h").contains("584 years"));
        assert!(reason("18446744073709551616ns").starts_with("too large"));
        assert!(reason("99999999999999h").starts_with("too large"));
        assert!(reason("584000y").starts_with("unknown unit `y`"));
        assert_eq!(
            reason("5 parsecs"),
            "unknown unit `parsecs` (use ns, us or µs, ms, s, m or min, h, d)"
        );
        assert_eq!(
            reason("5"),
            "missing unit after 5 (use ns, us or µs, ms, s, m or min, h, d)"
        );
        assert!(reason("1h30").starts_with("missing unit after 30"));
        assert_eq!(reason("ms"), "missing number before the unit");
        assert!(reason("30m1h").starts_with("`h` after `m`: write the parts from the largest"));
        assert_eq!(reason("1m2m"), "the unit `m` appears twice");
        assert_eq!(reason("1m 2min"), "the unit `min` appears twice");
        assert_eq!(reason("1.5ns"), "finer than one nanosecond");
        assert_eq!(reason("1e-10s"), "finer than one nanosecond");
        assert_eq!(reason("1.2.3s"), "malformed number `1.2.3`");
        assert!(reason("1,5s").starts_with("unexpected `,` after 1"));
        assert!(reason("").starts_with("empty"));
        assert!(reason("+1s").starts_with("write the number without a sign"));
        assert_eq!(
            SimDuration::parse("-1ms").unwrap_err().to_string(),
            "invalid duration \"-1ms\": a duration cannot be negative"
        );
    }

    #[test]
    fn display_round_trips() {
        for text in ["250us", "3ms", "1.5s", "10m", "2h", "7ns", "1.25ms"] {
            let d = SimDuration::parse(text).unwrap();
            assert_eq!(d.to_string(), text);
            assert_eq!(SimDuration::parse(&d.to_string()).unwrap(), d);
        }
        // Display keeps one unit (objective ids are built from it); a
        // compound input reads back to the same value.
        for text in ["1m15s", "1h30m", "2m30s", "1d1ns"] {
            let d = SimDuration::parse(text).unwrap();
            assert_eq!(SimDuration::parse(&d.to_string()).unwrap(), d, "{text}");
        }
    }

    #[test]
    fn human_durations_are_written_in_parts() {
        for (text, human) in [
            ("75s", "1m15s"),
            ("90m", "1h30m"),
            ("3723s", "1h2m3s"),
            ("61.5s", "1m1.5s"),
            ("60001ms", "1m1ms"),
            ("10m", "10m"),
            ("2h", "2h"),
            ("1.5s", "1.5s"),
            ("250us", "250us"),
            ("0s", "0s"),
        ] {
            let d = SimDuration::parse(text).unwrap();
            assert_eq!(d.human(), human, "{text}");
            assert_eq!(SimDuration::parse(&d.human()).unwrap(), d, "{text}");
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
