//! Database steps: routing to a shard, choosing the primary or a replica,
//! waiting for a connection of that node's pool, the statement's service
//! time, asynchronous replication and stale reads, and scatter-gather.
//!
//! Every read and write becomes a statement ([`Stmt`]) that lives from the
//! moment it is issued until it finishes, so one request can have several
//! in flight: a scatter issues one read per shard at once, and the request
//! continues when the last of them finishes (its `fanout` reaches 0).

use std::cmp::Reverse;

use sim_core::SimTime;

use super::state::{NO_ROW, Pool, Stmt};
use super::{Ev, World};
use crate::model::{Instr, KeyId};
use crate::scenario::ReadFrom;

impl World<'_> {
    /// Starts a read or write of the job's `key` on `db`: routes it to a
    /// shard and takes a connection, or waits for one.
    pub(super) fn db_start(&mut self, j: u32, db: usize, key: KeyId, write: bool) {
        let value = self.key(j, key);
        let shard = self.m.databases[db].router.route(value);
        let job = &mut self.jobs[j as usize];
        job.pc += 1;
        job.fanout = 1;
        self.issue(j, db, shard, write, key as u32, value);
    }

    /// Starts a scatter-gather: one read on each of `shards` consecutive
    /// shards (wrapping), from the shard of the job's `key` (shard 0
    /// without a key).
    pub(super) fn scatter_start(&mut self, j: u32, db: usize, key: Option<KeyId>, shards: u32) {
        let router = &self.m.databases[db].router;
        let n = router.shards();
        let first = key.map_or(0, |k| router.route(self.key(j, k)));
        let job = &mut self.jobs[j as usize];
        job.pc += 1;
        job.fanout = shards;
        for i in 0..shards as usize {
            self.issue(j, db, (first + i) % n, false, NO_ROW, 0);
        }
    }

    /// Issues one statement on `shard`: writes go to the primary, reads to
    /// the node `read_from` picks. It takes a connection of that node's
    /// pool at once or waits for one.
    fn issue(&mut self, j: u32, db: usize, shard: usize, write: bool, key: u32, value: u64) {
        let def = &self.m.databases[db];
        let now = self.now();
        let sh = &mut self.dbs[db].shards[shard];
        let replicas = sh.replicas.len() as u32;
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
                    let n = sh.rr;
                    sh.rr = (sh.rr + 1) % (replicas + 1);
                    n
                }
            }
        };
        if node > 0 {
            sh.replica_reads += 1;
            sh.replicas[node as usize - 1].reads += 1;
        }
        sh.ops_series.add(SimTime(now), 1.0);
        let s = self.stmts.alloc(Stmt {
            job: j,
            db: db as u32,
            shard: shard as u32,
            node,
            write,
            key,
            value,
            wait_from: now,
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
    }

    /// Statement `s` has a connection: it runs for a draw of its service
    /// time. A read of a row on a replica is stale if a write of that row
    /// has not reached the replica yet.
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
                if r.pending.contains_key(&(st.key, st.value)) && st.wait_from >= self.warmup {
                    r.stale_reads += 1;
                    sh.stale_reads += 1;
                }
            }
            def.read.sample(&mut r.read_rng)
        };
        self.q.push(SimTime(now + d), Ev::DbDone(s));
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
        let j = st.job;
        // Write-through stores the request waits for (cache.rs).
        let mut cache_wait = 0;
        if st.write {
            let job = self.jobs[j as usize];
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
        let job = &mut self.jobs[j as usize];
        job.fanout -= 1;
        if job.fanout > 0 {
            return;
        }
        if cache_wait > 0 {
            self.q.push(SimTime(now + cache_wait), Ev::Resume(j));
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
            if at > now {
                r.pending.insert(row, at);
                r.backlog.push(Reverse((at, row.0, row.1)));
            }
        }
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
