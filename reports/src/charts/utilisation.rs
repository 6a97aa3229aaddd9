//! Utilisation over time: every service's workers and the busiest shard
//! of every database on one 0–100% scale, so the first component to
//! saturate is seen; under it, when any service queues, the requests
//! waiting for a worker.
//!
//! Pods that come and go have their own chart (pods.rs), and queues their
//! lag chart, so neither is drawn here.

use models::Results;
use plotters::prelude::*;

use crate::axes::{TimeAxis, percent, tick, time_mesh};
use crate::chart::{
    Chart, ChartError, Key, WIDTH, draw_line, draw_warmup, frame, labelled_plot, max_of,
    plot_builder, series_style, svg,
};

/// Height with one panel, px.
const HEIGHT_ONE: u32 = 440;
/// Height with the queue panel, px.
const HEIGHT_TWO: u32 = 580;

/// A line of the chart: legend label, style, values per bucket.
struct Series {
    label: String,
    style: (RGBColor, bool),
    values: Vec<f64>,
}

/// Per bucket, the highest utilisation of any shard.
fn busiest(shards: &[Vec<f64>], buckets: usize) -> Vec<f64> {
    (0..buckets)
        .map(|b| {
            shards
                .iter()
                .filter_map(|s| s.get(b).copied())
                .fold(0.0, f64::max)
        })
        .collect()
}

/// One chart (none when the run has no services and no databases).
pub fn utilisation_over_time(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let ts = &r.time_series;
    if ts.buckets == 0 || (ts.services.is_empty() && ts.databases.is_empty()) {
        return Ok(Vec::new());
    }
    let axis = TimeAxis::for_duration(r.scenario.duration_s);
    let x_max = r.scenario.duration_s / axis.scale;
    let mid = |i: usize| axis.bucket_mid(i, ts.interval_s);

    let mut util: Vec<Series> = Vec::new();
    for (i, s) in ts.services.iter().enumerate() {
        util.push(Series {
            label: format!("service {}", s.name),
            style: series_style(i),
            values: s.utilisation.clone(),
        });
    }
    for (j, d) in ts.databases.iter().enumerate() {
        if d.shard_utilisation.is_empty() {
            continue;
        }
        let label = if d.shard_utilisation.len() > 1 {
            format!(
                "db {}, busiest of {} shards",
                d.name,
                d.shard_utilisation.len()
            )
        } else {
            format!("db {}", d.name)
        };
        let (c, _) = series_style(ts.services.len() + j);
        util.push(Series {
            label,
            style: (c, true),
            values: busiest(&d.shard_utilisation, ts.buckets),
        });
    }
    let queue_peak = max_of(
        ts.services
            .iter()
            .flat_map(|s| s.queue_length.iter().copied()),
        0.0,
    );
    let with_queue = queue_peak > 0.0;

    let mut keys: Vec<Key> = util.iter().map(|s| Key::line(&s.label, s.style)).collect();
    let warmup_x = r.scenario.warmup_s / axis.scale;
    if warmup_x > 0.0 {
        keys.push(Key::warmup());
    }
    let title = "Utilisation over time — services and busiest database shards".to_string();
    let height = if with_queue { HEIGHT_TWO } else { HEIGHT_ONE };
    let doc = svg((WIDTH, height), |root| {
        let plot = frame(root, &title, &keys)?;
        let h = plot.dim_in_pixel().1;
        let (upper, lower) = if with_queue {
            plot.split_vertically(h * 64 / 100)
        } else {
            plot.split_vertically(h)
        };
        let mut top = plot_builder(&upper, 28)
            .margin_bottom(if with_queue { 0 } else { 6 })
            .x_label_area_size(if with_queue { 8 } else { 44 })
            .build_cartesian_2d(0.0..x_max, 0.0..1.04)?;
        let label = axis.label();
        time_mesh(
            &mut top,
            (!with_queue).then_some(label.as_str()),
            "busy workers / connections",
            &|v| percent(*v),
        )?;
        for s in &util {
            draw_line(
                &mut top,
                s.values.iter().enumerate().map(|(i, v)| Some((mid(i), *v))),
                s.style,
            )?;
        }
        draw_warmup(&mut top, warmup_x, (0.0, 1.04))?;
        if with_queue {
            let q_max = queue_peak * 1.1;
            let mut bottom = labelled_plot(&lower, 28)
                .margin_top(10)
                .build_cartesian_2d(0.0..x_max, 0.0..q_max)?;
            time_mesh(&mut bottom, Some(&label), "requests waiting (mean)", &|v| {
                tick(*v)
            })?;
            for (s, line) in ts.services.iter().zip(&util) {
                draw_line(
                    &mut bottom,
                    s.queue_length
                        .iter()
                        .enumerate()
                        .map(|(i, v)| Some((mid(i), *v))),
                    line.style,
                )?;
            }
            draw_warmup(&mut bottom, warmup_x, (0.0, q_max))?;
        }
        Ok(())
    })?;
    let what = if with_queue {
        "Lines near 100% are saturated: the first to get there limits the system. The lower panel shows the requests queued for a worker (mean per interval, all pods) — a queue that keeps growing means arrivals exceed capacity."
    } else {
        "Lines near 100% are saturated: the first to get there limits the system. No service queued requests in this run."
    };
    Ok(vec![Chart {
        file: "utilisation.svg".into(),
        title,
        what_to_look_at: what.into(),
        svg: doc,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busiest_takes_the_maximum_per_bucket() {
        let shards = vec![vec![0.1, 0.9, 0.2], vec![0.5, 0.3]];
        assert_eq!(busiest(&shards, 3), vec![0.5, 0.9, 0.2]);
    }
}
