//! The check chart: every objective of every scenario as its measured
//! value in percent of its limit (100% = the limit), the 95% interval as
//! whiskers, the marker coloured and shaped by the outcome, and the
//! baseline's value when there is one, so a reader sees at once which
//! objectives fail, which are close to their limit and which moved.

use models::{CheckReport, CheckStatus, ObjectiveCheck, Op, ScenarioCheck};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use crate::axes::FixedTicks;
use crate::chart::{
    Area, Chart, ChartError, ERROR, GREY, INK, Key, PALETTE, TEXT_PX, TITLE_PX, WIDTH, fit, font,
    frame, labelled_plot, legend_row_count, svg, text_at, text_width,
};

/// Most objectives drawn; further ones are left out and the chart says so
/// (the page's tables have them all).
pub const MAX_OBJECTIVES: usize = 60;

/// The widest x axis, % of the limit: a value beyond is drawn as an arrow
/// at the edge with its figure, so one far-off objective does not squash
/// all the others against 0.
pub const MAX_PERCENT: f64 = 300.0;

/// Height of one row, px.
const ROW_H: i32 = 24;
/// Tint of the failing side of each limit.
const BAD_SIDE: RGBColor = RGBColor(236, 236, 236);

/// Colour and legend text of an outcome.
fn look(s: CheckStatus) -> (RGBColor, &'static str) {
    match s {
        CheckStatus::Pass => (PALETTE[2], "pass: the whole interval on the good side"),
        CheckStatus::Marginal => (PALETTE[4], "marginal: the interval straddles the limit"),
        CheckStatus::Fail => (ERROR, "FAIL: the mean on the bad side"),
    }
}

/// The chart of a check (none when no scenario has an objective).
pub fn check_charts(c: &CheckReport) -> Result<Vec<Chart>, ChartError> {
    if c.scenarios.iter().all(|s| s.objectives.is_empty()) {
        return Ok(Vec::new());
    }
    Ok(vec![objectives_vs_limits(c)?])
}

/// `v` as a percentage of the objective's limit; `None` when that means
/// nothing (a limit of 0 or below, a missing value).
fn percent_of_limit(o: &ObjectiveCheck, v: f64) -> Option<f64> {
    let limit = o.objective.slo.limit;
    let p = v / limit * 100.0;
    (limit > 0.0 && limit.is_finite() && p.is_finite()).then_some(p)
}

