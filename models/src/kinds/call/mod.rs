//! Service calls: the `call` step of an endpoint, from its spec to its
//! edge in the results (`calls`).
//!
//! A call is a request another job (its *parent*) makes to an endpoint of
//! a service, directly (the service's ready pods in turn) or through a
//! balancer, carrying the parent's key values. Each attempt is a child job
//! whose reply goes to the call's slot in the [`CallTable`]; the parent
//! waits (holding its worker) until the call settles:
//!
//! - **Round trip.** `latency` is drawn per attempt from the stream
//!   `"<endpoint's stream>/<step path>/latency"` and spent before the
//!   attempt reaches the callee: the caller sees the callee's latency plus
//!   the round trip.
//! - **Timeout.** Per attempt, counted from when it is sent: the caller
//!   gives up; the callee keeps working on it (its answer is then ignored,
//!   counted at the callee's endpoint as it ended there).
//! - **Retries.** As a workload's client (`kernel/retry.rs`): the outcomes
//!   `retry_on` names are retried after a backoff drawn from
//!   `"<...>/backoff"`, within `max_attempts` and the step's own budget.
//! - **Failure.** A call that fails for good fails its parent with the
//!   last attempt's outcome: 503, 502, 429, or 504 for a timeout.
//!
//! - **Circuit breaker** (`breaker.rs`): an open breaker fails an
//!   attempt at once (503, counted as `short_circuited`, not retried).
//!
//! Attempts are matched to their slot by a generation number, so an
//! answer that arrives after its attempt timed out (or after the slot was
//! reused) is recognised as stale.

pub mod breaker;

use serde::{Deserialize, Serialize};
use sim_core::stats::{LatencyHistogram, LatencySummary};
use sim_core::{Dist, RngStream, SimDuration, SimTime};

use crate::kernel::Cx;
use crate::kernel::cx::Event;
use crate::kernel::kind::{Finish, Kind};
use crate::kernel::outcome::{Failure, Outcome};
use crate::kernel::resolve::{Path, Resolve};
use crate::kernel::retry::{self, Budget, Jitter, RetryDef, backoff};
use crate::model::ids::{EndpointId, JobId, ServiceId};
use crate::model::steps::CallStep;
use crate::model::vocab::{Destination, Target};
use crate::scenario::ScenarioError;
use breaker::{Breaker, BreakerDef, BreakerResult};

/// Most extra copies of a hedged attempt.
pub const MAX_HEDGES: u32 = 10;

/// A resolved call step.
#[derive(Debug, Clone)]
pub struct CallDef {
    /// The caller, `"service.endpoint"`.
    pub from: String,
    /// The callee, `"service.endpoint"`.
    pub to: String,
    /// Where attempts are sent: a balancer or the service.
    pub target: Target,
    /// The callee's service.
    pub service: ServiceId,
    /// The callee's endpoint.
    pub ep: EndpointId,
    /// Network round trip per attempt (None: 0).
    pub latency: Option<Dist>,
    /// Per-attempt timeout.
    pub timeout: Option<SimDuration>,
    /// Retries.
    pub retry: Option<RetryDef>,
    /// Circuit breaker.
    pub breaker: Option<BreakerDef>,
    /// Hedging: (delay, extra copies per attempt).
    pub hedge: Option<(SimDuration, u32)>,
    /// Deadlines propagate through this call.
    pub propagate: bool,
    /// Prefix of the step's random streams.
    pub stream: String,
}

