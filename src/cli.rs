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

Exit codes: 0 success, 2 bad input (the message names file, line:column and field), 1 other failures.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
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
  capsim sweep scenarios/sharding-compare.json --name shard-keys      # the scenario's own `sweeps` section
  capsim sweep scenarios/flash-sale.json --vary services.app.replicas=4..=32 --partition 3/8 --out parts/
  capsim merge parts/part-*.jsonl --out out/

VALUES: a list (4,8,16 or hash,range), an integer range (4..=32:4, step
optional; 4..32 excludes 32), or a JSON array for values with commas.
Several --vary form a grid, the first outermost. Replication r of every
variant runs with seed SEED+r and the same named random streams (common
random numbers), so variants differ by their change, not by seed noise.")]
    Sweep(SweepArgs),
    /// Join the partial results of `sweep --partition K/N` runs.
    #[command(after_help = "Example:
  capsim merge parts/part-0000-of-0003.jsonl parts/part-0001-of-0003.jsonl parts/part-0002-of-0003.jsonl --out out/

The merged sweep.json equals the single-machine sweep's byte for byte.")]
    Merge(MergeArgs),
    /// Check a scenario file without running it.
    #[command(after_help = "Examples:
  capsim validate scenarios/flash-sale.json
  capsim validate scenarios/flash-sale.json --set databases.orders.shards=12")]
    Validate(ValidateArgs),
}

/// Arguments of `capsim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// Master seed (overrides the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a field: PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Write results.json into this folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `capsim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// A field to vary: PATH=VALUES (repeatable; several form a grid).
    #[arg(long = "vary", value_name = "PATH=VALUES")]
    pub vary: Vec<String>,
    /// Use the scenario's sweep of this name (when no --vary is given).
    #[arg(long)]
    pub name: Option<String>,
    /// Replications per variant (default: the scenario sweep's, else 1).
    #[arg(long, short = 'r')]
    pub replications: Option<u32>,
    /// Threads (default: all cores).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Seed of replication 0 (default: the scenario's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a field in every variant: PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Write sweep.json and sweep.csv (or, with --partition, the part file) here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run only slice K of N (0-based) and write a partial result for `capsim merge`.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<String>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
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

/// Arguments of `capsim validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// Override a field: PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable summary.
    Table,
    /// The results document (JSON), as written to results.json.
    Json,
}
