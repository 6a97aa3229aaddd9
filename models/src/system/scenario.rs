//! The scenario file's root: one field per section.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::objectives::SloEntry;
use crate::kinds::balancer::LoadBalancer;
use crate::kinds::cache::Cache;
use crate::kinds::cdn::Cdn;
use crate::kinds::client::{RateSegment, Workload};
use crate::kinds::database::Database;
use crate::kinds::queue::Queue;
use crate::kinds::service::Service;
use crate::model::faults::Fault;

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The JSON Schema the file follows (`capsim schema` prints it), for
    /// editors; the simulator ignores it.
    #[serde(rename = "$schema", default, skip_serializing)]
    pub schema: Option<String>,
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
    /// Multiplies every open-loop rate (`rps`, `ramp_to`, diurnal `min`
    /// and `max`) and every closed-loop `users` count (rounded to the
    /// nearest integer, at least 1): "what if traffic is 30% higher" is
    /// `--set load_factor=1.3`. Positive and finite; absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_factor: Option<f64>,
    /// Named rate profiles (segments as in a workload's `rate`) that
    /// workloads share with `"rate": {"profile": NAME, "share": NUMBER}`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub profiles: IndexMap<String, Vec<RateSegment>>,
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

/// A sweep kept in the scenario file: the fields to vary and how often to
/// replicate each variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// The JSON Schema (draft 2020-12) of a scenario file, generated from the
/// types the file is read into: what `capsim schema` prints. Every closed
/// object has `additionalProperties: false`, so a misspelt field fails
/// validation in an editor as it fails `capsim validate`; what the schema
/// cannot express (references between components, ranges that depend on
/// other fields) is checked when the scenario is loaded.
pub fn scenario_schema() -> schemars::Schema {
    schemars::schema_for!(Scenario)
}

fn default_seed() -> u64 {
    1
}
