//! The planner's answer for people, printed by `capsim plan`: the chosen
//! variant and its objectives, every evaluated variant, the unstable ones
//! and why the cheaper ones were rejected.

use std::fmt::Write as _;

use models::{Check, Evaluated, Op, PlanResult, Slo, Status, Verdict};

use comfy_table::Cell;

use super::{Tone, paint, table, verdict_cell};
use crate::fmt::{Digits, Unit, change, estimate, int, margin, money, params};
use crate::shared::evaluated_header;

/// An objective's estimate in its unit: `30.98 ± 0.15ms`, `0 ± 0%`.
/// `no data` when the objective could not be judged (no response).
fn check_text(s: &Slo, c: &Check) -> String {
    if c.reason.is_some() {
        return "no data".to_string();
    }
    estimate(&c.estimate, Unit::of(s))
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "holds",
        Verdict::Fails => "FAILS",
        Verdict::Unsure => "unsure",
    }
}

fn verdict_tone(v: Verdict) -> Tone {
    match v {
        Verdict::Holds => Tone::Good,
        Verdict::Fails => Tone::Bad,
        Verdict::Unsure => Tone::Unsure,
    }
}

fn why(e: &Evaluated, slos: &[Slo]) -> String {
    let mut reasons = Vec::new();
    for (s, c) in slos.iter().zip(&e.checks) {
        if c.verdict == Verdict::Holds {
            continue;
        }
        let over = -c.margin;
        let rel = if s.limit != 0.0 {
            over / s.limit.abs() * 100.0
        } else {
            0.0
        };
        let side = match s.op {
            Op::Below => "over",
            Op::Above => "under",
        };
        reasons.push(match c.verdict {
            Verdict::Fails if c.reason.is_some() => format!(
                "{} fails: it cannot be judged, {}",
                s.text,
                c.reason.as_deref().unwrap_or_default()
            ),
            Verdict::Fails => format!(
                "{} fails: {} is {side} the limit by {} ({rel:.0}%)",
                s.text,
                check_text(s, c),
                Digits::of(&c.estimate, Unit::of(s).change())
                    .value(over.abs(), Unit::of(s).change())
            ),
            _ => format!(
                "{} is unsure after {} replications: {} straddles the limit",
                s.text,
                e.replications,
                check_text(s, c)
            ),
        });
    }
    reasons.join("; ")
}

/// What was searched and how much of the grid ran: `Plan for S: 2
/// objective(s), grid of 120 variants; evaluated 9 (41 runs); 30 inferred
/// by monotonicity, 81 pruned by cost`, then the monotone dimensions.
fn headline(p: &PlanResult) -> String {
    let mut line = format!(
        "Plan for {}: {} objective(s), grid of {} variants; ",
        p.identity.scenario,
        p.slos.len(),
        p.grid_size
    );
    // Plans saved before `searched` existed name one dimension in `search`.
    let searched: Vec<&str> = if p.searched.is_empty() {
        p.search.iter().map(String::as_str).collect()
    } else {
        p.searched.iter().map(String::as_str).collect()
    };
    if searched.is_empty() && p.inferred.is_empty() && p.pruned == 0 {
        let _ = write!(
            line,
            "evaluated {} exhaustively, {} runs",
            p.evaluated.len(),
            p.runs
        );
        return line;
    }
    let _ = write!(
        line,
        "evaluated {} ({} runs); {} inferred by monotonicity, {} pruned by cost",
        p.evaluated.len(),
        p.runs,
        p.inferred.len(),
        p.pruned
    );
    if !p.unstable.is_empty() {
        let _ = write!(line, ", {} unstable", p.unstable.len());
    }
    if !searched.is_empty() {
        let _ = write!(
            line,
            "\nassumed monotone (a larger value never makes an objective worse): {}",
            searched.join(", ")
        );
    }
    if !p.prices_fixed && !p.searched.is_empty() {
        let _ = write!(
            line,
            "\nnote: costs depend on the run (autoscaling, failing pods or a CDN billed by use), so none is pruned by cost: every variant not inferred to fail was evaluated"
        );
    }
    line
}

