//! What one run of a sweep keeps: its headline metrics by name and the
//! exact images of its latency histograms. Records are all a sweep needs to
//! aggregate a variant, so they are also what partitions write and `merge`
//! reads.

use indexmap::IndexMap;
use models::RunOutput;
use serde::{Deserialize, Serialize};
use sim_core::stats::CompactHistogram;

/// One (variant, replication) run, reduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Position in the sweep's run order (variant-major).
    pub run: usize,
    /// The variant.
    pub variant: usize,
    /// The replication (0-based); its seed is the sweep's seed + this.
    pub replication: u32,
    /// Seed used.
    pub seed: u64,
    /// Headline metrics by name (see [`metrics`]).
    pub metrics: IndexMap<String, f64>,
    /// Latency of all endpoints' ok responses.
    pub overall: CompactHistogram,
    /// Per endpoint name.
    pub endpoints: IndexMap<String, CompactHistogram>,
    /// Per database: each shard's share of the statements.
    pub shard_share: IndexMap<String, Vec<f64>>,
    /// Per database whose layout differs from the base scenario: the
    /// fraction of rows that would move (filled on replication 0 only).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub keys_moved: IndexMap<String, f64>,
}

/// Extracts the headline metrics of a run, by stable names:
///
/// - overall: `throughput_rps`, `error_rate`, `mean_ms`, `p50_ms`, `p99_ms`,
///   `p999_ms`;
/// - per endpoint E: `endpoint.E.throughput_rps`, `.error_rate`,
///   `.mean_ms`, `.p99_ms`;
/// - per service S: `service.S.utilisation`;
/// - per database D: `db.D.hot_spot_index`, `db.D.hot_spot_interval`,
///   `db.D.max_utilisation`;
/// - per cache C: `cache.C.hit_ratio`;
/// - per queue Q: `queue.Q.lag_max`, `queue.Q.e2e_p99_ms`;
/// - `cost.per_hour`, `cost.per_million_requests`.
pub fn metrics(out: &RunOutput) -> IndexMap<String, f64> {
    let r = &out.results;
    let mut m = IndexMap::new();
    let o = &r.overall;
    m.insert("throughput_rps".into(), o.throughput_rps);
    m.insert("error_rate".into(), o.error_rate);
    m.insert("mean_ms".into(), o.latency.mean_ms);
    m.insert("p50_ms".into(), o.latency.p50_ms);
    m.insert("p99_ms".into(), o.latency.p99_ms);
    m.insert("p999_ms".into(), o.latency.p999_ms);
    for e in &r.endpoints {
        let k = |f: &str| format!("endpoint.{}.{f}", e.name);
        m.insert(k("throughput_rps"), e.throughput_rps);
        m.insert(k("error_rate"), e.error_rate);
        m.insert(k("mean_ms"), e.latency.mean_ms);
        m.insert(k("p99_ms"), e.latency.p99_ms);
    }
    for s in &r.services {
        m.insert(format!("service.{}.utilisation", s.name), s.utilisation);
    }
    for d in &r.databases {
        m.insert(format!("db.{}.hot_spot_index", d.name), d.hot_spot_index);
        m.insert(
            format!("db.{}.hot_spot_interval", d.name),
            d.hot_spot_index_by_interval,
        );
        m.insert(format!("db.{}.max_utilisation", d.name), d.max_utilisation);
    }
    for c in &r.caches {
        m.insert(format!("cache.{}.hit_ratio", c.name), c.hit_ratio);
    }
    for q in &r.queues {
        m.insert(format!("queue.{}.lag_max", q.name), q.lag_max);
        m.insert(format!("queue.{}.e2e_p99_ms", q.name), q.end_to_end.p99_ms);
    }
    m.insert("cost.per_hour".into(), r.cost.per_hour);
    m.insert(
        "cost.per_million_requests".into(),
        r.cost.per_million_requests,
    );
    m
}

impl RunRecord {
    /// Reduces one run's output.
    pub fn new(run: usize, variant: usize, replication: u32, seed: u64, out: &RunOutput) -> Self {
        let r = &out.results;
        RunRecord {
            run,
            variant,
            replication,
            seed,
            metrics: metrics(out),
            overall: out.overall.to_compact(),
            endpoints: r
                .endpoints
                .iter()
                .zip(&out.endpoints)
                .map(|(e, h)| (e.name.clone(), h.to_compact()))
                .collect(),
            shard_share: r
                .databases
                .iter()
                .map(|d| {
                    (
                        d.name.clone(),
                        d.shards.iter().map(|s| s.load_share).collect(),
                    )
                })
                .collect(),
            keys_moved: IndexMap::new(),
        }
    }

    /// The record as it reads back from its JSON form. Aggregating only
    /// round-tripped records makes a single-machine sweep and a merge of
    /// partitions byte-identical by construction.
    pub fn round_trip(self) -> Self {
        let text = serde_json::to_string(&self).expect("records serialise");
        serde_json::from_str(&text).expect("records read back")
    }
}
