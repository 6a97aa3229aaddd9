//! The `capsim` binary: parse arguments, run a command, map failures to
//! exit codes (0 success, 1 failure, 2 bad input).

use std::process::ExitCode;

use anyhow::Context;

use capsim::check::{self, CheckError, CheckOptions};
use capsim::cli::{
    CheckArgs, Cli, Command, CompletionsArgs, Format, GridArgs, MergeArgs, PlanArgs, ReportArgs,
    RunArgs, SweepArgs, ValidateArgs,
};
use capsim::input::read_scenario;
use capsim::outdir::{OutDir, OutError};
use capsim::output::{check_out_dir, document_json, write_atomic};
use capsim::plan::{PlanOptions, plan as run_plan, slo};
use capsim::progress::Progress;
use capsim::sweep::partition::{PartHeader, PartWriter, Partition, merge, write_outputs};
use capsim::sweep::spec::parse_vary;
use capsim::sweep::{SweepError, SweepResult, SweepSetup, SweepSource};
use clap::Parser;
use models::ScenarioError;

/// Whether colour is on (set once, from `--color`, before anything is
/// printed).
static COLOUR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Writes text to standard output, made [safe](capsim::term::safe) for a
/// terminal; a closed pipe (`capsim ... | head`) ends the program quietly
/// instead of panicking, as Unix tools do.
fn write_stdout(text: &str) {
    write_raw(&capsim::term::safe(
        text,
        COLOUR.get().copied().unwrap_or(false),
    ));
}

/// Writes a JSON document (and a line feed) to standard output, made
/// [safe](capsim::term::safe_json) for a terminal.
fn write_json(json: &str) {
    write_raw(&format!("{}\n", capsim::term::safe_json(json)));
}

