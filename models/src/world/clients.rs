//! Clients: timeouts, retries with exponential backoff, jitter and a retry
//! budget, and closed-loop users with think time.
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
//! `World::client_outcome` before counting it.

use sim_core::stats::{CountSeries, LatencyHistogram, SeriesSpec};
use sim_core::{RngStream, SimTime};

use super::{Ev, Job, NONE, Owner, World};
use crate::doc::results::{EndpointResult, UserTotals, UserVisibleResult};
use crate::kinds::client::BudgetDef;
use crate::kinds::client::Jitter;
use crate::kinds::client::RetryDef;
use crate::system::Model;

/// [`Job::call`] of an attempt whose outcome its client already has: it
/// timed out, and the system still works on it.
pub(super) const SETTLED: u32 = u32::MAX - 1;

/// How an attempt ended, as its client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered in time; `latency` is the attempt's, ns.
    Ok {
        /// From sending the attempt to the answer, ns.
        latency: u64,
    },
    /// The client's timeout expired first.
    Timeout,
    /// Refused: a full queue, a balancer's connection limit, no ready pod
    /// (HTTP 503).
    Rejected,
    /// Failed in flight: its pod crashed, or a dependency failed (HTTP 502).
    Aborted,
    /// Refused by a rate limiter (HTTP 429).
    RateLimited,
}

impl Outcome {
    fn retried_by(self, r: &RetryDef) -> bool {
        match self {
            Outcome::Ok { .. } => false,
            Outcome::Timeout => r.on_timeout,
            Outcome::Rejected => r.on_503,
            Outcome::Aborted => r.on_502,
            Outcome::RateLimited => r.on_429,
        }
    }
}

/// A user's request, over all its attempts.
#[derive(Debug, Clone, Copy)]
struct Call {
    /// The first attempt as it was sent: retries are copies of it.
    first: Job,
    /// When the first attempt was sent, ns.
    born: u64,
    /// Attempts sent so far.
    attempts: u32,
    /// The attempt in flight (while not backing off).
    job: u32,
    /// Bumped whenever an attempt settles: a timeout event carries the
    /// value it was scheduled with and is stale once it differs.
    serial: u32,
    /// The last backoff, ns (decorrelated jitter starts from it).
    sleep: u64,
    live: bool,
}

/// Finagle's token retry budget over a sliding window of 10 slices.
#[derive(Debug, Clone)]
struct Budget {
    slice: u64,
    /// Index of the current slice (time / slice).
    cur: u64,
    slices: [i64; 10],
    reserve: i64,
    withdrawal: i64,
    /// Units a request deposits: [`DEPOSIT`], or 0 when no percentage may
    /// retry (only the reserve pays, as Finagle's budget at 0%).
    deposit: i64,
}

/// Units a call deposits (Finagle's scale factor).
const DEPOSIT: i64 = 1000;

impl Budget {
    fn new(d: &BudgetDef) -> Self {
        let (withdrawal, deposit) = if d.percent_can_retry == 0.0 {
            (DEPOSIT, 0)
        } else {
            ((DEPOSIT as f64 / d.percent_can_retry) as i64, DEPOSIT)
        };
        Budget {
            slice: (d.ttl / 10).max(1),
            cur: 0,
            slices: [0; 10],
            reserve: (d.min_retries_per_sec * d.ttl as f64 / 1e9 * withdrawal as f64) as i64,
            withdrawal,
            deposit,
        }
    }

    /// Expires the slices older than the window ending at `now`.
    fn advance(&mut self, now: u64) {
        let s = now / self.slice;
        if s > self.cur {
            for k in 1..=(s - self.cur).min(10) {
                self.slices[((self.cur + k) % 10) as usize] = 0;
            }
            self.cur = s;
        }
    }

    fn deposit(&mut self, now: u64) {
        self.advance(now);
        self.slices[(self.cur % 10) as usize] += self.deposit;
    }

    /// Takes one retry's worth if the balance allows.
    fn try_withdraw(&mut self, now: u64) -> bool {
        self.advance(now);
        let balance = self.slices.iter().sum::<i64>() + self.reserve;
        if balance >= self.withdrawal {
            self.slices[(self.cur % 10) as usize] -= self.withdrawal;
            true
        } else {
            false
        }
    }
}

