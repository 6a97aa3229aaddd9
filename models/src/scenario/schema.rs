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
    /// CDN edges in front of origins (balancers or services).
    #[serde(default)]
    pub cdns: Vec<Cdn>,
    /// Sharded databases.
    #[serde(default)]
    pub databases: Vec<Database>,
    /// Message queues with a consumer group (Kafka-like topics,
    /// RabbitMQ-like work queues).
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
    /// Faults scheduled during the run (chaos testing).
    #[serde(default)]
    pub faults: Vec<Fault>,
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
    /// Allowed regression of these objectives against a baseline, as a
    /// fraction or percentage (default: `capsim check --tolerance`).
    #[serde(default)]
    pub tolerance: Option<Fraction>,
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
    /// Most requests refused by a rate limiter (HTTP 429) per request.
    #[serde(default)]
    pub rate_limited_rate: Option<Fraction>,
    /// Most errors per request as users see them (the last attempt's
    /// outcome, with retries or closed-loop users).
    #[serde(default)]
    pub user_error_rate: Option<Fraction>,
    /// Highest p99 as users see it (first attempt sent to answer, failed
    /// attempts and backoffs included).
    #[serde(default)]
    pub user_p99: Option<SimDuration>,
    /// Fewest answered requests per second.
    #[serde(default)]
    pub min_throughput_rps: Option<f64>,
    /// Highest busy fraction (a service's pods, a database's busiest shard).
    #[serde(default)]
    pub max_utilisation: Option<Fraction>,
    /// Highest fraction of a service's requests with a live session that
    /// lost it (`services[].sessions.loss_rate`).
    #[serde(default)]
    pub max_session_loss_rate: Option<Fraction>,
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
    /// Most messages a queue dead-letters.
    #[serde(default)]
    pub max_dead_lettered: Option<f64>,
    /// Highest share of a database's reads that were stale (replicas).
    #[serde(default)]
    pub max_stale_read_ratio: Option<Fraction>,
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

/// A traffic source: open-loop Poisson arrivals whose rate follows a
/// profile (`rate`), or closed-loop users who send, wait and think
/// (`users`); each request carries keys and is aimed at one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Name, unique among workloads.
    pub name: String,
    /// The load balancer or service that receives the requests.
    pub target: String,
    /// Open loop: the arrival-rate profile, a list of segments played in
    /// order. Exactly one of `rate` and `users`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate: Vec<RateSegment>,
    /// Closed loop: this many users, each sending a request, waiting for
    /// its outcome (retries included), thinking for a draw of
    /// `think_time`, and sending the next. Exactly one of `rate` and
    /// `users`.
    #[serde(default)]
    pub users: Option<u64>,
    /// Closed loop: a user's pause between an outcome and its next
    /// request (required with `users`).
    #[serde(default)]
    pub think_time: Option<DistSpec>,
    /// Endpoint name -> relative weight. Endpoints belong to the target
    /// service (or the service behind the target load balancer).
    pub mix: IndexMap<String, f64>,
    /// Key name -> how its values are drawn. Steps route by these keys.
    #[serde(default)]
    pub keys: IndexMap<String, KeySpec>,
    /// The client gives up after this long and counts a timeout; the system
    /// keeps working on the request (it does not know the client left).
    /// With `retry`, each attempt has this long (a per-try timeout).
    #[serde(default)]
    pub timeout: Option<SimDuration>,
    /// Client retries of failed attempts, with exponential backoff, jitter
    /// and an optional retry budget.
    #[serde(default)]
    pub retry: Option<Retry>,
}

