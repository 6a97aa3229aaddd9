//! The validated, resolved model: what the simulator runs.
//!
//! Names are interned to indices, distributions are ready to sample, step
//! programs are compiled to flat instruction lists, durations carry units.
//! A [`Model`] is built only by [`crate::scenario::load`] /
//! [`crate::scenario::validate`], which guarantee every index is in range
//! and every key a step uses is drawn by every workload that reaches it.

use sim_core::{Dist, SimDuration};

use crate::keys::KeyGen;
use crate::scenario::{KeySpec, LbPolicy, ShardStrategy};

/// Index of an interned key name.
pub type KeyId = usize;

/// The whole resolved system.
#[derive(Debug, Clone)]
pub struct Model {
    /// Scenario name.
    pub name: String,
    /// Scenario description.
    pub description: String,
    /// Master seed.
    pub seed: u64,
    /// Simulated time to run.
    pub duration: SimDuration,
    /// Statistics ignore requests arriving before this.
    pub warmup: SimDuration,
    /// Width of a time-series bucket.
    pub interval: SimDuration,
    /// Interned key names; a request carries one value per key.
    pub keys: Vec<String>,
    /// Traffic sources.
    pub workloads: Vec<WorkloadDef>,
    /// Load balancers.
    pub load_balancers: Vec<LbDef>,
    /// Services.
    pub services: Vec<ServiceDef>,
    /// Every endpoint of every service.
    pub endpoints: Vec<EndpointDef>,
    /// Caches.
    pub caches: Vec<CacheDef>,
    /// Databases.
    pub databases: Vec<DbDef>,
    /// Queues.
    pub queues: Vec<QueueDef>,
    /// Compiled step programs (endpoints and queue work).
    pub programs: Vec<Program>,
    /// Distributions of compute steps, with their random stream names.
    pub step_dists: Vec<(Dist, String)>,
    /// The `slo` section's objectives, in file order.
    pub objectives: Vec<crate::slo::Objective>,
}

/// Where a workload sends its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Through a load balancer.
    Lb(usize),
    /// Straight to a service (replicas chosen in turn).
    Service(usize),
}

/// A resolved workload.
#[derive(Debug, Clone)]
pub struct WorkloadDef {
    /// Name.
    pub name: String,
    /// Receiver.
    pub target: Target,
    /// The service that executes the requests.
    pub service: usize,
    /// Rate profile.
    pub profile: RateProfile,
    /// (endpoint index, cumulative probability) pairs.
    pub mix: Vec<(usize, f64)>,
    /// Keys this workload draws, with their generators.
    pub keys: Vec<(KeyId, KeySpec, KeyGen)>,
    /// Client timeout.
    pub timeout: Option<SimDuration>,
}

/// A piecewise-linear arrival-rate profile in requests per second.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    /// Segments in order; the last one lasts until the end of the run.
    pub segments: Vec<RateSeg>,
}

/// One segment: the rate goes linearly from `from` to `to` over
/// `[start, end)`, both in requests per second.
#[derive(Debug, Clone, PartialEq)]
pub struct RateSeg {
    /// Start, ns since the run began.
    pub start: u64,
    /// End, ns (u64::MAX for an open-ended last segment).
    pub end: u64,
    /// Rate at the start, requests/s.
    pub from: f64,
    /// Rate at the end, requests/s.
    pub to: f64,
    /// Optional label.
    pub label: Option<String>,
}

impl RateProfile {
    /// The rate at time `t_ns`, requests per second.
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        for s in &self.segments {
            if t_ns < s.end {
                return s.rate_at(t_ns);
            }
        }
        self.segments.last().map_or(0.0, |s| s.to)
    }

    /// The highest rate reached before `until_ns`, and when.
    pub fn peak(&self, until_ns: u64) -> (f64, u64) {
        let mut best = (0.0, 0);
        for s in &self.segments {
            if s.start >= until_ns {
                break;
            }
            if s.from > best.0 {
                best = (s.from, s.start);
            }
            if s.to > best.0 {
                best = (s.to, s.end.min(until_ns));
            }
        }
        best
    }

    /// Expected number of arrivals in `[0, until_ns)`.
    pub fn expected_arrivals(&self, until_ns: u64) -> f64 {
        let mut total = 0.0;
        for s in &self.segments {
            if s.start >= until_ns {
                break;
            }
            let end = s.end.min(until_ns);
            let secs = (end - s.start) as f64 / 1e9;
            total += secs * (s.from + s.rate_at(end)) / 2.0;
        }
        total
    }
}

impl RateSeg {
    /// Rate at `t_ns` within the segment.
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        if self.end == u64::MAX || self.from == self.to {
            return self.from;
        }
        let f = (t_ns.saturating_sub(self.start)) as f64 / (self.end - self.start) as f64;
        self.from + (self.to - self.from) * f.clamp(0.0, 1.0)
    }

    /// The largest rate within the segment.
    pub fn max_rate(&self) -> f64 {
        self.from.max(self.to)
    }
}

