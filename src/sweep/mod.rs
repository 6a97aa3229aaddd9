//! Sweeps: run a grid of scenario variants, each replicated, in parallel,
//! and combine each variant's replications into means with confidence
//! intervals.
//!
//! Run order is variant-major: run `i` is variant `i / R`, replication
//! `i % R`, with seed `seed + replication`. Replication `r` of every
//! variant therefore draws the same random numbers from the same named
//! streams (common random numbers): two variants differ by the change, not
//! by seed noise, so small differences are visible with few replications.
//!
//! Runs execute on a rayon pool, each owning its state, and are collected
//! in run order, so the result is the same whatever the thread count.
//! Variants are processed in chunks and reduced to summaries as each chunk
//! completes, so memory is bounded by a chunk's runs, not the grid's size.

pub mod aggregate;
pub mod output;
pub mod partition;
pub mod record;
pub mod spec;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use models::{Model, Scenario, ScenarioError};
pub use models::{SweepIdentity, SweepResult};
use rayon::prelude::*;
use serde_json::Value;

use crate::progress::{Progress, RunProgress};
use aggregate::{VariantSummary, aggregate};
use record::RunRecord;
use spec::{Dimension, Variant, grid};

/// Rows sampled to estimate how many keys move between shard layouts.
pub const KEY_MOVE_SAMPLES: usize = 20_000;

/// A failure of a sweep: bad input (exit 2) or a run that went wrong.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario, a `--vary`, a variant or a partition is invalid.
    #[error("{0}")]
    Input(String),
    /// A run's output cannot be kept (a figure that is not a finite
    /// number): a bug in capsim, not in the input.
    #[error("{0}")]
    Internal(String),
}

impl From<ScenarioError> for SweepError {
    fn from(e: ScenarioError) -> Self {
        SweepError::Input(e.to_string())
    }
}

/// What is wrong with a variant's model, without the file (the caller
/// names it before the variant): the path, the message, `(value from --set
/// ...)` when the value came from one of the user's `base_sets`, `(the
/// variant's PATH=VALUE)` when it is the variant's own, and any help.
fn variant_problem(e: &ScenarioError, base_sets: &[String]) -> String {
    let mut out = String::new();
    if !e.path.is_empty() {
        out.push_str(&e.path);
        out.push_str(": ");
    }
    out.push_str(&e.message);
    match &e.from_override {
        Some(set) if base_sets.contains(set) => out.push_str(&format!(" (value from --set {set})")),
        Some(set) => out.push_str(&format!(" (the variant's {set})")),
        None => {}
    }
    if let Some(s) = &e.suggestion {
        out.push_str(&format!("\n  help: did you mean `{s}`?"));
    }
    if let Some(h) = &e.help {
        out.push_str(&format!("\n  help: {h}"));
    }
    out
}

/// Everything that defines a sweep; two machines with the same setup run
/// the same runs.
#[derive(Debug, Clone)]
pub struct SweepSetup {
    /// File name as given (for messages).
    pub file: String,
    /// The scenario as parsed (with the base `--set`s), without its
    /// `sweeps`.
    pub scenario: Scenario,
    /// `--set` overrides applied to every variant.
    pub base_sets: Vec<String>,
    /// Name of the scenario-file sweep used, if any.
    pub name: Option<String>,
    /// What the sweep is for.
    pub description: String,
    /// The varied fields.
    pub dims: Vec<Dimension>,
    /// The grid.
    pub variants: Vec<Variant>,
    /// Replications per variant.
    pub replications: u32,
    /// Seed of replication 0.
    pub seed: u64,
    /// SLOs kept with the scenario-file sweep.
    pub slo: Vec<String>,
    /// Windowed metrics (`METRIC@FROM..TO`) every run records beside its
    /// scenario's windowed objectives: those of the plan's `--slo`.
    pub observe: Vec<String>,
    /// Variants refused as unstable (an unbounded queue fed faster than it
    /// drains), with the reason: a sweep refuses to run them, the planner
    /// counts them as failing.
    pub unstable: IndexMap<usize, String>,
    /// What the sweep cannot measure, found while validating the variants:
    /// objectives whose window ends after a variant's (shortened) run.
    pub warnings: Vec<String>,
    /// What the variants are built from.
    source: SweepSource,
}

