//! Database steps: routing to a shard, waiting for a connection, and the
//! statement's service time.

use sim_core::SimTime;

use super::{Ev, World};
use crate::model::{Instr, KeyId};

impl World<'_> {
    /// Starts a read or write of the job's `key` on `db`: routes it to a
    /// shard and takes a connection, or waits for one.
    pub(super) fn db_start(&mut self, j: u32, db: usize, key: KeyId, write: bool) {
        let m = self.m;
        let now = self.now();
        let next = self.jobs[j as usize].pc + 1;
        let value = self.key(j, key);
        let def = &m.databases[db];
        let shard = def.router.route(value);
        self.jobs[j as usize].pc = next;
        self.jobs[j as usize].shard = shard as u32;
        let sh = &mut self.dbs[db].shards[shard];
        if write {
            sh.writes += 1;
        } else {
            sh.reads += 1;
        }
        sh.ops_series.add(SimTime(now), 1.0);
        if sh.busy < def.connections {
            sh.wait_n += 1; // a connection at once: a wait of zero
            sh.busy += 1;
            sh.busy_tw.set(SimTime(now), f64::from(sh.busy));
            sh.util_series.set(
                SimTime(now),
                f64::from(sh.busy) / f64::from(def.connections),
            );
            let d = if write {
                def.write.sample(&mut sh.write_rng)
            } else {
                def.read.sample(&mut sh.read_rng)
            };
            self.q.push(SimTime(now + d), Ev::DbDone(j));
        } else {
            sh.queue.push_back(j);
            sh.queue_tw.set(SimTime(now), sh.queue.len() as f64);
            self.jobs[j as usize].wait_from = now;
        }
    }

    pub(super) fn db_done(&mut self, j: u32) {
        let m = self.m;
        let now = self.now();
        let job = self.jobs[j as usize];
        let ins = &m.programs[job.program as usize].instrs[job.pc as usize - 1];
        let (db, key) = match ins {
            Instr::Read { db, key } => (*db, *key),
            Instr::Write {
                db,
                key,
                invalidate,
            } => {
                let value = self.key(j, *key);
                self.invalidate(invalidate, value);
                (*db, *key)
            }
            _ => unreachable!("DbDone for a non-database instruction"),
        };
        let _ = key;
        let def = &m.databases[db];
        let sh = &mut self.dbs[db].shards[job.shard as usize];
        if let Some(n) = sh.queue.pop_front() {
            sh.queue_tw.set(SimTime(now), sh.queue.len() as f64);
            let waited = now - self.jobs[n as usize].wait_from;
            sh.wait_sum_ns += waited as f64;
            sh.wait_n += 1;
            let nj = self.jobs[n as usize];
            let write = matches!(
                m.programs[nj.program as usize].instrs[nj.pc as usize - 1],
                Instr::Write { .. }
            );
            let d = if write {
                def.write.sample(&mut sh.write_rng)
            } else {
                def.read.sample(&mut sh.read_rng)
            };
            self.q.push(SimTime(now + d), Ev::DbDone(n));
        } else {
            sh.busy -= 1;
            sh.busy_tw.set(SimTime(now), f64::from(sh.busy));
            sh.util_series.set(
                SimTime(now),
                f64::from(sh.busy) / f64::from(def.connections),
            );
        }
        self.run_program(j);
    }
}
