//! Read replicas and asynchronous replication.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use sim_core::stats::CoarseHistogram;
use sim_core::{RngStream, SimTime};

use super::pool::Pool;
use super::sim::Stmt;
use super::{DbDef, DbState, ReadFrom};

/// A read replica of a shard: its own pool, and the writes it has not
/// applied yet (asynchronous replication).
///
/// A write committed on the primary at `t` becomes visible here at
/// `t + lag` (a fresh draw per write and replica), but never before an
/// earlier write of the same row: a replica applies a row's writes in
/// order. A read of a row is stale when a write of that row is not visible
/// yet. Only rows with a write still in flight are remembered, so memory is
/// the replication backlog (write rate x mean lag, by Little's law), not
/// the key space or the run's length.
#[derive(Clone)]
pub struct Replica {
    /// Its connection pool.
    pub pool: Pool,
    /// Reads it served.
    pub reads: u64,
    /// Of them, stale.
    pub stale_reads: u64,
    /// Its reads' service times.
    pub read_rng: RngStream,
    /// Its replication lags.
    pub lag_rng: RngStream,
    /// Row (routing key id, value) -> when its latest write becomes
    /// visible; only rows with a write not visible yet. Looked up, never
    /// iterated.
    pub pending: HashMap<(u32, u64), u64>,
    /// The same writes as (visible at, key id, value), earliest first, to
    /// forget them once visible.
    pub backlog: BinaryHeap<Reverse<(u64, u32, u64)>>,
    /// Replication lag of each write: from its commit on the primary to
    /// its visibility here (read_from other than primary only).
    pub lag_hist: CoarseHistogram,
}

impl Replica {
    /// Forgets writes visible by `now`.
    pub fn forget_visible(&mut self, now: u64) {
        while let Some(&Reverse((at, key, value))) = self.backlog.peek() {
            if at > now {
                break;
            }
            self.backlog.pop();
            if self.pending.get(&(key, value)) == Some(&at) {
                self.pending.remove(&(key, value));
            }
        }
    }
}

impl DbState {
    /// A write committed on the primary now: each replica will see it after
    /// a lag drawn for it, and not before an earlier write of the row.
    /// Without replicas that serve reads nothing is tracked.
    pub fn replicate(&mut self, def: &DbDef, st: &Stmt, now: SimTime) {
        if def.read_from == ReadFrom::Primary {
            return;
        }
        let now = now.0;
        let row = (st.key, st.value);
        for r in &mut self.shards[st.shard as usize].replicas {
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
}