/// A client's retry policy (gRPC's `retryPolicy`, Envoy's `retry_policy`):
/// an attempt that fails in a way listed in `retry_on` is sent again after
/// a backoff, with the same keys and through the same path, until
/// `max_attempts` attempts were made or the budget refuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts in all, the first one included (gRPC `maxAttempts`): 3
    /// means the request and up to 2 retries. At least 1.
    pub max_attempts: u32,
    /// Waits between attempts (Envoy `retry_back_off`).
    #[serde(default)]
    pub backoff: Option<Backoff>,
    /// How the backoff is randomised (default `full`).
    #[serde(default)]
    pub jitter: Jitter,
    /// Which failures are retried (default `["timeout", "5xx"]`).
    #[serde(default)]
    pub retry_on: Option<Vec<RetryOn>>,
    /// A retry budget (Finagle's `RetryBudget`): retries are refused once
    /// they would exceed a fraction of recent requests.
    #[serde(default)]
    pub budget: Option<RetryBudget>,
}

/// Exponential backoff: the n-th retry waits up to
/// `min(max_interval, base_interval × multiplier^(n-1))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    /// The first retry's ceiling (default 25ms, as Envoy).
    #[serde(default)]
    pub base_interval: Option<SimDuration>,
    /// The largest ceiling (default 10 × `base_interval`, as Envoy).
    #[serde(default)]
    pub max_interval: Option<SimDuration>,
    /// Growth of the ceiling per retry (default 2, gRPC
    /// `backoffMultiplier`).
    #[serde(default)]
    pub multiplier: Option<f64>,
}

/// How a backoff is drawn below its ceiling (Marc Brooker, "Exponential
/// Backoff And Jitter", AWS Architecture Blog, 2015).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Exactly the ceiling: every client that failed together retries
    /// together.
    None,
    /// Uniform in `[0, ceiling]` (AWS's recommendation, Envoy's behaviour).
    #[default]
    Full,
    /// `ceiling / 2` plus uniform in `[0, ceiling / 2]`.
    Equal,
    /// Uniform in `[base_interval, 3 × previous wait]`, capped at
    /// `max_interval` (the first previous wait is `base_interval`).
    Decorrelated,
}

/// A failure a client may retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetryOn {
    /// The client's timeout expired.
    #[serde(rename = "timeout")]
    Timeout,
    /// Any 5xx: `502` and `503`.
    #[serde(rename = "5xx")]
    ServerError,
    /// HTTP 502: the pod crashed, or a database or cache it waited on
    /// failed.
    #[serde(rename = "502")]
    BadGateway,
    /// HTTP 503: refused by a full queue, a balancer's connection limit,
    /// or for lack of a ready pod.
    #[serde(rename = "503")]
    Unavailable,
    /// HTTP 429: refused by a rate limiter.
    #[serde(rename = "429")]
    TooManyRequests,
}

/// Finagle's `RetryBudget`: every request deposits one token, a retry
/// withdraws `1 / percent_can_retry` tokens, deposits expire after `ttl`,
/// and a reserve of `min_retries_per_sec × ttl` retries never expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryBudget {
    /// Retries allowed per request over the last `ttl` (default 0.2; a
    /// number or a percentage such as "20%"; 0 to 10).
    #[serde(default)]
    pub percent_can_retry: Option<Fraction>,
    /// Retries allowed whatever the request rate, per second (default 10).
    #[serde(default)]
    pub min_retries_per_sec: Option<f64>,
    /// How long a deposit counts (default 10s; 1s to 60s).
    #[serde(default)]
    pub ttl: Option<SimDuration>,
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
    /// A daily cycle: a sinusoid between `min` and `max`.
    #[serde(default)]
    pub diurnal: Option<Diurnal>,
    /// Optional label ("spike", "plateau") for people reading the file.
    #[serde(default)]
    pub label: Option<String>,
}

