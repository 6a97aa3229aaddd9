//! The simulated world: one run of a [`Model`].
//!
//! The world holds the run's context ([`Cx`]) and one state per
//! component, in vectors indexed by id, so nothing depends on hash-map
//! order or thread scheduling. Its event loop hands each event to the
//! wiring that owns it: a request's journey (`request.rs`), the step
//! interpreter (`interpreter.rs`), or a kind's own handler.
//!
//! Memory is bounded by what is in flight: requests and messages live in a
//! slab whose free slots are reused, latencies go to fixed-size HDR
//! histograms, time series hold a few numbers per bucket.

use std::time::Instant;

use sim_core::stats::{LatencyHistogram, SeriesSpec};
use sim_core::{RngStream, SimDuration, SimTime};

use super::endpoints::Endpoints;
use super::kinds::Ev;
use super::model::Model;
use super::topology::EdgeStats;
use crate::doc::results::Results;
use crate::doc::slo::{RunObjective, metrics, samples};
use crate::kernel::Cx;
use crate::kernel::job::MAX_JOBS;
use crate::kernel::kind::Kind;
use crate::kinds::balancer::{self, LbState};
use crate::kinds::cache::{self, CacheState};
use crate::kinds::call::{self, CallState, CallTable};
use crate::kinds::cdn::{self, CdnState};
use crate::kinds::client::{self, Clients, WorkloadState};
use crate::kinds::database::{self, DbState, Stmts};
use crate::kinds::queue::Queues;
use crate::kinds::service::{self, SvcState};
use crate::model::faults::{FaultDef, FaultTarget};
use crate::model::ids::{CacheId, DbId, LbId, ProgramId, ServiceId, WorkloadId};

/// A run that could not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Work piled up without bound (an unbounded queue fed faster than it
    /// drains). Fatal for the run; the scenario needs a bound or capacity.
    #[error("unstable: {0}")]
    Unstable(String),
}

/// A run's results with the latency histograms they summarise.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The results document.
    pub results: Results,
    /// Latencies of ok responses of all endpoints (measured period).
    pub overall: LatencyHistogram,
    /// Per endpoint, in [`Model::endpoints`] order.
    pub endpoints: Vec<LatencyHistogram>,
}

/// One run of a model.
pub struct World<'m> {
    pub(super) m: &'m Model,
    pub(super) cx: Cx<Ev>,
    pub(super) workloads: Vec<WorkloadState>,
    pub(super) clients: Clients,
    pub(super) balancers: Vec<LbState>,
    pub(super) services: Vec<SvcState>,
    pub(super) endpoints: Endpoints,
    pub(super) caches: Vec<CacheState>,
    pub(super) cdns: Vec<CdnState>,
    pub(super) databases: Vec<DbState>,
    pub(super) stmts: Stmts,
    pub(super) queues: Queues<'m>,
    /// The program of each endpoint.
    pub(super) programs: Vec<ProgramId>,
    /// Streams of compute steps, per distribution.
    pub(super) steps: Vec<RngStream>,
    /// Service calls in progress.
    pub(super) calls: CallTable,
    /// Each call step's streams, budget and figures.
    pub(super) call_states: Vec<CallState>,
    /// Streams of branch steps.
    pub(super) branch_rngs: Vec<RngStream>,
    /// With propagated deadlines: the key slot of a job that holds its
    /// deadline (ns; `u64::MAX` for none), after the scenario's keys.
    pub(super) deadline_slot: Option<usize>,
    /// Some service runs an event loop (its requests take cores to compute).
    pub(super) event_loops: bool,
    /// What went along each edge of the topology.
    pub(super) edges: EdgeStats,
    /// Component figures taken at the end of the observation window.
    snapshot: Option<Box<Results>>,
    /// Told how far the run has got, every [`PROGRESS_EVERY`] events.
    progress: Option<Progress<'m>>,
}

/// How often a run reports its progress: every this many events (a power
/// of two, so that the check is a mask of the event count). At the
/// engine's tens of millions of events a second, a few hundred reports a
/// second: often enough for a progress bar, too seldom to cost anything.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// A run's progress report: called with the simulated time now and the
/// time the run ends at (both ns).
type Progress<'m> = Box<dyn FnMut(SimTime, SimTime) + Send + 'm>;

