//! The scenario file format, version 1: the serde types exactly as written
//! in a file. Every struct rejects unknown fields. Durations are strings
//! (`"250us"`, `"3ms"`, `"1.5s"`, `"10m"`); latency distributions are
//! [`DistSpec`]s. Components live in arrays of objects with a `name`, so
//! `--set services.app.replicas=8` can address them by name.
//!
//! These types are checked and resolved by [`super::validate`] into the
//! typed model the simulator runs; nothing here is used during a run.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::{DistSpec, SimDuration};

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name of the scenario, shown in reports.
    pub name: String,
    /// What the scenario models, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// Master seed of every random stream (default 1). `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time to run. Defaults to the longest workload rate profile
    /// (required when every profile ends with an open-ended segment).
    #[serde(default)]
    pub duration: Option<SimDuration>,
    /// Requests that arrive before this instant are simulated but left out
    /// of latency statistics, so results describe the steady state.
    #[serde(default)]
    pub warmup: SimDuration,
    /// Width of one time-series bucket (default: duration / 120, at least 1s).
    #[serde(default)]
    pub time_series_interval: Option<SimDuration>,
    /// Traffic sources.
    pub workloads: Vec<Workload>,
    /// Load balancers in front of services.
    #[serde(default)]
    pub load_balancers: Vec<LoadBalancer>,
    /// Application services (pods).
    pub services: Vec<Service>,
    /// Key-value caches (Redis/Memcached-like).
    #[serde(default)]
    pub caches: Vec<Cache>,
    /// Sharded databases.
    #[serde(default)]
    pub databases: Vec<Database>,
    /// Message queues (Kafka-like topics with a consumer group).
    #[serde(default)]
    pub queues: Vec<Queue>,
    /// Named sweeps kept with the scenario (`capsim sweep FILE --name N`);
    /// `capsim run` ignores them.
    #[serde(default)]
    pub sweeps: IndexMap<String, SweepDef>,
    /// Service-level objectives that `capsim check` asserts; `capsim run`
    /// ignores them.
    #[serde(default)]
    pub slo: Vec<SloEntry>,
}

/// A group of service-level objectives on one target (an endpoint, a
/// component, or the whole system when no target is named), optionally
/// evaluated over a window of the run. Every limit given becomes one
/// objective; latency and rate limits are upper limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloEntry {
    /// A label shown with these objectives in tables and JUnit.
    #[serde(default)]
    pub name: Option<String>,
    /// Limits on this endpoint's requests.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Limits on this service.
    #[serde(default)]
    pub service: Option<String>,
    /// Limits on this database.
    #[serde(default)]
    pub database: Option<String>,
    /// Limits on this cache.
    #[serde(default)]
    pub cache: Option<String>,
    /// Limits on this queue.
    #[serde(default)]
    pub queue: Option<String>,
    /// Evaluate over this part of the run instead of the whole measured run.
    #[serde(default)]
    pub window: Option<SloWindow>,
    /// Median latency limit.
    #[serde(default)]
    pub p50: Option<SimDuration>,
    /// 90th percentile latency limit.
    #[serde(default)]
    pub p90: Option<SimDuration>,
    /// 99th percentile latency limit.
    #[serde(default)]
    pub p99: Option<SimDuration>,
    /// 99.9th percentile latency limit.
    #[serde(default)]
    pub p999: Option<SimDuration>,
    /// Mean latency limit.
    #[serde(default)]
    pub mean: Option<SimDuration>,
    /// Most errors (timeouts + rejections) per request: 0.001 or "0.1%".
    #[serde(default)]
    pub error_rate: Option<Fraction>,
    /// Most client timeouts per request.
    #[serde(default)]
    pub timeout_rate: Option<Fraction>,
    /// Most rejections per request.
    #[serde(default)]
    pub rejection_rate: Option<Fraction>,
    /// Fewest answered requests per second.
    #[serde(default)]
    pub min_throughput_rps: Option<f64>,
    /// Highest busy fraction (a service's pods, a database's busiest shard).
    #[serde(default)]
    pub max_utilisation: Option<Fraction>,
    /// Highest hot-spot index (busiest shard / mean shard) of a database.
    #[serde(default)]
    pub max_hot_spot_index: Option<f64>,
    /// Highest hot-spot index of any time-series interval of a database.
    #[serde(default)]
    pub max_hot_spot_index_by_interval: Option<f64>,
    /// Lowest hit ratio of a cache.
    #[serde(default)]
    pub min_hit_ratio: Option<Fraction>,
    /// Highest consumer lag of a queue, in messages.
    #[serde(default)]
    pub max_lag: Option<f64>,
    /// Highest p99 of a queue's publish-to-processed latency.
    #[serde(default)]
    pub max_end_to_end_p99: Option<SimDuration>,
    /// Highest cost per hour (system-wide objectives only).
    #[serde(default)]
    pub max_cost_per_hour: Option<f64>,
    /// Highest cost per million requests (system-wide objectives only).
    #[serde(default)]
    pub max_cost_per_million_requests: Option<f64>,
}

