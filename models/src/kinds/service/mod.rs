//! Services: the `services` section — pods with workers and a waiting
//! room, endpoints as step programs, start-up and restarts, random
//! crashes, the autoscaler and sessions.

pub mod autoscaler;
pub mod behavior;
pub mod pods;
pub mod result;
pub mod sessions;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::stats::{CountSeries, GaugeSeries, TimeWeighted};
use sim_core::{Dist, DistSpec, RngStream, SimDuration, SimTime};

use crate::kernel::Cx;
use crate::kernel::backend::Pool;
use crate::kernel::cx::Event;
use crate::kernel::kind::{Finish, Kind, ratio};
use crate::kernel::resolve::{Path, Programs, Resolve};
use crate::model::ids::{EndpointId, ProgramId, ServiceId};
use crate::model::steps::Step;
use crate::model::vocab::Failures;
use crate::scenario::ScenarioError;
pub use autoscaler::{Autoscaling, AutoscalingDef};
use behavior::History;
pub use pods::{Admit, Phase, Pod};
use result::{PodResult, ScaleEvent, ServiceResult, ServiceSeries, SessionResult};
use sessions::SessionTable;
pub use sessions::{SessionStore, Sessions, SessionsDef};

/// The section's name in the file and in the results document.
pub const SECTION: &str = "services";

/// An application service: `replicas` pods, each with `concurrency`
/// workers (or, as an event loop, cores: see [`Execution`]) and a bounded
/// FIFO queue. With threads, a worker is held for the whole
/// request, including its waits on caches, databases and queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// How a pod runs its requests: `threads` (a worker per request, held
    /// for its whole life) or `event_loop` (`concurrency` cores, held only
    /// while computing).
    #[serde(default)]
    pub execution: Execution,
    /// Event loop: requests a pod has admitted at most (beyond it they
    /// wait in its queue). Absent: no limit.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
}

/// How a service's pods run requests.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// Thread per request: a worker is held for the request's whole life,
    /// its waits on calls, caches, databases and publishes included.
    #[default]
    Threads,
    /// An event loop (Node.js, Netty, async Rust): a request holds one of
    /// the pod's `concurrency` cores only while it computes.
    EventLoop,
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
    pub endpoints: Vec<EndpointId>,
    /// Price per pod-hour.
    pub price_per_replica_hour: f64,
    /// Start-up time of a pod (None: ready at once).
    pub startup_time: Option<Dist>,
    /// Crash to restart, ns.
    pub restart_delay: u64,
    /// Random crashes: (mean ns between failures, mean ns to repair).
    pub failures: Option<(f64, f64)>,
    /// Autoscaler.
    pub autoscaling: Option<AutoscalingDef>,
    /// Session handling (external sessions' round trip is the first
    /// instruction of every endpoint program).
    pub sessions: Option<SessionsDef>,
    /// A scheduled fault kills its pods (then pods can come and go).
    pub faulted: bool,
    /// An event loop: `concurrency` is cores, held only while computing.
    pub event_loop: bool,
    /// Requests a pod runs at once: its workers (threads), or
    /// `max_in_flight` (event loop; `u32::MAX` without a limit).
    pub slots: u32,
}

/// A resolved endpoint.
#[derive(Debug, Clone)]
pub struct EndpointDef {
    /// Endpoint name.
    pub name: String,
    /// Owning service.
    pub service: ServiceId,
    /// Compiled program.
    pub program: ProgramId,
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
        eps.push(EndpointId::new(endpoints.len()));
        endpoints.push(EndpointDef {
            name: ename.clone(),
            service: ServiceId::new(index),
            program: prog,
        });
    }
    let programs_of_eps: Vec<ProgramId> = eps.iter().map(|&e| endpoints[e].program).collect();
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
    let event_loop = s.execution == Execution::EventLoop;
    let slots = match (event_loop, s.max_in_flight) {
        (false, None) => s.concurrency,
        (false, Some(_)) => {
            return Err(cx.err(
                &p.k("max_in_flight"),
                "max_in_flight bounds an event loop's requests; with threads, concurrency does (set \"execution\": \"event_loop\")",
            ));
        }
        (true, Some(0)) => {
            return Err(cx.err(&p.k("max_in_flight"), "max_in_flight must be at least 1"));
        }
        (true, m) => m.unwrap_or(u32::MAX),
    };
    Ok(ServiceDef {
        event_loop,
        slots,
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
        autoscaling: match &s.autoscaling {
            None => None,
            Some(a) => Some(autoscaler::resolve(cx, &p.k("autoscaling"), s, a)?),
        },
        faulted: false,
    })
}

