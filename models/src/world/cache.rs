//! Cache steps: cache-aside lookups and fills, writes (invalidation or
//! write-through), and the misses of a key that pile up while it is being
//! fetched: counted as a stampede, or, with `coalesce`, made to wait for
//! the one fetch in flight.
//!
//! # Fetches and waiting lists
//!
//! A miss that runs its `on_miss` steps is a *fetch* of its key until its
//! fill. Every cache keeps, for the keys with a fetch in flight only, the
//! number of fetches and the misses that came while they ran (the stampede:
//! without coalescing each of those misses is a fetch too). With
//! coalescing, a miss that finds a fetch in flight parks on the key's
//! waiting list instead, and is answered by the next store of the key (a
//! fill or a write-through), as Varnish, nginx's `proxy_cache_lock` or Go's
//! singleflight do. The memory is bounded by the keys being fetched.
//!
//! A waiter never hangs: it waits at most `lock_timeout`, then fetches
//! itself (nginx's behaviour), and when a fetching request dies (its pod
//! crashed) the first waiter takes the fetch over at once. Client timeouts
//! are lazy and do not end a fetch: the request goes on and fills.
//!
//! # Nodes, failures and slow-downs
//!
//! When a failure or a fault can touch a cache, each key lives on one of
//! its `nodes`, by Redis Cluster's hash slots: slot = hash(value) mod
//! 16384, and the slots are dealt to the nodes in equal contiguous ranges.
//! A node that goes down (an outage, or a random failure: up for
//! Exp(`mtbf`), down for Exp(`mttr`)) loses its keys at once and comes back
//! empty, as a Redis without persistence restarts. While it is down, a
//! lookup of one of its keys fails after a miss round trip (connection
//! refused), counted in `errors`, and the application treats the error as a
//! miss: it runs `on_miss` (a fetch, coalesced as any miss), and the fill
//! is dropped if the node is still down. A slow-down multiplies the
//! latencies of lookups, fills and write-through stores that start during
//! it; the node keeps its keys. Capacity stays one pool for the whole
//! cache.

use sim_core::SimTime;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::pods::exponential;
use super::state::{Health, scaled};
use super::{Ev, World};
use crate::kernel::store::lru::KeyMap;
use crate::kernel::store::lru::Lookup;
use crate::kinds::cache::TtlMode;
use crate::kinds::cache::WritePolicy;
use crate::model::KeyId;
use crate::model::faults::FaultDef;
use crate::model::faults::FaultTarget;
use crate::model::program::Instr;
use crate::system::Model;

/// Redis Cluster's number of hash slots.
const SLOTS: u64 = 16384;
/// Seed of the slot hash (xxh3-64), unlike the databases' (0), so a key's
/// cache node and its shard are independent.
const SLOT_SEED: u64 = 0x736c_6f74; // "slot"

/// The node health of cache `c` for a run with master seed `seed`: one
/// per node when random failures or a scheduled fault can touch it, none
/// otherwise (then keys are not mapped to nodes at all).
pub(super) fn node_health(m: &Model, c: usize, seed: u64) -> Vec<Health> {
    let def = &m.caches[c];
    let faulted = m.faults.iter().any(|f| {
        matches!(
            f,
            FaultDef::SlowDown { target: FaultTarget::Cache { cache, .. }, .. }
            | FaultDef::Outage { target: FaultTarget::Cache { cache, .. }, .. }
                if *cache == c
        )
    });
    if def.failures.is_none() && !faulted {
        return Vec::new();
    }
    (0..def.nodes)
        .map(|n| {
            Health::new(def.failures.map(|_| {
                sim_core::RngStream::new(seed, &format!("cache/{}/node/{n}/failures", def.name))
            }))
        })
        .collect()
}

/// The node that holds `value` (None when nodes are not tracked).
fn node_of(nodes: &[Health], value: u64) -> Option<usize> {
    match nodes.len() {
        0 => None,
        1 => Some(0),
        n => {
            let slot = xxh3_64_with_seed(&value.to_le_bytes(), SLOT_SEED) % SLOTS;
            Some((slot * n as u64 / SLOTS) as usize)
        }
    }
}

