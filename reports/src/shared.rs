//! What the terminal summaries and the HTML pages share beyond the
//! number formats of [`crate::fmt`]: the ledger of a run's requests, the
//! notes under its services and database tables, the worst interval p99 of a latency series, the
//! columns of a plan's evaluated variants, and which metrics, windowed
//! figures and sharded databases a sweep has.

use std::fmt::Write as _;

use models::{
    Estimate, PlanResult, Results, RunObjective, RunVerdict, SweepResult, Totals, VariantSummary,
};
use sim_core::stats::LatencyPoint;

use crate::fmt::{Unit, int, mean, pct, short_path};

/// Fewest responses in a time-series bucket for its p99 to count: below
/// 100 samples a "p99" is just the largest one or two values.
pub(crate) const MIN_P99_SAMPLES: u64 = 100;

/// The worst interval p99 of a latency series (over buckets that start
/// after the warm-up, `from_s`, with at least [`MIN_P99_SAMPLES`]
/// responses) and when that bucket began, seconds.
pub(crate) fn worst_p99(
    series: &[LatencyPoint],
    interval_s: f64,
    from_s: f64,
) -> Option<(f64, f64)> {
    series
        .iter()
        .enumerate()
        .filter(|(i, p)| p.count >= MIN_P99_SAMPLES && *i as f64 * interval_s >= from_s - 1e-9)
        .map(|(i, p)| (p.p99_ms, i as f64 * interval_s))
        .fold(None, |best: Option<(f64, f64)>, x| match best {
            Some(b) if b.0 >= x.0 => Some(b),
            _ => Some(x),
        })
}

/// The ledger of every request of the run (warm-up included), each term
/// named and every term shown, zero or not, so that the sum can be checked
/// by eye: `generated = completed + timed out + rejected (503) + failed
/// in flight (502) + rate-limited (429) + still in flight`, the
/// conservation law of [`Totals`].
pub(crate) fn ledger(t: &Totals) -> String {
    format!(
        "{} generated = {} completed + {} timed out + {} rejected (503) + {} failed in flight (502) + {} rate-limited (429) + {} still in flight",
        int(t.generated),
        int(t.completed),
        int(t.failed),
        int(t.rejected),
        int(t.aborted),
        int(t.rate_limited),
        int(t.in_flight)
    )
}

/// Sentences under the services table for what it has no column for:
/// pods that came and went, sessions, health checks and rate limits.
pub(crate) fn component_notes(r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    for s in &r.services {
        let moved = s.ready_min != s.ready_max || s.crashes > 0 || !s.scaling.is_empty();
        if moved {
            let mut line = format!(
                "{}: {:.1} pods ready on average ({:.0} to {:.0}), {:.1} paid for",
                s.name, s.ready_mean, s.ready_min, s.ready_max, s.billed_mean
            );
            if !s.scaling.is_empty() {
                let _ = write!(line, "; {} scaling decisions", int(s.scaling.len() as u64));
            }
            if s.crashes > 0 {
                let _ = write!(
                    line,
                    "; {} pod crashes, {} requests failed with them",
                    int(s.crashes),
                    int(s.aborted)
                );
            }
            out.push(line);
        }
        if let Some(ss) = &s.sessions {
            out.push(format!(
                "{} sessions ({} on {}): {} lost = {} of the requests with a live session ({} with their pod, {} sent to another pod); {} created",
                s.name,
                ss.store,
                ss.key,
                int(ss.lost),
                pct(ss.loss_rate),
                int(ss.lost_with_pod),
                int(ss.lost_to_routing),
                int(ss.created)
            ));
        }
    }
    for l in &r.load_balancers {
        if l.sent_to_down > 0 || l.marked_down > 0 {
            out.push(format!(
                "{}: {} requests sent to dead pods before the health checks took them out ({} times)",
                l.name,
                int(l.sent_to_down),
                int(l.marked_down)
            ));
        }
        if l.rate_limited > 0 {
            out.push(format!(
                "{}: {} requests refused by the rate limit (429), {} of those it received",
                l.name,
                int(l.rate_limited),
                pct(l.rate_limited as f64 / l.requests.max(1) as f64)
            ));
        }
    }
    out
}

