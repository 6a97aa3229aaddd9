//! Command-line definitions and the commands' glue.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Deterministic discrete-event simulator and capacity planner for web systems.
///
/// Describe a system in a scenario file — workloads, load balancers, app
/// pods, caches, sharded databases, queues, each with latency distributions
/// and a price — and capsim reports latency percentiles, throughput, hot
/// shards, cache hit ratios, queue lag and cost. Same scenario and seed,
/// same numbers, byte for byte.
#[derive(Debug, Parser)]
#[command(name = "capsim", version, propagate_version = true)]
#[command(after_help = "Examples:
  capsim run scenarios/flash-sale.json
  capsim run scenarios/flash-sale.json --seed 7 --set services.app.replicas=16 --out out/
  capsim run scenarios/mmc.json --format json > results.json
  capsim validate scenarios/flash-sale.json
  capsim check scenarios/*.json --junit junit.xml
  capsim validate my-service.yaml     # YAML works as well as JSON
  capsim schema > capsim.schema.json  # for editors: completion and misspelt fields
  generate-scenario | capsim run -     # - reads standard input: JSON if it starts with {, else YAML
  capsim completions bash > ~/.local/share/bash-completion/completions/capsim

--out DIR is replaced whole at the end of a run (the new set is built in .DIR.capsim-tmp-PID beside it);
Ctrl-C or SIGTERM leaves DIR as it was and exits 130 or 143. A folder holding files capsim did not write is refused.

Exit codes: 0 success, 2 bad input (the message names file, line:column and field), 1 other failures.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Colour verdicts (failures red, passes green): auto colours on a
    /// terminal unless NO_COLOR is set (CLICOLOR_FORCE=1 forces it).
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When to colour (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set and not empty.
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and print a summary (or the results document).
    #[command(after_help = "Examples:
  capsim run scenarios/flash-sale.json
  capsim run scenarios/flash-sale.json --set services.app.replicas=16 --set 'workloads.shoppers.timeout=\"2s\"'
  capsim run scenarios/mmc.json --seed 3 --format json
  capsim run scenarios/flash-sale.json --out out/flash-sale   # writes out/flash-sale/results.json
  capsim run big.json --max-memory 16GiB --max-requests 5e9     # raise the limits of one run

--set PATH=VALUE addresses any field: keys by name, array elements by index
([0] or .0) or by their \"name\" field (services.app.replicas). VALUE is JSON
if it parses as JSON, otherwise a string.")]
    Run(RunArgs),
    /// Run a grid of variants, each replicated, in parallel; report means
    /// with 95% confidence intervals.
    #[command(after_help = "Examples:
  capsim sweep scenarios/flash-sale.json --vary services.app.replicas=6..=12:2 --replications 5
  capsim sweep scenarios/sharding-compare.json --vary databases.orders.strategy=hash,range \\
      --vary databases.orders.shard_key=user_id,tenant_id,order_time --out out/sharding
  capsim sweep scenarios/sharding-compare.json --name layouts      # the scenario's own `sweeps` section
  capsim sweep scenarios/flash-sale.json --vary services.app.replicas=4..=32 --partition 3/8 --out parts/
  capsim merge parts/part-*.jsonl --out out/

VALUES: a list (4,8,16 or hash,range), an integer range (4..=32:4, step
optional; 4..32 excludes 32), or a JSON array for values with commas.
Several --vary form a grid, the first outermost. Replication r of every
variant runs with seed SEED+r and the same named random streams (common
random numbers), so variants differ by their change, not by seed noise.")]
    Sweep(SweepArgs),
    /// Find the cheapest variant whose objectives hold with 95% confidence.
    #[command(after_help = "Examples:
  capsim plan scenarios/flash-sale.json --vary services.app.replicas=4..=16 \\
      --slo 'p99<250ms' --slo 'errors<0.1%' --slo 'endpoint:checkout:p99<400ms'
  capsim plan scenarios/mmc.json --vary services.station.concurrency=9..=20 --slo 'p99<5ms'
  capsim plan scenarios/sharding-compare.json --name reshard  # vary and slo from the scenario's sweep
  capsim plan scenarios/flash-sale.json --vary services.app.replicas=6..=12  # the scenario's slo section
  capsim plan scenarios/flash-sale.json --vary services.app.replicas=6..=12 \
      --slo 'service:app:utilisation<0.9@8m..17m'   # judged over a window of the run

Objectives: p50|p90|p99|p999|mean<DURATION, errors|timeouts|rejections<PERCENT,
throughput>RPS, endpoint:NAME:(p50|p90|p99|p999|mean|errors|timeouts|rejections|throughput),
service:NAME:utilisation,
db:NAME:(hot_spot|utilisation), cache:NAME:hit_ratio, queue:NAME:(lag|e2e_p99),
cost<$/HOUR, cost_per_million<$, any of them over a window with @FROM..TO.
Without --slo, the scenario's `slo` section (windows included) is judged.
An objective holds when its whole 95% interval is on the good side. Every --vary whose values are
ascending numbers (or those named by --search) is assumed monotone: variants implied to fail by a
larger failing one, or dearer than one that meets, are not run; --exhaustive evaluates every variant.
Exit codes: 0 a variant meets the objectives, 1 none does, 2 bad input.")]
    Plan(PlanArgs),
    /// Assert the service-level objectives of scenario files (their `slo`
    /// sections), optionally against a baseline: the capacity regression
    /// test for CI.
    #[command(after_help = "Examples:
  capsim check scenarios/*.json
  capsim check scenarios/flash-sale.json --replications 5 --junit capsim-junit.xml --out capacity-report/
  capsim check scenarios/*.json --baseline capacity-baseline/check.json --tolerance 5%
  capsim check scenarios/flash-sale.json --set services.app.replicas=6   # would 6 pods still do?

Every objective of each scenario's `slo` section becomes one line of the
table and one JUnit test case. Replication r runs with seed SEED+r, so the
same scenario and seed give the same answer: no flaky failures. With
replications, an objective passes when its whole 95% interval is on the good
side, is marginal (a warning; a failure with --strict) when the interval
straddles the limit, and fails when the mean is on the bad side.

--baseline reads the check.json of an earlier `capsim check --out DIR`; an
objective regresses when it is worse than the baseline by more than
--tolerance (relative to the baseline's value) and the 95% interval of the
difference excludes zero (paired by replication when the seeds match).

Exit codes: 0 every objective holds and nothing regressed, 1 a failure or a
regression, 2 bad input (scenario, baseline, arguments).")]
    Check(CheckArgs),
    /// Join the partial results of `sweep --partition K/N` runs.
    #[command(after_help = "Example:
  capsim merge parts/part-0000-of-0003.jsonl parts/part-0001-of-0003.jsonl parts/part-0002-of-0003.jsonl --out out/

The merged sweep.json equals the single-machine sweep's byte for byte.")]
    Merge(MergeArgs),
    /// Render the report (charts and index.html) of a saved results.json,
    /// sweep.json or plan.json.
    #[command(after_help = "Examples:
  capsim report out/flash-sale/results.json --out out/flash-sale
  capsim report ci-artifacts/sweep.json --out /tmp/sweep-report
  capsim run scenarios/mmc.json --format json | capsim report - --out out/mmc")]
    Report(ReportArgs),
    /// Check a scenario file without running it.
    #[command(after_help = "Examples:
  capsim validate scenarios/flash-sale.json
  capsim validate scenarios/flash-sale.json --set databases.orders.shards=12
  capsim validate big.json --max-memory 16GiB

Prints the run's estimated memory and request count. A file whose run would
take more than --max-memory (4GiB) or send more than --max-requests (1e9)
requests is refused (exit 2) at the field that drives it; `sweep`, `plan`
and `check` share the memory budget among their threads.")]
    Validate(ValidateArgs),
    /// Print the JSON Schema (draft 2020-12) of scenario files, for editors
    /// and validators.
    #[command(after_help = "Examples:
  capsim schema > capsim.schema.json
  capsim schema | jq '.properties | keys'

Point an editor at the file: in VS Code with `json.schemas` (and, with the
Red Hat YAML extension, `yaml.schemas`) in settings.json, or a \"$schema\" key
in the scenario; in JetBrains IDEs under Settings > Languages & Frameworks >
Schemas and DTDs > JSON Schema Mappings. See docs/scenario-format.md.
The schema catches misspelt fields and wrong types as you type; `capsim
validate` also checks what a schema cannot (names that refer to components,
ranges that depend on other fields).")]
    Schema,
    /// Print a shell completion script (bash, zsh, fish, powershell,
    /// elvish).
    #[command(
        after_help = "Examples (README.md, \"Shell completions\", says where each shell looks):
  capsim completions bash > ~/.local/share/bash-completion/completions/capsim
  capsim completions zsh > ~/.zfunc/_capsim
  capsim completions fish > ~/.config/fish/completions/capsim.fish
  capsim completions powershell >> $PROFILE"
    )]
    Completions(CompletionsArgs),
}

/// Arguments of `capsim completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `capsim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (JSON, or YAML if named .yaml/.yml), or - to read it from standard input.
    pub scenario: PathBuf,
    /// Master seed (overrides the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a field: PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Write results.json and the report (SVG charts, index.html) into this folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// What one run may take.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What `sweep` and `plan` share: the scenario, the grid and how to run it.
#[derive(Debug, clap::Args)]
pub struct GridArgs {
    /// The scenario file (JSON, or YAML if named .yaml/.yml), or - to read it from standard input.
    pub scenario: PathBuf,
    /// A field to vary: PATH=VALUES (repeatable; several form a grid).
    #[arg(long = "vary", value_name = "PATH=VALUES")]
    pub vary: Vec<String>,
    /// Use the scenario's kept sweep of this name instead of --vary (for
    /// plan, its objectives too).
    #[arg(long)]
    pub name: Option<String>,
    /// Threads (default: all cores).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Seed of replication 0 (default: the scenario's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a field in every variant: PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// What one run may take.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Arguments of `capsim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario and what to vary.
    #[command(flatten)]
    pub grid: GridArgs,
    /// Replications per variant (default: the scenario sweep's, else 1).
    #[arg(long, short = 'r')]
    pub replications: Option<u32>,
    /// Write sweep.json and sweep.csv (or, with --partition, the part file) here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run only slice K of N (0-based) and write a partial result for `capsim merge`.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<String>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `capsim plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The scenario and what to vary.
    #[command(flatten)]
    pub grid: GridArgs,
    /// An objective, e.g. 'p99<250ms' (repeatable).
    #[arg(long = "slo", value_name = "OBJECTIVE")]
    pub slo: Vec<String>,
    /// Replications every evaluated variant starts with.
    #[arg(long, default_value_t = 3)]
    pub min_replications: u32,
    /// Most replications of one variant.
    #[arg(long, short = 'r', default_value_t = 10)]
    pub replications: u32,
    /// A dimension assumed monotone (a larger value never makes an objective worse),
    /// searched instead of run in full: repeat it or separate paths with commas
    /// (default: every --vary whose values are ascending numbers).
    #[arg(long, value_name = "PATH", value_delimiter = ',')]
    pub search: Vec<String>,
    /// Evaluate every variant of the grid.
    #[arg(long)]
    pub exhaustive: bool,
    /// Write plan.json here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `capsim check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario files (JSON or YAML), each with an `slo` section; - reads one from standard input.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Replications of every scenario (and objective window).
    #[arg(long, short = 'r', default_value_t = 1)]
    pub replications: u32,
    /// Seed of replication 0 (default: each scenario's own seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a field in every scenario: PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Compare with this check.json (written by an earlier `check --out`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Allowed regression against the baseline: 5% or 0.05.
    #[arg(long, default_value = "5%")]
    pub tolerance: String,
    /// Objectives whose 95% interval straddles the limit fail.
    #[arg(long)]
    pub strict: bool,
    /// Write JUnit XML here (one test case per objective).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write check.json, each scenario's report and index.html here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Threads (default: all cores).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// What one run may take.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Arguments of `capsim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The partial files (part-K-of-N.jsonl), all N of them, in any order.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Write sweep.json and sweep.csv here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `capsim report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results.json, sweep.json, plan.json or check.json written by capsim, or - to read it from standard input.
    pub document: PathBuf,
    /// Write the charts and index.html here.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Arguments of `capsim validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The scenario file (JSON, or YAML if named .yaml/.yml), or - to read it from standard input.
    pub scenario: PathBuf,
    /// Override a field: PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// What one run may take.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What one run may take: refused above these, at validation (exit 2).
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Memory one run may take, estimated from the file's counts (shards,
    /// read replicas, replicas, endpoints, partitions, ...): a size such as
    /// 4GiB, 16GB or 512MiB. Parallel runs (sweep, plan, check) share it.
    #[arg(long, value_name = "SIZE", default_value = "4GiB", value_parser = parse_size)]
    pub max_memory: u64,
    /// Requests one run may be expected to send (arrival rate x duration;
    /// closed-loop users / think time x duration), such as 1e10.
    #[arg(long, value_name = "N", default_value = "1e9", value_parser = parse_count)]
    pub max_requests: f64,
}

impl LimitArgs {
    /// The limits of one run when `threads` run at once (0: all cores):
    /// the memory budget is shared among them.
    pub fn per_run(&self, threads: usize) -> models::Limits {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        models::Limits {
            max_memory: self.max_memory / threads as u64,
            max_requests: self.max_requests,
        }
    }
}

/// A size with a unit (`4GiB`, `16 GB`, `512MiB`, or bytes).
fn parse_size(text: &str) -> Result<u64, String> {
    text.parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("{e} (write a size such as 4GiB, 16GB or 512MiB)"))
}

/// A positive count, possibly in exponent form (`1e10`).
fn parse_count(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err("write a positive number, such as 1e10 or 5000000000".into()),
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable summary.
    Table,
    /// The JSON document (the one written into --out).
    Json,
}
