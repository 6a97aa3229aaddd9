//! How values are written, in the terminal and on the pages alike: one
//! function per kind, so that a figure reads the same wherever it is
//! printed. A value that is not a number (NaN, infinite) is written `-`,
//! as an empty cell is.
//!
//! | kind | function | examples |
//! |---|---|---|
//! | fraction as a percentage | [`pct`] | `15.7%`, `2.50%`, `0.040%`, `<0.001%` |
//! | duration in seconds | [`secs`] | `1h5m`, `2m30s`, `45s`, `1.5s`, `250ms` |
//! | money, dollars | [`money`] | `$8.87`, `$1,234`, `$0.0042` |
//! | latency, milliseconds | [`ms`] | `0.123`, `12.35`, `250`, `1,234` |
//! | count | [`int`] | `999`, `2,727,347` |
//! | field path | [`short_path`] | `orders.shard_key` |
//! | sweep value | [`value_text`], [`params`] | `hash`, `app.replicas=8 orders.strategy=hash` |
//! | unit of a sweep's metric | [`metric_unit`] | `p99_ms@8m..17m` in ms, `error_rate` in % |
//! | estimate, mean ± 95% half-width | [`estimate`] | `30.98 ± 0.15ms`, `0 ± 0%`, `2,999.7 ± 7.4 requests/s` |
//! | estimate whose interval is wider than its mean | [`estimate`] | `~0.030% (0–0.080%)`, `~12ms (0–40ms)` |
//! | signed change of an estimate | [`change`] | `+4.7 ± 3.3ms`, `-4.719 ± 0.091 pp`, `0 ± 0 pp` |
//! | one figure of an estimate (its mean, a margin) | [`mean`], [`margin`], [`Digits`] | `30.98ms`, `+29.02ms`, `-$0.83/hour` |
//!
//! An estimate's figures are written in the unit of its metric
//! ([`Unit`]): percentages for fractions, percentage points for their
//! changes, `ms`, money as [`money`] writes it, plain numbers with their
//! unit.

use models::{Estimate, Slo};
use serde_json::Value;

/// A fraction as a percentage, with more decimals as it shrinks: one from
/// 10% (`15.7%`), two from 0.1% (`2.50%`), three below (`0.040%`), so
/// that an error rate keeps two or three significant digits and a large
/// share no noise. It never rounds to what it is not: a non-zero value
/// too small to show is `<0.001%`, and a value just under 1 gets the
/// decimals that keep it under 100% (`99.996%`, else `>99.999%`), since a
/// reader takes `100.0%` availability or `0%` errors at their word.
pub fn pct(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v == 0.0 {
        return "0%".into();
    }
    let p = v * 100.0;
    let a = p.abs();
    if a < 0.0005 {
        return if p > 0.0 { "<0.001%" } else { ">-0.001%" }.into();
    }
    let first = if a >= 10.0 {
        1
    } else if a >= 0.1 {
        2
    } else {
        3
    };
    for d in first..=3 {
        let text = format!("{p:.d$}");
        if !(v < 1.0 && text.starts_with("100")) {
            return format!("{text}%");
        }
    }
    ">99.999%".into()
}

/// `x` rounded to one decimal, without a trailing `.0`: `1.5`, `250`.
fn one_decimal(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// A duration given in seconds, as a scenario file writes durations:
/// `1h5m`, `2m30s`, `45s`, `1.5s`, `250ms`, `0.5us`. Whole minutes and
/// hours read at a glance where `3900s` does not; below a minute one
/// decimal, below a second milliseconds (a quarter-second interval is
/// `250ms`, not `0.2s`). Rounding carries (`59.97` is `1m`, never
/// `60.0s`; `3599.6` is `1h`, never `59m60s`).
pub fn secs(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v < 0.0 {
        return format!("-{}", secs(-v));
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v * 1e6 < 0.05 {
        return "<0.1us".into();
    }
    if v * 1e6 < 999.95 {
        return format!("{}us", one_decimal(v * 1e6));
    }
    if v * 1e3 < 999.95 {
        return format!("{}ms", one_decimal(v * 1e3));
    }
    if v < 59.95 {
        return format!("{}s", one_decimal(v));
    }
    let total = v.round() as u64;
    if total < 3600 {
        let (m, s) = (total / 60, total % 60);
        return if s == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{s}s")
        };
    }
    let minutes = (v / 60.0).round() as u64;
    let (h, m) = (minutes / 60, minutes % 60);
    if m == 0 {
        format!("{h}h")
    } else {
        format!("{h}h{m}m")
    }
}

/// Money in dollars: cents below $100 (`$8.87`, the price of a pod-hour),
/// whole dollars with thousands separators from $100 (`$123`, `$1,234`:
/// cents there are noise), and two significant digits below a cent
/// (`$0.0042`) so a small cost is never shown as `$0.00`. Negative
/// amounts are `-$5.00`.
pub fn money(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v < 0.0 {
        return format!("-{}", money(-v));
    }
    if v == 0.0 {
        return "$0.00".into();
    }
    if v < 0.000_001 {
        return "<$0.000001".into();
    }
    if v < 0.01 {
        let d = (1 - v.log10().floor() as i32).clamp(2, 6) as usize;
        return format!("${v:.d$}");
    }
    if v < 99.995 {
        return format!("${v:.2}");
    }
    format!("${}", int(v.round() as u64))
}

/// Milliseconds (a latency), without the unit, which the column or the
/// sentence gives: three decimals below 1 ms (`0.123`), two below 100 ms
/// (`12.35`), none above (`250`), with thousands separators from 1,000
/// (`1,234`, as counts). A non-zero latency too small to show is
/// `<0.001`.
pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if a < 0.0005 {
        return format!("{sign}<0.001");
    }
    if a < 1.0 {
        format!("{v:.3}")
    } else if a < 100.0 {
        format!("{v:.2}")
    } else if a < 999.5 {
        format!("{v:.0}")
    } else {
        format!("{sign}{}", int(a.round() as u64))
    }
}

