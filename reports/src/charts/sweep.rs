//! Sweep charts: p99 against each varied parameter (the mean over the
//! replications with its 95% confidence interval), and, when the variants
//! spread a database over more than one shard, a variant x shard table of
//! the load each shard takes, so a layout with a hot shard stands out.

use models::{Estimate, SweepResult, VariantSummary};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use serde_json::Value;

use crate::axes::{XAxis, YAxis, mesh};
use crate::chart::{
    Chart, ChartError, GREY, INK, Key, Names, PALETTE, TEXT_PX, WIDTH, error_bars, fit, frame,
    height_for, labelled_plot, line, max_of, series_style, slug, svg, text_at, text_width,
};

/// Most lines on one p99 chart (five colours, solid then dashed); further
/// combinations are left out and the chart says so.
pub const MAX_SERIES: usize = 8;

/// Most rows of a shard table; further variants are left out and the chart
/// says so.
pub const MAX_ROWS: usize = 40;

/// The p99 charts (one per field that takes more than one value), then
/// the shard tables (one per database that has more than one shard in
/// some variant).
pub fn sweep_charts(s: &SweepResult) -> Result<Vec<Chart>, ChartError> {
    let mut out = Vec::new();
    for (k, d) in s.identity.dims.iter().enumerate() {
        if d.values.len() > 1 {
            out.push(p99_by(s, k)?);
        }
    }
    for db in sharded_databases(&s.variants) {
        out.push(shard_table(s, &db)?);
    }
    Ok(out)
}

/// Share of failed requests above which a variant's p99 is drawn hollow:
/// its latency describes the few requests that succeeded.
pub const ERROR_FLAG: f64 = 0.01;

/// One line of a p99 chart: its legend label and (x, estimate, mostly
/// failing) points.
struct Series {
    label: String,
    points: Vec<(f64, Estimate, bool)>,
}

/// Where `v` is among `values`.
fn position(values: &[Value], v: Option<&Value>) -> Option<usize> {
    let v = v?;
    values.iter().position(|x| x == v)
}