/// A sinusoidal rate: `min + (max - min) × (1 + cos(2π (t - peak_at) /
/// period)) / 2`, `t` the time since the run began (a run starts at
/// midnight, so `peak_at` reads as a time of day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diurnal {
    /// The lowest rate (the trough), requests per second.
    pub min: f64,
    /// The highest rate (the peak), requests per second.
    pub max: f64,
    /// Length of one cycle (default 24h).
    #[serde(default)]
    pub period: Option<SimDuration>,
    /// When the rate peaks, within the first period (e.g. "14h").
    pub peak_at: SimDuration,
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
    /// `weighted_round_robin`: weight of each replica, by pod index (as
    /// nginx's `server ... weight=N`); replicas beyond the list weigh 1.
    #[serde(default)]
    pub weights: Vec<u32>,
    /// `hash`: the request key whose value picks the replica (a client id,
    /// an IP, a user id: any key the workloads draw).
    #[serde(default)]
    pub hash_key: Option<String>,
    /// `hash`: place replicas on a consistent-hash ring (as nginx's `hash
    /// $key consistent`, ketama) so that adding or losing a replica moves
    /// few clients, instead of `hash(key) mod replicas`.
    #[serde(default)]
    pub consistent: bool,
    /// Active health checks (HAProxy `check inter fall rise`): without
    /// them a failed replica keeps receiving traffic, which fails.
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
    /// Latency the balancer adds to each request (default 0).
    #[serde(default)]
    pub latency: Option<DistSpec>,
    /// Maximum requests in flight through the balancer; beyond it requests
    /// are rejected (HTTP 503). Absent: no limit.
    #[serde(default)]
    pub max_connections: Option<u64>,
    /// A gateway's token-bucket rate limiter in front of the balancer:
    /// requests beyond it are refused with HTTP 429.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Price per hour of the balancer.
    #[serde(default)]
    pub price_per_hour: f64,
}

/// A token bucket (Envoy's local rate limit, nginx `limit_req ... nodelay`,
/// an API gateway's usage plan): the bucket holds at most `burst` tokens
/// and gains `requests_per_second` tokens per second; a request takes one
/// token or, when the bucket is empty, is refused at once with HTTP 429.
/// With `key`, every value of the key (every user, every API key) has its
/// own bucket; without it one bucket serves everybody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained rate allowed, requests per second (per key value with
    /// `key`).
    pub requests_per_second: f64,
    /// Bucket size: requests allowed in a burst above the rate (default:
    /// one second's worth, at least 1).
    #[serde(default)]
    pub burst: Option<f64>,
    /// The request key whose values get a bucket each (a user id, an API
    /// key). Absent: one global bucket.
    #[serde(default)]
    pub key: Option<String>,
}

/// Active health checks of a balancer's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// Time between two checks of a replica (HAProxy `inter`).
    pub interval: SimDuration,
    /// Consecutive failed checks that take a replica out (HAProxy `fall`,
    /// Kubernetes `failureThreshold`; default 3).
    #[serde(default = "default_fall")]
    pub unhealthy_threshold: u32,
    /// Consecutive passed checks that bring it back (HAProxy `rise`,
    /// Kubernetes `successThreshold`; default 2).
    #[serde(default = "default_rise")]
    pub healthy_threshold: u32,
}

fn default_fall() -> u32 {
    3
}

fn default_rise() -> u32 {
    2
}

/// Load-balancing policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LbPolicy {
    /// Replicas in turn.
    #[default]
    RoundRobin,
    /// Replicas in turn in proportion to `weights` (nginx's smooth weighted
    /// round robin: the heaviest replica is never picked in a burst).
    WeightedRoundRobin,
    /// The pod with the fewest requests in flight (busy + waiting); ties go
    /// to the first such pod after the previous pick, so an idle pool is
    /// used evenly.
    LeastConnections,
    /// A replica drawn uniformly at random.
    Random,
    /// Two distinct replicas drawn at random; the one with fewer requests
    /// in flight wins (nginx `random two least_conn`, Envoy
    /// `LEAST_REQUEST`).
    PowerOfTwoChoices,
    /// The replica owning the value of `hash_key` (sticky sessions).
    Hash,
}

