//! Clients' calls: timeouts, retries with exponential backoff, jitter and a
//! retry budget, and closed-loop users with think time.
//!
//! A request a user makes is a **call**; each time the client sends it is
//! an **attempt** (a job). Calls exist only in models that need them (a
//! workload with `retry` or `users`); then every request of every workload
//! has one, and plain requests keep no client state at all otherwise.
//!
//! - **Timeout.** The client gives up on an attempt at `born + timeout`
//!   (an event 1 ns later, so that an answer at exactly `timeout` is in
//!   time, as without client state). The attempt is counted as a timeout
//!   then, and the system keeps working on it — it does not know the
//!   client left; when it finishes, nothing more is counted. Abandoned
//!   attempts the servers still work on are what turns retries into a
//!   storm.
//! - **Retry.** An attempt that timed out, or was refused (503) or failed
//!   (502) or rate limited (429), is retried if `retry_on` lists that
//!   failure, fewer than `max_attempts` attempts were made and the budget
//!   allows: after a backoff the client sends a new attempt with the same
//!   endpoint and keys, through the same path (CDN edge, balancer, pod
//!   choice by its policy). The n-th retry's backoff ceiling is
//!   `min(max_interval, base_interval × multiplier^(n-1))`, drawn under it
//!   by the jitter (Brooker, "Exponential Backoff And Jitter", 2015).
//! - **Budget** (Finagle's `RetryBudget`): each call deposits 1000 units,
//!   a retry withdraws `1000 / percent_can_retry`; deposits and
//!   withdrawals count for `ttl` (a window of 10 slices, as Finagle's
//!   `WindowedAdder`), and a reserve of `min_retries_per_sec × ttl`
//!   retries never expires. A retry the budget refuses ends the call with
//!   its last attempt's outcome.
//! - **Closed loop.** Each of a workload's `users` sends a request, waits
//!   for its call to settle (answer, last failure), thinks for a draw of
//!   `think_time`, and sends the next. Users start after one draw of think
//!   time each, so they do not all send at t = 0. Users are
//!   interchangeable: a settled call schedules the next request of its
//!   workload.
//!
//! Every path on which an attempt ends reports it with
//! [`Clients::outcome`] before counting it.

use sim_core::stats::{CountSeries, LatencyHistogram, LatencySummary};
use sim_core::{RngStream, SimDuration, SimTime};

use super::Sink;
use super::{Ev, WorkloadDef};
use crate::kernel::Cx;
use crate::kernel::cx::Event;
use crate::kernel::job::{Call, Job, Reply};
use crate::kernel::ledger::UserTotals;
use crate::kernel::outcome::{Failure, Outcome};
use crate::kernel::retry::{Budget, Jitter, backoff};
use crate::model::ids::{EndpointId, JobId, WorkloadId};

/// A user's request, over all its attempts.
#[derive(Debug, Clone, Copy)]
struct ClientCall {
    /// The workload whose user made it.
    workload: WorkloadId,
    /// The first attempt as it was sent: retries are copies of it.
    first: Job,
    /// When the first attempt was sent.
    born: SimTime,
    /// Attempts sent so far.
    attempts: u32,
    /// The attempt in flight (while not backing off).
    job: JobId,
    /// Bumped whenever an attempt settles: a timeout event carries the
    /// value it was scheduled with and is stale once it differs.
    serial: u32,
    /// The last backoff, ns (decorrelated jitter starts from it).
    sleep: u64,
    live: bool,
}

/// One workload's client streams and budget.
#[derive(Debug, Clone)]
struct Workload {
    think_rng: Option<RngStream>,
    backoff_rng: Option<RngStream>,
    budget: Option<Budget>,
}

/// Measured calls by how they settled, and their retries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Calls made.
    pub requests: u64,
    /// Answered in time, at some attempt.
    pub ok: u64,
    /// The last attempt timed out.
    pub timeouts: u64,
    /// The last attempt was refused (503).
    pub rejected: u64,
    /// The last attempt failed in flight (502).
    pub aborted: u64,
    /// The last attempt was rate limited (429).
    pub rate_limited: u64,
    /// Retries sent.
    pub retries: u64,
    /// Retries the budget refused.
    pub refused: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.ok += o.ok;
        self.timeouts += o.timeouts;
        self.rejected += o.rejected;
        self.aborted += o.aborted;
        self.rate_limited += o.rate_limited;
        self.retries += o.retries;
        self.refused += o.refused;
    }
}

/// Users' view of one endpoint.
#[derive(Debug, Clone)]
struct UserStats {
    n: Counts,
    /// From the first attempt to the answer, ok calls.
    latency: LatencyHistogram,
    /// Retries sent (all, warm-up included).
    retries_series: CountSeries,
}

