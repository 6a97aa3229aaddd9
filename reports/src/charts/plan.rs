//! The plan charts, so the reader sees what decided the answer, what it
//! costs and how much room it leaves:
//!
//! - cost per hour against each evaluated variant's *worst* objective (the
//!   one that uses the most of its limit), labelled with that objective:
//!   whatever the objectives are — p99, queue lag, utilisation, a minimum
//!   hit ratio — the variants above 100% are the ones turned down, and
//!   the label says by what;
//! - every objective of every evaluated variant against its limit, in the
//!   picture of the check chart ([`super::limits`]), the chosen variant's
//!   rows tinted;
//! - when an objective is on the overall p99, cost against p99 with the
//!   cost-vs-p99 Pareto frontier and the p99 objective.

use std::ops::Range;

use models::{PlanResult, Status, Verdict};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::limits::{self, Looks, Measured, Outcome, Row};
use crate::axes::{XAxis, YAxis, mesh, tick};
use crate::chart::{
    Chart, ChartError, INK, Key, Names, PALETTE, TEXT_PX, WIDTH, error_bars, font, frame,
    height_for, label, labelled_plot, svg,
};
use crate::fmt::value_text;
use crate::objectives::{percent_figure, slo_of, worst};

/// Colour and legend text of a status.
fn look(s: Status) -> (RGBColor, &'static str) {
    match s {
        Status::Meets => (PALETTE[2], "meets every objective"),
        Status::Fails => (PALETTE[1], "fails an objective"),
        Status::Unsure => (PALETTE[4], "unsure: an interval straddles its limit"),
    }
}

/// Colour of the Pareto frontier.
const FRONTIER: RGBColor = PALETTE[0];

/// Most points labelled with their parameters (beyond, only the chosen
/// one is).
pub const MAX_LABELS: usize = 12;

/// Most objective rows on the chart of every objective; further variants
/// are left out and the chart says so (the page's table has them all).
pub const MAX_OBJECTIVE_ROWS: usize = 120;

/// The charts of a plan (none when nothing was evaluated): cost against
/// the worst objective, every objective against its limit (when there is
/// an objective), then cost against p99 when an objective is on the
/// overall p99.
pub fn plan_charts(p: &PlanResult) -> Result<Vec<Chart>, ChartError> {
    if p.evaluated.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    if !p.slos.is_empty() {
        out.push(cost_vs(p, Measure::Worst)?);
        out.push(objectives(p)?);
    }
    if p.slos.is_empty() || p.slos.iter().any(|s| s.metric == P99) {
        out.push(cost_vs(p, Measure::P99)?);
    }
    Ok(out)
}

/// The overall p99's metric.
const P99: &str = "p99_ms";

/// What a cost chart plots up its y axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    /// The overall p99, ms.
    P99,
    /// The worst objective's use of its limit, %.
    Worst,
}

/// One variant's point: low end, mean and high end, and whether there is
/// an interval.
#[derive(Debug, Clone, Copy)]
struct Point {
    low: f64,
    mean: f64,
    high: f64,
    interval: bool,
}

/// Each evaluated variant's point (None: nothing to draw).
fn points(p: &PlanResult, m: Measure) -> Vec<Option<Point>> {
    p.evaluated
        .iter()
        .map(|e| match m {
            Measure::P99 => Some(Point {
                low: e.p99_ms.low,
                mean: e.p99_ms.mean,
                high: e.p99_ms.high,
                interval: e.p99_ms.ci95.is_some(),
            }),
            Measure::Worst => worst(p, e).map(|w| Point {
                low: w.used.0 * 100.0,
                mean: w.used.1 * 100.0,
                high: w.used.2 * 100.0,
                interval: w.check.estimate.ci95.is_some(),
            }),
        })
        .collect()
}

/// Where the variants go along x: their cost, or, when the scenario has no
/// prices (every cost 0), the searched parameter.
struct Placement {
    axis: XAxis,
    x: Vec<f64>,
    desc: String,
    priced: bool,
}