/// An application service: `replicas` pods, each with `concurrency`
/// workers and a bounded FIFO queue. A worker is held for the whole
/// request, including its waits on caches, databases and queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Name, unique among all components.
    pub name: String,
    /// Number of pods (at the start, with an autoscaler).
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
    /// Price per pod per hour (paid from the moment a pod is requested).
    #[serde(default)]
    pub price_per_replica_hour: f64,
    /// Time from a pod's start to its readiness (cold start: image pull,
    /// JVM warm-up; Kubernetes readiness). Default 0.
    #[serde(default)]
    pub startup_time: Option<DistSpec>,
    /// Time from a pod's crash to its container's restart (kubelet
    /// restart back-off; default 10s). The pod then starts up again.
    #[serde(default)]
    pub restart_delay: Option<SimDuration>,
    /// Random pod crashes: time between failures and time to repair.
    #[serde(default)]
    pub failures: Option<Failures>,
    /// A Horizontal Pod Autoscaler for this service.
    #[serde(default)]
    pub autoscaling: Option<Autoscaling>,
    /// Where the service keeps its users' sessions (login, cart).
    #[serde(default)]
    pub sessions: Option<Sessions>,
}

/// User sessions of a service: a session is created by a user's first
/// request and lives until `ttl` passes without a request of that user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// `local` (in the pod's memory) or `external` (a shared store).
    pub store: SessionStore,
    /// The request key that identifies a session's user.
    pub key: String,
    /// Idle time after which a session expires (default 30m).
    #[serde(default)]
    pub ttl: Option<SimDuration>,
    /// `external`: the round trip to the session store that every request
    /// makes (a Redis GET), holding the worker.
    #[serde(default)]
    pub latency: Option<DistSpec>,
}

/// Where sessions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStore {
    /// In the memory of the pod that created it: only that pod knows it, so
    /// the balancer must be sticky on the session key, and a pod's crash,
    /// restart or scale-down loses the sessions it held.
    Local,
    /// In a store shared by every pod (Redis, a database): any pod serves
    /// any user, nothing is lost with a pod, every request pays a round
    /// trip.
    External,
}

/// Random failures of a component, each instance independently: up for an
/// exponential time of mean `mtbf`, then down for an exponential time of
/// mean `mttr` (for pods: until the crash is noticed and the container
/// restarted — the restart delay and start-up then follow).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failures {
    /// Mean time between failures of one instance.
    pub mtbf: SimDuration,
    /// Mean time to repair (for pods: default 0, the restart delay and
    /// start-up model the rest).
    #[serde(default)]
    pub mttr: SimDuration,
}

/// Kubernetes Horizontal Pod Autoscaler rules: every `sync_period`,
/// desired = ceil(ready × metric / target), skipped while
/// |metric / target − 1| ≤ `tolerance`, bounded by min and max; a scale
/// down takes the highest desired count of the last `scale_down_stabilization`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    /// Fewest pods.
    pub min_replicas: u32,
    /// Most pods.
    pub max_replicas: u32,
    /// What is measured per ready pod.
    #[serde(default)]
    pub metric: ScaleMetric,
    /// Target of the metric per pod: a busy fraction (0.6) for
    /// `utilisation`, a request count for `in_flight` and `queue`.
    pub target: f64,
    /// How often the autoscaler decides (Kubernetes: 15s).
    #[serde(default = "default_sync")]
    pub sync_period: SimDuration,
    /// Relative change of the metric ignored (Kubernetes: 0.1).
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// A scale down uses the highest recommendation of this window
    /// (Kubernetes: 5m).
    #[serde(default = "default_stabilization")]
    pub scale_down_stabilization: SimDuration,
}

fn default_sync() -> SimDuration {
    SimDuration::from_secs(15)
}

fn default_tolerance() -> f64 {
    0.1
}

fn default_stabilization() -> SimDuration {
    SimDuration::from_secs(300)
}

/// What an autoscaler measures per ready pod, averaged over the last sync
/// period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMetric {
    /// Busy workers / workers (CPU-like utilisation).
    #[default]
    Utilisation,
    /// Requests in the pod (busy + waiting).
    InFlight,
    /// Requests waiting for a worker.
    Queue,
}

