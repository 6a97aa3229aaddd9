//! Throughput over time: ok responses per second against the offered
//! load (upper panel), and timeouts, rejections, failures in flight and
//! rate-limit refusals per second (lower panel, on their own scale so a
//! trickle of errors under a flood of successes is still seen).

use models::EndpointSeries;
use models::Results;
use plotters::prelude::*;

use crate::axes::{TimeAxis, tick, time_mesh};
use crate::chart::{
    ALL, Chart, ChartError, ERROR, GREY, Key, PALETTE, WIDTH, draw_line, draw_note, draw_warmup,
    edge_to_edge, endpoint_names, frame, labelled_plot, max_of, offered_rps, plot_builder,
    series_style, sum_by_bucket, svg,
};

/// Requests failed in flight (502): reddish purple, next to the
/// vermillion of timeouts and rejections.
const FAILED: RGBColor = PALETTE[3];
/// Refused by a rate limiter (429): orange, dashed — refusals by design,
/// not failures.
const LIMITED: RGBColor = PALETTE[4];

/// Height of the two-panel chart, px.
const HEIGHT: u32 = 560;

/// One chart: all endpoints, with one ok line per endpoint when there are
/// several. None when the run has no time series.
pub fn throughput_over_time(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let ts = &r.time_series;
    if ts.buckets == 0 || ts.endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let axis = TimeAxis::for_duration(r.scenario.duration_s);
    let x_max = r.scenario.duration_s / axis.scale;
    let mid = |i: usize| axis.bucket_mid(i, ts.interval_s);
    let n = ts.buckets;
    let offered = offered_rps(r);
    // The totals are users' requests (with service calls, the endpoints
    // count the calls' requests too).
    let total = |f: fn(&EndpointSeries) -> &[f64], u: Option<&[f64]>| match u {
        Some(u) => sum_by_bucket(n, std::iter::once(u)),
        None => sum_by_bucket(n, ts.endpoints.iter().map(f)),
    };
    let users = ts.users.as_ref();
    let ok = total(|e| &e.ok_rps, users.map(|u| u.ok_rps.as_slice()));
    let timeouts = total(
        |e| &e.timeouts_rps,
        users.map(|u| u.timeouts_rps.as_slice()),
    );
    let rejected = total(
        |e| &e.rejected_rps,
        users.map(|u| u.rejected_rps.as_slice()),
    );
    // Failures in flight (502) and rate-limit refusals (429), when present.
    let aborted = total(|e| &e.aborted_rps, users.map(|u| u.aborted_rps.as_slice()));
    let limited = total(
        |e| &e.rate_limited_rps,
        users.map(|u| u.rate_limited_rps.as_slice()),
    );
    let has_aborted = aborted.iter().any(|v| *v > 0.0);
    let has_limited = limited.iter().any(|v| *v > 0.0);
    // Display names from the per-endpoint results, the series' own name
    // if the two lists ever disagree in length.
    let known = endpoint_names(r);
    let names: Vec<String> = ts
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| known.get(i).cloned().unwrap_or_else(|| e.name.clone()))
        .collect();
    let several = ts.endpoints.len() > 1;

    let mut keys = vec![Key::block("offered load", GREY.mix(0.35))];
    if several {
        keys.push(Key::line("ok, all endpoints", (ALL, false)));
        for (i, name) in names.iter().enumerate() {
            keys.push(Key::line(format!("ok, {name}"), series_style(i)));
        }
    } else {
        keys.push(Key::line("ok responses", (ALL, false)));
    }
    keys.push(Key::line("timeouts", (ERROR, false)));
    keys.push(Key::line("rejections (503)", (ERROR, true)));
    if has_aborted {
        keys.push(Key::line("failed in flight (502)", (FAILED, false)));
    }
    if has_limited {
        keys.push(Key::line("rate limited (429)", (LIMITED, true)));
    }
    let warmup_x = r.scenario.warmup_s / axis.scale;
    if warmup_x > 0.0 {
        keys.push(Key::warmup());
    }

    let y_max = max_of(offered.iter().chain(&ok).copied(), 1.0) * 1.05;
    let err_peak = max_of(
        timeouts
            .iter()
            .chain(&rejected)
            .chain(&aborted)
            .chain(&limited)
            .copied(),
        0.0,
    );
    let err_max = if err_peak > 0.0 { err_peak * 1.1 } else { 1.0 };
    let title = if several {
        "Throughput over time — all endpoints".to_string()
    } else {
        format!("Throughput over time — {}", names[0])
    };
    let doc = svg((WIDTH, HEIGHT), |root| {
        let plot = frame(root, &title, &keys)?;
        let h = plot.dim_in_pixel().1;
        let (upper, lower) = plot.split_vertically(h * 62 / 100);

        let mut top = plot_builder(&upper, 28)
            .x_label_area_size(8)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        time_mesh(&mut top, None, "requests per second", &|v| tick(*v))?;
        top.draw_series(AreaSeries::new(
            edge_to_edge(&offered, ts.interval_s, &axis, x_max),
            0.0,
            GREY.mix(0.35),
        ))?;
        if several {
            for (i, e) in ts.endpoints.iter().enumerate() {
                draw_line(
                    &mut top,
                    e.ok_rps.iter().enumerate().map(|(i, v)| Some((mid(i), *v))),
                    series_style(i),
                )?;
            }
        }
        draw_line(
            &mut top,
            ok.iter().enumerate().map(|(i, v)| Some((mid(i), *v))),
            (ALL, false),
        )?;
        draw_warmup(&mut top, warmup_x, (0.0, y_max))?;

        let mut bottom = labelled_plot(&lower, 28)
            .margin_top(10)
            .build_cartesian_2d(0.0..x_max, 0.0..err_max)?;
        // With no errors the scale is arbitrary: label only its zero.
        let err_ticks = |v: &f64| {
            if err_peak > 0.0 || *v == 0.0 {
                tick(*v)
            } else {
                String::new()
            }
        };
        time_mesh(
            &mut bottom,
            Some(&axis.label()),
            "errors per second",
            &err_ticks,
        )?;
        if err_peak > 0.0 {
            draw_line(
                &mut bottom,
                rejected.iter().enumerate().map(|(i, v)| Some((mid(i), *v))),
                (ERROR, true),
            )?;
            draw_line(
                &mut bottom,
                timeouts.iter().enumerate().map(|(i, v)| Some((mid(i), *v))),
                (ERROR, false),
            )?;
            if has_aborted {
                draw_line(
                    &mut bottom,
                    aborted.iter().enumerate().map(|(i, v)| Some((mid(i), *v))),
                    (FAILED, false),
                )?;
            }
            if has_limited {
                draw_line(
                    &mut bottom,
                    limited.iter().enumerate().map(|(i, v)| Some((mid(i), *v))),
                    (LIMITED, true),
                )?;
            }
        } else {
            draw_note(&mut bottom, "no errors or refusals in this run")?;
        }
        draw_warmup(&mut bottom, warmup_x, (0.0, err_max))?;
        Ok(())
    })?;
    Ok(vec![Chart {
        file: "throughput.svg".into(),
        title,
        what_to_look_at: "Where the black ok line falls below the grey offered load, the system is not keeping up; the lower panel shows what happens to the rest on its own scale: timeouts and rejections (vermillion), requests failed in flight by a crash (purple) and refusals by a rate limiter (orange, dashed), when the run has them.".into(),
        svg: doc,
    }])
}
