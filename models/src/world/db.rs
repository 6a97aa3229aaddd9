//! Database steps: routing to a shard, choosing the primary or a replica,
//! waiting for a connection of that node's pool, the statement's service
//! time, asynchronous replication and stale reads, and scatter-gather.
//!
//! Every read and write becomes a statement ([`Stmt`]) that lives from the
//! moment it is issued until it finishes, so one request can have several
//! in flight: a scatter issues one read per shard at once, and the request
//! continues when the last of them finishes (its `fanout` reaches 0).
//!
//! # Failures and slow-downs
//!
//! A shard's primary goes down for a scheduled outage or a random failure
//! (`failures`: up for Exp(`mtbf`), down for Exp(`mttr`), no failover).
//! While it is down a statement sent to it fails at once (connection
//! refused); the statements waiting for or holding one of its connections
//! when it goes down fail then. Reads go to a replica instead when
//! `read_from` lets them (`round_robin` skips the primary; `replicas`
//! never used it); with `primary` they fail. A failed statement fails its
//! request at once ([`World::fail_request`]: counted `aborted`, worker
//! freed); its other statements, if any, run to their end on their nodes.
//! A slow-down multiplies the service time of statements that get a
//! connection during it; statements already running keep their drawn
//! time.

use std::cmp::Reverse;

use sim_core::SimTime;

use super::pods::exponential;
use super::state::{NO_ROW, Pool, Stmt, scaled};
use super::{Ev, NONE, Owner, World};
use crate::kinds::database::ReadFrom;
use crate::model::KeyId;
use crate::model::faults::DbRole;
use crate::model::faults::FaultTarget;
use crate::model::program::Instr;

