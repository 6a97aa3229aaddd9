//! The simulated world: one run of a [`Model`].
//!
//! A request is born at a workload with its keys, passes a load balancer
//! (if any), waits for a worker at a pod, then executes its endpoint's
//! program: compute holds the worker, a cache lookup either hits or runs
//! the miss branch and fills, reads and writes wait for a connection on the
//! shard that owns the key, a publish appends a message to a partition and
//! waits for the broker's acknowledgement. Queue consumers run their own
//! program per message. Everything is driven by one [`EventQueue`]; all
//! state lives in vectors indexed by component id, so nothing depends on
//! hash-map order or thread scheduling.
//!
//! Memory is bounded by what is in flight: requests and messages live in a
//! slab whose free slots are reused, latencies go to fixed-size HDR
//! histograms, time series hold a few numbers per bucket.

mod arrivals;
mod cache;
mod cdn;
mod clients;
mod db;
mod finish;
mod gateway;
mod pods;
mod queue;
mod sessions;
mod state;
mod traffic;

use std::time::Instant;

use sim_core::stats::{
    CountSeries, GaugeSeries, LatencyHistogram, LatencySeries, SeriesSpec, TimeWeighted,
};
use sim_core::{RngStream, SimDuration, SimTime};

use crate::doc::results::Results;
use crate::kernel::store::Store;
use crate::kinds::balancer::LbPolicy;
use crate::model::keys::KeyGen;
use crate::model::program::Instr;
use crate::system::Model;
use arrivals::Arrivals;
use state::*;

/// Jobs (requests + messages) alive at once beyond which a run stops as
/// unstable instead of eating all memory.
pub const MAX_JOBS: usize = 5_000_000;

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

/// Scheduled events. Every variant carries only indices.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ev {
    /// Workload `w` produces a request.
    Arrival(u32),
    /// Job's balancer latency elapsed: pick a pod.
    Dispatch(u32),
    /// Job's delay elapsed (compute, cache, publish ack) or it was handed
    /// a worker: continue its program.
    Resume(u32),
    /// A database statement finished (an id into `World::stmts`).
    DbDone(u32),
    /// The warm-up ends: statistics restart.
    Warmup,
    /// The observation window ends: component figures are taken now.
    WindowEnd,
    /// A pod's start-up ended: it is ready (if still in that life).
    PodReady { svc: u32, pod: u32, life: u32 },
    /// A crashed pod's container restarts (if still in that life).
    PodRestart { svc: u32, pod: u32, life: u32 },
    /// A random crash of a pod (if still in that life).
    PodCrash { svc: u32, pod: u32, life: u32 },
    /// A balancer checks its pods.
    HealthCheck(u32),
    /// A service's autoscaler decides.
    Autoscale(u32),
    /// A scheduled fault starts.
    Fault(u32),
    /// A scheduled fault's window (`for`) ends.
    FaultEnd(u32),
    /// A database shard's primary fails at random (db.rs).
    ShardDown { db: u32, shard: u32 },
    /// A randomly failed shard primary is repaired (db.rs).
    ShardUp { db: u32, shard: u32 },
    /// A cache node fails at random (cache.rs).
    CacheNodeDown { cache: u32, node: u32 },
    /// A randomly failed cache node is back, empty (cache.rs).
    CacheNodeUp { cache: u32, node: u32 },
    /// A queue's consumers, retries and rebalances (queue.rs).
    Queue(queue::QueueEv),
    /// A coalesced cache miss has waited its longest (cache.rs).
    LockTimeout(u32),
    /// A request answered at a CDN edge reaches the client (cdn.rs).
    EdgeHit(u32),
    /// A client's timeout for the attempt it sent as its `serial`-th
    /// expires (clients.rs; ignored if that attempt was settled).
    ClientTimeout { call: u32, serial: u32 },
    /// A client's backoff ended: it sends the next attempt (clients.rs).
    Retry(u32),
}

use crate::kernel::job::NONE;
pub(crate) use crate::kernel::{Cx, Job, Owner};

#[derive(Clone)]
struct WorkloadState {
    arrivals: Arrivals,
    mix_rng: RngStream,
    keys: Vec<(usize, KeyGen, RngStream)>,
    offered: CountSeries,
}

