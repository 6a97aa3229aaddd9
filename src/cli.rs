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
