//! `capsim check`: run scenarios, assert the objectives of their `slo`
//! sections, and compare with a baseline — the capacity regression test a
//! CI job runs.
//!
//! Each scenario runs once per replication over its whole measured period
//! and once per replication for every distinct objective window (a window
//! run observes only requests arriving in the window; see
//! [`models::World::window`]). Replication r runs with seed + r, as in
//! sweeps, so a check of an unchanged scenario repeats its baseline's
//! numbers exactly and a changed one is compared on common random numbers.

pub mod baseline;
pub mod junit;

use std::path::Path;

use indexmap::IndexMap;
use models::{CHECK_FORMAT_VERSION, CheckReport, CheckStatus, ObjectiveCheck, ScenarioCheck};
use models::{Estimate, Model, Results, ScenarioError, Verdict, Window, World, metrics};
use rayon::prelude::*;

use crate::progress::Progress;

/// A failure of a check before any verdict: bad input (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);

impl From<ScenarioError> for CheckError {
    fn from(e: ScenarioError) -> Self {
        CheckError(e.to_string())
    }
}

/// How to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Replications of every scenario (and window).
    pub replications: u32,
    /// Seed of replication 0 (default: each scenario's own).
    pub seed: Option<u64>,
    /// `--set` overrides applied to every scenario.
    pub sets: Vec<String>,
    /// Allowed regression against the baseline, as a fraction.
    pub tolerance: f64,
    /// Marginal objectives fail.
    pub strict: bool,
    /// Threads (0: all cores).
    pub threads: usize,
    /// What each run may take.
    pub limits: models::Limits,
}

/// A scenario ready to check.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// File name as given.
    pub file: String,
    /// xxh3-64 of the text, hex.
    pub hash: String,
    /// The validated model.
    pub model: Model,
    /// Seed of replication 0.
    pub seed: u64,
}

/// Reads and validates every scenario before anything runs, so a bad file
/// fails the check (exit 2) without a partial result.
pub fn load(paths: &[impl AsRef<Path>], opts: &CheckOptions) -> Result<Vec<Loaded>, CheckError> {
    if opts.replications == 0 {
        return Err(CheckError("--replications must be at least 1".into()));
    }
    let mut out: Vec<Loaded> = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let (file, text) = crate::input::read_scenario(path)?;
        let (_, model) = models::load_within(&file, &text, &opts.sets, &opts.limits)?;
        if model.objectives.is_empty() {
            return Err(CheckError(format!(
                "{file}: the scenario has no `slo` section, so there is nothing to check; add one, e.g. \"slo\": [{{\"p99\": \"250ms\", \"error_rate\": \"0.1%\"}}] (see docs/scenario-format.md)"
            )));
        }
        refuse_unmeasured(&file, &model, "check").map_err(CheckError)?;
        if let Some(other) = out.iter().find(|l| l.model.name == model.name) {
            return Err(CheckError(format!(
                "{file}: the scenario name `{}` is also the name of {}; checks and baselines are matched by name, so names must differ",
                model.name, other.file
            )));
        }
        out.push(Loaded {
            hash: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes())),
            seed: opts.seed.unwrap_or(model.seed),
            file,
            model,
        });
    }
    Ok(out)
}

/// The windows a scenario runs over: the whole measured period (`None`)
/// and every distinct objective window, in order.
pub fn windows(m: &Model) -> Vec<Option<Window>> {
    std::iter::once(None)
        .chain(m.objective_windows().into_iter().map(Some))
        .collect()
}

/// Runs needed: every scenario x window x replication.
pub fn run_count(loaded: &[Loaded], replications: u32) -> usize {
    loaded
        .iter()
        .map(|l| windows(&l.model).len() * replications as usize)
        .sum()
}

/// One run's metrics, the latency metrics among them that came from no
/// samples ([`models::unmeasured`]), and its results when they are kept
/// for the report.
type RunMetrics = (IndexMap<String, f64>, Vec<String>, Option<Results>);

