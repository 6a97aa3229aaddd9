//! The validated, resolved model: what the simulator runs.
//!
//! Names are interned to indices, distributions are ready to sample, step
//! programs are compiled to flat instruction lists, durations carry units.
//! A [`Model`] is built only by [`super::compile::load`], which guarantees
//! every index is in range and every key a step uses is drawn by every
//! workload that reaches it.

use sim_core::{Dist, SimDuration};

use crate::doc::slo::{Objective, Window};
use crate::kinds::balancer::LbDef;
use crate::kinds::cache::CacheDef;
use crate::kinds::call::CallDef;
use crate::kinds::cdn::CdnDef;
use crate::kinds::client::WorkloadDef;
use crate::kinds::database::DbDef;
use crate::kinds::queue::QueueDef;
use crate::kinds::service::{EndpointDef, ServiceDef};
use crate::model::faults::FaultDef;
use crate::model::program::{BranchDef, Program};
use crate::system::topology::TopologyDef;

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
    /// Call steps, in compile order (`Instr::Call` indexes them).
    pub calls: Vec<CallDef>,
    /// Branch steps, in compile order (`Instr::Branch` indexes them).
    pub branches: Vec<BranchDef>,
    /// The `slo` section's objectives, in file order.
    pub objectives: Vec<Objective>,
    /// Scheduled faults, in file order.
    pub faults: Vec<FaultDef>,
    /// The edges between components, and which step goes along which.
    pub topology: TopologyDef,
}

impl Model {
    /// The distinct windows of the objectives a run of this length can
    /// measure, in ascending order: one window run each, in `run` (its
    /// objectives' verdicts), `check` and sweeps.
    pub fn objective_windows(&self) -> Vec<Window> {
        let set: std::collections::BTreeSet<Window> = self
            .objectives
            .iter()
            .filter(|o| o.not_measured.is_none())
            .filter_map(|o| o.window)
            .collect();
        set.into_iter().collect()
    }
}
