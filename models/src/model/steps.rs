//! The steps of an endpoint's program (or of a queue consumer's work), as
//! written in the file. The step compiler (`system/program.rs`) turns them
//! into [`crate::model::program::Instr`]s.

use serde::{Deserialize, Serialize};
use sim_core::{DistSpec, SimDuration};

use super::retry::Retry;
use super::vocab::Fraction;

/// One step of an endpoint (or of a queue consumer's work).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// A request to another service's endpoint (directly or through a
    /// balancer); the step ends with its answer.
    Call(Box<CallStep>),
    /// Branches of steps started at once; the step ends when every branch
    /// has ended, or fails as soon as one fails.
    Parallel(Vec<Vec<Step>>),
    /// One of several branches of steps, drawn by weight.
    Branch(Vec<BranchArm>),
}

/// The `call` step: a request to `endpoint` of `target` (a service, or a
/// balancer in front of one), carrying the caller's key values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallStep {
    /// A service (its ready pods in turn) or a load balancer.
    pub target: String,
    /// The callee's endpoint.
    pub endpoint: String,
    /// The network round trip of each attempt (default 0).
    #[serde(default)]
    pub latency: Option<DistSpec>,
    /// Per attempt: the caller gives up after it (the callee keeps working).
    #[serde(default)]
    pub timeout: Option<SimDuration>,
    /// Retries of failed attempts (as `workloads[].retry`; the budget is
    /// this call step's own).
    #[serde(default)]
    pub retry: Option<Retry>,
    /// A circuit breaker in front of the callee (Resilience4j's
    /// count-based breaker).
    #[serde(default)]
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Hedged requests: another copy when no answer came after a while.
    #[serde(default)]
    pub hedge: Option<Hedge>,
    /// gRPC-style deadlines: an attempt's timeout is at most what is left
    /// of the caller's deadline, and the callee stops working on a request
    /// whose deadline has passed, at its next step.
    #[serde(default)]
    pub propagate_deadline: bool,
}

/// Hedged requests (Dean & Barroso, "The Tail at Scale"; Envoy's and
/// gRPC's hedging policy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hedge {
    /// Without an answer after this long, another copy goes out (and again
    /// after as long, up to `max_extra`).
    pub after: SimDuration,
    /// Extra copies per attempt (default 1).
    #[serde(default)]
    pub max_extra: Option<u32>,
}

/// A count-based circuit breaker, with Resilience4j's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Failure rate at or above which the breaker opens (default 0.5; a
    /// number or a percentage).
    #[serde(default)]
    pub failure_rate_threshold: Option<Fraction>,
    /// The last N attempts the failure rate is computed over (default 100).
    #[serde(default)]
    pub window: Option<u32>,
    /// Attempts recorded before the rate is judged (default 20).
    #[serde(default)]
    pub minimum_calls: Option<u32>,
    /// How long it stays open before letting probes through (default 60s).
    #[serde(default)]
    pub open_for: Option<SimDuration>,
    /// Probes let through when half-open (default 10).
    #[serde(default)]
    pub half_open_calls: Option<u32>,
}

/// One arm of a `branch` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchArm {
    /// Relative weight (positive; the weights need not sum to 1).
    pub weight: f64,
    /// The steps of this arm (`[]`: do nothing).
    pub steps: Vec<Step>,
}

/// The `cache` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DbStep {
    /// The database component.
    pub db: String,
    /// Routing key (default: the database's `shard_key`).
    #[serde(default)]
    pub key: Option<String>,
}

/// The `write` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "ScatterShardsText", into = "ScatterShardsText")]
pub enum ScatterShards {
    /// Every shard.
    #[default]
    All,
    /// This many consecutive shards, starting at the key's shard.
    Count(u32),
}

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishStep {
    /// The queue component.
    pub queue: String,
    /// Partition key (default: the queue's `partition_key`).
    #[serde(default)]
    pub key: Option<String>,
}