/// One replication's metrics and its latency metrics without samples.
type Measured = (IndexMap<String, f64>, Vec<String>);

/// `check` and `plan` judge every objective of the file: one the run
/// cannot measure (its window ends after a run shortened by `--set`) is
/// refused, where `run` and `sweep` report it as not measured.
pub fn refuse_unmeasured(file: &str, model: &Model, command: &str) -> Result<(), String> {
    match model.objectives.iter().find(|o| o.not_measured.is_some()) {
        None => Ok(()),
        Some(o) => Err(format!(
            "{file}: objective `{}` cannot be measured: {}; `capsim {command}` judges every objective of the scenario (`run` and `sweep` report it as not measured); run longer, or give the objectives on the command line (`--slo`) or drop them (`--set slo=[]`)",
            o.label(),
            o.not_measured.as_deref().unwrap_or_default()
        )),
    }
}

/// Why `o` cannot be judged when a replication had no sample for its
/// latency metric (every request failed in the window, say): a check that
/// held on such a run would pass a system that answered nothing.
fn unmeasured_reason(o: &models::Objective, reps: &[Measured], seed: u64) -> Option<String> {
    let empty: Vec<u64> = reps
        .iter()
        .enumerate()
        .filter(|(_, (_, unmeasured))| unmeasured.contains(&o.slo.metric))
        .map(|(r, _)| seed.wrapping_add(r as u64))
        .collect();
    models::unmeasured_in(&o.slo.metric, o.window.is_some(), &empty)
}

/// What the check measured: the report document and, per scenario, the
/// whole-run results of replication 0 (for the HTML report).
pub struct Outcome {
    /// The `check.json` document.
    pub report: CheckReport,
    /// Per scenario, replication 0 over the whole measured period.
    pub first_runs: Vec<Results>,
}