impl<'m> World<'m> {
    /// Sets up a run of `m` with master seed `seed`.
    pub fn new(m: &'m Model, seed: u64) -> Self {
        let spec = SeriesSpec {
            interval: m.interval,
            buckets: m.duration.0.div_ceil(m.interval.0) as usize,
        };
        // A job carries its deadline as one more key when a call
        // propagates deadlines (so it is copied with the keys).
        let deadlines = m.calls.iter().any(|c| c.propagate);
        let nkeys = m.keys.len() + usize::from(deadlines);
        let cx = Cx::new(
            seed,
            spec,
            nkeys,
            SimTime(m.duration.0),
            SimTime(m.warmup.0),
        );
        World {
            m,
            workloads: m
                .workloads
                .iter()
                .map(|w| WorkloadState::start(w, &m.keys, &cx))
                .collect(),
            clients: Clients::new(&m.workloads, m.endpoints.len(), nkeys, &cx),
            balancers: start_all(&m.load_balancers, &cx),
            services: start_all(&m.services, &cx),
            endpoints: Endpoints::new(m.endpoints.len(), spec, !m.calls.is_empty()),
            caches: start_all(&m.caches, &cx),
            cdns: start_all(&m.cdns, &cx),
            databases: start_all(&m.databases, &cx),
            stmts: Stmts::default(),
            queues: Queues::start(&m.queues, nkeys, &cx),
            programs: m.endpoints.iter().map(|e| e.program).collect(),
            steps: m
                .step_dists
                .iter()
                .map(|(_, name)| cx.stream(name))
                .collect(),
            calls: CallTable::default(),
            call_states: start_all(&m.calls, &cx),
            branch_rngs: m.branches.iter().map(|b| cx.stream(&b.stream)).collect(),
            deadline_slot: deadlines.then_some(m.keys.len()),
            event_loops: m.services.iter().any(|s| s.event_loop),
            edges: EdgeStats::new(&m.topology),
            snapshot: None,
            progress: None,
            cx,
        }
    }

    /// Calls `report(now, end)` every [`PROGRESS_EVERY`] events with the
    /// simulated time reached and the time the run ends at, for a progress
    /// bar. It sees the clock only: the run and its results are the same
    /// with or without it.
    pub fn progress(mut self, report: impl FnMut(SimTime, SimTime) + Send + 'm) -> Self {
        self.progress = Some(Box::new(report));
        self
    }

    /// Observes only `[from, to)`: requests (and messages) that arrive in
    /// the window are measured and followed to their answer, even past
    /// `to` (the run stops once the last of them is answered, or at the
    /// scenario's end); component figures (utilisation, shard load, hit
    /// ratios, lag, cost) cover the window. Replaces the warm-up. The
    /// random streams are those of the whole run, so the window sees
    /// exactly what the whole run sees in that period.
    pub fn window(mut self, from: SimDuration, to: SimDuration) -> Self {
        self.cx.period.warmup = SimTime(from.0);
        self.cx.period.measure_end = SimTime(to.0);
        self
    }

    /// Runs to the end and returns the results document.
    pub fn run(self) -> Result<Results, RunError> {
        self.run_full().map(|o| o.results)
    }

    /// Runs to the end and returns the results document together with the
    /// latency histograms behind it (for pooling across replications).
    pub fn run_full(mut self) -> Result<RunOutput, RunError> {
        let wall = Instant::now();
        self.start();
        while let Some(t) = self.cx.next_time() {
            if t > self.cx.period.end {
                break;
            }
            let (_, ev) = self.cx.pop().expect("peeked");
            self.on(t, ev);
            if self.cx.jobs.overflow {
                return Err(RunError::Unstable(self.overflow_report()));
            }
            if self.snapshot.is_some() && self.cx.jobs.measured_live == 0 {
                self.cx.period.end = t;
                break;
            }
            if self.cx.events() & (PROGRESS_EVERY - 1) == 0 {
                self.report_progress(t);
            }
        }
        let wall_s = wall.elapsed().as_secs_f64();
        let mut results = self.finish(self.cx.period.end, wall_s);
        let (overall, endpoints) = self.endpoints.take_histograms();
        if let Some(snap) = self.snapshot.take() {
            results = snap.with_requests_from(results);
        }
        Ok(RunOutput {
            results,
            overall,
            endpoints,
        })
    }