/// A count with thousands separators, `2,727,347`: the digits of a large
/// count are read in groups, and the ledger's terms line up with the
/// figures on the page.
pub fn int(v: u64) -> String {
    grouped(&v.to_string())
}

/// A string of digits with a comma between groups of three.
fn grouped(digits: &str) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The unit of a metric, which says how [`estimate`], [`change`] and
/// [`Digits`] write its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit<'a> {
    /// A fraction, written as a percentage: `62.7%`.
    Percent,
    /// A change of a fraction, in percentage points: `-4.72 pp` (so that
    /// it is never read as a change relative to the value).
    Points,
    /// Milliseconds, glued to the figure as the objectives write limits:
    /// `30.98ms`.
    Ms,
    /// Dollars, each figure written by [`money`], then what they are per
    /// (`/hour`, or nothing where the column says it): `$7.48/hour`.
    Money(&'a str),
    /// A plain number, then its unit after a space when it has one:
    /// `2,401 requests/s`, `1.35`.
    Plain(&'a str),
}

impl<'a> Unit<'a> {
    /// The unit of an objective's metric, from its `percent` and `unit`
    /// fields (`$/hour` is money per hour).
    pub fn of(slo: &'a Slo) -> Unit<'a> {
        if slo.percent {
            Unit::Percent
        } else if slo.unit == "ms" {
            Unit::Ms
        } else if let Some(per) = slo.unit.strip_prefix('$') {
            Unit::Money(per)
        } else {
            Unit::Plain(&slo.unit)
        }
    }

    /// The unit of a change of this metric: percentage points for a
    /// fraction, the metric's own unit otherwise.
    pub fn change(self) -> Unit<'a> {
        match self {
            Unit::Percent => Unit::Points,
            other => other,
        }
    }

    /// What a fraction is multiplied by to be written.
    fn scale(self) -> f64 {
        match self {
            Unit::Percent | Unit::Points => 100.0,
            _ => 1.0,
        }
    }

    /// What follows the figures: `%`, ` pp`, `ms`, `/hour`, ` requests/s`.
    fn suffix(self) -> String {
        match self {
            Unit::Percent => "%".into(),
            Unit::Points => " pp".into(),
            Unit::Ms => "ms".into(),
            Unit::Money(per) => per.into(),
            Unit::Plain("") => String::new(),
            Unit::Plain(u) => format!(" {u}"),
        }
    }
}

/// The unit of a recorded metric of a sweep, from its name (a window's
/// `@FROM..TO` aside): latencies end in `_ms`, fractions in `rate`,
/// `ratio` or `utilisation`, money starts with `cost.`; anything else is
/// a plain number (requests/s, messages, a hot-spot index).
pub fn metric_unit(metric: &str) -> Unit<'static> {
    let m = metric.split('@').next().unwrap_or(metric);
    if m.ends_with("_ms") {
        Unit::Ms
    } else if m.ends_with("rate") || m.ends_with("ratio") || m.ends_with("utilisation") {
        Unit::Percent
    } else if m.starts_with("cost.") {
        Unit::Money("")
    } else {
        Unit::Plain("")
    }
}

/// Most decimals any figure gets: a nanosecond of a latency in
/// milliseconds, a hundredth of a part per million of a percentage; what
/// lies beyond is below anything a simulation of requests resolves.
const MAX_DECIMALS: i32 = 6;

