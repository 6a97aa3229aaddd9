//! Capacity planning: the cheapest variant of a grid whose objectives hold
//! with 95% confidence.
//!
//! The planner does not run the whole grid when it need not:
//!
//! - **Monotone dimensions.** Every numeric dimension whose values ascend
//!   (or those `--search` names) is assumed monotone: a larger value never
//!   makes an objective worse (more replicas, workers, connections,
//!   consumers). Among variants equal in the other dimensions, one below
//!   a confirmed failure fails and one above a confirmed success meets:
//!   those verdicts are inferred, not run ([`PlanResult::inferred`]).
//! - **Pruning by cost.** When every variant's cost per hour is known
//!   before running ([`models::Model::fixed_cost_per_hour`]), a variant
//!   dearer than the best confirmed one is never run, and a `cost<N`
//!   objective is judged before running.
//! - **The walk** ([`search`]): cheapest open variant first, probing the
//!   top of its box or bisecting a rising path to a known success, until
//!   the cheapest open variant is confirmed; the same answer as
//!   `--exhaustive` whenever monotonicity holds (the argument is in
//!   [`search`]'s documentation).
//! - **Sequential replication.** Each variant starts with a few
//!   replications; as soon as every objective's 95% interval lies on its
//!   good side (holds) or one lies on its bad side (fails), the variant is
//!   decided; only undecided variants get more replications, up to the
//!   maximum. A variant still undecided then counts as not meeting the
//!   objectives (and implies nothing about its neighbours): the planner
//!   never recommends what it cannot confirm.
//! - **Common random numbers.** Replication `r` of every variant runs with
//!   seed `seed + r`, so a variant gets the same runs however the search
//!   reaches it (its figures equal the exhaustive plan's), and neighbours
//!   are judged on the same draws. Verdicts use each variant's own
//!   interval against fixed limits; no paired difference enters them.
//!   The chosen variant is then compared with each evaluated neighbour
//!   one value lower in a searched dimension, replication by replication
//!   ([`PlanResult::paired`]): differences of runs with the same seed.
//!
//! Among the variants that meet every objective the cheapest (cost per
//! hour; equal costs in grid order, smaller values first) is chosen.

pub mod search;
pub mod slo;

use indexmap::IndexMap;
use rayon::prelude::*;

use serde_json::Value;

use crate::sweep::aggregate::{VariantSummary, aggregate};
use crate::sweep::record::RunRecord;
use crate::sweep::{Runner, SweepError, SweepSetup};
use slo::{Slo, Verdict};

pub use models::{
    Check, Evaluated, InferredVariant, PairedComparison, PlanResult, Status, UnstableVariant,
};

/// How hard the planner works.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Replications every evaluated variant gets first (at least 2).
    pub min_replications: u32,
    /// Most replications of one variant.
    pub max_replications: u32,
    /// Replications added per round to undecided variants.
    pub batch: u32,
    /// The dimensions assumed monotone (empty: every ascending numeric
    /// one).
    pub search: Vec<String>,
    /// Evaluate every variant (no search).
    pub exhaustive: bool,
    /// Threads (0: all cores).
    pub threads: usize,
}