/// A part of the run: requests that arrive in `[from, to)` are followed to
/// their answer; component figures cover `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloWindow {
    /// Start of the window (simulated time since the run began).
    pub from: SimDuration,
    /// End of the window.
    pub to: SimDuration,
}

/// A fraction written as a number (`0.001`) or a percentage (`"0.1%"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FractionText", into = "f64")]
pub struct Fraction(pub f64);

#[derive(Deserialize)]
#[serde(untagged)]
enum FractionText {
    Number(f64),
    Text(String),
}

impl TryFrom<FractionText> for Fraction {
    type Error = String;
    fn try_from(t: FractionText) -> Result<Self, String> {
        match t {
            FractionText::Number(v) => Ok(Fraction(v)),
            FractionText::Text(s) => match s.trim().strip_suffix('%') {
                Some(p) => p
                    .trim()
                    .parse::<f64>()
                    .map(|v| Fraction(v / 100.0))
                    .map_err(|_| format!("`{s}` is not a percentage (e.g. \"0.1%\")")),
                None => Err(format!(
                    "`{s}` is not a fraction: write a number (0.001) or a percentage (\"0.1%\")"
                )),
            },
        }
    }
}

impl From<Fraction> for f64 {
    fn from(f: Fraction) -> f64 {
        f.0
    }
}

/// A sweep kept in the scenario file: the fields to vary and how often to
/// replicate each variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepDef {
    /// What the sweep is for, shown in its report.
    #[serde(default)]
    pub description: String,
    /// Field path (as for `--set`) -> the values it takes. Several paths
    /// form a grid; the first path varies slowest.
    pub vary: IndexMap<String, Vec<serde_json::Value>>,
    /// Replications of every variant (default 1).
    #[serde(default)]
    pub replications: Option<u32>,
    /// Service-level objectives for `capsim plan`, e.g. `"p99<250ms"`.
    #[serde(default)]
    pub slo: Vec<String>,
}

fn default_seed() -> u64 {
    1
}

/// An open-loop traffic source: Poisson arrivals whose rate follows a
/// profile, each request carrying keys and aimed at one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Name, unique among workloads.
    pub name: String,
    /// The load balancer or service that receives the requests.
    pub target: String,
    /// The arrival-rate profile, a list of segments played in order.
    pub rate: Vec<RateSegment>,
    /// Endpoint name -> relative weight. Endpoints belong to the target
    /// service (or the service behind the target load balancer).
    pub mix: IndexMap<String, f64>,
    /// Key name -> how its values are drawn. Steps route by these keys.
    #[serde(default)]
    pub keys: IndexMap<String, KeySpec>,
    /// The client gives up after this long and counts a timeout; the system
    /// keeps working on the request (it does not know the client left).
    #[serde(default)]
    pub timeout: Option<SimDuration>,
}

/// One segment of a rate profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSegment {
    /// How long the segment lasts. Only the last segment may omit it, and
    /// then it lasts until the end of the run.
    #[serde(default, rename = "for")]
    pub length: Option<SimDuration>,
    /// A constant rate, requests per second.
    #[serde(default)]
    pub rps: Option<f64>,
    /// A linear ramp from the previous segment's final rate (0 for the first
    /// segment) to this rate, requests per second.
    #[serde(default)]
    pub ramp_to: Option<f64>,
    /// Optional label ("spike", "plateau") for people reading the file.
    #[serde(default)]
    pub label: Option<String>,
}

