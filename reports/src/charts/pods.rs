//! Pods over time: for every service whose pods come and go (an
//! autoscaler, crashes), the ready pods (solid) and the pods paid for
//! (dashed, same colour) per interval. The gap between them is capacity
//! bought and not yet serving: pods starting up, crashed or restarting.

use models::Results;

use crate::axes::{TimeAxis, tick, time_mesh};
use crate::chart::{
    Chart, ChartError, Key, WIDTH, draw_line, draw_warmup, frame, labelled_plot, max_of,
    series_style, svg,
};

/// Height, px.
const HEIGHT: u32 = 420;

/// One chart, or none when every service keeps its pods.
pub fn pods_over_time(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let ts = &r.time_series;
    let dynamic: Vec<_> = ts.services.iter().filter(|s| !s.ready.is_empty()).collect();
    if ts.buckets == 0 || dynamic.is_empty() {
        return Ok(Vec::new());
    }
    let axis = TimeAxis::for_duration(r.scenario.duration_s);
    let x_max = r.scenario.duration_s / axis.scale;
    let mid = |i: usize| axis.bucket_mid(i, ts.interval_s);
    let y_max = max_of(
        dynamic
            .iter()
            .flat_map(|s| s.ready.iter().chain(&s.billed).copied()),
        1.0,
    ) * 1.1;
    let mut keys = Vec::new();
    for (i, s) in dynamic.iter().enumerate() {
        let (c, _) = series_style(i);
        keys.push(Key::line(format!("{}: ready", s.name), (c, false)));
        keys.push(Key::line(format!("{}: paid for", s.name), (c, true)));
    }
    let warmup_x = r.scenario.warmup_s / axis.scale;
    if warmup_x > 0.0 {
        keys.push(Key::warmup());
    }
    let title = "Pods over time — ready and paid for".to_string();
    let doc = svg((WIDTH, HEIGHT), |root| {
        let plot = frame(root, &title, &keys)?;
        let mut chart = labelled_plot(&plot, 28).build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        time_mesh(&mut chart, Some(&axis.label()), "pods (mean)", &|v| {
            tick(*v)
        })?;
        for (i, s) in dynamic.iter().enumerate() {
            let (c, _) = series_style(i);
            for (values, dashed) in [(&s.billed, true), (&s.ready, false)] {
                draw_line(
                    &mut chart,
                    values.iter().enumerate().map(|(i, v)| Some((mid(i), *v))),
                    (c, dashed),
                )?;
            }
        }
        draw_warmup(&mut chart, warmup_x, (0.0, y_max))?;
        Ok(())
    })?;
    Ok(vec![Chart {
        file: "pods.svg".into(),
        title,
        what_to_look_at: "Solid lines are pods ready to serve, dashed lines the pods paid for. Where the dashed line runs above the solid one, capacity is bought but not serving yet: pods starting up after an autoscaler decision, or crashed and restarting. Steps up are scaling decisions (services[].scaling lists them); drops of the solid line alone are crashes.".into(),
        svg: doc,
    }])
}
