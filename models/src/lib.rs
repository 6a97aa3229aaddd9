//! # models: the simulated web system
//!
//! A scenario file describes workloads (traffic with a rate profile and
//! keys), load balancers, services (pods with workers and a queue, whose
//! endpoints are step programs), caches, CDN edges, sharded databases and
//! queues. [`load`] parses and validates it into a [`Model`]; [`simulate`]
//! (or a [`World`], for an observation window) runs the model and returns
//! a [`Results`] document.
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
//!
//! ## The layout
//!
//! Every file knows one kind of component, or none, except the few places
//! that must list them all. Dependencies point one way:
//!
//! | folder | what it holds | knows kinds? |
//! |---|---|---|
//! | `scenario/` | the file machinery: parsing with located errors, `--set` overrides, the error type | no |
//! | `model/` | shared vocabulary: typed ids, keys, steps and programs, faults | no |
//! | `kernel/` | what kinds build on: the run's context `Cx` (clock and event queue, the job slab, the ledger; generic over the world's event type), jobs and their `Reply`, the `Kind` trait, `Resolve` (errors, names, keys), failures, the key store | no |
//! | `kinds/` | one folder (or file) per kind: its section of the file, its resolution and refusal cases, its state and events, its section of the results | its own only |
//! | `doc/` | the documents' roots: results, sweeps and plans, checks, objectives | the results root lists them |
//! | `system/` | the wiring: the compile driver, the step compiler, the event registry, the world and its loop, a request's journey, the step interpreter, the finish | all |
//!
//! ## How one request flows
//!
//! Two files tell the whole story: `system/request.rs` (the journey) and
//! `system/interpreter.rs` (what each step does). A request is born at a
//! workload (`kinds/client`: its arrival process, its endpoint and key
//! draws), opens a call with its client when the workload retries or has
//! closed-loop users, and is sent: a CDN edge may answer it
//! (`kinds/cdn.rs`), a gateway's token bucket may refuse it with a 429
//! (`kinds/balancer/gateway.rs`), a balancer takes a connection and picks a pod by
//! its policy (`kinds/balancer/policy/`), and the pod runs it, queues it or
//! refuses it (`kinds/service/pods.rs`). Its program runs one instruction
//! at a time: compute holds the worker, a cache lookup hits or misses
//! (and may wait for another request's fetch, `kinds/cache/sim.rs`), reads
//! and writes become statements on the shard that owns the key
//! (`kinds/database/sim.rs`), a publish appends a message that a
//! consumer group works on later (`kinds/queue/group.rs`). When the program
//! ends, the answer goes back to whoever the job's `Reply` names — its
//! client (which may retry after a backoff, `kinds/client/calls.rs`), a
//! parent job that called it, or the queue consumer whose message it
//! was — and every path on which a request ends is counted once in the
//! ledger and at its endpoint (`system/endpoints.rs`).
//!
//! Everything happens on one event queue ordered by (time, scheduling
//! order): ties are first in, first out, so the same scenario and seed give
//! the same results, byte for byte. Random numbers come from streams named
//! after the component and its purpose (`cache/NAME/hit`), so adding a
//! component shifts no one else's draws.
//!
//! ## How to add a component kind
//!
//! 1. `kinds/<kind>.rs` (or a folder): the section's serde spec
//!    (`deny_unknown_fields`), the resolved `Def` and its `resolve`
//!    function (errors through `Resolve`, refusal cases as unit tests
//!    beside it), the state implementing `kernel::kind::Kind` (`start`,
//!    `reset`, `finish` into its results type), its events as an enum
//!    `Ev` with a `Sink` bound (`Event + From<Ev>`) for the contexts it
//!    schedules into, and the operations the journey or the interpreter
//!    call, as methods that take the kind's `Def` and a `&mut Cx<impl
//!    Sink>` and return outcomes. A kind never imports another kind: a
//!    test (`tests/layering.rs`) holds the layering to that.
//! 2. One line in `kinds/mod.rs`; one variant and one `kind_events!` line
//!    in `system/kinds.rs`, the registry of events.
//! 3. One field in each root: `system/scenario.rs` (the file),
//!    `system/model.rs` (the resolved model), `system/world.rs` (the run,
//!    with its `start_all`/`reset_all` lines and its events' dispatch) and
//!    `doc/results.rs` (the document), and its resolve loop in
//!    `system/compile.rs` at its place in the order of checks.
//! 4. Where requests meet it: a step (`model/steps.rs`, `model/program.rs`,
//!    one compile arm in `system/program.rs` and one arm in
//!    `system/interpreter.rs`) or a stop on the journey
//!    (`system/request.rs`).
//!
//! The unit test `kernel::kind::tests` writes such a kind from scratch.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod doc;
mod kernel;
mod kinds;
mod model;
mod scenario;
mod system;

pub use doc::check::{
    BaselineComparison, CHECK_FORMAT_VERSION, CheckReport, CheckStatus, ObjectiveCheck,
    ScenarioCheck,
};
pub use doc::results::{
    CacheResult, CacheSeries, CallResult, CdnResult, Cost, CostItem, DbResult, DbSeries,
    EndpointResult, EndpointSeries, Engine, FORMAT_VERSION, LbResult, PartitionResult, PodResult,
    QueueResult, QueueSeries, ReplicaResult, Results, ScaleEvent, ScenarioInfo, ServiceResult,
    ServiceSeries, SessionResult, ShardResult, TimeSeries, Topology, TopologyEdge, TopologyNode,
    Totals, UserSeries, UserTotals, UserVisibleResult, WorkloadSeries,
};
pub use doc::slo::{
    Objective, RunObjective, RunVerdict, Window, metrics, samples, split_windowed, unmeasured,
    unmeasured_in, unmeasured_reason, windowed,
};
pub use doc::sweeps::{
    CONFIDENCE, Check, Dimension, Estimate, Evaluated, InferredVariant, Op, PairedComparison,
    PlanResult, Slo, Status, SweepIdentity, SweepResult, UnstableVariant, VariantSummary, Verdict,
    short_number,
};
// The key store, for benches/store.rs.
pub use kernel::store::lru::Lookup;
pub use kernel::store::{EvictionPolicy, Store};
pub use kinds::database::sharding::ring::moved_hash_space;
pub use kinds::database::sharding::{Ring, Router, moved_between};
pub use scenario::{
    Location, PathSeg, ScenarioError, ScenarioErrorKind, decode, parse_text, read_file,
};
pub use system::Model;
pub use system::compile::{load, load_file, load_value, load_within};
pub use system::limits::{
    DEFAULT_MAX_MEMORY, DEFAULT_MAX_REQUESTS, Limits, MemoryEstimate, memory_estimate, size,
};
pub use system::printable::{is_unprintable, printable, printable_lines};
pub use system::reshard::moved_fraction;
pub use system::scenario::{Scenario, SweepDef, scenario_schema};
pub use system::world::{
    PROGRESS_EVERY, RunError, RunOutput, World, judged, simulate, simulate_judged,
};
