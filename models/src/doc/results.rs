//! The results document: everything one run produces, with stable field
//! names (units in the names: `_ms`, `_s`, `_rps`). Reports and checks read
//! only this document; `docs/results.md` documents it field by field.
//!
//! Everything except [`Engine`] is a deterministic function of the scenario
//! and the seed. [`Results::without_engine`] drops the wall-clock figures
//! for comparisons.

use serde::{Deserialize, Serialize};
use sim_core::stats::{CdfPoint, LatencyPoint, LatencySummary};

pub use crate::doc::slo::RunObjective;
pub use crate::kernel::ledger::{Totals, UserTotals};
pub use crate::kinds::balancer::result::LbResult;
pub use crate::kinds::cache::result::{CacheResult, CacheSeries};
pub use crate::kinds::call::CallResult;
pub use crate::kinds::cdn::CdnResult;
pub use crate::kinds::client::WorkloadSeries;
pub use crate::kinds::database::result::{DbResult, DbSeries, ReplicaResult, ShardResult};
pub use crate::kinds::queue::result::{PartitionResult, QueueResult, QueueSeries};
pub use crate::kinds::service::result::{
    PodResult, ScaleEvent, ServiceResult, ServiceSeries, SessionResult,
};

/// Version of this document's format.
pub const FORMAT_VERSION: u32 = 1;

/// One run's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// capsim version that produced the document.
    pub capsim_version: String,
    /// What was run.
    pub scenario: ScenarioInfo,
    /// Request accounting over the whole run (warm-up included).
    pub totals: Totals,
    /// All endpoints together (name `all`), over the measured period: the
    /// figures an overall SLO such as "p99 < 250 ms" is checked against.
    pub overall: EndpointResult,
    /// Per endpoint, over the measured period.
    pub endpoints: Vec<EndpointResult>,
    /// Per load balancer.
    pub load_balancers: Vec<LbResult>,
    /// Per service.
    pub services: Vec<ServiceResult>,
    /// Per cache.
    pub caches: Vec<CacheResult>,
    /// Per CDN edge.
    #[serde(default)]
    pub cdns: Vec<CdnResult>,
    /// Per database.
    pub databases: Vec<DbResult>,
    /// Per queue.
    pub queues: Vec<QueueResult>,
    /// Per `call` step: an edge of the call graph (absent without calls).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallResult>,
    /// The system as a graph: its components and the paths requests took
    /// between them, with rates and latencies.
    #[serde(default)]
    pub topology: Topology,
    /// The scenario's `slo` objectives judged on this run, in file order
    /// (absent without an `slo` section); see [`RunObjective`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<RunObjective>,
    /// What the run cost.
    pub cost: Cost,
    /// Fixed-interval time series over the whole run.
    pub time_series: TimeSeries,
    /// Problems a reader should know about (overflows, clamped values).
    pub warnings: Vec<String>,
    /// Engine figures; the only part that depends on the machine.
    pub engine: Engine,
}

impl Results {
    /// A copy with the engine figures zeroed, for comparing runs.
    pub fn without_engine(&self) -> Results {
        let mut r = self.clone();
        r.engine = Engine::default();
        r
    }
}

/// The scenario as run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// Scenario name.
    pub name: String,
    /// Scenario description.
    pub description: String,
    /// Master seed used.
    pub seed: u64,
    /// Simulated duration, seconds.
    pub duration_s: f64,
    /// Warm-up excluded from statistics, seconds.
    pub warmup_s: f64,
    /// Measured period (duration - warm-up), seconds.
    pub measured_s: f64,
}

