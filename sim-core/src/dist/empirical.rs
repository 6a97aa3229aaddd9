//! The `empirical` distribution: a percentile table pasted from a
//! dashboard, sampled by inverse CDF with linear interpolation.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{DistError, serde_duration};
use crate::time::SimDuration;

/// A percentile table: `{"min": "1ms", "p50": "12ms", "p90": "30ms",
/// "p99": "80ms", "p99.9": "150ms", "max": "200ms"}`.
///
/// `min` is optional (default `"0s"`), `max` is required, and any number of
/// percentile keys may sit between them: `p50`, `p75`, `p99.9`, ... Keys
/// without a dot that start with `99` and have more than two digits read
/// as dashboard shorthand: `p999` is the 99.9th and `p9999` the 99.99th
/// percentile. Values must not decrease from `min` through the percentiles
/// (in percentile order, whatever the key order in the file) to `max`.
///
/// Sampling draws a uniform quantile and interpolates linearly between the
/// two neighbouring points, with `min` at quantile 0 and `max` at
/// quantile 1, so every value lies in `[min, max]` and each given
/// percentile is reproduced exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct EmpiricalSpec {
    /// Value at quantile 0.
    pub min: SimDuration,
    /// The points between, in file order.
    pub percentiles: Vec<Percentile>,
    /// Value at quantile 1.
    pub max: SimDuration,
}

/// One row of an [`EmpiricalSpec`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentile {
    /// The percentile, strictly between 0 and 100 (`99.9` for `p99.9`).
    pub percent: f64,
    /// The latency at that percentile.
    pub value: SimDuration,
}

impl Percentile {
    /// The key that names this percentile in files: `p50`, `p99.9`.
    pub fn key(&self) -> String {
        format!("p{}", self.percent)
    }
}

/// Reads a percentile key: `p50` -> 50, `p99.9` -> 99.9, `p999` -> 99.9.
fn parse_percentile_key(key: &str) -> Result<f64, DistError> {
    let bad = |reason: &str| DistError::EmpiricalKey {
        key: key.to_string(),
        reason: reason.to_string(),
    };
    let not_a_key =
        || bad("is not `min`, `max` or a percentile such as `p50`, `p99.9` (or `p999`)");
    let digits = key.strip_prefix('p').ok_or_else(not_a_key)?;
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || digits.bytes().filter(|&b| b == b'.').count() > 1
        || digits.starts_with('.')
        || digits.ends_with('.')
    {
        return Err(not_a_key());
    }
    let percent: f64 = if digits.contains('.') || digits.len() <= 2 {
        digits.parse().map_err(|_| not_a_key())?
    } else if let Some(rest) = digits.strip_prefix("99") {
        format!("99.{rest}").parse().map_err(|_| not_a_key())?
    } else {
        return Err(bad(
            "is ambiguous: percentiles are below 100; write fractional ones with a dot \
             (`p99.9`) or as `p999`, and use `max` for the largest value",
        ));
    };
    if !(percent > 0.0 && percent < 100.0) {
        return Err(bad(
            "must be a percentile strictly between 0 and 100; use `min` and `max` for the ends",
        ));
    }
    Ok(percent)
}

/// The sampling table: quantiles `qs` (0 first, 1 last) and the values at
/// them, in nanoseconds, with the slope of each segment precomputed.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    qs: Box<[f64]>,
    vs: Box<[f64]>,
    slopes: Box<[f64]>,
}

impl Table {
    /// Validates the spec and builds the table.
    pub(crate) fn new(spec: &EmpiricalSpec) -> Result<Table, DistError> {
        let mut points = spec.percentiles.clone();
        for p in &points {
            if !(p.percent > 0.0 && p.percent < 100.0) {
                return Err(DistError::EmpiricalKey {
                    key: p.key(),
                    reason: "must be a percentile strictly between 0 and 100; use `min` and \
                             `max` for the ends"
                        .to_string(),
                });
            }
        }
        points.sort_by(|a, b| a.percent.total_cmp(&b.percent));
        if let Some(w) = points.windows(2).find(|w| w[0].percent == w[1].percent) {
            return Err(DistError::param(
                "empirical",
                format!("{} is given twice", w[0].key()),
            ));
        }
        let mut named: Vec<(String, SimDuration, f64)> = Vec::with_capacity(points.len() + 2);
        named.push(("min".to_string(), spec.min, 0.0));
        named.extend(points.iter().map(|p| (p.key(), p.value, p.percent / 100.0)));
        named.push(("max".to_string(), spec.max, 1.0));
        if let Some(w) = named.windows(2).find(|w| w[1].1 < w[0].1) {
            return Err(DistError::param(
                "empirical",
                format!(
                    "{} ({}) is below {} ({}); values must not decrease from min to max",
                    w[1].0, w[1].1, w[0].0, w[0].1
                ),
            ));
        }
        let qs: Box<[f64]> = named.iter().map(|n| n.2).collect();
        let vs: Box<[f64]> = named.iter().map(|n| n.1.0 as f64).collect();
        let slopes = qs
            .windows(2)
            .zip(vs.windows(2))
            .map(|(q, v)| (v[1] - v[0]) / (q[1] - q[0]))
            .collect();
        Ok(Table { qs, vs, slopes })
    }

