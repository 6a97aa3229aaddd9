//! The step interpreter: each instruction of a job's program becomes one
//! call on a kind, and the outcome it returns decides what the job does
//! next — wait a delay, wait for a connection or another request's fetch,
//! or go on. The only place that knows what a step does.

use sim_core::{SimDuration, SimTime};

use super::world::World;
use crate::kernel::job::Reply;
use crate::kernel::outcome::Failure;
use crate::kinds::cache::sim::{Got, Timeout, Waiter};
use crate::kinds::database::DbState;
use crate::kinds::database::sim::NO_ROW;
use crate::model::KeyId;
use crate::model::ids::{CacheId, DbId, JobId, ProgramId};
use crate::model::program::Instr;
use crate::system::topology::NO_EDGE;

impl World<'_> {
    /// Executes job `j`'s program from its current instruction until it
    /// must wait (a delay, a connection, a fetch, a call, its parallel
    /// branches) or ends. A killed job — or a parallel branch whose parent
    /// failed — is released instead.
    pub(super) fn run_program(&mut self, j: JobId) {
        let m = self.m;
        if self.event_loops && self.cx.jobs[j].core {
            self.release_core(j);
        }
        let job = &self.cx.jobs[j];
        if job.killed || matches!(job.reply, Reply::Fork(p) if self.cx.jobs[p].killed) {
            self.cache_abandon(j);
            self.end_job(j);
            return;
        }
        self.step_ended(j);
        if self.deadline_slot.is_some() && self.past_deadline(j) {
            return;
        }
        loop {
            let now = self.cx.now();
            let (program, pc) = {
                let job = &self.cx.jobs[j];
                (job.program, job.pc)
            };
            let Some(ins) = m.programs[program].instrs.get(pc as usize) else {
                self.program_done(j);
                return;
            };
            let next = pc + 1;
            let delay = match ins {
                Instr::Compute { dist } => {
                    if self.event_loops && !self.take_core(j) {
                        return; // waits for a core at this step
                    }
                    self.cx.jobs[j].pc = next;
                    m.step_dists[*dist].0.sample(&mut self.steps[*dist])
                }
                Instr::CacheGet {
                    cache,
                    key,
                    skip_to,
                } => {
                    self.step_started(j, program, pc);
                    let value = self.cx.key(j, *key);
                    let c = *cache;
                    match self.caches[c].get(&m.caches[c], j, value, &mut self.cx) {
                        Got::Hit(d) => {
                            self.cx.jobs[j].pc = *skip_to as u32;
                            d
                        }
                        Got::Miss(d) => {
                            self.cx.jobs[j].pc = next;
                            d
                        }
                        // Waits for another request's fetch (coalescing).
                        Got::Wait => return,
                    }
                }
                Instr::CacheFill { cache, key } => {
                    self.cx.jobs[j].pc = next;
                    let value = self.cx.key(j, *key);
                    let c = *cache;
                    let woken = self.caches[c].store(&m.caches[c], value, true, now);
                    self.wake(c, woken);
                    self.caches[c].fill_latency(&m.caches[c], value)
                }
                Instr::Read { db, key } | Instr::Write { db, key, .. } => {
                    self.step_started(j, program, pc);
                    let write = matches!(ins, Instr::Write { .. });
                    self.db_start(j, *db, *key, write);
                    return;
                }
                Instr::Scatter { db, key, shards } => {
                    self.step_started(j, program, pc);
                    self.scatter_start(j, *db, *key, *shards);
                    return;
                }
                Instr::Publish { queue, key } => {
                    self.step_started(j, program, pc);
                    self.cx.jobs[j].pc = next;
                    self.queues.publish(j, queue.ix(), *key, &mut self.cx);
                    self.queues.publish_ack(queue.ix())
                }
                Instr::Call { call } => {
                    self.step_started(j, program, pc);
                    self.cx.jobs[j].pc = next;
                    self.call_start(j, *call);
                    return;
                }
                Instr::Parallel { programs } => {
                    self.cx.jobs[j].pc = next;
                    self.fork(j, programs);
                    return;
                }
                Instr::Branch { branch, arms } => {
                    let b = *branch as usize;
                    let u = self.branch_rngs[b].unit();
                    let cum = &m.branches[b].cum;
                    let arm = cum.iter().position(|&c| u < c).unwrap_or(cum.len() - 1);
                    self.cx.jobs[j].pc = arms[arm];
                    0
                }
                Instr::Jump { to } => {
                    self.cx.jobs[j].pc = *to;
                    0
                }
            };
            if delay > 0 {
                self.cx.resume(j, now + SimDuration(delay));
                return;
            }
            self.step_ended(j);
        }
    }

    /// Job `j` begins the step at `pc` of `program`, a step to another
    /// component: it is counted on its topology edge, and timed from now.
    #[inline]
    fn step_started(&mut self, j: JobId, program: ProgramId, pc: u32) {
        let e = self.m.topology.steps[program][pc as usize];
        let now = self.cx.now();
        let job = &mut self.cx.jobs[j];
        job.edge = e;
        job.since = now;
        if job.measured {
            self.edges.count(e);
        }
    }

    /// Job `j` has its turn again: the step it waited on (if any) has
    /// answered, and its time goes on the step's edge.
    #[inline]
    fn step_ended(&mut self, j: JobId) {
        let now = self.cx.now();
        let job = &mut self.cx.jobs[j];
        let e = job.edge;
        if e == NO_EDGE {
            return;
        }
        job.edge = NO_EDGE;
        if job.measured {
            let ns = (now - job.since).0;
            self.edges.record(e, ns);
        }
    }

    /// Request `j` is about to compute: on an event-loop pod it needs a
    /// core. True when it may compute now (it has one, or its pod runs
    /// threads); false when it waits in its pod's run queue.
    fn take_core(&mut self, j: JobId) -> bool {
        let job = &self.cx.jobs[j];
        let s = job.route.service;
        let def = &self.m.services[s];
        if !def.event_loop || matches!(job.reply, Reply::Consumer { .. }) {
            return true;
        }
        let pod = job.route.pod().expect("a request that computes has a pod") as usize;
        let now = self.cx.now();
        if !self.services[s].take_core(def, pod, j, now) {
            return false;
        }
        self.cx.jobs[j].core = true;
        true
    }

    /// Request `j`'s computation ended: its core goes to the next request
    /// waiting for one, which starts computing (or, failed meanwhile, is
    /// released and passes the core on).
    fn release_core(&mut self, j: JobId) {
        let m = self.m;
        let now = self.cx.now();
        let job = &mut self.cx.jobs[j];
        job.core = false;
        let s = job.route.service;
        let pod = job.route.pod().expect("a request that computed has a pod") as usize;
        let Some(k) = self.services[s].free_core(&m.services[s], pod, now) else {
            return;
        };
        self.cx.jobs[k].core = true;
        let reply = self.cx.jobs[k].reply;
        let orphan = matches!(reply, Reply::Fork(p) if self.cx.jobs[p].killed);
        let next = &mut self.cx.jobs[k];
        if next.killed || orphan {
            self.cx.resume(k, now); // releases the core at once
            return;
        }
        let Some(&Instr::Compute { dist }) = m.programs[next.program].instrs.get(next.pc as usize)
        else {
            unreachable!("a request waits for a core at a compute step")
        };
        next.pc += 1;
        let d = m.step_dists[dist].0.sample(&mut self.steps[dist]);
        self.cx.resume(k, now + SimDuration(d));
    }

    /// Job `j`'s program ended: a request answers whoever sent it, a
    /// parallel branch tells its parent, a message attempt ends at its
    /// consumer.
    #[inline]
    fn program_done(&mut self, j: JobId) {
        match self.cx.jobs[j].reply {
            Reply::Client { .. } | Reply::Call { .. } => self.request_done(j),
            Reply::Fork(_) => self.end_job(j),
            Reply::Consumer { queue, consumer } => {
                self.queues
                    .message_done(j, queue.ix(), consumer as usize, &mut self.cx);
            }
        }
    }

    /// Waiters of `cache` answered by a store: each leaves its cache step
    /// (the value is there now) once its own lookup's answer has arrived.
    fn wake(&mut self, cache: CacheId, woken: Vec<Waiter>) {
        let now = self.cx.now();
        for w in woken {
            let job = &mut self.cx.jobs[w.job];
            let Some(Instr::CacheGet { skip_to, .. }) =
                self.m.programs[job.program].instrs.get(job.pc as usize)
            else {
                unreachable!("a waiter waits at its cache step")
            };
            job.pc = *skip_to as u32;
            if !job.killed {
                self.caches[cache].coalesced();
            }
            // A killed waiter is resumed too, to be released.
            self.cx.resume(w.job, now.max(w.ready));
        }
    }

    /// A coalesced miss has waited its longest: unless it was answered
    /// meanwhile, it stops waiting and fetches the key itself.
    pub(super) fn lock_timeout(&mut self, j: JobId) {
        let now = self.cx.now();
        let job = self.cx.jobs[j];
        if !job.live {
            return;
        }
        let Some(&Instr::CacheGet { cache, key, .. }) =
            self.m.programs[job.program].instrs.get(job.pc as usize)
        else {
            return; // answered, and gone on
        };
        let value = self.cx.key(j, key);
        match self.caches[cache].lock_timeout(value, j, job.killed, now) {
            Timeout::Stale => {}
            Timeout::Killed => self.run_program(j), // releases it
            Timeout::Fetch => {
                self.cx.jobs[j].pc += 1;
                self.run_program(j);
            }
        }
    }

    /// A killed job gives up the fetches it was running (its position is
    /// inside their `on_miss`): where no fetch of the key is left, the first
    /// waiter takes over.
    fn cache_abandon(&mut self, j: JobId) {
        let job = self.cx.jobs[j];
        let pc = job.pc as usize;
        let m = self.m;
        for (at, ins) in m.programs[job.program].instrs.iter().enumerate() {
            let &Instr::CacheGet {
                cache,
                key,
                skip_to,
            } = ins
            else {
                continue;
            };
            // Missed at `at`, fill (at skip_to - 1) not yet run.
            if !(at < pc && pc < skip_to) {
                continue;
            }
            let value = self.cx.key(j, key);
            if let Some(heir) = self.caches[cache].abandon(value, &mut self.cx) {
                // It leaves its cache step for `on_miss`.
                self.cx.jobs[heir].pc += 1;
            }
        }
    }

    /// Starts a read or write of job `j`'s `key` on `db`: routes it to a
    /// shard and takes a connection, or waits for one.
    fn db_start(&mut self, j: JobId, db: DbId, key: KeyId, write: bool) {
        let def = &self.m.databases[db];
        let value = self.cx.key(j, key);
        let shard = DbState::route(def, value);
        let job = &mut self.cx.jobs[j];
        job.pc += 1;
        job.fanout = 1;
        let issued = self.databases[db].issue(
            db,
            def,
            &mut self.stmts,
            j,
            shard,
            write,
            key as u32,
            value,
            &mut self.cx,
        );
        if !issued {
            self.stmts_failed(j, 1);
        }
    }

    /// Starts a scatter-gather: one read on each of `shards` consecutive
    /// shards (wrapping), from the shard of job `j`'s `key` (shard 0
    /// without a key).
    fn scatter_start(&mut self, j: JobId, db: DbId, key: Option<KeyId>, shards: u32) {
        let def = &self.m.databases[db];
        let n = DbState::shards(def);
        let first = key.map_or(0, |k| DbState::route(def, self.cx.key(j, k)));
        let job = &mut self.cx.jobs[j];
        job.pc += 1;
        job.fanout = shards;
        // All are sent at once; the refused ones fail the job after.
        let mut refused = 0;
        for i in 0..shards as usize {
            let issued = self.databases[db].issue(
                db,
                def,
                &mut self.stmts,
                j,
                (first + i) % n,
                false,
                NO_ROW,
                0,
                &mut self.cx,
            );
            if !issued {
                refused += 1;
            }
        }
        if refused > 0 {
            self.stmts_failed(j, refused);
        }
    }

    /// Database statement `s` finished: a write commits (cache
    /// invalidations or write-through stores, replication), the connection
    /// goes to the next waiting statement, and the job goes on once all
    /// its statements are done (after any write-through stores).
    pub(super) fn db_done(&mut self, s: u32) {
        let m = self.m;
        let now = self.cx.now();
        let Some(st) = DbState::finished(&mut self.stmts, s) else {
            return; // failed when its node went down
        };
        let def = &m.databases[st.db];
        // Write-through stores the request waits for.
        let mut cache_wait = 0;
        if st.write
            && let Some(j) = st.job
        {
            let job = self.cx.jobs[j];
            if let Instr::Write { invalidate, .. } =
                &m.programs[job.program].instrs[job.pc as usize - 1]
            {
                cache_wait = self.write_caches(invalidate, st.value, now);
            }
            self.databases[st.db].replicate(def, &st, now);
        }
        self.databases[st.db].release(def, &mut self.stmts, &st, &mut self.cx);
        let Some(j) = st.job else {
            return; // detached: its job failed meanwhile
        };
        let job = &mut self.cx.jobs[j];
        job.fanout -= 1;
        if job.fanout > 0 {
            return;
        }
        if cache_wait > 0 {
            self.cx.resume(j, now + SimDuration(cache_wait));
        } else {
            self.run_program(j);
        }
    }

    /// A completed write of `value` updates `caches`: each deletes the key
    /// or, with write-through, stores it. Returns how long the write path
    /// waits for the stores (one `fill_latency` per write-through cache).
    fn write_caches(&mut self, caches: &[CacheId], value: u64, now: SimTime) -> u64 {
        let mut wait = 0;
        for &c in caches {
            let (woken, w) = self.caches[c].write(&self.m.caches[c], value, now);
            self.wake(c, woken);
            wait += w;
        }
        wait
    }

    /// The statements that failed when a shard's primary went down, one
    /// per job.
    pub(super) fn statements_failed(&mut self, jobs: Vec<JobId>) {
        for j in jobs {
            self.stmts_failed(j, 1);
        }
    }

    /// `n` statements of job `j` failed at once (their shard's primary is
    /// down): the job fails now, unless it failed already, and is released
    /// once its last statement is accounted for.
    fn stmts_failed(&mut self, j: JobId, n: u32) {
        let job = &mut self.cx.jobs[j];
        job.fanout -= n;
        let last = job.fanout == 0;
        let killed = job.killed;
        match job.reply {
            Reply::Client { .. } | Reply::Call { .. } => {
                if !killed {
                    self.fail_request(j, Failure::Aborted);
                }
                if last {
                    self.run_program(j); // killed: gives up its fetches, released
                }
            }
            Reply::Fork(parent) => {
                // The branch fails its parent; the other branches stop at
                // their next step.
                if !killed {
                    self.cx.jobs[j].killed = true;
                    if !self.cx.jobs[parent].killed {
                        self.fail_request(parent, Failure::Aborted);
                    }
                }
                if last {
                    self.run_program(j);
                }
            }
            Reply::Consumer { queue, consumer } => {
                if killed {
                    // Its consumer is gone: released at its last event.
                    if last {
                        self.run_program(j);
                    }
                    return;
                }
                // The consumer learns of the failure now; the job's other
                // statements (a scatter's) run on without it.
                if !last {
                    self.stmts.detach(j);
                    self.cx.jobs[j].fanout = 0;
                }
                self.cache_abandon(j);
                self.queues
                    .message_failed(j, queue.ix(), consumer as usize, &mut self.cx);
            }
        }
    }
}