    /// Tells the progress report, if any, that the clock is at `t`: out of
    /// line, so that the event loop carries only the count's check.
    #[cold]
    #[inline(never)]
    fn report_progress(&mut self, t: SimTime) {
        if let Some(report) = &mut self.progress {
            report(t, self.cx.period.end);
        }
    }

    /// What is scheduled at t = 0, in this order (ties are first in, first
    /// out): every workload's first arrival, the warm-up's and the window's
    /// ends, the components' lifecycles, faults, random failures, and
    /// closed-loop users' first requests.
    fn start(&mut self) {
        let m = self.m;
        for (w, def) in m.workloads.iter().enumerate() {
            self.workloads[w].schedule_first(WorkloadId::new(w), def, &mut self.cx);
        }
        let period = self.cx.period;
        if period.warmup > SimTime::ZERO {
            self.cx.at(period.warmup, Ev::Warmup);
        }
        if period.measure_end < period.end {
            self.cx.at(period.measure_end, Ev::WindowEnd);
        }
        for (s, def) in m.services.iter().enumerate() {
            self.services[s].schedule_start(ServiceId::new(s), def, &mut self.cx);
        }
        for (l, def) in m.load_balancers.iter().enumerate() {
            self.balancers[l].schedule_start(LbId::new(l), def, &mut self.cx);
        }
        for (f, fault) in m.faults.iter().enumerate() {
            let at = match fault {
                FaultDef::KillPods { at, .. }
                | FaultDef::SlowDown { at, .. }
                | FaultDef::Outage { at, .. }
                | FaultDef::PartitionConsumers { at, .. } => *at,
            };
            self.cx.at(SimTime(at), Ev::Fault(f as u32));
        }
        for (d, def) in m.databases.iter().enumerate() {
            self.databases[d].schedule_failures(DbId::new(d), def, &mut self.cx);
        }
        for (c, def) in m.caches.iter().enumerate() {
            self.caches[c].schedule_failures(CacheId::new(c), def, &mut self.cx);
        }
        self.queues.schedule_consumer_failures(&mut self.cx);
        self.clients.start_users(&m.workloads, &mut self.cx);
    }