    /// The value at quantile `u` in `[0, 1]`, ns.
    #[inline]
    pub(crate) fn at(&self, u: f64) -> f64 {
        // First point above u, minus one: the segment [qs[i], qs[i+1]) that
        // holds u. qs[0] = 0 <= u, and u = 1 uses the last segment's end.
        let i = self
            .qs
            .partition_point(|&q| q <= u)
            .saturating_sub(1)
            .min(self.slopes.len() - 1);
        self.vs[i] + self.slopes[i] * (u - self.qs[i])
    }

    /// Mean, ns: each segment is uniform between its end values.
    pub(crate) fn mean(&self) -> f64 {
        self.segments().map(|(dq, a, b)| dq * (a + b) / 2.0).sum()
    }

    /// Variance, ns². Each segment is uniform on [a, b] with weight dq; its
    /// second moment about m is ((a-m)² + (a-m)(b-m) + (b-m)²)/3. Taking
    /// moments about the mean avoids cancellation.
    pub(crate) fn variance(&self) -> f64 {
        let m = self.mean();
        self.segments()
            .map(|(dq, a, b)| {
                let (a, b) = (a - m, b - m);
                dq * (a * a + a * b + b * b) / 3.0
            })
            .sum()
    }

    /// (probability, start value, end value) of each segment.
    fn segments(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.qs
            .windows(2)
            .zip(self.vs.windows(2))
            .map(|(q, v)| (q[1] - q[0], v[0], v[1]))
    }
}

/// A duration value inside the map.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Text(#[serde(with = "serde_duration")] SimDuration);

impl Serialize for EmpiricalSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let has_min = self.min != SimDuration::ZERO;
        let mut map = s.serialize_map(Some(self.percentiles.len() + 1 + usize::from(has_min)))?;
        if has_min {
            map.serialize_entry("min", &Text(self.min))?;
        }
        for p in &self.percentiles {
            map.serialize_entry(&p.key(), &Text(p.value))?;
        }
        map.serialize_entry("max", &Text(self.max))?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for EmpiricalSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EmpiricalSpec, D::Error> {
        d.deserialize_map(EmpiricalVisitor)
    }
}

struct EmpiricalVisitor;

impl<'de> Visitor<'de> for EmpiricalVisitor {
    type Value = EmpiricalSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a percentile table such as {\"p50\": \"12ms\", \"p99\": \"80ms\", \"max\": \"200ms\"}",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EmpiricalSpec, A::Error> {
        let mut min = None;
        let mut max = None;
        let mut percentiles: Vec<(String, Percentile)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "min" => {
                    if min.is_some() {
                        return Err(de::Error::duplicate_field("min"));
                    }
                    min = Some(map.next_value::<Text>()?.0);
                }
                "max" => {
                    if max.is_some() {
                        return Err(de::Error::duplicate_field("max"));
                    }
                    max = Some(map.next_value::<Text>()?.0);
                }
                _ => {
                    let percent = parse_percentile_key(&key).map_err(de::Error::custom)?;
                    if let Some((first, _)) = percentiles.iter().find(|(_, p)| p.percent == percent)
                    {
                        return Err(de::Error::custom(DistError::EmpiricalKey {
                            key,
                            reason: format!("gives the same percentile as `{first}`"),
                        }));
                    }
                    let value = map.next_value::<Text>()?.0;
                    percentiles.push((key, Percentile { percent, value }));
                }
            }
        }
        Ok(EmpiricalSpec {
            min: min.unwrap_or(SimDuration::ZERO),
            percentiles: percentiles.into_iter().map(|(_, p)| p).collect(),
            max: max.ok_or_else(|| de::Error::missing_field("max"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_keys() {
        assert_eq!(parse_percentile_key("p50").unwrap(), 50.0);
        assert_eq!(parse_percentile_key("p5").unwrap(), 5.0);
        assert_eq!(parse_percentile_key("p99.9").unwrap(), 99.9);
        assert_eq!(parse_percentile_key("p999").unwrap(), 99.9);
        assert_eq!(parse_percentile_key("p9999").unwrap(), 99.99);
        assert_eq!(parse_percentile_key("p0.1").unwrap(), 0.1);
        for bad in [
            "median", "p", "p100", "p0", "p.5", "p5.", "p1.2.3", "p-5", "p150", "P50",
        ] {
            assert!(
                parse_percentile_key(bad).is_err(),
                "{bad} should be refused"
            );
        }
        let err = parse_percentile_key("p100").unwrap_err().to_string();
        assert!(err.contains("`p100`") && err.contains("max"), "{err}");
    }

    #[test]
    fn table_interpolates_and_hits_every_point() {
        let spec = EmpiricalSpec {
            min: SimDuration(0),
            percentiles: vec![
                Percentile {
                    percent: 90.0,
                    value: SimDuration(300),
                },
                Percentile {
                    percent: 50.0,
                    value: SimDuration(100),
                },
            ],
            max: SimDuration(1000),
        };
        let t = Table::new(&spec).unwrap();
        assert_eq!(t.at(0.0), 0.0);
        assert_eq!(t.at(0.25), 50.0);
        assert_eq!(t.at(0.5), 100.0);
        assert!((t.at(0.7) - 200.0).abs() < 1e-9);
        assert!((t.at(0.9) - 300.0).abs() < 1e-9);
        assert!((t.at(0.95) - 650.0).abs() < 1e-9);
        assert_eq!(t.at(1.0), 1000.0);
        // Mean: 0.5*50 + 0.4*200 + 0.1*650 = 25 + 80 + 65.
        assert!((t.mean() - 170.0).abs() < 1e-9);
    }
}
