//! Statements: routing to a shard, choosing the primary or a replica,
//! waiting for a connection of that node's pool, the statement's service
//! time, stale reads, and the failures of a shard's primary.
//!
//! Every read and write becomes a statement ([`Stmt`]) that lives from the
//! moment it is issued until it finishes, so one request can have several
//! in flight: a scatter issues one read per shard at once, and the request
//! continues when the last of them finishes.
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
//! job at once; the job's other statements, if any, run to their end on
//! their nodes. A slow-down multiplies the service time of statements that
//! get a connection during it; statements already running keep their
//! drawn time.

use sim_core::{SimDuration, SimTime};

use super::Sink;
use super::pool::Pool;
use super::replica::Replica;
use super::{DbDef, DbState, Ev, ReadFrom, Shard};
use crate::kernel::Cx;
use crate::kernel::failures::{exponential, scaled};
use crate::model::faults::DbRole;
use crate::model::ids::{DbId, JobId};

/// A statement in flight: waiting for a connection or executing.
#[derive(Clone, Copy)]
pub struct Stmt {
    /// Its job (None once the job failed and went on without it).
    pub job: Option<JobId>,
    /// The database.
    pub db: DbId,
    /// The shard.
    pub shard: u32,
    /// 0: the primary; `r + 1`: replica `r`.
    pub node: u32,
    /// A write (else a read).
    pub write: bool,
    /// The row: routing key id ([`NO_ROW`] for a scatter's reads) and value.
    pub key: u32,
    /// The row's key value.
    pub value: u64,
    /// When it began to wait for a connection.
    pub wait_from: SimTime,
    /// Its node went down while it ran: it already failed, and its end
    /// only frees its slot.
    pub dead: bool,
}

/// [`Stmt::key`] of a read that is not of one row (a scatter's).
pub const NO_ROW: u32 = u32::MAX;

/// The statements in flight of every database, in a slab whose free
/// slots are reused.
#[derive(Clone, Default)]
pub struct Stmts {
    slab: Vec<Stmt>,
    free: Vec<u32>,
}

impl Stmts {
    fn alloc(&mut self, s: Stmt) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = s;
                i
            }
            None => {
                self.slab.push(s);
                (self.slab.len() - 1) as u32
            }
        }
    }

    /// Which slots are free.
    fn free_slots(&self) -> Vec<bool> {
        let mut free = vec![false; self.slab.len()];
        for &i in &self.free {
            free[i as usize] = true;
        }
        free
    }

    /// The statements of job `j` still in flight go on without it: their
    /// ends free their connections and nothing else.
    pub fn detach(&mut self, j: JobId) {
        let free = self.free_slots();
        for (i, st) in self.slab.iter_mut().enumerate() {
            if !free[i] && st.job == Some(j) {
                st.job = None;
            }
        }
    }
}

/// The pool of `node` (0: the primary, `r + 1`: replica `r`).
fn node_pool<'a>(primary: &'a mut Pool, replicas: &'a mut [Replica], node: u32) -> &'a mut Pool {
    if node == 0 {
        primary
    } else {
        &mut replicas[node as usize - 1].pool
    }
}

/// One shard (`Some`) or all.
fn shards_of(shards: &mut [Shard], one: Option<u32>) -> &mut [Shard] {
    match one {
        Some(s) => &mut shards[s as usize..=s as usize],
        None => shards,
    }
}