    /// Hands event `ev`, due at `t`, to its owner.
    #[inline(always)]
    fn on(&mut self, t: SimTime, ev: Ev) {
        let m = self.m;
        match ev {
            Ev::Resume(j) => self.run_program(j),
            Ev::Warmup => self.reset(),
            Ev::WindowEnd => self.snapshot = Some(Box::new(self.finish(t, 0.0))),
            Ev::Fault(f) => self.fault(f as usize),
            Ev::FaultEnd(f) => self.fault_end(f as usize),
            Ev::Client(e) => match e {
                client::Ev::Arrival(w) => self.arrival(w),
                client::Ev::Timeout { call, serial } => self.client_timeout(call, serial),
                client::Ev::Retry(c) => self.retry(c),
            },
            Ev::Balancer(e) => match e {
                balancer::Ev::Dispatch(j) => self.dispatch(j),
                balancer::Ev::HealthCheck(l) => {
                    let def = &m.load_balancers[l];
                    let pods = &self.services[def.service].pods;
                    self.balancers[l].health_check(l, def, pods, &mut self.cx);
                }
            },
            Ev::Service(e) => match e {
                service::Ev::PodReady { svc, pod, life } => {
                    let def = &m.services[svc];
                    let fresh =
                        self.services[svc].ready(def, svc, pod as usize, life, &mut self.cx);
                    if fresh == Some(true) {
                        // A new backend is registered as healthy.
                        for (l, d) in m.load_balancers.iter().enumerate() {
                            if d.service == svc {
                                self.balancers[l].register(pod as usize);
                            }
                        }
                    }
                }
                service::Ev::PodRestart { svc, pod, life } => {
                    self.services[svc].restart(
                        &m.services[svc],
                        svc,
                        pod as usize,
                        life,
                        &mut self.cx,
                    );
                }
                service::Ev::PodCrash { svc, pod, life } => {
                    if self.services[svc].pods[pod as usize].life == life {
                        self.crash_pod(svc, pod as usize);
                    }
                }
                service::Ev::Autoscale(s) => {
                    self.services[s].autoscale(&m.services[s], s, &mut self.cx)
                }
            },
            Ev::Cache(e) => match e {
                cache::Ev::LockTimeout(j) => self.lock_timeout(j),
                cache::Ev::NodeDown { cache, node } => {
                    self.caches[cache].node_failure(
                        cache,
                        &m.caches[cache],
                        node as usize,
                        &mut self.cx,
                    );
                }
                cache::Ev::NodeUp { cache, node } => {
                    self.caches[cache].node_repair(
                        cache,
                        &m.caches[cache],
                        node as usize,
                        &mut self.cx,
                    );
                }
            },
            Ev::Cdn(cdn::Ev::Hit(j)) => self.edge_hit(j),
            Ev::Database(e) => match e {
                database::Ev::Done(s) => self.db_done(s),
                database::Ev::ShardDown { db, shard } => {
                    let failed = self.databases[db].shard_failure(
                        db,
                        &m.databases[db],
                        &mut self.stmts,
                        shard as usize,
                        &mut self.cx,
                    );
                    self.statements_failed(failed);
                }
                database::Ev::ShardUp { db, shard } => {
                    self.databases[db].shard_repair(
                        db,
                        &m.databases[db],
                        shard as usize,
                        &mut self.cx,
                    );
                }
            },
            Ev::Queue(e) => self.queues.on(e, &mut self.cx),
            Ev::Call(e) => match e {
                call::Ev::Arrive(j) => self.call_arrive(j),
                call::Ev::Timeout { slot, tag } => self.call_timeout(slot, tag),
                call::Ev::Retry(slot) => self.call_retry(slot),
                call::Ev::Hedge { slot, tag } => self.call_hedge(slot, tag),
            },
        }
    }

    /// The warm-up is over: every component's statistics restart now.
    fn reset(&mut self) {
        let now = self.cx.now();
        reset_all(&mut self.balancers, now);
        reset_all(&mut self.services, now);
        reset_all(&mut self.caches, now);
        reset_all(&mut self.cdns, now);
        reset_all(&mut self.databases, now);
        self.queues.reset(now);
    }

    /// A scheduled fault starts.
    fn fault(&mut self, f: usize) {
        let m = self.m;
        match m.faults[f] {
            FaultDef::KillPods { service, count, .. } => {
                for pod in self.services[service].victims(count) {
                    self.crash_pod(service, pod);
                }
            }
            FaultDef::SlowDown {
                length,
                target,
                factor,
                ..
            } => {
                self.slow_down(target, factor, true);
                self.cx.after(SimDuration(length), Ev::FaultEnd(f as u32));
            }
            FaultDef::Outage { length, target, .. } => {
                self.outage(target, true);
                self.cx.after(SimDuration(length), Ev::FaultEnd(f as u32));
            }
            FaultDef::PartitionConsumers {
                queue,
                count,
                length,
                ..
            } => self.queues.partition_consumers(
                queue.ix(),
                count,
                SimDuration(length),
                &mut self.cx,
            ),
        }
    }

    /// A scheduled fault's window ends.
    fn fault_end(&mut self, f: usize) {
        match self.m.faults[f] {
            FaultDef::KillPods { .. } => {}
            FaultDef::SlowDown { target, factor, .. } => self.slow_down(target, factor, false),
            FaultDef::Outage { target, .. } => self.outage(target, false),
            // Each cut-off consumer heals on its own event.
            FaultDef::PartitionConsumers { .. } => {}
        }
    }

    /// Starts (or ends) a slow-down by `factor` of `target`.
    fn slow_down(&mut self, target: FaultTarget, factor: f64, start: bool) {
        match target {
            FaultTarget::Db { db, shard, role } => {
                self.databases[db].slow_down(shard, role, factor, start);
            }
            FaultTarget::Cache { cache, node } => {
                self.caches[cache].slow_down(node, factor, start);
            }
        }
    }