/// One run of a model.
#[derive(Clone)]
pub struct World<'m> {
    m: &'m Model,
    cx: Cx,
    workloads: Vec<WorkloadState>,
    lbs: Vec<LbState>,
    services: Vec<SvcState>,
    caches: Vec<CacheState>,
    cdns: Vec<cdn::CdnState>,
    dbs: Vec<DbState>,
    /// Database statements in flight.
    stmts: Stmts,
    topics: Vec<TopicState>,
    step_rngs: Vec<RngStream>,
    eps: Vec<EpStats>,
    overall_latency: LatencyHistogram,
    overall_series: LatencySeries,
    /// Component figures taken at the end of the observation window.
    snapshot: Option<Box<Results>>,
    /// Client state: retries, closed-loop users (clients.rs).
    clients: clients::Clients,
}

impl<'m> World<'m> {
    /// Sets up a run of `m` with master seed `seed`.
    pub fn new(m: &'m Model, seed: u64) -> Self {
        let spec = SeriesSpec {
            interval: m.interval,
            buckets: m.duration.0.div_ceil(m.interval.0) as usize,
        };
        let tw = || TimeWeighted::new(SimTime::ZERO, 0.0);
        let rng = |name: String| RngStream::new(seed, &name);
        let workloads = m
            .workloads
            .iter()
            .map(|w| WorkloadState {
                arrivals: Arrivals::of(w, rng(format!("workload/{}/arrivals", w.name))),
                mix_rng: rng(format!("workload/{}/mix", w.name)),
                keys: w
                    .keys
                    .iter()
                    .map(|(id, _, kgen)| {
                        (
                            *id,
                            kgen.clone(),
                            rng(format!("workload/{}/key/{}", w.name, m.keys[*id])),
                        )
                    })
                    .collect(),
                offered: CountSeries::new(spec),
            })
            .collect();
        let lbs = m
            .load_balancers
            .iter()
            .map(|l| LbState {
                rr: 0,
                in_flight: 0,
                tw: tw(),
                requests: 0,
                rejected: 0,
                rng: l
                    .latency
                    .as_ref()
                    .map(|_| rng(format!("lb/{}/latency", l.name))),
                views: Vec::new(),
                current: Vec::new(),
                pick_rng: matches!(l.policy, LbPolicy::Random | LbPolicy::PowerOfTwoChoices)
                    .then(|| rng(format!("lb/{}/pick", l.name))),
                ring: Vec::new(),
                scratch: Vec::new(),
                sent_to_down: 0,
                marked_down: 0,
                limiter: l.rate_limit.as_ref().map(gateway::Limiter::new),
                rate_limited: 0,
            })
            .collect();
        let services = m
            .services
            .iter()
            .enumerate()
            .map(|(si, s)| {
                let dynamic = s.autoscaling.is_some()
                    || s.failures.is_some()
                    || m.faults.iter().any(|f| {
                        matches!(f, crate::model::faults::FaultDef::KillPods { service, .. } if *service == si)
                    });
                let max = s.autoscaling.map_or(s.replicas, |a| a.max_replicas);
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
                    hpa_recs: Default::default(),
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
                        .map(|_| sessions::SessionTable::new(CountSeries::new(spec))),
                }
            })
            .collect();
        let caches = m
            .caches
            .iter()
            .enumerate()
            .map(|(ci, c)| CacheState {
                store: Store::new(c.policy, c.capacity),
                hits: 0,
                misses: 0,
                hit_rng: rng(format!("cache/{}/hit", c.name)),
                miss_rng: rng(format!("cache/{}/miss", c.name)),
                fill_rng: rng(format!("cache/{}/fill", c.name)),
                hits_series: CountSeries::new(spec),
                lookups_series: CountSeries::new(spec),
                base: (0, 0, 0),
                fetches: Default::default(),
                write_rng: rng(format!("cache/{}/write", c.name)),
                nodes: cache::node_health(m, ci, seed),
                errors: 0,
                keys_lost: 0,
            })
            .collect();
        let cdns = m.cdns.iter().map(|c| cdn::CdnState::new(c, seed)).collect();
        let dbs = m
            .databases
            .iter()
            .map(|d| DbState {
                shards: (0..d.router.shards())
                    .map(|i| Shard {
                        primary: Pool::new(),
                        reads: 0,
                        writes: 0,
                        replica_reads: 0,
                        stale_reads: 0,
                        rr: 0,
                        read_rng: rng(format!("db/{}/shard/{i}/read", d.name)),
                        write_rng: rng(format!("db/{}/shard/{i}/write", d.name)),
                        util_series: GaugeSeries::new(spec),
                        ops_series: CountSeries::new(spec),
                        replicas: (0..d.replicas)
                            .map(|r| Replica {
                                pool: Pool::new(),
                                reads: 0,
                                stale_reads: 0,
                                read_rng: rng(format!("db/{}/shard/{i}/replica/{r}/read", d.name)),
                                lag_rng: rng(format!("db/{}/shard/{i}/replica/{r}/lag", d.name)),
                                pending: Default::default(),
                                backlog: Default::default(),
                                lag_hist: Default::default(),
                            })
                            .collect(),
                        health: Health::new(
                            d.failures
                                .map(|_| rng(format!("db/{}/shard/{i}/failures", d.name))),
                        ),
                        replica_slow: SlowDowns::default(),
                        failed: 0,
                    })
                    .collect(),
            })
            .collect();
        let topics = m
            .queues
            .iter()
            .map(|q| TopicState::new(q, seed, spec))
            .collect();
        let eps = m
            .endpoints
            .iter()
            .map(|_| EpStats {
                count: 0,
                ok: 0,
                timeouts: 0,
                rejected: 0,
                latency: LatencyHistogram::new(),
                ok_series: CountSeries::new(spec),
                timeout_series: CountSeries::new(spec),
                rejected_series: CountSeries::new(spec),
                aborted: 0,
                aborted_series: CountSeries::new(spec),
                rate_limited: 0,
                rate_limited_series: CountSeries::new(spec),
                latency_series: LatencySeries::new(spec),
            })
            .collect();
        World {
            m,
            cx: Cx::new(seed, spec, m.keys.len(), m.duration.0, m.warmup.0),
            workloads,
            lbs,
            services,
            caches,
            cdns,
            dbs,
            stmts: Stmts::default(),
            topics,
            step_rngs: m
                .step_dists
                .iter()
                .map(|(_, name)| rng(name.clone()))
                .collect(),
            eps,
            overall_latency: LatencyHistogram::new(),
            overall_series: LatencySeries::new(spec),
            snapshot: None,
            clients: clients::Clients::new(m, seed, spec),
        }
    }

    /// Observes only `[from, to)`: requests (and messages) that arrive in
    /// the window are measured and followed to their answer, even past
    /// `to` (the run stops once the last of them is answered, or at the
    /// scenario's end); component figures (utilisation, shard load, hit
    /// ratios, lag, cost) cover the window. Replaces the warm-up. The
    /// random streams are those of the whole run, so the window sees
    /// exactly what the whole run sees in that period.
    pub fn window(mut self, from: SimDuration, to: SimDuration) -> Self {
        self.cx.warmup = from.0;
        self.cx.measure_end = to.0;
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
        for w in 0..self.m.workloads.len() {
            if let Some(t) = self.workloads[w]
                .arrivals
                .next(&self.m.workloads[w].profile, self.cx.end)
            {
                self.cx.q.push(SimTime(t), Ev::Arrival(w as u32));
            }
        }
        if self.cx.warmup > 0 {
            self.cx.q.push(SimTime(self.cx.warmup), Ev::Warmup);
        }
        if self.cx.measure_end < self.cx.end {
            self.cx.q.push(SimTime(self.cx.measure_end), Ev::WindowEnd);
        }
        self.schedule_lifecycle();
        self.start_users();
        while let Some(t) = self.cx.q.peek_time() {
            if t.0 > self.cx.end {
                break;
            }
            let (_, ev) = self.cx.q.pop().expect("peeked");
            match ev {
                Ev::Arrival(w) => self.arrival(w as usize),
                Ev::Dispatch(j) => self.dispatch(j),
                Ev::Resume(j) => self.run_program(j),
                Ev::DbDone(j) => self.db_done(j),
                Ev::Warmup => self.reset_stats(),
                Ev::WindowEnd => {
                    let mut at_end = self.clone();
                    at_end.cx.end = t.0;
                    self.snapshot = Some(Box::new(at_end.finish(0.0)));
                }
                Ev::PodReady { svc, pod, life } => self.pod_ready(svc as usize, pod as usize, life),
                Ev::PodRestart { svc, pod, life } => {
                    self.pod_restart(svc as usize, pod as usize, life)
                }
                Ev::PodCrash { svc, pod, life } => {
                    if self.services[svc as usize].pods[pod as usize].life == life {
                        self.crash_pod(svc as usize, pod as usize);
                    }
                }
                Ev::HealthCheck(l) => self.health_check(l as usize),
                Ev::Autoscale(s) => self.autoscale(s as usize),
                Ev::Fault(f) => self.fault(f as usize),
                Ev::FaultEnd(f) => self.fault_end(f as usize),
                Ev::ShardDown { db, shard } => self.shard_failure(db as usize, shard as usize),
                Ev::ShardUp { db, shard } => self.shard_repair(db as usize, shard as usize),
                Ev::CacheNodeDown { cache, node } => {
                    self.cache_node_failure(cache as usize, node as usize)
                }
                Ev::CacheNodeUp { cache, node } => {
                    self.cache_node_repair(cache as usize, node as usize)
                }
                Ev::Queue(e) => self.queue_event(e),
                Ev::LockTimeout(j) => self.lock_timeout(j),
                Ev::EdgeHit(j) => self.edge_hit(j),
                Ev::ClientTimeout { call, serial } => self.client_timeout(call, serial),
                Ev::Retry(c) => self.retry(c),
            }
            if self.cx.overflow {
                return Err(RunError::Unstable(self.overflow_report()));
            }
            if self.snapshot.is_some() && self.cx.measured_live == 0 {
                self.cx.end = t.0;
                break;
            }
        }
        let wall_s = wall.elapsed().as_secs_f64();
        let endpoints = self.eps.iter().map(|e| e.latency.clone()).collect();
        let overall = self.overall_latency.clone();
        let snapshot = self.snapshot.take();
        let mut results = self.finish(wall_s);
        if let Some(snap) = snapshot {
            results = snap.with_requests_from(results);
        }
        Ok(RunOutput {
            results,
            overall,
            endpoints,
        })
    }

    #[inline]
    fn now(&self) -> u64 {
        self.cx.q.now().0
    }

    // ---------------------------------------------------------------- jobs

    fn release(&mut self, j: u32) {
        debug_assert!(
            matches!(self.cx.jobs[j as usize].call, NONE | clients::SETTLED),
            "request {j} ended without telling its client (clients.rs: client_outcome)"
        );
        self.cx.release(j);
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
            self.now() as f64 / 1e9,
            worst.1,
            worst.0
        )
    }

    // ------------------------------------------------------------ programs

    /// Executes the job's program from its current instruction until it
    /// must wait (a delay, a connection) or ends.
    fn run_program(&mut self, j: u32) {
        let m = self.m;
        if self.cx.jobs[j as usize].killed {
            self.cache_abandon(j);
            self.release(j);
            return;
        }
        loop {
            let now = self.now();
            let job = self.cx.jobs[j as usize];
            let instrs = &m.programs[job.program as usize].instrs;
            let Some(ins) = instrs.get(job.pc as usize) else {
                self.program_done(j);
                return;
            };
            let next = job.pc + 1;
            let delay = match ins {
                Instr::Compute { dist } => {
                    self.cx.jobs[j as usize].pc = next;
                    m.step_dists[*dist].0.sample(&mut self.step_rngs[*dist])
                }
                Instr::CacheGet {
                    cache,
                    key,
                    skip_to,
                } => match self.cache_get(j, *cache, *key, *skip_to) {
                    Some(d) => d,
                    // Waits for another request's fetch (coalescing).
                    None => return,
                },
                Instr::CacheFill { cache, key } => self.cache_fill(j, *cache, *key),
                Instr::Read { db, key } | Instr::Write { db, key, .. } => {
                    let write = matches!(ins, Instr::Write { .. });
                    self.db_start(j, *db, *key, write);
                    return;
                }
                Instr::Scatter { db, key, shards } => {
                    self.scatter_start(j, *db, *key, *shards);
                    return;
                }
                Instr::Publish { queue, key } => {
                    self.cx.jobs[j as usize].pc = next;
                    self.publish(j, *queue, *key);
                    let def = &m.queues[*queue];
                    def.publish_latency
                        .as_ref()
                        .map_or(0, |d| d.sample(&mut self.topics[*queue].publish_rng))
                }
            };
            if delay > 0 {
                self.cx.q.push(SimTime(now + delay), Ev::Resume(j));
                return;
            }
        }
    }

    fn program_done(&mut self, j: u32) {
        let now = self.now();
        let job = self.cx.jobs[j as usize];
        match job.owner {
            Owner::Request {
                service, pod, lb, ..
            } => {
                // Through a CDN edge, the response reaches the client later.
                let edge = self.edge_response(j);
                self.answer(j, now - job.born + edge);
                self.leave_lb(lb, now);
                self.release(j);
                self.free_worker(service as usize, pod as usize);
            }
            Owner::Message { .. } => self.message_done(j),
        }
    }

    /// Counts a request's answer after `latency` (ns): ok, or a timeout
    /// if the client gave up before it.
    fn answer(&mut self, j: u32, latency: u64) {
        let now = self.now();
        let job = self.cx.jobs[j as usize];
        let Owner::Request { workload, ep, .. } = job.owner else {
            unreachable!("only requests are answered")
        };
        let timeout = self.m.workloads[workload as usize].timeout;
        let late = timeout.is_some_and(|t| latency > t.0);
        // ---- the client (clients.rs): an attempt it gave up on was
        // counted then; otherwise it may retry, or think and send again.
        let outcome = if late {
            clients::Outcome::Timeout
        } else {
            clients::Outcome::Ok { latency }
        };
        if !self.client_outcome(j, outcome) {
            return;
        }
        let e = &mut self.eps[ep as usize];
        if late {
            self.cx.ledger.failed += 1;
            e.timeout_series.add(
                SimTime(job.born.saturating_add(timeout.map_or(0, |t| t.0))),
                1.0,
            );
            if job.measured {
                e.timeouts += 1;
            }
        } else {
            self.cx.ledger.completed += 1;
            e.ok_series.add(SimTime(now), 1.0);
            e.latency_series.record(SimTime(now), latency);
            self.overall_series.record(SimTime(now), latency);
            if job.measured {
                e.ok += 1;
                e.latency.record(latency);
                self.overall_latency.record(latency);
            }
        }
    }

    /// The warm-up is over: component statistics restart from now.
    fn reset_stats(&mut self) {
        let now = SimTime(self.now());
        for l in &mut self.lbs {
            l.tw.reset(now);
            l.requests = 0;
            l.rejected = 0;
            l.rate_limited = 0;
        }
        for s in &mut self.services {
            for p in &mut s.pods {
                p.busy_tw.reset(now);
                p.queue_tw.reset(now);
                p.requests = 0;
                p.rejected = 0;
            }
            s.queued_tw.reset(now);
            s.wait_sum_ns = 0.0;
            s.wait_n = 0;
            s.ready_tw.reset(now);
            s.billed_tw.reset(now);
            s.aborted = 0;
            if let Some(t) = &mut s.sessions {
                t.restart();
            }
        }
        for c in &mut self.caches {
            c.hits = 0;
            c.misses = 0;
            c.base = c.store.counters();
            c.fetches.restart();
            c.errors = 0;
            c.keys_lost = 0;
            for n in &mut c.nodes {
                n.reset(now);
            }
        }
        for c in &mut self.cdns {
            c.restart();
        }
        for d in &mut self.dbs {
            for sh in &mut d.shards {
                sh.primary.reset(now);
                sh.reads = 0;
                sh.writes = 0;
                sh.replica_reads = 0;
                sh.stale_reads = 0;
                sh.health.reset(now);
                sh.failed = 0;
                for r in &mut sh.replicas {
                    r.pool.reset(now);
                    r.reads = 0;
                    r.stale_reads = 0;
                    r.lag_hist.reset();
                }
            }
        }
        for t in &mut self.topics {
            t.reset(now);
        }
    }
}

/// Runs `model` with its own seed.
pub fn simulate(model: &Model) -> Result<Results, RunError> {
    World::new(model, model.seed).run()
}