impl DbState {
    /// Issues one statement of job `j` on `shard`: writes go to the
    /// primary, reads to the node `read_from` picks. It takes a connection
    /// of that node's pool at once or waits for one. False if it is refused
    /// (the node is down): the caller fails it.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &mut self,
        d: DbId,
        def: &DbDef,
        stmts: &mut Stmts,
        j: JobId,
        shard: usize,
        write: bool,
        key: u32,
        value: u64,
        cx: &mut Cx<impl Sink>,
    ) -> bool {
        let now = cx.now();
        let sh = &mut self.shards[shard];
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
        sh.ops_series.add(now, 1.0);
        if node == 0 && down {
            // Connection refused.
            sh.failed += 1;
            return false;
        }
        if node > 0 {
            sh.replica_reads += 1;
            sh.replicas[node as usize - 1].reads += 1;
        }
        let s = stmts.alloc(Stmt {
            job: Some(j),
            db: d,
            shard: shard as u32,
            node,
            write,
            key,
            value,
            wait_from: now,
            dead: false,
        });
        let sh = &mut self.shards[shard];
        let pool = node_pool(&mut sh.primary, &mut sh.replicas, node);
        if pool.busy < def.connections {
            pool.wait_n += 1; // a connection at once: a wait of zero
            pool.wait_hist.record(0);
            pool.busy += 1;
            pool.busy_tw.set(now, f64::from(pool.busy));
            if node == 0 {
                sh.util_series
                    .set(now, f64::from(sh.primary.busy) / f64::from(def.connections));
            }
            self.execute(def, stmts, s, cx);
        } else {
            pool.queue.push_back(s);
            pool.queue_tw.set(now, pool.queue.len() as f64);
        }
        true
    }

    /// Statement `s` has a connection: it runs for a draw of its service
    /// time (times the slow-downs of its node in effect). A read of a row
    /// on a replica is stale if a write of that row has not reached the
    /// replica yet.
    fn execute(&mut self, def: &DbDef, stmts: &Stmts, s: u32, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let st = stmts.slab[s as usize];
        let sh = &mut self.shards[st.shard as usize];
        let d = if st.node == 0 {
            if st.write {
                def.write.sample(&mut sh.write_rng)
            } else {
                def.read.sample(&mut sh.read_rng)
            }
        } else {
            let r = &mut sh.replicas[st.node as usize - 1];
            if st.key != NO_ROW {
                r.forget_visible(now.0);
                // Counted with the reads: in the period the read was issued.
                if r.pending.contains_key(&(st.key, st.value)) && st.wait_from >= cx.period.warmup {
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
        cx.after(SimDuration(d), Ev::Done(s));
    }

    /// Statement `s` finished: its slot is freed. Returns it, unless it had
    /// failed already (its node went down while it ran). The caller then
    /// commits it (a write's cache updates and replication) and gives its
    /// connection on ([`Self::release`]).
    pub fn finished(stmts: &mut Stmts, s: u32) -> Option<Stmt> {
        let st = stmts.slab[s as usize];
        stmts.free.push(s);
        (!st.dead).then_some(st)
    }

    /// Statement `st` lets go of its connection: the next statement waiting
    /// for the node's pool takes it.
    pub fn release(&mut self, def: &DbDef, stmts: &mut Stmts, st: &Stmt, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let sh = &mut self.shards[st.shard as usize];
        let pool = node_pool(&mut sh.primary, &mut sh.replicas, st.node);
        if let Some(n) = pool.queue.pop_front() {
            pool.queue_tw.set(now, pool.queue.len() as f64);
            let waited = (now - stmts.slab[n as usize].wait_from).0;
            pool.wait_sum_ns += waited as f64;
            pool.wait_n += 1;
            pool.wait_hist.record(waited);
            self.execute(def, stmts, n, cx);
        } else {
            pool.busy -= 1;
            pool.busy_tw.set(now, f64::from(pool.busy));
            if st.node == 0 {
                sh.util_series
                    .set(now, f64::from(sh.primary.busy) / f64::from(def.connections));
            }
        }
    }

    /// Schedules the first random failure of every shard's primary.
    pub fn schedule_failures(&mut self, d: DbId, def: &DbDef, cx: &mut Cx<impl Sink>) {
        if def.failures.is_some() {
            for s in 0..self.shards.len() {
                self.schedule_shard_failure(d, def, s, cx);
            }
        }
    }

    /// Draws the shard primary's next failure (exponential, mean `mtbf`).
    fn schedule_shard_failure(&mut self, d: DbId, def: &DbDef, s: usize, cx: &mut Cx<impl Sink>) {
        let Some((mtbf, _)) = def.failures else {
            return;
        };
        let h = &mut self.shards[s].health;
        let dt = exponential(h.fail_rng.as_mut().expect("a failure stream"), mtbf);
        cx.after(
            dt,
            Ev::ShardDown {
                db: d,
                shard: s as u32,
            },
        );
    }

    /// A shard's primary fails at random: down for a repair time
    /// (exponential, mean `mttr`). Returns the jobs whose statements failed
    /// (see [`Self::primary_down`]).
    pub fn shard_failure(
        &mut self,
        d: DbId,
        def: &DbDef,
        stmts: &mut Stmts,
        s: usize,
        cx: &mut Cx<impl Sink>,
    ) -> Vec<JobId> {
        let (_, mttr) = def.failures.expect("random failures");
        let h = &mut self.shards[s].health;
        let dt = exponential(h.fail_rng.as_mut().expect("a failure stream"), mttr);
        cx.after(
            dt,
            Ev::ShardUp {
                db: d,
                shard: s as u32,
            },
        );
        self.primary_down(d, def, stmts, s, cx)
    }

    /// A randomly failed primary is repaired; its next failure is drawn.
    pub fn shard_repair(&mut self, d: DbId, def: &DbDef, s: usize, cx: &mut Cx<impl Sink>) {
        self.primary_up(s, cx.now());
        self.schedule_shard_failure(d, def, s, cx);
    }

    /// One more outage of the shard's primary. If it goes down now, the
    /// statements waiting for its connections and those running on them
    /// fail: returns their jobs, one entry per failed statement, for the
    /// caller to fail (a job has at most one statement on a shard, so each
    /// is a different job, alive until its turn here).
    pub fn primary_down(
        &mut self,
        d: DbId,
        _def: &DbDef,
        stmts: &mut Stmts,
        s: usize,
        cx: &Cx<impl Sink>,
    ) -> Vec<JobId> {
        let now = cx.now();
        let sh = &mut self.shards[s];
        if !sh.health.down(now) {
            return Vec::new();
        }
        let waiting: Vec<u32> = sh.primary.queue.drain(..).collect();
        let p = &mut sh.primary;
        p.queue_tw.set(now, 0.0);
        p.busy = 0;
        p.busy_tw.set(now, 0.0);
        sh.util_series.set(now, 0.0);
        sh.failed += waiting.len() as u64;
        stmts.free.extend(&waiting);
        // Running: in flight (not free), on this primary, not yet dead.
        let free = stmts.free_slots();
        let mut running = Vec::new();
        for (i, st) in stmts.slab.iter_mut().enumerate() {
            if !free[i] && !st.dead && st.db == d && st.shard as usize == s && st.node == 0 {
                st.dead = true;
                running.push(st.job);
            }
        }
        self.shards[s].failed += running.len() as u64;
        let waiting_jobs = waiting.iter().map(|&i| stmts.slab[i as usize].job);
        // Detached statements (their job failed already) only go.
        waiting_jobs.chain(running).flatten().collect()
    }

    /// One outage of the shard's primary fewer; it serves again when none
    /// is left.
    pub fn primary_up(&mut self, s: usize, now: SimTime) {
        self.shards[s].health.up(now);
    }

    /// Starts (or ends) a slow-down by `factor` of one shard or all (their
    /// primaries, replicas, or both by `role`).
    pub fn slow_down(&mut self, shard: Option<u32>, role: DbRole, factor: f64, start: bool) {
        for sh in shards_of(&mut self.shards, shard) {
            if role != DbRole::Replicas {
                sh.health.slow.set(factor, start);
            }
            if role != DbRole::Primary {
                sh.replica_slow.set(factor, start);
            }
        }
    }

    /// The shard that holds `value` under the database's routing.
    pub fn route(def: &DbDef, value: u64) -> usize {
        def.router.route(value)
    }

    /// Shards.
    pub fn shards(def: &DbDef) -> usize {
        def.router.shards()
    }

    /// Marks the time of the warm-up's end on every node.
    pub(super) fn reset_nodes(&mut self, now: SimTime) {
        for sh in &mut self.shards {
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
}