/// How a key's values are drawn for each request. Values are integers in
/// `[0, n)` (or counting up, for `sequential`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySpec {
    /// Every one of `n` values equally likely.
    Uniform {
        /// Number of distinct values.
        n: u64,
    },
    /// Zipf popularity: the value of rank k has weight 1/k^s.
    Zipf {
        /// Number of distinct values.
        n: u64,
        /// Exponent (0.6 - 1.2 is typical of web traffic; 0 is uniform).
        s: f64,
        /// Scatter ranks over the value space (default true), so popular
        /// values are not adjacent; false makes rank k the value k-1.
        #[serde(default = "yes")]
        shuffle: bool,
    },
    /// A hot set: a fraction of the values receives a share of the traffic,
    /// uniformly within the hot and cold sets.
    HotSet {
        /// Number of distinct values.
        n: u64,
        /// Fraction of the values that are hot, in (0, 1).
        hot_fraction: f64,
        /// Fraction of requests that draw a hot value, in [0, 1].
        hot_share: f64,
        /// Scatter hot values over the value space (default true).
        #[serde(default = "yes")]
        shuffle: bool,
    },
    /// Time-ordered values: each request takes the next value (like an
    /// auto-increment id).
    Sequential {
        /// The first value (default 0).
        #[serde(default)]
        start: u64,
    },
    /// The request's arrival time, in units of `resolution` since the
    /// start of the run (like a `created_at` column). Its value space is
    /// the run's duration, so range sharding splits it evenly by default.
    Timestamp {
        /// Unit of the value (default "1ms").
        #[serde(default)]
        resolution: Option<SimDuration>,
    },
}

fn yes() -> bool {
    true
}

/// A load balancer in front of one service's replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    /// Name, unique among all components.
    pub name: String,
    /// The service whose replicas receive the traffic.
    pub target: String,
    /// How a replica is chosen.
    #[serde(default)]
    pub policy: LbPolicy,
    /// Latency the balancer adds to each request (default 0).
    #[serde(default)]
    pub latency: Option<DistSpec>,
    /// Maximum requests in flight through the balancer; beyond it requests
    /// are rejected (HTTP 503). Absent: no limit.
    #[serde(default)]
    pub max_connections: Option<u64>,
    /// Price per hour of the balancer.
    #[serde(default)]
    pub price_per_hour: f64,
}

/// Load-balancing policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LbPolicy {
    /// Replicas in turn.
    #[default]
    RoundRobin,
    /// The pod with the fewest requests in flight (busy + waiting); ties go
    /// to the first such pod after the previous pick, so an idle pool is
    /// used evenly.
    LeastConnections,
}

/// An application service: `replicas` pods, each with `concurrency`
/// workers and a bounded FIFO queue. A worker is held for the whole
/// request, including its waits on caches, databases and queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Name, unique among all components.
    pub name: String,
    /// Number of pods.
    pub replicas: u32,
    /// Workers per pod: requests one pod executes at once.
    pub concurrency: u32,
    /// Requests that may wait per pod when every worker is busy; beyond it
    /// the pod rejects (HTTP 503). Absent: unbounded, and then the arrival
    /// rate must stay below capacity or the scenario is refused as unstable.
    #[serde(default)]
    pub queue_capacity: Option<u64>,
    /// Endpoint name -> the steps it executes, in order.
    pub endpoints: IndexMap<String, Vec<Step>>,
    /// Price per pod per hour.
    #[serde(default)]
    pub price_per_replica_hour: f64,
}

/// One step of an endpoint (or of a queue consumer's work).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// CPU work on the worker for a time drawn from the distribution.
    Compute(DistSpec),
    /// Cache-aside read: look the key up; on a miss run `on_miss`, then
    /// store the key.
    Cache(CacheStep),
    /// A read on the shard that owns the key.
    Read(DbStep),
    /// A write on the shard that owns the key; optionally invalidates the
    /// key in caches.
    Write(WriteStep),
    /// Publish a message to a queue (the publisher waits for the ack).
    Publish(PublishStep),
}

/// The `cache` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheStep {
    /// The cache component.
    pub cache: String,
    /// The key whose value is looked up.
    pub key: String,
    /// Steps run on a miss (typically a database read), before the fill.
    #[serde(default)]
    pub on_miss: Vec<Step>,
}

