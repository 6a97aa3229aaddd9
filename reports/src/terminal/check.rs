//! A check for people, printed by `capsim check`: one table per scenario
//! and a sentence for every failure and regression. The JUnit report of
//! the command line uses the same words ([`label`], [`failure_sentence`]).

use std::fmt::Write as _;

use comfy_table::Cell;
use models::{CheckReport, CheckStatus, Estimate, ObjectiveCheck, Slo};

use super::{Tone, paint, table, verdict_cell};
use crate::fmt::{Digits, Unit, change, estimate, margin, mean, pct};

/// The result word of an objective.
pub fn result_word(o: &ObjectiveCheck, strict: bool) -> String {
    let limit = match o.status {
        CheckStatus::Pass => "pass",
        CheckStatus::Marginal if strict => "MARGINAL (strict)",
        CheckStatus::Marginal => "marginal",
        CheckStatus::Fail => "FAIL",
    };
    match (o.status, o.regressed()) {
        (CheckStatus::Pass, true) => "REGRESSED".to_string(),
        (_, true) => format!("{limit}, REGRESSED"),
        _ => limit.to_string(),
    }
}

/// The colour of [`result_word`]: red for a failure or a regression
/// (a marginal one under `--strict`), yellow for a marginal one, green
/// for a pass.
fn result_tone(o: &ObjectiveCheck, strict: bool) -> Tone {
    if o.fails_limit(strict) || o.regressed() {
        Tone::Bad
    } else if o.status == CheckStatus::Marginal {
        Tone::Unsure
    } else {
        Tone::Good
    }
}

/// The objective's label: its entry's name, then what it limits.
pub fn label(o: &ObjectiveCheck) -> String {
    o.objective.label()
}