impl SweepSetup {
    /// Reads the scenario, applies the base sets, takes the dimensions from
    /// `vary` (or, when empty, from the scenario's `sweeps` section, by
    /// `name` or the only one), and validates every variant up front so a
    /// bad variant fails before anything runs.
    pub fn new(
        path: &Path,
        base_sets: Vec<String>,
        vary: Vec<Dimension>,
        replications: Option<u32>,
        seed: Option<u64>,
        name: Option<String>,
    ) -> Result<SweepSetup, SweepError> {
        let (file, text) = crate::input::read_scenario(path)?;
        Self::from_text(file, text, base_sets, vary, replications, seed, name)
    }

    /// [`SweepSetup::new`] for a scenario already read: `text`, named
    /// `file` in messages (`<stdin>` for standard input, which can be read
    /// only once). Errors about a sweep kept in the scenario start with
    /// `FILE: sweeps.NAME:`.
    pub fn from_text(
        file: String,
        text: String,
        base_sets: Vec<String>,
        vary: Vec<Dimension>,
        replications: Option<u32>,
        seed: Option<u64>,
        name: Option<String>,
    ) -> Result<SweepSetup, SweepError> {
        SweepSource::new(file, text, base_sets, models::Limits::default())?.setup(
            vary,
            replications,
            seed,
            name,
        )
    }
}

/// A scenario read, parsed and validated once, from which any number of
/// sweeps is set up: `capsim validate` sets up every sweep kept in the
/// file from one source, and every variant of each is built from a clone
/// of the parsed document without its `sweeps`, so validating a file
/// takes time linear in the variants it keeps, however they are split
/// into sweeps.
#[derive(Debug, Clone)]
pub struct SweepSource {
    file: String,
    text: Arc<str>,
    /// The document as parsed, `sweeps` taken out: each variant applies
    /// the base sets and its own to a clone.
    doc: Arc<Value>,
    /// `doc` as compact JSON, where variants' errors are located. They
    /// name no line (their values come from sets: see `variant_problem`),
    /// only whether a path exists in the file, which this text answers as
    /// the file does, in time that does not grow with the kept variants.
    variant_text: Arc<str>,
    /// The scenario with the base sets, `sweeps` taken out.
    scenario: Scenario,
    /// The sweeps kept in the scenario.
    sweeps: Arc<IndexMap<String, models::SweepDef>>,
    base_sets: Vec<String>,
    /// What each run may take.
    limits: models::Limits,
}

impl SweepSource {
    /// Parses and validates `text` (named `file` in messages) with the
    /// base sets; every run of every variant must keep within `limits`
    /// (a sweep running on several threads divides its memory budget
    /// among them).
    pub fn new(
        file: String,
        text: String,
        base_sets: Vec<String>,
        limits: models::Limits,
    ) -> Result<Self, SweepError> {
        let (mut scenario, _) = models::load_within(&file, &text, &base_sets, &limits)?;
        let sweeps = std::mem::take(&mut scenario.sweeps);
        let mut doc = models::parse_text(&file, &text)?;
        if let Some(top) = doc.as_object_mut() {
            top.shift_remove("sweeps");
        }
        let variant_text = serde_json::to_string(&doc)
            .map_err(|e| SweepError::Internal(format!("{file}: {e}")))?;
        Ok(SweepSource {
            file,
            text: text.into(),
            doc: Arc::new(doc),
            variant_text: variant_text.into(),
            scenario,
            sweeps: Arc::new(sweeps),
            base_sets,
            limits,
        })
    }

    /// The names of the sweeps kept in the scenario, in file order.
    pub fn sweep_names(&self) -> impl Iterator<Item = &str> {
        self.sweeps.keys().map(String::as_str)
    }