/// Runs every scenario, evaluates its objectives and compares them with
/// the baseline, if given.
pub fn check(
    loaded: &[Loaded],
    opts: &CheckOptions,
    baseline: Option<(&str, &CheckReport)>,
    progress: &Progress,
) -> Result<Outcome, CheckError> {
    // Every run, in a fixed order: scenario, window, replication.
    let mut jobs = Vec::new();
    for (si, l) in loaded.iter().enumerate() {
        for (wi, w) in windows(&l.model).into_iter().enumerate() {
            for r in 0..opts.replications {
                jobs.push((si, wi, w, r));
            }
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| CheckError(format!("cannot start the thread pool: {e}")))?;
    let runs: Vec<Result<RunMetrics, CheckError>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(si, wi, w, r)| {
                let l = &loaded[si];
                let seed = l.seed.wrapping_add(u64::from(r));
                let watch = progress.run_progress();
                let mut world = watch.watch(World::new(&l.model, seed));
                if let Some(w) = w {
                    world = world.window(w.from, w.to);
                }
                let out = world.run_full().map_err(|e| {
                    CheckError(format!(
                        "{}: {e} (seed {seed}{})",
                        l.file,
                        w.map(|w| format!(", window {w}")).unwrap_or_default()
                    ))
                })?;
                watch.finish();
                let m = metrics(&out.results);
                let unmeasured = models::unmeasured(&out.results);
                let keep = (wi == 0 && r == 0).then_some(out.results);
                Ok((m, unmeasured, keep))
            })
            .collect()
    });
    let mut runs = runs.into_iter();

    let mut scenarios = Vec::new();
    let mut first_runs = Vec::new();
    for l in loaded {
        let wins = windows(&l.model);
        // window index -> per replication metrics
        let mut by_window: Vec<Vec<Measured>> = Vec::new();
        for wi in 0..wins.len() {
            let mut reps = Vec::new();
            for r in 0..opts.replications {
                let (m, unmeasured, keep) = runs.next().expect("one result per job")?;
                if wi == 0 && r == 0 {
                    first_runs.push(keep.expect("replication 0 kept"));
                }
                reps.push((m, unmeasured));
            }
            by_window.push(reps);
        }
        let base =
            baseline.and_then(|(_, b)| b.scenarios.iter().find(|s| s.scenario == l.model.name));
        let objectives: Vec<ObjectiveCheck> = l
            .model
            .objectives
            .iter()
            .map(|o| {
                let wi = wins
                    .iter()
                    .position(|w| *w == o.window)
                    .expect("window run");
                let values: Vec<f64> = by_window[wi]
                    .iter()
                    .map(|(m, _)| m.get(&o.slo.metric).copied().unwrap_or(f64::NAN))
                    .collect();
                let reason = unmeasured_reason(o, &by_window[wi], l.seed);
                let estimate = Estimate::of(&values);
                let verdict = if reason.is_some() {
                    Verdict::Fails
                } else {
                    o.slo.verdict(&estimate)
                };
                let margin = o.slo.margin(&estimate);
                let status = if reason.is_some() {
                    CheckStatus::Fail
                } else if verdict == Verdict::Holds {
                    CheckStatus::Pass
                } else if verdict == Verdict::Fails || margin < 0.0 || margin.is_nan() {
                    CheckStatus::Fail
                } else {
                    CheckStatus::Marginal
                };
                let cmp = base
                    .and_then(|b| {
                        b.objectives
                            .iter()
                            .find(|bo| bo.objective.id == o.id)
                            .map(|bo| (b, bo))
                    })
                    .map(|(b, bo)| {
                        baseline::compare(o, &values, l.seed, &bo.values, b.seed, opts.tolerance)
                    });
                let failed = status == CheckStatus::Fail
                    || (opts.strict && status == CheckStatus::Marginal)
                    || cmp.as_ref().is_some_and(|c| c.regression);
                ObjectiveCheck {
                    objective: o.clone(),
                    values,
                    estimate,
                    verdict,
                    margin,
                    status,
                    baseline: cmp,
                    failed,
                    reason,
                }
            })
            .collect();
        scenarios.push(ScenarioCheck {
            file: l.file.clone(),
            scenario: l.model.name.clone(),
            scenario_hash: l.hash.clone(),
            sets: opts.sets.clone(),
            seed: l.seed,
            replications: opts.replications,
            report_dir: None,
            passed: objectives.iter().all(|o| !o.failed),
            objectives,
        });
    }
    Ok(Outcome {
        report: CheckReport {
            format_version: CHECK_FORMAT_VERSION,
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            replications: opts.replications,
            tolerance: opts.tolerance,
            strict: opts.strict,
            baseline: baseline.map(|(f, _)| f.to_string()),
            passed: scenarios.iter().all(|s| s.passed),
            scenarios,
        },
        first_runs,
    })
}

/// Reads `--tolerance`: `5%` or `0.05`.
pub fn parse_tolerance(text: &str) -> Result<f64, CheckError> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| {
        CheckError(format!(
            "--tolerance {text}: not a number or percentage (e.g. 5%)"
        ))
    })?;
    if !v.is_finite() || v < 0.0 {
        return Err(CheckError(format!(
            "--tolerance {text}: must be a finite fraction >= 0"
        )));
    }
    if !t.ends_with('%') && v > 1.0 {
        return Err(CheckError(format!(
            "--tolerance {text}: a fraction above 1 (more than 100%) is almost certainly a percentage without its sign; write {text}% (or a fraction such as 0.05)"
        )));
    }
    Ok(v)
}

/// Report folder names for the scenarios: each file's stem, made unique.
pub fn report_dirs(loaded: &[Loaded]) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    for l in loaded {
        let stem = Path::new(&l.file)
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "scenario".into());
        let stem: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let mut name = stem.clone();
        let mut k = 2;
        while used.contains(&name) || name == "index" {
            name = format!("{stem}-{k}");
            k += 1;
        }
        used.push(name);
    }
    used
}
