//! Writing a sweep: the summary table, `sweep.json` and `sweep.csv`.

use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use serde_json::Value;

use super::SweepResult;
use super::aggregate::{Estimate, VariantSummary};
use super::spec::{short_path, value_text};

/// `mean ± half-width` with precision suited to the magnitude.
pub fn estimate_text(e: &Estimate, scale: f64) -> String {
    let m = e.mean * scale;
    let digits = if m.abs() >= 100.0 {
        0
    } else if m.abs() >= 1.0 {
        2
    } else {
        4
    };
    match e.ci95 {
        Some(h) => format!("{m:.digits$} ± {:.digits$}", h * scale),
        None => format!("{m:.digits$}"),
    }
}

/// Orders values for display: numbers numerically, then everything else
/// by its text.
fn value_key(v: &Value) -> (u8, f64, String) {
    match v.as_f64() {
        Some(x) => (0, x, String::new()),
        None => (1, 0.0, value_text(v)),
    }
}

/// Variants sorted by their parameters, first dimension first.
pub fn sorted(result: &SweepResult) -> Vec<&VariantSummary> {
    let mut v: Vec<&VariantSummary> = result.variants.iter().collect();
    v.sort_by(|a, b| {
        for (x, y) in a.params.values().zip(b.params.values()) {
            let (kx, ky) = (value_key(x), value_key(y));
            let o =
                kx.0.cmp(&ky.0)
                    .then(kx.1.total_cmp(&ky.1))
                    .then(kx.2.cmp(&ky.2));
            if o.is_ne() {
                return o;
            }
        }
        a.index.cmp(&b.index)
    });
    v
}

/// The summary table printed after a sweep.
pub fn table(result: &SweepResult) -> String {
    let mut header: Vec<String> = result
        .identity
        .dims
        .iter()
        .map(|d| short_path(&d.path))
        .collect();
    let first = result.variants.first();
    let has = |name: &str| first.is_some_and(|v| v.metrics.contains_key(name));
    header.extend(["runs", "ok/s", "p99 ms", "mean ms", "errors"].map(String::from));
    let dbs: Vec<String> = first
        .map(|v| v.shard_share.keys().cloned().collect())
        .unwrap_or_default();
    let caches: Vec<String> = first
        .map(|v| {
            v.metrics
                .keys()
                .filter_map(|k| {
                    k.strip_prefix("cache.")
                        .and_then(|r| r.strip_suffix(".hit_ratio"))
                })
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let sessions: Vec<String> = first
        .map(|v| {
            v.metrics
                .keys()
                .filter_map(|k| {
                    k.strip_prefix("service.")
                        .and_then(|r| r.strip_suffix(".session_loss_rate"))
                })
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    for d in &dbs {
        header.push(format!("{d} hot-spot"));
        header.push(format!("{d} hot-spot/interval"));
    }
    let any_moved = result.variants.iter().any(|v| !v.keys_moved.is_empty());
    if any_moved {
        header.push("keys moved".into());
    }
    for c in &caches {
        header.push(format!("{c} hit"));
    }
    for s in &sessions {
        header.push(format!("{s} sessions lost"));
    }
    header.push("$/hour".into());
    if has("cost.per_million_requests") {
        header.push("$/M req".into());
    }
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_header(header.iter().map(Cell::new));
    for i in result.identity.dims.len()..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let get = |v: &VariantSummary, name: &str, scale: f64| {
        v.metrics
            .get(name)
            .map_or("-".to_string(), |e| estimate_text(e, scale))
    };
    for v in sorted(result) {
        let mut row: Vec<String> = v.params.values().map(value_text).collect();
        row.push(v.replications.to_string());
        row.push(get(v, "throughput_rps", 1.0));
        row.push(get(v, "p99_ms", 1.0));
        row.push(get(v, "mean_ms", 1.0));
        row.push(
            v.metrics
                .get("error_rate")
                .map_or("-".into(), |e| format!("{:.3}%", e.mean * 100.0)),
        );
        for d in &dbs {
            row.push(get(v, &format!("db.{d}.hot_spot_index"), 1.0));
            row.push(get(v, &format!("db.{d}.hot_spot_interval"), 1.0));
        }
        if any_moved {
            row.push(if v.keys_moved.is_empty() {
                "0%".into()
            } else {
                v.keys_moved
                    .iter()
                    .map(|(d, f)| format!("{d} {:.1}%", f * 100.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
        }
        for c in &caches {
            row.push(get(v, &format!("cache.{c}.hit_ratio"), 1.0));
        }
        for s in &sessions {
            row.push(
                v.metrics
                    .get(&format!("service.{s}.session_loss_rate"))
                    .map_or("-".into(), |e| format!("{:.2}%", e.mean * 100.0)),
            );
        }
        row.push(
            v.metrics
                .get("cost.per_hour")
                .map_or("-".into(), |e| format!("{:.2}", e.mean)),
        );
        if has("cost.per_million_requests") {
            row.push(
                v.metrics
                    .get("cost.per_million_requests")
                    .map_or("-".into(), |e| format!("{:.2}", e.mean)),
            );
        }
        t.add_row(row);
    }
    let mut out = String::new();
    let id = &result.identity;
    let _ = writeln!(
        out,
        "Sweep of {} — {} variants x {} replications (seeds {}..{}); means ± 95% confidence half-width",
        id.scenario,
        result.variants.len(),
        id.replications,
        id.seed,
        id.seed + u64::from(id.replications) - 1
    );
    let _ = writeln!(out, "{t}");
    out
}

/// Per-shard load shares of every variant (sharding comparisons).
pub fn shard_table(result: &SweepResult) -> Option<String> {
    let first = result.variants.first()?;
    let mut out = String::new();
    for db in first.shard_share.keys() {
        let max_shards = result
            .variants
            .iter()
            .filter_map(|v| v.shard_share.get(db).map(Vec::len))
            .max()
            .unwrap_or(0);
        if max_shards < 2 {
            continue;
        }
        let mut header: Vec<String> = vec!["variant".into()];
        header.extend((0..max_shards).map(|i| format!("s{i}")));
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_header(header.iter().map(Cell::new));
        for v in sorted(result) {
            let label = v
                .params
                .iter()
                .map(|(p, x)| format!("{}={}", short_path(p), value_text(x)))
                .collect::<Vec<_>>()
                .join(" ");
            let mut row = vec![label];
            let shares = v.shard_share.get(db).cloned().unwrap_or_default();
            for i in 0..max_shards {
                row.push(
                    shares
                        .get(i)
                        .map_or(String::new(), |s| format!("{:.1}%", s * 100.0)),
                );
            }
            t.add_row(row);
        }
        let _ = writeln!(
            out,
            "Load share per shard of `{db}` (mean over replications)\n{t}"
        );
    }
    (!out.is_empty()).then_some(out)
}

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