    /// Takes the dimensions from `vary` (or, when empty, from the
    /// scenario's `sweeps` section, by `name` or the only one), and
    /// validates every variant up front so a bad variant fails before
    /// anything runs.
    pub fn setup(
        &self,
        vary: Vec<Dimension>,
        replications: Option<u32>,
        seed: Option<u64>,
        name: Option<String>,
    ) -> Result<SweepSetup, SweepError> {
        let file = &self.file;
        let sweeps = &self.sweeps;
        if !vary.is_empty()
            && let Some(n) = &name
        {
            return Err(SweepError::Input(format!(
                "--name {n} and --vary both given: use the scenario's sweep `{n}` alone, or --vary alone"
            )));
        }
        let (dims, def_reps, description, slo, name) = if vary.is_empty() {
            let def = match &name {
                Some(n) => sweeps.get(n).ok_or_else(|| {
                    let known: Vec<&str> = sweeps.keys().map(String::as_str).collect();
                    SweepError::Input(format!(
                        "{file}: no sweep named `{n}` in the scenario's `sweeps` ({})",
                        if known.is_empty() {
                            "it has none".to_string()
                        } else {
                            format!("it has: {}", known.join(", "))
                        }
                    ))
                })?,
                None => match sweeps.len() {
                    1 => sweeps.values().next().expect("one"),
                    0 => {
                        return Err(SweepError::Input(format!(
                            "{file}: nothing to vary: give --vary PATH=VALUES or add a `sweeps` section to the scenario"
                        )));
                    }
                    _ => {
                        return Err(SweepError::Input(format!(
                            "{file}: the scenario has several sweeps ({}); pick one with --name",
                            sweeps.keys().cloned().collect::<Vec<_>>().join(", ")
                        )));
                    }
                },
            };
            let name = name.or_else(|| sweeps.keys().next().cloned());
            let dims = def
                .vary
                .iter()
                .map(|(p, v)| Dimension {
                    path: p.clone(),
                    values: v.clone(),
                })
                .collect::<Vec<_>>();
            if let Some(d) = dims.iter().find(|d| d.values.is_empty()) {
                return Err(SweepError::Input(format!(
                    "{file}: sweeps.{}.vary: `{}` has no values",
                    name.as_deref().unwrap_or_default(),
                    d.path
                )));
            }
            (
                dims,
                def.replications,
                def.description.clone(),
                def.slo.clone(),
                name,
            )
        } else {
            (vary, None, String::new(), Vec::new(), None)
        };
        // Errors about the grid or a variant: where the grid came from.
        let origin = match &name {
            Some(n) => format!("{file}: sweeps.{n}: "),
            None => format!("{file}: "),
        };
        let mut seen = std::collections::HashSet::new();
        for d in &dims {
            if !seen.insert(d.path.as_str()) {
                return Err(SweepError::Input(format!(
                    "--vary {}: the path is varied twice; give all its values in one --vary",
                    d.path
                )));
            }
        }
        let replications = replications.or(def_reps).unwrap_or(1);
        if replications == 0 {
            return Err(SweepError::Input(
                "--replications must be at least 1".into(),
            ));
        }
        let variants = grid(&dims).map_err(|e| SweepError::Input(format!("{origin}{e}")))?;
        let seed = seed.unwrap_or(self.scenario.seed);
        let setup = SweepSetup {
            file: file.clone(),
            scenario: self.scenario.clone(),
            base_sets: self.base_sets.clone(),
            name,
            description,
            dims,
            variants,
            replications,
            seed,
            slo,
            observe: Vec::new(),
            unstable: IndexMap::new(),
            warnings: Vec::new(),
            source: self.clone(),
        };
        let mut setup = setup;
        let mut unmeasured: IndexMap<String, Vec<String>> = IndexMap::new();
        for v in &setup.variants.clone() {
            match setup.try_model(v, seed) {
                Ok(m) => {
                    for note in m.objectives.iter().filter_map(|o| o.not_measured_note()) {
                        unmeasured.entry(note).or_default().push(v.label());
                    }
                }
                Err(e) if e.kind == models::ScenarioErrorKind::Unstable => {
                    setup.unstable.insert(v.index, e.message.clone());
                }
                Err(e) => {
                    return Err(SweepError::Input(format!(
                        "{origin}variant {}: {}",
                        v.label(),
                        variant_problem(&e, &setup.base_sets)
                    )));
                }
            }
        }
        let n = setup.variants.len();
        setup.warnings = unmeasured
            .into_iter()
            .map(|(note, vs)| {
                if vs.len() == n {
                    note
                } else {
                    format!(
                        "{note}, in {} of {n} variants ({})",
                        vs.len(),
                        vs.join("; ")
                    )
                }
            })
            .collect();
        Ok(setup)
    }
}