/// One workload's client state.
#[derive(Debug, Clone)]
struct Workload {
    think_rng: Option<RngStream>,
    backoff_rng: Option<RngStream>,
    budget: Option<Budget>,
}

/// Measured calls by how they settled, and their retries.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    requests: u64,
    ok: u64,
    timeouts: u64,
    rejected: u64,
    aborted: u64,
    rate_limited: u64,
    retries: u64,
    refused: u64,
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

/// Client state of a run.
#[derive(Debug, Clone)]
pub(super) struct Clients {
    /// Every request has a call.
    tracked: bool,
    calls: Vec<Call>,
    /// Keys of each call slot (`nkeys` per slot).
    keys: Vec<u64>,
    free: Vec<u32>,
    nkeys: usize,
    workloads: Vec<Workload>,
    /// Per endpoint (empty unless a workload retries).
    eps: Vec<UserStats>,
    /// Users' latency, all endpoints (with `eps`).
    overall: Option<LatencyHistogram>,
    totals: UserTotals,
}

impl Clients {
    /// The client state of a run of `m` (none unless a workload retries or
    /// is closed-loop: then no stream is created and nothing is drawn).
    pub(super) fn new(m: &Model, seed: u64, spec: SeriesSpec) -> Self {
        let retrying = m.workloads.iter().any(|w| w.retry.is_some());
        let tracked = retrying || m.workloads.iter().any(|w| w.users.is_some());
        let rng = |w: &str, what: &str| RngStream::new(seed, &format!("workload/{w}/{what}"));
        Clients {
            tracked,
            calls: Vec::new(),
            keys: Vec::new(),
            free: Vec::new(),
            nkeys: m.keys.len(),
            workloads: m
                .workloads
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
                m.endpoints
                    .iter()
                    .map(|_| UserStats {
                        n: Counts::default(),
                        latency: LatencyHistogram::new(),
                        retries_series: CountSeries::new(spec),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            overall: retrying.then(LatencyHistogram::new),
            totals: UserTotals::default(),
        }
    }

    /// Retries sent per bucket, per endpoint (empty without retries).
    pub(super) fn retries_series(&self) -> impl Iterator<Item = &[f64]> {
        self.eps.iter().map(|e| e.retries_series.values())
    }
}

/// The n-th retry's backoff (n ≥ 1), ns; `sleep` is the previous one.
fn backoff(r: &RetryDef, n: u32, sleep: &mut u64, rng: Option<&mut RngStream>) -> u64 {
    let base = r.base_interval as f64;
    let max = r.max_interval as f64;
    let ceiling = (base * r.multiplier.powi(n.saturating_sub(1) as i32)).min(max);
    let mut rng = rng;
    let mut u = || {
        rng.as_deref_mut()
            .expect("a backoff stream for a jittered backoff")
            .unit()
    };
    let wait = match r.jitter {
        Jitter::None => ceiling,
        Jitter::Full => u() * ceiling,
        Jitter::Equal => ceiling / 2.0 + u() * ceiling / 2.0,
        Jitter::Decorrelated => {
            let hi = (*sleep as f64 * 3.0).max(base);
            (base + u() * (hi - base)).min(max)
        }
    };
    *sleep = wait.round() as u64;
    *sleep
}

impl World<'_> {
    /// Closed-loop users start: each sends its first request after one
    /// draw of its workload's think time.
    pub(super) fn start_users(&mut self) {
        let m = self.m;
        for (w, def) in m.workloads.iter().enumerate() {
            let Some(cl) = &def.users else { continue };
            let rng = self.clients.workloads[w]
                .think_rng
                .as_mut()
                .expect("a think stream per closed-loop workload");
            for _ in 0..cl.users {
                let t = cl.think_time.sample(rng);
                if t <= self.cx.end {
                    self.cx.q.push(SimTime(t), Ev::Arrival(w as u32));
                }
            }
        }
    }

    /// A new request `j` of workload `w` for endpoint `ep` was just made:
    /// opens its call (in models with client state), deposits in the retry
    /// budget and sets the client's timeout.
    pub(super) fn open_call(&mut self, j: u32, w: usize, ep: usize) {
        if !self.clients.tracked {
            return;
        }
        let now = self.now();
        let first = self.cx.jobs[j as usize];
        let cl = &mut self.clients;
        let call = Call {
            first,
            born: now,
            attempts: 1,
            job: j,
            serial: 0,
            sleep: self.m.workloads[w]
                .retry
                .as_ref()
                .map_or(0, |r| r.base_interval),
            live: true,
        };
        let c = match cl.free.pop() {
            Some(c) => {
                let serial = cl.calls[c as usize].serial;
                cl.calls[c as usize] = Call { serial, ..call };
                c
            }
            None => {
                cl.calls.push(call);
                cl.keys.resize(cl.calls.len() * cl.nkeys, 0);
                (cl.calls.len() - 1) as u32
            }
        };
        let (from, to) = (j as usize * self.cx.nkeys, c as usize * self.cx.nkeys);
        cl.keys[to..to + self.cx.nkeys]
            .copy_from_slice(&self.cx.job_keys[from..from + self.cx.nkeys]);
        if let Some(b) = &mut cl.workloads[w].budget {
            b.deposit(now);
        }
        cl.totals.requests += 1;
        if first.measured
            && let Some(u) = cl.eps.get_mut(ep)
        {
            u.n.requests += 1;
        }
        self.cx.jobs[j as usize].call = c;
        self.set_client_timeout(c);
    }

    /// Schedules the client's timeout of call `c`'s current attempt.
    fn set_client_timeout(&mut self, c: u32) {
        let call = &self.clients.calls[c as usize];
        let Owner::Request { workload, .. } = call.first.owner else {
            unreachable!("calls are requests")
        };
        if let Some(t) = self.m.workloads[workload as usize].timeout {
            let born = self.cx.jobs[call.job as usize].born;
            self.cx.q.push(
                SimTime(born.saturating_add(t.0).saturating_add(1)),
                Ev::ClientTimeout {
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
    /// the outcome and releasing the job**: answers and late answers
    /// (`answer`), rejections (`reject`, HTTP 503), failures in flight
    /// (`count_abort`, HTTP 502), a rate limiter's refusal (HTTP 429,
    /// [`Outcome::RateLimited`]).
    pub(super) fn client_outcome(&mut self, j: u32, outcome: Outcome) -> bool {
        let c = self.cx.jobs[j as usize].call;
        if c == NONE {
            return true;
        }
        if c == SETTLED {
            return false;
        }
        let job = self.cx.jobs[j as usize];
        self.cx.jobs[j as usize].call = SETTLED;
        let Owner::Request { workload, .. } = job.owner else {
            unreachable!("calls are requests")
        };
        let now = self.now();
        // When the client learns the outcome: the answer reaches it (a CDN
        // edge adds its latency after the origin answers), or its timeout
        // expires.
        let at = match outcome {
            Outcome::Ok { latency } => job.born + latency,
            Outcome::Timeout => {
                let t = self.m.workloads[workload as usize]
                    .timeout
                    .map_or(0, |t| t.0);
                now.max(job.born.saturating_add(t).saturating_add(1))
            }
            _ => now,
        };
        self.settle(c, outcome, at);
        true
    }

    /// Counts request `j` refused or failed (`Rejected`, `Aborted` or
    /// `RateLimited`) in the ledger and its endpoint — unless its client
    /// had already given up on it — after telling the client, which may
    /// retry. The caller releases the job.
    pub(super) fn count_failure(&mut self, j: u32, outcome: Outcome) {
        let now = self.now();
        let job = self.cx.jobs[j as usize];
        let Owner::Request { ep, .. } = job.owner else {
            unreachable!("only requests have clients")
        };
        if !self.client_outcome(j, outcome) {
            return;
        }
        let e = &mut self.eps[ep as usize];
        let (ledger, series, count) = match outcome {
            Outcome::Rejected => (
                &mut self.cx.ledger.rejected,
                &mut e.rejected_series,
                &mut e.rejected,
            ),
            Outcome::Aborted => (
                &mut self.cx.ledger.aborted,
                &mut e.aborted_series,
                &mut e.aborted,
            ),
            Outcome::RateLimited => (
                &mut self.cx.ledger.rate_limited,
                &mut e.rate_limited_series,
                &mut e.rate_limited,
            ),
            Outcome::Ok { .. } | Outcome::Timeout => {
                unreachable!("answers are counted by `answer`")
            }
        };
        *ledger += 1;
        series.add(SimTime(now), 1.0);
        if job.measured {
            *count += 1;
        }
    }

    /// The client's timeout of call `c`'s attempt number `serial` expired.
    pub(super) fn client_timeout(&mut self, c: u32, serial: u32) {
        let call = self.clients.calls[c as usize];
        if !call.live || call.serial != serial {
            return; // that attempt settled meanwhile
        }
        let j = call.job;
        let job = self.cx.jobs[j as usize];
        debug_assert!(
            job.live && job.call == c,
            "attempt {j} of call {c} ended without telling its client (client_outcome)"
        );
        if !(job.live && job.call == c) {
            return;
        }
        // The attempt is a timeout now; the system keeps working on it.
        self.cx.jobs[j as usize].call = SETTLED;
        let Owner::Request { workload, ep, .. } = job.owner else {
            unreachable!("calls are requests")
        };
        let t = self.m.workloads[workload as usize]
            .timeout
            .map_or(0, |t| t.0);
        self.cx.ledger.failed += 1;
        let e = &mut self.eps[ep as usize];
        e.timeout_series
            .add(SimTime(job.born.saturating_add(t)), 1.0);
        if job.measured {
            e.timeouts += 1;
        }
        let now = self.now();
        self.settle(c, Outcome::Timeout, now);
    }

    /// Call `c`'s current attempt ended with `outcome`, known to the client
    /// at `at`: retry after a backoff, or settle the call.
    fn settle(&mut self, c: u32, outcome: Outcome, at: u64) {
        let m = self.m;
        let now = self.now();
        let cl = &mut self.clients;
        let call = &mut cl.calls[c as usize];
        call.serial = call.serial.wrapping_add(1);
        let first = call.first;
        let Owner::Request { workload, ep, .. } = first.owner else {
            unreachable!("calls are requests")
        };
        let (w, ep) = (workload as usize, ep as usize);
        let wdef = &m.workloads[w];
        if let Some(r) = &wdef.retry
            && outcome.retried_by(r)
            && call.attempts < r.max_attempts
        {
            let wl = &mut cl.workloads[w];
            if wl.budget.as_mut().is_none_or(|b| b.try_withdraw(now)) {
                let wait = backoff(r, call.attempts, &mut call.sleep, wl.backoff_rng.as_mut());
                self.cx
                    .q
                    .push(SimTime(at.saturating_add(wait)), Ev::Retry(c));
                // A measured call waiting to retry is still in the system.
                self.cx.measured_live += usize::from(first.measured);
                return;
            }
            self.cx.ledger.retries_refused_by_budget += 1;
            if first.measured {
                cl.eps[ep].n.refused += 1;
            }
        }
        // Settled: what the user saw.
        let born = call.born;
        call.live = false;
        cl.free.push(c);
        let t = &mut cl.totals;
        match outcome {
            Outcome::Ok { .. } => t.completed += 1,
            Outcome::Timeout => t.failed += 1,
            Outcome::Rejected => t.rejected += 1,
            Outcome::Aborted => t.aborted += 1,
            Outcome::RateLimited => t.rate_limited += 1,
        }
        if first.measured
            && let Some(u) = cl.eps.get_mut(ep)
        {
            match outcome {
                Outcome::Ok { .. } => {
                    u.n.ok += 1;
                    u.latency.record(at - born);
                    if let Some(h) = &mut cl.overall {
                        h.record(at - born);
                    }
                }
                Outcome::Timeout => u.n.timeouts += 1,
                Outcome::Rejected => u.n.rejected += 1,
                Outcome::Aborted => u.n.aborted += 1,
                Outcome::RateLimited => u.n.rate_limited += 1,
            }
        }
        // A closed-loop user thinks, then sends its next request.
        if let Some(users) = &wdef.users {
            let rng = cl.workloads[w]
                .think_rng
                .as_mut()
                .expect("a think stream per closed-loop workload");
            let think = users.think_time.sample(rng);
            let next = at.saturating_add(think);
            if next <= self.cx.end {
                self.cx.q.push(SimTime(next), Ev::Arrival(w as u32));
            }
        }
    }

    /// Call `c`'s backoff ended: its next attempt goes out, a copy of the
    /// first with the same endpoint and keys.
    pub(super) fn retry(&mut self, c: u32) {
        let now = self.now();
        let call = self.clients.calls[c as usize];
        self.cx.measured_live -= usize::from(call.first.measured);
        let j = self.cx.alloc(Job {
            born: now,
            wait_from: now,
            call: c,
            ..call.first
        });
        let (from, to) = (c as usize * self.cx.nkeys, j as usize * self.cx.nkeys);
        self.cx.job_keys[to..to + self.cx.nkeys]
            .copy_from_slice(&self.clients.keys[from..from + self.cx.nkeys]);
        let cm = &mut self.clients.calls[c as usize];
        cm.attempts += 1;
        cm.job = j;
        let Owner::Request { workload, ep, .. } = call.first.owner else {
            unreachable!("calls are requests")
        };
        let (w, ep) = (workload as usize, ep as usize);
        self.cx.ledger.generated += 1;
        self.cx.ledger.retries += 1;
        let u = &mut self.clients.eps[ep];
        u.retries_series.add(SimTime(now), 1.0);
        if call.first.measured {
            u.n.retries += 1;
            self.eps[ep].count += 1;
        }
        self.set_client_timeout(c);
        self.send(j, w, ep);
    }

    /// Fills the retry counts and what users saw into the endpoints, the
    /// overall figures and the ledger, at the end of the run.
    pub(super) fn client_results(
        &mut self,
        endpoints: &mut [EndpointResult],
        overall: &mut EndpointResult,
    ) {
        let cl = &self.clients;
        if cl.eps.is_empty() {
            return;
        }
        // Calls not settled: an attempt in flight, or backing off.
        let mut in_flight = vec![0u64; cl.eps.len()];
        let mut totals = cl.totals.clone();
        for call in cl.calls.iter().filter(|c| c.live) {
            totals.in_flight += 1;
            if call.first.measured
                && let Owner::Request { ep, .. } = call.first.owner
            {
                in_flight[ep as usize] += 1;
            }
        }
        let mut all = Counts::default();
        for (e, (u, &inf)) in endpoints.iter_mut().zip(cl.eps.iter().zip(&in_flight)) {
            e.retries = u.n.retries;
            e.retries_refused_by_budget = u.n.refused;
            e.user_visible = Some(user_visible(&u.n, inf, e.count, u.latency.summary()));
            all.add(&u.n);
        }
        overall.retries = all.retries;
        overall.retries_refused_by_budget = all.refused;
        let latency = cl.overall.as_ref().map(|h| h.summary()).unwrap_or_default();
        overall.user_visible = Some(user_visible(
            &all,
            in_flight.iter().sum(),
            overall.count,
            latency,
        ));
        self.cx.ledger.user_visible = Some(totals);
    }
}

fn user_visible(
    u: &Counts,
    in_flight: u64,
    attempts: u64,
    latency: sim_core::stats::LatencySummary,
) -> UserVisibleResult {
    let errors = u.timeouts + u.rejected + u.aborted;
    let per = |a: u64| {
        if u.requests == 0 {
            0.0
        } else {
            a as f64 / u.requests as f64
        }
    };
    UserVisibleResult {
        requests: u.requests,
        ok: u.ok,
        errors,
        timeouts: u.timeouts,
        rejected: u.rejected,
        aborted: u.aborted,
        rate_limited: u.rate_limited,
        in_flight,
        error_rate: per(errors),
        attempts_per_request: per(attempts),
        latency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: Jitter) -> RetryDef {
        RetryDef {
            max_attempts: 10,
            base_interval: 25_000_000,
            max_interval: 250_000_000,
            multiplier: 2.0,
            jitter,
            on_timeout: true,
            on_502: true,
            on_503: true,
            on_429: false,
            budget: None,
        }
    }

    /// Without jitter the ceilings double from the base up to the cap.
    #[test]
    fn backoff_ceilings_double_up_to_the_cap() {
        let r = policy(Jitter::None);
        let mut sleep = 0;
        let waits: Vec<u64> = (1..=6).map(|n| backoff(&r, n, &mut sleep, None)).collect();
        let ms = 1_000_000;
        assert_eq!(
            waits,
            [25 * ms, 50 * ms, 100 * ms, 200 * ms, 250 * ms, 250 * ms]
        );
    }

    /// Full jitter: uniform under the ceiling, so the mean of the n-th
    /// retry's wait is half its ceiling. 100,000 draws of U(0, c) have a
    /// mean within c/sqrt(12 x 1e5) x 5 = 0.5% of c of c/2 (5 sd); equal
    /// jitter stays in [c/2, c] with mean 3c/4; decorrelated stays in
    /// [base, min(max, 3 x previous)].
    #[test]
    fn jitters_stay_in_their_ranges_with_their_means() {
        let n = 100_000;
        let mut rng = RngStream::new(5, "backoff");
        for (jitter, lo, hi, mean) in [
            (Jitter::Full, 0.0, 1.0, 0.5),
            (Jitter::Equal, 0.5, 1.0, 0.75),
        ] {
            let r = policy(jitter);
            for retry in [1, 3, 5] {
                let c = (25e6 * 2f64.powi(retry as i32 - 1)).min(250e6);
                let mut sum = 0.0;
                for _ in 0..n {
                    let w = backoff(&r, retry, &mut 0, Some(&mut rng)) as f64;
                    assert!(w >= lo * c - 1.0 && w <= hi * c + 1.0, "{jitter:?} {w}");
                    sum += w;
                }
                let m = sum / f64::from(n) / c;
                assert!(
                    (m - mean).abs() < 0.005,
                    "{jitter:?} retry {retry}: mean {m} c"
                );
            }
        }
        let r = policy(Jitter::Decorrelated);
        let mut sleep = r.base_interval;
        for _ in 0..n {
            let prev = sleep;
            let w = backoff(&r, 1, &mut sleep, Some(&mut rng));
            let hi = (3 * prev).max(r.base_interval).min(r.max_interval);
            assert!(w >= r.base_interval && w <= hi, "{w} after {prev}");
        }
    }

    /// The budget allows `percent_can_retry` retries per deposit plus the
    /// reserve, and forgets deposits after the ttl.
    #[test]
    fn the_budget_allows_its_percentage_plus_the_reserve() {
        let s = 1_000_000_000;
        let mut b = Budget::new(&BudgetDef {
            percent_can_retry: 0.2,
            min_retries_per_sec: 1.0,
            ttl: 10 * s,
        });
        // Reserve: 1/s x 10s = 10 retries with no request at all.
        assert_eq!((0..50).filter(|_| b.try_withdraw(0)).count(), 10);
        // 100 requests: 20 more.
        for _ in 0..100 {
            b.deposit(s);
        }
        assert_eq!((0..50).filter(|_| b.try_withdraw(s)).count(), 20);
        // 10s later the deposits and withdrawals have expired: the reserve
        // is whole again, the deposits gone.
        assert_eq!((0..50).filter(|_| b.try_withdraw(12 * s)).count(), 10);
    }

    /// At 0% only the reserve pays for retries, however many requests
    /// deposit.
    #[test]
    fn a_zero_percent_budget_allows_the_reserve_only() {
        let s = 1_000_000_000;
        for (min, want) in [(0.0, 0), (2.0, 20)] {
            let mut b = Budget::new(&BudgetDef {
                percent_can_retry: 0.0,
                min_retries_per_sec: min,
                ttl: 10 * s,
            });
            for _ in 0..10_000 {
                b.deposit(s);
            }
            assert_eq!((0..100).filter(|_| b.try_withdraw(s)).count(), want);
        }
    }
}
