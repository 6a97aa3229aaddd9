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
    /// The latency metrics of `metrics` that came from no samples (see
    /// [`models::unmeasured`]): they read 0 ms, and an objective on one
    /// fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmeasured: Vec<String>,
    /// Per database whose layout differs from the base scenario: the
    /// fraction of rows that would move (filled on replication 0 only).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub keys_moved: IndexMap<String, f64>,
}

/// The headline metrics of a run by stable names: see
/// [`models::metrics`].
pub fn metrics(out: &RunOutput) -> IndexMap<String, f64> {
    models::metrics(&out.results)
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
            unmeasured: models::unmeasured(r),
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
    ///
    /// Errs, naming the field (`metrics.cost_total: invalid type: null`),
    /// when the record does not read back: JSON writes a number that is
    /// not finite as `null`, which no `f64` field reads. Validation keeps
    /// every metric finite, so this is a bug to report, not bad input.
    pub fn round_trip(self) -> Result<Self, String> {
        let text = serde_json::to_string(&self).map_err(|e| e.to_string())?;
        let mut de = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut de)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }
}
