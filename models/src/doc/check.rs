//! The document `capsim check` writes (`check.json`): for each scenario,
//! every objective of its `slo` section with the measured value of each
//! replication, the 95% interval, the verdict, and — against a baseline —
//! how far it moved. A saved `check.json` is the baseline of a later check.

use serde::{Deserialize, Serialize};

use crate::doc::slo::Objective;
use crate::doc::sweeps::{Estimate, Verdict};

/// Format version of `check.json`.
pub const CHECK_FORMAT_VERSION: u32 = 1;

/// The whole check (`check.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Format version of this document.
    pub format_version: u32,
    /// capsim version.
    pub capsim_version: String,
    /// Replications per scenario (and window).
    pub replications: u32,
    /// The allowed regression against the baseline, as a fraction of the
    /// baseline's value (0.05 = 5%).
    pub tolerance: f64,
    /// Whether objectives whose interval straddles the limit fail.
    pub strict: bool,
    /// The baseline file, as given.
    pub baseline: Option<String>,
    /// Every objective passed and nothing regressed.
    pub passed: bool,
    /// One per scenario, in the order given.
    pub scenarios: Vec<ScenarioCheck>,
}

/// One scenario's objectives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioCheck {
    /// The scenario file, as given.
    pub file: String,
    /// The scenario's name (a baseline is matched by it).
    pub scenario: String,
    /// xxh3-64 of the scenario file's text, hex.
    pub scenario_hash: String,
    /// `--set` overrides applied.
    pub sets: Vec<String>,
    /// Seed of replication 0; replication r runs with seed + r.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Folder of this scenario's report, relative to the check's output
    /// folder (when `--out` was given).
    pub report_dir: Option<String>,
    /// Every objective passed and none regressed.
    pub passed: bool,
    /// One per objective, in the `slo` section's order.
    pub objectives: Vec<ObjectiveCheck>,
}

/// How one objective fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveCheck {
    /// The objective (its metric, limit, window).
    pub objective: Objective,
    /// The measured value of each replication, in the metric's unit.
    pub values: Vec<f64>,
    /// Mean and 95% interval of `values`.
    pub estimate: Estimate,
    /// Whether the whole interval is on the good side.
    pub verdict: Verdict,
    /// Mean's distance to the limit, positive on the good side.
    pub margin: f64,
    /// The outcome against the limit.
    pub status: CheckStatus,
    /// The comparison with the baseline, when it has this objective.
    pub baseline: Option<BaselineComparison>,
    /// The outcome counts as a failure: `status` is `fail` (or `marginal`
    /// under `--strict`), or the baseline comparison found a regression.
    pub failed: bool,
    /// Why the objective could not be judged, when it could not: a latency
    /// over no samples (no ok response, no message) in some replication,
    /// whose `values` read 0. The status is then `fail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An objective's outcome against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The whole 95% interval is on the good side (with one replication:
    /// the value is).
    Pass,
    /// The mean is on the good side but the interval straddles the limit:
    /// passes, with a warning (fails under `--strict`).
    Marginal,
    /// The mean is on the bad side of the limit.
    Fail,
}

/// One objective against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineComparison {
    /// The baseline's values, per replication.
    pub values: Vec<f64>,
    /// Mean and interval of the baseline's values.
    pub estimate: Estimate,
    /// How much worse the current value is (current − baseline for upper
    /// limits, baseline − current for lower limits), with its 95% interval:
    /// positive is worse.
    pub worse_by: Estimate,
    /// `worse_by` relative to the baseline's mean (absent when that is 0).
    pub worse_by_relative: Option<f64>,
    /// The interval comes from per-replication differences: both checks
    /// used the same seed, so replication r of each shares its random
    /// numbers and seed noise cancels (with different replication counts,
    /// the replications both have are paired). Otherwise it is Welch's
    /// interval of two means.
    pub paired: bool,
    /// The largest allowed `worse_by`: tolerance × |baseline mean| (or ×
    /// |limit| when the baseline's mean is 0); the tolerance is the
    /// objective's own (`tolerance` in its `slo` entry) or `--tolerance`.
    pub threshold: f64,
    /// `worse_by` exceeds the threshold and its interval excludes zero.
    pub regression: bool,
    /// Why no verdict could be given, when none could: different seeds
    /// with a single replication on a side leave seed noise unmeasured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ObjectiveCheck {
    /// The limit is not met: `fail`, or `marginal` under `strict`.
    pub fn fails_limit(&self, strict: bool) -> bool {
        self.status == CheckStatus::Fail || (strict && self.status == CheckStatus::Marginal)
    }

    /// Worse than the baseline beyond the tolerance.
    pub fn regressed(&self) -> bool {
        self.baseline.as_ref().is_some_and(|b| b.regression)
    }
}