fn placement(p: &PlanResult) -> Placement {
    let costs: Vec<f64> = p.evaluated.iter().map(|e| e.cost_per_hour).collect();
    if costs.iter().any(|c| *c > 0.0) {
        let lo = costs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = costs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // Cost axes start at 0 unless the costs sit far from it.
        let lo = if lo < (hi - lo) * 2.0 { 0.0 } else { lo };
        return Placement {
            axis: XAxis::span(lo, hi),
            x: costs,
            desc: "cost ($ per hour)".into(),
            priced: true,
        };
    }
    // No prices: along the one varied field when there is one, else one
    // slot per variant.
    if let [dim] = p.identity.dims.as_slice() {
        let axis = XAxis::of(&dim.values);
        let x = p
            .evaluated
            .iter()
            .map(|e| {
                e.params
                    .get(&dim.path)
                    .and_then(|v| dim.values.iter().position(|d| d == v))
                    .map_or(0.0, |i| axis.pos[i])
            })
            .collect();
        return Placement {
            axis,
            x,
            desc: format!(
                "{} (no prices in the scenario: every variant costs $0)",
                dim.path
            ),
            priced: false,
        };
    }
    let mut order: Vec<usize> = (0..p.evaluated.len()).collect();
    order.sort_by_key(|i| p.evaluated[*i].index);
    let slots: Vec<String> = order
        .iter()
        .map(|i| {
            p.evaluated[*i]
                .params
                .values()
                .map(value_text)
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    let mut x = vec![0.0; order.len()];
    for (slot, i) in order.iter().enumerate() {
        x[*i] = slot as f64;
    }
    let names = Names::of(p.identity.dims.iter().map(|d| d.path.as_str()));
    let fields: Vec<String> = p
        .identity
        .dims
        .iter()
        .map(|d| names.name(&d.path))
        .collect();
    Placement {
        axis: XAxis::categories(slots),
        x,
        desc: format!(
            "variant ({}) — no prices in the scenario: every variant costs $0",
            fields.join("/")
        ),
        priced: false,
    }
}

fn cost_vs(p: &PlanResult, measure: Measure) -> Result<Chart, ChartError> {
    let place = placement(p);
    let names = Names::of(p.identity.dims.iter().map(|d| d.path.as_str()));
    let ev = &p.evaluated;
    let pts = points(p, measure);
    // The horizontal lines: the p99 objectives, or the limit of every
    // objective (100%).
    let p99_slos: Vec<_> = p.slos.iter().filter(|s| s.metric == P99).collect();
    let lines: Vec<(f64, String)> = match measure {
        Measure::P99 => p99_slos
            .iter()
            .map(|s| (s.limit, format!("objective {}", s.text)))
            .collect(),
        Measure::Worst => vec![(100.0, "the limit of every objective (100%)".into())],
    };
    let y = YAxis::for_points(
        pts.iter()
            .flatten()
            .map(|q| (q.low, q.mean, q.high))
            .chain(lines.iter().map(|(l, _)| (*l, *l, *l))),
    );
    let Range {
        start: x_lo,
        end: x_hi,
    } = place.axis.range();
    let chosen = p
        .chosen
        .as_ref()
        .and_then(|c| ev.iter().position(|e| e.index == c.index));
    let mut frontier: Vec<(f64, f64)> = match measure {
        Measure::P99 => p
            .frontier
            .iter()
            .filter_map(|i| Some((place.x[*i], ev.get(*i)?.p99_ms.mean)))
            .collect(),
        Measure::Worst => Vec::new(),
    };
    frontier.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));

    let mut keys = Vec::new();
    for s in [Status::Meets, Status::Unsure, Status::Fails] {
        if ev.iter().any(|e| e.status == s) {
            let (c, text) = look(s);
            keys.push(Key::block(text, c.to_rgba()));
        }
    }
    if place.priced && !frontier.is_empty() {
        keys.push(Key::line(
            "Pareto frontier (nothing both cheaper and faster)",
            (FRONTIER, false),
        ));
    }
    for (_, text) in &lines {
        keys.push(Key::line(text.as_str(), (INK, true)));
    }
    let others: Vec<&str> = p
        .slos
        .iter()
        .filter(|s| s.metric != P99)
        .map(|s| s.text.as_str())
        .collect();
    if measure == Measure::P99 && !others.is_empty() {
        keys.push(Key::note(format!("(also required: {})", others.join(", "))));
    }
    if !p.unstable.is_empty() {
        keys.push(Key::note(format!(
            "(not drawn, unstable: {})",
            p.unstable
                .iter()
                .map(|u| names.label(&u.params))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    if chosen.is_none() {
        keys.push(Key::note("(no variant meets every objective: none chosen)"));
    }

    let what_y = match measure {
        Measure::P99 => "p99",
        Measure::Worst => "the worst objective",
    };
    let title = match (&p.identity.name, place.priced) {
        (Some(n), true) => format!("Plan {n}: cost vs {what_y} of every evaluated variant"),
        (None, true) => format!("Plan: cost vs {what_y} of every evaluated variant"),
        (Some(n), false) => format!("Plan {n}: {what_y} of every evaluated variant"),
        (None, false) => format!("Plan: {what_y} of every evaluated variant"),
    };
    let chosen_text = match &p.chosen {
        Some(c) => format!(
            "The chosen variant ({}) is the cheapest whose objectives all hold with 95% confidence.",
            label(&c.params)
        ),
        None => "No variant meets every objective, so none is chosen.".to_string(),
    };
    let x_text = match (place.priced, measure) {
        (true, Measure::P99) => {
            "The blue line is the Pareto frontier: along it, paying more buys a lower p99; a point above it is beaten on both cost and p99."
        }
        (true, Measure::Worst) => "",
        (false, _) => {
            "The scenario has no prices (every cost is $0), so the variants are placed by their parameters instead of cost; add price_per_replica_hour and price_per_shard_hour to the scenario to compare costs."
        }
    };
    let unstable = match p.unstable.len() {
        0 => String::new(),
        n => format!(
            " Not drawn: {n} unstable variant{} ({}), whose queues grow without bound.",
            if n == 1 { "" } else { "s" },
            p.unstable
                .iter()
                .map(|u| label(&u.params))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let what = match measure {
        Measure::P99 => format!(
            "{chosen_text} {x_text} Bars are 95% confidence intervals of p99; a variant is judged on the far end of its interval, not its mean.{unstable}"
        ),
        Measure::Worst => format!(
            "What decided the plan. Each variant is drawn as high as its worst objective: the one whose mean uses the most of its limit (value ÷ limit for a maximum, limit ÷ value for a minimum such as a throughput or a hit ratio), so 100% is the limit for every objective and a variant above the line fails it. The label names that objective: for the variants turned down, it is what turned them down. {chosen_text} Bars are the 95% interval of that objective; a variant is judged on the far end of its intervals, not its means.{}{unstable}",
            if x_text.is_empty() {
                String::new()
            } else {
                format!(" {x_text}")
            }
        ),
    };

    let y_desc = match measure {
        Measure::P99 => y.desc("p99 latency (ms)"),
        Measure::Worst => y.desc("worst objective, % of its limit used"),
    };
    let doc = svg((WIDTH, height_for(&keys)), |root| {
        let plot = frame(root, &title, &keys)?;
        let mut chart =
            labelled_plot(&plot, 24).build_cartesian_2d(place.axis.clone(), y.clone())?;
        let money = |v: &f64| format!("${}", tick(*v));
        let money: Option<&dyn Fn(&f64) -> String> = if place.priced { Some(&money) } else { None };
        mesh(&mut chart, &place.axis, &place.desc, &y_desc, money)?;
        for (l, _) in &lines {
            chart.draw_series(DashedLineSeries::new(
                [(x_lo, *l), (x_hi, *l)],
                7,
                4,
                INK.stroke_width(2),
            ))?;
        }
        if place.priced && frontier.len() > 1 {
            chart.draw_series(LineSeries::new(
                frontier.iter().copied(),
                FRONTIER.stroke_width(2),
            ))?;
        }
        for (i, e) in ev.iter().enumerate() {
            let Some(q) = pts[i] else { continue };
            let (c, _) = look(e.status);
            let at = (place.x[i], y.clamp(q.mean));
            if q.interval {
                let bar = (at.0, y.clamp(q.low), y.clamp(q.high));
                error_bars(&mut chart, &[bar], c)?;
            }
            // Shapes differ as well as colours: a disc meets, a cross
            // fails, a triangle is unsure.
            match e.status {
                Status::Meets => {
                    chart.draw_series(std::iter::once(Circle::new(at, 5, c.filled())))?;
                }
                Status::Fails => {
                    let style = c.stroke_width(3);
                    chart.draw_series(std::iter::once(
                        EmptyElement::at(at)
                            + PathElement::new(vec![(-5, -5), (5, 5)], style)
                            + PathElement::new(vec![(-5, 5), (5, -5)], style),
                    ))?;
                }
                Status::Unsure => {
                    chart.draw_series(std::iter::once(TriangleMarker::new(
                        at,
                        7,
                        c.stroke_width(2),
                    )))?;
                }
            }
        }
        // Labels: the chosen variant always, the others while few. A
        // label sits beside its point, on the side with more room; the
        // chosen one above its point, or below when a limit's line is
        // just above (the chosen variant is often just under its limit).
        let mid = (x_lo + x_hi) / 2.0;
        let near_line = |v: f64| {
            lines
                .iter()
                .any(|(l, _)| (0.0..0.12).contains(&(y.frac(*l) - y.frac(v))))
        };
        // The worst objective of a variant: named where it decided (a
        // variant turned down, the chosen one), its share alone for the
        // other variants that meet every objective.
        let worst_of = |i: usize| match measure {
            Measure::P99 => String::new(),
            Measure::Worst => worst(p, &ev[i]).map_or(String::new(), |w| {
                let used = percent_figure(w.used.1 * 100.0);
                if ev[i].status == Status::Meets && Some(i) != chosen {
                    format!(": {used}")
                } else {
                    format!(": {} {used}", w.slo.text)
                }
            }),
        };
        let mut labels: Vec<(usize, String, bool)> = Vec::new();
        if ev.len() <= MAX_LABELS && (place.priced || measure == Measure::Worst) {
            for (i, e) in ev.iter().enumerate() {
                if Some(i) != chosen && pts[i].is_some() {
                    labels.push((
                        i,
                        format!("{}{}", names.label(&e.params), worst_of(i)),
                        false,
                    ));
                }
            }
        }
        if let (Some(i), Some(c)) = (chosen, &p.chosen) {
            let cost = if place.priced {
                format!("${:.2}/h, ", c.cost_per_hour)
            } else {
                String::new()
            };
            let text = match measure {
                Measure::P99 => format!(
                    "chosen: {}, {cost}p99 {:.2} ms",
                    names.label(&c.params),
                    c.p99_ms.mean
                ),
                Measure::Worst => format!(
                    "★ chosen: {}, {cost}closest{}",
                    names.label(&c.params),
                    worst_of(i)
                ),
            };
            if pts[i].is_some() {
                labels.push((i, text, true));
            }
        }
        // The chosen label first; a later label that would overlap one
        // already drawn is left out (the page's table has every variant).
        labels.sort_by_key(|l| !l.2);
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        for (i, text, chosen) in labels {
            let Some(q) = pts[i] else { continue };
            let at = (place.x[i], y.clamp(q.mean));
            let right = at.0 <= mid;
            let (dx, h) = if right {
                (12, HPos::Left)
            } else {
                (-12, HPos::Right)
            };
            let f = if chosen {
                font(TEXT_PX).style(FontStyle::Bold)
            } else {
                font(12.0)
            };
            let style = TextStyle::from(f)
                .color(&INK)
                .pos(Pos::new(h, VPos::Center));
            // Worst objectives: labels stay on their side of the limit.
            let dy: i32 = match (chosen, near_line(at.1), measure) {
                (true, _, Measure::Worst) => 22,
                (false, _, Measure::Worst) if q.mean >= 100.0 => -14,
                (true, false, _) => -20,
                (true, true, _) => 20,
                (false, _, _) => 14,
            };
            // The label's box in pixels, its width estimated from its
            // characters (about 0.6 em each).
            let px = if chosen { TEXT_PX } else { 12.0 };
            let width = (text.chars().count() as f64 * px * 0.6) as i32;
            let (bx, by) = chart.backend_coord(&at);
            let left = if right { bx + dx } else { bx + dx - width };
            let top = by + dy - px as i32 / 2 - 2;
            let rect = (left, top, left + width, top + px as i32 + 4);
            let overlaps = |r: &(i32, i32, i32, i32)| {
                rect.0 < r.2 && r.0 < rect.2 && rect.1 < r.3 && r.1 < rect.3
            };
            if !chosen && placed.iter().any(overlaps) {
                continue;
            }
            placed.push(rect);
            if chosen {
                chart.draw_series(std::iter::once(Circle::new(at, 10, INK.stroke_width(2))))?;
                // A leader from the ring to the label.
                let start = (dx / 2, dy.signum() * 8);
                let end = (dx + if right { -2 } else { 2 }, dy);
                chart.draw_series(std::iter::once(
                    EmptyElement::at(at) + PathElement::new(vec![start, end], INK.stroke_width(1)),
                ))?;
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at(at) + Text::new(text, (dx, dy), style),
            ))?;
        }
        Ok(())
    })?;
    Ok(Chart {
        file: match measure {
            Measure::P99 => "plan-cost-p99.svg".into(),
            Measure::Worst => "plan-worst-objective.svg".into(),
        },
        title,
        what_to_look_at: what,
        svg: doc,
    })
}

/// The marker of a verdict.
fn outcome(v: Verdict) -> Outcome {
    match v {
        Verdict::Holds => Outcome::Good,
        Verdict::Unsure => Outcome::Unsure,
        Verdict::Fails => Outcome::Bad,
    }
}

/// The legend's words for the verdicts of a plan.
const LOOKS: Looks = Looks {
    good: "holds: the whole interval on the good side",
    unsure: "unsure: the interval straddles the limit",
    bad: "fails: the whole interval on the bad side",
};

/// Every objective of every evaluated variant against its limit, one
/// group per variant (cheapest first), the chosen one tinted.
fn objectives(p: &PlanResult) -> Result<Chart, ChartError> {
    let names = Names::of(p.identity.dims.iter().map(|d| d.path.as_str()));
    let priced = p.evaluated.iter().any(|e| e.cost_per_hour > 0.0);
    let chosen = p.chosen.as_ref().map(|c| c.index);
    let mut rows: Vec<Row> = Vec::new();
    let mut drawn = 0;
    for e in &p.evaluated {
        if drawn + e.checks.len() > MAX_OBJECTIVE_ROWS {
            break;
        }
        let is_chosen = Some(e.index) == chosen;
        let mut heading = names.label(&e.params);
        if heading.is_empty() {
            heading = format!("#{}", e.index);
        }
        if priced {
            heading.push_str(&format!(" · ${:.2}/h", e.cost_per_hour));
        }
        heading.push_str(match e.status {
            Status::Meets => " — meets",
            Status::Fails => " — FAILS",
            Status::Unsure => " — unsure",
        });
        if is_chosen {
            heading = format!("★ chosen: {heading}");
        }
        rows.push(Row::Heading {
            label: heading,
            bad: e.status == Status::Fails,
            marked: is_chosen,
        });
        for c in &e.checks {
            let Some(slo) = slo_of(p, c) else { continue };
            rows.push(Row::Value {
                label: c.slo.clone(),
                measured: Measured {
                    op: slo.op,
                    limit: slo.limit,
                    estimate: &c.estimate,
                    outcome: outcome(c.verdict),
                    failed: c.verdict == Verdict::Fails,
                    baseline: None,
                },
            });
            drawn += 1;
        }
    }
    let shown = rows
        .iter()
        .filter(|r| matches!(r, Row::Heading { .. }))
        .count();
    let mut notes = Vec::new();
    if shown < p.evaluated.len() {
        notes.push(Key::note(format!(
            "(only the {shown} cheapest of {} evaluated variants are drawn)",
            p.evaluated.len()
        )));
    }
    let title = match &p.identity.name {
        Some(n) => format!("Plan {n}: every objective of every evaluated variant"),
        None => "Plan: every objective of every evaluated variant".to_string(),
    };
    let chosen_text = match &p.chosen {
        Some(c) => format!(
            " The chosen variant ({}) is tinted and starred: every one of its objectives holds.",
            label(&c.params)
        ),
        None => " No variant meets every objective, so none is chosen.".to_string(),
    };
    let what = format!(
        "One group per evaluated variant, cheapest first, one row per objective: the marker is the mean over the replications as a percentage of the objective's limit, the whiskers its 95% interval. The dashed line is the limit and the shaded side of each row is where the objective fails (right of it for a maximum, left for a minimum such as a throughput or a hit ratio). An objective holds when its whole whisker is on the white side; values beyond {:.0}% are drawn as an arrow at the edge with their figure.{chosen_text}",
        limits::MAX_PERCENT
    );
    let doc = limits::draw(&title, &rows, &LOOKS, notes)?;
    Ok(Chart {
        file: "plan-objectives.svg".into(),
        title,
        what_to_look_at: what,
        svg: doc,
    })
}