/// A service's own events (pods coming and going, the autoscaler).
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// A pod's start-up ended: it is ready (if still in that life).
    PodReady {
        /// The service.
        svc: ServiceId,
        /// The pod's slot.
        pod: u32,
        /// The pod's life the event belongs to.
        life: u32,
    },
    /// A crashed pod's container restarts (if still in that life).
    PodRestart {
        /// The service.
        svc: ServiceId,
        /// The pod's slot.
        pod: u32,
        /// The pod's life the event belongs to.
        life: u32,
    },
    /// A random crash of a pod (if still in that life).
    PodCrash {
        /// The service.
        svc: ServiceId,
        /// The pod's slot.
        pod: u32,
        /// The pod's life the event belongs to.
        life: u32,
    },
    /// The service's autoscaler decides.
    Autoscale(ServiceId),
}

/// The world's events, as this kind schedules its own ([`Ev`]) and resumes
/// jobs.
pub trait Sink: Event + From<Ev> {}

impl<E: Event + From<Ev>> Sink for E {}

/// A service's pods and service-wide gauges.
#[derive(Clone)]
pub struct SvcState {
    /// Pod slots (a slot is reused when a pod goes and another comes).
    pub pods: Vec<Pod>,
    rr: usize,
    busy_total: u64,
    queued_total: u64,
    queued_tw: TimeWeighted,
    wait_sum_ns: f64,
    wait_n: u64,
    util_series: GaugeSeries,
    queue_series: GaugeSeries,
    /// Pods can come and go (autoscaling, crashes).
    dynamic: bool,
    /// An autoscaler watches it (the `hpa_*` gauges are kept).
    hpa: bool,
    /// Ready pods now.
    ready: u32,
    /// Pods paid for now (requested and not gone).
    billed: u32,
    ready_tw: TimeWeighted,
    billed_tw: TimeWeighted,
    /// Never reset: the autoscaler's view (busy workers, ready pods,
    /// waiting requests) and their integrals at its last decision.
    hpa_busy: TimeWeighted,
    hpa_ready: TimeWeighted,
    hpa_queued: TimeWeighted,
    hpa_last: (f64, f64, f64),
    /// When the autoscaler last decided, ns.
    hpa_last_at: u64,
    /// The autoscaler's recommendations and scale events.
    hpa_history: History,
    ready_series: GaugeSeries,
    billed_series: GaugeSeries,
    /// Scaling decisions: (time ns, from, to, metric per pod).
    scale_events: Vec<(u64, u32, u32, f64)>,
    startup_rng: Option<RngStream>,
    /// Requests that failed here (HTTP 502): their pod crashed or was
    /// down, or a dependency failed.
    pub aborted: u64,
    /// Who holds which session (with `sessions`).
    sessions: Option<SessionTable>,
    /// What its balancers track of its pods (told of every change of a
    /// pod's registration or load).
    pub pool: Pool,
}

impl SvcState {
    /// Workers of ready pods (at least 1, for ratios).
    #[inline]
    pub fn capacity(&self, concurrency: u32) -> f64 {
        f64::from(self.ready.max(1)) * f64::from(concurrency)
    }

    /// Pods paid for, on average over the run (for the cost).
    pub fn billed_mean(&self, def: &ServiceDef, end: SimTime) -> f64 {
        if self.dynamic {
            self.billed_tw.mean(end)
        } else {
            f64::from(def.replicas)
        }
    }

    /// Schedules what drives the service from the start: its pods'
    /// random crashes, then its autoscaler.
    pub fn schedule_start(&mut self, s: ServiceId, def: &ServiceDef, cx: &mut Cx<impl Sink>) {
        self.schedule_crashes(s, def, cx);
        if let Some(a) = &def.autoscaling {
            cx.at(SimTime::ZERO + a.sync_period, Ev::Autoscale(s));
        }
    }

