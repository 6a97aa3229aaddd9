//! The validated, resolved model: what the simulator runs.
//!
//! Names are interned to indices, distributions are ready to sample, step
//! programs are compiled to flat instruction lists, durations carry units.
//! A [`Model`] is built only by [`crate::scenario::load`] /
//! [`crate::scenario::validate`], which guarantee every index is in range
//! and every key a step uses is drawn by every workload that reaches it.

use sim_core::{Dist, SimDuration};

use crate::keys::KeyGen;
use crate::scenario::{EvictionPolicy, KeySpec, LbPolicy, ReadFrom, TtlMode, WritePolicy};
pub use crate::sharding::Router;

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
    /// CDN edges.
    pub cdns: Vec<CdnDef>,
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
    /// Scheduled faults, in file order.
    pub faults: Vec<FaultDef>,
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
    /// Client timeout (per attempt).
    pub timeout: Option<SimDuration>,
    /// Closed loop: users and their think time (None: open loop, arrivals
    /// from `profile`). A closed-loop workload's `profile` is its offered
    /// rate's upper bound, `users / mean think time`, for readers that
    /// estimate volumes; the simulator does not draw arrivals from it.
    pub users: Option<ClosedLoop>,
    /// Retry policy.
    pub retry: Option<RetryDef>,
}

/// Closed-loop users of a workload.
#[derive(Debug, Clone)]
pub struct ClosedLoop {
    /// Users.
    pub users: u64,
    /// Pause between an outcome and the next request.
    pub think_time: Dist,
}

/// A resolved retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryDef {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// First retry's backoff ceiling, ns.
    pub base_interval: u64,
    /// Largest backoff ceiling, ns.
    pub max_interval: u64,
    /// Growth of the ceiling per retry.
    pub multiplier: f64,
    /// How the wait is drawn below the ceiling.
    pub jitter: crate::scenario::Jitter,
    /// Retried: client timeouts.
    pub on_timeout: bool,
    /// Retried: HTTP 502 (aborted).
    pub on_502: bool,
    /// Retried: HTTP 503 (rejected).
    pub on_503: bool,
    /// Retried: HTTP 429 (rate limited).
    pub on_429: bool,
    /// Retry budget.
    pub budget: Option<BudgetDef>,
}

/// A resolved retry budget (Finagle `RetryBudget`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetDef {
    /// Retries per request over the last `ttl`.
    pub percent_can_retry: f64,
    /// Retries always allowed, per second.
    pub min_retries_per_sec: f64,
    /// How long a deposit counts, ns.
    pub ttl: u64,
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
    /// A sinusoid instead of the linear ramp (`from` and `to` are then its
    /// values at the ends).
    pub diurnal: Option<DiurnalDef>,
    /// Optional label.
    pub label: Option<String>,
}

/// A sinusoidal rate between `min` and `max` peaking at `peak_at` and
/// every `period` after (or before) it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiurnalDef {
    /// Trough, requests/s.
    pub min: f64,
    /// Peak, requests/s.
    pub max: f64,
    /// Cycle length, ns.
    pub period: u64,
    /// A peak instant, ns since the run began.
    pub peak_at: u64,
}

impl DiurnalDef {
    fn phase(&self, t_ns: u64) -> f64 {
        let p = self.period as f64;
        std::f64::consts::TAU * ((t_ns as f64 - self.peak_at as f64) / p)
    }

    /// The rate at `t_ns`, requests/s.
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        let mid = (self.min + self.max) / 2.0;
        let amp = (self.max - self.min) / 2.0;
        (mid + amp * self.phase(t_ns).cos()).clamp(self.min, self.max)
    }

    /// Expected arrivals in `[a, b)` (ns): the integral of the rate,
    /// `mid·Δt + amp·period/2π·(sin φ(b) − sin φ(a))`.
    pub fn integral(&self, a: u64, b: u64) -> f64 {
        let mid = (self.min + self.max) / 2.0;
        let amp = (self.max - self.min) / 2.0;
        let secs = (b - a) as f64 / 1e9;
        let p_s = self.period as f64 / 1e9;
        mid * secs + amp * p_s / std::f64::consts::TAU * (self.phase(b).sin() - self.phase(a).sin())
    }

    /// The first peak instant at or after `t_ns` (ns, saturating).
    pub fn next_peak(&self, t_ns: u64) -> u64 {
        if t_ns <= self.peak_at {
            // Peaks before `peak_at` are `peak_at - k·period`.
            let back = (self.peak_at - t_ns) / self.period;
            return self.peak_at - back * self.period;
        }
        let k = (t_ns - self.peak_at).div_ceil(self.period);
        self.peak_at.saturating_add(k.saturating_mul(self.period))
    }
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
            if let Some(d) = &s.diurnal {
                let end = s.end.min(until_ns);
                let at = d.next_peak(s.start);
                if at < end && d.max > best.0 {
                    best = (d.max, at);
                }
                for t in [s.start, end] {
                    if d.rate_at(t) > best.0 {
                        best = (d.rate_at(t), t);
                    }
                }
                continue;
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
            if let Some(d) = &s.diurnal {
                total += d.integral(s.start, end);
                continue;
            }
            let secs = (end - s.start) as f64 / 1e9;
            total += secs * (s.from + s.rate_at(end)) / 2.0;
        }
        total
    }
}