/// The `read` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbStep {
    /// The database component.
    pub db: String,
    /// Routing key (default: the database's `shard_key`).
    #[serde(default)]
    pub key: Option<String>,
}

/// The `write` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteStep {
    /// The database component.
    pub db: String,
    /// Routing key (default: the database's `shard_key`).
    #[serde(default)]
    pub key: Option<String>,
    /// Caches from which the written key's value is deleted.
    #[serde(default)]
    pub invalidate: Vec<String>,
}

/// The `publish` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishStep {
    /// The queue component.
    pub queue: String,
    /// Partition key (default: the queue's `partition_key`).
    #[serde(default)]
    pub key: Option<String>,
}

/// A key-value cache (Redis/Memcached-like) holding up to `capacity` keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// Name, unique among all components.
    pub name: String,
    /// Keys held across all nodes; the least recently used is evicted.
    pub capacity: u64,
    /// Eviction policy.
    #[serde(default)]
    pub policy: EvictionPolicy,
    /// Entries expire this long after they were stored. Absent: never.
    #[serde(default)]
    pub ttl: Option<SimDuration>,
    /// Round trip of a lookup that hits.
    pub hit_latency: DistSpec,
    /// Round trip of a lookup that misses (default: as a hit).
    #[serde(default)]
    pub miss_latency: Option<DistSpec>,
    /// Round trip of the store after a miss (default 0: fire and forget).
    #[serde(default)]
    pub fill_latency: Option<DistSpec>,
    /// Number of nodes (for cost).
    #[serde(default = "one")]
    pub nodes: u32,
    /// Price per node per hour.
    #[serde(default)]
    pub price_per_node_hour: f64,
}

fn one() -> u32 {
    1
}

/// Cache eviction policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvictionPolicy {
    /// Evict the least recently used key.
    #[default]
    Lru,
}

/// A sharded database: `shards` primaries, each with a connection limit and
/// read/write service times; requests wait FIFO for a connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Name, unique among all components.
    pub name: String,
    /// Number of shards.
    pub shards: u32,
    /// The key that routes a request to a shard.
    pub shard_key: String,
    /// How a key value maps to a shard.
    #[serde(default)]
    pub strategy: ShardStrategy,
    /// For `range`: the `shards - 1` ascending split points; shard i holds
    /// values in `[b[i-1], b[i])`. Default: the key's value space split
    /// evenly (keys with a known size `n` only).
    #[serde(default)]
    pub range_boundaries: Option<Vec<u64>>,
    /// Connections per shard: statements one shard executes at once.
    pub connections: u32,
    /// Service time of a read.
    pub read_time: DistSpec,
    /// Service time of a write.
    pub write_time: DistSpec,
    /// Price per shard per hour.
    #[serde(default)]
    pub price_per_shard_hour: f64,
}

/// Sharding strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardStrategy {
    /// `hash(value) mod shards` (xxh3-64 of the value).
    #[default]
    Hash,
    /// Contiguous value ranges.
    Range,
}

/// A Kafka-like topic with a consumer group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Name, unique among all components.
    pub name: String,
    /// Number of partitions.
    pub partitions: u32,
    /// The key that picks a message's partition (`hash mod partitions`).
    /// Absent: partitions in turn.
    #[serde(default)]
    pub partition_key: Option<String>,
    /// Consumers in the group; those beyond the partition count stay idle.
    pub consumers: u32,
    /// Steps each message costs its consumer.
    pub work: Vec<Step>,
    /// Time the publisher waits for the broker's acknowledgement (default 0).
    #[serde(default)]
    pub publish_latency: Option<DistSpec>,
    /// Messages retained per partition; beyond it the oldest unconsumed
    /// message is dropped and counted (default 1,000,000).
    #[serde(default)]
    pub retention: Option<u64>,
    /// Price per consumer per hour.
    #[serde(default)]
    pub price_per_consumer_hour: f64,
    /// Price per partition per hour (managed services that bill by
    /// partition).
    #[serde(default)]
    pub price_per_partition_hour: f64,
    /// Brokers serving the topic (for cost; default 0: not billed here).
    #[serde(default)]
    pub brokers: u32,
    /// Price per broker per hour.
    #[serde(default)]
    pub price_per_broker_hour: f64,
}