    /// The service's time series.
    pub fn series(&self, def: &ServiceDef, fin: &Finish<'_>) -> ServiceSeries {
        let end = fin.end();
        ServiceSeries {
            name: def.name.clone(),
            utilisation: self.util_series.finish(end),
            queue_length: self.queue_series.finish(end),
            ready: if self.dynamic {
                self.ready_series.finish(end)
            } else {
                Vec::new()
            },
            billed: if self.dynamic {
                self.billed_series.finish(end)
            } else {
                Vec::new()
            },
            sessions_lost_per_s: self
                .sessions
                .as_ref()
                .map_or_else(Vec::new, |t| fin.per_sec(t.lost_series.values())),
        }
    }
}

impl Kind for SvcState {
    type Def = ServiceDef;
    type Result = ServiceResult;

    /// Pods start ready; their random crashes draw from
    /// `service/NAME/pod/I/failures`, start-ups from `service/NAME/startup`.
    fn start<E: Event>(def: &ServiceDef, cx: &Cx<E>) -> Self {
        let spec = cx.spec;
        let tw = || TimeWeighted::new(SimTime::ZERO, 0.0);
        let rng = |name: String| cx.stream(&name);
        let s = def;
        let dynamic = s.autoscaling.is_some() || s.failures.is_some() || s.faulted;
        let max = s
            .autoscaling
            .as_ref()
            .map_or(s.replicas, |a| a.max_replicas);
        let mut pods: Vec<Pod> = (0..s.replicas).map(|_| Pod::new(Phase::Ready)).collect();
        if s.failures.is_some() {
            for (i, p) in pods.iter_mut().enumerate() {
                p.fail_rng = Some(rng(format!("service/{}/pod/{i}/failures", s.name)));
            }
        }
        pods.reserve(max.saturating_sub(s.replicas) as usize);
        // Ready and paid-for pods over time both start at `replicas`.
        let mut pods_gauge = GaugeSeries::new(spec);
        pods_gauge.set(SimTime::ZERO, f64::from(s.replicas));
        SvcState {
            pods,
            rr: 0,
            busy_total: 0,
            queued_total: 0,
            queued_tw: tw(),
            wait_sum_ns: 0.0,
            wait_n: 0,
            util_series: GaugeSeries::new(spec),
            queue_series: GaugeSeries::new(spec),
            dynamic,
            hpa: s.autoscaling.is_some(),
            ready: s.replicas,
            billed: s.replicas,
            ready_tw: TimeWeighted::new(SimTime::ZERO, f64::from(s.replicas)),
            billed_tw: TimeWeighted::new(SimTime::ZERO, f64::from(s.replicas)),
            hpa_busy: tw(),
            hpa_ready: TimeWeighted::new(SimTime::ZERO, f64::from(s.replicas)),
            hpa_queued: tw(),
            hpa_last: (0.0, 0.0, 0.0),
            hpa_last_at: 0,
            hpa_history: History::new(s.replicas),
            ready_series: pods_gauge.clone(),
            billed_series: pods_gauge,
            scale_events: Vec::new(),
            startup_rng: s
                .startup_time
                .as_ref()
                .map(|_| rng(format!("service/{}/startup", s.name))),
            aborted: 0,
            sessions: s
                .sessions
                .map(|_| SessionTable::new(CountSeries::new(spec))),
            pool: Pool::default(),
        }
    }

    fn reset(&mut self, now: SimTime) {
        for p in &mut self.pods {
            p.busy_tw.reset(now);
            p.queue_tw.reset(now);
            p.requests = 0;
            p.rejected = 0;
        }
        self.queued_tw.reset(now);
        self.wait_sum_ns = 0.0;
        self.wait_n = 0;
        self.ready_tw.reset(now);
        self.billed_tw.reset(now);
        self.aborted = 0;
        if let Some(t) = &mut self.sessions {
            t.restart();
        }
    }