/// Resolves the call step at `at` of endpoint `from`, whose target is
/// `dest`; `stream` names its random streams.
pub fn resolve(
    spec: &CallStep,
    at: &Path,
    from: String,
    stream: String,
    dest: &Destination<'_>,
    cx: &Resolve<'_>,
) -> Result<CallDef, ScenarioError> {
    let names: Vec<&str> = dest.endpoints.iter().map(|(_, n)| *n).collect();
    let Some(pos) = names.iter().position(|e| *e == spec.endpoint) else {
        return Err(cx.unknown(
            &at.k("endpoint"),
            &format!("endpoint of service `{}`", dest.service_name),
            &spec.endpoint,
            &names,
        ));
    };
    if let Some(t) = spec.timeout
        && t.0 == 0
    {
        return Err(cx.err(
            &at.k("timeout"),
            "a timeout must be positive (omit it for none)",
        ));
    }
    Ok(CallDef {
        to: format!("{}.{}", dest.service_name, spec.endpoint),
        from,
        target: dest.target,
        service: dest.service,
        ep: dest.endpoints[pos].0,
        latency: cx.dist_opt(&at.k("latency"), spec.latency.as_ref())?,
        timeout: spec.timeout,
        retry: spec
            .retry
            .as_ref()
            .map(|r| retry::resolve(cx, &at.k("retry"), r))
            .transpose()?,
        hedge: match &spec.hedge {
            None => None,
            Some(h) => {
                let hp = at.k("hedge");
                if h.after == SimDuration::ZERO {
                    return Err(cx.err(&hp.k("after"), "the hedging delay must be positive"));
                }
                let extra = h.max_extra.unwrap_or(1);
                if extra == 0 || extra > MAX_HEDGES {
                    return Err(cx.err(
                        &hp.k("max_extra"),
                        format!("max_extra is 1 to {MAX_HEDGES} extra copies, got {extra}"),
                    ));
                }
                Some((h.after, extra))
            }
        },
        propagate: spec.propagate_deadline,
        breaker: spec
            .circuit_breaker
            .as_ref()
            .map(|b| breaker::resolve(cx, &at.k("circuit_breaker"), b))
            .transpose()?,
        stream,
    })
}

/// A call's events.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// An attempt (a child job) has crossed the network to the callee.
    Arrive(JobId),
    /// The caller's timeout of attempt `tag` of call slot `slot`.
    Timeout {
        /// The call's slot.
        slot: u32,
        /// The attempt's generation.
        tag: u32,
    },
    /// The backoff of call slot `slot` ended: its next attempt goes out.
    Retry(u32),
    /// The hedging delay of attempt `tag` of call slot `slot` passed:
    /// another copy goes out unless it was answered.
    Hedge {
        /// The call's slot.
        slot: u32,
        /// The attempt's generation.
        tag: u32,
    },
}

/// A call in progress.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// The job that made it and waits for it.
    pub parent: JobId,
    /// The call step (index into the model's calls).
    pub call: u32,
    /// The current attempt's generation; bumped when an attempt is
    /// decided, so later news of it is stale. Never reset, so it stays
    /// unique across the slot's reuses.
    pub tag: u32,
    /// Attempts sent so far.
    pub attempts: u32,
    /// The current attempt's deadline (propagated), as the callee gets it.
    pub deadline: SimTime,
    /// Copies of the current attempt not answered yet (1, or more when
    /// hedged).
    pub out: u32,
    /// Copies of the current attempt sent.
    pub copies: u32,
    /// When the call was made.
    pub start: SimTime,
    /// The last backoff, ns (decorrelated jitter starts from it).
    pub sleep: u64,
    /// Counted in the statistics (its parent is measured).
    pub measured: bool,
    live: bool,
}

