//! The plan chart: cost per hour against p99 for every variant the planner
//! evaluated, the cost-vs-p99 Pareto frontier, the p99 objective and the
//! configuration chosen, so the reader sees what the answer costs and how
//! much room it leaves.

use std::ops::Range;

use models::{PlanResult, Status};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::axes::{XAxis, YAxis, mesh, tick};
use crate::chart::{
    Chart, ChartError, INK, Key, Names, PALETTE, TEXT_PX, WIDTH, error_bars, font, frame,
    height_for, label, labelled_plot, svg,
};
use crate::fmt::value_text;

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

/// The cost-vs-p99 chart of a plan (none when nothing was evaluated).
pub fn plan_charts(p: &PlanResult) -> Result<Vec<Chart>, ChartError> {
    if p.evaluated.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![cost_vs_p99(p)?])
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

fn cost_vs_p99(p: &PlanResult) -> Result<Chart, ChartError> {
    let place = placement(p);
    let names = Names::of(p.identity.dims.iter().map(|d| d.path.as_str()));
    let ev = &p.evaluated;
    let p99_slos: Vec<_> = p.slos.iter().filter(|s| s.metric == "p99_ms").collect();
    let y = YAxis::for_points(
        ev.iter()
            .map(|e| (e.p99_ms.low, e.p99_ms.mean, e.p99_ms.high))
            .chain(p99_slos.iter().map(|s| (s.limit, s.limit, s.limit))),
    );
    let Range {
        start: x_lo,
        end: x_hi,
    } = place.axis.range();
    let chosen = p
        .chosen
        .as_ref()
        .and_then(|c| ev.iter().position(|e| e.index == c.index));
    let mut frontier: Vec<(f64, f64)> = p
        .frontier
        .iter()
        .filter_map(|i| Some((place.x[*i], ev.get(*i)?.p99_ms.mean)))
        .collect();
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
    for s in &p99_slos {
        keys.push(Key::line(format!("objective {}", s.text), (INK, true)));
    }
    let others: Vec<&str> = p
        .slos
        .iter()
        .filter(|s| s.metric != "p99_ms")
        .map(|s| s.text.as_str())
        .collect();
    if !others.is_empty() {
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

    let title = match (&p.identity.name, place.priced) {
        (Some(n), true) => format!("Plan {n}: cost vs p99 of every evaluated variant"),
        (None, true) => "Plan: cost vs p99 of every evaluated variant".to_string(),
        (Some(n), false) => format!("Plan {n}: p99 of every evaluated variant"),
        (None, false) => "Plan: p99 of every evaluated variant".to_string(),
    };
    let chosen_text = match &p.chosen {
        Some(c) => format!(
            "The chosen variant ({}) is the cheapest whose objectives all hold with 95% confidence.",
            label(&c.params)
        ),
        None => "No variant meets every objective, so none is chosen.".to_string(),
    };
    let x_text = if place.priced {
        "The blue line is the Pareto frontier: along it, paying more buys a lower p99; a point above it is beaten on both cost and p99."
    } else {
        "The scenario has no prices (every cost is $0), so the variants are placed by their parameters instead of cost; add price_per_replica_hour and price_per_shard_hour to the scenario to compare costs."
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
    let what = format!(
        "{chosen_text} {x_text} Bars are 95% confidence intervals of p99; a variant is judged on the far end of its interval, not its mean.{unstable}"
    );

    let doc = svg((WIDTH, height_for(&keys)), |root| {
        let plot = frame(root, &title, &keys)?;
        let mut chart =
            labelled_plot(&plot, 24).build_cartesian_2d(place.axis.clone(), y.clone())?;
        let money = |v: &f64| format!("${}", tick(*v));
        let money: Option<&dyn Fn(&f64) -> String> = if place.priced { Some(&money) } else { None };
        mesh(
            &mut chart,
            &place.axis,
            &place.desc,
            &y.desc("p99 latency (ms)"),
            money,
        )?;
        for s in &p99_slos {
            chart.draw_series(DashedLineSeries::new(
                [(x_lo, s.limit), (x_hi, s.limit)],
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
            let (c, _) = look(e.status);
            let at = (place.x[i], e.p99_ms.mean);
            if e.p99_ms.ci95.is_some() {
                let bar = (at.0, y.clamp(e.p99_ms.low), y.clamp(e.p99_ms.high));
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
        // chosen one above its point, or below when an objective line is
        // just above (the chosen variant is often just under its limit).
        let mid = (x_lo + x_hi) / 2.0;
        let near_line = |v: f64| {
            p99_slos
                .iter()
                .any(|s| (0.0..0.12).contains(&(y.frac(s.limit) - y.frac(v))))
        };
        let mut labels: Vec<(usize, String, bool)> = Vec::new();
        if ev.len() <= MAX_LABELS && place.priced {
            for (i, e) in ev.iter().enumerate() {
                if Some(i) != chosen {
                    labels.push((i, names.label(&e.params), false));
                }
            }
        }
        if let (Some(i), Some(c)) = (chosen, &p.chosen) {
            let cost = if place.priced {
                format!("${:.2}/h, ", c.cost_per_hour)
            } else {
                String::new()
            };
            let text = format!(
                "chosen: {}, {cost}p99 {:.2} ms",
                names.label(&c.params),
                c.p99_ms.mean
            );
            labels.push((i, text, true));
        }
        for (i, text, chosen) in labels {
            let e = &ev[i];
            let at = (place.x[i], e.p99_ms.mean);
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
            let dy: i32 = match (chosen, near_line(at.1)) {
                (true, false) => -20,
                (true, true) => 20,
                (false, _) => 14,
            };
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
        file: "plan-cost-p99.svg".into(),
        title,
        what_to_look_at: what,
        svg: doc,
    })
}
