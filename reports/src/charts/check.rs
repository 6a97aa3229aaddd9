//! The check chart: every objective of every scenario as its measured
//! value in percent of its limit (100% = the limit), the 95% interval as
//! whiskers, the marker coloured and shaped by the outcome, and the
//! baseline's value when there is one, so a reader sees at once which
//! objectives fail, which are close to their limit and which moved.

use models::{CheckReport, CheckStatus, ObjectiveCheck, ScenarioCheck};

use super::limits::{self, Looks, MAX_PERCENT, Measured, Outcome, Row};
use crate::chart::{Chart, ChartError, Key};

/// Most objectives drawn; further ones are left out and the chart says so
/// (the page's tables have them all).
pub const MAX_OBJECTIVES: usize = 60;

/// The legend's words for the outcomes of a check.
const LOOKS: Looks = Looks {
    good: "pass: the whole interval on the good side",
    unsure: "marginal: the interval straddles the limit",
    bad: "FAIL: the mean on the bad side",
};

/// The marker of an outcome.
fn outcome(s: CheckStatus) -> Outcome {
    match s {
        CheckStatus::Pass => Outcome::Good,
        CheckStatus::Marginal => Outcome::Unsure,
        CheckStatus::Fail => Outcome::Bad,
    }
}

/// The chart of a check (none when no scenario has an objective).
pub fn check_charts(c: &CheckReport) -> Result<Vec<Chart>, ChartError> {
    if c.scenarios.iter().all(|s| s.objectives.is_empty()) {
        return Ok(Vec::new());
    }
    Ok(vec![objectives_vs_limits(c)?])
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

/// One objective's row.
fn objective_row(o: &ObjectiveCheck) -> Row<'_> {
    Row::Value {
        label: objective_label(o),
        measured: Measured {
            op: o.objective.slo.op,
            limit: o.objective.slo.limit,
            estimate: &o.estimate,
            outcome: outcome(o.status),
            failed: o.failed,
            baseline: o.baseline.as_ref().map(|b| (b.estimate.mean, b.regression)),
        },
    }
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
        rows.push(Row::Heading {
            label: scenario_label(s),
            bad: !s.passed,
            marked: false,
        });
        for o in s.objectives.iter().take(MAX_OBJECTIVES - drawn) {
            rows.push(objective_row(o));
            drawn += 1;
        }
    }
    let any_baseline = rows
        .iter()
        .any(|r| matches!(r, Row::Value { measured, .. } if measured.baseline.is_some()));
    let mut notes = Vec::new();
    if drawn < total {
        notes.push(Key::note(format!(
            "(only the first {drawn} of {total} objectives are drawn)"
        )));
    }

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
    let doc = limits::draw(&title, &rows, &LOOKS, notes)?;
    Ok(Chart {
        file: "check-objectives.svg".into(),
        title,
        what_to_look_at: what,
        svg: doc,
    })
}
