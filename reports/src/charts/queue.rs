//! Queue lag over time: messages published and not yet processed, one
//! line per queue, so consumers falling behind (and catching up) are seen;
//! intervals in which a consumer group was stopped by a rebalance are
//! shaded, and the legend counts dead letters.

use models::Results;
use plotters::prelude::*;

use crate::axes::{TimeAxis, tick, time_mesh};
use crate::chart::{
    Chart, ChartError, GREY, HEIGHT, Key, WIDTH, draw_line, draw_note, draw_warmup, frame,
    labelled_plot, max_of, series_style, svg,
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
                Some(x) if x.dead_lettered > 0 => format!(
                    "{} (instant peak {}, {} at the end, {} dead-lettered)",
                    q.name,
                    tick(x.lag_max),
                    x.lag_at_end,
                    x.dead_lettered
                ),
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
    // Intervals in which some consumer group was stopped by a rebalance.
    let stopped: Vec<usize> = (0..ts.buckets)
        .filter(|&b| {
            ts.queues
                .iter()
                .any(|q| q.rebalancing.get(b).is_some_and(|f| *f > 0.0))
        })
        .collect();
    let shade = GREY.mix(0.3);
    if !stopped.is_empty() {
        keys.push(Key::block("a consumer group stopped by a rebalance", shade));
    }
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
        let mut chart = labelled_plot(&plot, 28).build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        time_mesh(
            &mut chart,
            Some(&axis.label()),
            "lag (messages, mean per interval)",
            &|v| tick(*v),
        )?;
        chart.draw_series(stopped.iter().map(|&b| {
            let x0 = b as f64 * ts.interval_s / axis.scale;
            let x1 = ((b + 1) as f64 * ts.interval_s / axis.scale).min(x_max);
            Rectangle::new([(x0, 0.0), (x1, y_max)], shade.filled())
        }))?;
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
        what_to_look_at: "Lag that returns to near zero after a burst means the consumers keep up; lag that keeps climbing means they cannot, and end-to-end latency grows with it. Grey bands, if any, are rebalances: every consumer of the group stopped, and the lag jumps.".into(),
        svg: doc,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A topic whose only consumer is cut off for 3 s with a 1 s session
    /// timeout: two rebalances, shaded and named in the legend.
    #[test]
    fn rebalances_are_shaded_and_dead_letters_counted() {
        let text = r#"{
          "name": "q", "duration": "10s", "time_series_interval": "1s",
          "workloads": [{ "name": "w", "target": "app", "rate": [{ "rps": 100 }], "mix": { "e": 1 } }],
          "services": [{ "name": "app", "replicas": 1, "concurrency": 100,
                         "endpoints": { "e": [{ "publish": { "queue": "t" } }] } }],
          "queues": [{ "name": "t", "partitions": 2, "consumers": 2, "work": [{ "compute": "1ms" }],
                       "session_timeout": "1s", "rebalance_pause": "1s", "poison_probability": 0.1 }],
          "faults": [{ "at": "2s", "for": "3s", "partition_consumers": { "queue": "t", "count": 1 } }]
        }"#;
        let (_, model) = models::load("q.json", text, &[]).expect("valid");
        let r = models::simulate(&model).expect("runs");
        assert_eq!(r.queues[0].rebalances, 2);
        let charts = queue_lag(&r).expect("drawn");
        assert!(
            charts[0]
                .svg
                .contains("a consumer group stopped by a rebalance")
        );
        assert!(charts[0].svg.contains("dead-lettered"));
        // Without rebalances, no such key.
        let calm = text.replace("\"for\": \"3s\"", "\"for\": \"500ms\"");
        let (_, model) = models::load("q.json", &calm, &[]).expect("valid");
        let r = models::simulate(&model).expect("runs");
        assert_eq!(r.queues[0].rebalances, 0);
        let charts = queue_lag(&r).expect("drawn");
        assert!(!charts[0].svg.contains("stopped by a rebalance"));
    }
}
