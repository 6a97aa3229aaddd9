//! `sweep.csv`, beside `sweep.json` (the summary printed in a terminal is
//! `reports::terminal::sweep`).

use std::fmt::Write as _;

use reports::fmt::value_text;

use super::SweepResult;

/// `sweep.csv`: one row per variant (grid order), the parameters, the
/// replication count, then `NAME_mean` and `NAME_ci95` for every metric.
pub fn csv(result: &SweepResult) -> String {
    let mut out = String::new();
    let names: Vec<String> = result
        .variants
        .first()
        .map(|v| v.metrics.keys().cloned().collect())
        .unwrap_or_default();
    let mut header: Vec<String> = result
        .identity
        .dims
        .iter()
        .map(|d| d.path.clone())
        .collect();
    header.push("replications".into());
    for n in &names {
        header.push(format!("{n}_mean"));
        header.push(format!("{n}_ci95"));
    }
    let _ = writeln!(
        out,
        "{}",
        header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(",")
    );
    for v in &result.variants {
        let mut row: Vec<String> = v
            .params
            .values()
            .map(|x| csv_field(&value_text(x)))
            .collect();
        row.push(v.replications.to_string());
        for n in &names {
            match v.metrics.get(n) {
                Some(e) => {
                    row.push(e.mean.to_string());
                    row.push(e.ci95.map_or(String::new(), |h| h.to_string()));
                }
                None => row.extend([String::new(), String::new()]),
            }
        }
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