/// A resolved load balancer.
#[derive(Debug, Clone)]
pub struct LbDef {
    /// Name.
    pub name: String,
    /// Target service.
    pub service: usize,
    /// Policy.
    pub policy: LbPolicy,
    /// Added latency.
    pub latency: Option<Dist>,
    /// In-flight limit.
    pub max_connections: Option<u64>,
    /// Price per hour.
    pub price_per_hour: f64,
}

/// A resolved service.
#[derive(Debug, Clone)]
pub struct ServiceDef {
    /// Name.
    pub name: String,
    /// Pods.
    pub replicas: u32,
    /// Workers per pod.
    pub concurrency: u32,
    /// Waiting room per pod (None: unbounded).
    pub queue_capacity: Option<u64>,
    /// Indices into [`Model::endpoints`].
    pub endpoints: Vec<usize>,
    /// Price per pod-hour.
    pub price_per_replica_hour: f64,
}

/// A resolved endpoint.
#[derive(Debug, Clone)]
pub struct EndpointDef {
    /// Endpoint name.
    pub name: String,
    /// Owning service.
    pub service: usize,
    /// Compiled program.
    pub program: usize,
}

/// A resolved cache.
#[derive(Debug, Clone)]
pub struct CacheDef {
    /// Name.
    pub name: String,
    /// Capacity in keys.
    pub capacity: u64,
    /// Time to live.
    pub ttl: Option<SimDuration>,
    /// Hit round trip.
    pub hit: Dist,
    /// Miss round trip.
    pub miss: Dist,
    /// Fill round trip (None: zero).
    pub fill: Option<Dist>,
    /// Nodes.
    pub nodes: u32,
    /// Price per node-hour.
    pub price_per_node_hour: f64,
}

/// How key values map to shards.
#[derive(Debug, Clone, PartialEq)]
pub enum Router {
    /// `hash(v) mod n`.
    Hash {
        /// Number of shards.
        shards: u32,
    },
    /// Shard i holds `[bounds[i-1], bounds[i])`.
    Range {
        /// The `shards - 1` ascending split points.
        bounds: Vec<u64>,
    },
}

impl Router {
    /// The shard that owns `value`.
    #[inline]
    pub fn route(&self, value: u64) -> usize {
        match self {
            Router::Hash { shards } => (sim_core::stable_hash(value) % u64::from(*shards)) as usize,
            Router::Range { bounds } => bounds.partition_point(|&b| b <= value),
        }
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        match self {
            Router::Hash { shards } => *shards as usize,
            Router::Range { bounds } => bounds.len() + 1,
        }
    }

    /// The strategy's name.
    pub fn strategy(&self) -> ShardStrategy {
        match self {
            Router::Hash { .. } => ShardStrategy::Hash,
            Router::Range { .. } => ShardStrategy::Range,
        }
    }
}

/// A resolved database.
#[derive(Debug, Clone)]
pub struct DbDef {
    /// Name.
    pub name: String,
    /// Default routing key.
    pub shard_key: KeyId,
    /// Value -> shard.
    pub router: Router,
    /// Connections per shard.
    pub connections: u32,
    /// Read service time.
    pub read: Dist,
    /// Write service time.
    pub write: Dist,
    /// Price per shard-hour.
    pub price_per_shard_hour: f64,
}

/// A resolved queue.
#[derive(Debug, Clone)]
pub struct QueueDef {
    /// Name.
    pub name: String,
    /// Partitions.
    pub partitions: u32,
    /// Partition key (None: in turn).
    pub partition_key: Option<KeyId>,
    /// Consumers in the group.
    pub consumers: u32,
    /// Program run per message.
    pub program: usize,
    /// Publish acknowledgement latency.
    pub publish_latency: Option<Dist>,
    /// Messages retained per partition.
    pub retention: u64,
    /// Price per consumer-hour.
    pub price_per_consumer_hour: f64,
    /// Price per partition-hour.
    pub price_per_partition_hour: f64,
    /// Brokers billed.
    pub brokers: u32,
    /// Price per broker-hour.
    pub price_per_broker_hour: f64,
}

/// A compiled step program.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Instructions, run from 0 until the end.
    pub instrs: Vec<Instr>,
}

/// One instruction of a compiled program.
#[derive(Debug, Clone, PartialEq)]
pub enum Instr {
    /// Hold the worker for a draw of `Model::step_dists[dist]`.
    Compute {
        /// Index into [`Model::step_dists`].
        dist: usize,
    },
    /// Look `key` up in `cache`; on a hit jump to `skip_to`.
    CacheGet {
        /// Cache index.
        cache: usize,
        /// Key.
        key: KeyId,
        /// Instruction after the fill.
        skip_to: usize,
    },
    /// Store `key` in `cache` after a miss.
    CacheFill {
        /// Cache index.
        cache: usize,
        /// Key.
        key: KeyId,
    },
    /// A read on the shard owning `key`.
    Read {
        /// Database index.
        db: usize,
        /// Routing key.
        key: KeyId,
    },
    /// A write on the shard owning `key`, then invalidations.
    Write {
        /// Database index.
        db: usize,
        /// Routing key.
        key: KeyId,
        /// Caches to delete the key from.
        invalidate: Vec<usize>,
    },
    /// Publish to a queue.
    Publish {
        /// Queue index.
        queue: usize,
        /// Partition key.
        key: Option<KeyId>,
    },
}