/// Runs the planner.
pub fn plan(
    setup: &SweepSetup,
    slos: &[Slo],
    opt: &PlanOptions,
    progress: &indicatif::ProgressBar,
) -> Result<PlanResult, SweepError> {
    if slos.is_empty() {
        return Err(SweepError::Input(
            "plan needs at least one objective: --slo 'p99<250ms', or an `slo` section in the scenario (or in its sweep)".into(),
        ));
    }
    let min_r = opt.min_replications.max(2);
    let max_r = opt.max_replications.max(min_r);
    let runner = setup.runner(opt.threads)?;
    if setup.unstable.len() == setup.variants.len() {
        return Err(SweepError::Input(format!(
            "{}: every variant is unstable, e.g. {}",
            setup.file,
            setup.unstable.values().next().map_or("", String::as_str)
        )));
    }
    let searched = if opt.exhaustive {
        Vec::new()
    } else {
        searched_dims(setup, &opt.search)?
    };
    let mut state = Evaluator {
        setup,
        runner: &runner,
        metrics_checked: false,
        slos,
        min_r,
        max_r,
        batch: opt.batch.max(1),
        records: IndexMap::new(),
        decided: IndexMap::new(),
        runs: 0,
        progress,
    };
    let mut implied = Vec::new();
    let mut pruned = 0;
    let mut prices_fixed = false;
    if opt.exhaustive {
        let all: Vec<usize> = setup
            .variants
            .iter()
            .map(|v| v.index)
            .filter(|v| !setup.unstable.contains_key(v))
            .collect();
        state.evaluate(&all)?;
    } else {
        let mut points = points(setup, &searched);
        let costs = fixed_costs(setup)?;
        prices_fixed = costs.is_some();
        // A `cost<N` objective gets worse as a dimension grows: with fixed
        // prices it is judged before running, and a variant over budget
        // is set aside (it fails, and implies nothing about the others).
        let mut over_budget = 0;
        if let Some(costs) = &costs {
            for (p, &c) in points.iter_mut().zip(costs) {
                let exact = models::Estimate {
                    mean: c,
                    ci95: Some(0.0),
                    low: c,
                    high: c,
                };
                if !p.excluded
                    && slos
                        .iter()
                        .any(|s| s.metric == COST_METRIC && s.verdict(&exact) == Verdict::Fails)
                {
                    p.excluded = true;
                    over_budget += 1;
                }
            }
        }
        // Enough variants per round to give every thread a replication.
        let width = runner.threads().div_ceil(min_r as usize).max(1);
        let out = search::search(&points, costs.as_deref(), width, |vs| {
            state.evaluate(vs)?;
            Ok::<_, SweepError>(vs.iter().map(|v| state.decided[v].status).collect())
        })?;
        pruned = out.pruned + over_budget;
        implied = out
            .implied
            .iter()
            .map(|i| InferredVariant {
                index: i.index,
                params: setup.variants[i.index].params.iter().cloned().collect(),
                status: i.status,
                from: i.from,
            })
            .collect();
    }
    let mut evaluated: Vec<Evaluated> = state.decided.values().cloned().collect();
    // Cheapest first; equal costs (e.g. a scenario without prices) in
    // grid order, which puts smaller values of each dimension first.
    evaluated.sort_by(|a, b| {
        a.cost_per_hour
            .total_cmp(&b.cost_per_hour)
            .then(a.index.cmp(&b.index))
    });
    let chosen = evaluated
        .iter()
        .find(|e| e.status == Status::Meets)
        .cloned();
    // Pareto frontier of (cost, p99): a variant is on it when no other
    // costs no more and has a lower p99 (or costs less with the same p99).
    // A variant without an ok response in some replication has no p99
    // (it reads 0 ms) and takes no part.
    let has_p99: Vec<bool> = evaluated
        .iter()
        .map(|e| {
            state.records.get(&e.index).is_none_or(|recs| {
                recs.iter()
                    .all(|r| !r.unmeasured.iter().any(|m| m == "p99_ms"))
            })
        })
        .collect();
    let frontier: Vec<usize> = (0..evaluated.len())
        .filter(|&i| {
            let e = &evaluated[i];
            has_p99[i]
                && !evaluated.iter().enumerate().any(|(j, o)| {
                    j != i
                        && has_p99[j]
                        && o.cost_per_hour <= e.cost_per_hour
                        && o.p99_ms.mean <= e.p99_ms.mean
                        && (o.cost_per_hour < e.cost_per_hour || o.p99_ms.mean < e.p99_ms.mean)
                })
        })
        .collect();
    let paired = chosen
        .as_ref()
        .map(|c| state.paired(c.index, &searched))
        .unwrap_or_default();
    Ok(PlanResult {
        identity: setup.identity(),
        slos: slos.to_vec(),
        grid_size: setup.variants.len(),
        runs: state.runs,
        search: searched.first().map(|&k| setup.dims[k].path.clone()),
        chosen,
        evaluated,
        frontier,
        unstable: setup
            .unstable
            .iter()
            .map(|(v, why)| UnstableVariant {
                params: setup.variants[*v].params.iter().cloned().collect(),
                reason: why.clone(),
            })
            .collect(),
        searched: searched
            .iter()
            .map(|&k| setup.dims[k].path.clone())
            .collect(),
        inferred: implied,
        pruned,
        prices_fixed,
        paired,
    })
}