/// Significant digits of an interval's half-width, and so of the
/// precision of its mean.
const INTERVAL_DIGITS: i32 = 2;

/// Significant digits of a figure without an interval.
const SINGLE_DIGITS: i32 = 4;

/// Most significant digits of a mean with an interval: past the sixth, a
/// narrower interval is the rounding of the arithmetic, not a spread of
/// the replications.
const MEAN_DIGITS: i32 = 6;

/// The decimals that give `a` (> 0) `n` significant digits, from 0 (the
/// digits of a whole number are never rounded away) to [`MAX_DECIMALS`];
/// one fewer when rounding carries into a new digit (`0.0996` to two
/// digits is `0.10`, not `0.100`).
fn decimals_for(a: f64, n: i32) -> i32 {
    let d = (n - 1 - a.log10().floor() as i32).clamp(0, MAX_DECIMALS);
    if d > 0 && (a * 10f64.powi(d)).round() >= 10f64.powi(n) {
        d - 1
    } else {
        d
    }
}

/// How many digits the figures of one estimate get — its mean, its
/// half-width and the values read beside it (a margin to a limit, a
/// replication's value, a tolerance), so that they all line up.
///
/// The rule: **an interval sets the precision**. The half-width is
/// rounded to two significant digits and every figure to the same
/// decimal place, as a measurement is written with its uncertainty
/// (`30.98 ± 0.15`, `8,993 ± 42`, `0.8647 ± 0.0017`). A reader can trust
/// every digit shown: the last one is where the interval begins to
/// blur, so no digit is noise and none that the replications pinned
/// down is hidden. Precision by magnitude does neither: it printed
/// `1.21 ± 0.00` for an interval of 0.0013 and `6.20 ± 0.44` beside it,
/// one hiding what is known and the other implying a certainty the
/// other column denies. Whole numbers keep all their digits
/// (`891 ± 175`, not `890 ± 180`), and a mean gets at most six
/// significant digits.
///
/// Without an interval (a single replication) or with one of zero (all
/// replications agreed), nothing sets the precision, and each figure gets
/// four significant digits with its trailing zeros dropped (`83.49`,
/// `0.1`, `2,401`), and a single value short of 100% never reads `100%`.
///
/// An exact zero is `0` (`0 ± 0%` for an error rate that was zero in
/// every replication), while a figure that only rounds to zero keeps its
/// decimals (`0.00 ± 0.42`) and, in a change, its sign (`+0 ± 30ms`), so
/// that it is never taken for an exact zero. Money follows the interval
/// too (`$2.271 ± $0.093`, `$0.8600 ± $0.0017`, `$247 ± $27`), and without
/// one is written by [`money`] (cents, whole dollars from $100), as
/// everywhere else; an exact zero is `$0` (`$7.48 ± $0/hour`: a cost
/// every replication agreed on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digits {
    /// Decimals set by an interval; `None`: four significant digits of
    /// each figure.
    decimals: Option<i32>,
    /// The same for figures written in seconds rather than milliseconds
    /// (see [`SECONDS_FROM_MS`]).
    decimals_s: Option<i32>,
}

impl Digits {
    /// The digits of `e`'s figures written in `unit`.
    pub fn of(e: &Estimate, unit: Unit) -> Digits {
        let decimals = |s: f64| {
            e.ci95
                .map(|h| h * s)
                .filter(|h| h.is_finite() && *h > 0.0)
                .map(|h| {
                    let m = (e.mean * s).abs();
                    let d = decimals_for(h, INTERVAL_DIGITS);
                    if m > 0.0 && m.is_finite() {
                        d.min(decimals_for(m, MEAN_DIGITS))
                    } else {
                        d
                    }
                })
        };
        Digits {
            decimals: decimals(unit.scale()),
            decimals_s: decimals(1e-3),
        }
    }

    /// `v` in `unit`: `30.98ms`, `0.1%`, `$7.48/hour`.
    pub fn value(self, v: f64, unit: Unit) -> String {
        self.text(v, unit, false)
    }

    /// `v` in `unit` with its sign (none on an exact zero): `+29.02ms`,
    /// `-0.83 pp`, `-$0.83/hour`.
    pub fn signed(self, v: f64, unit: Unit) -> String {
        self.text(v, unit, true)
    }

    fn text(self, v: f64, unit: Unit, signed: bool) -> String {
        if !v.is_finite() {
            return "-".into();
        }
        let (d, scale, unit, suffix) = self.shown(v, unit);
        format!("{}{suffix}", d.figure(v * scale, unit, signed))
    }