/// What users saw over the measured period: per endpoint and for all
/// together, their calls' outcomes, latency from the first attempt, and
/// the calls not settled at the end.
#[derive(Debug, Clone)]
pub struct UserView {
    /// Per endpoint: counts, calls in flight at the end, latency.
    pub endpoints: Vec<(Counts, u64, LatencySummary)>,
    /// All endpoints together.
    pub overall: (Counts, u64, LatencySummary),
    /// Calls over the whole run, by how they settled.
    pub totals: UserTotals,
}

/// Client state of a run: the call table (with the keys of each call's
/// attempts), each workload's streams and budget, and users' view of
/// each endpoint.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Every request has a call.
    tracked: bool,
    calls: Vec<ClientCall>,
    /// Keys of each call slot (`nkeys` per slot).
    keys: Vec<u64>,
    free: Vec<u32>,
    nkeys: usize,
    workloads: Vec<Workload>,
    /// Per endpoint (empty unless a workload retries); the users' latency
    /// of all endpoints is merged from theirs at the end.
    eps: Vec<UserStats>,
    totals: UserTotals,
}

impl Clients {
    /// The client state of a run of `defs` with `endpoints` endpoints (none
    /// unless a workload retries or is closed-loop: then no stream is
    /// created and nothing is drawn).
    pub fn new(defs: &[WorkloadDef], endpoints: usize, nkeys: usize, cx: &Cx<impl Event>) -> Self {
        let retrying = defs.iter().any(|w| w.retry.is_some());
        let tracked = retrying || defs.iter().any(|w| w.users.is_some());
        let rng = |w: &str, what: &str| cx.stream(&format!("workload/{w}/{what}"));
        Clients {
            tracked,
            calls: Vec::new(),
            keys: Vec::new(),
            free: Vec::new(),
            nkeys,
            workloads: defs
                .iter()
                .map(|w| Workload {
                    think_rng: w.users.as_ref().map(|_| rng(&w.name, "think")),
                    backoff_rng: w
                        .retry
                        .as_ref()
                        .filter(|r| r.jitter != Jitter::None)
                        .map(|_| rng(&w.name, "backoff")),
                    budget: w
                        .retry
                        .as_ref()
                        .and_then(|r| r.budget.as_ref())
                        .map(Budget::new),
                })
                .collect(),
            eps: if retrying {
                (0..endpoints)
                    .map(|_| UserStats {
                        n: Counts::default(),
                        latency: LatencyHistogram::new(),
                        retries_series: CountSeries::new(cx.spec),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            totals: UserTotals::default(),
        }
    }

    /// Retries sent per bucket, per endpoint (empty without retries).
    pub fn retries_series(&self) -> impl Iterator<Item = &[f64]> {
        self.eps.iter().map(|e| e.retries_series.values())
    }

    /// Closed-loop users start: each sends its first request after one
    /// draw of its workload's think time.
    pub fn start_users(&mut self, defs: &[WorkloadDef], cx: &mut Cx<impl Sink>) {
        for (w, def) in defs.iter().enumerate() {
            let Some(cl) = &def.users else { continue };
            let rng = self.workloads[w]
                .think_rng
                .as_mut()
                .expect("a think stream per closed-loop workload");
            for _ in 0..cl.users {
                let t = cl.think_time.sample(rng);
                if t <= cx.period.end.0 {
                    cx.at(SimTime(t), Ev::Arrival(WorkloadId::new(w)));
                }
            }
        }
    }

    /// A new request `j` of workload `w` for endpoint `ep` was just made:
    /// opens its call (in models with client state), deposits in the retry
    /// budget and sets the client's timeout.
    #[inline]
    pub fn open(
        &mut self,
        j: JobId,
        w: WorkloadId,
        ep: EndpointId,
        def: &WorkloadDef,
        cx: &mut Cx<impl Sink>,
    ) {
        if !self.tracked {
            return;
        }
        let now = cx.now();
        let first = cx.jobs[j];
        let call = ClientCall {
            workload: w,
            first,
            born: now,
            attempts: 1,
            job: j,
            serial: 0,
            sleep: def.retry.as_ref().map_or(0, |r| r.base_interval),
            live: true,
        };
        let c = match self.free.pop() {
            Some(c) => {
                let serial = self.calls[c as usize].serial;
                self.calls[c as usize] = ClientCall { serial, ..call };
                c
            }
            None => {
                self.calls.push(call);
                self.keys.resize(self.calls.len() * self.nkeys, 0);
                (self.calls.len() - 1) as u32
            }
        };
        let to = c as usize * self.nkeys;
        self.keys[to..to + self.nkeys].copy_from_slice(cx.jobs.keys(j));
        if let Some(b) = &mut self.workloads[w.ix()].budget {
            b.deposit(now.0);
        }
        self.totals.requests += 1;
        if first.measured
            && let Some(u) = self.eps.get_mut(ep.ix())
        {
            u.n.requests += 1;
        }
        set_call(&mut cx.jobs[j], Call::Open(c));
        self.set_timeout(c, def, cx);
    }

    /// Schedules the client's timeout of call `c`'s current attempt.
    fn set_timeout(&mut self, c: u32, def: &WorkloadDef, cx: &mut Cx<impl Sink>) {
        let call = &self.calls[c as usize];
        if let Some(t) = def.timeout {
            let born = cx.jobs[call.job].born;
            cx.at(
                born + t + SimDuration(1),
                Ev::Timeout {
                    call: c,
                    serial: call.serial,
                },
            );
        }
    }

    /// Attempt `j` ended with `outcome`: its client (if it keeps state)
    /// retries, or settles the call (a closed-loop user then thinks and
    /// sends again). Returns whether the attempt's outcome is to be
    /// counted: false when the client had already given up on it (it was
    /// counted as a timeout then).
    ///
    /// **Every path on which a request ends calls this before counting
    /// the outcome and releasing the job**: answers and late answers,
    /// rejections (HTTP 503), failures in flight (HTTP 502), a rate
    /// limiter's refusal (HTTP 429).
    #[inline]
    pub fn outcome(
        &mut self,
        j: JobId,
        outcome: Outcome,
        defs: &[WorkloadDef],
        cx: &mut Cx<impl Sink>,
    ) -> bool {
        let job = &mut cx.jobs[j];
        let c = match job.call() {
            None | Some(Call::Untracked) => return true,
            Some(Call::Settled) => return false,
            Some(Call::Open(c)) => c,
        };
        set_call(job, Call::Settled);
        let born = job.born;
        let w = self.calls[c as usize].workload;
        let now = cx.now();
        // When the client learns the outcome: the answer reaches it (a CDN
        // edge adds its latency after the origin answers), or its timeout
        // expires.
        let at = match outcome {
            Outcome::Ok { latency } => born + SimDuration(latency),
            Outcome::Timeout => {
                let t = defs[w].timeout.unwrap_or(SimDuration::ZERO);
                now.max(born + t + SimDuration(1))
            }
            _ => now,
        };
        self.settle(c, outcome, at, defs, cx);
        true
    }

    /// The client's timeout of call `c`'s attempt number `serial`
    /// expired: returns the attempt, now counted as a timeout by its
    /// client (the caller counts it in the ledger and its endpoint), unless
    /// that attempt settled meanwhile. The system keeps working on it.
    pub fn timeout(
        &mut self,
        c: u32,
        serial: u32,
        defs: &[WorkloadDef],
        cx: &mut Cx<impl Sink>,
    ) -> Option<JobId> {
        let call = self.calls[c as usize];
        if !call.live || call.serial != serial {
            return None; // that attempt settled meanwhile
        }
        let j = call.job;
        let job = cx.jobs[j];
        let open = job.live && job.call() == Some(Call::Open(c));
        debug_assert!(
            open,
            "attempt {j:?} of call {c} ended without telling its client (Clients::outcome)"
        );
        if !open {
            return None;
        }
        set_call(&mut cx.jobs[j], Call::Settled);
        cx.ledger.failed += 1;
        let now = cx.now();
        self.settle(c, Outcome::Timeout, now, defs, cx);
        Some(j)
    }

    /// Call `c`'s current attempt ended with `outcome`, known to the client
    /// at `at`: retry after a backoff, or settle the call.
    fn settle(
        &mut self,
        c: u32,
        outcome: Outcome,
        at: SimTime,
        defs: &[WorkloadDef],
        cx: &mut Cx<impl Sink>,
    ) {
        let now = cx.now();
        let call = &mut self.calls[c as usize];
        call.serial = call.serial.wrapping_add(1);
        let first = call.first;
        let (w, ep) = (call.workload, first.route.ep);
        let wdef = &defs[w];
        if let Some(r) = &wdef.retry
            && r.retries(outcome)
            && call.attempts < r.max_attempts
        {
            let wl = &mut self.workloads[w.ix()];
            if wl.budget.as_mut().is_none_or(|b| b.try_withdraw(now.0)) {
                let wait = backoff(r, call.attempts, &mut call.sleep, wl.backoff_rng.as_mut());
                cx.at(at + SimDuration(wait), Ev::Retry(c));
                // A measured call waiting to retry is still in the system.
                cx.jobs.measured_live += usize::from(first.measured);
                return;
            }
            cx.ledger.retries_refused_by_budget += 1;
            if first.measured {
                self.eps[ep.ix()].n.refused += 1;
            }
        }
        // Settled: what the user saw.
        let born = call.born;
        call.live = false;
        self.free.push(c);
        let t = &mut self.totals;
        match outcome {
            Outcome::Ok { .. } => t.completed += 1,
            Outcome::Timeout | Outcome::Failed(Failure::TimedOut) => t.failed += 1,
            Outcome::Failed(Failure::Rejected) => t.rejected += 1,
            Outcome::Failed(Failure::Aborted) => t.aborted += 1,
            Outcome::Failed(Failure::RateLimited) => t.rate_limited += 1,
        }
        if first.measured
            && let Some(u) = self.eps.get_mut(ep.ix())
        {
            match outcome {
                Outcome::Ok { .. } => {
                    u.n.ok += 1;
                    u.latency.record((at - born).0);
                }
                Outcome::Timeout | Outcome::Failed(Failure::TimedOut) => u.n.timeouts += 1,
                Outcome::Failed(Failure::Rejected) => u.n.rejected += 1,
                Outcome::Failed(Failure::Aborted) => u.n.aborted += 1,
                Outcome::Failed(Failure::RateLimited) => u.n.rate_limited += 1,
            }
        }
        // A closed-loop user thinks, then sends its next request.
        if let Some(users) = &wdef.users {
            let rng = self.workloads[w.ix()]
                .think_rng
                .as_mut()
                .expect("a think stream per closed-loop workload");
            let think = users.think_time.sample(rng);
            let next = at + SimDuration(think);
            if next <= cx.period.end {
                cx.at(next, Ev::Arrival(w));
            }
        }
    }

    /// Call `c`'s backoff ended: its next attempt is made, a copy of the
    /// first with the same endpoint and keys. Returns the new attempt
    /// (already counted in the ledger as generated and as a retry) and its
    /// workload, for the caller to count at its endpoint and send.
    pub fn retry(
        &mut self,
        c: u32,
        defs: &[WorkloadDef],
        cx: &mut Cx<impl Sink>,
    ) -> (JobId, WorkloadId) {
        let now = cx.now();
        let call = self.calls[c as usize];
        cx.jobs.measured_live -= usize::from(call.first.measured);
        let mut job = Job {
            born: now,
            since: now,
            edge: u32::MAX,
            ..call.first
        };
        set_call(&mut job, Call::Open(c));
        let j = cx.jobs.alloc(job);
        let from = c as usize * self.nkeys;
        cx.jobs
            .keys_mut(j)
            .copy_from_slice(&self.keys[from..from + self.nkeys]);
        let cm = &mut self.calls[c as usize];
        cm.attempts += 1;
        cm.job = j;
        let (w, ep) = (call.workload, call.first.route.ep);
        cx.ledger.generated += 1;
        cx.ledger.retries += 1;
        let u = &mut self.eps[ep.ix()];
        u.retries_series.add(now, 1.0);
        if call.first.measured {
            u.n.retries += 1;
        }
        self.set_timeout(c, &defs[w], cx);
        (j, w)
    }

    /// What users saw, when a workload retries (None otherwise: then they
    /// saw what the system saw).
    pub fn user_view(&self) -> Option<UserView> {
        if self.eps.is_empty() {
            return None;
        }
        // Calls not settled: an attempt in flight, or backing off.
        let mut in_flight = vec![0u64; self.eps.len()];
        let mut totals = self.totals.clone();
        for call in self.calls.iter().filter(|c| c.live) {
            totals.in_flight += 1;
            if call.first.measured {
                in_flight[call.first.route.ep.ix()] += 1;
            }
        }
        let mut all = Counts::default();
        let mut overall = LatencyHistogram::new();
        let endpoints = self
            .eps
            .iter()
            .zip(&in_flight)
            .map(|(u, &inf)| {
                all.add(&u.n);
                overall.merge(&u.latency);
                (u.n, inf, u.latency.summary())
            })
            .collect();
        let latency = overall.summary();
        Some(UserView {
            endpoints,
            overall: (all, in_flight.iter().sum(), latency),
            totals,
        })
    }
}

/// Sets the client call of a workload's request.
fn set_call(job: &mut Job, to: Call) {
    if let Reply::Client { call, .. } = &mut job.reply {
        *call = to;
    }
}