impl RateSeg {
    /// Rate at `t_ns` within the segment.
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        if let Some(d) = &self.diurnal {
            return d.rate_at(t_ns);
        }
        if self.end == u64::MAX || self.from == self.to {
            return self.from;
        }
        let f = (t_ns.saturating_sub(self.start)) as f64 / (self.end - self.start) as f64;
        self.from + (self.to - self.from) * f.clamp(0.0, 1.0)
    }

    /// A bound on the rate within the segment (the largest rate of a
    /// ramp, the peak of a sinusoid).
    pub fn max_rate(&self) -> f64 {
        match &self.diurnal {
            Some(d) => d.max,
            None => self.from.max(self.to),
        }
    }

    /// The rate does not change within the segment.
    pub fn is_constant(&self) -> bool {
        self.diurnal.is_none() && self.from == self.to
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
    /// Weight per pod index (`weighted_round_robin`); missing weigh 1.
    pub weights: Vec<u32>,
    /// Key whose value picks the pod (`hash`).
    pub hash_key: Option<KeyId>,
    /// Consistent hashing (`hash`).
    pub consistent: bool,
    /// Active health checks.
    pub health_check: Option<crate::scenario::HealthCheck>,
    /// Added latency.
    pub latency: Option<Dist>,
    /// In-flight limit.
    pub max_connections: Option<u64>,
    /// Token-bucket rate limiter in front of the balancer.
    pub rate_limit: Option<RateLimitDef>,
    /// Price per hour.
    pub price_per_hour: f64,
}

/// A resolved token-bucket rate limiter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitDef {
    /// Tokens gained per second.
    pub rate: f64,
    /// Bucket size, tokens (at least 1).
    pub burst: f64,
    /// One bucket per value of this key (None: one global bucket).
    pub key: Option<KeyId>,
}

/// A service's resolved session handling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionsDef {
    /// Local or external.
    pub store: crate::scenario::SessionStore,
    /// The key naming a session's user.
    pub key: KeyId,
    /// Idle expiry, ns.
    pub ttl: u64,
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
    /// Start-up time of a pod (None: ready at once).
    pub startup_time: Option<Dist>,
    /// Crash to restart, ns.
    pub restart_delay: u64,
    /// Random crashes: (mean ns between failures, mean ns to repair).
    pub failures: Option<(f64, f64)>,
    /// Autoscaler.
    pub autoscaling: Option<crate::scenario::Autoscaling>,
    /// Session handling (external sessions' round trip is the first
    /// instruction of every endpoint program).
    pub sessions: Option<SessionsDef>,
}

/// A scheduled fault, resolved.
#[derive(Debug, Clone)]
pub enum FaultDef {
    /// Kill `count` ready pods of `service` at `at` (ns).
    KillPods {
        /// When.
        at: u64,
        /// Service index.
        service: usize,
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
        /// Queue index.
        queue: usize,
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
        /// Database index.
        db: usize,
        /// One shard (None: every shard).
        shard: Option<u32>,
        /// Which nodes of each shard (outages: the primary).
        role: crate::scenario::DbRole,
    },
    /// Nodes of a cache.
    Cache {
        /// Cache index.
        cache: usize,
        /// One node (None: every node).
        node: Option<u32>,
    },
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
    /// Eviction policy.
    pub policy: EvictionPolicy,
    /// Time to live.
    pub ttl: Option<SimDuration>,
    /// When the time to live starts.
    pub ttl_mode: TtlMode,
    /// What writes listing the cache do.
    pub write_policy: WritePolicy,
    /// Concurrent misses of a key wait for the first one's fetch, at most
    /// this long (None: no coalescing).
    pub coalesce: Option<SimDuration>,
    /// Hit round trip.
    pub hit: Dist,
    /// Miss round trip.
    pub miss: Dist,
    /// Fill round trip (None: zero); also a write-through's store.
    pub fill: Option<Dist>,
    /// Nodes.
    pub nodes: u32,
    /// Price per node-hour.
    pub price_per_node_hour: f64,
    /// Random node failures: (mean ns between failures, mean ns to repair).
    pub failures: Option<(f64, f64)>,
}

