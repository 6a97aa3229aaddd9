//! Latency over time: p50, p99 and p99.9 of ok responses per interval,
//! with the offered request rate on a second axis, so the spike and the
//! latency response are seen together.

use models::results::Results;
use plotters::prelude::*;
use sim_core::stats::LatencyPoint;

/// A percentile line: its legend label and how to read it from a point.
type Line = (&'static str, fn(&LatencyPoint) -> f64);

use crate::chart::{
    Chart, ChartError, FONT, GREY, HEIGHT, TimeAxis, WIDTH, colour, max_of, slug, svg, tick,
};

/// Fewest responses in an interval for its percentiles to be drawn.
pub const MIN_POINTS: u64 = 20;

/// One chart for all endpoints together, then one per endpoint.
pub fn latency_over_time(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let ts = &r.time_series;
    let offered: Vec<f64> = (0..ts.buckets)
        .map(|b| {
            ts.workloads
                .iter()
                .map(|w| w.offered_rps.get(b).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let mut out = vec![one(
        r,
        "all endpoints",
        "latency-all.svg",
        &ts.overall_latency,
        &offered,
    )?];
    if r.endpoints.len() > 1 {
        for (e, s) in r.endpoints.iter().zip(&ts.endpoints) {
            let name = format!("{}.{}", e.service, e.name);
            out.push(one(
                r,
                &name,
                &format!("latency-{}.svg", slug(&name)),
                &s.latency,
                &offered,
            )?);
        }
    }
    Ok(out)
}

fn one(
    r: &Results,
    name: &str,
    file: &str,
    points: &[LatencyPoint],
    offered: &[f64],
) -> Result<Chart, ChartError> {
    let ts = &r.time_series;
    let axis = TimeAxis::for_duration(r.scenario.duration_s);
    let x_max = r.scenario.duration_s / axis.scale;
    let shown: Vec<(f64, &LatencyPoint)> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.count >= MIN_POINTS)
        .map(|(i, p)| (axis.bucket_mid(i, ts.interval_s), p))
        .collect();
    let y_max = max_of(shown.iter().map(|(_, p)| p.p999_ms), 1.0) * 1.08;
    let rate_max = max_of(offered.iter().copied(), 1.0) * 1.08;
    let title = format!("Latency over time — {name}");
    let doc = svg((WIDTH, HEIGHT), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .right_y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?
            .set_secondary_coord(0.0..x_max, 0.0..rate_max);
        chart
            .configure_mesh()
            .x_desc(axis.label())
            .y_desc("latency of ok responses (ms)")
            .y_label_formatter(&|v| tick(*v))
            .x_label_formatter(&|v| tick(*v))
            .label_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("offered load (requests/s)")
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, 13))
            .draw()?;
        chart
            .draw_secondary_series(AreaSeries::new(
                offered
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (axis.bucket_mid(i, ts.interval_s), *v)),
                0.0,
                GREY.mix(0.25),
            ))?
            .label("offered load (right axis)")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], GREY.mix(0.4).filled()));
        let lines: [Line; 3] = [
            ("p50", |p| p.p50_ms),
            ("p99", |p| p.p99_ms),
            ("p99.9", |p| p.p999_ms),
        ];
        for (k, (label, f)) in lines.into_iter().enumerate() {
            let c = colour(k);
            chart
                .draw_series(LineSeries::new(
                    shown.iter().map(|(x, p)| (*x, f(p))),
                    c.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 13))
            .draw()?;
        Ok(())
    })?;
    Ok(Chart {
        file: file.to_string(),
        title,
        what_to_look_at: "Where the p99 line leaves the p50 line as the grey offered load rises: that is where queues build. Intervals with fewer than 20 responses are not drawn.".into(),
        svg: doc,
    })
}
