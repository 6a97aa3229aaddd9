//! A database's section of the results document.

use serde::{Deserialize, Serialize};

/// One database's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbResult {
    /// Name.
    pub name: String,
    /// `hash`, `range`, `ring`, `jump` or `directory`.
    pub strategy: String,
    /// Default routing key.
    pub shard_key: String,
    /// Reads + writes on all shards.
    pub ops: u64,
    /// Busiest shard's ops / mean ops per shard (1 = perfectly even).
    pub hot_spot_index: f64,
    /// The same ratio per time-series bucket (after the warm-up), averaged
    /// with each bucket's statements as weights: catches shards that are
    /// hot in turn (range sharding on time), which the whole-run index
    /// averages away. Short buckets add sampling noise (a few percent).
    pub hot_spot_index_by_interval: f64,
    /// Index of the busiest shard.
    pub hottest_shard: usize,
    /// Highest utilisation of any node: a shard's primary or a replica.
    pub max_utilisation: f64,
    /// Read replicas per shard.
    #[serde(default)]
    pub replicas: u32,
    /// Which copies serve reads: `primary`, `replicas` or `round_robin`.
    #[serde(default)]
    pub read_from: String,
    /// Reads served by replicas, all shards.
    #[serde(default)]
    pub replica_reads: u64,
    /// Reads of a row served by a replica that had not yet applied a write
    /// of that row committed on the primary, all shards.
    #[serde(default)]
    pub stale_reads: u64,
    /// `stale_reads` / all reads (0 without reads).
    #[serde(default)]
    pub stale_read_ratio: f64,
    /// Statements that failed because their shard's primary was down, all
    /// shards.
    #[serde(default)]
    pub failed_statements: u64,
    /// Per shard.
    pub shards: Vec<ShardResult>,
}

/// One shard's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardResult {
    /// Shard index.
    pub index: usize,
    /// Reads.
    pub reads: u64,
    /// Writes.
    pub writes: u64,
    /// This shard's ops / all ops.
    pub load_share: f64,
    /// Mean busy connections / connections.
    pub utilisation: f64,
    /// Time-average of statements waiting for a connection.
    pub queue_length_mean: f64,
    /// Most statements waiting at once.
    pub queue_length_max: f64,
    /// Mean wait for a connection of the primary's pool, ms, over every
    /// statement it served (those that got one at once count as a wait of
    /// zero).
    pub wait_mean_ms: f64,
    /// 99th percentile of the same waits, ms (to 1%).
    #[serde(default)]
    pub wait_p99_ms: f64,
    /// Reads (of `reads`) served by replicas.
    #[serde(default)]
    pub replica_reads: u64,
    /// Stale reads served by this shard's replicas.
    #[serde(default)]
    pub stale_reads: u64,
    /// Statements that failed because the primary was down: sent while it
    /// was down (counted in `reads`/`writes` too), or waiting for or
    /// holding one of its connections when it went down.
    #[serde(default)]
    pub failed_statements: u64,
    /// Times the primary went down (outages and random failures).
    #[serde(default)]
    pub failures: u64,
    /// Time the primary was down, s.
    #[serde(default)]
    pub downtime_s: f64,
    /// Fraction of the period the primary was up.
    #[serde(default = "crate::kernel::kind::one")]
    pub availability: f64,
    /// Per read replica, in index order.
    #[serde(default)]
    pub replicas: Vec<ReplicaResult>,
}

/// One read replica's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaResult {
    /// Replica index within its shard, from 0.
    pub index: usize,
    /// Reads it served.
    pub reads: u64,
    /// Of those, stale reads.
    pub stale_reads: u64,
    /// Mean busy connections / connections.
    pub utilisation: f64,
    /// Time-average of reads waiting for a connection.
    pub queue_length_mean: f64,
    /// Most reads waiting at once.
    pub queue_length_max: f64,
    /// Mean wait for a connection, ms (0 for those that got one at once).
    pub wait_mean_ms: f64,
    /// 99th percentile of the waits, ms (to 1%).
    pub wait_p99_ms: f64,
    /// Replication lag of the writes committed in the period, from the
    /// commit on the primary to their visibility here, ms: mean (0 when
    /// replicas serve no reads: nothing is tracked).
    #[serde(default)]
    pub lag_mean_ms: f64,
    /// 99th percentile of the same lags, ms (to 1%).
    #[serde(default)]
    pub lag_p99_ms: f64,
    /// Largest of the same lags, ms.
    #[serde(default)]
    pub lag_max_ms: f64,
}

/// A database over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSeries {
    /// Database name.
    pub name: String,
    /// Per shard: mean busy fraction of its connections, per bucket.
    pub shard_utilisation: Vec<Vec<f64>>,
    /// Per shard: statements per second, per bucket.
    pub shard_ops_rps: Vec<Vec<f64>>,
}
