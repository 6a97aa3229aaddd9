//! Scheduled faults: as written in the file's `faults` section, and
//! resolved (component names turned into indices, times into ns).

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::ids::{CacheId, DbId, QueueId, ServiceId};

/// A fault scheduled at a time of the run (chaos testing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// When it starts.
    pub at: SimDuration,
    /// How long it lasts (slow-downs, unavailability and partitions; a
    /// killed pod restarts on its own).
    #[serde(default, rename = "for")]
    pub length: Option<SimDuration>,
    /// Kill pods of a service: they crash, what they hold fails, and they
    /// restart after the service's restart delay and start-up time.
    #[serde(default)]
    pub kill_pods: Option<KillPods>,
    /// Make a database (all shards or one) or a cache (all nodes or one)
    /// `factor` times slower for the window (`for`).
    #[serde(default)]
    pub slow_down: Option<SlowDown>,
    /// Make a database shard's primary (all shards or one) or a cache node
    /// (all nodes or one) unavailable for the window (`for`).
    #[serde(default)]
    pub outage: Option<Outage>,
    /// Cut consumers of a queue off the network for the window (`for`):
    /// they finish what they hold but cannot acknowledge it or fetch more.
    #[serde(default)]
    pub partition_consumers: Option<PartitionConsumers>,
}

/// Consumers cut off by a network partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionConsumers {
    /// The queue.
    pub queue: String,
    /// How many of its consumers (the lowest-numbered ones not already cut
    /// off).
    pub count: u32,
}

/// A slow-down: statements that start executing on the target database's
/// nodes, or lookups and stores on the target cache's nodes, during the
/// window take `factor` times their drawn time (a noisy neighbour, a
/// degraded disk, a hot vacuum, swapping). Name `database` or `cache`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowDown {
    /// The database slowed down.
    #[serde(default)]
    pub database: Option<String>,
    /// The cache slowed down.
    #[serde(default)]
    pub cache: Option<String>,
    /// With `database`: only this shard (index from 0). Absent: every shard.
    #[serde(default)]
    pub shard: Option<u32>,
    /// With `database`: which nodes of the shards (default `all`).
    #[serde(default)]
    pub role: Option<DbRole>,
    /// With `cache`: only this node (index from 0). Absent: every node.
    #[serde(default)]
    pub node: Option<u32>,
    /// Service times are multiplied by this (at least 1).
    pub factor: f64,
}

/// An outage: the target is unavailable for the window. Name `database`
/// or `cache`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// The database whose shard primaries go down (replicas stay up).
    #[serde(default)]
    pub database: Option<String>,
    /// The cache whose nodes go down (and come back empty).
    #[serde(default)]
    pub cache: Option<String>,
    /// With `database`: only this shard (index from 0). Absent: every shard.
    #[serde(default)]
    pub shard: Option<u32>,
    /// With `cache`: only this node (index from 0). Absent: every node.
    #[serde(default)]
    pub node: Option<u32>,
}

/// Which nodes of a database shard a slow-down hits.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DbRole {
    /// The primary and every replica.
    #[default]
    All,
    /// The primary only.
    Primary,
    /// The read replicas only.
    Replicas,
}

/// Pods to kill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KillPods {
    /// The service.
    pub service: String,
    /// How many of its pods (the lowest-numbered ready ones).
    pub count: u32,
}

/// A scheduled fault, resolved.
#[derive(Debug, Clone)]
pub enum FaultDef {
    /// Kill `count` ready pods of `service` at `at` (ns).
    KillPods {
        /// When.
        at: u64,
        /// The service.
        service: ServiceId,
        /// Pods.
        count: u32,
    },
    /// Service times of `target` × `factor` over `[at, at + length)`.
    SlowDown {
        /// When, ns.
        at: u64,
        /// How long, ns.
        length: u64,
        /// What slows down.
        target: FaultTarget,
        /// Multiplier of service times (≥ 1).
        factor: f64,
    },
    /// `count` consumers of `queue` cut off the network over
    /// `[at, at + length)`.
    PartitionConsumers {
        /// When, ns.
        at: u64,
        /// How long, ns.
        length: u64,
        /// The queue.
        queue: QueueId,
        /// Consumers cut off.
        count: u32,
    },
    /// `target` is unavailable over `[at, at + length)`.
    Outage {
        /// When, ns.
        at: u64,
        /// How long, ns.
        length: u64,
        /// What goes down (for a database: the shards' primaries).
        target: FaultTarget,
    },
}

/// What a slow-down or an outage hits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultTarget {
    /// Shards of a database.
    Db {
        /// The database.
        db: DbId,
        /// One shard (None: every shard).
        shard: Option<u32>,
        /// Which nodes of each shard (outages: the primary).
        role: DbRole,
    },
    /// Nodes of a cache.
    Cache {
        /// The cache.
        cache: CacheId,
        /// One node (None: every node).
        node: Option<u32>,
    },
}