fn write_raw(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

macro_rules! out {
    ($($arg:tt)*) => { write_stdout(&format!($($arg)*)) };
}

macro_rules! outln {
    ($($arg:tt)*) => { write_stdout(&format!("{}\n", format!($($arg)*))) };
}

/// `eprintln!`, every unprintable character but the line feed escaped: a
/// message quoting user input cannot act on the terminal.
macro_rules! errln {
    ($($arg:tt)*) => { eprintln!("{}", models::printable_lines(&format!($($arg)*))) };
}

/// A failure with its exit code.
enum Failure {
    /// A plan found no variant meeting the objectives (already reported): exit 1.
    Unmet,
    /// Bad input: exit 2.
    Input(String),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

/// A failure that is capsim's, not the input's: exit 1.
fn internal(message: String) -> Failure {
    Failure::Other(anyhow::anyhow!(message))
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure::Input(e.to_string())
    }
}

impl From<SweepError> for Failure {
    fn from(e: SweepError) -> Self {
        match e {
            SweepError::Input(m) => Failure::Input(m),
            SweepError::Internal(m) => Failure::Other(anyhow::anyhow!(m)),
        }
    }
}

impl From<CheckError> for Failure {
    fn from(e: CheckError) -> Self {
        Failure::Input(e.0)
    }
}

impl From<OutError> for Failure {
    fn from(e: OutError) -> Self {
        match e {
            OutError::Refused(m) => Failure::Input(m),
            OutError::Io { .. } => Failure::Other(e.into()),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

fn main() -> ExitCode {
    capsim::interrupt::install();
    let cli = Cli::parse();
    let _ = COLOUR.set(capsim::term::setup(cli.color));
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Validate(a) => validate(a),
        Command::Sweep(a) => sweep(a),
        Command::Merge(a) => merge_parts(a),
        Command::Plan(a) => plan(a),
        Command::Check(a) => check_cmd(a),
        Command::Report(a) => report(a),
        Command::Completions(a) => completions(a),
        Command::Schema => {
            schema();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Unmet) => ExitCode::from(1),
        Err(Failure::Input(msg)) => {
            errln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            errln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `capsim schema`: the scenario format's JSON Schema, pretty-printed.
fn schema() {
    let text =
        serde_json::to_string_pretty(&models::scenario_schema()).expect("a schema is plain JSON");
    outln!("{text}");
}

fn run(a: RunArgs) -> Result<(), Failure> {
    let mut sets = a.sets.clone();
    if let Some(seed) = a.seed {
        sets.push(format!("seed={seed}"));
    }
    check_out(a.out.as_deref())?;
    let (file, text) = read_scenario(&a.scenario)?;
    let (_, model) = models::load_within(&file, &text, &sets, &a.limits.per_run(1))?;
    let out = stage_out(a.out.as_deref(), &[&a.scenario])?;
    let progress = Progress::run(sim_core::SimTime(model.duration.0), a.quiet);
    let watch = progress.run_progress();
    let results = models::judged(&model, watch.watch(models::World::new(&model, model.seed)))
        .map_err(|e| Failure::Input(format!("{file}: {e}")))?;
    watch.finish();
    progress.finish();
    let json = document_json(&results, "results document").map_err(internal)?;
    if let Some(out) = out {
        out.write("results.json".as_ref(), format!("{json}\n").as_bytes())?;
        write_report(&out, "".as_ref(), &results)?;
        out.commit()?;
    }
    match a.format {
        Format::Json => write_json(&json),
        Format::Table => {
            out!("{}", reports::summary(&results));
            if let Some(dir) = &a.out {
                outln!("Results written to {}", dir.join("results.json").display());
            }
        }
    }
    Ok(())
}

fn validate(a: ValidateArgs) -> Result<(), Failure> {
    let (file, text) = read_scenario(&a.scenario)?;
    let limits = a.limits.per_run(1);
    let (sc, model) = models::load_within(&file, &text, &a.sets, &limits)?;
    let expected: f64 = model
        .workloads
        .iter()
        .map(|w| w.profile.expected_arrivals(model.duration.0))
        .sum();
    // Every variant of every sweep kept in the file must be valid too;
    // check them all before saying "ok".
    // One source for all of them: the file is parsed once, however many
    // sweeps it keeps.
    let mut sweeps = Vec::new();
    let source = match sc.sweeps.is_empty() {
        true => None,
        false => Some(SweepSource::new(
            file.clone(),
            text,
            a.sets.clone(),
            limits,
        )?),
    };
    for (source, name) in source
        .iter()
        .flat_map(|s| s.sweep_names().map(move |n| (s, n)))
    {
        // Its errors name the file and the sweep.
        let setup = source.setup(Vec::new(), None, None, Some(name.to_string()))?;
        for s in &setup.slo {
            slo::parse(s).map_err(|e| Failure::Input(format!("{file}: sweeps.{name}.slo: {e}")))?;
        }
        sweeps.push(format!(
            "  sweep `{name}`: {} variants x {} replications{}",
            setup.variants.len(),
            setup.replications,
            if setup.unstable.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} unstable: a sweep refuses them, plan counts them as failing)",
                    setup.unstable.len()
                )
            }
        ));
    }
    outln!(
        "{}: ok — scenario `{}`: {} workloads, {} services, {} caches, {} databases, {} queues; {} simulated, about {:.0} requests",
        file,
        sc.name,
        model.workloads.len(),
        model.services.len(),
        model.caches.len(),
        model.databases.len(),
        model.queues.len(),
        model.duration,
        expected
    );
    outln!(
        "  memory: about {} per run (budget {}, --max-memory)",
        models::size(models::memory_estimate(&sc).bytes),
        models::size(limits.max_memory)
    );
    if !model.objectives.is_empty() {
        let windows = check::windows(&model).len() - 1;
        outln!(
            "  slo: {} objectives{} for `capsim check`",
            model.objectives.len(),
            if windows > 0 {
                format!(", {windows} window(s)")
            } else {
                String::new()
            }
        );
        for note in model
            .objectives
            .iter()
            .filter_map(|o| o.not_measured_note())
        {
            outln!(
                "  warning: {note} (`run` and `sweep` report it as such; `check` and `plan` refuse the run)"
            );
        }
    }
    for line in sweeps {
        outln!("{line}");
    }
    Ok(())
}

/// Reads the scenario and the grid that `sweep` and `plan` share.
fn grid_setup(g: &GridArgs, replications: Option<u32>) -> Result<SweepSetup, Failure> {
    let dims = g
        .vary
        .iter()
        .map(|v| parse_vary(v).map_err(|e| Failure::Input(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let (file, text) = read_scenario(&g.scenario)?;
    let limits = g.limits.per_run(g.threads);
    Ok(SweepSource::new(file, text, g.sets.clone(), limits)?.setup(
        dims,
        replications,
        g.seed,
        g.name.clone(),
    )?)
}

fn sweep(a: SweepArgs) -> Result<(), Failure> {
    check_out(a.out.as_deref())?;
    let partition = a.partition.as_deref().map(Partition::parse).transpose()?;
    let setup = grid_setup(&a.grid, a.replications)?;
    let started = std::time::Instant::now();
    setup.require_stable()?;
    // A partitioned sweep writes one file beside other parts; a whole
    // sweep replaces its folder.
    let out = match partition {
        Some(_) => None,
        None => stage_out(a.out.as_deref(), &[&a.grid.scenario])?,
    };
    const SHOWN: usize = 5;
    for w in setup.warnings.iter().take(SHOWN) {
        errln!("warning: {w}");
    }
    if setup.warnings.len() > SHOWN {
        errln!(
            "warning: ... and {} more objectives not measured",
            setup.warnings.len() - SHOWN
        );
    }
    if let Some(p) = partition {
        let runs = p.runs(setup.runs());
        let bar = Progress::runs(runs.len(), a.grid.quiet);
        let dir = a.out.clone().unwrap_or_else(|| ".".into());
        let path = dir.join(p.file_name());
        let header = PartHeader {
            capsim_partial: 1,
            identity: setup.identity(),
            description: setup.description.clone(),
            part: p.k,
            parts: p.n,
            first_run: runs.start,
            end_run: runs.end,
            total_runs: setup.runs(),
        };
        let mut writer = PartWriter::create(&path, &header)
            .with_context(|| format!("writing {}", path.display()))?;
        setup.execute_chunked(runs.clone(), a.grid.threads, &bar, |records| {
            writer
                .append(&records)
                .with_context(|| format!("writing {}", path.display()))
                .map_err(Failure::from)
        })?;
        writer
            .finish()
            .with_context(|| format!("writing {}", path.display()))?;
        bar.finish();
        errln!(
            "part {} of {}: runs {}..{} of {} in {:.1}s, written to {}",
            p.k,
            p.n,
            runs.start,
            runs.end,
            setup.runs(),
            started.elapsed().as_secs_f64(),
            path.display()
        );
        return Ok(());
    }
    let bar = Progress::runs(setup.runs(), a.grid.quiet);
    let result = setup.run_all(a.grid.threads, &bar)?;
    bar.finish();
    finish_sweep(&result, out, a.format)?;
    if a.format == Format::Table {
        outln!(
            "{} runs in {:.1}s wall",
            setup.runs(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn finish_sweep(result: &SweepResult, out: Option<OutDir>, format: Format) -> Result<(), Failure> {
    let dir = out.as_ref().map(|o| o.path().to_path_buf());
    if let Some(out) = out {
        write_outputs(&out, result).map_err(internal)?;
        write_files(&out, "".as_ref(), reports::sweep_report(result))?;
        out.commit()?;
    }
    match format {
        Format::Json => write_json(&document_json(result, "sweep document").map_err(internal)?),
        Format::Table => {
            out!("{}", reports::terminal::sweep::summary(result));
            if let Some(dir) = dir {
                outln!(
                    "Sweep written to {} and {}",
                    dir.join("sweep.json").display(),
                    dir.join("sweep.csv").display()
                );
            }
        }
    }
    Ok(())
}

fn merge_parts(a: MergeArgs) -> Result<(), Failure> {
    check_out(a.out.as_deref())?;
    let result = merge(&a.parts)?;
    let parts: Vec<&std::path::Path> = a.parts.iter().map(|p| p.as_path()).collect();
    let out = stage_out(a.out.as_deref(), &parts)?;
    finish_sweep(&result, out, a.format)
}

fn plan(a: PlanArgs) -> Result<(), Failure> {
    check_out(a.out.as_deref())?;
    let mut setup = grid_setup(&a.grid, None)?;
    // The objectives: --slo, else the scenario sweep's `slo`, else the
    // scenario's own `slo` section, windows included.
    let base = setup.base_model()?;
    let texts = if a.slo.is_empty() {
        setup.slo.clone()
    } else {
        a.slo.clone()
    };
    if texts.is_empty() {
        check::refuse_unmeasured(&setup.file, &base, "plan").map_err(Failure::Input)?;
    }
    let slos = if texts.is_empty() {
        base.objectives
            .iter()
            .map(models::Objective::as_slo)
            .collect()
    } else {
        texts
            .iter()
            .map(|t| slo::parse(t).map_err(Failure::Input))
            .collect::<Result<Vec<_>, _>>()?
    };
    for s in &slos {
        if let Some((_, w)) = models::split_windowed(&s.metric) {
            if w.to > base.duration {
                return Err(Failure::Input(format!(
                    "--slo {}: the window ends at {} but the run lasts {}",
                    s.text, w.to, base.duration
                )));
            }
            setup.observe.push(s.metric.clone());
        }
    }
    if a.min_replications < 2 {
        return Err(Failure::Input(
            "--min-replications must be at least 2: one run has no confidence interval".into(),
        ));
    }
    let opt = PlanOptions {
        min_replications: a.min_replications,
        max_replications: a.replications,
        batch: 2,
        search: a.search.clone(),
        exhaustive: a.exhaustive,
        threads: a.grid.threads,
    };
    let out = stage_out(a.out.as_deref(), &[&a.grid.scenario])?;
    let bar = Progress::whole_runs(a.grid.quiet);
    let started = std::time::Instant::now();
    let result = run_plan(&setup, &slos, &opt, bar.bar())?;
    bar.finish();
    let json = document_json(&result, "plan document").map_err(internal)?;
    if let Some(out) = out {
        out.write("plan.json".as_ref(), format!("{json}\n").as_bytes())?;
        write_files(&out, "".as_ref(), reports::plan_report(&result))?;
        out.commit()?;
    }
    match a.format {
        Format::Json => write_json(&json),
        Format::Table => {
            out!("{}", reports::terminal::plan::summary(&result));
            outln!(
                "{} runs in {:.1}s wall",
                result.runs,
                started.elapsed().as_secs_f64()
            );
        }
    }
    if result.chosen.is_none() {
        return Err(Failure::Unmet);
    }
    Ok(())
}

fn check_cmd(a: CheckArgs) -> Result<(), Failure> {
    let opts = CheckOptions {
        replications: a.replications,
        seed: a.seed,
        sets: a.sets.clone(),
        tolerance: check::parse_tolerance(&a.tolerance)?,
        strict: a.strict,
        threads: a.threads,
        limits: a.limits.per_run(a.threads),
    };
    check_out(a.out.as_deref())?;
    let loaded = check::load(&a.scenarios, &opts)?;
    let baseline = a
        .baseline
        .as_ref()
        .map(|p| check::baseline::load(p).map(|b| (p.display().to_string(), b)))
        .transpose()?;
    let mut inputs: Vec<&std::path::Path> = a.scenarios.iter().map(|p| p.as_path()).collect();
    inputs.extend(a.baseline.as_deref());
    let out = stage_out(a.out.as_deref(), &inputs)?;
    let bar = Progress::runs(check::run_count(&loaded, opts.replications), a.quiet);
    let outcome = check::check(
        &loaded,
        &opts,
        baseline.as_ref().map(|(f, b)| (f.as_str(), b)),
        &bar,
    )?;
    bar.finish();
    let mut report = outcome.report;
    if let Some(out) = &out {
        let dirs = check::report_dirs(&loaded);
        for ((s, results), name) in report
            .scenarios
            .iter_mut()
            .zip(&outcome.first_runs)
            .zip(dirs)
        {
            let sub = std::path::Path::new(&name);
            let json = document_json(results, "results document").map_err(internal)?;
            out.write(&sub.join("results.json"), format!("{json}\n").as_bytes())?;
            write_report(out, sub, results)?;
            s.report_dir = Some(name);
        }
    }
    let json = document_json(&report, "check document").map_err(internal)?;
    let junit = a
        .junit
        .as_ref()
        .map(|path| (path, check::junit::junit(&report)));
    if let Some(out) = out {
        out.write("check.json".as_ref(), format!("{json}\n").as_bytes())?;
        write_files(&out, "".as_ref(), reports::check_report(&report))?;
        // A JUnit file inside --out belongs to the new set.
        if let Some((path, xml)) = &junit
            && let Some(rel) = out.inside(path)
        {
            out.write(&rel, xml.as_bytes())?;
        }
        out.commit()?;
    }
    if let Some((path, xml)) = &junit {
        write_atomic(path, xml.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    match a.format {
        Format::Json => write_json(&json),
        Format::Table => {
            out!("{}", reports::terminal::check::summary(&report));
            if let Some(dir) = &a.out {
                outln!(
                    "Check written to {} (report: {})",
                    dir.join("check.json").display(),
                    dir.join("index.html").display()
                );
            }
        }
    }
    if report.passed {
        Ok(())
    } else {
        Err(Failure::Unmet)
    }
}

/// Refuses an `--out` that names a file (or lies under one) before any
/// work is done: exit 2, nothing written.
fn check_out(out: Option<&std::path::Path>) -> Result<(), Failure> {
    out.map_or(Ok(()), check_out_dir).map_err(Failure::Input)
}

/// Starts the new set of an `--out` folder (none without `--out`),
/// carrying over the `inputs` that lie inside it.
fn stage_out(
    out: Option<&std::path::Path>,
    inputs: &[&std::path::Path],
) -> Result<Option<OutDir>, Failure> {
    Ok(out.map(|dir| OutDir::begin(dir, inputs)).transpose()?)
}

/// Writes a report's files into the subfolder `sub` of the new set.
fn write_files(
    out: &OutDir,
    sub: &std::path::Path,
    files: Result<Vec<reports::ReportFile>, reports::ChartError>,
) -> Result<(), Failure> {
    let files = files.context("drawing the report")?;
    for f in &files {
        out.write(&sub.join(&f.name), &f.bytes)?;
    }
    Ok(())
}

/// Writes a run's report (charts and index.html) into `sub` of the new set.
fn write_report(
    out: &OutDir,
    sub: &std::path::Path,
    results: &models::Results,
) -> Result<(), Failure> {
    write_files(out, sub, reports::run_report(results))
}

/// Reads `text` (of `file`, which looks like a `what`) as a `T`; the
/// error names the line:column and the field path of the first value
/// that does not fit (`cost.total: invalid type: null, expected f64`).
fn read_as<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    what: &str,
) -> Result<T, Failure> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let (line, column, why) = capsim::output::read_error(&e);
        Failure::Input(format!(
            "{file}:{line}:{column}: looks like a {what} but does not read as one (written by another capsim version, or edited?): {why}"
        ))
    })
}

fn report(a: ReportArgs) -> Result<(), Failure> {
    check_out(Some(&a.out))?;
    let stdin = capsim::input::is_stdin(&a.document);
    let (file, text) = if stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map_err(|e| {
            Failure::Input(format!(
                "{}: cannot read (a capsim document is UTF-8 JSON): {e}",
                capsim::input::STDIN
            ))
        })?;
        (capsim::input::STDIN.to_string(), text)
    } else {
        let file = a.document.display().to_string();
        let text = std::fs::read_to_string(&a.document)
            .map_err(|e| Failure::Input(format!("{file}: cannot read: {e}")))?;
        (file, text)
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::Input(format!("{file}:{}:{}: not JSON: {e}", e.line(), e.column()))
    })?;
    let has = |k: &str| value.get(k).is_some();
    let (kind, files) = if has("totals") && has("time_series") {
        let r: models::Results = read_as(&file, &text, "results document")?;
        ("run", reports::run_report(&r))
    } else if has("identity") && has("variants") {
        let s: capsim::sweep::SweepResult = read_as(&file, &text, "sweep document")?;
        ("sweep", reports::sweep_report(&s))
    } else if has("scenarios") && has("tolerance") {
        let c: models::CheckReport = read_as(&file, &text, "check document")?;
        ("check", reports::check_report(&c))
    } else if has("identity") && has("slos") {
        let p: capsim::plan::PlanResult = read_as(&file, &text, "plan document")?;
        ("plan", reports::plan_report(&p))
    } else {
        return Err(Failure::Input(format!(
            "{file}: not a capsim document (expected results.json, sweep.json, plan.json or check.json)"
        )));
    };
    let inputs: &[&std::path::Path] = if stdin { &[] } else { &[&a.document] };
    let out = OutDir::begin(&a.out, inputs)?;
    write_files(&out, "".as_ref(), files)?;
    out.commit()?;
    outln!(
        "{kind} report written to {}",
        a.out.join("index.html").display()
    );
    Ok(())
}

/// `capsim completions SHELL`: the shell's completion script on standard
/// output.
fn completions(a: CompletionsArgs) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "capsim", &mut script);
    write_raw(&String::from_utf8(script).map_err(|e| internal(e.to_string()))?);
    Ok(())
}
