//! What every chart shares: the [`Chart`] it produces, the size, the
//! palette and fonts, the plot layout, the title and legend ([`frame`],
//! [`height_for`]), text, lines and error bars, the series
//! helpers, the names of varied fields (`Names`), and the plumbing
//! from plotters to an SVG string. The axes are in [`crate::axes`].

use models::Results;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

use crate::axes::{TimeAxis, XyChart};
use crate::fmt::{short_path, value_text};

/// One rendered chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name in the output folder (`latency-checkout.svg`).
    pub file: String,
    /// The chart's title (also its heading in `index.html`).
    pub title: String,
    /// One line for the reader: what to look at.
    pub what_to_look_at: String,
    /// The SVG document.
    pub svg: String,
}

/// Default chart width, px.
pub const WIDTH: u32 = 960;
/// Default chart height, px.
pub const HEIGHT: u32 = 440;

/// The Okabe-Ito palette: distinguishable with every common kind of colour
/// blindness; series use it in order.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// The colour of series `i`.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Light grey for secondary elements (offered load, grid).
pub const GREY: RGBColor = RGBColor(170, 170, 170);

/// The font family written into the SVG (any sans-serif renders it).
pub const FONT: &str = "sans-serif";

/// A chart could not be drawn (a plotters error, with its message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot draw chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ChartError(e.to_string())
    }
}

/// The drawing area handed to chart code.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A chart builder with the layout every plot shares: 12 px on the left,
/// `right` px on the right (room for the last x tick label) and 72 px for
/// the y tick labels, so the plots of a report line up. Callers add the
/// bottom margin and the x label area.
pub fn plot_builder<'a, 'b, 'c>(
    area: &'a Area<'c>,
    right: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'c>> {
    let mut b = ChartBuilder::on(area);
    b.margin_left(12).margin_right(right).y_label_area_size(72);
    b
}

/// [`plot_builder`] for a plot that carries its own x tick labels (a
/// chart's only plot, or the lower panel of a stacked one): 6 px below,
/// and 44 px for the x tick labels and the axis name.
pub fn labelled_plot<'a, 'b, 'c>(
    area: &'a Area<'c>,
    right: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'c>> {
    let mut b = plot_builder(area, right);
    b.margin_bottom(6).x_label_area_size(44);
    b
}

/// Draws into a fresh SVG of `size` and returns the document, every
/// unprintable character of its texts escaped (`\u{1b}`).
pub fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    // The backend escapes markup in texts but writes control characters
    // as they are, which no XML parser accepts.
    if let std::borrow::Cow::Owned(safe) = models::printable_lines(&buf) {
        return Ok(safe);
    }
    Ok(buf)
}

/// Rendered size of titles, px.
pub const TITLE_PX: f64 = 18.0;
/// Rendered size of every other text (ticks, axis names, legends), px.
pub const TEXT_PX: f64 = 13.0;

/// The colour of "all endpoints" together.
pub const ALL: RGBColor = RGBColor(0, 0, 0);
/// The colour of errors (timeouts, rejections): vermillion, used for
/// nothing else, so errors stand out on every chart.
pub const ERROR: RGBColor = PALETTE[1];
/// Dark grey of the end-of-warm-up marker.
pub const WARMUP: RGBColor = RGBColor(90, 90, 90);

/// Palette entries for ordinary series: the Okabe-Ito colours without
/// vermillion (errors), black ("all") and yellow (too pale on white);
/// orange, the nearest to vermillion, comes last.
const SERIES: [RGBColor; 5] = [PALETTE[0], PALETTE[2], PALETTE[3], PALETTE[5], PALETTE[4]];

/// How ordinary series `i` (endpoint, service, cache, ...) is drawn: its
/// colour, and whether it is dashed (from the sixth series on, when the
/// colours repeat).
pub fn series_style(i: usize) -> (RGBColor, bool) {
    (SERIES[i % SERIES.len()], (i / SERIES.len()) % 2 == 1)
}

/// A font of `px` rendered pixels. Plotters' SVG backend writes a text's
/// size divided by 1.24; this undoes it, so sizes in chart code are the
/// sizes a reader sees.
pub fn font(px: f64) -> FontDesc<'static> {
    (FONT, px * 1.24).into_font()
}

/// Estimated rendered width of `text` at `px`, pixels. The SVG carries
/// no metrics, so this is an average advance of 0.55 em: DejaVu Sans,
/// the widest common sans-serif, measures about 0.5 em on legend-like
/// text, so the estimate errs on the wide side (a gap, never an overlap).
pub fn text_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * px * 0.55
}

/// What a legend entry shows before its label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    /// A solid line of this colour.
    Line(RGBColor),
    /// A dashed line of this colour.
    Dashed(RGBColor),
    /// A filled block of this colour (areas, bars, cells).
    Block(RGBAColor),
    /// Nothing: a note in the legend (e.g. "checkout: no responses").
    None,
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// What the reader sees.
    pub label: String,
    /// Its sample.
    pub swatch: Swatch,
}

