//! A queue's section of the results document.

use serde::{Deserialize, Serialize};
use sim_core::stats::LatencySummary;

/// One queue's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueResult {
    /// Name.
    pub name: String,
    /// Partitions.
    pub partitions: u32,
    /// Consumers in the group.
    pub consumers: u32,
    /// Consumers that own at least one partition.
    pub active_consumers: u32,
    /// Messages published.
    pub published: u64,
    /// Messages fully processed.
    pub consumed: u64,
    /// Messages dropped by retention before being consumed.
    pub dropped: u64,
    /// Time-average lag (published, not yet processed), messages.
    pub lag_mean: f64,
    /// Largest lag, messages.
    pub lag_max: f64,
    /// Lag at the end of the run.
    pub lag_at_end: u64,
    /// Mean busy fraction of active consumers.
    pub consumer_utilisation: f64,
    /// Publish-to-processed latency of consumed messages.
    pub end_to_end: LatencySummary,
    /// `topic` or `work_queue`.
    #[serde(default)]
    pub kind: String,
    /// Publish to the start of the first attempt (the wait for a
    /// consumer), messages published in the measured period.
    #[serde(default)]
    pub wait: LatencySummary,
    /// Busiest partition's published messages / mean per partition (1 =
    /// even; a work queue: 1).
    #[serde(default)]
    pub skew_index: f64,
    /// Index of the partition with the most published messages.
    #[serde(default)]
    pub hottest_partition: usize,
    /// Attempts whose work failed (failure probability, poison messages,
    /// failed database statements).
    #[serde(default)]
    pub failed_attempts: u64,
    /// Failed attempts that were tried again.
    #[serde(default)]
    pub retries: u64,
    /// Messages that failed `max_attempts` times.
    #[serde(default)]
    pub dead_lettered: u64,
    /// The queue dead letters go to (absent: they are dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_queue: Option<String>,
    /// Dead letters not processed at the end: the dead-letter queue's
    /// lag, or `dead_lettered` without one.
    #[serde(default)]
    pub dead_letter_depth: u64,
    /// Messages handed out again because the consumer holding them
    /// crashed or was removed before acknowledging them.
    #[serde(default)]
    pub redeliveries: u64,
    /// Consumer crashes.
    #[serde(default)]
    pub consumer_crashes: u64,
    /// Consumers cut off by network partitions.
    #[serde(default)]
    pub consumers_cut: u64,
    /// Silent consumers removed after the session (heartbeat) timeout.
    #[serde(default)]
    pub session_timeouts: u64,
    /// Rebalances of the consumer group (topics).
    #[serde(default)]
    pub rebalances: u64,
    /// Time the group was stopped by rebalances, seconds.
    #[serde(default)]
    pub rebalance_paused_s: f64,
    /// Partition-seconds assigned to a silent member before it was
    /// removed: messages there waited for nobody.
    #[serde(default)]
    pub stuck_partition_s: f64,
    /// Per partition.
    pub partition_detail: Vec<PartitionResult>,
}

/// One partition's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionResult {
    /// Messages published to it.
    pub published: u64,
    /// Lag at the end.
    pub lag_at_end: u64,
    /// Messages processed from it.
    #[serde(default)]
    pub consumed: u64,
    /// Its share of the queue's published messages.
    #[serde(default)]
    pub share: f64,
    /// Time-average of its messages not processed yet (waiting, held by a
    /// consumer, waiting for a retry).
    #[serde(default)]
    pub lag_mean: f64,
    /// Most of its messages not processed yet at once.
    #[serde(default)]
    pub lag_max: f64,
}

/// A queue over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueSeries {
    /// Queue name.
    pub name: String,
    /// Mean lag, messages.
    pub lag: Vec<f64>,
    /// Messages dead-lettered per second (empty when none were).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead_lettered_rps: Vec<f64>,
    /// Fraction of each interval the group was stopped by a rebalance
    /// (empty without rebalances).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rebalancing: Vec<f64>,
}