/// Every call in progress, in a slab whose free slots are reused.
#[derive(Debug, Clone, Default)]
pub struct CallTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl CallTable {
    /// Opens a call of step `call` made by `parent` now.
    pub fn open(&mut self, parent: JobId, call: u32, measured: bool, now: SimTime) -> u32 {
        let fresh = |tag| Slot {
            parent,
            call,
            tag,
            attempts: 0,
            deadline: SimTime(u64::MAX),
            out: 0,
            copies: 0,
            start: now,
            sleep: 0,
            measured,
            live: true,
        };
        match self.free.pop() {
            Some(s) => {
                let tag = self.slots[s as usize].tag;
                self.slots[s as usize] = fresh(tag);
                s
            }
            None => {
                self.slots.push(fresh(0));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The call in `slot`, if attempt `tag` is still its current one.
    #[inline]
    pub fn current(&self, slot: u32, tag: u32) -> Option<Slot> {
        let s = self.slots[slot as usize];
        (s.live && s.tag == tag).then_some(s)
    }

    /// The call in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> Slot {
        self.slots[slot as usize]
    }

    /// The current attempt is decided: news of it from now on is stale.
    #[inline]
    pub fn decide(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.tag = s.tag.wrapping_add(1);
    }

    /// A new attempt goes out; returns its generation.
    #[inline]
    pub fn attempt(&mut self, slot: u32) -> u32 {
        let s = &mut self.slots[slot as usize];
        s.attempts += 1;
        s.out = 1;
        s.copies = 1;
        s.tag
    }

    /// Another copy of the current attempt goes out (hedging).
    #[inline]
    pub fn copy(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.out += 1;
        s.copies += 1;
    }

    /// A copy of the current attempt failed while others are out: returns
    /// whether others are still out (then the attempt goes on without it).
    #[inline]
    pub fn copy_failed(&mut self, slot: u32) -> bool {
        let s = &mut self.slots[slot as usize];
        s.out -= 1;
        s.out > 0
    }

    /// The current attempt's deadline, as the callee gets it.
    #[inline]
    pub fn set_deadline(&mut self, slot: u32, deadline: SimTime) {
        self.slots[slot as usize].deadline = deadline;
    }

    /// The call's last backoff, ns.
    #[inline]
    pub fn set_sleep(&mut self, slot: u32, sleep: u64) {
        self.slots[slot as usize].sleep = sleep;
    }

    /// The call settled: its slot is free.
    #[inline]
    pub fn close(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.live = false;
        s.tag = s.tag.wrapping_add(1);
        self.free.push(slot);
    }

    /// Calls still open, measured ones per call step.
    pub fn open_measured(&self, steps: usize) -> Vec<u64> {
        let mut n = vec![0; steps];
        for s in self.slots.iter().filter(|s| s.live && s.measured) {
            n[s.call as usize] += 1;
        }
        n
    }
}

/// What becomes of a call once an attempt is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Another attempt after this backoff, ns.
    Retry(u64),
    /// The call settled with this outcome.
    Settle(Outcome),
}

/// Measured calls of one step.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    calls: u64,
    ok: u64,
    errors: u64,
    attempts: u64,
    retries: u64,
    refused: u64,
    short_circuited: u64,
    hedges: u64,
    timeouts: u64,
    rejected: u64,
    aborted: u64,
    rate_limited: u64,
}

/// One call step's state in a run: its streams, its retry budget and its
/// figures.
#[derive(Debug, Clone)]
pub struct CallState {
    rtt: Option<RngStream>,
    backoff: Option<RngStream>,
    budget: Option<Budget>,
    n: Counts,
    latency: LatencyHistogram,
    breaker: Option<Breaker>,
}

impl CallState {
    /// A call was made now (it deposits in the retry budget).
    #[inline]
    pub fn opened(&mut self, measured: bool, now: SimTime) {
        if let Some(b) = &mut self.budget {
            b.deposit(now.0);
        }
        self.n.calls += u64::from(measured);
    }

    /// May an attempt go out now (its breaker, if any, is not open)? A
    /// refused one is counted as short-circuited.
    #[inline]
    pub fn permit(&mut self, measured: bool, now: SimTime) -> bool {
        let Some(b) = &mut self.breaker else {
            return true;
        };
        let ok = b.permit(now);
        self.n.short_circuited += u64::from(!ok && measured);
        ok
    }

    /// An attempt that went out ended now with `outcome` (its breaker
    /// records it).
    #[inline]
    pub fn ended(&mut self, outcome: Outcome, now: SimTime) {
        if let Some(b) = &mut self.breaker {
            b.record(!matches!(outcome, Outcome::Ok { .. }), now);
        }
    }

    /// A copy of a failed attempt's outcome while other copies are out.
    #[inline]
    pub fn copy_failed(&mut self, outcome: Outcome, measured: bool) {
        self.count_failure(outcome, u64::from(measured));
    }

    fn count_failure(&mut self, outcome: Outcome, m: u64) {
        match outcome {
            Outcome::Ok { .. } => {}
            Outcome::Timeout | Outcome::Failed(Failure::TimedOut) => self.n.timeouts += m,
            Outcome::Failed(Failure::Rejected) => self.n.rejected += m,
            Outcome::Failed(Failure::Aborted) => self.n.aborted += m,
            Outcome::Failed(Failure::RateLimited) => self.n.rate_limited += m,
        }
    }