impl Key {
    /// An entry for a line drawn by [`draw_line`] with this style.
    pub fn line(label: impl Into<String>, (c, dashed): (RGBColor, bool)) -> Key {
        Key {
            label: label.into(),
            swatch: if dashed {
                Swatch::Dashed(c)
            } else {
                Swatch::Line(c)
            },
        }
    }

    /// An entry for a filled area or block.
    pub fn block(label: impl Into<String>, c: RGBAColor) -> Key {
        Key {
            label: label.into(),
            swatch: Swatch::Block(c),
        }
    }

    /// A note without a sample.
    pub fn note(label: impl Into<String>) -> Key {
        Key {
            label: label.into(),
            swatch: Swatch::None,
        }
    }

    /// The entry of the end-of-warm-up marker drawn by [`draw_warmup`].
    pub fn warmup() -> Key {
        Key::line("end of warm-up", (WARMUP, true))
    }

    fn width(&self) -> f64 {
        let swatch = if self.swatch == Swatch::None {
            0.0
        } else {
            26.0
        };
        swatch + text_width(&self.label, TEXT_PX)
    }
}

/// Height of one legend row, px.
const LEGEND_ROW: i32 = 20;
/// Space between legend entries, px.
const LEGEND_GAP: f64 = 22.0;

/// How many rows [`frame`] draws the legend `keys` in on a chart `width`
/// pixels wide (for charts that lay out their own plot under it).
pub fn legend_row_count(keys: &[Key], width: u32) -> usize {
    legend_rows(keys, f64::from(width) - 40.0).len()
}

/// The legend's entries packed into rows no wider than `width`.
fn legend_rows(keys: &[Key], width: f64) -> Vec<Vec<&Key>> {
    let mut rows: Vec<Vec<&Key>> = Vec::new();
    let mut used = 0.0;
    for k in keys {
        let w = k.width();
        match rows.last_mut() {
            Some(row) if used + LEGEND_GAP + w <= width => {
                used += LEGEND_GAP + w;
                row.push(k);
            }
            _ => {
                rows.push(vec![k]);
                used = w;
            }
        }
    }
    rows
}

/// `title` shrunk (down to [`TEXT_PX`]) and, as a last resort, cut with
/// an ellipsis until its estimated width fits `width`; returns the text
/// and its size.
pub fn fit(title: &str, px: f64, width: f64) -> (String, f64) {
    let mut size = px;
    while size > TEXT_PX && text_width(title, size) > width {
        size -= 1.0;
    }
    if text_width(title, size) <= width {
        return (title.to_string(), size);
    }
    let keep = ((width / (size * 0.55)) as usize).saturating_sub(1);
    let cut: String = title.chars().take(keep).collect();
    (format!("{}…", cut.trim_end()), size)
}

/// Draws a chart's title and its legend (in rows under the title, never
/// over the data) across the top of `root`, and returns the area left for
/// the plot.
pub fn frame<'a>(root: &Area<'a>, title: &str, keys: &[Key]) -> Result<Area<'a>, ChartError> {
    let (w, _) = root.dim_in_pixel();
    let w = f64::from(w);
    let (text, size) = fit(title, TITLE_PX, w - 24.0);
    let centre = TextStyle::from(font(size)).pos(Pos::new(HPos::Center, VPos::Top));
    root.draw(&Text::new(text, ((w / 2.0) as i32, 10), centre))?;
    let mut y = 10 + (size * 1.5) as i32;
    for row in legend_rows(keys, w - 40.0) {
        let row_w: f64 =
            row.iter().map(|k| k.width()).sum::<f64>() + LEGEND_GAP * (row.len() - 1) as f64;
        let mut x = ((w - row_w) / 2.0).max(20.0);
        let mid = y + LEGEND_ROW / 2;
        for k in row {
            let xi = x as i32;
            match k.swatch {
                Swatch::Line(c) => {
                    root.draw(&PathElement::new(
                        vec![(xi, mid), (xi + 20, mid)],
                        c.stroke_width(2),
                    ))?;
                }
                Swatch::Dashed(c) => {
                    for (a, b) in [(0, 5), (8, 13), (16, 20)] {
                        root.draw(&PathElement::new(
                            vec![(xi + a, mid), (xi + b, mid)],
                            c.stroke_width(2),
                        ))?;
                    }
                }
                Swatch::Block(c) => {
                    root.draw(&Rectangle::new(
                        [(xi, mid - 6), (xi + 20, mid + 6)],
                        c.filled(),
                    ))?;
                }
                Swatch::None => {}
            }
            let tx = if k.swatch == Swatch::None {
                x
            } else {
                x + 26.0
            };
            let left = TextStyle::from(font(TEXT_PX)).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(k.label.clone(), (tx as i32, mid), left))?;
            x += k.width() + LEGEND_GAP;
        }
        y += LEGEND_ROW;
    }
    Ok(root.split_vertically(y + 6).1)
}