impl SweepSetup {
    /// The variant's model with `seed`.
    pub fn model(&self, v: &Variant, seed: u64) -> Result<Model, SweepError> {
        self.try_model(v, seed).map_err(|e| {
            SweepError::Input(format!(
                "{}: variant {}: {}",
                self.file,
                v.label(),
                variant_problem(&e, &self.base_sets)
            ))
        })
    }

    fn try_model(&self, v: &Variant, seed: u64) -> Result<Model, ScenarioError> {
        let mut sets = self.base_sets.clone();
        sets.extend(v.sets());
        sets.push(format!("seed={seed}"));
        let source = &self.source;
        models::load_value(
            &self.file,
            &source.variant_text,
            (*source.doc).clone(),
            &sets,
            &source.limits,
        )
        .map(|(_, m)| m)
    }

    /// Fails when any variant is unstable (a sweep cannot run those).
    pub fn require_stable(&self) -> Result<(), SweepError> {
        match self.unstable.first() {
            None => Ok(()),
            Some((i, why)) => Err(SweepError::Input(format!(
                "{}: variant {} is unstable ({} of {} variants are): {why}",
                self.file,
                self.variants[*i].label(),
                self.unstable.len(),
                self.variants.len()
            ))),
        }
    }

    /// The base model (no variation) with the sweep's seed.
    pub fn base_model(&self) -> Result<Model, SweepError> {
        let mut sets = self.base_sets.clone();
        sets.push(format!("seed={}", self.seed));
        let source = &self.source;
        Ok(models::load_value(
            &self.file,
            &source.text,
            (*source.doc).clone(),
            &sets,
            &source.limits,
        )?
        .1)
    }

    /// Total runs: variants x replications.
    pub fn runs(&self) -> usize {
        self.variants.len() * self.replications as usize
    }

    /// The identity written into results and partitions.
    pub fn identity(&self) -> SweepIdentity {
        SweepIdentity {
            scenario: self.scenario.name.clone(),
            scenario_hash: format!(
                "{:016x}",
                xxhash_rust::xxh3::xxh3_64(self.source.text.as_bytes())
            ),
            sets: self.base_sets.clone(),
            name: self.name.clone(),
            dims: self.dims.clone(),
            replications: self.replications,
            seed: self.seed,
        }
    }

    /// Executes run `run` and reduces it to a record, its clock moving
    /// `progress`.
    pub fn run_one(
        &self,
        run: usize,
        base: &Model,
        progress: &RunProgress,
    ) -> Result<RunRecord, SweepError> {
        let r = self.replications as usize;
        self.run_watched(run / r, (run % r) as u32, run, base, Some(progress))
    }

    /// Executes replication `rep` of variant `variant` (recorded as run
    /// `run`) and reduces it to a record.
    pub fn run_at(
        &self,
        variant: usize,
        rep: u32,
        run: usize,
        base: &Model,
    ) -> Result<RunRecord, SweepError> {
        self.run_watched(variant, rep, run, base, None)
    }

    /// [`SweepSetup::run_at`], its worlds' clocks moving `progress`.
    fn run_watched(
        &self,
        variant: usize,
        rep: u32,
        run: usize,
        base: &Model,
        progress: Option<&RunProgress>,
    ) -> Result<RunRecord, SweepError> {
        let v = &self.variants[variant];
        let seed = self.seed.wrapping_add(u64::from(rep));
        let model = self.model(v, seed)?;
        let out = watched(models::World::new(&model, seed), progress)
            .run_full()
            .map_err(|e| SweepError::Input(format!("{}: variant {}: {e}", self.file, v.label())))?;
        let mut rec = RunRecord::new(run, v.index, rep, seed, &out);
        self.observe_windows(&model, seed, &mut rec, progress)
            .map_err(|e| SweepError::Input(format!("{}: variant {}: {e}", self.file, v.label())))?;
        if rep == 0 {
            rec.keys_moved = keys_moved(base, &model, self.seed);
        }
        rec.round_trip().map_err(|e| {
            SweepError::Internal(format!(
                "{}: variant {}, replication {rep}: the run's record does not read back (a figure that is not a finite number?): {e}",
                self.file,
                v.label()
            ))
        })
    }

