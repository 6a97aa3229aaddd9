//! The `capsim` binary: parse arguments, run a command, map failures to
//! exit codes (0 success, 1 failure, 2 bad input).

use std::process::ExitCode;

use anyhow::Context;
use capsim::cli::{Cli, Command, Format, RunArgs, ValidateArgs};
use capsim::output::write_atomic;
use clap::Parser;
use models::scenario::{self, ScenarioError};

/// A failure with its exit code.
enum Failure {
    /// Bad input: exit 2.
    Input(String),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure::Input(e.to_string())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Validate(a) => validate(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(a: RunArgs) -> Result<(), Failure> {
    let mut sets = a.sets.clone();
    if let Some(seed) = a.seed {
        sets.push(format!("seed={seed}"));
    }
    let (_, model) = scenario::load_file(&a.scenario, &sets)?;
    let results = models::simulate(&model)
        .map_err(|e| Failure::Input(format!("{}: {e}", a.scenario.display())))?;
    let json = serde_json::to_string_pretty(&results).context("serialising the results")?;
    if let Some(dir) = &a.out {
        let path = dir.join("results.json");
        write_atomic(&path, format!("{json}\n").as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    match a.format {
        Format::Json => println!("{json}"),
        Format::Table => {
            print!("{}", reports::summary(&results));
            if let Some(dir) = &a.out {
                println!("Results written to {}", dir.join("results.json").display());
            }
        }
    }
    Ok(())
}

fn validate(a: ValidateArgs) -> Result<(), Failure> {
    let (sc, model) = scenario::load_file(&a.scenario, &a.sets)?;
    let expected: f64 = model
        .workloads
        .iter()
        .map(|w| w.profile.expected_arrivals(model.duration.0))
        .sum();
    println!(
        "{}: ok — scenario `{}`: {} workloads, {} services, {} caches, {} databases, {} queues; {} simulated, about {:.0} requests",
        a.scenario.display(),
        sc.name,
        model.workloads.len(),
        model.services.len(),
        model.caches.len(),
        model.databases.len(),
        model.queues.len(),
        model.duration,
        expected
    );
    Ok(())
}