/// Why an objective failed, in one sentence.
pub fn failure_sentence(o: &ObjectiveCheck, strict: bool) -> Option<String> {
    let s = &o.objective.slo;
    let unit = Unit::of(s);
    let mut parts = Vec::new();
    match o.status {
        CheckStatus::Fail if o.reason.is_some() => parts.push(format!(
            "{} cannot be judged: {}",
            what(o),
            o.reason.as_deref().unwrap_or_default()
        )),
        CheckStatus::Fail => parts.push(format!(
            "{} is {} (limit {})",
            what(o),
            estimate(&o.estimate, unit),
            limit_text(o)
        )),
        CheckStatus::Marginal if strict => parts.push(format!(
            "{} is {}: its 95% interval straddles the limit {} (--strict)",
            what(o),
            estimate(&o.estimate, unit),
            limit_text(o)
        )),
        _ => {}
    }
    if let Some(b) = o.baseline.as_ref().filter(|b| b.regression) {
        let rel = b
            .worse_by_relative
            .map(|r| format!(" ({:+.1}%)", r * 100.0 * direction(s)))
            .unwrap_or_default();
        parts.push(format!(
            "{} regresses from {} to {}{rel}, beyond the tolerance of {}",
            what(o),
            mean(&b.estimate, unit),
            mean(&o.estimate, unit),
            Digits::of(&b.worse_by, unit.change()).value(b.threshold, unit.change()),
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// +1 when a higher value is worse (upper limits), -1 otherwise: turns a
/// "worse by" back into a signed change of the value.
fn direction(s: &Slo) -> f64 {
    match s.op {
        models::Op::Below => 1.0,
        models::Op::Above => -1.0,
    }
}

/// The limit as written in the objective's text (`300ms`, `0.1%`).
pub fn limit_text(o: &ObjectiveCheck) -> String {
    o.objective.slo.limit_text()
}

/// What is measured, for sentences: `endpoint checkout p99 over 60s–150s`.
fn what(o: &ObjectiveCheck) -> String {
    let text = &o.objective.slo.text;
    let head = text
        .split_once(" < ")
        .or_else(|| text.split_once(" > "))
        .map_or(text.as_str(), |(h, _)| h);
    match o.objective.window {
        Some(w) => format!("{head} over {w}"),
        None => head.to_string(),
    }
}

/// The baseline column: the baseline's mean, then the change of the
/// value (current − baseline) with its interval, fractions in percentage
/// points: `6.196ms → +0.864 ± 0.054ms (+13.9%)`.
fn baseline_cell(o: &ObjectiveCheck) -> String {
    let s = &o.objective.slo;
    let unit = Unit::of(s);
    let Some(b) = &o.baseline else {
        return "—".to_string();
    };
    let d = direction(s);
    let delta = Estimate {
        mean: b.worse_by.mean * d,
        ci95: b.worse_by.ci95,
        low: 0.0,
        high: 0.0,
    };
    let rel = b
        .worse_by_relative
        .map(|r| {
            let r = r * 100.0 * d;
            let r = if r.abs() < 0.05 { 0.0 } else { r };
            format!(" ({r:+.1}%)")
        })
        .unwrap_or_default();
    let how = match (&b.note, b.paired) {
        (Some(_), _) => " (undecided)",
        (None, true) => "",
        (None, false) => " unpaired",
    };
    format!(
        "{} → {}{rel}{how}",
        mean(&b.estimate, unit),
        change(&delta, unit.change())
    )
}

/// The summary printed after a check.
pub fn summary(c: &CheckReport) -> String {
    let mut out = String::new();
    let total: usize = c.scenarios.iter().map(|s| s.objectives.len()).sum();
    let failed: usize = c
        .scenarios
        .iter()
        .flat_map(|s| &s.objectives)
        .filter(|o| o.fails_limit(c.strict))
        .count();
    let regressed: usize = c
        .scenarios
        .iter()
        .flat_map(|s| &s.objectives)
        .filter(|o| o.regressed())
        .count();
    let marginal: usize = c
        .scenarios
        .iter()
        .flat_map(|s| &s.objectives)
        .filter(|o| o.status == CheckStatus::Marginal)
        .count();
    for s in &c.scenarios {
        let _ = writeln!(
            out,
            "{} ({}): {} objective(s), {} replication(s), seed {}{}",
            s.scenario,
            s.file,
            s.objectives.len(),
            s.replications,
            s.seed,
            if s.replications > 1 {
                ", values are means ± 95% interval"
            } else {
                ""
            }
        );
        let mut header = vec!["objective", "limit", "measured", "margin"];
        if c.baseline.is_some() {
            header.push("baseline → change");
        }
        header.push("result");
        let mut t = table(&header, header.len());
        for o in &s.objectives {
            let sl = &o.objective.slo;
            let unit = Unit::of(sl);
            let pct = if sl.limit != 0.0 {
                format!(" ({:+.0}%)", o.margin / sl.limit.abs() * 100.0)
            } else {
                String::new()
            };
            let margin = margin(&o.estimate, o.margin, unit);
            let mut row = vec![
                Cell::new(label(o)),
                Cell::new(limit_text(o)),
                Cell::new(estimate(&o.estimate, unit)),
                Cell::new(format!("{margin}{pct}")),
            ];
            if c.baseline.is_some() {
                row.push(Cell::new(baseline_cell(o)));
            }
            row.push(verdict_cell(
                result_word(o, c.strict),
                result_tone(o, c.strict),
            ));
            t.add_row(row);
        }
        let _ = writeln!(out, "{t}");
        if c.baseline.is_some() && s.objectives.iter().all(|o| o.baseline.is_none()) {
            let _ = writeln!(
                out,
                "(the baseline has no scenario named `{}`: nothing to compare)",
                s.scenario
            );
        }
        let _ = writeln!(out);
    }
    for s in &c.scenarios {
        for o in &s.objectives {
            if let Some(why) = failure_sentence(o, c.strict) {
                let name = o
                    .objective
                    .name
                    .as_ref()
                    .map(|n| format!("{n}: "))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{} {}: {name}{why}",
                    paint("FAILED", Tone::Bad),
                    s.scenario
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "check {}: {} scenario(s), {total} objective(s): {failed} failed, {regressed} regressed{}, {marginal} marginal{}",
        if c.passed {
            paint("passed", Tone::Good)
        } else {
            paint("FAILED", Tone::Bad)
        },
        c.scenarios.len(),
        match &c.baseline {
            Some(b) => format!(" against {b} (tolerance {})", pct(c.tolerance)),
            None => String::new(),
        },
        if marginal > 0 && !c.strict {
            " (marginal: the mean meets the limit but its 95% interval straddles it; more replications decide, --strict fails them)"
        } else {
            ""
        }
    );
    out
}