/// One endpoint's figures over the measured period (requests that arrived
/// after the warm-up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointResult {
    /// Endpoint name.
    pub name: String,
    /// Service that owns it.
    pub service: String,
    /// Requests that arrived.
    pub count: u64,
    /// Answered within the timeout.
    pub ok: u64,
    /// `timeouts + rejected + aborted`.
    pub errors: u64,
    /// Client timeouts.
    pub timeouts: u64,
    /// Refused (HTTP 503).
    pub rejected: u64,
    /// Failed because their pod crashed, or sent to a crashed pod (HTTP
    /// 502), or because a database statement failed (shard down).
    #[serde(default)]
    pub aborted: u64,
    /// Refused by a gateway's rate limiter (HTTP 429). Not in `errors`:
    /// the limiter doing its job is not a failure of the system.
    #[serde(default)]
    pub rate_limited: u64,
    /// Still in flight at the end.
    pub in_flight: u64,
    /// `ok / measured_s`.
    pub throughput_rps: f64,
    /// `errors / count` (0 when count is 0).
    pub error_rate: f64,
    /// Latency of ok responses (client view: arrival to response).
    pub latency: LatencySummary,
    /// The latency distribution of ok responses at fixed quantiles (from
    /// the minimum, quantile 0, to the maximum, quantile 1), for CDF plots.
    pub latency_cdf: Vec<CdfPoint>,
    /// Attempts (of `count`) that were client retries. Every field above
    /// counts attempts: without retries an attempt is a request.
    #[serde(default)]
    pub retries: u64,
    /// Retries the client's retry budget refused.
    #[serde(default)]
    pub retries_refused_by_budget: u64,
    /// What users saw (present when a workload retries): one entry per
    /// request, with the outcome of its last attempt and its latency
    /// from the first attempt, backoffs included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_visible: Option<UserVisibleResult>,
}

/// An endpoint's requests as users saw them, over the measured period
/// (requests whose first attempt was sent after the warm-up):
/// `requests = ok + timeouts + rejected + aborted + rate_limited +
/// in_flight`, and `requests + retries = count` of the endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserVisibleResult {
    /// Requests users sent.
    pub requests: u64,
    /// Answered in time, at some attempt.
    pub ok: u64,
    /// `timeouts + rejected + aborted` (as the endpoint's `errors`).
    pub errors: u64,
    /// The last attempt timed out.
    pub timeouts: u64,
    /// The last attempt was refused (HTTP 503).
    pub rejected: u64,
    /// The last attempt failed in flight (HTTP 502).
    pub aborted: u64,
    /// The last attempt was refused by a rate limiter (HTTP 429).
    pub rate_limited: u64,
    /// Not settled at the end.
    pub in_flight: u64,
    /// `errors / requests` (0 without requests).
    pub error_rate: f64,
    /// `count / requests` of the endpoint: attempts per request.
    pub attempts_per_request: f64,
    /// Latency of ok requests from the first attempt's sending to the
    /// answer: failed attempts and backoffs included.
    pub latency: LatencySummary,
}

/// The system as a graph: every workload, balancer, CDN edge, service,
/// cache, database and queue as a node, and every path requests and
/// messages took between them as an edge, measured over the measured
/// period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Topology {
    /// Components, by kind in this order: workloads, load balancers, CDN
    /// edges, services, caches, databases, queues; each kind in file
    /// order.
    pub nodes: Vec<TopologyNode>,
    /// Paths between components, in the order of their first use in the
    /// scenario.
    pub edges: Vec<TopologyEdge>,
}

/// One component of the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyNode {
    /// `kind:name`, unique (a service and a database may share a name).
    pub id: String,
    /// `workload`, `load_balancer`, `cdn`, `service`, `cache`, `database`
    /// or `queue`.
    pub kind: String,
    /// The component's name in the scenario.
    pub name: String,
    /// The highest utilisation it reached: a service's busiest time-series
    /// bucket of the measured period (busy workers, or cores, over all),
    /// a database's busiest shard in its busiest bucket, a queue's
    /// consumers over the measured period. Absent for kinds without a
    /// capacity of their own (workloads, balancers, CDN edges, caches, a
    /// queue without consumers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_utilisation: Option<f64>,
}

/// One path between two components: what went along it in the measured
/// period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyEdge {
    /// The node it leaves (an id of `nodes`).
    pub from: String,
    /// The node it reaches.
    pub to: String,
    /// What travels along it: `requests` (a workload's attempts),
    /// `origin` (a CDN edge's misses and uncached requests), `route` (a
    /// balancer's dispatches to pods), `lookup` (cache lookups), `read`,
    /// `write`, `scatter` (database statements; a scatter counts once),
    /// `publish`, `call` (a call step), `dead_letter` (messages moved to a
    /// dead-letter queue).
    pub kind: String,
    /// How many went along it in the measured period.
    pub count: u64,
    /// `count / measured_s`.
    pub rate_rps: f64,
    /// How long the step took as its sender waited for it, for the kinds
    /// that are a wait (`requests`: the client's view of ok answers;
    /// `lookup`, `read`, `write`, `scatter`, `publish`: the step, queueing
    /// included; `call`: the call step, retries and backoffs included, as
    /// `calls[].latency`). Steps that failed are not in it. Absent for
    /// `origin`, `route` and `dead_letter`. Quantiles to 2 significant
    /// digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencySummary>,
}

