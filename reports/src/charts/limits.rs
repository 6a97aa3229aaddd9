//! Values against their limits, one row each: the measured value in
//! percent of its limit (100% = the limit), the 95% interval as whiskers,
//! the failing side of the limit shaded, the marker coloured and shaped by
//! the outcome (a disc holds, a triangle is undecided, a cross fails), and
//! a baseline's value when there is one. Rows come in groups under a
//! heading (a scenario of a check, a variant of a plan). The check chart
//! and the plan's objectives chart are this picture; each says what its
//! rows are.

use models::{Estimate, Op};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use crate::axes::FixedTicks;
use crate::chart::{
    Area, ChartError, ERROR, GREY, INK, Key, PALETTE, TEXT_PX, TITLE_PX, WIDTH, fit, font, frame,
    labelled_plot, legend_row_count, svg, text_at, text_width,
};
use crate::objectives::percent_figure;

/// The widest x axis, % of the limit: a value beyond is drawn as an arrow
/// at the edge with its figure, so one far-off objective does not squash
/// all the others against 0.
pub const MAX_PERCENT: f64 = 300.0;

/// Height of one row, px.
const ROW_H: i32 = 24;
/// Tint of the failing side of each limit.
const BAD_SIDE: RGBColor = RGBColor(236, 236, 236);

/// How a value fares against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// On the good side: a green disc.
    Good,
    /// Undecided (the interval straddles the limit): an orange triangle.
    Unsure,
    /// On the bad side: a vermillion cross.
    Bad,
}

impl Outcome {
    /// The marker's colour.
    pub(crate) fn colour(self) -> RGBColor {
        match self {
            Outcome::Good => PALETTE[2],
            Outcome::Unsure => PALETTE[4],
            Outcome::Bad => ERROR,
        }
    }
}

/// The legend's words for each outcome, in the caller's terms.
pub(crate) struct Looks {
    /// What [`Outcome::Good`] means.
    pub good: &'static str,
    /// What [`Outcome::Unsure`] means.
    pub unsure: &'static str,
    /// What [`Outcome::Bad`] means.
    pub bad: &'static str,
}

/// One value against its limit.
pub(crate) struct Measured<'a> {
    /// Which side of the limit is good.
    pub op: Op,
    /// The limit, in the value's unit.
    pub limit: f64,
    /// The value: mean and 95% interval.
    pub estimate: &'a Estimate,
    /// The marker.
    pub outcome: Outcome,
    /// Counts as a failure: the label and the figure in bold vermillion.
    pub failed: bool,
    /// A baseline's mean, and whether the value regressed from it.
    pub baseline: Option<(f64, bool)>,
}

/// One row of the chart.
pub(crate) enum Row<'a> {
    /// The heading of the rows that follow: in vermillion when `bad`;
    /// `marked` tints its group (the chosen variant of a plan).
    Heading {
        /// The heading's text.
        label: String,
        /// The group failed.
        bad: bool,
        /// The group is the one to look at.
        marked: bool,
    },
    /// One value.
    Value {
        /// What the value is.
        label: String,
        /// The value.
        measured: Measured<'a>,
    },
}

/// `v` as a percentage of `limit`; `None` when that means nothing (a limit
/// of 0 or below, a missing value).
pub(crate) fn percent_of_limit(limit: f64, v: f64) -> Option<f64> {
    let p = v / limit * 100.0;
    (limit > 0.0 && limit.is_finite() && p.is_finite()).then_some(p)
}

/// The plot: % of the limit along x, one row per unit of y.
type RowPlot<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<FixedTicks<RangedCoordf64>, FixedTicks<RangedCoordf64>>,
>;

/// The tint of a marked group.
const MARKED: RGBColor = RGBColor(226, 244, 237);

