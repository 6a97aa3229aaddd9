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
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