/// A fault scheduled at a time of the run (chaos testing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillPods {
    /// The service.
    pub service: String,
    /// How many of its pods (the lowest-numbered ready ones).
    pub count: u32,
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
    /// Scatter-gather: one read on each of several shards at once; the
    /// step ends when the slowest answers.
    Scatter(ScatterStep),
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

/// The `scatter` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScatterStep {
    /// The database component.
    pub db: String,
    /// `"all"` (default) or how many shards to read.
    #[serde(default)]
    pub shards: ScatterShards,
    /// With a shard count: the key whose shard is the first of the shards
    /// read (default: the database's `shard_key`).
    #[serde(default)]
    pub key: Option<String>,
}

/// The shards a `scatter` step reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "ScatterShardsText", into = "ScatterShardsText")]
pub enum ScatterShards {
    /// Every shard.
    #[default]
    All,
    /// This many consecutive shards, starting at the key's shard.
    Count(u32),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ScatterShardsText {
    Count(u32),
    Name(String),
}

impl TryFrom<ScatterShardsText> for ScatterShards {
    type Error = String;
    fn try_from(t: ScatterShardsText) -> Result<Self, String> {
        match t {
            ScatterShardsText::Count(n) => Ok(ScatterShards::Count(n)),
            ScatterShardsText::Name(n) if n == "all" => Ok(ScatterShards::All),
            ScatterShardsText::Name(n) => Err(format!(
                "`{n}` is not a number of shards: write \"all\" or a count such as 3"
            )),
        }
    }
}

impl From<ScatterShards> for ScatterShardsText {
    fn from(s: ScatterShards) -> Self {
        match s {
            ScatterShards::All => ScatterShardsText::Name("all".to_string()),
            ScatterShards::Count(n) => ScatterShardsText::Count(n),
        }
    }
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
    /// Keys held across all nodes; beyond it the policy evicts one.
    pub capacity: u64,
    /// Eviction policy.
    #[serde(default)]
    pub policy: EvictionPolicy,
    /// Entries expire this long after they were stored (or, with
    /// `ttl_mode: access`, last read). Absent: never.
    #[serde(default)]
    pub ttl: Option<SimDuration>,
    /// When the TTL starts: at the store (default) or at every hit.
    #[serde(default)]
    pub ttl_mode: TtlMode,
    /// What a `write` that lists this cache in `invalidate` does to the
    /// written key: delete it (default) or store the new value.
    #[serde(default)]
    pub write_policy: WritePolicy,
    /// Request coalescing: a miss on a key that another request is already
    /// fetching waits for that fetch instead of running `on_miss` itself.
    #[serde(default)]
    pub coalesce: bool,
    /// With `coalesce`: the longest a miss waits for another request's
    /// fetch before fetching itself (default 5s, nginx's
    /// `proxy_cache_lock_timeout`).
    #[serde(default)]
    pub lock_timeout: Option<SimDuration>,
    /// Round trip of a lookup that hits.
    pub hit_latency: DistSpec,
    /// Round trip of a lookup that misses (default: as a hit).
    #[serde(default)]
    pub miss_latency: Option<DistSpec>,
    /// Round trip of the store after a miss (default 0: fire and forget).
    #[serde(default)]
    pub fill_latency: Option<DistSpec>,
    /// Number of nodes: for cost, and for failures (a key lives on one
    /// node, by hash slot).
    #[serde(default = "one")]
    pub nodes: u32,
    /// Price per node per hour.
    #[serde(default)]
    pub price_per_node_hour: f64,
    /// Random failures of each node: a failed node loses its keys and
    /// comes back empty (`mttr` must be positive).
    #[serde(default)]
    pub failures: Option<Failures>,
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
    /// Evict the least frequently used key (ties: the least recently
    /// used), as Redis' `allkeys-lfu`.
    Lfu,
}

/// When a cache entry's time to live starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TtlMode {
    /// At the store: hits do not extend it (Redis `SET key value EX ttl`).
    #[default]
    Insert,
    /// At every hit as well: a sliding expiry (Memcached `touch`,
    /// Caffeine `expireAfterAccess`).
    Access,
}

