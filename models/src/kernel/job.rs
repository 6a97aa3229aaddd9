//! Jobs: the requests and queue-message attempts in flight, in a slab
//! whose free slots are reused, each with the key values it carries.
//!
//! A job runs a compiled program. Where its answer goes is typed by its
//! [`Reply`]: a workload's client, a parent job that called it, or the
//! queue consumer whose message it works on. Only requests (client or
//! parent replies) are routed through balancers and pods, so only they
//! have a meaningful [`Route`].

use sim_core::SimTime;

use crate::model::ids::{EndpointId, JobId, LbId, ProgramId, QueueId, ServiceId, WorkloadId};

/// Jobs alive at once beyond which a run stops as unstable instead of
/// eating all memory.
pub const MAX_JOBS: usize = 5_000_000;

/// A job's client call, when its workload's client keeps state (retries,
/// closed-loop users).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// The client keeps no state for it: its outcome is counted directly.
    Untracked,
    /// An attempt of the client call in this slot of the call table.
    Open(u32),
    /// The client already has this attempt's outcome (it timed out and the
    /// system still works on it): nothing more is counted for it.
    Settled,
}

/// Where a job's answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A request a workload's client sent.
    Client {
        /// The workload.
        workload: WorkloadId,
        /// Its client call.
        call: Call,
    },
    /// A branch of a `parallel` step, run for its parent job on the
    /// parent's pod: the parent waits for it (its `fanout` counts the
    /// branches still running) and goes on when the last one ends.
    Fork(JobId),
    /// An attempt of a service call (the `call` step): its answer goes to
    /// the call's slot (`kinds/call`), which tells the parent job.
    Call {
        /// The call's slot.
        slot: u32,
        /// The attempt's generation (stale once it differs from the
        /// slot's).
        tag: u32,
    },
    /// An attempt at a queue message, run by a consumer.
    Consumer {
        /// The queue.
        queue: QueueId,
        /// The consumer (its index in the group).
        consumer: u32,
    },
}

/// Where a request is served: its endpoint, the service that executes it,
/// the pod it runs on and the balancer it passed. (Four words: the pod and
/// the balancer are kept as `u32` with [`Route::NOT`] for none, behind
/// accessors, so a job stays one cache line.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The endpoint called.
    pub ep: EndpointId,
    /// The service that executes it.
    pub service: ServiceId,
    pod: u32,
    lb: u32,
}

impl Default for Route {
    fn default() -> Self {
        Route::new(EndpointId(0), ServiceId(0), None)
    }
}

impl Route {
    /// "None" in the compact fields.
    const NOT: u32 = u32::MAX;

    /// A request for `ep` of `service`, through balancer `lb` if any, not
    /// on a pod yet.
    pub fn new(ep: EndpointId, service: ServiceId, lb: Option<LbId>) -> Self {
        Route {
            ep,
            service,
            pod: Route::NOT,
            lb: lb.map_or(Route::NOT, |l| l.0),
        }
    }

    /// The pod it was handed to (None before dispatch, or after it left).
    #[inline]
    pub fn pod(&self) -> Option<u32> {
        (self.pod != Route::NOT).then_some(self.pod)
    }

    /// Hands it to `pod` (or takes it off its pod).
    #[inline]
    pub fn set_pod(&mut self, pod: Option<u32>) {
        self.pod = pod.unwrap_or(Route::NOT);
    }

    /// The balancer it passed, while it holds a connection there.
    #[inline]
    pub fn lb(&self) -> Option<LbId> {
        (self.lb != Route::NOT).then_some(LbId(self.lb))
    }

    /// It no longer holds a balancer's connection.
    #[inline]
    pub fn leave_lb(&mut self) {
        self.lb = Route::NOT;
    }
}