    /// How figures in `unit` are written when `v` is the one that decides
    /// (an estimate's mean, or the value itself): the digits, the factor
    /// applied to each figure, its unit and what follows. A latency of
    /// [`SECONDS_FROM_MS`] or more is written in seconds, with the digits
    /// of the estimate in seconds.
    fn shown(self, v: f64, unit: Unit) -> (Digits, f64, Unit, String) {
        if unit == Unit::Ms && v.abs() >= SECONDS_FROM_MS {
            let d = Digits {
                decimals: self.decimals_s,
                ..self
            };
            (d, 1e-3, Unit::Plain(""), " s".into())
        } else {
            (self, 1.0, unit, unit.suffix())
        }
    }

    /// `v` in `unit` without what follows it.
    fn figure(self, v: f64, unit: Unit, signed: bool) -> String {
        if let Unit::Money(_) = unit {
            let text = match self.decimals {
                _ if v == 0.0 => "$0".into(),
                Some(d) if v < 0.0 => format!("-${}", fixed(-v, d)),
                Some(d) => format!("${}", fixed(v, d)),
                None => money(v),
            };
            return if signed && v > 0.0 {
                format!("+{text}")
            } else {
                text
            };
        }
        let v = v * unit.scale();
        if v == 0.0 {
            return "0".into();
        }
        let a = v.abs();
        let text = match self.decimals {
            Some(d) => fixed(a, d),
            None => {
                let mut d = decimals_for(a, SINGLE_DIGITS);
                // A share short of the whole never reads 100% (`99.996%`).
                while unit == Unit::Percent
                    && a < 100.0
                    && d < MAX_DECIMALS
                    && fixed(a, d).starts_with("100")
                {
                    d += 1;
                }
                let text = fixed(a, d);
                if is_zero(&text) {
                    format!("<0.{}1", "0".repeat(MAX_DECIMALS as usize - 1))
                } else if text.contains('.') {
                    text.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    text
                }
            }
        };
        if v < 0.0 && (signed || !is_zero(&text)) {
            format!("-{text}")
        } else if v > 0.0 && signed {
            format!("+{text}")
        } else {
            text
        }
    }
}

/// From this many milliseconds a latency is written in seconds, as a
/// person reads it: `326.4 s`, not `326,418ms`.
const SECONDS_FROM_MS: f64 = 10_000.0;

/// Whether a figure's digits are all zeros (`0.00`).
fn is_zero(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0' | b'.' | b','))
}

/// `a` (>= 0) to `d` decimals, with thousands separators.
fn fixed(a: f64, d: i32) -> String {
    let text = format!("{a:.0$}", d as usize);
    match text.split_once('.') {
        Some((whole, frac)) => format!("{}.{frac}", grouped(whole)),
        None => grouped(&text),
    }
}

/// An estimate in its unit: the mean ± the half-width of its 95%
/// interval, both to the [`Digits`] of the estimate, then the unit:
/// `30.98 ± 0.15ms`, `62.7 ± 1.5%`, `0 ± 0%`, `$7.48 ± $0/hour`; the
/// mean alone without an interval (`83.49ms`), `-` when it is not a
/// number.
///
/// The metrics estimated are levels that cannot be negative (latencies,
/// rates, fractions, costs). When the half-width exceeds a positive mean,
/// `0.030 ± 0.050%` would reach below zero and read as a precise figure;
/// such an estimate is written as what it is, a rough mean and the
/// interval's bounds, the lower clamped at zero: `~0.030% (0–0.080%)`
/// (a rare event seen in a few replications, a run too short to say).
/// A negative mean is no level and keeps the `±` form; so does a
/// [`change`], which may be of either sign.
pub fn estimate(e: &Estimate, unit: Unit) -> String {
    with_interval(e, unit, false)
}

/// A change, as [`estimate`] with the mean's sign: `+0.86 ± 0.05ms`,
/// `-4.72 ± 0.09 pp`, `0 ± 0 pp`. Pass the unit's [`Unit::change`] for
/// percentage points.
pub fn change(e: &Estimate, unit: Unit) -> String {
    with_interval(e, unit, true)
}

/// The mean alone, to the [`Digits`] of its estimate: `30.98ms`.
pub fn mean(e: &Estimate, unit: Unit) -> String {
    Digits::of(e, unit).value(e.mean, unit)
}

/// A value read beside an estimate (the margin of its mean to a limit),
/// signed and to the [`Digits`] of the estimate: `+29.02ms`, `-0.46 pp`.
pub fn margin(e: &Estimate, v: f64, unit: Unit) -> String {
    Digits::of(e, unit).signed(v, unit)
}

