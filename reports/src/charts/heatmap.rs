//! Shard heat maps: per sharded database, one row per shard and one
//! column per interval, coloured by the shard's utilisation on a fixed
//! 0–100% scale (pale = idle, dark red = saturated), with each shard's
//! share of the statements beside its row. A hot shard is a dark row and
//! a long bar; shards hot in turn (range sharding on time) are a dark
//! band moving from row to row.

use models::{DbResult, DbSeries, Results};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::axes::{FixedTicks, TimeAxis, percent, tick};
use crate::chart::{
    Chart, ChartError, Key, PALETTE, TEXT_PX, WARMUP, WIDTH, font, frame, labelled_plot, slug, svg,
    text_width,
};
use crate::fmt::secs;

/// The sequential scale (ColorBrewer YlOrRd, 9 classes): lightness falls
/// steadily from idle to saturated, so it reads in grey and with every
/// common kind of colour blindness.
const SCALE: [(u8, u8, u8); 9] = [
    (255, 255, 204),
    (255, 237, 160),
    (254, 217, 118),
    (254, 178, 76),
    (253, 141, 60),
    (252, 78, 42),
    (227, 26, 28),
    (189, 0, 38),
    (128, 0, 38),
];

/// The colour of utilisation `u` (a fraction, clamped to 0..1).
pub fn heat(u: f64) -> RGBColor {
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = u * (SCALE.len() - 1) as f64;
    let i = (x.floor() as usize).min(SCALE.len() - 2);
    let t = x - i as f64;
    let (a, b) = (SCALE[i], SCALE[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Most cells drawn per chart: longer runs are shown with several
/// intervals per column (their mean), which keeps the SVG small and the
/// columns wider than a pixel.
const MAX_CELLS: usize = 8000;
/// Most columns drawn per chart.
const MAX_COLUMNS: usize = 240;

/// The per-interval values averaged over `group` intervals per column.
fn columns(values: &[f64], group: usize) -> Vec<f64> {
    values
        .chunks(group.max(1))
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect()
}

/// Width of the per-shard share panel, px.
const SHARE_W: u32 = 190;
/// Height of the colour-bar strip, px.
const BAR_STRIP: u32 = 50;

/// One chart per database with more than one shard.
pub fn shard_heatmaps(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let mut out = Vec::new();
    for (i, series) in r.time_series.databases.iter().enumerate() {
        if series.shard_utilisation.len() < 2 || r.time_series.buckets == 0 {
            continue;
        }
        let db = r
            .databases
            .get(i)
            .filter(|d| d.name == series.name)
            .or_else(|| r.databases.iter().find(|d| d.name == series.name));
        out.push(one(r, series, db)?);
    }
    Ok(out)
}

fn one(r: &Results, series: &DbSeries, db: Option<&DbResult>) -> Result<Chart, ChartError> {
    let ts = &r.time_series;
    let n = series.shard_utilisation.len();
    let axis = TimeAxis::for_duration(r.scenario.duration_s);
    let x_max = r.scenario.duration_s / axis.scale;
    let max_cols = (MAX_CELLS / n).clamp(20, MAX_COLUMNS);
    let group = ts.buckets.div_ceil(max_cols).max(1);
    let column_s = ts.interval_s * group as f64;
    let width_of = column_s / axis.scale;
    let warmup_x = r.scenario.warmup_s / axis.scale;
    let title = match db {
        Some(d) => format!(
            "Shard utilisation — {}: hot-spot index {:.2} (per interval {:.2})",
            series.name, d.hot_spot_index, d.hot_spot_index_by_interval
        ),
        None => format!("Shard utilisation — {}", series.name),
    };
    // Shares of the statements over the measured period (the results'
    // per-shard figures), else from the per-interval rates.
    let shares: Vec<f64> = match db {
        Some(d) if d.shards.len() == n => d.shards.iter().map(|s| s.load_share).collect(),
        _ => {
            let per: Vec<f64> = series
                .shard_ops_rps
                .iter()
                .map(|s| s.iter().sum::<f64>())
                .collect();
            let total: f64 = per.iter().sum();
            per.iter()
                .map(|p| if total > 0.0 { p / total } else { 0.0 })
                .collect()
        }
    };
    let share_max = shares.iter().copied().fold(1.0 / n as f64, f64::max) * 1.5;
    // Row labels: every shard when they fit, else every k-th.
    let height = (300 + 22 * n as u32).clamp(440, 900);
    let step = n.div_ceil(((height - 170) / 16) as usize).max(1);
    let rows: Vec<f64> = (0..n).step_by(step).map(|i| i as f64).collect();
    let hottest = db.map(|d| d.hottest_shard);
    let mut keys = Vec::new();
    if warmup_x > 0.0 {
        keys.push(Key::warmup());
    }
    keys.push(Key::line(
        "even share of statements (1 / shards)",
        (BLACK, false),
    ));
    if hottest.is_some() && n <= 24 {
        keys.push(Key::note("◀ busiest shard"));
    }

    let doc =
        svg((WIDTH, height), |root| {
            let plot = frame(root, &title, &keys)?;
            let (strip, plot) = plot.split_vertically(BAR_STRIP);
            colour_bar(&strip)?;
            let pw = plot.dim_in_pixel().0;
            let (left, right) = plot.split_horizontally(pw - SHARE_W);
            let y_range = (n as f64 - 0.5)..-0.5;

            let mut map = labelled_plot(&left, 20).build_cartesian_2d(
                0.0..x_max,
                FixedTicks::<RangedCoordf64>::new(y_range.clone(), rows.clone()),
            )?;
            map.configure_mesh()
                .x_desc(axis.label())
                .y_desc("shard")
                .x_labels(12)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style(font(TEXT_PX))
                .axis_desc_style(font(TEXT_PX))
                .bold_line_style(WHITE.mix(0.0))
                .light_line_style(WHITE.mix(0.0))
                .draw()?;
            map.draw_series(series.shard_utilisation.iter().enumerate().flat_map(
                |(s, values)| {
                    columns(values, group)
                        .into_iter()
                        .enumerate()
                        .map(move |(b, u)| {
                            let x0 = b as f64 * width_of;
                            let x1 = ((b + 1) as f64 * width_of).min(x_max);
                            let y = s as f64;
                            Rectangle::new([(x0, y - 0.5), (x1, y + 0.5)], heat(u).filled())
                        })
                },
            ))?;
            if warmup_x > 0.0 {
                map.draw_series(DashedLineSeries::new(
                    [(warmup_x, -0.5), (warmup_x, n as f64 - 0.5)],
                    5,
                    4,
                    WARMUP.stroke_width(2),
                ))?;
            }

            let mut bars = ChartBuilder::on(&right)
                .margin_left(16)
                .margin_right(16)
                .margin_bottom(6)
                .x_label_area_size(44)
                .y_label_area_size(0)
                .build_cartesian_2d(
                    0.0..share_max,
                    FixedTicks::<RangedCoordf64>::new(y_range, rows.clone()),
                )?;
            bars.configure_mesh()
                .x_desc("share of statements")
                .x_labels(3)
                .x_label_formatter(&|v| percent(*v))
                .label_style(font(TEXT_PX))
                .axis_desc_style(font(TEXT_PX))
                .bold_line_style(BLACK.mix(0.12))
                .light_line_style(WHITE.mix(0.0))
                .draw()?;
            let bar_h = if n <= 24 { 0.36 } else { 0.5 };
            bars.draw_series(shares.iter().enumerate().map(|(i, s)| {
                let y = i as f64;
                Rectangle::new([(0.0, y - bar_h), (*s, y + bar_h)], PALETTE[0].filled())
            }))?;
            if n <= 24 {
                let label =
                    TextStyle::from(font(TEXT_PX - 1.0)).pos(Pos::new(HPos::Left, VPos::Center));
                bars.draw_series(shares.iter().enumerate().map(|(i, s)| {
                    let mark = if Some(i) == hottest { " ◀" } else { "" };
                    Text::new(
                        format!(" {:.1}%{mark}", s * 100.0),
                        (*s, i as f64),
                        label.clone(),
                    )
                }))?;
            }
            bars.draw_series(LineSeries::new(
                [(1.0 / n as f64, -0.5), (1.0 / n as f64, n as f64 - 0.5)],
                BLACK.stroke_width(2),
            ))?;
            Ok(())
        })?;
    let mut what = format!(
        "Each row is a shard, each column {}; darker = busier (fixed 0–100% scale). A shard that is dark all along, with a long share bar, is a hot shard; dark cells moving from row to row are shards hot in turn. Hot-spot index = busiest shard's statements / mean per shard (1 = even).",
        if group == 1 {
            format!("a {} interval", secs(column_s))
        } else {
            format!("the mean of {group} intervals ({})", secs(column_s))
        }
    );
    if let Some(d) = db
        && d.hot_spot_index_by_interval > d.hot_spot_index * 1.15
    {
        what.push_str(&format!(
            " Here the per-interval index ({:.2}) is well above the whole-run one ({:.2}): shards take turns being hot.",
            d.hot_spot_index_by_interval, d.hot_spot_index
        ));
    }
    Ok(Chart {
        file: format!("shards-{}.svg", slug(&series.name)),
        title,
        what_to_look_at: what,
        svg: doc,
    })
}

/// The colour scale's legend: a gradient from 0% to 100% with ticks.
fn colour_bar(area: &crate::chart::Area<'_>) -> Result<(), ChartError> {
    let (w, _) = area.dim_in_pixel();
    let label = "shard utilisation (busy connections / connections):";
    let bar_w = 320;
    // The label's width is an estimate: anchor it at its right end, next
    // to the bar, so an error in the estimate opens no gap.
    let label_w = text_width(label, TEXT_PX) as i32;
    let total = label_w + 12 + bar_w;
    let bx = ((w as i32 - total) / 2).max(12) + label_w + 12;
    let top = 6;
    let right = TextStyle::from(font(TEXT_PX)).pos(Pos::new(HPos::Right, VPos::Center));
    area.draw(&Text::new(label, (bx - 10, top + 8), right))?;
    // 64 steps of 5 px: smooth to the eye, small in the file.
    for k in 0..64 {
        let c = heat((f64::from(k) + 0.5) / 64.0);
        area.draw(&Rectangle::new(
            [(bx + k * 5, top), (bx + k * 5 + 5, top + 16)],
            c.filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(bx, top), (bx + bar_w, top + 16)],
        BLACK.mix(0.4).stroke_width(1),
    ))?;
    let centre = TextStyle::from(font(TEXT_PX)).pos(Pos::new(HPos::Center, VPos::Top));
    for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let x = bx + (q * f64::from(bar_w)) as i32;
        area.draw(&PathElement::new(
            vec![(x, top + 16), (x, top + 21)],
            BLACK.mix(0.6),
        ))?;
        area.draw(&Text::new(percent(q), (x, top + 23), centre.clone()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_average_groups() {
        assert_eq!(columns(&[1.0, 3.0, 5.0], 2), vec![2.0, 5.0]);
        assert_eq!(columns(&[1.0, 3.0], 1), vec![1.0, 3.0]);
    }

    #[test]
    fn heat_runs_from_pale_to_dark() {
        assert_eq!(heat(0.0), RGBColor(255, 255, 204));
        assert_eq!(heat(1.0), RGBColor(128, 0, 38));
        assert_eq!(heat(7.0), heat(1.0));
        assert_eq!(heat(f64::NAN), heat(0.0));
        let lum =
            |c: RGBColor| 0.3 * f64::from(c.0) + 0.59 * f64::from(c.1) + 0.11 * f64::from(c.2);
        let mut last = f64::MAX;
        for k in 0..=20 {
            let l = lum(heat(f64::from(k) / 20.0));
            assert!(l < last, "lightness must fall");
            last = l;
        }
    }
}
