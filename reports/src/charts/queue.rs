//! Queue lag over time: messages published and not yet processed, one
//! line per queue, so consumers falling behind (and catching up) are seen.

use models::results::Results;

use crate::chart::{
    Chart, ChartError, HEIGHT, Key, TimeAxis, WIDTH, draw_line, draw_note, draw_warmup, frame,
    max_of, plot_builder, series_style, svg, tick, time_mesh,
};

/// One chart with every queue (none when the run has no queue).
pub fn queue_lag(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let ts = &r.time_series;
    if ts.queues.is_empty() || ts.buckets == 0 {
        return Ok(Vec::new());
    }
    let axis = TimeAxis::for_duration(r.scenario.duration_s);
    let x_max = r.scenario.duration_s / axis.scale;
    let mid = |i: usize| axis.bucket_mid(i, ts.interval_s);
    let warmup_x = r.scenario.warmup_s / axis.scale;
    let peak = max_of(ts.queues.iter().flat_map(|q| q.lag.iter().copied()), 0.0);
    let y_max = if peak > 0.0 { peak * 1.1 } else { 1.0 };
    let mut keys: Vec<Key> = ts
        .queues
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let label = match r.queues.iter().find(|x| x.name == q.name) {
                Some(x) => format!(
                    "{} (instant peak {}, {} at the end)",
                    q.name,
                    tick(x.lag_max),
                    x.lag_at_end
                ),
                None => q.name.clone(),
            };
            Key::line(label, series_style(i))
        })
        .collect();
    if warmup_x > 0.0 {
        keys.push(Key::warmup());
    }
    let title = if ts.queues.len() == 1 {
        format!("Queue lag over time — {}", ts.queues[0].name)
    } else {
        "Queue lag over time".to_string()
    };
    let doc = svg((WIDTH, HEIGHT), |root| {
        let plot = frame(root, &title, &keys)?;
        let mut chart = plot_builder(&plot, 28)
            .margin_bottom(6)
            .x_label_area_size(44)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        time_mesh(
            &mut chart,
            Some(&axis.label()),
            "lag (messages, mean per interval)",
            &|v| tick(*v),
        )?;
        for (i, q) in ts.queues.iter().enumerate() {
            draw_line(
                &mut chart,
                q.lag.iter().enumerate().map(|(b, v)| Some((mid(b), *v))),
                series_style(i),
            )?;
        }
        draw_warmup(&mut chart, warmup_x, (0.0, y_max))?;
        if peak == 0.0 {
            draw_note(&mut chart, "no lag in this run")?;
        }
        Ok(())
    })?;
    Ok(vec![Chart {
        file: "queue-lag.svg".into(),
        title,
        what_to_look_at: "Lag that returns to near zero after a burst means the consumers keep up; lag that keeps climbing means they cannot, and end-to-end latency grows with it.".into(),
        svg: doc,
    }])
}