    /// Starts (or ends) an outage of `target`: the statements a primary
    /// going down held fail, shard by shard.
    fn outage(&mut self, target: FaultTarget, start: bool) {
        let m = self.m;
        match target {
            FaultTarget::Db { db, shard, .. } => {
                let range = match shard {
                    Some(s) => s as usize..s as usize + 1,
                    None => 0..self.databases[db].shards.len(),
                };
                let d = db;
                for s in range {
                    if start {
                        let failed = self.databases[db].primary_down(
                            d,
                            &m.databases[db],
                            &mut self.stmts,
                            s,
                            &self.cx,
                        );
                        self.statements_failed(failed);
                    } else {
                        self.databases[db].primary_up(s, self.cx.now());
                    }
                }
            }
            FaultTarget::Cache { cache, node } => {
                self.caches[cache].outage(&m.caches[cache], node, start, &self.cx);
            }
        }
    }

    fn overflow_report(&self) -> String {
        let mut worst = (0usize, String::new());
        for (i, s) in self.services.iter().enumerate() {
            let q: usize = s.pods.iter().map(|p| p.queue.len()).sum();
            if q > worst.0 {
                worst = (q, format!("service `{}`", self.m.services[i].name));
            }
        }
        format!(
            "more than {MAX_JOBS} requests and messages in flight at t={:.1}s (largest queue: {} with {} waiting); the arrival rate exceeds capacity — bound the queue (queue_capacity) or add capacity",
            self.cx.now().as_secs_f64(),
            worst.1,
            worst.0
        )
    }
}

/// The states of one kind's entries at t = 0, in file order.
fn start_all<K: Kind>(defs: &[K::Def], cx: &Cx<Ev>) -> Vec<K> {
    defs.iter().map(|d| K::start(d, cx)).collect()
}

/// One kind's entries restart their statistics at `now`.
fn reset_all<K: Kind>(states: &mut [K], now: SimTime) {
    for s in states {
        s.reset(now);
    }
}

/// Runs `model` with its own seed.
pub fn simulate(model: &Model) -> Result<Results, RunError> {
    World::new(model, model.seed).run()
}

/// Runs `model` with its own seed, as [`simulate`], and judges the
/// scenario's objectives on the run into [`Results::objectives`]:
/// whole-run objectives on the run's figures, windowed ones on one window
/// run per distinct window ([`World::window`], as `capsim check` does),
/// made on a second thread while the main run goes on. An objective the
/// run cannot measure (its window ends after a shortened run) is reported
/// as such, with a warning.
pub fn simulate_judged(model: &Model) -> Result<Results, RunError> {
    judged(model, World::new(model, model.seed))
}

/// [`simulate_judged`] with the main run given (`World::new(model,
/// model.seed)`, perhaps watched by a progress bar): runs it and judges
/// the model's objectives, the window runs beside it.
pub fn judged(model: &Model, main: World<'_>) -> Result<Results, RunError> {
    let windows = model.objective_windows();
    let (main, windowed) = std::thread::scope(|s| {
        let side = (!windows.is_empty()).then(|| {
            s.spawn(|| {
                windows
                    .iter()
                    .map(|w| {
                        World::new(model, model.seed)
                            .window(w.from, w.to)
                            .run()
                            .map(|r| (metrics(&r), r))
                    })
                    .collect::<Result<Vec<_>, RunError>>()
            })
        });
        let main = main.run();
        let windowed = side.map_or(Ok(Vec::new()), |h| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        });
        (main, windowed)
    });
    let mut results = main?;
    let windowed = windowed?;
    let whole = metrics(&results);
    let judged: Vec<RunObjective> = model
        .objectives
        .iter()
        .map(|o| {
            let run = match o.window {
                None => Some((&whole, &results)),
                Some(w) => windows
                    .iter()
                    .position(|x| *x == w)
                    .map(|i| (&windowed[i].0, &windowed[i].1)),
            };
            RunObjective::judge(
                o,
                run.map(|(m, _)| m),
                run.and_then(|(_, r)| samples(r, &o.slo.metric)),
            )
        })
        .collect();
    for (o, j) in model.objectives.iter().zip(judged) {
        if let Some(why) = &j.reason {
            results.warnings.push(o.not_measured_because(why));
        }
        results.objectives.push(j);
    }
    Ok(results)
}