fn with_interval(e: &Estimate, unit: Unit, signed: bool) -> String {
    if !e.mean.is_finite() {
        return "-".into();
    }
    // A long latency and its interval are both in seconds.
    let (d, scale, unit, suffix) = Digits::of(e, unit).shown(e.mean, unit);
    let m = d.figure(e.mean * scale, unit, signed);
    match e.ci95.filter(|h| h.is_finite()) {
        Some(h) if !signed && e.mean > 0.0 && h > e.mean => format!(
            "~{m}{suffix} ({}–{}{suffix})",
            d.figure(0.0, unit, false),
            d.figure((e.mean + h) * scale, unit, false)
        ),
        Some(h) => format!("{m} ± {}{suffix}", d.figure(h * scale, unit, false)),
        None => format!("{m}{suffix}"),
    }
}

/// The last segment of a field path, with its parent when the path is
/// longer than two (`services.app.replicas` -> `app.replicas`): the field
/// and whose it is, which is what tells the columns of a sweep apart; the
/// whole path is in the page's "what varies" table.
pub fn short_path(path: &str) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    match segs.as_slice() {
        [.., parent, last] if segs.len() > 2 => format!("{parent}.{last}"),
        _ => path.to_string(),
    }
}

/// A sweep value as text: strings without quotes (`hash`, not `"hash"`),
/// everything else as JSON (`8`, `true`, `{"zipf":{"n":100}}`).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A variant's parameters, each as its [`short_path`] and its
/// [`value_text`]: `station.concurrency=8 orders.strategy=hash`.
pub fn params<'a>(params: impl IntoIterator<Item = (&'a String, &'a Value)>) -> String {
    params
        .into_iter()
        .map(|(p, v)| format!("{}={}", short_path(p), value_text(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percentages() {
        assert_eq!(pct(0.0), "0%");
        assert_eq!(pct(0.157), "15.7%");
        assert_eq!(pct(1.0), "100.0%");
        assert_eq!(pct(0.1), "10.0%");
        assert_eq!(pct(0.025), "2.50%");
        assert_eq!(pct(0.001), "0.10%");
        assert_eq!(pct(0.0004), "0.040%");
        assert_eq!(pct(1e-9), "<0.001%");
        assert_eq!(pct(-1e-9), ">-0.001%");
        assert_eq!(pct(-0.05), "-5.00%");
        assert_eq!(pct(0.9996), "99.96%");
        assert_eq!(pct(0.99996), "99.996%");
        assert_eq!(pct(0.9999999), ">99.999%");
        assert_eq!(pct(12.5), "1250.0%");
        assert_eq!(pct(f64::NAN), "-");
        assert_eq!(pct(f64::INFINITY), "-");
    }

    #[test]
    fn durations() {
        assert_eq!(secs(0.0), "0s");
        assert_eq!(secs(15.0), "15s");
        assert_eq!(secs(1.5), "1.5s");
        assert_eq!(secs(59.97), "1m");
        assert_eq!(secs(90.0), "1m30s");
        assert_eq!(secs(119.6), "2m");
        assert_eq!(secs(1800.0), "30m");
        assert_eq!(secs(3599.6), "1h");
        assert_eq!(secs(3900.0), "1h5m");
        assert_eq!(secs(7199.0), "2h");
        assert_eq!(secs(86_400.0 * 3.0), "72h");
        assert_eq!(secs(0.25), "250ms");
        assert_eq!(secs(0.0015), "1.5ms");
        assert_eq!(secs(0.99996), "1s");
        assert_eq!(secs(0.000_000_5), "0.5us");
        assert_eq!(secs(1e-12), "<0.1us");
        assert_eq!(secs(-90.0), "-1m30s");
        assert_eq!(secs(1e12), "277777777h47m");
        assert_eq!(secs(f64::NAN), "-");
        assert_eq!(secs(f64::NEG_INFINITY), "-");
    }

    #[test]
    fn money_amounts() {
        assert_eq!(money(0.0), "$0.00");
        assert_eq!(money(8.87), "$8.87");
        assert_eq!(money(99.99), "$99.99");
        assert_eq!(money(99.999), "$100");
        assert_eq!(money(123.45), "$123");
        assert_eq!(money(1234.5), "$1,235");
        assert_eq!(money(2.5e9), "$2,500,000,000");
        assert_eq!(money(0.0042), "$0.0042");
        assert_eq!(money(0.00012345), "$0.00012");
        assert_eq!(money(1e-9), "<$0.000001");
        assert_eq!(money(-5.0), "-$5.00");
        assert_eq!(money(f64::NAN), "-");
        assert_eq!(money(f64::INFINITY), "-");
    }

    #[test]
    fn milliseconds() {
        assert_eq!(ms(0.0), "0");
        assert_eq!(ms(0.1234), "0.123");
        assert_eq!(ms(12.345), "12.35");
        assert_eq!(ms(250.4), "250");
        assert_eq!(ms(999.4), "999");
        assert_eq!(ms(999.6), "1,000");
        assert_eq!(ms(123_456.0), "123,456");
        assert_eq!(ms(0.0001), "<0.001");
        assert_eq!(ms(-2.5), "-2.50");
        assert_eq!(ms(-1500.0), "-1,500");
        assert_eq!(ms(f64::NAN), "-");
        assert_eq!(ms(f64::INFINITY), "-");
    }

    fn est(mean: f64, ci95: Option<f64>) -> Estimate {
        let h = ci95.unwrap_or(0.0);
        Estimate {
            mean,
            ci95,
            low: mean - h,
            high: mean + h,
        }
    }

    #[test]
    fn estimates_take_their_precision_from_the_interval() {
        assert_eq!(
            estimate(&est(30.9812, Some(0.1512)), Unit::Ms),
            "30.98 ± 0.15ms"
        );
        assert_eq!(
            estimate(&est(0.627, Some(0.0151)), Unit::Percent),
            "62.7 ± 1.5%"
        );
        assert_eq!(
            estimate(&est(8993.4, Some(42.3)), Unit::Plain("")),
            "8,993 ± 42"
        );
        assert_eq!(
            estimate(&est(2402.3, Some(8.3)), Unit::Plain("")),
            "2,402.3 ± 8.3"
        );
        assert_eq!(
            estimate(&est(0.8647, Some(0.0017)), Unit::Plain("")),
            "0.8647 ± 0.0017"
        );
        // Whole numbers keep their digits.
        assert_eq!(
            estimate(&est(891.2, Some(175.4)), Unit::Plain("")),
            "891 ± 175"
        );
        // Rounding that carries: two digits, not three.
        assert_eq!(
            estimate(&est(1.0, Some(0.0996)), Unit::Plain("")),
            "1.00 ± 0.10"
        );
        // An interval far narrower than the mean stops at its sixth digit.
        assert_eq!(
            estimate(&est(1234.5678, Some(1e-9)), Unit::Plain("")),
            "1,234.57 ± 0.00"
        );
        assert_eq!(mean(&est(30.9812, Some(0.1512)), Unit::Ms), "30.98ms");
    }

    #[test]
    fn exact_zeros_are_zero() {
        assert_eq!(estimate(&est(0.0, Some(0.0)), Unit::Percent), "0 ± 0%");
        assert_eq!(estimate(&est(0.0, None), Unit::Percent), "0%");
        assert_eq!(estimate(&est(0.0, Some(0.0)), Unit::Plain("")), "0 ± 0");
        assert_eq!(change(&est(0.0, Some(0.0)), Unit::Points), "0 ± 0 pp");
        assert_eq!(change(&est(-0.0, None), Unit::Ms), "0ms");
        assert_eq!(estimate(&est(0.0, Some(0.42)), Unit::Plain("")), "0 ± 0.42");
        assert_eq!(
            estimate(&est(27.656191, Some(0.0)), Unit::Ms),
            "27.66 ± 0ms"
        );
        // A figure that only rounds to zero keeps its decimals, and a
        // change its sign.
        assert_eq!(
            estimate(&est(0.001, Some(0.42)), Unit::Plain("")),
            "~0.00 (0–0.42)"
        );
        assert_eq!(
            estimate(&est(-0.001, Some(0.42)), Unit::Plain("")),
            "0.00 ± 0.42"
        );
        assert_eq!(
            change(&est(-0.001, Some(0.42)), Unit::Plain("")),
            "-0.00 ± 0.42"
        );
        assert_eq!(change(&est(0.4, Some(30.0)), Unit::Ms), "+0 ± 30ms");
    }

    #[test]
    fn estimates_without_an_interval_get_four_digits() {
        assert_eq!(estimate(&est(83.49, None), Unit::Ms), "83.49ms");
        assert_eq!(estimate(&est(201.26, None), Unit::Ms), "201.3ms");
        assert_eq!(estimate(&est(0.0119, None), Unit::Percent), "1.19%");
        assert_eq!(
            estimate(&est(2401.09, None), Unit::Plain("requests/s")),
            "2,401 requests/s"
        );
        assert_eq!(estimate(&est(9_999.4, None), Unit::Ms), "9,999ms");
        assert_eq!(estimate(&est(123_456.7, None), Unit::Ms), "123.5 s");
        assert_eq!(estimate(&est(0.99996, None), Unit::Percent), "99.996%");
        assert_eq!(estimate(&est(0.9999999, None), Unit::Percent), "99.99999%");
        // A NaN interval is no interval.
        assert_eq!(estimate(&est(1.5, Some(f64::NAN)), Unit::Plain("")), "1.5");
    }

    /// Latencies of 10 s or more are written in seconds, with their
    /// intervals and margins: the digits follow the interval as in
    /// milliseconds, three decimals fewer.
    #[test]
    fn long_latencies_are_written_in_seconds() {
        assert_eq!(estimate(&est(326_418.0, None), Unit::Ms), "326.4 s");
        assert_eq!(
            estimate(&est(326_418.0, Some(2_160.0)), Unit::Ms),
            "326.4 ± 2.2 s"
        );
        assert_eq!(
            estimate(&est(12_345.6, Some(15.0)), Unit::Ms),
            "12.346 ± 0.015 s"
        );
        assert_eq!(
            change(&est(-20_000.0, Some(40.0)), Unit::Ms),
            "-20.000 ± 0.040 s"
        );
        let e = est(326_418.0, Some(2_160.0));
        assert_eq!(margin(&e, -326_118.0, Unit::Ms), "-326.1 s");
        assert_eq!(margin(&e, 250.0, Unit::Ms), "+250ms");
    }

    #[test]
    fn tiny_and_huge_estimates() {
        assert_eq!(
            estimate(&est(1e-7, Some(2e-7)), Unit::Percent),
            "~0.000010% (0–0.000030%)"
        );
        assert_eq!(estimate(&est(0.000_123_45, None), Unit::Ms), "0.000123ms");
        assert_eq!(estimate(&est(3e-9, None), Unit::Ms), "<0.000001ms");
        assert_eq!(
            Digits::of(&est(1.0, None), Unit::Ms).signed(-3e-9, Unit::Ms),
            "-<0.000001ms"
        );
        assert_eq!(
            estimate(&est(1.5e9, Some(2.5e7)), Unit::Plain("requests/s")),
            "1,500,000,000 ± 25,000,000 requests/s"
        );
    }

    /// A level whose interval reaches below zero is a rough mean and the
    /// interval's bounds, clamped at zero; a change keeps its `±`.
    #[test]
    fn intervals_wider_than_the_mean() {
        assert_eq!(
            estimate(&est(0.0003, Some(0.0005)), Unit::Percent),
            "~0.030% (0–0.080%)"
        );
        assert_eq!(
            estimate(&est(0.3, Some(1.2)), Unit::Plain("")),
            "~0.3 (0–1.5)"
        );
        assert_eq!(estimate(&est(12.0, Some(28.0)), Unit::Ms), "~12ms (0–40ms)");
        assert_eq!(
            estimate(&est(12_345.0, Some(20_000.0)), Unit::Ms),
            "~12 s (0–32 s)"
        );
        assert_eq!(
            estimate(&est(0.5, Some(0.75)), Unit::Money("/hour")),
            "~$0.50/hour ($0–$1.25/hour)"
        );
        assert_eq!(
            estimate(&est(3.0, Some(4.0)), Unit::Plain("requests/s")),
            "~3.0 requests/s (0–7.0 requests/s)"
        );
        // The mean's own digits stay those the interval gives.
        assert_eq!(mean(&est(0.0003, Some(0.0005)), Unit::Percent), "0.030%");
        // A half-width equal to the mean reaches zero, not below: `±`.
        assert_eq!(
            estimate(&est(0.3, Some(0.3)), Unit::Plain("")),
            "0.30 ± 0.30"
        );
        // Not a level: a negative mean, and changes.
        assert_eq!(
            estimate(&est(-0.3, Some(1.2)), Unit::Plain("")),
            "-0.3 ± 1.2"
        );
        assert_eq!(change(&est(-0.3, Some(1.2)), Unit::Plain("")), "-0.3 ± 1.2");
        assert_eq!(change(&est(0.3, Some(1.2)), Unit::Plain("")), "+0.3 ± 1.2");
    }

    #[test]
    fn changes_and_margins_carry_their_sign() {
        assert_eq!(
            change(&est(-0.0472, Some(0.00094)), Unit::Points),
            "-4.720 ± 0.094 pp"
        );
        assert_eq!(
            change(&est(0.8643, Some(0.0538)), Unit::Ms),
            "+0.864 ± 0.054ms"
        );
        let d = Digits::of(&est(30.9812, Some(0.1512)), Unit::Ms);
        assert_eq!(d.signed(29.0188, Unit::Ms), "+29.02ms");
        assert_eq!(
            margin(&est(30.9812, Some(0.1512)), 29.0188, Unit::Ms),
            "+29.02ms"
        );
        assert_eq!(d.signed(-0.4601, Unit::Ms), "-0.46ms");
        assert_eq!(d.value(-0.4601, Unit::Ms), "-0.46ms");
        let single = Digits::of(&est(1.19, None), Unit::Percent);
        assert_eq!(single.signed(0.008088, Unit::Percent), "+0.8088%");
        assert_eq!(single.signed(0.001, Unit::Percent), "+0.1%");
    }

    #[test]
    fn money_is_written_as_money() {
        let hour = Unit::Money("/hour");
        assert_eq!(estimate(&est(7.48, Some(0.0)), hour), "$7.48 ± $0/hour");
        assert_eq!(estimate(&est(0.0, Some(0.0)), hour), "$0 ± $0/hour");
        assert_eq!(estimate(&est(0.0042, None), hour), "$0.0042/hour");
        assert_eq!(
            estimate(&est(247.3, Some(12.4)), Unit::Money("")),
            "$247 ± $12"
        );
        assert_eq!(
            estimate(&est(0.86, Some(0.0017)), Unit::Money("")),
            "$0.8600 ± $0.0017"
        );
        assert_eq!(
            change(&est(-2.2712, Some(0.0931)), Unit::Money("")),
            "-$2.271 ± $0.093"
        );
        let d = Digits::of(&est(1.32, None), hour);
        assert_eq!(d.signed(-0.8347, hour), "-$0.83/hour");
        assert_eq!(d.signed(0.6844, hour), "+$0.68/hour");
        assert_eq!(change(&est(0.0, Some(0.0)), hour), "$0 ± $0/hour");
    }

    #[test]
    fn estimates_that_are_not_numbers() {
        assert_eq!(estimate(&est(f64::NAN, Some(1.0)), Unit::Ms), "-");
        assert_eq!(estimate(&est(f64::INFINITY, None), Unit::Percent), "-");
        assert_eq!(
            change(&est(f64::NEG_INFINITY, Some(1.0)), Unit::Points),
            "-"
        );
        assert_eq!(mean(&est(f64::NAN, None), Unit::Ms), "-");
        // An interval that is not a number is left out; the mean stays.
        assert_eq!(
            estimate(&est(30.9812, Some(f64::INFINITY)), Unit::Ms),
            "30.98ms"
        );
        assert_eq!(margin(&est(1.0, Some(0.1)), f64::INFINITY, Unit::Ms), "-");
        let d = Digits::of(&est(f64::NAN, Some(f64::NAN)), Unit::Ms);
        assert_eq!(d.value(f64::NAN, Unit::Ms), "-");
        assert_eq!(d.value(2.5, Unit::Ms), "2.5ms");
    }

    #[test]
    fn units_of_objectives() {
        let slo = |unit: &str, percent: bool| Slo {
            text: String::new(),
            metric: String::new(),
            op: models::Op::Below,
            limit: 1.0,
            unit: unit.into(),
            percent,
        };
        assert_eq!(Unit::of(&slo("", true)), Unit::Percent);
        assert_eq!(Unit::of(&slo("", true)).change(), Unit::Points);
        assert_eq!(Unit::of(&slo("ms", false)), Unit::Ms);
        let cost = slo("$/hour", false);
        assert_eq!(Unit::of(&cost), Unit::Money("/hour"));
        let rps = slo("requests/s", false);
        assert_eq!(Unit::of(&rps), Unit::Plain("requests/s"));
        assert_eq!(Unit::of(&rps).change(), Unit::Plain("requests/s"));
    }

    #[test]
    fn counts() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(2_727_347), "2,727,347");
        assert_eq!(int(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn short_paths_keep_the_field_and_its_owner() {
        assert_eq!(short_path("databases.orders.shard_key"), "orders.shard_key");
        assert_eq!(short_path("services.app.replicas"), "app.replicas");
        assert_eq!(short_path("a.b"), "a.b");
        assert_eq!(short_path("seed"), "seed");
        assert_eq!(short_path(""), "");
        assert_eq!(short_path("a..b"), ".b");
    }

    #[test]
    fn values_without_quotes_for_strings() {
        assert_eq!(value_text(&json!("hash")), "hash");
        assert_eq!(value_text(&json!(8)), "8");
        assert_eq!(value_text(&json!(0.5)), "0.5");
        assert_eq!(value_text(&json!(true)), "true");
        assert_eq!(value_text(&json!(null)), "null");
        assert_eq!(
            value_text(&json!({"zipf": {"n": 100}})),
            "{\"zipf\":{\"n\":100}}"
        );
    }
}
