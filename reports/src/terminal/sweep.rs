//! The summary of a sweep printed by `capsim sweep`: one row per variant
//! (sorted by its parameters) with its estimates, then the load per shard
//! of every variant.

use std::fmt::Write as _;

use models::{SweepResult, VariantSummary};
use serde_json::Value;

use super::table;
use crate::fmt::{Unit, estimate, int, metric_unit, params, pct, short_path, value_text};
use crate::shared::{names_of, sharded, windowed, windowed_name};

/// The summary printed after a sweep: [`variants`], then
/// [`shard_tables`] when a database has more than one shard.
pub fn summary(result: &SweepResult) -> String {
    let mut out = variants(result);
    if let Some(s) = shard_tables(result) {
        out.push_str(&s);
    }
    out
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
fn sorted(result: &SweepResult) -> Vec<&VariantSummary> {
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

/// The table of variants printed after a sweep: its figures, then the
/// windowed figures of the scenario's objectives, then cost.
pub fn variants(result: &SweepResult) -> String {
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
        .map(|v| names_of(v, "cache.", ".hit_ratio"))
        .unwrap_or_default();
    let sessions: Vec<String> = first
        .map(|v| names_of(v, "service.", ".session_loss_rate"))
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
    // The scenario's windowed objectives' figures (METRIC@FROM..TO).
    let windowed = windowed(result);
    header.extend(windowed.iter().map(|k| windowed_name(k)));
    header.push("$/hour".into());
    if has("cost.per_million_requests") {
        header.push("$/M req".into());
    }
    let mut t = table(&header, result.identity.dims.len());
    let get = |v: &VariantSummary, name: &str, unit: Unit| {
        v.metrics
            .get(name)
            .map_or("-".to_string(), |e| estimate(e, unit))
    };
    let number = Unit::Plain("");
    let dollars = Unit::Money("");
    for v in sorted(result) {
        let mut row: Vec<String> = v.params.values().map(value_text).collect();
        row.push(int(u64::from(v.replications)));
        row.push(get(v, "throughput_rps", number));
        row.push(get(v, "p99_ms", number));
        row.push(get(v, "mean_ms", number));
        row.push(get(v, "error_rate", Unit::Percent));
        for d in &dbs {
            row.push(get(v, &format!("db.{d}.hot_spot_index"), number));
            row.push(get(v, &format!("db.{d}.hot_spot_interval"), number));
        }
        if any_moved {
            row.push(if v.keys_moved.is_empty() {
                "0%".into()
            } else {
                v.keys_moved
                    .iter()
                    .map(|(d, f)| format!("{d} {}", pct(*f)))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
        }
        for c in &caches {
            row.push(get(v, &format!("cache.{c}.hit_ratio"), Unit::Percent));
        }
        for s in &sessions {
            row.push(get(
                v,
                &format!("service.{s}.session_loss_rate"),
                Unit::Percent,
            ));
        }
        for k in &windowed {
            row.push(get(v, k, metric_unit(k)));
        }
        row.push(get(v, "cost.per_hour", dollars));
        if has("cost.per_million_requests") {
            row.push(get(v, "cost.per_million_requests", dollars));
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
pub fn shard_tables(result: &SweepResult) -> Option<String> {
    let mut out = String::new();
    for (db, max_shards) in sharded(result) {
        let mut header: Vec<String> = vec!["variant".into()];
        header.extend((0..max_shards).map(|i| format!("s{i}")));
        let mut t = table(&header, header.len());
        for v in sorted(result) {
            let mut row = vec![params(&v.params)];
            let shares = v.shard_share.get(db).cloned().unwrap_or_default();
            for i in 0..max_shards {
                row.push(shares.get(i).map_or(String::new(), |s| pct(*s)));
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
