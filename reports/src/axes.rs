//! The axes charts share: fixed ticks for `f64` axes ([`FixedTicks`]),
//! the time axis of a run ([`TimeAxis`]), the x axis of a varied field
//! ([`XAxis`]) and the latency axis that turns logarithmic over a wide
//! span ([`YAxis`]), the meshes (grid and labels) drawn on them, and the
//! tick labels.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde_json::Value;

use crate::chart::{ChartError, Plot, TEXT_PX, font, max_of};
use crate::fmt::value_text;

/// An `f64` axis (linear or logarithmic) with the tick values given,
/// e.g. one per shard row or 1-2-5 per decade. (Plotters' own
/// `with_key_points` loses the formatter of `f64` axes, so a mesh cannot be
/// drawn on it.)
pub struct FixedTicks<R: Ranged<ValueType = f64>> {
    inner: R,
    ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> FixedTicks<R> {
    /// `inner` (a range such as `0.0..1.0`, or `(a..b).log_scale()`) with
    /// ticks at `ticks`.
    pub fn new(inner: impl Into<R>, ticks: Vec<f64>) -> Self {
        FixedTicks {
            inner: inner.into(),
            ticks,
        }
    }
}

impl<R: Ranged<ValueType = f64>> Ranged for FixedTicks<R> {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> std::ops::Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// How the time axis is labelled: seconds for short runs, minutes for
/// longer ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    /// Seconds per axis unit.
    pub scale: f64,
    /// The unit's name for the axis label.
    pub unit: &'static str,
}

impl TimeAxis {
    /// The axis for a run of `duration_s`.
    pub fn for_duration(duration_s: f64) -> TimeAxis {
        if duration_s >= 600.0 {
            TimeAxis {
                scale: 60.0,
                unit: "min",
            }
        } else {
            TimeAxis {
                scale: 1.0,
                unit: "s",
            }
        }
    }

    /// The axis label.
    pub fn label(&self) -> String {
        format!("time since start ({})", self.unit)
    }

