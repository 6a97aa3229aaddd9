//! Latency distribution: one cumulative curve per endpoint and one for
//! all endpoints, latency (ms) on a log scale across, percentile up the
//! side on a "nines" scale (p50, p90, p99, p99.9 equally spaced), so the
//! tail that SLOs are written against gets as much room as the median.

use models::Results;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use sim_core::stats::CdfPoint;

use crate::axes::FixedTicks;
use crate::chart::{
    ALL, Chart, ChartError, HEIGHT, Key, TEXT_PX, WIDTH, endpoint_names, font, frame,
    labelled_plot, runs, series_style, svg,
};

/// Height on the nines scale of quantile `q` (`-log10(1 - q)`): 0 at the
/// minimum, 1 at p90, 2 at p99, 3 at p99.9.
pub fn nines(q: f64) -> f64 {
    -(1.0 - q).log10()
}

/// The points of a distribution the responses can support: quantile 1
/// (the maximum, infinitely high on this scale) and quantiles beyond the
/// last response (`q > 1 - 1/count`) are dropped, as are non-positive
/// latencies (the axis is logarithmic).
pub fn drawable(cdf: &[CdfPoint], count: u64) -> Vec<(f64, f64)> {
    if count == 0 {
        return Vec::new();
    }
    let last = 1.0 - 1.0 / count as f64;
    cdf.iter()
        .filter(|p| p.q < 1.0 && p.q <= last + 1e-12 && p.ms > 0.0 && p.ms.is_finite())
        .map(|p| (p.ms, nines(p.q)))
        .collect()
}

/// A latency for the log axis: `0.5`, `2`, `50`, `1k`.
fn ms_label(v: f64) -> String {
    if v >= 1000.0 {
        let s = v / 1000.0;
        if s.fract() == 0.0 {
            format!("{s:.0}k")
        } else {
            format!("{s}k")
        }
    } else if v >= 1.0 {
        let s = format!("{v:.1}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The largest 1, 2 or 5 x 10^k at or below `v` (> 0).
fn one_two_five_below(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [5.0, 2.0, 1.0]
        .iter()
        .map(|m| m * p)
        .find(|x| *x <= v * 1.000_001)
        .unwrap_or(p)
}

/// The smallest 1, 2 or 5 x 10^k at or above `v` (> 0).
fn one_two_five_above(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|x| *x >= v * 0.999_999)
        .unwrap_or(10.0 * p)
}

/// Tick values for a log axis from `lo` to `hi`: 1-2-5 per decade, finer
/// under one decade, only powers of ten over many.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = (hi / lo).log10();
    let steps: &[f64] = if decades > 5.0 {
        &[1.0]
    } else if decades > 1.5 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    };
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    let mut out = Vec::new();
    for e in first..=last {
        for m in steps {
            let v = m * 10f64.powi(e);
            if v >= lo * 0.999 && v <= hi * 1.001 {
                out.push(v);
            }
        }
    }
    out
}

/// The percentile names of the nines scale's ticks.
fn percentile_label(y: f64) -> String {
    let names = [
        (0.0, "min"),
        (nines(0.5), "p50"),
        (1.0, "p90"),
        (2.0, "p99"),
        (3.0, "p99.9"),
        (4.0, "p99.99"),
        (5.0, "p99.999"),
    ];
    names
        .iter()
        .find(|(v, _)| (v - y).abs() < 1e-6)
        .map_or(String::new(), |(_, n)| (*n).to_string())
}

/// A curve: legend label, line style, points (ms, nines).
type Curve = (String, (RGBColor, bool), Vec<(f64, f64)>);

