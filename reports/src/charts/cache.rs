//! Cache hit ratio over time: one line per cache on a 0–100% scale, so a
//! cold start, a working set outgrowing the cache or a burst of write
//! invalidations is seen as a dip.

use models::Results;

use crate::axes::{TimeAxis, percent, time_mesh};
use crate::chart::{
    Chart, ChartError, HEIGHT, Key, WIDTH, draw_line, draw_warmup, frame, labelled_plot,
    series_style, svg,
};

/// One chart with every cache (none when the run has no cache).
pub fn cache_hit_ratio(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let ts = &r.time_series;
    if ts.caches.is_empty() || ts.buckets == 0 {
        return Ok(Vec::new());
    }
    let axis = TimeAxis::for_duration(r.scenario.duration_s);
    let x_max = r.scenario.duration_s / axis.scale;
    let mid = |i: usize| axis.bucket_mid(i, ts.interval_s);
    let warmup_x = r.scenario.warmup_s / axis.scale;
    let mut keys: Vec<Key> = ts
        .caches
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let overall = r.caches.iter().find(|x| x.name == c.name);
            let label = match overall {
                Some(x) => format!("{} ({:.1}% over the run)", c.name, x.hit_ratio * 100.0),
                None => c.name.clone(),
            };
            Key::line(label, series_style(i))
        })
        .collect();
    if warmup_x > 0.0 {
        keys.push(Key::warmup());
    }
    let title = if ts.caches.len() == 1 {
        format!("Cache hit ratio over time — {}", ts.caches[0].name)
    } else {
        "Cache hit ratio over time".to_string()
    };
    let doc = svg((WIDTH, HEIGHT), |root| {
        let plot = frame(root, &title, &keys)?;
        let mut chart = labelled_plot(&plot, 28).build_cartesian_2d(0.0..x_max, 0.0..1.04)?;
        time_mesh(&mut chart, Some(&axis.label()), "hits / lookups", &|v| {
            percent(*v)
        })?;
        for (i, c) in ts.caches.iter().enumerate() {
            draw_line(
                &mut chart,
                c.hit_ratio
                    .iter()
                    .enumerate()
                    .map(|(b, v)| Some((mid(b), *v))),
                series_style(i),
            )?;
        }
        draw_warmup(&mut chart, warmup_x, (0.0, 1.04))?;
        Ok(())
    })?;
    Ok(vec![Chart {
        file: "cache-hit-ratio.svg".into(),
        title,
        what_to_look_at: "Dips are misses the backing store has to absorb: the cold start (before the end of warm-up), a working set that outgrows the cache under load, or writes invalidating keys. An interval with no lookups shows as 0%.".into(),
        svg: doc,
    }])
}