/// A sentence on a database's replicas and failed statements (None when
/// it has neither).
pub(crate) fn db_notes(d: &models::DbResult) -> Option<String> {
    let mut parts = Vec::new();
    if d.replicas > 0 {
        parts.push(format!(
            "{} read replica{} per shard, reads from {}: {} replica reads, {} stale ({} of reads)",
            d.replicas,
            if d.replicas == 1 { "" } else { "s" },
            d.read_from,
            int(d.replica_reads),
            int(d.stale_reads),
            pct(d.stale_read_ratio)
        ));
    }
    if d.failed_statements > 0 {
        parts.push(format!(
            "{} statements failed on a shard that was down",
            int(d.failed_statements)
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The header of a plan's table of evaluated variants: the variant, its
/// runs, cost and p99, one column per objective, its status.
pub(crate) fn evaluated_header(p: &PlanResult) -> Vec<String> {
    let mut header: Vec<String> = vec![
        "variant".into(),
        "runs".into(),
        "$/hour".into(),
        "p99 ms".into(),
    ];
    header.extend(p.slos.iter().map(|s| s.text.clone()));
    header.push("status".into());
    header
}

/// Names of `prefix.X.suffix` metrics present in `v`, in order.
pub(crate) fn names_of(v: &VariantSummary, prefix: &str, suffix: &str) -> Vec<String> {
    v.metrics
        .keys()
        .filter_map(|k| k.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)))
        .map(String::from)
        .collect()
}

/// The databases of a sweep spread over more than one shard in some
/// variant, in the first variant's order, each with its most shards.
pub(crate) fn sharded(s: &SweepResult) -> Vec<(&str, usize)> {
    let Some(first) = s.variants.first() else {
        return Vec::new();
    };
    first
        .shard_share
        .keys()
        .map(|db| {
            let shards = s
                .variants
                .iter()
                .filter_map(|v| v.shard_share.get(db).map(Vec::len))
                .max()
                .unwrap_or(0);
            (db.as_str(), shards)
        })
        .filter(|(_, shards)| *shards >= 2)
        .collect()
}

/// How many of a run's objectives hold, fail and were not measured, in
/// that order.
pub(crate) fn verdict_counts(objectives: &[RunObjective]) -> [usize; 3] {
    [
        RunVerdict::Holds,
        RunVerdict::Fails,
        RunVerdict::NotMeasured,
    ]
    .map(|v| objectives.iter().filter(|o| o.verdict == v).count())
}

/// How many of a run's objectives hold, fail and were not measured:
/// `15 of 16 hold, 1 fails`.
pub(crate) fn objectives_tally(objectives: &[RunObjective]) -> String {
    let [holds, fails, unmeasured] = verdict_counts(objectives);
    let mut s = format!(
        "{holds} of {} hold{}",
        objectives.len(),
        if holds == 1 && objectives.len() == 1 {
            "s"
        } else {
            ""
        }
    );
    if fails > 0 {
        let _ = write!(s, ", {fails} fail{}", if fails == 1 { "s" } else { "" });
    }
    if unmeasured > 0 {
        let _ = write!(s, ", {unmeasured} not measured");
    }
    s
}

/// A run objective's verdict in a word with its mark, as load-testing
/// tools print thresholds: `✓ holds`, `✗ FAILS`, `– not measured`.
pub(crate) fn run_verdict_word(v: RunVerdict) -> &'static str {
    match v {
        RunVerdict::Holds => "✓ holds",
        RunVerdict::Fails => "✗ FAILS",
        RunVerdict::NotMeasured => "– not measured",
    }
}

/// The run's figure of an objective in the objective's unit (seconds from
/// 10 s, fractions in percent); a dash when it was not measured (the
/// run's warnings say why).
pub(crate) fn run_value(o: &RunObjective) -> String {
    o.value.map_or_else(
        || "—".to_string(),
        |v| mean(&Estimate::of(&[v]), Unit::of(&o.objective.slo)),
    )
}

/// The windowed figures a sweep records (`METRIC@FROM..TO`, for the
/// scenario's windowed objectives), in order of first appearance: every
/// variant's, since a variant whose run ends before a window lacks it.
pub(crate) fn windowed(s: &SweepResult) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for k in s.variants.iter().flat_map(|v| v.metrics.keys()) {
        if k.contains('@') && !out.contains(&k.as_str()) {
            out.push(k);
        }
    }
    out
}

/// The column name of a windowed figure: `checkout.p99_ms @8m–17m`.
pub(crate) fn windowed_name(metric: &str) -> String {
    let m = metric.split('@').next().unwrap_or(metric);
    window_column(&short_path(m), metric)
}

/// The column name of windowed figure `metric` under the name `name`:
/// `p99 @8m–17m`.
pub(crate) fn window_column(name: &str, metric: &str) -> String {
    let window = metric.split_once('@').map_or("", |(_, w)| w);
    format!("{name} @{}", window.replace("..", "–"))
}

/// The variants of a sweep grouped by their load per shard of database
/// `db` as it is shown ([`pct`] of each share): each group's variants (in
/// grid order) and the shares of its first. One group means the layout
/// did not change between variants; a variant without the database is
/// left out.
pub(crate) fn shard_groups<'a>(
    s: &'a SweepResult,
    db: &str,
) -> Vec<(Vec<&'a VariantSummary>, &'a [f64])> {
    let mut groups: Vec<(Vec<String>, Vec<&VariantSummary>, &[f64])> = Vec::new();
    for v in &s.variants {
        let Some(shares) = v.shard_share.get(db) else {
            continue;
        };
        let shown: Vec<String> = shares.iter().map(|x| pct(*x)).collect();
        match groups.iter_mut().find(|(k, _, _)| *k == shown) {
            Some((_, vs, _)) => vs.push(v),
            None => groups.push((shown, vec![v], shares)),
        }
    }
    groups.into_iter().map(|(_, vs, sh)| (vs, sh)).collect()
}
