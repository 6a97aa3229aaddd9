//! Services: the `services` section — pods with workers and a waiting
//! room, endpoints as step programs, start-up and restarts, random
//! crashes, the autoscaler and sessions.

pub mod autoscaler;
pub mod sessions;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::{Dist, DistSpec, SimDuration};

use crate::kernel::resolve::{Path, Programs, Resolve};
use crate::model::steps::Step;
use crate::model::vocab::Failures;
use crate::scenario::ScenarioError;
pub use autoscaler::{Autoscaling, ScaleMetric};
pub use sessions::{SessionStore, Sessions, SessionsDef};

/// The section's name in the file and in the results document.
pub const SECTION: &str = "services";

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
    /// Indices into the model's endpoints.
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
    pub autoscaling: Option<Autoscaling>,
    /// Session handling (external sessions' round trip is the first
    /// instruction of every endpoint program).
    pub sessions: Option<SessionsDef>,
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

/// Checks service `index` (at `at`) and resolves it: its endpoints are
/// compiled into programs and appended to `endpoints`.
pub fn resolve(
    spec: &Service,
    at: &Path,
    index: usize,
    cx: &Resolve<'_>,
    programs: &mut dyn Programs,
    endpoints: &mut Vec<EndpointDef>,
) -> Result<ServiceDef, ScenarioError> {
    let (s, p) = (spec, at);
    if s.replicas == 0 {
        return Err(cx.err(&p.k("replicas"), "a service needs at least 1 replica"));
    }
    if s.concurrency == 0 {
        return Err(cx.err(&p.k("concurrency"), "a pod needs at least 1 worker"));
    }
    if s.endpoints.is_empty() {
        return Err(cx.err(&p.k("endpoints"), "a service needs at least one endpoint"));
    }
    let mut eps = Vec::new();
    for (ename, steps) in &s.endpoints {
        let ep = p.k("endpoints").k(ename);
        let stream = format!("service/{}/endpoint/{ename}", s.name);
        let prog = programs.compile(cx, &ep, steps, &stream, false)?;
        eps.push(endpoints.len());
        endpoints.push(EndpointDef {
            name: ename.clone(),
            service: index,
            program: prog,
        });
    }
    let programs_of_eps: Vec<usize> = eps.iter().map(|&e| endpoints[e].program).collect();
    let sessions = match &s.sessions {
        None => None,
        Some(ss) => Some(sessions::resolve(
            ss,
            &p.k("sessions"),
            &s.name,
            &programs_of_eps,
            cx,
            programs,
        )?),
    };
    Ok(ServiceDef {
        sessions,
        name: s.name.clone(),
        replicas: s.replicas,
        concurrency: s.concurrency,
        queue_capacity: s.queue_capacity,
        endpoints: eps,
        price_per_replica_hour: cx
            .price(&p.k("price_per_replica_hour"), s.price_per_replica_hour)?,
        startup_time: cx.dist_opt(&p.k("startup_time"), s.startup_time.as_ref())?,
        restart_delay: s.restart_delay.map_or(10 * sim_core::time::SECS, |d| d.0),
        failures: match s.failures {
            None => None,
            Some(f) => {
                if f.mtbf.0 == 0 {
                    return Err(cx.err(&p.k("failures").k("mtbf"), "must be positive"));
                }
                Some((f.mtbf.0 as f64, f.mttr.0 as f64))
            }
        },
        autoscaling: match s.autoscaling {
            None => None,
            Some(a) => Some(autoscaler::resolve(cx, &p.k("autoscaling"), s, a)?),
        },
    })
}