/// p99 against dimension `k`: one line per combination of the other
/// dimensions' values.
fn p99_by(s: &SweepResult, k: usize) -> Result<Chart, ChartError> {
    let dims = &s.identity.dims;
    let dim = &dims[k];
    let axis = XAxis::of(&dim.values);
    let reps = s.identity.replications;
    let names = Names::of(dims.iter().map(|d| d.path.as_str()));
    // The other fields that change (one with a single value tells no
    // lines apart).
    let others: Vec<&str> = dims
        .iter()
        .filter(|d| d.path != dim.path && d.values.len() > 1)
        .map(|d| d.path.as_str())
        .collect();

    // Group variants by the other fields' values, in grid order.
    let mut groups: Vec<(String, Vec<&VariantSummary>)> = Vec::new();
    for v in &s.variants {
        let key = v
            .params
            .iter()
            .filter(|(p, _)| others.contains(&p.as_str()));
        let others = names.label(key);
        match groups.iter_mut().find(|(o, _)| *o == others) {
            Some((_, vs)) => vs.push(v),
            None => groups.push((others, vec![v])),
        }
    }
    let combinations = groups.len();
    let at = |v: &VariantSummary, metric: &str| -> Option<(f64, Estimate, bool)> {
        let i = position(&dim.values, v.params.get(&dim.path))?;
        let failing = v
            .metrics
            .get("error_rate")
            .is_some_and(|e| e.mean > ERROR_FLAG);
        Some((axis.pos[i], v.metrics.get(metric)?.clone(), failing))
    };
    let mut series: Vec<Series> = groups
        .into_iter()
        .take(MAX_SERIES)
        .map(|(others, vs)| {
            let mut points: Vec<(f64, Estimate, bool)> =
                vs.iter().filter_map(|v| at(v, "p99_ms")).collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let label = if others.is_empty() {
                match reps {
                    1 => "p99 (1 replication: no interval)".to_string(),
                    n => format!("p99: mean of {n} replications, bars = 95% CI"),
                }
            } else {
                others
            };
            Series { label, points }
        })
        .collect();
    // Spread the lines a little sideways so their bars do not hide each
    // other.
    let m = series.len();
    if m > 1 {
        let step = axis.min_gap() * 0.2 / m as f64;
        for (j, s) in series.iter_mut().enumerate() {
            let dx = (j as f64 - (m as f64 - 1.0) / 2.0) * step;
            for p in &mut s.points {
                p.0 += dx;
            }
        }
    }
    // With a single line, the median gives context: does the whole
    // distribution move, or only its tail?
    let mut p50: Vec<(f64, f64)> = if others.is_empty() {
        s.variants
            .iter()
            .filter_map(|v| at(v, "p50_ms"))
            .map(|(x, e, _)| (x, e.mean))
            .collect()
    } else {
        Vec::new()
    };
    p50.sort_by(|a, b| a.0.total_cmp(&b.0));

    let y = YAxis::for_points(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|(_, e, _)| (e.low, e.mean, e.high)))
            .chain(p50.iter().map(|(_, v)| (*v, *v, *v))),
    );
    let others: Vec<String> = others.iter().map(|p| names.name(p)).collect();
    let title = if others.is_empty() {
        format!("p99 latency vs {}", dim.path)
    } else {
        format!(
            "p99 latency vs {} — one line per {}",
            names.name(&dim.path),
            others.join(" × ")
        )
    };
    let mut keys: Vec<Key> = series
        .iter()
        .enumerate()
        .map(|(j, s)| Key::line(s.label.as_str(), series_style(j)))
        .collect();
    if !p50.is_empty() {
        keys.push(Key::line("p50 (mean)", (GREY, false)));
    }
    let failing = series.iter().flat_map(|s| &s.points).any(|p| p.2);
    if failing {
        keys.push(Key::note(format!(
            "(hollow: over {}% of requests failed)",
            ERROR_FLAG * 100.0
        )));
    }
    if combinations > MAX_SERIES {
        keys.push(Key::note(format!(
            "(first {MAX_SERIES} of {combinations} combinations)"
        )));
    }
    if reps >= 2 && m > 1 {
        keys.push(Key::note(format!(
            "(mean of {reps} replications, bars = 95% CI)"
        )));
    }
    let shown = if combinations > MAX_SERIES {
        format!(
            " Only the first {MAX_SERIES} of {combinations} combinations (in grid order) are drawn."
        )
    } else {
        String::new()
    };
    let bars = if reps >= 2 {
        format!(
            "Points are the mean p99 of {reps} replications; bars are the 95% confidence interval of that mean: where the bars of two points overlap, the sweep cannot tell them apart."
        )
    } else {
        "Each point is a single replication, so there is no confidence interval: run the sweep with -r 3 or more before trusting small differences.".to_string()
    };
    let log = if y.log {
        " The latency axis is logarithmic: the values span more than a factor of ten."
    } else {
        ""
    };
    let failing = if failing {
        format!(
            " A hollow point is a variant where more than {}% of requests failed (timeouts, rejections): its p99 describes only the requests that succeeded.",
            ERROR_FLAG * 100.0
        )
    } else {
        String::new()
    };
    let look = format!(
        "Where p99 stops improving as {} changes: past that point, more of it buys nothing. {bars}{log}{failing}{shown}",
        names.name(&dim.path)
    );
    let y_desc = y.desc(if p50.is_empty() {
        "p99 latency (ms)"
    } else {
        "latency (ms)"
    });
    let doc = svg((WIDTH, height_for(&keys)), |root| {
        let plot = frame(root, &title, &keys)?;
        let mut chart = labelled_plot(&plot, 24).build_cartesian_2d(axis.clone(), y.clone())?;
        mesh(&mut chart, &axis, &dim.path, &y_desc, None)?;
        if !p50.is_empty() {
            line(&mut chart, p50.clone(), (GREY, false))?;
        }
        for (j, s) in series.iter().enumerate() {
            let style = series_style(j);
            let c = style.0;
            line(
                &mut chart,
                s.points.iter().map(|(x, e, _)| (*x, e.mean)).collect(),
                style,
            )?;
            let bars: Vec<(f64, f64, f64)> = s
                .points
                .iter()
                .filter(|(_, e, _)| e.ci95.is_some())
                .map(|(x, e, _)| (*x, y.clamp(e.low), y.clamp(e.high)))
                .collect();
            error_bars(&mut chart, &bars, c)?;
            chart.draw_series(s.points.iter().map(|(x, e, failing)| {
                let at = (*x, e.mean);
                let fill = if *failing { WHITE.filled() } else { c.filled() };
                EmptyElement::at(at)
                    + Circle::new((0, 0), 5, fill)
                    + Circle::new((0, 0), 5, c.stroke_width(2))
            }))?;
        }
        Ok(())
    })?;
    Ok(Chart {
        file: format!("sweep-p99-{}.svg", slug(&dim.path)),
        title,
        what_to_look_at: look,
        svg: doc,
    })
}