    /// Adds to `rec` the windowed metrics of the model's objectives and of
    /// [`SweepSetup::observe`]: one run per distinct window, which
    /// measures the requests arriving in it (as `capsim check` does), with
    /// the same seed.
    fn observe_windows(
        &self,
        model: &Model,
        seed: u64,
        rec: &mut RunRecord,
        progress: Option<&RunProgress>,
    ) -> Result<(), models::RunError> {
        let mut wanted: IndexMap<models::Window, Vec<&str>> = IndexMap::new();
        let names = model
            .objectives
            .iter()
            .filter(|o| o.not_measured.is_none())
            .map(|o| o.id.as_str())
            .chain(self.observe.iter().map(String::as_str));
        for (metric, w) in names.filter_map(models::split_windowed) {
            let metrics = wanted.entry(w).or_default();
            if !metrics.contains(&metric) {
                metrics.push(metric);
            }
        }
        for (w, metrics) in wanted {
            let out = watched(models::World::new(model, seed), progress)
                .window(w.from, w.to)
                .run_full()?;
            let all = models::metrics(&out.results);
            let unmeasured = models::unmeasured(&out.results);
            for m in metrics {
                if let Some(&v) = all.get(m) {
                    rec.metrics.insert(models::windowed(m, w), v);
                    if unmeasured.iter().any(|u| u == m) {
                        rec.unmeasured.push(models::windowed(m, w));
                    }
                }
            }
        }
        Ok(())
    }

    /// What executing runs needs once per sweep, not once per chunk: the
    /// thread pool (`threads` 0: all cores) and the base model.
    pub fn runner(&self, threads: usize) -> Result<Runner, SweepError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| SweepError::Input(format!("cannot start {threads} threads: {e}")))?;
        Ok(Runner {
            pool,
            base: self.base_model()?,
        })
    }

    /// Executes `runs` on `threads` threads (0: all cores), in run order.
    pub fn execute(
        &self,
        runs: Range<usize>,
        threads: usize,
        progress: &Progress,
    ) -> Result<Vec<RunRecord>, SweepError> {
        self.execute_with(&self.runner(threads)?, runs, progress)
    }

    /// Executes `runs` on `runner`'s pool, in run order.
    pub fn execute_with(
        &self,
        runner: &Runner,
        runs: Range<usize>,
        progress: &Progress,
    ) -> Result<Vec<RunRecord>, SweepError> {
        runner.pool.install(|| {
            runs.into_par_iter()
                .map(|i| {
                    let watch = progress.run_progress();
                    let rec = self.run_one(i, &runner.base, &watch);
                    watch.finish();
                    rec
                })
                .collect()
        })
    }

    /// Executes `runs` chunk by chunk, handing each chunk's records (in run
    /// order) to `sink`, so memory holds one chunk at a time.
    pub fn execute_chunked<E: From<SweepError>>(
        &self,
        runs: Range<usize>,
        threads: usize,
        progress: &Progress,
        mut sink: impl FnMut(Vec<RunRecord>) -> Result<(), E>,
    ) -> Result<(), E> {
        let runner = self.runner(threads)?;
        let chunk = 16 * runner.threads();
        let mut start = runs.start;
        while start < runs.end {
            let end = (start + chunk).min(runs.end);
            sink(self.execute_with(&runner, start..end, progress)?)?;
            start = end;
        }
        Ok(())
    }

    /// Runs the whole sweep, chunk by chunk, and aggregates every variant.
    pub fn run_all(&self, threads: usize, progress: &Progress) -> Result<SweepResult, SweepError> {
        let runner = self.runner(threads)?;
        let r = self.replications as usize;
        // Enough runs per chunk to keep every thread busy, few enough that
        // memory holds only a handful of variants' records.
        let chunk_variants = (16 * runner.threads()).div_ceil(r).max(1);
        let mut variants = Vec::with_capacity(self.variants.len());
        let mut start = 0;
        while start < self.variants.len() {
            let end = (start + chunk_variants).min(self.variants.len());
            let records = self.execute_with(&runner, start * r..end * r, progress)?;
            for (k, recs) in records.chunks(r).enumerate() {
                variants.push(aggregate(&self.variants[start + k], recs));
            }
            start = end;
        }
        Ok(self.result(variants))
    }

    /// The sweep document for aggregated variants.
    pub fn result(&self, variants: Vec<VariantSummary>) -> SweepResult {
        SweepResult {
            format_version: 1,
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            identity: self.identity(),
            description: self.description.clone(),
            variants,
        }
    }
}

