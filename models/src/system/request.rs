//! A request's journey, top to bottom: a client makes it, a CDN edge may
//! answer it, a gateway may refuse it, a balancer picks a pod (or the
//! service's proxy does), the pod runs it or queues it or refuses it, its
//! program runs (`interpreter.rs`), and its answer — or its failure —
//! goes back to its client, which may retry.
//!
//! Every path on which a request ends tells its client first
//! ([`Clients::outcome`](crate::kinds::client::Clients::outcome)), then
//! counts the outcome in the ledger and at its endpoint, lets go of its
//! balancer connection and releases the job.

use sim_core::{SimDuration, SimTime};

use super::world::World;
use crate::kernel::job::Reply;
use crate::kernel::outcome::{Failure, Outcome};
use crate::kinds::balancer::Enter;
use crate::kinds::cdn::{self, CdnDef};
use crate::kinds::service::Admit;
use crate::model::ids::{EndpointId, JobId, LbId, WorkloadId};
use crate::model::vocab::Target;
use crate::system::topology::NO_EDGE;

/// The CDN edge in front of `origin` and the position of `ep` among its
/// endpoints (None: the endpoint bypasses the edge).
fn edge_of(cdns: &[CdnDef], origin: Target, ep: EndpointId) -> Option<(usize, Option<usize>)> {
    let c = cdns.iter().position(|c| c.origin == origin)?;
    Some((c, cdns[c].endpoints.iter().position(|&e| e == ep)))
}