    /// Bucket `i`'s midpoint in axis units.
    pub fn bucket_mid(&self, i: usize, interval_s: f64) -> f64 {
        (i as f64 + 0.5) * interval_s / self.scale
    }
}

/// Draws the axes and grid of a plot over time: tick labels on the x
/// axis only when `x_desc` is given (the lower panel of a stacked chart
/// carries them for both).
pub fn time_mesh(
    chart: &mut Plot<'_, '_>,
    x_desc: Option<&str>,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<(), ChartError> {
    let blank = |_: &f64| String::new();
    let ticks = |v: &f64| tick(*v);
    let mut mesh = chart.configure_mesh();
    mesh.y_desc(y_desc)
        .y_label_formatter(y_fmt)
        .y_labels(6)
        .x_labels(12)
        .label_style(font(TEXT_PX))
        .axis_desc_style(font(TEXT_PX))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(WHITE.mix(0.0));
    match x_desc {
        Some(d) => mesh.x_desc(d).x_label_formatter(&ticks),
        None => mesh.x_label_formatter(&blank),
    };
    mesh.draw()?;
    Ok(())
}

/// A readable number for tick labels: `1.5k`, `250`, `0.25`.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A percentage tick label for a fraction: `0.25` -> `25%`.
pub fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// How the values of one varied field are placed on the x axis: at their
/// own value when every one is a number, else one slot per value. Ticks
/// sit at the values themselves when they are few, so every tick is a
/// value that was run.
#[derive(Debug, Clone)]
pub struct XAxis {
    /// Axis position of each value, in the dimension's order.
    pub pos: Vec<f64>,
    /// Tick labels of a categorical axis (empty for a numeric one).
    pub names: Vec<String>,
    /// Whether ticks go at the values (else at round numbers).
    pub at_values: bool,
    lo: f64,
    hi: f64,
}

/// Most values of a numeric axis that each get a tick.
pub const MAX_VALUE_TICKS: usize = 12;

impl XAxis {
    /// The axis for `values`.
    pub(crate) fn of(values: &[Value]) -> XAxis {
        let nums: Option<Vec<f64>> = values.iter().map(Value::as_f64).collect();
        match nums {
            Some(pos) if !pos.is_empty() => {
                let lo = pos.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = pos.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let pad = if hi > lo {
                    (hi - lo) * 0.06
                } else {
                    lo.abs().max(1.0) * 0.1
                };
                XAxis {
                    at_values: pos.len() <= MAX_VALUE_TICKS,
                    pos,
                    names: Vec::new(),
                    lo: lo - pad,
                    hi: hi + pad,
                }
            }
            _ => XAxis::categories(values.iter().map(value_text).collect()),
        }
    }

    /// A plain numeric axis over `lo..hi` (padded), ticks at round numbers.
    pub(crate) fn span(lo: f64, hi: f64) -> XAxis {
        let mut a = XAxis::of(&[lo.into(), hi.into()]);
        a.at_values = false;
        a
    }

    /// One slot per name.
    pub(crate) fn categories(names: Vec<String>) -> XAxis {
        XAxis {
            pos: (0..names.len()).map(|i| i as f64).collect(),
            lo: -0.5,
            hi: names.len() as f64 - 0.5,
            names,
            at_values: true,
        }
    }

    /// Whether the axis is categorical.
    pub(crate) fn categorical(&self) -> bool {
        !self.names.is_empty()
    }

    /// The tick label at axis position `v`.
    pub(crate) fn tick(&self, v: f64) -> String {
        if self.categorical() {
            let i = v.round();
            if i >= 0.0 && (i as usize) < self.names.len() {
                return self.names[i as usize].clone();
            }
            return String::new();
        }
        tick(v)
    }

    /// Smallest gap between two positions (1 when there are fewer than
    /// two).
    pub(crate) fn min_gap(&self) -> f64 {
        let mut p = self.pos.clone();
        p.sort_by(f64::total_cmp);
        let gap = p
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > 0.0)
            .fold(f64::INFINITY, f64::min);
        if gap.is_finite() { gap } else { 1.0 }
    }
}

impl Ranged for XAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo);
        limit.0 + ((limit.1 - limit.0) as f64 * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if self.at_values {
            let mut p = self.pos.clone();
            p.sort_by(f64::total_cmp);
            p.dedup();
            return p;
        }
        let lin: RangedCoordf64 = (self.lo..self.hi).into();
        lin.key_points(hint)
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// An x-y chart: a varied field (or cost) along x, latency along y.
pub type XyChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<XAxis, YAxis>>;

/// A latency axis: linear from 0, or logarithmic when the values span
/// more than [`LOG_SPAN`]x, so a variant that times out does not flatten
/// the differences between the others.
#[derive(Debug, Clone)]
pub struct YAxis {
    lo: f64,
    hi: f64,
    /// Whether the axis is logarithmic.
    pub(crate) log: bool,
}

/// Ratio of the largest to the smallest value above which latency axes
/// are logarithmic.
pub const LOG_SPAN: f64 = 12.0;

impl YAxis {
    /// The axis for points `(low, mean, high)`.
    pub(crate) fn for_points(points: impl IntoIterator<Item = (f64, f64, f64)>) -> YAxis {
        let points: Vec<(f64, f64, f64)> = points.into_iter().collect();
        let hi = max_of(points.iter().map(|(_, m, h)| h.max(*m)), 0.0);
        let lo = points
            .iter()
            .map(|(_, m, _)| *m)
            .filter(|m| *m > 0.0 && m.is_finite())
            .fold(f64::INFINITY, f64::min);
        if lo.is_finite() && hi / lo > LOG_SPAN {
            YAxis {
                lo: 10f64.powf((lo * 0.8).log10().floor()),
                hi: hi * 1.4,
                log: true,
            }
        } else {
            YAxis {
                lo: 0.0,
                hi: hi.max(0.1) * 1.1,
                log: false,
            }
        }
    }

    /// The axis label for `what` (`p99 latency (ms)`).
    pub(crate) fn desc(&self, what: &str) -> String {
        if self.log {
            format!("{what}, log scale")
        } else {
            what.to_string()
        }
    }

    /// `v` clamped into the drawn range (for interval ends below a log
    /// axis).
    pub(crate) fn clamp(&self, v: f64) -> f64 {
        v.clamp(self.lo, self.hi)
    }

    /// Where `v` is along the axis, 0 at the bottom and 1 at the top.
    pub(crate) fn frac(&self, v: f64) -> f64 {
        if self.log {
            (self.clamp(v).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

impl Ranged for YAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = self.frac(*v);
        limit.0 + ((limit.1 - limit.0) as f64 * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if !self.log {
            let lin: RangedCoordf64 = (self.lo..self.hi).into();
            return lin.key_points(hint);
        }
        // 1, 2, 5 per decade; decades only when that is too many.
        let first = self.lo.log10().floor() as i32;
        let last = self.hi.log10().ceil() as i32;
        let ticks = |mults: &[f64]| -> Vec<f64> {
            (first..=last)
                .flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e)))
                .filter(|v| *v >= self.lo * 0.999 && *v <= self.hi)
                .collect()
        };
        let dense = ticks(&[1.0, 2.0, 5.0]);
        if dense.len() <= hint.max_num_points() {
            dense
        } else {
            ticks(&[1.0])
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Draws the axes and grid of an x-y chart in the report's style.
pub fn mesh(
    chart: &mut XyChart<'_, '_>,
    x: &XAxis,
    x_desc: &str,
    y_desc: &str,
    x_fmt: Option<&dyn Fn(&f64) -> String>,
) -> Result<(), ChartError> {
    let default = |v: &f64| x.tick(*v);
    let y_fmt = |v: &f64| tick(*v);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(12)
        .y_labels(8)
        .x_label_formatter(x_fmt.unwrap_or(&default))
        .y_label_formatter(&y_fmt)
        .label_style(font(TEXT_PX))
        .axis_desc_style(font(TEXT_PX))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks() {
        assert_eq!(tick(1500.0), "1500");
        assert_eq!(tick(15000.0), "15k");
        assert_eq!(tick(2.5e6), "2.5M");
        assert_eq!(tick(0.25), "0.25");
    }

    #[test]
    fn varied_field_axes() {
        let a = XAxis::of(&[Value::from(16), Value::from(8), Value::from(9)]);
        assert!(!a.categorical());
        assert_eq!(a.key_points(12), vec![8.0, 9.0, 16.0]);
        assert_eq!(a.tick(8.0), "8");
        let c = XAxis::of(&[Value::from("hash"), Value::from("range")]);
        assert!(c.categorical());
        assert_eq!(c.range(), -0.5..1.5);
        assert_eq!(c.key_points(12), vec![0.0, 1.0]);
        assert_eq!(c.tick(1.0), "range");
        let money = XAxis::span(0.0, 10.0);
        assert_eq!(money.key_points(6), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    }

    #[test]
    fn latency_axis_turns_logarithmic_over_a_wide_span() {
        let lin = YAxis::for_points([(4.0, 5.0, 6.0), (6.0, 7.0, 8.0)]);
        assert!(!lin.log);
        assert_eq!(lin.lo, 0.0);
        let log = YAxis::for_points([(30.0, 31.0, 32.0), (990.0, 999.0, 1008.0)]);
        assert!(log.log);
        assert_eq!(log.lo, 10.0);
        assert_eq!(
            log.key_points(20),
            vec![10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
        );
        assert_eq!(log.key_points(4), vec![10.0, 100.0, 1000.0]);
    }
}
