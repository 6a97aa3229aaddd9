//! The documents of sweeps and plans: what `capsim sweep` writes to
//! `sweep.json` and `capsim plan` to `plan.json`. They live here, beside
//! the run [`Results`](crate::Results), so that reports can render them
//! and saved documents can be re-rendered.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_core::stats::{LatencySummary, student_t_interval};

/// One varied field and the values it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dimension {
    /// Field path, as for `--set` (`services.app.replicas`).
    pub path: String,
    /// The values, in the order given.
    pub values: Vec<Value>,
}

/// The identity of a sweep, written into results and partitions so that
/// parts of different sweeps are never merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepIdentity {
    /// Scenario name.
    pub scenario: String,
    /// xxh3-64 of the scenario text, hex.
    pub scenario_hash: String,
    /// Base `--set`s.
    pub sets: Vec<String>,
    /// Scenario-file sweep name.
    pub name: Option<String>,
    /// The varied fields.
    pub dims: Vec<Dimension>,
    /// Replications per variant.
    pub replications: u32,
    /// Seed of replication 0.
    pub seed: u64,
}

/// The sweep document (`sweep.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// Format version of this document.
    pub format_version: u32,
    /// capsim version.
    pub capsim_version: String,
    /// What was swept.
    pub identity: SweepIdentity,
    /// What the sweep is for.
    pub description: String,
    /// One summary per variant, in grid order.
    pub variants: Vec<VariantSummary>,
}

/// Confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// The mean of a metric over replications with its confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean over replications.
    pub mean: f64,
    /// Half-width of the 95% interval (Student t); `None` with fewer than
    /// two replications, when no interval can be given.
    pub ci95: Option<f64>,
    /// Lower end of the interval (the mean when there is none).
    pub low: f64,
    /// Upper end of the interval (the mean when there is none).
    pub high: f64,
}

impl Estimate {
    /// From per-replication values.
    pub fn of(values: &[f64]) -> Estimate {
        let ci = student_t_interval(values, CONFIDENCE);
        let hw = (values.len() >= 2 && ci.half_width.is_finite()).then_some(ci.half_width);
        let h = hw.unwrap_or(0.0);
        Estimate {
            mean: ci.mean,
            ci95: hw,
            low: ci.mean - h,
            high: ci.mean + h,
        }
    }
}

/// One variant of a sweep, aggregated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantSummary {
    /// Position in the grid.
    pub index: usize,
    /// Path -> value, per varied field.
    pub params: IndexMap<String, Value>,
    /// Replications combined.
    pub replications: u32,
    /// Metric name -> estimate across replications.
    pub metrics: IndexMap<String, Estimate>,
    /// Percentiles of all replications' responses pooled (merged
    /// histograms): `all` and each endpoint.
    pub pooled: IndexMap<String, LatencySummary>,
    /// Database -> mean load share per shard.
    pub shard_share: IndexMap<String, Vec<f64>>,
    /// Database -> fraction of rows whose shard differs from the base
    /// scenario's layout (present when the variant changes the layout).
    pub keys_moved: IndexMap<String, f64>,
}

/// Which way an objective points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The metric must stay below the limit.
    Below,
    /// The metric must stay above the limit.
    Above,
}

/// One objective on one metric of the sweep records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// As written by the user.
    pub text: String,
    /// The record metric it reads (`p99_ms`, `endpoint.checkout.p99_ms`, ...).
    pub metric: String,
    /// Direction.
    pub op: Op,
    /// The limit, in the metric's unit (ms, fraction, requests/s, ...).
    pub limit: f64,
    /// Unit for display.
    pub unit: String,
    /// A fraction shown as a percentage.
    pub percent: bool,
}

/// How an objective fares on a variant, given its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The whole 95% interval is on the good side.
    Holds,
    /// The whole interval is on the bad side.
    Fails,
    /// The interval straddles the limit: more replications could decide.
    Unsure,
}

impl Slo {
    /// The verdict on an estimate: holds only when the whole 95% interval
    /// is on the good side. A single replication has no interval and is
    /// judged on its mean (the planner always replicates).
    pub fn verdict(&self, e: &Estimate) -> Verdict {
        match self.op {
            Op::Below if e.high < self.limit => Verdict::Holds,
            Op::Below if e.low >= self.limit => Verdict::Fails,
            Op::Above if e.low > self.limit => Verdict::Holds,
            Op::Above if e.high <= self.limit => Verdict::Fails,
            _ => Verdict::Unsure,
        }
    }

    /// Signed margin of the mean: positive when on the good side.
    pub fn margin(&self, e: &Estimate) -> f64 {
        match self.op {
            Op::Below => self.limit - e.mean,
            Op::Above => e.mean - self.limit,
        }
    }

    /// The limit as the objective's text writes it (`300ms`, `0.1%`, `1s`),
    /// or [`Slo::show`] of it when the text has no comparison.
    pub fn limit_text(&self) -> String {
        self.text
            .rsplit_once(" < ")
            .or_else(|| self.text.rsplit_once(" > "))
            .or_else(|| self.text.rsplit_once('<'))
            .or_else(|| self.text.rsplit_once('>'))
            .map_or_else(
                || self.show(self.limit),
                |(_, l)| l.trim().trim_start_matches('=').to_string(),
            )
    }