impl World<'_> {
    /// Workload `w` makes a request now: counted at its endpoint, opened
    /// as a call by its client (with retries or users), and sent.
    pub(super) fn arrival(&mut self, w: WorkloadId) {
        let def = &self.m.workloads[w];
        let j = self.workloads[w].arrive(w, def, &self.programs, &mut self.cx);
        let (ep, measured) = {
            let job = &self.cx.jobs[j];
            (job.route.ep, job.measured)
        };
        if measured {
            self.endpoints.arrived(ep);
            self.edges.count(self.m.topology.workloads[w.ix()]);
        }
        self.clients.open(j, w, ep, def, &mut self.cx);
        self.set_client_deadline(j, def.timeout);
        self.send(j, w);
    }

    /// A client's backoff for call `c` ended: its next attempt goes out.
    pub(super) fn retry(&mut self, c: u32) {
        let (j, w) = self.clients.retry(c, &self.m.workloads, &mut self.cx);
        let job = self.cx.jobs[j];
        if job.measured {
            self.endpoints.arrived(job.route.ep);
            self.edges.count(self.m.topology.workloads[w.ix()]);
        }
        self.set_client_deadline(j, self.m.workloads[w].timeout);
        self.send(j, w);
    }

    /// A client's timeout for an attempt of call `c` expired: the attempt
    /// is a timeout now (the system keeps working on it).
    pub(super) fn client_timeout(&mut self, c: u32, serial: u32) {
        let m = self.m;
        if let Some(j) = self.clients.timeout(c, serial, &m.workloads, &mut self.cx) {
            let job = self.cx.jobs[j];
            if let Reply::Client { workload, .. } = job.reply {
                let t = m.workloads[workload].timeout.unwrap_or(SimDuration::ZERO);
                self.endpoints
                    .timeout(job.route.ep, job.born + t, job.measured);
            }
        }
    }

    /// Sends request `j` of workload `w` — a new request or a client's
    /// retry — through the workload's path: the CDN edge, then its target.
    #[inline]
    fn send(&mut self, j: JobId, w: WorkloadId) {
        // ---- CDN edge: a hit is answered there, a miss goes on.
        if self.edge(j, w) {
            return;
        }
        self.enter(j, self.m.workloads[w].target);
    }

    /// Request `j` enters `target`: the gateway and balancer (or straight
    /// to the service), a pod.
    #[inline]
    pub(super) fn enter(&mut self, j: JobId, target: Target) {
        let m = self.m;
        match target {
            Target::Service(_) => self.dispatch(j),
            Target::Lb(l) => {
                let def = &m.load_balancers[l];
                match self.balancers[l].enter(def, j, &self.cx) {
                    Enter::RateLimited => {
                        // Never entered the balancer; the client may retry a 429.
                        self.cx.jobs[j].route.leave_lb();
                        self.count_failure(j, Failure::RateLimited);
                        self.release(j);
                    }
                    Enter::Full => {
                        self.cx.jobs[j].route.leave_lb();
                        self.reject(j);
                    }
                    Enter::After(d) => self.cx.after(d, crate::kinds::balancer::Ev::Dispatch(j)),
                    Enter::Now => self.dispatch(j),
                }
            }
        }
    }

    /// A request of workload `w` has arrived: if an edge is in front of its
    /// target and caches its endpoint, it is looked up there. True when the
    /// edge answers it (a hit): the request never reaches the origin.
    #[inline]
    fn edge(&mut self, j: JobId, w: WorkloadId) -> bool {
        let m = self.m;
        if m.cdns.is_empty() {
            return false;
        }
        let ep = self.cx.jobs[j].route.ep;
        let Some((c, pos)) = edge_of(&m.cdns, m.workloads[w].target, ep) else {
            return false;
        };
        self.cdns[c].arrived();
        let Some(pos) = pos else {
            return false;
        };
        let def = &m.cdns[c];
        let value = def.key.map_or(0, |k| self.cx.key(j, k));
        let now = self.cx.now();
        match self.cdns[c].lookup(def, pos, value, now) {
            None => false,
            Some(d) => {
                self.cx.jobs[j].route.leave_lb();
                self.cx.after(d, cdn::Ev::Hit(j));
                true
            }
        }
    }

    /// A request answered at the edge reaches its client.
    pub(super) fn edge_hit(&mut self, j: JobId) {
        let latency = (self.cx.now() - self.cx.jobs[j].born).0;
        self.answer(j, latency);
        self.release(j);
    }

    /// The origin has answered request `j`: if it came through an edge
    /// (so it missed there), the edge stores the response. Returns the
    /// time the edge adds before the client has it (zero without an edge).
    #[inline]
    fn edge_response(&mut self, j: JobId) -> SimDuration {
        let m = self.m;
        if m.cdns.is_empty() {
            return SimDuration::ZERO;
        }
        let job = self.cx.jobs[j];
        let Reply::Client { workload, .. } = job.reply else {
            return SimDuration::ZERO;
        };
        let Some((c, Some(pos))) = edge_of(&m.cdns, m.workloads[workload].target, job.route.ep)
        else {
            return SimDuration::ZERO;
        };
        let def = &m.cdns[c];
        let value = def.key.map_or(0, |k| self.cx.key(j, k));
        let now = self.cx.now();
        self.cdns[c].respond(def, pos, value, now)
    }

    /// Picks a pod for request `j` and hands the request to it.
    #[inline]
    pub(super) fn dispatch(&mut self, j: JobId) {
        let m = self.m;
        let route = self.cx.jobs[j].route;
        let s = route.service;
        let picked = match route.lb() {
            None => self.services[s].pick_direct(),
            Some(l) => {
                let svc = &mut self.services[s];
                let def = &m.load_balancers[l];
                self.balancers[l].pick(def, &svc.pods, &mut svc.pool, j, &self.cx)
            }
        };
        let Some(pod) = picked else {
            // No pod to send to: the balancer (or the service's proxy)
            // answers 503.
            if let Some(l) = route.lb() {
                self.balancers[l].no_pod();
            }
            self.reject(j);
            return;
        };
        let job = &mut self.cx.jobs[j];
        job.route.set_pod(Some(pod as u32));
        if let Some(l) = route.lb()
            && job.measured
        {
            self.edges.count(m.topology.balancers[l.ix()]);
        }
        match self.services[s].admit(&m.services[s], pod, j, &mut self.cx) {
            Admit::Runs => self.run_program(j),
            Admit::Queued => {}
            Admit::Rejected => {
                self.cx.jobs[j].route.set_pod(None);
                self.reject(j);
            }
            Admit::Down => {
                // A crashed pod the balancer still believes in: the
                // connection is refused (HTTP 502).
                if let Some(l) = route.lb() {
                    self.balancers[l].sent_to_down();
                }
                self.cx.jobs[j].route.set_pod(None);
                self.abort(j);
            }
        }
    }

    /// Request `j`'s program ended: the response goes back (through the
    /// edge, if it came that way), the balancer connection and the worker
    /// are freed.
    #[inline]
    pub(super) fn request_done(&mut self, j: JobId) {
        let now = self.cx.now();
        let (born, route) = {
            let job = &self.cx.jobs[j];
            (job.born, job.route)
        };
        // Through a CDN edge, the response reaches the client later.
        let edge = self.edge_response(j);
        self.answer(j, (now - born).0 + edge.as_nanos());
        self.leave_lb(route.lb(), now);
        self.release(j);
        self.free_worker(j, route);
    }

    /// Counts a request's answer after `latency` ns: ok, or a timeout if
    /// the client gave up before it. A call's attempt is counted at its
    /// endpoint and settles its call.
    #[inline]
    pub(super) fn answer(&mut self, j: JobId, latency: u64) {
        let now = self.cx.now();
        let (reply, born, ep, measured) = {
            let job = &self.cx.jobs[j];
            (job.reply, job.born, job.route.ep, job.measured)
        };
        let (timeout, edge) = match reply {
            Reply::Client { workload, .. } => (
                self.m.workloads[workload].timeout,
                self.m.topology.workloads[workload.ix()],
            ),
            Reply::Call { slot, tag } => {
                self.endpoints.ok_call(ep, latency, now, measured);
                self.call_settle(slot, tag, Outcome::Ok { latency });
                return;
            }
            Reply::Fork(_) | Reply::Consumer { .. } => (None, NO_EDGE),
        };
        let late = timeout.is_some_and(|t| latency > t.0);
        // The client: an attempt it gave up on was counted then; otherwise
        // it may retry, or think and send again.
        let outcome = if late {
            Outcome::Timeout
        } else {
            Outcome::Ok { latency }
        };
        if !self
            .clients
            .outcome(j, outcome, &self.m.workloads, &mut self.cx)
        {
            return;
        }
        if late {
            self.cx.ledger.failed += 1;
            let at = born + timeout.unwrap_or(SimDuration::ZERO);
            self.endpoints.timeout(ep, at, measured);
        } else {
            self.cx.ledger.completed += 1;
            self.endpoints.ok(ep, latency, now, measured);
            if measured && edge != NO_EDGE && self.m.topology.time_workloads {
                self.edges.record(edge, latency);
            }
        }
    }

    /// A request refused with HTTP 503.
    pub(super) fn reject(&mut self, j: JobId) {
        let now = self.cx.now();
        let lb = self.cx.jobs[j].route.lb();
        self.count_failure(j, Failure::Rejected);
        self.leave_lb(lb, now);
        self.release(j);
    }

    /// Counts request `j` refused or failed (`Rejected`, `Aborted` or
    /// `RateLimited`) in the ledger and at its endpoint — unless its
    /// client had already given up on it — after telling the client,
    /// which may retry. The caller releases the job.
    pub(super) fn count_failure(&mut self, j: JobId, failure: Failure) {
        let now = self.cx.now();
        let job = self.cx.jobs[j];
        let outcome = Outcome::Failed(failure);
        if let Reply::Call { slot, tag } = job.reply {
            self.endpoints
                .failed_call(job.route.ep, failure, now, job.measured);
            self.call_settle(slot, tag, outcome);
            return;
        }
        if !self
            .clients
            .outcome(j, outcome, &self.m.workloads, &mut self.cx)
        {
            return;
        }
        let ledger = &mut self.cx.ledger;
        match failure {
            Failure::Rejected => ledger.rejected += 1,
            Failure::Aborted => ledger.aborted += 1,
            Failure::RateLimited => ledger.rate_limited += 1,
            Failure::TimedOut => ledger.failed += 1,
        }
        self.endpoints
            .failed(job.route.ep, failure, now, job.measured);
    }

    /// Counts a request as failed in flight with `failure` — by its pod
    /// (HTTP 502), or a dependency (a statement's 502, a call's outcome) —
    /// and lets go of its balancer connection; the job itself is released
    /// by the caller or at its next event.
    fn count_fail(&mut self, j: JobId, failure: Failure) {
        let now = self.cx.now();
        let route = self.cx.jobs[j].route;
        if failure == Failure::Aborted {
            self.services[route.service].aborted += 1;
        }
        self.count_failure(j, failure);
        self.leave_lb(route.lb(), now);
        self.cx.jobs[j].route.leave_lb();
    }

    /// A request fails at once because its pod is down.
    fn abort(&mut self, j: JobId) {
        self.count_fail(j, Failure::Aborted);
        self.release(j);
    }

    /// A request fails because a dependency failed (a statement on a
    /// shard that is down: `Aborted`; a call: its outcome): the service
    /// answers with that error at once; its worker and balancer connection
    /// are freed now. The job is marked killed and released by the caller,
    /// or at its next event (work of it still running elsewhere).
    pub(super) fn fail_request(&mut self, j: JobId, failure: Failure) {
        let route = self.cx.jobs[j].route;
        self.count_fail(j, failure);
        self.cx.jobs[j].killed = true;
        self.free_worker(j, route);
    }

    /// Pod `pod` of service `s` crashes: the requests it held fail, then it
    /// restarts later.
    pub(super) fn crash_pod(&mut self, s: crate::model::ids::ServiceId, pod: usize) {
        let def = &self.m.services[s];
        let Some(crashed) = self.services[s].crash(def, s, pod, &mut self.cx) else {
            return;
        };
        for j in crashed.waiting {
            self.abort(j);
        }
        for j in crashed.executing {
            self.count_fail(j, Failure::Aborted);
            self.cx.jobs[j].killed = true;
        }
        self.services[s].after_crash(def, s, pod, crashed.was, &mut self.cx);
    }

    /// A request lets go of the balancer connection it holds, if any.
    #[inline]
    fn leave_lb(&mut self, lb: Option<LbId>, now: SimTime) {
        if let Some(l) = lb {
            self.balancers[l].leave(now);
        }
    }

    /// The worker that ran request `j` (on `route`'s pod) is free.
    #[inline]
    fn free_worker(&mut self, _j: JobId, route: crate::kernel::job::Route) {
        let s = route.service;
        let pod = route.pod().expect("a request that ran has a pod") as usize;
        self.services[s].free_worker(&self.m.services[s], pod, &mut self.cx);
    }

    /// Frees job `j`'s slot; a request must have told its client first.
    #[inline]
    pub(super) fn release(&mut self, j: JobId) {
        debug_assert!(
            !matches!(
                self.cx.jobs[j].call(),
                Some(crate::kernel::job::Call::Open(_))
            ),
            "request {j:?} ended without telling its client (Clients::outcome)"
        );
        self.cx.jobs.release(j);
    }
}