/// The SVG of `rows` under `title`: the legend has the outcomes present
/// (in the words of `looks`), the limit, the failing side, the baseline
/// when a row has one, then `notes`.
pub(crate) fn draw(
    title: &str,
    rows: &[Row<'_>],
    looks: &Looks,
    notes: Vec<Key>,
) -> Result<String, ChartError> {
    let values: Vec<&Measured> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Value { measured, .. } => Some(measured),
            Row::Heading { .. } => None,
        })
        .collect();

    // The x axis: 0 to a little beyond the largest value (and at least
    // past the limit), at most MAX_PERCENT.
    let largest = values
        .iter()
        .flat_map(|m| {
            let b = m.baseline.map(|b| b.0);
            [Some(m.estimate.high), Some(m.estimate.mean), b]
                .into_iter()
                .flatten()
                .filter_map(|v| percent_of_limit(m.limit, v))
        })
        .fold(100.0, f64::max);
    let x_hi = (largest * 1.08).clamp(120.0, MAX_PERCENT);
    let step = if x_hi <= 160.0 { 20.0 } else { 50.0 };
    let x_ticks: Vec<f64> = (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|v| *v <= x_hi)
        .collect();

    let mut keys = Vec::new();
    for (o, text) in [
        (Outcome::Good, looks.good),
        (Outcome::Unsure, looks.unsure),
        (Outcome::Bad, looks.bad),
    ] {
        if values.iter().any(|m| m.outcome == o) {
            keys.push(Key::block(text, o.colour().to_rgba()));
        }
    }
    keys.push(Key::line("the limit (100%)", (INK, true)));
    keys.push(Key::block(
        "the failing side of each limit",
        BAD_SIDE.to_rgba(),
    ));
    if values.iter().any(|m| m.baseline.is_some()) {
        keys.push(Key::line("baseline's mean (black tick)", (INK, false)));
    }
    keys.extend(notes);

    let labels: Vec<&str> = rows
        .iter()
        .map(|r| match r {
            Row::Heading { label, .. } | Row::Value { label, .. } => label.as_str(),
        })
        .collect();
    // Headings start at x = 12, values at 24; the plot starts at
    // 12 + label_w, and a label keeps 8 px from it.
    let room = |r: &Row| match r {
        Row::Heading { .. } => 8.0,
        Row::Value { .. } => 20.0,
    };
    let label_w = rows
        .iter()
        .zip(&labels)
        .map(|(r, l)| (text_width(l, TEXT_PX) + room(r)).ceil() as i32)
        .max()
        .unwrap_or(140)
        .clamp(140, WIDTH as i32 * 9 / 20);
    let top = 10 + (TITLE_PX * 1.5) as i32 + 20 * legend_row_count(&keys, WIDTH) as i32 + 6;
    let height = (top + 8 + ROW_H * rows.len() as i32 + 50).max(200) as u32;

    let n = rows.len() as f64;
    svg((WIDTH, height), |root| {
        let plot = frame(root, title, &keys)?;
        let plot = plot.margin(8, 0, 0, 0);
        let x: FixedTicks<RangedCoordf64> = FixedTicks::new(0.0..x_hi, x_ticks.clone());
        let y: FixedTicks<RangedCoordf64> = FixedTicks::new(-(n - 0.5)..0.5, Vec::new());
        let mut chart = labelled_plot(&plot, 24)
            .y_label_area_size(label_w as u32)
            .build_cartesian_2d(x, y)?;
        let pct = |v: &f64| format!("{v:.0}%");
        chart
            .configure_mesh()
            .x_desc("measured value, % of the objective's limit (100% = the limit)")
            .x_label_formatter(&pct)
            .disable_y_mesh()
            .label_style(font(TEXT_PX))
            .axis_desc_style(font(TEXT_PX))
            .bold_line_style(BLACK.mix(0.12))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;

        // Marked groups, from the label to the right edge, under all else.
        let mut i = 0;
        while i < rows.len() {
            let end = rows[i + 1..]
                .iter()
                .position(|r| matches!(r, Row::Heading { .. }))
                .map_or(rows.len(), |k| i + 1 + k);
            if let Row::Heading { marked: true, .. } = rows[i] {
                let (_, top) = chart.backend_coord(&(0.0, -(i as f64) + 0.5));
                let (right, bottom) = chart.backend_coord(&(x_hi, -(end as f64) + 0.5));
                root.draw(&Rectangle::new(
                    [(4, top), (right, bottom)],
                    MARKED.filled(),
                ))?;
            }
            i = end;
        }

        // The failing side of each limit, under everything else.
        for (i, r) in rows.iter().enumerate() {
            let Row::Value { measured: m, .. } = r else {
                continue;
            };
            if percent_of_limit(m.limit, m.limit).is_none() {
                continue;
            }
            let y = -(i as f64);
            let (from, to) = match m.op {
                Op::Below => (100.0, x_hi),
                Op::Above => (0.0, 100.0),
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(from, y - 0.42), (to, y + 0.42)],
                BAD_SIDE.filled(),
            )))?;
        }
        chart.draw_series(DashedLineSeries::new(
            [(100.0, 0.5), (100.0, -(n - 0.5))],
            6,
            4,
            INK.stroke_width(2),
        ))?;

        let clamp = |v: f64| v.clamp(0.0, x_hi);
        for (i, (r, label)) in rows.iter().zip(&labels).enumerate() {
            let y = -(i as f64);
            let (_, py) = chart.backend_coord(&(0.0, y));
            let (text, _) = fit(label, TEXT_PX, f64::from(label_w) - room(r));
            match r {
                Row::Heading { bad, .. } => {
                    let col = if *bad { ERROR } else { INK };
                    text_at(root, &text, (12, py), TEXT_PX, HPos::Left, col, true)?;
                }
                Row::Value { measured, .. } => {
                    let col = if measured.failed { ERROR } else { INK };
                    text_at(
                        root,
                        &text,
                        (24, py),
                        TEXT_PX,
                        HPos::Left,
                        col,
                        measured.failed,
                    )?;
                    draw_value(&mut chart, root, measured, y, x_hi, &clamp)?;
                }
            }
        }
        Ok(())
    })
}