/// What a write does to the caches it lists in `invalidate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WritePolicy {
    /// Delete the written key: the next read misses and fills.
    #[default]
    Invalidate,
    /// Store the written value: the next read hits. The write waits for
    /// the store (`fill_latency`).
    WriteThrough,
}

/// A CDN edge in front of an origin (a load balancer or service): requests
/// that workloads send to the origin for one of `endpoints` are looked up
/// at the edge; a hit is answered there, a miss goes on to the origin and
/// its response is stored on the way back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cdn {
    /// Name, unique among all components.
    pub name: String,
    /// The load balancer or service behind the edge: the `target` of the
    /// workloads whose requests pass the edge.
    pub origin: String,
    /// The origin's endpoints whose responses the edge caches (the CDN's
    /// cache behaviours); other endpoints bypass it.
    pub endpoints: Vec<String>,
    /// The key that, with the endpoint, names a cached response (the URL's
    /// variable part). Absent: one response per endpoint.
    #[serde(default)]
    pub key: Option<String>,
    /// Responses held at the edge.
    pub capacity: u64,
    /// Eviction policy.
    #[serde(default)]
    pub policy: EvictionPolicy,
    /// A stored response expires this long after it was stored
    /// (`Cache-Control: max-age`). Absent: never.
    #[serde(default)]
    pub ttl: Option<SimDuration>,
    /// Client round trip of a request answered at the edge.
    pub hit_latency: DistSpec,
    /// Time the edge adds to a miss before and after the origin (default:
    /// as a hit).
    #[serde(default)]
    pub miss_latency: Option<DistSpec>,
    /// Round trip between the edge and the origin, added to a miss
    /// (default 0).
    #[serde(default)]
    pub origin_latency: Option<DistSpec>,
    /// Price per million requests received at the edge (hits and misses).
    #[serde(default)]
    pub price_per_million_requests: f64,
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
    /// For `ring`: tokens per shard on the ring (Cassandra's vnodes,
    /// `num_tokens`). Default 256.
    #[serde(default)]
    pub virtual_nodes: Option<u32>,
    /// For `directory`: key value (an integer, written as a string) ->
    /// shard index, e.g. `{"1": 0, "2": 0, "3": 5}`.
    #[serde(default)]
    pub directory: Option<IndexMap<String, u32>>,
    /// For `directory`: where values missing from the directory go, a
    /// shard index or a strategy (`"hash"`, `"jump"`, `"ring"`,
    /// `"range"`). Default `"hash"`.
    #[serde(default)]
    pub directory_default: Option<DirectoryDefault>,
    /// Connections per shard: statements one shard executes at once.
    pub connections: u32,
    /// Service time of a read.
    pub read_time: DistSpec,
    /// Service time of a write.
    pub write_time: DistSpec,
    /// Price per shard per hour.
    #[serde(default)]
    pub price_per_shard_hour: f64,
    /// Read replicas per shard (default 0), each with `connections`
    /// connections of its own; writes always go to the primary.
    #[serde(default)]
    pub replicas: u32,
    /// Asynchronous replication: how long after a write commits on the
    /// primary it becomes visible on a replica, drawn per write and replica
    /// (default 0: at once).
    #[serde(default)]
    pub replication_lag: Option<DistSpec>,
    /// Which copies serve reads (default `primary`).
    #[serde(default)]
    pub read_from: ReadFrom,
    /// Price per read replica per hour (default: `price_per_shard_hour`).
    #[serde(default)]
    pub price_per_replica_hour: Option<f64>,
    /// Random failures of each shard's primary: down for the repair time,
    /// with no failover (`mttr` must be positive).
    #[serde(default)]
    pub failures: Option<Failures>,
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
    /// Consistent-hash ring with `virtual_nodes` tokens per shard.
    Ring,
    /// Jump consistent hash (Lamping & Veach).
    Jump,
    /// An explicit value -> shard table (`directory`).
    Directory,
}