    /// An attempt (`hedge`: an extra copy of one) goes out: its round
    /// trip, ns.
    #[inline]
    pub fn attempt(&mut self, def: &CallDef, measured: bool, hedge: bool) -> u64 {
        if hedge {
            self.n.hedges += u64::from(measured);
        } else {
            self.n.attempts += u64::from(measured);
        }
        match (&def.latency, &mut self.rtt) {
            (Some(d), Some(rng)) => d.sample(rng),
            _ => 0,
        }
    }

    /// An attempt of a call (`slot`, with `attempts` sent) ended with
    /// `outcome`: retry it or settle the call.
    pub fn decide(
        &mut self,
        def: &CallDef,
        slot: &mut Slot,
        outcome: Outcome,
        now: SimTime,
    ) -> Next {
        let m = u64::from(slot.measured);
        self.count_failure(outcome, m);
        if let Some(r) = &def.retry
            && r.retries(outcome)
            && slot.attempts < r.max_attempts
        {
            if self.budget.as_mut().is_none_or(|b| b.try_withdraw(now.0)) {
                self.n.retries += m;
                return Next::Retry(backoff(
                    r,
                    slot.attempts,
                    &mut slot.sleep,
                    self.backoff.as_mut(),
                ));
            }
            self.n.refused += m;
        }
        Next::Settle(outcome)
    }

    /// Call `slot` settled now with `outcome` (after its retries).
    pub fn settled(&mut self, slot: &Slot, outcome: Outcome, now: SimTime) {
        if !slot.measured {
            return;
        }
        match outcome {
            Outcome::Ok { .. } => {
                self.n.ok += 1;
                self.latency.record((now - slot.start).0);
            }
            _ => self.n.errors += 1,
        }
    }
}

impl Kind for CallState {
    type Def = CallDef;
    type Result = CallResult;

    fn start<E: Event>(def: &CallDef, cx: &Cx<E>) -> Self {
        let stream = |what: &str| cx.stream(&format!("{}/{what}", def.stream));
        CallState {
            rtt: def.latency.as_ref().map(|_| stream("latency")),
            backoff: def
                .retry
                .as_ref()
                .filter(|r| r.jitter != Jitter::None)
                .map(|_| stream("backoff")),
            budget: def
                .retry
                .as_ref()
                .and_then(|r| r.budget.as_ref())
                .map(Budget::new),
            n: Counts::default(),
            latency: LatencyHistogram::new(),
            breaker: def.breaker.map(Breaker::new),
        }
    }

    /// Calls are measured by their parent's birth, not reset.
    fn reset(&mut self, _now: SimTime) {}

    fn finish(&self, def: &CallDef, fin: &Finish<'_>, warnings: &mut Vec<String>) -> CallResult {
        let n = &self.n;
        if self.latency.clamped() > 0 {
            warnings.push(format!(
                "call {} -> {}: {} latencies above the histogram's range were clamped",
                def.from,
                def.to,
                self.latency.clamped()
            ));
        }
        CallResult {
            from: def.from.clone(),
            to: def.to.clone(),
            calls: n.calls,
            ok: n.ok,
            errors: n.errors,
            // Set by the world, which knows the calls still open.
            in_flight: 0,
            attempts: n.attempts,
            retries: n.retries,
            retries_refused_by_budget: n.refused,
            timeouts: n.timeouts,
            rejected: n.rejected,
            aborted: n.aborted,
            rate_limited: n.rate_limited,
            error_rate: crate::kernel::kind::ratio(n.errors, n.calls),
            latency: self.latency.summary(),
            hedges: def.hedge.map(|_| n.hedges),
            circuit_breaker: self.breaker.as_ref().map(|b| BreakerResult {
                short_circuited: n.short_circuited,
                opened: b.opened,
                open_s: b.open_s(fin.end()),
            }),
        }
    }
}