/// A request or a message attempt in flight.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// Where its answer goes.
    pub reply: Reply,
    /// Where a request is served (unused by message attempts).
    pub route: Route,
    /// The program it runs.
    pub program: ProgramId,
    /// Its next instruction.
    pub pc: u32,
    /// When it was born: sent by its client, made by its parent, or (for a
    /// message attempt) when its message was published.
    pub born: SimTime,
    /// When its current wait began: for a worker (queued at its pod), or
    /// for the answer of the step it waits on (see `edge`).
    pub since: SimTime,
    /// What it waits for before its program goes on: database statements
    /// (1 for a read or write, one per shard for a scatter) or children.
    pub fanout: u32,
    /// Counted in the statistics (born in the measured period).
    pub measured: bool,
    /// Its slot is in use.
    pub live: bool,
    /// It failed while it still had work in flight (its pod crashed, a
    /// statement failed, its consumer was removed): already counted, and
    /// released at its next event without running further.
    pub killed: bool,
    /// It holds one of its event-loop pod's cores (while it computes).
    pub core: bool,
    /// The topology edge of the step it waits on (a cache, database,
    /// queue or call step, begun at `since`), or `u32::MAX` for none.
    /// Fits in the padding: a job stays one cache line.
    pub edge: u32,
}

impl Job {
    /// A job of `program` born now, at its first instruction.
    #[inline]
    pub fn new(
        reply: Reply,
        route: Route,
        program: ProgramId,
        now: SimTime,
        measured: bool,
    ) -> Self {
        Job {
            reply,
            route,
            program,
            pc: 0,
            born: now,
            since: now,
            fanout: 0,
            measured,
            live: true,
            killed: false,
            core: false,
            edge: u32::MAX,
        }
    }

    /// Its client call, if a workload's client sent it.
    #[inline]
    pub fn call(&self) -> Option<Call> {
        match self.reply {
            Reply::Client { call, .. } => Some(call),
            Reply::Fork(_) | Reply::Call { .. } | Reply::Consumer { .. } => None,
        }
    }
}

/// The job slab: jobs alive and free slots, with `nkeys` key values per
/// slot.
#[derive(Debug, Clone)]
pub struct Jobs {
    slab: Vec<Job>,
    keys: Vec<u64>,
    free: Vec<u32>,
    nkeys: usize,
    /// Jobs alive.
    pub live: usize,
    /// Most jobs alive at once.
    pub peak: usize,
    /// Measured jobs alive, plus measured client calls waiting to retry,
    /// plus measured messages not yet processed in queues that have
    /// consumers (the run of an observation window ends when this
    /// reaches 0).
    pub measured_live: usize,
    /// More than [`MAX_JOBS`] jobs were alive at once.
    pub overflow: bool,
}

impl Jobs {
    /// An empty slab of jobs carrying `nkeys` keys each.
    pub fn new(nkeys: usize) -> Self {
        Jobs {
            slab: Vec::new(),
            keys: Vec::new(),
            free: Vec::new(),
            nkeys,
            live: 0,
            peak: 0,
            measured_live: 0,
            overflow: false,
        }
    }

    /// Takes a slot for `job` (its keys are left as the slot had them:
    /// the caller writes them).
    #[inline]
    pub fn alloc(&mut self, job: Job) -> JobId {
        self.live += 1;
        self.measured_live += usize::from(job.measured);
        self.peak = self.peak.max(self.live);
        if let Some(j) = self.free.pop() {
            self.slab[j as usize] = job;
            return JobId(j);
        }
        if self.slab.len() >= MAX_JOBS {
            self.overflow = true;
        }
        self.slab.push(job);
        self.keys.resize(self.slab.len() * self.nkeys, 0);
        JobId::new(self.slab.len() - 1)
    }

    /// Frees job `j`'s slot.
    #[inline]
    pub fn release(&mut self, j: JobId) {
        let job = &mut self.slab[j];
        job.live = false;
        self.measured_live -= usize::from(job.measured);
        self.live -= 1;
        self.free.push(j.0);
    }

    /// Job `j`'s value of key `key`.
    #[inline]
    pub fn key(&self, j: JobId, key: usize) -> u64 {
        self.keys[j.ix() * self.nkeys + key]
    }

    /// Job `j`'s key values.
    #[inline]
    pub fn keys(&self, j: JobId) -> &[u64] {
        let base = j.ix() * self.nkeys;
        &self.keys[base..base + self.nkeys]
    }