/// Whether `value`'s node is down, and its slow-down factor.
fn node_state(nodes: &[Health], value: u64) -> (bool, f64) {
    node_of(nodes, value).map_or((false, 1.0), |n| (nodes[n].is_down(), nodes[n].factor()))
}

/// A miss waiting for another request's fetch.
#[derive(Debug, Clone, Copy)]
struct Waiter {
    job: u32,
    /// When its lookup's answer (the miss) arrived.
    ready: u64,
    /// When it stops waiting and fetches itself.
    deadline: u64,
}

/// A key with a fetch in flight.
#[derive(Debug, Clone, Default)]
struct Fetch {
    /// Requests running `on_miss` for the key.
    fetching: u32,
    /// Misses of the key since the first of these fetches began.
    misses: u32,
    /// Coalesced misses, first come first served.
    waiters: Vec<Waiter>,
}

/// The keys of one cache being fetched, and what happened to their misses.
#[derive(Debug, Clone, Default)]
pub struct Fetches {
    keys: KeyMap<Fetch>,
    /// Misses that ran `on_miss` (went to the origin).
    pub fetches: u64,
    /// Misses that found a fetch of their key in flight.
    pub concurrent: u64,
    /// Waiters answered by another request's store.
    pub coalesced: u64,
    /// Waiters that gave up after `lock_timeout` and fetched.
    pub lock_timeouts: u64,
    /// Most misses of one key during one run of fetches.
    pub stampede_max: u64,
    /// Values stored by write-through writes.
    pub updates: u64,
}

impl Fetches {
    /// Statistics restart (the warm-up ended); fetches in flight go on.
    pub fn restart(&mut self) {
        *self = Fetches {
            keys: std::mem::take(&mut self.keys),
            ..Default::default()
        };
    }
}