    fn finish(
        &self,
        def: &ServiceDef,
        fin: &Finish<'_>,
        warnings: &mut Vec<String>,
    ) -> ServiceResult {
        let (s, end) = (self, fin.end());
        let pods: Vec<PodResult> = s
            .pods
            .iter()
            .map(|p| PodResult {
                requests: p.requests,
                rejected: p.rejected,
                utilisation: p.busy_tw.mean(end) / f64::from(def.concurrency),
                queue_length_mean: p.queue_tw.mean(end),
            })
            .collect();
        let rejected: u64 = pods.iter().map(|p| p.rejected).sum();
        if rejected > 0 {
            warnings.push(format!(
                "service `{}`: {rejected} requests rejected by full pod queues (queue_capacity {})",
                def.name,
                def.queue_capacity.unwrap_or(0)
            ));
        }
        ServiceResult {
            name: def.name.clone(),
            replicas: def.replicas,
            concurrency: def.concurrency,
            requests: pods.iter().map(|p| p.requests).sum(),
            rejected,
            utilisation: if s.dynamic {
                // Busy workers over the workers of ready pods.
                let busy: f64 = s.pods.iter().map(|p| p.busy_tw.mean(end)).sum();
                let ready = s.ready_tw.mean(end);
                if ready > 0.0 {
                    busy / (ready * f64::from(def.concurrency))
                } else {
                    0.0
                }
            } else {
                pods.iter().map(|p| p.utilisation).sum::<f64>() / pods.len() as f64
            },
            queue_length_mean: s.queued_tw.mean(end),
            queue_length_max: s.queued_tw.max(),
            queue_wait_mean_ms: if s.wait_n == 0 {
                0.0
            } else {
                s.wait_sum_ns / s.wait_n as f64 / 1e6
            },
            aborted: s.aborted,
            ready_mean: s.ready_tw.mean(end),
            billed_mean: s.billed_tw.mean(end),
            ready_min: s.ready_tw.min(),
            ready_max: s.ready_tw.max(),
            crashes: s.pods.iter().map(|p| p.crashes).sum(),
            scaling: s
                .scale_events
                .iter()
                .map(|&(at, from, to, metric)| ScaleEvent {
                    at_s: at as f64 / 1e9,
                    from,
                    to,
                    metric,
                })
                .collect(),
            sessions: s.sessions.as_ref().zip(def.sessions).map(|(t, d)| {
                let lost = t.lost_with_pod + t.lost_to_routing;
                SessionResult {
                    store: match d.store {
                        SessionStore::Local => "local",
                        SessionStore::External => "external",
                    }
                    .to_string(),
                    key: fin.keys[d.key].clone(),
                    created: t.created,
                    resumed: t.resumed,
                    lost,
                    lost_with_pod: t.lost_with_pod,
                    lost_to_routing: t.lost_to_routing,
                    loss_rate: ratio(lost, t.resumed + lost),
                }
            }),
            pods,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::system::compile::testing::{assert_refused, base};

    /// What a service refuses: no pod, no worker, no endpoint, a bad
    /// price, start-up time or failures, a misspelt field. (Steps:
    /// `system::program`; sessions: `sessions`; the autoscaler:
    /// `autoscaler`.)
    #[test]
    fn refusals() {
        assert_refused(
            &base(),
            vec![
                (
                    "/services/0/replicas",
                    json!(0),
                    "services[0].replicas: a service needs at least 1 replica",
                ),
                (
                    "/services/0/concurrency",
                    json!(0),
                    "services[0].concurrency: a pod needs at least 1 worker",
                ),
                (
                    "/services/0/endpoints",
                    json!({}),
                    "services[0].endpoints: a service needs at least one endpoint",
                ),
                (
                    "/services/0/price_per_replica_hour",
                    json!(-1),
                    "services[0].price_per_replica_hour: a price must be a finite number >= 0, got -1",
                ),
                (
                    "/services/0/startup_time",
                    json!({ "exponential": { "mean": "0s" } }),
                    "services[0].startup_time: exponential: mean (0s) must be positive",
                ),
                (
                    "/services/0/failures",
                    json!({ "mtbf": "0s", "mttr": "1m" }),
                    "services[0].failures.mtbf: must be positive",
                ),
                (
                    "/services/0/restart_delay",
                    json!(true),
                    "services[0].restart_delay: invalid type: boolean `true`",
                ),
                (
                    "/services/0/concurency",
                    json!(4),
                    "services[0].concurency: unknown field `concurency`",
                ),
            ],
        );
    }
}