/// Databases with more than one shard in some variant, in order of first
/// appearance.
fn sharded_databases(variants: &[VariantSummary]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in variants {
        for (db, share) in &v.shard_share {
            if share.len() > 1 && !out.contains(db) {
                out.push(db.clone());
            }
        }
    }
    out
}

/// Colour of a load `ratio` to the fair share (1/N): white at 1, blue when
/// colder, vermillion when hotter, saturated at 4x either way. Returns the
/// fill and whether text on it should be white.
fn heat(ratio: f64) -> (RGBColor, bool) {
    let t = if ratio > 0.0 {
        (ratio.log2() / 2.0).clamp(-1.0, 1.0)
    } else {
        -1.0
    };
    let to = if t >= 0.0 { PALETTE[1] } else { PALETTE[0] };
    let a = t.abs();
    let mix = |c: u8| (255.0 - (255.0 - c as f64) * a).round() as u8;
    (RGBColor(mix(to.0), mix(to.1), mix(to.2)), a > 0.6)
}

/// One row of a shard table.
struct Row {
    label: String,
    share: Vec<f64>,
    hot: f64,
    hot_interval: Option<f64>,
    moved: Option<f64>,
}

/// What a row of a shard table shows, as it is written.
fn shown(r: &Row) -> String {
    let mut key: Vec<String> = r
        .share
        .iter()
        .map(|x| format!("{:.1}", x * 100.0))
        .collect();
    key.push(format!("×{:.2}", r.hot));
    key.push(r.hot_interval.map_or(String::new(), |v| format!("×{v:.2}")));
    key.push(
        r.moved
            .map_or(String::new(), |m| format!("{:.1}%", m * 100.0)),
    );
    key.join(" ")
}

/// Rows that show the same figures as one, labelled with every variant
/// they stand for (`all N variants` when that is all of them): a layout
/// the varied fields do not move is drawn once.
fn merge_same(rows: Vec<Row>) -> Vec<Row> {
    let n = rows.len();
    let mut out: Vec<(String, Row)> = Vec::new();
    for r in rows {
        let key = shown(&r);
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, m)) => {
                m.label.push_str("; ");
                m.label.push_str(&r.label);
            }
            None => out.push((key, r)),
        }
    }
    if out.len() == 1 && n > 1 {
        out[0].1.label = format!("all {n} variants");
    }
    out.into_iter().map(|(_, r)| r).collect()
}