/// Which copies of a shard serve reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadFrom {
    /// The primary serves every read; replicas are standbys.
    #[default]
    Primary,
    /// Replicas serve every read, in turn.
    Replicas,
    /// The primary and the replicas serve reads in turn.
    RoundRobin,
}

/// Where a directory sends values it does not list: a shard index, or a
/// strategy over all shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DirectoryDefaultText", into = "DirectoryDefaultText")]
pub enum DirectoryDefault {
    /// This shard.
    Shard(u32),
    /// This strategy (not `directory`).
    Strategy(ShardStrategy),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum DirectoryDefaultText {
    Shard(u32),
    Name(String),
}

impl TryFrom<DirectoryDefaultText> for DirectoryDefault {
    type Error = String;
    fn try_from(t: DirectoryDefaultText) -> Result<Self, String> {
        match t {
            DirectoryDefaultText::Shard(s) => Ok(DirectoryDefault::Shard(s)),
            DirectoryDefaultText::Name(n) => match n.as_str() {
                "hash" => Ok(DirectoryDefault::Strategy(ShardStrategy::Hash)),
                "jump" => Ok(DirectoryDefault::Strategy(ShardStrategy::Jump)),
                "ring" => Ok(DirectoryDefault::Strategy(ShardStrategy::Ring)),
                "range" => Ok(DirectoryDefault::Strategy(ShardStrategy::Range)),
                _ => Err(format!(
                    "`{n}` is not a shard index or a strategy: write a shard index (e.g. 0) or one of \"hash\", \"jump\", \"ring\", \"range\""
                )),
            },
        }
    }
}

impl From<DirectoryDefault> for DirectoryDefaultText {
    fn from(d: DirectoryDefault) -> Self {
        match d {
            DirectoryDefault::Shard(s) => DirectoryDefaultText::Shard(s),
            DirectoryDefault::Strategy(s) => DirectoryDefaultText::Name(
                match s {
                    ShardStrategy::Hash => "hash",
                    ShardStrategy::Range => "range",
                    ShardStrategy::Ring => "ring",
                    ShardStrategy::Jump => "jump",
                    ShardStrategy::Directory => "directory",
                }
                .to_string(),
            ),
        }
    }
}

/// A message queue with a consumer group: a Kafka-like topic (messages
/// spread over partitions, each partition read in order by one consumer of
/// the group) or a RabbitMQ-like work queue (one FIFO, any idle consumer
/// takes the next message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Name, unique among all components.
    pub name: String,
    /// `topic` (default) or `work_queue`.
    #[serde(default)]
    pub kind: QueueKind,
    /// Number of partitions (topics only; required there).
    #[serde(default)]
    pub partitions: Option<u32>,
    /// The key that picks a message's partition (`hash mod partitions`).
    /// Absent: partitions in turn. Topics only.
    #[serde(default)]
    pub partition_key: Option<String>,
    /// Consumers in the group; on a topic, those beyond the partition count
    /// stay idle.
    pub consumers: u32,
    /// Steps each message costs its consumer.
    pub work: Vec<Step>,
    /// Time the publisher waits for the broker's acknowledgement (default 0).
    #[serde(default)]
    pub publish_latency: Option<DistSpec>,
    /// Messages retained per partition (a work queue: ready messages,
    /// RabbitMQ `x-max-length` with `drop-head`); beyond it the oldest
    /// unconsumed message is dropped and counted (default 1,000,000).
    #[serde(default)]
    pub retention: Option<u64>,
    /// Work queues: unacknowledged messages a consumer may hold (RabbitMQ
    /// `basic.qos` prefetch count; 0: unlimited). Default 1.
    #[serde(default)]
    pub prefetch: Option<u32>,
    /// Probability that an attempt's work fails (the handler throws after
    /// its steps), independently for every attempt: a transient error.
    #[serde(default)]
    pub failure_probability: Option<Fraction>,
    /// Probability that a message can never be processed (a poison
    /// message: every attempt of it fails).
    #[serde(default)]
    pub poison_probability: Option<Fraction>,
    /// What happens to a failed attempt. Absent: no retry, a failed message
    /// is dead-lettered at once.
    #[serde(default)]
    pub retry: Option<MessageRetry>,
    /// The queue that receives messages that failed `max_attempts` times
    /// (a dead-letter topic or queue). Absent: they are counted and dropped.
    #[serde(default)]
    pub dead_letter_queue: Option<String>,
    /// Random crashes of each consumer process: time between failures and
    /// time until it is back.
    #[serde(default)]
    pub consumer_failures: Option<Failures>,
    /// Topics: how long the group coordinator waits for a silent consumer
    /// before removing it from the group (Kafka `session.timeout.ms`,
    /// default 45s).
    #[serde(default)]
    pub session_timeout: Option<SimDuration>,
    /// Work queues: how long the broker waits for a silent consumer's
    /// connection before closing it and requeueing its unacknowledged
    /// messages (RabbitMQ heartbeat timeout, default 60s).
    #[serde(default)]
    pub heartbeat: Option<SimDuration>,
    /// Topics: how long every consumer of the group stops when the group's
    /// membership changes (an eager rebalance), after the members finish
    /// the message in hand. Default 3s.
    #[serde(default)]
    pub rebalance_pause: Option<SimDuration>,
    /// Topics: how partitions are dealt to the group's members (default
    /// `round_robin`).
    #[serde(default)]
    pub assignor: Option<Assignor>,
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

/// The two kinds of queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// Kafka-like: partitions, each owned by one consumer of the group and
    /// read in order.
    #[default]
    Topic,
    /// RabbitMQ-like: one FIFO; the broker hands the next message to a
    /// consumer with room under its prefetch count.
    WorkQueue,
}