/// One chart: every endpoint and all together (none when no endpoint).
pub fn latency_cdf(r: &Results) -> Result<Vec<Chart>, ChartError> {
    if r.endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let names = endpoint_names(r);
    let several = r.endpoints.len() > 1;
    // (label, style, points); the overall line last so it is on top.
    let mut lines: Vec<Curve> = Vec::new();
    let mut empty: Vec<&str> = Vec::new();
    for (i, (e, name)) in r.endpoints.iter().zip(&names).enumerate() {
        let pts = drawable(&e.latency_cdf, e.latency.count);
        if pts.is_empty() {
            empty.push(name);
        } else if several {
            lines.push((name.clone(), series_style(i), pts));
        }
    }
    let overall = drawable(&r.overall.latency_cdf, r.overall.latency.count);
    if !overall.is_empty() {
        let label = if several {
            "all endpoints".to_string()
        } else {
            names[0].clone()
        };
        lines.push((label, (ALL, false), overall));
    }
    let all_pts = || lines.iter().flat_map(|l| l.2.iter());
    let lo_ms = all_pts().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi_ms = all_pts().map(|p| p.0).fold(0.0, f64::max);
    let (lo, hi) = if lo_ms.is_finite() && hi_ms > 0.0 {
        (one_two_five_below(lo_ms), one_two_five_above(hi_ms))
    } else {
        (1.0, 1000.0)
    };
    let top = all_pts()
        .map(|p| p.1)
        .fold(0.0, f64::max)
        .ceil()
        .clamp(2.0, 5.0);
    let mut y_ticks = vec![0.0, nines(0.5)];
    y_ticks.extend((1..=top as i32).map(f64::from));

    let mut keys: Vec<Key> = lines
        .iter()
        .map(|(label, style, _)| Key::line(label.clone(), *style))
        .collect();
    if !empty.is_empty() {
        keys.push(Key::note(format!("no ok responses: {}", empty.join(", "))));
    }
    let title = "Latency distribution — ok responses, measured period".to_string();
    let doc = svg((WIDTH, HEIGHT), |root| {
        let plot = frame(root, &title, &keys)?;
        let mut chart = labelled_plot(&plot, 28).build_cartesian_2d(
            FixedTicks::<LogCoord<f64>>::new((lo..hi).log_scale(), log_ticks(lo, hi)),
            FixedTicks::<RangedCoordf64>::new(0.0..top + 0.08, y_ticks.clone()),
        )?;
        chart
            .configure_mesh()
            .x_desc("latency (ms, log scale)")
            .y_desc("percentile (nines scale)")
            .x_label_formatter(&|v| ms_label(*v))
            .y_label_formatter(&|v| percentile_label(*v))
            .label_style(font(TEXT_PX))
            .axis_desc_style(font(TEXT_PX))
            .bold_line_style(BLACK.mix(0.12))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (_, (c, dashed), pts) in &lines {
            for run in runs(pts.iter().map(|p| Some(*p))) {
                if run.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(run[0], 3, c.filled())))?;
                } else if *dashed {
                    chart.draw_series(DashedLineSeries::new(run, 7, 4, c.stroke_width(2)))?;
                } else {
                    chart.draw_series(LineSeries::new(run, c.stroke_width(2)))?;
                }
            }
        }
        if lines.is_empty() {
            let (x, y) = ((lo * hi).sqrt(), top / 2.0);
            chart.draw_series(std::iter::once(Text::new(
                "no ok responses in the measured period",
                (x, y),
                TextStyle::from(font(TEXT_PX)).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                )),
            )))?;
        }
        Ok(())
    })?;
    Ok(vec![Chart {
        file: "latency-cdf.svg".into(),
        title,
        what_to_look_at: "Read across at p99 (or your SLO's percentile) to the latency each endpoint reaches; the percentile scale gives p90, p99 and p99.9 equal room, so a long tail is a curve bending right near the top. A curve far right of the others is the endpoint that sets the overall tail.".into(),
        svg: doc,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_scale_and_supported_points() {
        assert!((nines(0.99) - 2.0).abs() < 1e-9);
        assert_eq!(nines(0.0), 0.0);
        let cdf = [
            CdfPoint { q: 0.0, ms: 1.0 },
            CdfPoint { q: 0.9, ms: 5.0 },
            CdfPoint { q: 0.999, ms: 9.0 },
            CdfPoint { q: 1.0, ms: 12.0 },
        ];
        // 100 responses support p99 but not p99.9; the maximum is dropped.
        assert_eq!(drawable(&cdf, 100).len(), 2);
        assert_eq!(drawable(&cdf, 10_000).len(), 3);
        assert!(drawable(&cdf, 0).is_empty());
    }

    #[test]
    fn log_ticks_are_one_two_five() {
        assert_eq!(
            log_ticks(1.0, 100.0),
            vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
        assert_eq!(
            log_ticks(200.0, 1000.0),
            vec![200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 1000.0]
        );
        assert_eq!(ms_label(0.5), "0.5");
        assert_eq!(one_two_five_below(1.4), 1.0);
        assert_eq!(one_two_five_below(0.03), 0.02);
        assert_eq!(one_two_five_above(300.0), 500.0);
        assert_eq!(one_two_five_above(600.0), 1000.0);
        assert_eq!(one_two_five_above(200.0), 200.0);
        assert_eq!(ms_label(2000.0), "2k");
    }
}
