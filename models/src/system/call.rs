//! Jobs that make jobs: a `call` step sends a request (a child job) to
//! another service and waits for the call to settle; a `parallel` step
//! runs its branches as child jobs on the parent's pod and waits for all.
//!
//! A call's attempts go through the same journey as a workload's requests
//! (`request.rs`: balancer, pod, program); their answers come back here
//! through [`World::call_settle`], which retries, resumes the parent or
//! fails it with the call's outcome.

use sim_core::{SimDuration, SimTime};

use super::world::World;
use crate::kernel::job::{Job, Reply, Route};
use crate::kernel::outcome::{Failure, Outcome};
use crate::kinds::call::{self, Next, Slot};
use crate::model::ids::{JobId, ProgramId};
use crate::model::vocab::Target;

impl World<'_> {
    /// Job `j` reaches call step `call`: the call opens and its first
    /// attempt goes out; `j` waits.
    pub(super) fn call_start(&mut self, j: JobId, call: u32) {
        let now = self.cx.now();
        let measured = self.cx.jobs[j].measured;
        let slot = self.calls.open(j, call, measured, now);
        self.call_states[call as usize].opened(measured, now);
        self.call_attempt(slot);
    }

    /// The next attempt of the call in `slot`: a child job carrying the
    /// parent's keys, sent after the round trip, with the caller's timeout
    /// set.
    fn call_attempt(&mut self, slot: u32) {
        let m = self.m;
        let now = self.cx.now();
        let tag = self.calls.attempt(slot);
        let s = self.calls.get(slot);
        let def = &m.calls[s.call as usize];
        if !self.call_states[s.call as usize].permit(s.measured, now) {
            // Short-circuited: fails at once, not retried.
            self.call_fails_now(slot, &s, Failure::Rejected);
            return;
        }
        // The attempt's timeout: its own, or (propagating) at most what is
        // left of the caller's deadline, which the callee gets.
        let mut timeout = def.timeout;
        if def.propagate {
            let left = self.deadline(s.parent).map(|d| d - now);
            if left == Some(SimDuration::ZERO) {
                // Already past: DEADLINE_EXCEEDED without sending.
                self.call_fails_now(slot, &s, Failure::TimedOut);
                return;
            }
            timeout = match (timeout, left) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let deadline = timeout.map_or(SimTime(u64::MAX), |t| now + t);
            self.calls.set_deadline(slot, deadline);
        }
        if let Some(t) = timeout {
            self.cx.after(t, call::Ev::Timeout { slot, tag });
        }
        if let Some((after, _)) = def.hedge {
            self.cx.after(after, call::Ev::Hedge { slot, tag });
        }
        self.call_send(slot, tag, false);
    }

    /// Sends a copy of attempt `tag` of the call in `slot` (`hedge`: an
    /// extra one): a child job carrying the parent's keys, sent after the
    /// round trip.
    fn call_send(&mut self, slot: u32, tag: u32, hedge: bool) {
        let m = self.m;
        let now = self.cx.now();
        let s = self.calls.get(slot);
        let def = &m.calls[s.call as usize];
        let rtt = self.call_states[s.call as usize].attempt(def, s.measured, hedge);
        let lb = match def.target {
            Target::Lb(l) => Some(l),
            Target::Service(_) => None,
        };
        let child = self.cx.jobs.alloc(Job::new(
            Reply::Call { slot, tag },
            Route::new(def.ep, def.service, lb),
            m.endpoints[def.ep].program,
            now + SimDuration(rtt),
            s.measured,
        ));
        self.cx.jobs.copy_keys(s.parent, child);
        if let Some(k) = self.deadline_slot {
            // A callee has a deadline only through a propagating call.
            let d = if def.propagate {
                s.deadline.0
            } else {
                u64::MAX
            };
            self.cx.jobs.keys_mut(child)[k] = d;
        }
        if rtt == 0 {
            self.call_arrive(child);
        } else {
            self.cx.after(SimDuration(rtt), call::Ev::Arrive(child));
        }
    }

    /// The call in `slot` (`s`) ends now, without sending an attempt,
    /// with `failure`: counted, its slot freed (later news of it is
    /// stale), and its parent failed with it.
    fn call_fails_now(&mut self, slot: u32, s: &Slot, failure: Failure) {
        let now = self.cx.now();
        self.call_states[s.call as usize].settled(s, Outcome::Failed(failure), now);
        self.calls.close(slot);
        self.job_failed(s.parent, failure);
    }

    /// An attempt reaches its callee: counted at the callee's endpoint and
    /// sent as a workload's request is.
    pub(super) fn call_arrive(&mut self, child: JobId) {
        let job = self.cx.jobs[child];
        if job.measured {
            self.endpoints.arrived_call(job.route.ep);
        }
        let Reply::Call { slot, .. } = job.reply else {
            unreachable!("only call attempts travel")
        };
        let call = self.calls.get(slot).call;
        self.enter(child, self.m.calls[call as usize].target);
    }

    /// The caller's timeout of attempt `tag` of the call in `slot`: unless
    /// it ended meanwhile, the caller gives up on it (the callee keeps
    /// working on it).
    pub(super) fn call_timeout(&mut self, slot: u32, tag: u32) {
        self.call_settle(slot, tag, Outcome::Timeout);
    }

    /// The hedging delay of attempt `tag` of the call in `slot` passed:
    /// unless it was answered (or its parent failed), another copy goes
    /// out, and another after the same delay, up to `max_extra`.
    pub(super) fn call_hedge(&mut self, slot: u32, tag: u32) {
        let Some(s) = self.calls.current(slot, tag) else {
            return;
        };
        let Some((after, extra)) = self.m.calls[s.call as usize].hedge else {
            return;
        };
        if s.copies > extra || self.cx.jobs[s.parent].killed {
            return;
        }
        self.calls.copy(slot);
        if s.copies < extra {
            self.cx.after(after, call::Ev::Hedge { slot, tag });
        }
        self.call_send(slot, tag, true);
    }

    /// The backoff of the call in `slot` ended: its next attempt goes out,
    /// unless its parent failed meanwhile.
    pub(super) fn call_retry(&mut self, slot: u32) {
        let s = self.calls.get(slot);
        if self.cx.jobs[s.parent].killed {
            let outcome = Outcome::Failed(Failure::Aborted);
            self.call_states[s.call as usize].settled(&s, outcome, self.cx.now());
            self.calls.close(slot);
            self.run_program(s.parent); // released
            return;
        }
        self.call_attempt(slot);
    }

    /// Attempt `tag` of the call in `slot` ended with `outcome` (its
    /// answer, or the caller's timeout). Stale news (an attempt already
    /// decided, a slot reused) is ignored. Otherwise the call retries, or
    /// settles: its parent goes on, or fails with the outcome.
    pub(super) fn call_settle(&mut self, slot: u32, tag: u32, outcome: Outcome) {
        let Some(mut s) = self.calls.current(slot, tag) else {
            return;
        };
        let now = self.cx.now();
        let c = s.call as usize;
        self.call_states[c].ended(outcome, now);
        // A hedged copy that failed while others are out: the others may
        // still answer. (A timeout ends every copy.)
        let failed_copy = !matches!(outcome, Outcome::Ok { .. } | Outcome::Timeout);
        if failed_copy && s.out > 1 && self.calls.copy_failed(slot) {
            self.call_states[c].copy_failed(outcome, s.measured);
            return;
        }
        self.calls.decide(slot);
        let def = &self.m.calls[c];
        let killed = self.cx.jobs[s.parent].killed;
        let next = if killed {
            Next::Settle(outcome)
        } else {
            self.call_states[c].decide(def, &mut s, outcome, now)
        };
        match next {
            Next::Retry(wait) => {
                self.calls.set_sleep(slot, s.sleep);
                self.cx.after(SimDuration(wait), call::Ev::Retry(slot));
            }
            Next::Settle(outcome) => {
                self.call_states[c].settled(&s, outcome, now);
                self.calls.close(slot);
                let parent = s.parent;
                match outcome {
                    // A killed parent is released when it resumes.
                    _ if killed => self.cx.resume(parent, now),
                    Outcome::Ok { .. } => self.cx.resume(parent, now),
                    Outcome::Timeout => self.job_failed(parent, Failure::TimedOut),
                    Outcome::Failed(f) => self.job_failed(parent, f),
                }
            }
        }
    }

    /// Job `j`, which has nothing else in flight, fails with `failure`
    /// (a call of its failed): a request answers its sender with it, a
    /// parallel branch fails its parent.
    fn job_failed(&mut self, j: JobId, failure: Failure) {
        match self.cx.jobs[j].reply {
            Reply::Fork(parent) => {
                if !self.cx.jobs[parent].killed {
                    self.fail_request(parent, failure);
                }
                self.cx.jobs[j].killed = true;
                self.run_program(j); // ends the branch
            }
            Reply::Client { .. } | Reply::Call { .. } => {
                self.fail_request(j, failure);
                self.run_program(j); // released
            }
            Reply::Consumer { .. } => unreachable!("queue work makes no calls"),
        }
    }

    /// Job `j`'s deadline, when deadlines propagate and it has one (a
    /// client's request: its birth plus the client's timeout; a call's
    /// attempt: what its caller gave it; a parallel branch: its parent's).
    #[inline]
    pub(super) fn deadline(&self, j: JobId) -> Option<SimTime> {
        let k = self.deadline_slot?;
        let d = self.cx.jobs.key(j, k);
        (d != u64::MAX).then_some(SimTime(d))
    }

    /// A request of workload `w` is sent now (a first attempt or a retry):
    /// its deadline is its client's timeout.
    #[inline]
    pub(super) fn set_client_deadline(&mut self, j: JobId, timeout: Option<SimDuration>) {
        if let Some(k) = self.deadline_slot {
            let now = self.cx.now();
            self.cx.jobs.keys_mut(j)[k] = timeout.map_or(u64::MAX, |t| (now + t).0);
        }
    }

    /// A request made by a propagating call whose deadline has passed
    /// stops at its next step: it answers 504, as a gRPC server does with
    /// DEADLINE_EXCEEDED (its caller has given up already). True when it
    /// stopped.
    #[inline]
    pub(super) fn past_deadline(&mut self, j: JobId) -> bool {
        let Some(d) = self.deadline(j) else {
            return false;
        };
        if self.cx.now() <= d {
            return false;
        }
        match self.cx.jobs[j].reply {
            Reply::Call { .. } | Reply::Fork(_) => {
                self.job_failed(j, Failure::TimedOut);
                true
            }
            // A client's own request runs on after its client gave up, as
            // without deadlines.
            Reply::Client { .. } | Reply::Consumer { .. } => false,
        }
    }

    /// Job `j` reaches a parallel step: one child job per branch, on its
    /// pod, with its keys; `j` waits for all of them.
    pub(super) fn fork(&mut self, j: JobId, programs: &[ProgramId]) {
        let now = self.cx.now();
        let parent = self.cx.jobs[j];
        let mut route = Route::new(parent.route.ep, parent.route.service, None);
        route.set_pod(parent.route.pod());
        self.cx.jobs[j].fanout = programs.len() as u32;
        // All are made before any runs: one may end (or fail) at once.
        let children: Vec<JobId> = programs
            .iter()
            .map(|&p| {
                let child =
                    self.cx
                        .jobs
                        .alloc(Job::new(Reply::Fork(j), route, p, now, parent.measured));
                self.cx.jobs.copy_keys(j, child);
                child
            })
            .collect();
        for child in children {
            self.run_program(child);
        }
    }

    /// Job `j` (released, or about to be) ends: a parallel branch tells its
    /// parent, which goes on (or, failed, is released) after its last
    /// branch.
    pub(super) fn end_job(&mut self, j: JobId) {
        let parent = self.cx.jobs.child_done(j);
        self.release(j);
        if let Some(p) = parent {
            self.run_program(p);
        }
    }
}