/// Variant x shard table of the load share of database `db`.
fn shard_table(s: &SweepResult, db: &str) -> Result<Chart, ChartError> {
    let names = Names::of(s.identity.dims.iter().map(|d| d.path.as_str()));
    // Rows are told apart by the fields that change.
    let varied: Vec<&str> = s
        .identity
        .dims
        .iter()
        .filter(|d| d.values.len() > 1)
        .map(|d| d.path.as_str())
        .collect();
    let any_moved = s.variants.iter().any(|v| v.keys_moved.contains_key(db));
    let rows: Vec<Row> = s
        .variants
        .iter()
        .filter_map(|v| {
            let share = v.shard_share.get(db)?.clone();
            let n = share.len() as f64;
            let computed = max_of(share.iter().copied(), 0.0) * n;
            let metric = |m: &str| v.metrics.get(&format!("db.{db}.{m}")).map(|e| e.mean);
            Some(Row {
                label: names.label(
                    v.params
                        .iter()
                        .filter(|(p, _)| varied.is_empty() || varied.contains(&p.as_str())),
                ),
                hot: metric("hot_spot_index").unwrap_or(computed),
                hot_interval: metric("hot_spot_interval"),
                // A variant with the base layout has no entry: none move.
                moved: v.keys_moved.get(db).copied().or(any_moved.then_some(0.0)),
                share,
            })
        })
        .collect();
    let rows = merge_same(rows);
    let total = rows.len();
    let rows: Vec<Row> = rows.into_iter().take(MAX_ROWS).collect();
    let shards = rows.iter().map(|r| r.share.len()).max().unwrap_or(1);
    let with_interval = rows.iter().any(|r| r.hot_interval.is_some());

    // Layout, in pixels.
    const ROW_H: i32 = 26;
    const TOP: i32 = 96;
    const COL_W: i32 = 100;
    let w = WIDTH as i32;
    let label_w = (rows
        .iter()
        .map(|r| text_width(&r.label, TEXT_PX) as i32)
        .max()
        .unwrap_or(60)
        + 16)
        .clamp(90, w * 2 / 5);
    let extra = COL_W * (1 + with_interval as i32 + any_moved as i32);
    let cell_w = ((w - 36 - label_w - extra) / shards as i32).clamp(4, 72);
    let x0 = 12 + label_w;
    let x_extra = x0 + cell_w * shards as i32 + 12;
    let cut_note = if total > rows.len() { 24 } else { 0 };
    let height = (TOP + ROW_H * rows.len() as i32 + 56 + cut_note).max(200) as u32;

    let title = format!("Load per shard of {db}, by variant");
    let cut = if total > rows.len() {
        format!(" Only the first {} of {total} rows are drawn.", rows.len())
    } else {
        String::new()
    };
    let look = format!(
        "Red cells are hot shards, taking more than their fair share (1/N of the load); blue ones are cold. Variants that show the same figures share a row. The hot-spot index is the busiest shard's load over the mean: 1.0 is perfectly even. The worst-interval index catches layouts that look even over the whole run but send each moment's traffic to one shard (time-ordered keys).{cut}"
    );
    let doc = svg((WIDTH, height), |root| {
        let (text, size) = fit(&title, 18.0, w as f64 - 24.0);
        text_at(root, &text, (w / 2, 20), size, HPos::Center, BLACK, false)?;
        let head_y = TOP - 22;
        text_at(
            root,
            "variant",
            (12, head_y),
            TEXT_PX,
            HPos::Left,
            INK,
            true,
        )?;
        text_at(
            root,
            "share of the requests to each shard (%)",
            (x0, head_y - 22),
            TEXT_PX,
            HPos::Left,
            INK,
            true,
        )?;
        let every = (28 / cell_w.max(1)) as usize + 1;
        for i in (0..shards).step_by(every) {
            let cx = x0 + cell_w * i as i32 + cell_w / 2;
            let name = if cell_w >= 30 {
                format!("s{i}")
            } else {
                i.to_string()
            };
            text_at(root, &name, (cx, head_y), 12.0, HPos::Center, INK, false)?;
        }
        let mut heads = vec![("hot spot", "whole run")];
        if with_interval {
            heads.push(("hot spot", "worst interval"));
        }
        if any_moved {
            heads.push(("rows moved", "from the base"));
        }
        for (k, (a, b)) in heads.iter().enumerate() {
            let cx = x_extra + COL_W * k as i32 + COL_W / 2;
            text_at(root, a, (cx, head_y - 16), TEXT_PX, HPos::Center, INK, true)?;
            text_at(root, b, (cx, head_y), 12.0, HPos::Center, INK, false)?;
        }
        for (r, row) in rows.iter().enumerate() {
            let y = TOP + ROW_H * r as i32 - 8;
            let mid = y + ROW_H / 2;
            let (text, px) = fit(&row.label, TEXT_PX, (label_w - 12) as f64);
            text_at(root, &text, (12, mid), px, HPos::Left, INK, false)?;
            let n = row.share.len() as f64;
            for (i, share) in row.share.iter().enumerate() {
                let x = x0 + cell_w * i as i32;
                let cell = [(x, y), (x + cell_w, y + ROW_H)];
                let (fill, white) = heat(share * n);
                root.draw(&Rectangle::new(cell, fill.filled()))?;
                if cell_w >= 12 {
                    root.draw(&Rectangle::new(cell, WHITE.stroke_width(1)))?;
                }
                let pct = share * 100.0;
                let text = if cell_w >= 52 {
                    format!("{pct:.1}")
                } else {
                    format!("{pct:.0}")
                };
                if text_width(&text, 12.0) as i32 + 4 <= cell_w {
                    let c = if white { WHITE } else { INK };
                    let at = (x + cell_w / 2, mid);
                    text_at(root, &text, at, 12.0, HPos::Center, c, false)?;
                }
            }
            let index_cell = |v: f64, k: i32| -> Result<(), ChartError> {
                let cx = x_extra + COL_W * k;
                let (fill, white) = heat(v);
                let cell = [(cx + 10, y + 2), (cx + COL_W - 10, y + ROW_H - 2)];
                root.draw(&Rectangle::new(cell, fill.filled()))?;
                let c = if white { WHITE } else { INK };
                let at = (cx + COL_W / 2, mid);
                text_at(
                    root,
                    &format!("×{v:.2}"),
                    at,
                    TEXT_PX,
                    HPos::Center,
                    c,
                    true,
                )
            };
            index_cell(row.hot, 0)?;
            if let Some(v) = row.hot_interval {
                index_cell(v, 1)?;
            }
            if let Some(m) = row.moved {
                let cx = x_extra + COL_W * (1 + with_interval as i32) + COL_W / 2;
                let text = format!("{:.1}%", m * 100.0);
                text_at(root, &text, (cx, mid), TEXT_PX, HPos::Center, INK, false)?;
            }
        }
        // The colour key, and what was left out.
        let ky = TOP + ROW_H * rows.len() as i32 + 12;
        if total > rows.len() {
            let text = format!("(first {} of {total} rows)", rows.len());
            text_at(root, &text, (12, ky + 46), 12.0, HPos::Left, INK, false)?;
        }
        let kw = 240;
        let steps = 48;
        for i in 0..steps {
            let t = i as f64 / (steps - 1) as f64 * 4.0 - 2.0;
            let (fill, _) = heat(2f64.powf(t));
            let cell = [
                (x0 + kw * i / steps, ky),
                (x0 + kw * (i + 1) / steps, ky + 12),
            ];
            root.draw(&Rectangle::new(cell, fill.filled()))?;
        }
        root.draw(&Rectangle::new(
            [(x0, ky), (x0 + kw, ky + 12)],
            GREY.stroke_width(1),
        ))?;
        for (i, name) in ["¼×", "½×", "fair share", "2×", "4×"].iter().enumerate() {
            let at = (x0 + kw * i as i32 / 4, ky + 24);
            text_at(root, name, at, 12.0, HPos::Center, INK, false)?;
        }
        text_at(
            root,
            "colour: a shard's load over the fair share 1/N",
            (x0 + kw + 24, ky + 6),
            12.0,
            HPos::Left,
            INK,
            false,
        )?;
        Ok(())
    })?;
    Ok(Chart {
        file: format!("sweep-shards-{}.svg", slug(db)),
        title,
        what_to_look_at: look,
        svg: doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        assert_eq!(heat(1.0).0, RGBColor(255, 255, 255));
        assert_eq!(heat(4.0).0, PALETTE[1]);
        assert_eq!(heat(0.25).0, PALETTE[0]);
    }
}
