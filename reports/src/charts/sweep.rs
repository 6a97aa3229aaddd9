//! Sweep charts: p99 against each varied parameter (the mean over the
//! replications with its 95% confidence interval), and, when the variants
//! spread a database over more than one shard, a variant x shard table of
//! the load each shard takes, so a layout with a hot shard stands out.

use std::ops::Range;

use models::{Estimate, SweepResult, VariantSummary};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

use crate::chart::{
    Area, Chart, ChartError, GREY, HEIGHT, Key, PALETTE, TEXT_PX, WIDTH, fit, font, frame, max_of,
    plot_builder, series_style, slug, svg, text_width, tick,
};
use crate::fmt::{short_path, value_text};

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

/// A variant's parameters for people: `orders.shards=8, app.replicas=4`.
pub(crate) fn label<'a>(params: impl IntoIterator<Item = (&'a String, &'a Value)>) -> String {
    params
        .into_iter()
        .map(|(p, v)| format!("{}={}", short_path(p), value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The shortest names that tell the varied fields apart: the last
/// segment (`shards`), or [`short_path`] where two last segments clash.
pub(crate) struct Names(Vec<(String, String)>);

impl Names {
    /// Names for the fields `paths`.
    pub(crate) fn of<'a>(paths: impl IntoIterator<Item = &'a str> + Clone) -> Names {
        let last = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
        let all: Vec<String> = paths.clone().into_iter().map(last).collect();
        Names(
            paths
                .into_iter()
                .map(|p| {
                    let l = last(p);
                    let name = if all.iter().filter(|a| **a == l).count() > 1 {
                        short_path(p)
                    } else {
                        l
                    };
                    (p.to_string(), name)
                })
                .collect(),
        )
    }

    /// The name of field `path` (its [`short_path`] if unknown).
    pub(crate) fn name(&self, path: &str) -> String {
        self.0
            .iter()
            .find(|(p, _)| p == path)
            .map_or_else(|| short_path(path), |(_, n)| n.clone())
    }

    /// A variant's parameters: `strategy=hash, shard_key=user_id`.
    pub(crate) fn label<'a>(
        &self,
        params: impl IntoIterator<Item = (&'a String, &'a Value)>,
    ) -> String {
        params
            .into_iter()
            .map(|(p, v)| format!("{}={}", self.name(p), value_text(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How the values of one varied field are placed on the x axis: at their
/// own value when every one is a number, else one slot per value. Ticks
/// sit at the values themselves when they are few, so every tick is a
/// value that was run.
#[derive(Debug, Clone)]
pub(crate) struct XAxis {
    /// Axis position of each value, in the dimension's order.
    pub pos: Vec<f64>,
    /// Tick labels of a categorical axis (empty for a numeric one).
    pub names: Vec<String>,
    /// Whether ticks go at the values (else at round numbers).
    pub at_values: bool,
    lo: f64,
    hi: f64,
}

/// Most values of a numeric axis that each get a tick.
pub const MAX_VALUE_TICKS: usize = 12;

impl XAxis {
    /// The axis for `values`.
    pub(crate) fn of(values: &[Value]) -> XAxis {
        let nums: Option<Vec<f64>> = values.iter().map(Value::as_f64).collect();
        match nums {
            Some(pos) if !pos.is_empty() => {
                let lo = pos.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = pos.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let pad = if hi > lo {
                    (hi - lo) * 0.06
                } else {
                    lo.abs().max(1.0) * 0.1
                };
                XAxis {
                    at_values: pos.len() <= MAX_VALUE_TICKS,
                    pos,
                    names: Vec::new(),
                    lo: lo - pad,
                    hi: hi + pad,
                }
            }
            _ => XAxis::categories(values.iter().map(value_text).collect()),
        }
    }

    /// A plain numeric axis over `lo..hi` (padded), ticks at round numbers.
    pub(crate) fn span(lo: f64, hi: f64) -> XAxis {
        let mut a = XAxis::of(&[lo.into(), hi.into()]);
        a.at_values = false;
        a
    }

    /// One slot per name.
    pub(crate) fn categories(names: Vec<String>) -> XAxis {
        XAxis {
            pos: (0..names.len()).map(|i| i as f64).collect(),
            lo: -0.5,
            hi: names.len() as f64 - 0.5,
            names,
            at_values: true,
        }
    }

    /// Whether the axis is categorical.
    pub(crate) fn categorical(&self) -> bool {
        !self.names.is_empty()
    }

    /// The tick label at axis position `v`.
    pub(crate) fn tick(&self, v: f64) -> String {
        if self.categorical() {
            let i = v.round();
            if i >= 0.0 && (i as usize) < self.names.len() {
                return self.names[i as usize].clone();
            }
            return String::new();
        }
        tick(v)
    }

    /// Smallest gap between two positions (1 when there are fewer than
    /// two).
    fn min_gap(&self) -> f64 {
        let mut p = self.pos.clone();
        p.sort_by(f64::total_cmp);
        let gap = p
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > 0.0)
            .fold(f64::INFINITY, f64::min);
        if gap.is_finite() { gap } else { 1.0 }
    }
}

impl Ranged for XAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo);
        limit.0 + ((limit.1 - limit.0) as f64 * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if self.at_values {
            let mut p = self.pos.clone();
            p.sort_by(f64::total_cmp);
            p.dedup();
            return p;
        }
        let lin: RangedCoordf64 = (self.lo..self.hi).into();
        lin.key_points(hint)
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// The chart type of every x-y chart here.
pub(crate) type XyChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<XAxis, YAxis>>;

/// A latency axis: linear from 0, or logarithmic when the values span
/// more than [`LOG_SPAN`]x, so a variant that times out does not flatten
/// the differences between the others.
#[derive(Debug, Clone)]
pub(crate) struct YAxis {
    lo: f64,
    hi: f64,
    log: bool,
}

/// Ratio of the largest to the smallest value above which latency axes
/// are logarithmic.
pub const LOG_SPAN: f64 = 12.0;

impl YAxis {
    /// The axis for points `(low, mean, high)`.
    pub(crate) fn for_points(points: impl IntoIterator<Item = (f64, f64, f64)>) -> YAxis {
        let points: Vec<(f64, f64, f64)> = points.into_iter().collect();
        let hi = max_of(points.iter().map(|(_, m, h)| h.max(*m)), 0.0);
        let lo = points
            .iter()
            .map(|(_, m, _)| *m)
            .filter(|m| *m > 0.0 && m.is_finite())
            .fold(f64::INFINITY, f64::min);
        if lo.is_finite() && hi / lo > LOG_SPAN {
            YAxis {
                lo: 10f64.powf((lo * 0.8).log10().floor()),
                hi: hi * 1.4,
                log: true,
            }
        } else {
            YAxis {
                lo: 0.0,
                hi: hi.max(0.1) * 1.1,
                log: false,
            }
        }
    }

    /// The axis label for `what` (`p99 latency (ms)`).
    pub(crate) fn desc(&self, what: &str) -> String {
        if self.log {
            format!("{what}, log scale")
        } else {
            what.to_string()
        }
    }

    /// `v` clamped into the drawn range (for interval ends below a log
    /// axis).
    pub(crate) fn clamp(&self, v: f64) -> f64 {
        v.clamp(self.lo, self.hi)
    }

    /// Where `v` is along the axis, 0 at the bottom and 1 at the top.
    pub(crate) fn frac(&self, v: f64) -> f64 {
        if self.log {
            (self.clamp(v).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

impl Ranged for YAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = self.frac(*v);
        limit.0 + ((limit.1 - limit.0) as f64 * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if !self.log {
            let lin: RangedCoordf64 = (self.lo..self.hi).into();
            return lin.key_points(hint);
        }
        // 1, 2, 5 per decade; decades only when that is too many.
        let first = self.lo.log10().floor() as i32;
        let last = self.hi.log10().ceil() as i32;
        let ticks = |mults: &[f64]| -> Vec<f64> {
            (first..=last)
                .flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e)))
                .filter(|v| *v >= self.lo * 0.999 && *v <= self.hi)
                .collect()
        };
        let dense = ticks(&[1.0, 2.0, 5.0]);
        if dense.len() <= hint.max_num_points() {
            dense
        } else {
            ticks(&[1.0])
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Draws the axes and grid of an x-y chart in the report's style.
pub(crate) fn mesh(
    chart: &mut XyChart<'_, '_>,
    x: &XAxis,
    x_desc: &str,
    y_desc: &str,
    x_fmt: Option<&dyn Fn(&f64) -> String>,
) -> Result<(), ChartError> {
    let default = |v: &f64| x.tick(*v);
    let y_fmt = |v: &f64| tick(*v);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(12)
        .y_labels(8)
        .x_label_formatter(x_fmt.unwrap_or(&default))
        .y_label_formatter(&y_fmt)
        .label_style(font(TEXT_PX))
        .axis_desc_style(font(TEXT_PX))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    Ok(())
}

/// Draws a line through `points`, dashed or solid.
pub(crate) fn line(
    chart: &mut XyChart<'_, '_>,
    points: Vec<(f64, f64)>,
    (c, dashed): (RGBColor, bool),
) -> Result<(), ChartError> {
    if dashed {
        chart.draw_series(DashedLineSeries::new(points, 7, 4, c.stroke_width(2)))?;
    } else {
        chart.draw_series(LineSeries::new(points, c.stroke_width(2)))?;
    }
    Ok(())
}

/// Vertical error bars `(x, low, high)` with caps.
pub(crate) fn error_bars(
    chart: &mut XyChart<'_, '_>,
    bars: &[(f64, f64, f64)],
    c: RGBColor,
) -> Result<(), ChartError> {
    let style = c.stroke_width(1);
    chart.draw_series(
        bars.iter()
            .map(|(x, lo, hi)| PathElement::new(vec![(*x, *lo), (*x, *hi)], style)),
    )?;
    chart.draw_series(
        bars.iter()
            .flat_map(|(x, lo, hi)| [(*x, *lo), (*x, *hi)])
            .map(|p| EmptyElement::at(p) + PathElement::new(vec![(-5, 0), (5, 0)], style)),
    )?;
    Ok(())
}

/// Height of a chart whose legend (drawn by [`frame`]) has `keys`: the
/// default, plus a row's height for each legend row beyond two.
pub(crate) fn height_for(keys: &[Key]) -> u32 {
    let avail = WIDTH as f64 - 40.0;
    let mut rows: u32 = 0;
    let mut used = f64::INFINITY;
    for k in keys {
        let w = 26.0 + text_width(&k.label, TEXT_PX);
        if used + 22.0 + w <= avail {
            used += 22.0 + w;
        } else {
            rows += 1;
            used = w;
        }
    }
    HEIGHT + 20 * rows.saturating_sub(2)
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
        let mut chart = plot_builder(&plot, 24)
            .margin_bottom(6)
            .x_label_area_size(44)
            .build_cartesian_2d(axis.clone(), y.clone())?;
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

/// Text colour on white.
const INK: RGBColor = RGBColor(40, 40, 40);

/// Writes `text` of `px` pixels at a pixel position, anchored `h`
/// horizontally and centred vertically.
fn text_at(
    area: &Area<'_>,
    text: &str,
    (x, y): (i32, i32),
    px: f64,
    h: HPos,
    color: RGBColor,
    bold: bool,
) -> Result<(), ChartError> {
    let f = if bold {
        font(px).style(FontStyle::Bold)
    } else {
        font(px)
    };
    let style = TextStyle::from(f)
        .color(&color)
        .pos(Pos::new(h, VPos::Center));
    area.draw(&Text::new(text.to_string(), (x, y), style))?;
    Ok(())
}

/// One row of a shard table.
struct Row {
    label: String,
    share: Vec<f64>,
    hot: f64,
    hot_interval: Option<f64>,
    moved: Option<f64>,
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
        format!(
            " Only the first {} of {total} variants are drawn.",
            rows.len()
        )
    } else {
        String::new()
    };
    let look = format!(
        "Red cells are hot shards, taking more than their fair share (1/N of the load); blue ones are cold. The hot-spot index is the busiest shard's load over the mean: 1.0 is perfectly even. The worst-interval index catches layouts that look even over the whole run but send each moment's traffic to one shard (time-ordered keys).{cut}"
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
            let text = format!("(first {} of {total} variants)", rows.len());
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
    fn axes_and_colours() {
        let a = XAxis::of(&[Value::from(16), Value::from(8), Value::from(9)]);
        assert!(!a.categorical());
        assert_eq!(a.key_points(12), vec![8.0, 9.0, 16.0]);
        assert_eq!(a.tick(8.0), "8");
        let c = XAxis::of(&[Value::from("hash"), Value::from("range")]);
        assert!(c.categorical());
        assert_eq!(c.range(), -0.5..1.5);
        assert_eq!(c.key_points(12), vec![0.0, 1.0]);
        assert_eq!(c.tick(1.0), "range");
        let money = XAxis::span(0.0, 10.0);
        assert_eq!(money.key_points(6), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(heat(1.0).0, RGBColor(255, 255, 255));
        assert_eq!(heat(4.0).0, PALETTE[1]);
        assert_eq!(heat(0.25).0, PALETTE[0]);
        assert_eq!(short_path("databases.orders.shards"), "orders.shards");
        assert_eq!(short_path("seed"), "seed");
    }

    #[test]
    fn latency_axis_turns_logarithmic_over_a_wide_span() {
        let lin = YAxis::for_points([(4.0, 5.0, 6.0), (6.0, 7.0, 8.0)]);
        assert!(!lin.log);
        assert_eq!(lin.lo, 0.0);
        let log = YAxis::for_points([(30.0, 31.0, 32.0), (990.0, 999.0, 1008.0)]);
        assert!(log.log);
        assert_eq!(log.lo, 10.0);
        assert_eq!(
            log.key_points(20),
            vec![10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
        );
        assert_eq!(log.key_points(4), vec![10.0, 100.0, 1000.0]);
    }
}