/// The dimensions assumed monotone: those `--search` names (each must
/// ascend), or else every dimension whose values are ascending numbers.
fn searched_dims(setup: &SweepSetup, named: &[String]) -> Result<Vec<usize>, SweepError> {
    if named.is_empty() {
        return Ok((0..setup.dims.len())
            .filter(|&k| setup.dims[k].values.len() > 1 && ascending_numbers(&setup.dims[k].values))
            .collect());
    }
    let mut out = Vec::new();
    for p in named {
        let k = setup
            .dims
            .iter()
            .position(|d| &d.path == p)
            .ok_or_else(|| {
                SweepError::Input(format!("--search {p}: not one of the varied paths"))
            })?;
        if !ascending_numbers(&setup.dims[k].values) {
            return Err(SweepError::Input(format!(
                "--search {p}: its values must be ascending numbers to be searched"
            )));
        }
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The grid as the search sees it: the values of the other dimensions
/// make the group, the positions along the searched ones the coordinates
/// (values ascend, so positions order them).
fn points(setup: &SweepSetup, searched: &[usize]) -> Vec<search::Point> {
    let mut groups: IndexMap<Vec<String>, usize> = IndexMap::new();
    setup
        .variants
        .iter()
        .map(|v| {
            let key: Vec<String> = v
                .params
                .iter()
                .enumerate()
                .filter(|(k, _)| !searched.contains(k))
                .map(|(_, (_, x))| x.to_string())
                .collect();
            let n = groups.len();
            let group = *groups.entry(key).or_insert(n);
            let coords = searched
                .iter()
                .map(|&k| {
                    let d = &setup.dims[k];
                    d.values
                        .iter()
                        .position(|x| *x == v.params[k].1)
                        .expect("a variant's value is one of its dimension's")
                })
                .collect();
            search::Point {
                group,
                coords,
                excluded: setup.unstable.contains_key(&v.index),
            }
        })
        .collect()
}

/// Every stable variant's cost per hour, when each is known before
/// running (fixed prices); `None` when any depends on the run.
fn fixed_costs(setup: &SweepSetup) -> Result<Option<Vec<f64>>, SweepError> {
    let mut costs = Vec::with_capacity(setup.variants.len());
    for v in &setup.variants {
        if setup.unstable.contains_key(&v.index) {
            costs.push(f64::INFINITY);
            continue;
        }
        match setup.model(v, setup.seed)?.fixed_cost_per_hour() {
            Some(c) => costs.push(c),
            None => return Ok(None),
        }
    }
    Ok(Some(costs))
}

/// The metric of cost per hour.
const COST_METRIC: &str = "cost.per_hour";

fn ascending_numbers(values: &[Value]) -> bool {
    let nums: Option<Vec<f64>> = values.iter().map(Value::as_f64).collect();
    nums.is_some_and(|n| n.windows(2).all(|w| w[0] < w[1]))
}

struct Evaluator<'a> {
    setup: &'a SweepSetup,
    runner: &'a Runner,
    /// Whether the objectives' metrics were found in a first record.
    metrics_checked: bool,
    slos: &'a [Slo],
    min_r: u32,
    max_r: u32,
    batch: u32,
    records: IndexMap<usize, Vec<RunRecord>>,
    decided: IndexMap<usize, Evaluated>,
    runs: usize,
    progress: &'a indicatif::ProgressBar,
}

impl Evaluator<'_> {
    /// Replicates `variants` until each is decided or at the maximum.
    fn evaluate(&mut self, variants: &[usize]) -> Result<(), SweepError> {
        let mut open: Vec<usize> = variants
            .iter()
            .copied()
            .filter(|v| !self.decided.contains_key(v) && !self.setup.unstable.contains_key(v))
            .collect();
        let mut target = self.min_r;
        while !open.is_empty() {
            let jobs: Vec<(usize, u32)> = open
                .iter()
                .flat_map(|&v| {
                    let have = self.records.get(&v).map_or(0, Vec::len) as u32;
                    (have..target).map(move |r| (v, r))
                })
                .collect();
            self.progress.inc_length(jobs.len() as u64);
            let (setup, runner, progress) = (self.setup, self.runner, self.progress);
            let max_r = self.max_r as usize;
            let recs: Vec<RunRecord> = runner.install(|| {
                jobs.par_iter()
                    .map(|&(v, r)| {
                        let rec = setup.run_at(v, r, v * max_r + r as usize, &runner.base);
                        progress.inc(1);
                        rec
                    })
                    .collect::<Result<Vec<_>, _>>()
            })?;
            // The first records tell which metrics this scenario produces:
            // refuse an objective on one it does not, before judging.
            if !self.metrics_checked
                && let Some(first) = recs.first()
            {
                self.metrics_checked = true;
                for s in self.slos {
                    if !first.metrics.contains_key(&s.metric) {
                        let known: Vec<&str> = first.metrics.keys().map(String::as_str).collect();
                        return Err(SweepError::Input(format!(
                            "--slo {}: this scenario has no metric `{}` (it has: {})",
                            s.text,
                            s.metric,
                            known.join(", ")
                        )));
                    }
                }
            }
            self.runs += recs.len();
            for rec in recs {
                self.records.entry(rec.variant).or_default().push(rec);
            }
            let mut still = Vec::new();
            for &v in &open {
                let e = self.judge(v);
                if e.status == Status::Unsure && e.replications < self.max_r {
                    still.push(v);
                } else {
                    self.decided.insert(v, e);
                }
            }
            open = still;
            target = (target + self.batch).min(self.max_r);
        }
        Ok(())
    }

    /// Variant `c` against each evaluated variant one value lower in one
    /// of the `searched` dimensions (equal in the others), objective by
    /// objective, paired by replication: the differences of replication
    /// `r`, which both ran with seed `seed + r`.
    fn paired(&self, c: usize, searched: &[usize]) -> Vec<PairedComparison> {
        let params = &self.setup.variants[c].params;
        let mut out = Vec::new();
        for &k in searched {
            let d = &self.setup.dims[k];
            let Some(pos) = d.values.iter().position(|x| *x == params[k].1) else {
                continue;
            };
            let Some(lower) = pos.checked_sub(1).map(|p| &d.values[p]) else {
                continue;
            };
            let Some(n) = self.setup.variants.iter().find(|v| {
                v.params.iter().enumerate().all(|(j, (_, x))| {
                    if j == k {
                        x == lower
                    } else {
                        *x == params[j].1
                    }
                })
            }) else {
                continue;
            };
            let (Some(mine), Some(theirs)) = (self.records.get(&c), self.records.get(&n.index))
            else {
                continue;
            };
            let pairs: Vec<(&RunRecord, &RunRecord)> = mine
                .iter()
                .filter_map(|a| {
                    theirs
                        .iter()
                        .find(|b| b.replication == a.replication)
                        .map(|b| (a, b))
                })
                .collect();
            let differences = self
                .slos
                .iter()
                .map(|s| {
                    let diffs: Vec<f64> = pairs
                        .iter()
                        .map(|(a, b)| a.metrics[&s.metric] - b.metrics[&s.metric])
                        .collect();
                    models::Estimate::of(&diffs)
                })
                .collect();
            out.push(PairedComparison {
                index: n.index,
                params: n.params.iter().cloned().collect(),
                replications: pairs.len() as u32,
                differences,
            });
        }
        out
    }

    fn judge(&self, v: usize) -> Evaluated {
        let recs = &self.records[&v];
        let summary: VariantSummary = aggregate(&self.setup.variants[v], recs);
        let checks: Vec<Check> = self
            .slos
            .iter()
            .map(|s| {
                let estimate = summary.metrics[&s.metric].clone();
                let empty: Vec<u64> = recs
                    .iter()
                    .filter(|r| r.unmeasured.contains(&s.metric))
                    .map(|r| r.seed)
                    .collect();
                let (metric, window) = match models::split_windowed(&s.metric) {
                    Some((m, _)) => (m, true),
                    None => (s.metric.as_str(), false),
                };
                let reason = models::unmeasured_in(metric, window, &empty);
                Check {
                    slo: s.text.clone(),
                    verdict: if reason.is_some() {
                        Verdict::Fails
                    } else {
                        s.verdict(&estimate)
                    },
                    margin: s.margin(&estimate),
                    estimate,
                    reason,
                }
            })
            .collect();
        let status = if checks.iter().any(|c| c.verdict == Verdict::Fails) {
            Status::Fails
        } else if checks.iter().all(|c| c.verdict == Verdict::Holds) {
            Status::Meets
        } else {
            Status::Unsure
        };
        Evaluated {
            index: v,
            params: summary.params.clone(),
            replications: summary.replications,
            cost_per_hour: summary.metrics.get(COST_METRIC).map_or(0.0, |e| e.mean),
            p99_ms: summary.metrics["p99_ms"].clone(),
            checks,
            status,
        }
    }
}