    /// Job `j`'s key values, to write.
    #[inline]
    pub fn keys_mut(&mut self, j: JobId) -> &mut [u64] {
        let base = j.ix() * self.nkeys;
        &mut self.keys[base..base + self.nkeys]
    }

    /// Job `to` carries job `from`'s key values (a child its parent's).
    #[inline]
    pub fn copy_keys(&mut self, from: JobId, to: JobId) {
        let n = self.nkeys;
        self.keys
            .copy_within(from.ix() * n..from.ix() * n + n, to.ix() * n);
    }

    /// Every slot with its job, alive or not, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (JobId, &Job)> {
        self.slab
            .iter()
            .enumerate()
            .map(|(i, j)| (JobId::new(i), j))
    }

    /// Branch `child` of a parallel step ended: one job fewer for its
    /// parent to wait for. Returns the parent when it has nothing left to
    /// wait for and may go on. The child is released by the caller.
    #[inline]
    pub fn child_done(&mut self, child: JobId) -> Option<JobId> {
        let Reply::Fork(parent) = self.slab[child].reply else {
            return None;
        };
        let p = &mut self.slab[parent];
        p.fanout -= 1;
        (p.fanout == 0 && p.live).then_some(parent)
    }
}

impl std::ops::Index<JobId> for Jobs {
    type Output = Job;
    #[inline]
    fn index(&self, j: JobId) -> &Job {
        &self.slab[j]
    }
}

impl std::ops::IndexMut<JobId> for Jobs {
    #[inline]
    fn index_mut(&mut self, j: JobId) -> &mut Job {
        &mut self.slab[j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job is one cache line: the slab is walked by every event.
    #[test]
    fn a_job_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Job>(), 64);
    }

    fn request(reply: Reply) -> Job {
        Job::new(reply, Route::default(), ProgramId(0), SimTime(5), true)
    }

    /// A parent that forked two branches goes on when the second ends,
    /// not before; children of other kinds of reply answer no parent.
    #[test]
    fn a_parent_resumes_when_its_last_child_answers() {
        let mut jobs = Jobs::new(1);
        let client = Reply::Client {
            workload: WorkloadId(0),
            call: Call::Untracked,
        };
        let parent = jobs.alloc(request(client));
        jobs[parent].fanout = 2;
        let a = jobs.alloc(request(Reply::Fork(parent)));
        let b = jobs.alloc(request(Reply::Fork(parent)));
        assert_eq!(jobs.child_done(a), None, "one child still running");
        jobs.release(a);
        assert_eq!(jobs.child_done(b), Some(parent));
        jobs.release(b);
        assert_eq!(jobs[parent].fanout, 0);
        assert_eq!(
            jobs.child_done(parent),
            None,
            "a client's request has no parent"
        );
        let message = jobs.alloc(request(Reply::Consumer {
            queue: QueueId(0),
            consumer: 0,
        }));
        assert_eq!(jobs.child_done(message), None);
        assert_eq!(jobs[message].call(), None);
        assert_eq!(jobs[parent].call(), Some(Call::Untracked));
    }

    /// Released slots are reused, each slot has its own keys, and the
    /// counts of live and measured jobs follow.
    #[test]
    fn slots_are_reused_and_counted() {
        let mut jobs = Jobs::new(2);
        let a = jobs.alloc(request(Reply::Fork(JobId(9))));
        jobs.keys_mut(a).copy_from_slice(&[7, 8]);
        let b = jobs.alloc(request(Reply::Fork(JobId(9))));
        jobs.keys_mut(b).copy_from_slice(&[9, 9]);
        assert_eq!((jobs.keys(a), jobs.key(b, 1)), (&[7, 8][..], 9));
        assert_eq!((jobs.live, jobs.peak, jobs.measured_live), (2, 2, 2));
        jobs.release(a);
        assert!(!jobs[a].live);
        let c = jobs.alloc(request(Reply::Fork(JobId(9))));
        assert_eq!(c, a, "the free slot is reused");
        assert_eq!((jobs.live, jobs.peak), (2, 2));
        assert_eq!(
            jobs.key(c, 1),
            8,
            "a reused slot keeps its old keys until written"
        );
    }
}
