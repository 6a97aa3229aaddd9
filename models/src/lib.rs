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
//! let (_, model) = models::scenario::load("example.json", text, &[]).unwrap();
//! let results = models::simulate(&model).unwrap();
//! let t = &results.totals;
//! assert_eq!(t.generated, t.completed + t.failed + t.rejected + t.in_flight);
//! ```
//!
//! Hit ratios, hot shards and queueing delays are not inputs: they emerge
//! from the keys requests carry and the capacities of the components.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod check;
pub mod keys;
pub mod model;
pub mod results;
pub mod scenario;
pub mod sharding;
pub mod slo;
pub mod sweeps;
pub mod world;

pub use check::{
    BaselineComparison, CHECK_FORMAT_VERSION, CheckReport, CheckStatus, ObjectiveCheck,
    ScenarioCheck,
};
pub use model::Model;
pub use results::{
    CacheResult, CacheSeries, CdnResult, Cost, CostItem, DbResult, DbSeries, EndpointResult,
    EndpointSeries, Engine, FORMAT_VERSION, LbResult, PartitionResult, PodResult, QueueResult,
    QueueSeries, ReplicaResult, Results, ScaleEvent, ScenarioInfo, ServiceResult, ServiceSeries,
    SessionResult, ShardResult, TimeSeries, Totals, UserTotals, UserVisibleResult, WorkloadSeries,
};
pub use scenario::{Scenario, ScenarioError, ScenarioErrorKind, load, load_file};
pub use sharding::ring::moved_hash_space;
pub use sharding::{Ring, Router, moved_between, moved_fraction};
pub use slo::{Objective, Window, metrics};
pub use sweeps::{
    CONFIDENCE, Check, Dimension, Estimate, Evaluated, Op, PlanResult, Slo, Status, SweepIdentity,
    SweepResult, UnstableVariant, VariantSummary, Verdict, short_number,
};
pub use world::{RunError, RunOutput, World, simulate};