impl World<'_> {
    /// Starts a read or write of the job's `key` on `db`: routes it to a
    /// shard and takes a connection, or waits for one.
    pub(super) fn db_start(&mut self, j: u32, db: usize, key: KeyId, write: bool) {
        let value = self.cx.key(j, key);
        let shard = self.m.databases[db].router.route(value);
        let job = &mut self.cx.jobs[j as usize];
        job.pc += 1;
        job.fanout = 1;
        if !self.issue(j, db, shard, write, key as u32, value) {
            self.stmts_failed(j, 1);
        }
    }

    /// Starts a scatter-gather: one read on each of `shards` consecutive
    /// shards (wrapping), from the shard of the job's `key` (shard 0
    /// without a key).
    pub(super) fn scatter_start(&mut self, j: u32, db: usize, key: Option<KeyId>, shards: u32) {
        let router = &self.m.databases[db].router;
        let n = router.shards();
        let first = key.map_or(0, |k| router.route(self.cx.key(j, k)));
        let job = &mut self.cx.jobs[j as usize];
        job.pc += 1;
        job.fanout = shards;
        // All are sent at once; the refused ones fail the job after.
        let mut refused = 0;
        for i in 0..shards as usize {
            if !self.issue(j, db, (first + i) % n, false, NO_ROW, 0) {
                refused += 1;
            }
        }
        if refused > 0 {
            self.stmts_failed(j, refused);
        }
    }

    /// Issues one statement on `shard`: writes go to the primary, reads to
    /// the node `read_from` picks. It takes a connection of that node's
    /// pool at once or waits for one. False if it is refused (the node is
    /// down): the caller fails it.
    fn issue(
        &mut self,
        j: u32,
        db: usize,
        shard: usize,
        write: bool,
        key: u32,
        value: u64,
    ) -> bool {
        let def = &self.m.databases[db];
        let now = self.now();
        let sh = &mut self.dbs[db].shards[shard];
        let replicas = sh.replicas.len() as u32;
        let down = sh.health.is_down();
        let node = if write {
            sh.writes += 1;
            0
        } else {
            sh.reads += 1;
            match def.read_from {
                ReadFrom::Primary => 0,
                ReadFrom::Replicas => {
                    let n = 1 + sh.rr;
                    sh.rr = (sh.rr + 1) % replicas;
                    n
                }
                ReadFrom::RoundRobin => {
                    let mut n = sh.rr;
                    sh.rr = (sh.rr + 1) % (replicas + 1);
                    if n == 0 && down && replicas > 0 {
                        // The primary is down: its turn goes to the next.
                        n = sh.rr;
                        sh.rr = (sh.rr + 1) % (replicas + 1);
                    }
                    n
                }
            }
        };
        sh.ops_series.add(SimTime(now), 1.0);
        if node == 0 && down {
            // Connection refused.
            sh.failed += 1;
            return false;
        }
        if node > 0 {
            sh.replica_reads += 1;
            sh.replicas[node as usize - 1].reads += 1;
        }
        let s = self.stmts.alloc(Stmt {
            job: j,
            db: db as u32,
            shard: shard as u32,
            node,
            write,
            key,
            value,
            wait_from: now,
            dead: false,
        });
        let sh = &mut self.dbs[db].shards[shard];
        let pool = node_pool(&mut sh.primary, &mut sh.replicas, node);
        if pool.busy < def.connections {
            pool.wait_n += 1; // a connection at once: a wait of zero
            pool.wait_hist.record(0);
            pool.busy += 1;
            pool.busy_tw.set(SimTime(now), f64::from(pool.busy));
            if node == 0 {
                sh.util_series.set(
                    SimTime(now),
                    f64::from(sh.primary.busy) / f64::from(def.connections),
                );
            }
            self.execute(s);
        } else {
            pool.queue.push_back(s);
            pool.queue_tw.set(SimTime(now), pool.queue.len() as f64);
        }
        true
    }

    /// Statement `s` has a connection: it runs for a draw of its service
    /// time (times the slow-downs of its node in effect). A read of a row
    /// on a replica is stale if a write of that row has not reached the
    /// replica yet.
    fn execute(&mut self, s: u32) {
        let now = self.now();
        let st = self.stmts.slab[s as usize];
        let def = &self.m.databases[st.db as usize];
        let sh = &mut self.dbs[st.db as usize].shards[st.shard as usize];
        let d = if st.node == 0 {
            if st.write {
                def.write.sample(&mut sh.write_rng)
            } else {
                def.read.sample(&mut sh.read_rng)
            }
        } else {
            let r = &mut sh.replicas[st.node as usize - 1];
            if st.key != NO_ROW {
                r.forget_visible(now);
                // Counted with the reads: in the period the read was issued.
                if r.pending.contains_key(&(st.key, st.value)) && st.wait_from >= self.cx.warmup {
                    r.stale_reads += 1;
                    sh.stale_reads += 1;
                }
            }
            def.read.sample(&mut r.read_rng)
        };
        let factor = if st.node == 0 {
            sh.health.factor()
        } else {
            sh.replica_slow.factor()
        };
        let d = scaled(d, factor);
        self.cx.q.push(SimTime(now + d), Ev::DbDone(s));
    }

    /// Statement `s` finished: a write commits (cache invalidations or
    /// write-through stores, replication), the connection goes to the next
    /// waiting statement of the pool, and the job continues once all its
    /// statements are done (after any write-through stores).
    pub(super) fn db_done(&mut self, s: u32) {
        let m = self.m;
        let now = self.now();
        let st = self.stmts.slab[s as usize];
        self.stmts.free.push(s);
        if st.dead {
            return; // failed when its node went down
        }
        let j = st.job;
        // Write-through stores the request waits for (cache.rs).
        let mut cache_wait = 0;
        if st.write && j != NONE {
            let job = self.cx.jobs[j as usize];
            if let Instr::Write { invalidate, .. } =
                &m.programs[job.program as usize].instrs[job.pc as usize - 1]
            {
                cache_wait = self.invalidate(invalidate, st.value);
            }
            self.replicate(&st);
        }
        let def = &m.databases[st.db as usize];
        let sh = &mut self.dbs[st.db as usize].shards[st.shard as usize];
        let pool = node_pool(&mut sh.primary, &mut sh.replicas, st.node);
        if let Some(n) = pool.queue.pop_front() {
            pool.queue_tw.set(SimTime(now), pool.queue.len() as f64);
            let waited = now - self.stmts.slab[n as usize].wait_from;
            pool.wait_sum_ns += waited as f64;
            pool.wait_n += 1;
            pool.wait_hist.record(waited);
            self.execute(n);
        } else {
            pool.busy -= 1;
            pool.busy_tw.set(SimTime(now), f64::from(pool.busy));
            if st.node == 0 {
                sh.util_series.set(
                    SimTime(now),
                    f64::from(sh.primary.busy) / f64::from(def.connections),
                );
            }
        }
        if j == NONE {
            return; // detached: its job failed meanwhile
        }
        let job = &mut self.cx.jobs[j as usize];
        job.fanout -= 1;
        if job.fanout > 0 {
            return;
        }
        if cache_wait > 0 {
            self.cx.q.push(SimTime(now + cache_wait), Ev::Resume(j));
        } else {
            self.run_program(j);
        }
    }

    /// A write committed on the primary now: each replica will see it after
    /// a lag drawn for it, and not before an earlier write of the row.
    /// Without replicas that serve reads nothing is tracked.
    fn replicate(&mut self, st: &Stmt) {
        let def = &self.m.databases[st.db as usize];
        if def.read_from == ReadFrom::Primary {
            return;
        }
        let now = self.now();
        let row = (st.key, st.value);
        for r in &mut self.dbs[st.db as usize].shards[st.shard as usize].replicas {
            let lag = def
                .replication_lag
                .as_ref()
                .map_or(0, |l| l.sample(&mut r.lag_rng));
            r.forget_visible(now);
            let at = (now + lag).max(r.pending.get(&row).copied().unwrap_or(0));
            r.lag_hist.record(at - now);
            if at > now {
                r.pending.insert(row, at);
                r.backlog.push(Reverse((at, row.0, row.1)));
            }
        }
    }

    /// `n` statements of job `j` failed at once (their shard's primary is
    /// down): the job fails now, unless it failed already, and is released
    /// once its last statement is accounted for.
    fn stmts_failed(&mut self, j: u32, n: u32) {
        let job = &mut self.cx.jobs[j as usize];
        job.fanout -= n;
        let last = job.fanout == 0;
        match job.owner {
            Owner::Request { .. } => {
                if !job.killed {
                    self.fail_request(j);
                }
                if last {
                    self.run_program(j); // killed: gives up its fetches, released
                }
            }
            Owner::Message { .. } => {
                if job.killed {
                    // Its consumer is gone: released at its last event.
                    if last {
                        self.run_program(j);
                    }
                    return;
                }
                // The consumer learns of the failure now; the job's other
                // statements (a scatter's) run on without it.
                if !last {
                    self.detach_statements(j);
                    self.cx.jobs[j as usize].fanout = 0;
                }
                self.cache_abandon(j);
                self.message_failed(j);
            }
        }
    }

    /// The statements of job `j` still in flight go on without it: their
    /// ends free their connections and nothing else.
    fn detach_statements(&mut self, j: u32) {
        let mut free = vec![false; self.stmts.slab.len()];
        for &i in &self.stmts.free {
            free[i as usize] = true;
        }
        for (i, st) in self.stmts.slab.iter_mut().enumerate() {
            if !free[i] && st.job == j {
                st.job = NONE;
            }
        }
    }

    /// Schedules the first random failure of every shard's primary.
    pub(super) fn schedule_db_failures(&mut self) {
        for (d, def) in self.m.databases.iter().enumerate() {
            if def.failures.is_some() {
                for s in 0..self.dbs[d].shards.len() {
                    self.schedule_shard_failure(d, s);
                }
            }
        }
    }

    /// Draws the shard primary's next failure (exponential, mean `mtbf`).
    fn schedule_shard_failure(&mut self, d: usize, s: usize) {
        let Some((mtbf, _)) = self.m.databases[d].failures else {
            return;
        };
        let now = self.now();
        let h = &mut self.dbs[d].shards[s].health;
        let dt = exponential(h.fail_rng.as_mut().expect("a failure stream"), mtbf);
        self.cx.q.push(
            SimTime(now.saturating_add(dt)),
            Ev::ShardDown {
                db: d as u32,
                shard: s as u32,
            },
        );
    }

    /// A shard's primary fails at random: down for a repair time
    /// (exponential, mean `mttr`).
    pub(super) fn shard_failure(&mut self, d: usize, s: usize) {
        let (_, mttr) = self.m.databases[d].failures.expect("random failures");
        let now = self.now();
        let h = &mut self.dbs[d].shards[s].health;
        let dt = exponential(h.fail_rng.as_mut().expect("a failure stream"), mttr);
        self.cx.q.push(
            SimTime(now.saturating_add(dt)),
            Ev::ShardUp {
                db: d as u32,
                shard: s as u32,
            },
        );
        self.primary_down(d, s);
    }

    /// A randomly failed primary is repaired; its next failure is drawn.
    pub(super) fn shard_repair(&mut self, d: usize, s: usize) {
        self.primary_up(d, s);
        self.schedule_shard_failure(d, s);
    }

    /// One more outage of the shard's primary. If it goes down now, the
    /// statements waiting for its connections and those running on them
    /// fail.
    fn primary_down(&mut self, d: usize, s: usize) {
        let now = self.now();
        let sh = &mut self.dbs[d].shards[s];
        if !sh.health.down(now) {
            return;
        }
        let waiting: Vec<u32> = sh.primary.queue.drain(..).collect();
        let p = &mut sh.primary;
        p.queue_tw.set(SimTime(now), 0.0);
        p.busy = 0;
        p.busy_tw.set(SimTime(now), 0.0);
        sh.util_series.set(SimTime(now), 0.0);
        sh.failed += waiting.len() as u64;
        self.stmts.free.extend(&waiting);
        // Running: in flight (not free), on this primary, not yet dead.
        let mut free = vec![false; self.stmts.slab.len()];
        for &i in &self.stmts.free {
            free[i as usize] = true;
        }
        let mut running = Vec::new();
        for (i, st) in self.stmts.slab.iter_mut().enumerate() {
            if !free[i] && !st.dead && st.db as usize == d && st.shard as usize == s && st.node == 0
            {
                st.dead = true;
                running.push(st.job);
            }
        }
        self.dbs[d].shards[s].failed += running.len() as u64;
        let waiting_jobs: Vec<u32> = waiting
            .iter()
            .map(|&i| self.stmts.slab[i as usize].job)
            .collect();
        // A job has at most one statement on a shard, so each of these
        // is a different job, alive until its turn here. Detached
        // statements (their job failed already) only go.
        for j in waiting_jobs.into_iter().chain(running) {
            if j != NONE {
                self.stmts_failed(j, 1);
            }
        }
    }

    /// One outage of the shard's primary fewer; it serves again when none
    /// is left.
    fn primary_up(&mut self, d: usize, s: usize) {
        let now = self.now();
        self.dbs[d].shards[s].health.up(now);
    }

    /// Starts (or ends) a slow-down by `factor` of `target`.
    pub(super) fn slow_down(&mut self, target: FaultTarget, factor: f64, start: bool) {
        match target {
            FaultTarget::Db { db, shard, role } => {
                for sh in shards_of(&mut self.dbs[db].shards, shard) {
                    if role != DbRole::Replicas {
                        sh.health.slow.set(factor, start);
                    }
                    if role != DbRole::Primary {
                        sh.replica_slow.set(factor, start);
                    }
                }
            }
            FaultTarget::Cache { cache, node } => self.cache_slow_down(cache, node, factor, start),
        }
    }

    /// Starts (or ends) an outage of `target`.
    pub(super) fn outage(&mut self, target: FaultTarget, start: bool) {
        match target {
            FaultTarget::Db { db, shard, .. } => {
                let range = match shard {
                    Some(s) => s as usize..s as usize + 1,
                    None => 0..self.dbs[db].shards.len(),
                };
                for s in range {
                    if start {
                        self.primary_down(db, s);
                    } else {
                        self.primary_up(db, s);
                    }
                }
            }
            FaultTarget::Cache { cache, node } => {
                let range = match node {
                    Some(n) => n as usize..n as usize + 1,
                    None => 0..self.m.caches[cache].nodes as usize,
                };
                for n in range {
                    if start {
                        self.cache_node_down(cache, n);
                    } else {
                        self.cache_node_up(cache, n);
                    }
                }
            }
        }
    }
}

/// One shard (`Some`) or all.
fn shards_of(shards: &mut [super::state::Shard], one: Option<u32>) -> &mut [super::state::Shard] {
    match one {
        Some(s) => &mut shards[s as usize..=s as usize],
        None => shards,
    }
}

/// The pool of `node` (0: the primary, `r + 1`: replica `r`).
fn node_pool<'a>(
    primary: &'a mut Pool,
    replicas: &'a mut [super::state::Replica],
    node: u32,
) -> &'a mut Pool {
    if node == 0 {
        primary
    } else {
        &mut replicas[node as usize - 1].pool
    }
}