    /// A value of this metric for people (percent for fractions), with
    /// about four significant digits and no trailing zeros: `83.49ms`,
    /// `0.1%`, `2900 requests/s`.
    pub fn show(&self, v: f64) -> String {
        if self.percent {
            format!("{}%", short_number(v * 100.0))
        } else if self.unit == "ms" {
            format!("{}ms", short_number(v))
        } else if self.unit.is_empty() {
            short_number(v)
        } else {
            format!("{} {}", short_number(v), self.unit)
        }
    }
}

/// A number with about four significant digits (all digits of the whole
/// part), trailing zeros trimmed: 2900, 83.49, 1.453, 0.1, 0.0004.
pub fn short_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    let decimals = if a >= 1000.0 || a == 0.0 {
        0
    } else {
        (3 - a.log10().floor() as i32).clamp(0, 12) as usize
    };
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".to_string() } else { text }
}

/// Whether a variant meets the objectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every objective holds with 95% confidence.
    Meets,
    /// At least one objective fails with 95% confidence.
    Fails,
    /// Undecided after the most replications: not recommended.
    Unsure,
}

/// One objective on one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The objective as written.
    pub slo: String,
    /// The estimate (mean and interval), in the objective's unit.
    pub estimate: Estimate,
    /// The verdict.
    pub verdict: Verdict,
    /// Mean's distance to the limit, positive on the good side.
    pub margin: f64,
    /// Why the objective could not be judged, when it could not: a latency
    /// over no samples in some replication. The verdict is then `fails`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One evaluated variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluated {
    /// Grid index.
    pub index: usize,
    /// Varied values.
    pub params: IndexMap<String, Value>,
    /// Replications run.
    pub replications: u32,
    /// Cost per hour (mean).
    pub cost_per_hour: f64,
    /// Overall p99, ms.
    pub p99_ms: Estimate,
    /// Per objective.
    pub checks: Vec<Check>,
    /// Overall status.
    pub status: Status,
}

/// The planner's answer (`plan.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanResult {
    /// What was searched.
    pub identity: SweepIdentity,
    /// The objectives.
    pub slos: Vec<Slo>,
    /// Variants in the grid.
    pub grid_size: usize,
    /// Runs executed.
    pub runs: usize,
    /// The first of the [`searched`](PlanResult::searched) dimensions,
    /// if any.
    pub search: Option<String>,
    /// The cheapest variant meeting every objective.
    pub chosen: Option<Evaluated>,
    /// Every evaluated variant, cheapest first.
    pub evaluated: Vec<Evaluated>,
    /// Indices (into `evaluated`) of the cost-vs-p99 Pareto frontier.
    pub frontier: Vec<usize>,
    /// Variants not run because they are unstable (an unbounded queue fed
    /// faster than it drains), with the reason; they meet no objective.
    pub unstable: Vec<UnstableVariant>,
    /// The dimensions assumed monotone (a larger value never makes an
    /// objective worse), in grid order; empty for `--exhaustive`.
    #[serde(default)]
    pub searched: Vec<String>,
    /// Variants not evaluated whose verdict follows from monotonicity, in
    /// grid order. They carry no figures: nothing was run for them.
    #[serde(default)]
    pub inferred: Vec<InferredVariant>,
    /// Variants not run because of their price (fixed prices only): those
    /// that cost more than the chosen one (or as much, later in grid
    /// order), whose verdict cannot change the answer, and those over a
    /// `cost<N` objective.
    #[serde(default)]
    pub pruned: usize,
    /// Whether every variant's cost per hour was known before running it
    /// (no priced autoscaling or failing pods, no CDN billed by use):
    /// only then are variants pruned by cost.
    #[serde(default)]
    pub prices_fixed: bool,
    /// The chosen variant against each evaluated neighbour one value lower
    /// in one searched dimension, paired by replication.
    #[serde(default)]
    pub paired: Vec<PairedComparison>,
}

/// The chosen variant against a cheaper neighbour, replication by
/// replication: replication `r` of both ran with seed `seed + r` (common
/// random numbers), so each difference cancels the noise the two share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedComparison {
    /// The neighbour's grid index.
    pub index: usize,
    /// The neighbour's varied values.
    pub params: IndexMap<String, Value>,
    /// Replications both have (the pairs).
    pub replications: u32,
    /// Per objective, in order: chosen minus neighbour, mean and 95%
    /// interval (Student t over the pairs' differences), in the
    /// objective's unit.
    pub differences: Vec<Estimate>,
}

/// A variant whose verdict the planner inferred without running it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferredVariant {
    /// Grid index.
    pub index: usize,
    /// Varied values.
    pub params: IndexMap<String, Value>,
    /// `meets` (it is at least an evaluated variant that meets in every
    /// searched dimension, equal in the others) or `fails` (at most one
    /// that fails).
    pub status: Status,
    /// Grid index of the evaluated variant it follows from.
    pub from: usize,
}

/// A variant the planner could not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnstableVariant {
    /// Varied values.
    pub params: IndexMap<String, Value>,
    /// Why it is unstable.
    pub reason: String,
}