impl World<'_> {
    /// Looks the job's key up; on a hit the program jumps to `skip_to`.
    /// Returns the lookup's latency, or None when the job waits for another
    /// request's fetch (it is resumed by [`Self::stored`]).
    pub(super) fn cache_get(
        &mut self,
        j: u32,
        cache: usize,
        key: KeyId,
        skip_to: usize,
    ) -> Option<u64> {
        let m = self.m;
        let now = self.now();
        let next = self.cx.jobs[j as usize].pc + 1;
        let value = self.cx.key(j, key);
        let c = &mut self.caches[cache];
        let def = &m.caches[cache];
        c.lookups_series.add(SimTime(now), 1.0);
        let renew = match (def.ttl_mode, def.ttl) {
            (TtlMode::Access, Some(t)) => Some(now.saturating_add(t.0)),
            _ => None,
        };
        let (down, factor) = node_state(&c.nodes, value);
        if !down && c.store.get(value, now, renew) == Lookup::Hit {
            c.hits += 1;
            c.hits_series.add(SimTime(now), 1.0);
            self.cx.jobs[j as usize].pc = skip_to as u32;
            return Some(scaled(def.hit.sample(&mut c.hit_rng), factor));
        }
        // A lookup on a node that is down fails (connection refused) and
        // is handled as a miss by the application.
        if down {
            c.errors += 1;
        } else {
            c.misses += 1;
        }
        let latency = scaled(def.miss.sample(&mut c.miss_rng), factor);
        let st = &mut c.fetches;
        let f = st.keys.entry(value).or_default();
        f.misses += 1;
        st.stampede_max = st.stampede_max.max(u64::from(f.misses));
        if f.fetching > 0 {
            st.concurrent += 1;
            if let Some(wait) = def.coalesce {
                let ready = now + latency;
                let deadline = ready.saturating_add(wait.0);
                f.waiters.push(Waiter {
                    job: j,
                    ready,
                    deadline,
                });
                self.cx.q.push(SimTime(deadline), Ev::LockTimeout(j));
                return None;
            }
        }
        f.fetching += 1;
        st.fetches += 1;
        self.cx.jobs[j as usize].pc = next;
        Some(latency)
    }

    /// Stores the job's key after a miss; returns the fill's latency.
    pub(super) fn cache_fill(&mut self, j: u32, cache: usize, key: KeyId) -> u64 {
        let m = self.m;
        let next = self.cx.jobs[j as usize].pc + 1;
        let value = self.cx.key(j, key);
        let def = &m.caches[cache];
        self.cx.jobs[j as usize].pc = next;
        self.store(cache, value, true);
        let c = &mut self.caches[cache];
        let factor = node_state(&c.nodes, value).1;
        def.fill
            .as_ref()
            .map_or(0, |d| scaled(d.sample(&mut c.fill_rng), factor))
    }

    /// Stores `value` in `cache` now (unless its node is down: the store
    /// fails, and the application ignores it) and answers the key's
    /// waiters; a `fill` also ends one fetch of the key.
    fn store(&mut self, cache: usize, value: u64, fill: bool) {
        let now = self.now();
        let def = &self.m.caches[cache];
        let c = &mut self.caches[cache];
        if !node_state(&c.nodes, value).0 {
            c.store
                .insert(value, def.ttl.map_or(u64::MAX, |t| now.saturating_add(t.0)));
        }
        let Some(f) = c.fetches.keys.get_mut(&value) else {
            return;
        };
        if fill {
            f.fetching = f.fetching.saturating_sub(1);
        }
        let waiters = std::mem::take(&mut f.waiters);
        if f.fetching == 0 {
            c.fetches.keys.remove(&value);
        }
        for w in waiters {
            let job = &mut self.cx.jobs[w.job as usize];
            let Some(Instr::CacheGet { skip_to, .. }) = self.m.programs[job.program as usize]
                .instrs
                .get(job.pc as usize)
            else {
                unreachable!("a waiter waits at its cache step")
            };
            job.pc = *skip_to as u32;
            if !job.killed {
                self.caches[cache].fetches.coalesced += 1;
            }
            // A killed waiter is resumed too, to be released.
            self.cx.q.push(SimTime(now.max(w.ready)), Ev::Resume(w.job));
        }
    }

    /// A waiter's `lock_timeout` is up: unless it was answered meanwhile,
    /// it stops waiting and fetches the key itself.
    pub(super) fn lock_timeout(&mut self, j: u32) {
        let now = self.now();
        let job = self.cx.jobs[j as usize];
        if !job.live {
            return;
        }
        let Some(&Instr::CacheGet { cache, key, .. }) = self.m.programs[job.program as usize]
            .instrs
            .get(job.pc as usize)
        else {
            return; // answered, and gone on
        };
        let value = self.cx.key(j, key);
        let st = &mut self.caches[cache].fetches;
        let Some(f) = st.keys.get_mut(&value) else {
            return;
        };
        // The deadline tells this wait from a later one at the same step.
        let Some(at) = f
            .waiters
            .iter()
            .position(|w| w.job == j && w.deadline == now)
        else {
            return;
        };
        f.waiters.remove(at);
        if job.killed {
            if f.fetching == 0 && f.waiters.is_empty() {
                st.keys.remove(&value);
            }
            self.run_program(j); // releases it
            return;
        }
        f.fetching += 1;
        st.fetches += 1;
        st.lock_timeouts += 1;
        self.cx.jobs[j as usize].pc += 1;
        self.run_program(j);
    }

    /// A killed job gives up the fetches it was running (its position is
    /// inside their `on_miss`): where no fetch of the key is left, the first
    /// waiter takes over.
    pub(super) fn cache_abandon(&mut self, j: u32) {
        let now = self.now();
        let job = self.cx.jobs[j as usize];
        let pc = job.pc as usize;
        let m = self.m;
        for (at, ins) in m.programs[job.program as usize].instrs.iter().enumerate() {
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
            let st = &mut self.caches[cache].fetches;
            let Some(f) = st.keys.get_mut(&value) else {
                continue;
            };
            f.fetching = f.fetching.saturating_sub(1);
            if f.fetching > 0 {
                continue;
            }
            // Waiters killed meanwhile are resumed only to be released.
            let mut heir = None;
            while !f.waiters.is_empty() {
                let w = f.waiters.remove(0);
                self.cx.q.push(SimTime(now.max(w.ready)), Ev::Resume(w.job));
                if !self.cx.jobs[w.job as usize].killed {
                    heir = Some(w.job);
                    break;
                }
            }
            match heir {
                Some(h) => {
                    // It leaves its cache step for `on_miss`.
                    f.fetching += 1;
                    st.fetches += 1;
                    self.cx.jobs[h as usize].pc += 1;
                }
                None if f.waiters.is_empty() => {
                    st.keys.remove(&value);
                }
                None => {}
            }
        }
    }

    /// A completed write to `value` updates `caches`: each deletes the key
    /// or, with write-through, stores it. Returns how long the write path
    /// waits for the stores (one `fill_latency` per write-through cache).
    pub(super) fn invalidate(&mut self, caches: &[usize], value: u64) -> u64 {
        let mut wait = 0;
        for &c in caches {
            let def = &self.m.caches[c];
            match def.write_policy {
                WritePolicy::Invalidate => self.caches[c].store.remove(value),
                WritePolicy::WriteThrough => {
                    self.store(c, value, false);
                    let st = &mut self.caches[c];
                    st.fetches.updates += 1;
                    let factor = node_state(&st.nodes, value).1;
                    wait += def
                        .fill
                        .as_ref()
                        .map_or(0, |d| scaled(d.sample(&mut st.write_rng), factor));
                }
            }
        }
        wait
    }

    /// Schedules the first random failure of every cache node.
    pub(super) fn schedule_cache_failures(&mut self) {
        for (c, def) in self.m.caches.iter().enumerate() {
            if def.failures.is_some() {
                for n in 0..self.caches[c].nodes.len() {
                    self.schedule_node_failure(c, n);
                }
            }
        }
    }

    /// Draws the node's next failure (exponential, mean `mtbf`).
    fn schedule_node_failure(&mut self, c: usize, n: usize) {
        let Some((mtbf, _)) = self.m.caches[c].failures else {
            return;
        };
        let now = self.now();
        let h = &mut self.caches[c].nodes[n];
        let dt = exponential(h.fail_rng.as_mut().expect("a failure stream"), mtbf);
        self.cx.q.push(
            SimTime(now.saturating_add(dt)),
            Ev::CacheNodeDown {
                cache: c as u32,
                node: n as u32,
            },
        );
    }

    /// A cache node fails at random: down for a repair time (exponential,
    /// mean `mttr`).
    pub(super) fn cache_node_failure(&mut self, c: usize, n: usize) {
        let (_, mttr) = self.m.caches[c].failures.expect("random failures");
        let now = self.now();
        let h = &mut self.caches[c].nodes[n];
        let dt = exponential(h.fail_rng.as_mut().expect("a failure stream"), mttr);
        self.cx.q.push(
            SimTime(now.saturating_add(dt)),
            Ev::CacheNodeUp {
                cache: c as u32,
                node: n as u32,
            },
        );
        self.cache_node_down(c, n);
    }

    /// A randomly failed node is back; its next failure is drawn.
    pub(super) fn cache_node_repair(&mut self, c: usize, n: usize) {
        self.cache_node_up(c, n);
        self.schedule_node_failure(c, n);
    }

    /// One more outage of node `n`: if it goes down now, its keys are lost.
    pub(super) fn cache_node_down(&mut self, c: usize, n: usize) {
        let now = self.now();
        let st = &mut self.caches[c];
        if !st.nodes[n].down(now) {
            return;
        }
        let nodes = &st.nodes;
        let lost = st.store.lose(|v| node_of(nodes, v) == Some(n));
        st.keys_lost += lost;
    }

    /// One outage of node `n` fewer: it serves again, empty, when none is
    /// left.
    pub(super) fn cache_node_up(&mut self, c: usize, n: usize) {
        let now = self.now();
        self.caches[c].nodes[n].up(now);
    }

    /// Starts (or ends) a slow-down by `factor` of one node or all.
    pub(super) fn cache_slow_down(
        &mut self,
        c: usize,
        node: Option<u32>,
        factor: f64,
        start: bool,
    ) {
        let nodes = &mut self.caches[c].nodes;
        let range = match node {
            Some(n) => n as usize..n as usize + 1,
            None => 0..nodes.len(),
        };
        for h in &mut nodes[range] {
            h.slow.set(factor, start);
        }
    }
}