/// Cost of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Cost {
    /// Price of everything per hour.
    pub per_hour: f64,
    /// Price of the whole run (per hour x duration).
    pub total: f64,
    /// `total / completed requests x 1e6` (0 when none completed).
    pub per_million_requests: f64,
    /// Line items.
    pub items: Vec<CostItem>,
}

/// One line of the bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostItem {
    /// Component name.
    pub component: String,
    /// What is counted: `replica`, `shard`, `cache node`, `consumer`, ...
    pub unit: String,
    /// How many.
    pub count: f64,
    /// Price of one per hour.
    pub price_per_hour: f64,
    /// `count x price_per_hour`.
    pub per_hour: f64,
}

/// Time series: bucket `i` covers `[i * interval_s, (i + 1) * interval_s)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TimeSeries {
    /// Bucket width, seconds.
    pub interval_s: f64,
    /// Number of buckets.
    pub buckets: usize,
    /// Per workload: offered arrivals per second.
    pub workloads: Vec<WorkloadSeries>,
    /// Latency of ok responses of all endpoints, finishing in each bucket.
    pub overall_latency: Vec<LatencyPoint>,
    /// Per endpoint.
    pub endpoints: Vec<EndpointSeries>,
    /// Users' requests alone, when service calls make requests too (then
    /// the endpoints' series count both; absent without calls, where the
    /// sum of the endpoints' series is the users').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<UserSeries>,
    /// Per service.
    pub services: Vec<ServiceSeries>,
    /// Per database.
    pub databases: Vec<DbSeries>,
    /// Per cache.
    pub caches: Vec<CacheSeries>,
    /// Per queue.
    pub queues: Vec<QueueSeries>,
}

/// Users' requests over time, all endpoints together (warm-up included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSeries {
    /// Ok responses per second.
    pub ok_rps: Vec<f64>,
    /// Timeouts (and 504s) per second.
    pub timeouts_rps: Vec<f64>,
    /// Rejections (503) per second.
    pub rejected_rps: Vec<f64>,
    /// Failures in flight (502) per second.
    pub aborted_rps: Vec<f64>,
    /// Rate-limit refusals (429) per second.
    pub rate_limited_rps: Vec<f64>,
}

/// An endpoint over time (all requests, warm-up included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSeries {
    /// Endpoint name.
    pub name: String,
    /// Ok responses per second, by response time.
    pub ok_rps: Vec<f64>,
    /// Timeouts per second, by the instant the client gave up.
    pub timeouts_rps: Vec<f64>,
    /// Rejections per second.
    pub rejected_rps: Vec<f64>,
    /// Requests failed by a crashed pod per second.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aborted_rps: Vec<f64>,
    /// Requests refused by a rate limiter (HTTP 429) per second.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limited_rps: Vec<f64>,
    /// Retries sent per second (when a workload retries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries_rps: Vec<f64>,
    /// Latency of ok responses finishing in each bucket.
    pub latency: Vec<LatencyPoint>,
}

/// Engine figures (machine-dependent; ignored by comparisons).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Engine {
    /// Events processed.
    pub events: u64,
    /// Wall-clock time of the simulation, seconds.
    pub wall_time_s: f64,
    /// `events / wall_time_s`.
    pub events_per_sec: f64,
    /// Generated requests / wall second.
    pub requests_per_sec: f64,
    /// Largest number of requests and messages alive at once.
    pub peak_jobs: u64,
}

impl Results {
    /// A window's results: the component figures of `self` (taken at the
    /// window's end) with the request figures of `fin` (taken once the
    /// window's requests were answered): totals, overall, endpoints, each
    /// queue's end-to-end latency, time series, warnings and engine.
    pub fn with_requests_from(mut self, fin: Results) -> Results {
        self.totals = fin.totals;
        self.overall = fin.overall;
        self.endpoints = fin.endpoints;
        self.calls = fin.calls;
        self.topology.edges = fin.topology.edges;
        for (q, f) in self.queues.iter_mut().zip(fin.queues) {
            q.end_to_end = f.end_to_end;
        }
        self.time_series = fin.time_series;
        self.warnings = fin.warnings;
        self.engine = fin.engine;
        self
    }
}