/// One call step's figures (an edge of the call graph), over calls whose
/// parent was born in the measured period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    /// The caller, `"service.endpoint"`.
    pub from: String,
    /// The callee, `"service.endpoint"`.
    pub to: String,
    /// Calls made.
    pub calls: u64,
    /// Answered in time, at some attempt.
    pub ok: u64,
    /// Failed for good (after retries): the caller failed with them.
    pub errors: u64,
    /// Not settled at the end.
    pub in_flight: u64,
    /// Attempts sent (first attempts and retries).
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Retries the step's budget refused.
    pub retries_refused_by_budget: u64,
    /// Attempts the caller gave up on (its timeout), or answered 504.
    pub timeouts: u64,
    /// Attempts refused (HTTP 503).
    pub rejected: u64,
    /// Attempts failed in flight (HTTP 502).
    pub aborted: u64,
    /// Attempts refused by a rate limiter (HTTP 429).
    pub rate_limited: u64,
    /// `errors / calls`.
    pub error_rate: f64,
    /// What the caller saw, ok calls: from the call to its answer,
    /// retries and round trips included.
    pub latency: LatencySummary,
    /// Extra copies sent by hedging (with a `hedge`); not in `attempts`.
    /// The losers are left running at the callee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hedges: Option<u64>,
    /// The breaker's figures (with a `circuit_breaker`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<BreakerResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(retry: Option<RetryDef>) -> CallDef {
        CallDef {
            from: "a.x".into(),
            to: "b.y".into(),
            target: Target::Service(ServiceId(1)),
            service: ServiceId(1),
            ep: EndpointId(1),
            latency: None,
            timeout: None,
            retry,
            breaker: None,
            hedge: None,
            propagate: false,
            stream: "s".into(),
        }
    }

    /// A slot's generation makes news of a decided attempt stale, also
    /// after the slot is reused by another call.
    #[test]
    fn stale_attempts_are_recognised() {
        let mut t = CallTable::default();
        let s = t.open(JobId(3), 0, true, SimTime(0));
        let g = t.attempt(s);
        assert!(t.current(s, g).is_some());
        t.decide(s);
        assert!(t.current(s, g).is_none(), "decided: stale");
        let g2 = t.attempt(s);
        assert_eq!(t.get(s).attempts, 2);
        t.close(s);
        assert!(t.current(s, g2).is_none(), "closed: stale");
        let s2 = t.open(JobId(4), 0, false, SimTime(9));
        assert_eq!(s2, s, "the free slot is reused");
        assert!(t.current(s, g).is_none() && t.current(s, g2).is_none());
        assert_eq!(t.open_measured(1), vec![0]);
    }

    /// Outcomes `retry_on` names are retried until `max_attempts`; others
    /// and the last attempt settle the call.
    #[test]
    fn retries_follow_the_policy() {
        let r = RetryDef {
            max_attempts: 3,
            base_interval: 10,
            max_interval: 100,
            multiplier: 2.0,
            jitter: Jitter::None,
            on_timeout: true,
            on_502: true,
            on_503: false,
            on_429: false,
            budget: None,
        };
        let d = def(Some(r));
        let cx: Cx<crate::system::kinds::Ev> = Cx::new(
            1,
            sim_core::stats::SeriesSpec {
                interval: SimDuration(1),
                buckets: 1,
            },
            0,
            SimTime(10),
            SimTime(0),
        );
        let mut st = CallState::start(&d, &cx);
        let mut t = CallTable::default();
        let s = t.open(JobId(0), 0, true, SimTime(0));
        t.attempt(s);
        let mut slot = t.get(s);
        let aborted = Outcome::Failed(Failure::Aborted);
        assert_eq!(
            st.decide(&d, &mut slot, aborted, SimTime(0)),
            Next::Retry(10)
        );
        slot.attempts = 2;
        assert_eq!(
            st.decide(&d, &mut slot, Outcome::Timeout, SimTime(0)),
            Next::Retry(20)
        );
        slot.attempts = 3;
        assert_eq!(
            st.decide(&d, &mut slot, aborted, SimTime(0)),
            Next::Settle(aborted),
            "the last attempt settles"
        );
        slot.attempts = 1;
        let rejected = Outcome::Failed(Failure::Rejected);
        assert_eq!(
            st.decide(&d, &mut slot, rejected, SimTime(0)),
            Next::Settle(rejected)
        );
        assert_eq!(
            (st.n.retries, st.n.timeouts, st.n.aborted, st.n.rejected),
            (2, 1, 2, 1)
        );
    }
}
