//! Latency over time: p50, p99 and p99.9 of ok responses per interval,
//! with the offered request rate on a second axis, so the spike and the
//! latency response are seen together.

use models::Results;
use plotters::prelude::*;
use sim_core::stats::LatencyPoint;

/// A percentile line: its legend label and how to read it from a point.
type Line = (&'static str, fn(&LatencyPoint) -> f64);

use crate::axes::{TimeAxis, tick, time_mesh};
use crate::chart::{
    Chart, ChartError, GREY, HEIGHT, Key, TEXT_PX, WIDTH, draw_line, draw_note, draw_warmup,
    edge_to_edge, endpoint_names, font, frame, labelled_plot, max_of, offered_rps, series_style,
    slug, svg,
};

/// Fewest responses in an interval for its percentiles to be drawn.
pub const MIN_POINTS: u64 = 20;

/// One chart for all endpoints together, then one per endpoint.
pub fn latency_over_time(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let ts = &r.time_series;
    let offered = offered_rps(r);
    let mut out = vec![one(
        r,
        "all endpoints",
        "latency-all.svg",
        &ts.overall_latency,
        &offered,
    )?];
    if r.endpoints.len() > 1 {
        for (name, s) in endpoint_names(r).into_iter().zip(&ts.endpoints) {
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
    let lines: [Line; 3] = [
        ("p50", |p| p.p50_ms),
        ("p99", |p| p.p99_ms),
        ("p99.9", |p| p.p999_ms),
    ];
    // The results have no per-endpoint offered load: an endpoint's chart
    // shows the total, and says so.
    let offered_label = if name == "all endpoints" {
        "offered load (right axis)"
    } else {
        "offered load, all endpoints (right axis)"
    };
    let mut keys = vec![Key::block(offered_label, GREY.mix(0.35))];
    for (k, (label, _)) in lines.iter().enumerate() {
        keys.push(Key::line(*label, series_style(k)));
    }
    let warmup_x = r.scenario.warmup_s / axis.scale;
    if warmup_x > 0.0 {
        keys.push(Key::warmup());
    }
    if shown.is_empty() {
        keys.push(Key::note(format!(
            "(no interval has {MIN_POINTS} ok responses)"
        )));
    } else if shown.len() < points.len() {
        keys.push(Key::note(format!(
            "gaps: intervals with fewer than {MIN_POINTS} ok responses"
        )));
    }
    let doc = svg((WIDTH, HEIGHT), |root| {
        let plot = frame(root, &title, &keys)?;
        let mut chart = labelled_plot(&plot, 12)
            .right_y_label_area_size(72)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?
            .set_secondary_coord(0.0..x_max, 0.0..rate_max);
        time_mesh(
            &mut chart,
            Some(&axis.label()),
            "latency of ok responses (ms)",
            &|v| tick(*v),
        )?;
        chart
            .configure_secondary_axes()
            .y_desc("offered load (requests per second)")
            .y_label_formatter(&|v| tick(*v))
            .label_style(font(TEXT_PX))
            .axis_desc_style(font(TEXT_PX))
            .draw()?;
        chart.draw_secondary_series(AreaSeries::new(
            edge_to_edge(offered, ts.interval_s, &axis, x_max),
            0.0,
            GREY.mix(0.35),
        ))?;
        for (k, (_, f)) in lines.into_iter().enumerate() {
            // Intervals with too few responses are gaps, not straight
            // lines drawn across them.
            draw_line(
                &mut chart,
                points.iter().enumerate().map(|(i, p)| {
                    (p.count >= MIN_POINTS).then(|| (axis.bucket_mid(i, ts.interval_s), f(p)))
                }),
                series_style(k),
            )?;
        }
        draw_warmup(&mut chart, warmup_x, (0.0, y_max))?;
        if shown.is_empty() {
            draw_note(&mut chart, "no ok responses to show")?;
        }
        Ok(())
    })?;
    Ok(Chart {
        file: file.to_string(),
        title,
        what_to_look_at: "Where the p99 line leaves the p50 line as the grey offered load rises: that is where queues build. Intervals with fewer than 20 responses are not drawn.".into(),
        svg: doc,
    })
}