/// The summary printed after a plan.
pub fn summary(p: &PlanResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", headline(p));
    if p.evaluated.iter().all(|e| e.cost_per_hour == 0.0) {
        let _ = writeln!(
            out,
            "note: the scenario sets no prices, so every variant costs $0; ties go to the smaller configuration (grid order)"
        );
    }
    match &p.chosen {
        Some(c) => {
            let _ = writeln!(
                out,
                "\nChosen: {} — {}/hour, {} replication{}",
                params(&c.params),
                money(c.cost_per_hour),
                c.replications,
                if c.replications == 1 { "" } else { "s" }
            );
            for (s, ch) in p.slos.iter().zip(&c.checks) {
                let _ = writeln!(
                    out,
                    "  {:<28} {:>22}  margin {}  {}",
                    s.text,
                    check_text(s, ch),
                    margin(&ch.estimate, ch.margin, Unit::of(s).change()),
                    paint(verdict_word(ch.verdict), verdict_tone(ch.verdict))
                );
            }
            let _ = writeln!(
                out,
                "Every objective holds with 95% confidence: the far end of each interval is inside its limit."
            );
            if !p.paired.is_empty() {
                let _ = writeln!(
                    out,
                    "Against the next smaller evaluated variants, paired by replication (replication r of both ran with seed SEED+r):"
                );
            }
            for n in &p.paired {
                let diffs: Vec<String> = p
                    .slos
                    .iter()
                    .zip(&n.differences)
                    .map(|(s, d)| format!("{} {}", s.text, change(d, Unit::of(s).change())))
                    .collect();
                let _ = writeln!(
                    out,
                    "  vs {} ({} pairs): {}",
                    params(&n.params),
                    n.replications,
                    diffs.join(", ")
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "\n{} The closest (by cost) and why they fall short are listed below.",
                paint("No variant meets the objectives.", Tone::Bad)
            );
        }
    }

    let header = evaluated_header(p);
    let mut t = table(&header, header.len());
    for (i, e) in p.evaluated.iter().enumerate() {
        let mut row = vec![
            format!(
                "{}{}",
                params(&e.params),
                if p.frontier.contains(&i) { " *" } else { "" }
            ),
            int(u64::from(e.replications)),
            money(e.cost_per_hour),
            estimate(&e.p99_ms, Unit::Plain("")),
        ]
        .into_iter()
        .map(Cell::new)
        .collect::<Vec<_>>();
        for (s, c) in p.slos.iter().zip(&e.checks) {
            row.push(verdict_cell(
                format!("{} {}", check_text(s, c), verdict_word(c.verdict)),
                verdict_tone(c.verdict),
            ));
        }
        row.push(match e.status {
            Status::Meets => verdict_cell("meets", Tone::Good),
            Status::Fails => verdict_cell("fails", Tone::Bad),
            Status::Unsure => verdict_cell("unsure", Tone::Unsure),
        });
        t.add_row(row);
    }
    let _ = writeln!(
        out,
        "\nEvaluated variants, cheapest first (* = on the cost-vs-p99 Pareto frontier: no other variant is both no dearer and faster)\n{t}"
    );

    for u in &p.unstable {
        let _ = writeln!(
            out,
            "Not run, unstable: {} — {}",
            params(&u.params),
            u.reason
        );
    }
    let limit_cost = p.chosen.as_ref().map_or(f64::INFINITY, |c| c.cost_per_hour);
    let rejected: Vec<&Evaluated> = p
        .evaluated
        .iter()
        .filter(|e| e.status != Status::Meets && e.cost_per_hour <= limit_cost)
        .collect();
    if !rejected.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            if p.chosen.is_some() {
                "Why the cheaper variants were rejected:"
            } else {
                "Why each evaluated variant was rejected:"
            }
        );
        for e in rejected {
            let _ = writeln!(
                out,
                "  {} ({}/hour): {}",
                params(&e.params),
                money(e.cost_per_hour),
                why(e, &p.slos)
            );
        }
    }
    out
}
