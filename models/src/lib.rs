//! # models: the simulated web system
//!
//! A scenario file describes workloads (traffic with a rate profile and
//! keys), load balancers, services (pods with workers and a queue, whose
//! endpoints are step programs), caches, sharded databases and queues.
//! [`scenario::load`] parses and validates it into a [`Model`];
//! [`simulate`] runs the model and returns a [`Results`] document.
//!
//! ```
//! let text = r#"{
//!   "name": "one station",
//!   "duration": "60s",
//!   "workloads": [{"name": "users", "target": "app",
//!                  "rate": [{"rps": 50}], "mix": {"get": 1}}],
//!   "services": [{"name": "app", "replicas": 1, "concurrency": 4,
//!                 "endpoints": {"get": [{"compute": {"exponential": {"mean": "20ms"}}}]}}]
//! }"#;
//! let (_, model) = models::load("example.json", text, &[]).unwrap();
//! let results = models::simulate(&model).unwrap();
//! let t = &results.totals;
//! assert_eq!(t.generated, t.completed + t.failed + t.rejected + t.in_flight);
//! ```
//!
//! Hit ratios, hot shards and queueing delays are not inputs: they emerge
//! from the keys requests carry and the capacities of the components.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod doc;
mod kernel;
mod kinds;
mod model;
pub mod scenario;
mod system;

pub use doc::{check, results, slo, sweeps};

pub use check::{
    BaselineComparison, CHECK_FORMAT_VERSION, CheckReport, CheckStatus, ObjectiveCheck,
    ScenarioCheck,
};
pub use kinds::database::sharding::ring::moved_hash_space;
pub use kinds::database::sharding::{Ring, Router, moved_between};
pub use results::{
    CacheResult, CacheSeries, CdnResult, Cost, CostItem, DbResult, DbSeries, EndpointResult,
    EndpointSeries, Engine, FORMAT_VERSION, LbResult, PartitionResult, PodResult, QueueResult,
    QueueSeries, ReplicaResult, Results, ScaleEvent, ScenarioInfo, ServiceResult, ServiceSeries,
    SessionResult, ShardResult, TimeSeries, Totals, UserTotals, UserVisibleResult, WorkloadSeries,
};
pub use scenario::{ScenarioError, ScenarioErrorKind};
pub use slo::{Objective, Window, metrics};
pub use sweeps::{
    CONFIDENCE, Check, Dimension, Estimate, Evaluated, Op, PlanResult, Slo, Status, SweepIdentity,
    SweepResult, UnstableVariant, VariantSummary, Verdict, short_number,
};
pub use system::Model;
pub use system::compile::{load, load_file};
pub use system::reshard::moved_fraction;
pub use system::scenario::{Scenario, SweepDef};
pub use system::world::{RunError, RunOutput, World, simulate};