/// How partitions are dealt to a group's members (Kafka
/// `partition.assignment.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignor {
    /// Partition p to member p mod members (`RoundRobinAssignor`).
    #[default]
    RoundRobin,
    /// Contiguous ranges, the first members one more when the partitions do
    /// not divide evenly (`RangeAssignor`).
    Range,
}

/// Retries of failed attempts of a message (named `MessageRetry`: a workload's `Retry` is the clients' retry policy).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRetry {
    /// Attempts in all, the first included (default 3); a message that
    /// fails them all is dead-lettered.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Where a failed message waits for its next attempt (default
    /// `blocking`).
    #[serde(default)]
    pub mode: RetryMode,
    /// Wait before the first retry (default 1s; not with `requeue`).
    #[serde(default)]
    pub backoff: Option<SimDuration>,
    /// Each further retry waits this many times longer (default 1: a fixed
    /// backoff).
    #[serde(default)]
    pub multiplier: Option<f64>,
    /// Longest wait between attempts (default 30s).
    #[serde(default)]
    pub max_backoff: Option<SimDuration>,
}

fn default_attempts() -> u32 {
    3
}

/// Where a failed message waits for its next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryMode {
    /// In place: the consumer keeps the message, sleeps the backoff and
    /// tries again, taking nothing else meanwhile (Spring Kafka's
    /// `DefaultErrorHandler`, Spring AMQP's stateless retry). On a topic
    /// the consumer's partitions wait behind it: head-of-line blocking.
    #[default]
    Blocking,
    /// Through a delay queue: the message is set aside for the backoff and
    /// then consumed again, while the consumer goes on with the next
    /// message (Spring Kafka's retry topics; RabbitMQ's TTL queue that
    /// dead-letters back to the work queue). Order within a partition is
    /// lost.
    RetryTopic,
    /// Work queues: negative acknowledgement with requeue (`basic.nack`,
    /// `requeue=true`): back at the head of the queue at once, no backoff
    /// (a quorum queue's `delivery-limit` is `max_attempts`).
    Requeue,
}