/// A percentage for the figure beside a marker: a decimal only close to
/// the limit, where it tells pass from fail.
fn figure(p: f64) -> String {
    if (p - 100.0).abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// The plot: % of the limit along x, one row per unit of y.
type RowPlot<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<FixedTicks<RangedCoordf64>, FixedTicks<RangedCoordf64>>,
>;

/// One row of the chart.
enum Row<'a> {
    /// A scenario's heading.
    Scenario(&'a ScenarioCheck),
    /// One objective.
    Objective(&'a ObjectiveCheck),
}

/// The label of an objective's row: its name, if any, and its text.
fn objective_label(o: &ObjectiveCheck) -> String {
    match &o.objective.name {
        Some(n) => format!("{n}: {}", o.objective.describe()),
        None => o.objective.describe(),
    }
}

/// The heading of a scenario's rows.
fn scenario_label(s: &ScenarioCheck) -> String {
    format!(
        "{} — {}",
        s.scenario,
        if s.passed { "passed" } else { "FAILED" }
    )
}

/// Every objective against its limit, grouped by scenario.
fn objectives_vs_limits(c: &CheckReport) -> Result<Chart, ChartError> {
    let total: usize = c.scenarios.iter().map(|s| s.objectives.len()).sum();
    let mut rows: Vec<Row> = Vec::new();
    let mut drawn = 0;
    for s in &c.scenarios {
        if s.objectives.is_empty() || drawn == MAX_OBJECTIVES {
            continue;
        }
        rows.push(Row::Scenario(s));
        for o in s.objectives.iter().take(MAX_OBJECTIVES - drawn) {
            rows.push(Row::Objective(o));
            drawn += 1;
        }
    }
    let objectives: Vec<&ObjectiveCheck> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Objective(o) => Some(*o),
            Row::Scenario(_) => None,
        })
        .collect();

    // The x axis: 0 to a little beyond the largest value (and at least
    // past the limit), at most MAX_PERCENT.
    let largest = objectives
        .iter()
        .flat_map(|o| {
            let b = o.baseline.as_ref().map(|b| b.estimate.mean);
            [Some(o.estimate.high), Some(o.estimate.mean), b]
                .into_iter()
                .flatten()
                .filter_map(|v| percent_of_limit(o, v))
        })
        .fold(100.0, f64::max);
    let x_hi = (largest * 1.08).clamp(120.0, MAX_PERCENT);
    let step = if x_hi <= 160.0 { 20.0 } else { 50.0 };
    let x_ticks: Vec<f64> = (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|v| *v <= x_hi)
        .collect();

    let mut keys = Vec::new();
    for s in [CheckStatus::Pass, CheckStatus::Marginal, CheckStatus::Fail] {
        if objectives.iter().any(|o| o.status == s) {
            let (col, text) = look(s);
            keys.push(Key::block(text, col.to_rgba()));
        }
    }
    keys.push(Key::line("the limit (100%)", (INK, true)));
    keys.push(Key::block(
        "the failing side of each limit",
        BAD_SIDE.to_rgba(),
    ));
    let any_baseline = objectives.iter().any(|o| o.baseline.is_some());
    if any_baseline {
        keys.push(Key::line("baseline's mean (black tick)", (INK, false)));
    }
    if drawn < total {
        keys.push(Key::note(format!(
            "(only the first {drawn} of {total} objectives are drawn)"
        )));
    }

    let labels: Vec<String> = rows
        .iter()
        .map(|r| match r {
            Row::Scenario(s) => scenario_label(s),
            Row::Objective(o) => objective_label(o),
        })
        .collect();
    // Scenario headings start at x = 12, objectives at 24; the plot
    // starts at 12 + label_w, and a label keeps 8 px from it.
    let room = |r: &Row| match r {
        Row::Scenario(_) => 8.0,
        Row::Objective(_) => 20.0,
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

    let failed = c
        .scenarios
        .iter()
        .flat_map(|s| &s.objectives)
        .filter(|o| o.failed)
        .count();
    let title = match (c.passed, total) {
        (true, 1) => "Check passed: the objective against its limit".to_string(),
        (true, _) => format!("Check passed: {total} objectives against their limits"),
        (false, _) => format!("Check FAILED: {failed} of {total} objectives fail or regressed"),
    };
    let baseline_text = match (&c.baseline, any_baseline) {
        (Some(b), true) => format!(
            " Black ticks are the baseline's means (from {b}); a grey line joins each to the current mean."
        ),
        _ => String::new(),
    };
    let what = format!(
        "One row per objective: the marker is the mean over the replications as a percentage of the objective's limit, the whiskers its 95% interval. The dashed line is the limit and the shaded side of each row is where the objective fails (right of it for an upper limit, left for a lower one). An objective passes when its whole whisker is on the white side; values beyond {MAX_PERCENT:.0}% are drawn as an arrow at the edge with their figure.{baseline_text}"
    );

    let n = rows.len() as f64;
    let doc = svg((WIDTH, height), |root| {
        let plot = frame(root, &title, &keys)?;
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

        // The failing side of each limit, under everything else.
        for (i, r) in rows.iter().enumerate() {
            let Row::Objective(o) = r else { continue };
            if percent_of_limit(o, o.objective.slo.limit).is_none() {
                continue;
            }
            let y = -(i as f64);
            let (from, to) = match o.objective.slo.op {
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
            match r {
                Row::Scenario(s) => {
                    let (text, _) = fit(label, TEXT_PX, f64::from(label_w) - room(r));
                    let col = if s.passed { INK } else { ERROR };
                    text_at(root, &text, (12, py), TEXT_PX, HPos::Left, col, true)?;
                }
                Row::Objective(o) => {
                    let (text, _) = fit(label, TEXT_PX, f64::from(label_w) - room(r));
                    let col = if o.failed { ERROR } else { INK };
                    text_at(root, &text, (24, py), TEXT_PX, HPos::Left, col, o.failed)?;
                    draw_objective(&mut chart, root, o, y, x_hi, &clamp)?;
                }
            }
        }
        Ok(())
    })?;
    Ok(Chart {
        file: "check-objectives.svg".into(),
        title,
        what_to_look_at: what,
        svg: doc,
    })
}

/// The plot of one objective's row at `y`: the baseline, the interval,
/// the marker and its figure.
fn draw_objective(
    chart: &mut RowPlot<'_, '_>,
    root: &Area<'_>,
    o: &ObjectiveCheck,
    y: f64,
    x_hi: f64,
    clamp: &dyn Fn(f64) -> f64,
) -> Result<(), ChartError> {
    let (col, _) = look(o.status);
    let e = &o.estimate;
    let Some(mean) = percent_of_limit(o, e.mean) else {
        let (px, py) = chart.backend_coord(&(0.0, y));
        let why = if e.mean.is_finite() {
            "limit of 0 or below: see the table"
        } else {
            "no value measured"
        };
        return text_at(root, why, (px + 8, py), TEXT_PX, HPos::Left, INK, false);
    };
    let base = o
        .baseline
        .as_ref()
        .and_then(|b| percent_of_limit(o, b.estimate.mean));
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
        percent_of_limit(o, e.low),
        percent_of_limit(o, e.high),
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
        // Shapes differ as well as colours: a disc passes, a triangle is
        // marginal, a cross fails.
        match o.status {
            CheckStatus::Pass => {
                chart.draw_series(std::iter::once(Circle::new(at, 5, col.filled())))?;
            }
            CheckStatus::Marginal => {
                chart.draw_series(std::iter::once(TriangleMarker::new(
                    at,
                    7,
                    col.stroke_width(2),
                )))?;
            }
            CheckStatus::Fail => {
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
    let regressed = o.baseline.as_ref().is_some_and(|b| b.regression);
    let mut text = figure(mean);
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
    let col = if o.failed { ERROR } else { INK };
    text_at(root, &text, at, TEXT_PX, h, col, o.failed)
}