/// The plot of one value's row at `y`: the baseline, the interval, the
/// marker and its figure.
fn draw_value(
    chart: &mut RowPlot<'_, '_>,
    root: &Area<'_>,
    m: &Measured<'_>,
    y: f64,
    x_hi: f64,
    clamp: &dyn Fn(f64) -> f64,
) -> Result<(), ChartError> {
    let col = m.outcome.colour();
    let e = m.estimate;
    let Some(mean) = percent_of_limit(m.limit, e.mean) else {
        let (px, py) = chart.backend_coord(&(0.0, y));
        let why = if e.mean.is_finite() {
            "limit of 0 or below: see the table"
        } else {
            "no value measured"
        };
        return text_at(root, why, (px + 8, py), TEXT_PX, HPos::Left, INK, false);
    };
    let base = m.baseline.and_then(|b| percent_of_limit(m.limit, b.0));
    if let Some(b) = base {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(clamp(b), y), (clamp(mean), y)],
            GREY.stroke_width(3),
        )))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((clamp(b), y))
                + PathElement::new(vec![(0, -8), (0, 8)], INK.stroke_width(2)),
        ))?;
    }
    let (lo, hi) = match (
        percent_of_limit(m.limit, e.low),
        percent_of_limit(m.limit, e.high),
        e.ci95,
    ) {
        (Some(lo), Some(hi), Some(_)) => (lo, hi),
        _ => (mean, mean),
    };
    if hi > lo {
        let style = col.stroke_width(2);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(clamp(lo), y), (clamp(hi), y)],
            style,
        )))?;
        for end in [lo, hi] {
            if (0.0..=x_hi).contains(&end) {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((end, y)) + PathElement::new(vec![(0, -5), (0, 5)], style),
                ))?;
            }
        }
    }
    let off_scale = mean > x_hi;
    let at = (clamp(mean), y);
    if off_scale {
        // An arrow at the edge: the value is further right.
        chart.draw_series(std::iter::once(
            EmptyElement::at(at) + Polygon::new(vec![(-10, -7), (2, 0), (-10, 7)], col.filled()),
        ))?;
    } else {
        // Shapes differ as well as colours: a disc is good, a triangle
        // undecided, a cross bad.
        match m.outcome {
            Outcome::Good => {
                chart.draw_series(std::iter::once(Circle::new(at, 5, col.filled())))?;
            }
            Outcome::Unsure => {
                chart.draw_series(std::iter::once(TriangleMarker::new(
                    at,
                    7,
                    col.stroke_width(2),
                )))?;
            }
            Outcome::Bad => {
                let style = col.stroke_width(3);
                chart.draw_series(std::iter::once(
                    EmptyElement::at(at)
                        + PathElement::new(vec![(-5, -5), (5, 5)], style)
                        + PathElement::new(vec![(-5, 5), (5, -5)], style),
                ))?;
            }
        }
    }

    // The figure, beside whatever is drawn on the row: right of it, or
    // left when that is too close to the edge.
    let regressed = m.baseline.is_some_and(|b| b.1);
    let mut text = percent_figure(mean);
    if off_scale {
        text.push_str(" (off the scale)");
    }
    if regressed {
        text.push_str(" · REGRESSED");
    }
    let rightmost = [Some(hi), Some(mean), base]
        .into_iter()
        .flatten()
        .fold(f64::NEG_INFINITY, f64::max);
    let leftmost = [Some(lo), Some(mean), base]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
    let (right_px, py) = chart.backend_coord(&(clamp(rightmost), y));
    let (left_px, _) = chart.backend_coord(&(clamp(leftmost), y));
    let (edge_px, _) = chart.backend_coord(&(x_hi, y));
    let width = text_width(&text, TEXT_PX) as i32;
    // Never across the limit's line: past it when the text would cross.
    let (limit_px, _) = chart.backend_coord(&(100.0, y));
    let mut start = right_px + 12;
    if start < limit_px + 6 && start + width > limit_px - 6 {
        start = limit_px + 8;
    }
    let (at, h) = if start + width <= edge_px {
        ((start, py), HPos::Left)
    } else {
        ((left_px - 12, py), HPos::Right)
    };
    let col = if m.failed { ERROR } else { INK };
    text_at(root, &text, at, TEXT_PX, h, col, m.failed)
}