/// A plot with two linear `f64` axes.
pub type Plot<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws a line through `points`, broken where a point is `None` (an
/// interval without data is a gap, not a straight line across it).
pub fn draw_line(
    chart: &mut Plot<'_, '_>,
    points: impl IntoIterator<Item = Option<(f64, f64)>>,
    (c, dashed): (RGBColor, bool),
) -> Result<(), ChartError> {
    for run in runs(points) {
        if run.len() == 1 {
            chart.draw_series(std::iter::once(Circle::new(run[0], 3, c.filled())))?;
        } else if dashed {
            chart.draw_series(DashedLineSeries::new(run, 7, 4, c.stroke_width(2)))?;
        } else {
            chart.draw_series(LineSeries::new(run, c.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// The unbroken stretches of a series with gaps.
pub fn runs(points: impl IntoIterator<Item = Option<(f64, f64)>>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for p in points {
        match p {
            Some(p) if p.0.is_finite() && p.1.is_finite() => {
                out.last_mut().expect("never empty").push(p)
            }
            _ => {
                if out.last().is_some_and(|r| !r.is_empty()) {
                    out.push(Vec::new());
                }
            }
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// Marks the end of the warm-up (`x` in axis units) with a dashed
/// vertical line over `y`; nothing when there is no warm-up.
pub fn draw_warmup(chart: &mut Plot<'_, '_>, x: f64, y: (f64, f64)) -> Result<(), ChartError> {
    if x > 0.0 {
        chart.draw_series(DashedLineSeries::new(
            [(x, y.0), (x, y.1)],
            5,
            4,
            WARMUP.stroke_width(1),
        ))?;
    }
    Ok(())
}

/// Writes `text` in the middle of a plot (e.g. "no errors in this run").
pub fn draw_note(chart: &mut Plot<'_, '_>, text: &str) -> Result<(), ChartError> {
    let x = chart.x_range();
    let y = chart.y_range();
    let style = TextStyle::from(font(TEXT_PX))
        .pos(Pos::new(HPos::Center, VPos::Center))
        .color(&WARMUP);
    chart.draw_series(std::iter::once(Text::new(
        text.to_string(),
        ((x.start + x.end) / 2.0, (y.start + y.end) / 2.0),
        style,
    )))?;
    Ok(())
}

/// A per-interval series as points at the intervals' midpoints, with the
/// first value repeated at the start of the axis and the last at its end,
/// so an area drawn through them covers the whole run.
pub fn edge_to_edge(
    values: &[f64],
    interval_s: f64,
    axis: &TimeAxis,
    x_max: f64,
) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(values.len() + 2);
    if let Some(first) = values.first() {
        out.push((0.0, *first));
    }
    out.extend(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (axis.bucket_mid(i, interval_s).min(x_max), *v)),
    );
    if let Some(last) = values.last() {
        out.push((x_max, *last));
    }
    out
}

/// Offered load of all workloads together, requests/s per bucket.
pub fn offered_rps(r: &Results) -> Vec<f64> {
    let ts = &r.time_series;
    (0..ts.buckets)
        .map(|b| {
            ts.workloads
                .iter()
                .map(|w| w.offered_rps.get(b).copied().unwrap_or(0.0))
                .sum()
        })
        .collect()
}

/// The endpoints' display names (`service.endpoint`), in results order.
pub fn endpoint_names(r: &Results) -> Vec<String> {
    r.endpoints
        .iter()
        .map(|e| format!("{}.{}", e.service, e.name))
        .collect()
}

/// The sum over `series` of each bucket's value (missing values count 0).
pub fn sum_by_bucket<'s>(buckets: usize, series: impl Iterator<Item = &'s [f64]>) -> Vec<f64> {
    let mut out = vec![0.0; buckets];
    for s in series {
        for (o, v) in out.iter_mut().zip(s) {
            *o += v;
        }
    }
    out
}

/// A slug usable in a file name: letters, digits and `-`.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "x".into() } else { s }
}

/// The largest finite value, at least `floor` (so empty data still gives
/// a drawable range).
pub fn max_of(values: impl IntoIterator<Item = f64>, floor: f64) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(floor, f64::max)
}

/// Text colour on white.
pub const INK: RGBColor = RGBColor(40, 40, 40);

/// Writes `text` of `px` pixels at a pixel position, anchored `h`
/// horizontally and centred vertically.
pub fn text_at(
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

/// Draws a line through `points`, dashed or solid.
pub fn line(
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
pub fn error_bars(
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
/// default, plus a row's height for each legend row beyond two. It counts
/// every entry as wide as one with a sample (a note has none), so it may
/// leave a row to spare, never too few.
pub fn height_for(keys: &[Key]) -> u32 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Orders DB/primary"), "orders-db-primary");
        assert_eq!(slug("<script>"), "script");
        assert_eq!(slug("???"), "x");
    }
}