/// A resolved CDN edge.
#[derive(Debug, Clone)]
pub struct CdnDef {
    /// Name.
    pub name: String,
    /// The workload target behind the edge.
    pub origin: Target,
    /// Cached endpoints (indices into [`Model::endpoints`]).
    pub endpoints: Vec<usize>,
    /// The key that names a response with the endpoint (None: the endpoint
    /// alone).
    pub key: Option<KeyId>,
    /// Capacity in responses.
    pub capacity: u64,
    /// Eviction policy.
    pub policy: EvictionPolicy,
    /// Time to live from the store.
    pub ttl: Option<SimDuration>,
    /// Round trip of a hit.
    pub hit: Dist,
    /// Edge time added to a miss.
    pub miss: Dist,
    /// Edge-to-origin round trip added to a miss (None: zero).
    pub origin_latency: Option<Dist>,
    /// Price per million requests at the edge.
    pub price_per_million_requests: f64,
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
    /// Read replicas per shard, each with `connections` connections.
    pub replicas: u32,
    /// Time a committed write takes to become visible on a replica, drawn
    /// per write and replica (None: at once).
    pub replication_lag: Option<Dist>,
    /// Which copies serve reads.
    pub read_from: ReadFrom,
    /// Price per replica-hour.
    pub price_per_replica_hour: f64,
    /// Random failures of each shard's primary: (mean ns between
    /// failures, mean ns to repair).
    pub failures: Option<(f64, f64)>,
}

/// A resolved queue.
#[derive(Debug, Clone)]
pub struct QueueDef {
    /// Name.
    pub name: String,
    /// Topic or work queue.
    pub kind: crate::scenario::QueueKind,
    /// Partitions (1 for a work queue: its one FIFO).
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
    /// Work queues: unacknowledged messages per consumer (0: unlimited).
    pub prefetch: u32,
    /// Probability that an attempt fails (transient).
    pub failure_probability: f64,
    /// Probability that a message fails every attempt (poison).
    pub poison_probability: f64,
    /// What happens to failed attempts.
    pub retry: MessageRetryDef,
    /// Where messages go after `retry.max_attempts` failures (None: counted
    /// and dropped).
    pub dead_letter: Option<usize>,
    /// Random consumer crashes: (mean ns between failures, mean ns to
    /// repair).
    pub consumer_failures: Option<(f64, f64)>,
    /// Time until a silent consumer is removed, ns: the session timeout of
    /// a topic's group, the heartbeat timeout of a work queue's broker.
    pub session_timeout: u64,
    /// Topics: the stop of every consumer on a rebalance, ns.
    pub rebalance_pause: u64,
    /// Topics: how partitions are dealt to members.
    pub assignor: crate::scenario::Assignor,
    /// Price per consumer-hour.
    pub price_per_consumer_hour: f64,
    /// Price per partition-hour.
    pub price_per_partition_hour: f64,
    /// Brokers billed.
    pub brokers: u32,
    /// Price per broker-hour.
    pub price_per_broker_hour: f64,
}

impl QueueDef {
    /// A work queue (one FIFO, no partitions).
    pub fn is_work_queue(&self) -> bool {
        self.kind == crate::scenario::QueueKind::WorkQueue
    }

    /// Attempts can fail (a failure or poison probability above 0).
    pub fn can_fail(&self) -> bool {
        self.failure_probability > 0.0 || self.poison_probability > 0.0
    }
}

/// A resolved retry policy of a queue's messages (a workload's is [`RetryDef`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageRetryDef {
    /// Attempts in all (1: no retry).
    pub max_attempts: u32,
    /// Where a failed message waits.
    pub mode: crate::scenario::RetryMode,
    /// Wait before the first retry, ns.
    pub backoff: u64,
    /// Growth of the wait per retry.
    pub multiplier: f64,
    /// Longest wait, ns.
    pub max_backoff: u64,
}

impl MessageRetryDef {
    /// The wait before the attempt that follows `failed` failed attempts
    /// (`failed` ≥ 1), ns: `backoff × multiplier^(failed-1)`, at most
    /// `max_backoff`.
    pub fn delay(&self, failed: u32) -> u64 {
        let exp = i32::try_from(failed.saturating_sub(1)).unwrap_or(i32::MAX);
        let d = self.backoff as f64 * self.multiplier.powi(exp);
        if d >= self.max_backoff as f64 {
            self.max_backoff
        } else {
            d.round() as u64
        }
    }
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
    /// One read on each of `shards` shards of `db` at once; the program
    /// continues when the slowest answers.
    Scatter {
        /// Database index.
        db: usize,
        /// The key whose shard is the first of `shards` consecutive shards
        /// (None: from shard 0, used when every shard is read).
        key: Option<KeyId>,
        /// Shards read, 1 to the database's shard count.
        shards: u32,
    },
    /// Publish to a queue.
    Publish {
        /// Queue index.
        queue: usize,
        /// Partition key.
        key: Option<KeyId>,
    },
}