/// The thread pool and base model a sweep's runs share.
pub struct Runner {
    pool: rayon::ThreadPool,
    /// The base scenario's model (keys moved are measured against it).
    pub base: Model,
}

impl Runner {
    /// Threads in the pool.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Runs `f` on the pool.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }
}

/// `world`, its clock moving `progress` if given.
fn watched<'m>(world: models::World<'m>, progress: Option<&'m RunProgress>) -> models::World<'m> {
    match progress {
        Some(p) => p.watch(world),
        None => world,
    }
}

/// For each database of `cand` whose layout differs from `base`'s (shard
/// key, or router: strategy, shards, virtual nodes, directory, split
/// points; replicas and the rest are not layout): the fraction of rows
/// that would move, between any two layouts.
pub fn keys_moved(base: &Model, cand: &Model, seed: u64) -> IndexMap<String, f64> {
    let mut out = IndexMap::new();
    for cd in &cand.databases {
        let Some(bd) = base.databases.iter().find(|d| d.name == cd.name) else {
            continue;
        };
        if base.keys[bd.shard_key] == cand.keys[cd.shard_key] && bd.router == cd.router {
            continue;
        }
        if let Some(f) = models::moved_fraction(base, cand, &cd.name, KEY_MOVE_SAMPLES, seed) {
            out.insert(cd.name.clone(), f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scenarios/mmc.json` keeping one sweep of `n` concurrencies.
    fn mmc_keeping(n: usize) -> String {
        let text = include_str!("../../scenarios/mmc.json");
        let mut doc: Value = serde_json::from_str(text).expect("mmc.json is JSON");
        doc["sweeps"] = serde_json::json!({
            "workers": { "vary": { "services.station.concurrency": (10..10 + n).collect::<Vec<_>>() } }
        });
        serde_json::to_string_pretty(&doc).expect("serializable")
    }

    /// Issue 14, item 5: validation is linear in the variants. Each
    /// variant is built from the source's document and located in its
    /// variant text, so the work per variant is proportional to their
    /// sizes: the same for a file keeping 100,000 variants as for one
    /// keeping 10 (before, each variant re-parsed the whole file).
    #[test]
    fn a_variant_costs_the_same_however_many_the_file_keeps() {
        let small = SweepSource::new(
            "s.json".into(),
            mmc_keeping(10),
            Vec::new(),
            Default::default(),
        )
        .expect("valid");
        let big = SweepSource::new(
            "b.json".into(),
            mmc_keeping(100_000),
            Vec::new(),
            Default::default(),
        )
        .expect("valid");
        assert!(big.text.len() > 100 * small.text.len());
        assert_eq!(small.doc, big.doc);
        assert_eq!(small.variant_text, big.variant_text);
        assert!(big.variant_text.len() < small.text.len());
        let setup = big
            .setup(
                vec![spec::parse_vary("services.station.concurrency=7,12").expect("valid")],
                None,
                None,
                None,
            )
            .expect("valid");
        assert_eq!(setup.variants.len(), 2);
        assert_eq!(setup.unstable.len(), 1, "7 workers cannot drain 9000/s");
        assert_eq!(
            setup.identity().scenario_hash,
            format!(
                "{:016x}",
                xxhash_rust::xxh3::xxh3_64(mmc_keeping(100_000).as_bytes())
            ),
            "the identity still hashes the whole file"
        );
    }
}
