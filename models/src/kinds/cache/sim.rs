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

use sim_core::{SimDuration, SimTime};

use super::Sink;
use super::nodes::node_state;
use super::{CacheDef, CacheState, Ev, TtlMode};
use crate::kernel::Cx;
use crate::kernel::failures::scaled;
use crate::kernel::store::expiry;
use crate::kernel::store::lru::{KeyMap, Lookup};
use crate::model::ids::JobId;

/// A miss waiting for another request's fetch.
#[derive(Debug, Clone, Copy)]
pub struct Waiter {
    /// The waiting job (at its cache step).
    pub job: JobId,
    /// When its lookup's answer (the miss) arrived.
    pub ready: SimTime,
    /// When it stops waiting and fetches itself.
    deadline: SimTime,
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

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Got {
    /// A fresh hit, answered after this latency: the program skips its
    /// `on_miss` steps.
    Hit(u64),
    /// A miss (or a node that is down), known after this latency: the
    /// request runs `on_miss` and fills.
    Miss(u64),
    /// A miss that waits for the fetch of the same key in flight; the next
    /// store of the key (or its lock timeout) resumes it.
    Wait,
}

/// What a waiter's lock timeout found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// It was answered meanwhile (or waits again, later): nothing to do.
    Stale,
    /// It was killed while it waited: it is to be released.
    Killed,
    /// It stops waiting and fetches the key itself.
    Fetch,
}

impl CacheState {
    /// Job `j` looks `value` up now.
    pub fn get(&mut self, def: &CacheDef, j: JobId, value: u64, cx: &mut Cx<impl Sink>) -> Got {
        let now = cx.now();
        self.lookups_series.add(now, 1.0);
        let renew = match (def.ttl_mode, def.ttl) {
            (TtlMode::Access, Some(t)) => Some(now + t),
            _ => None,
        };
        let (down, factor) = node_state(&self.nodes, value);
        if !down && self.store.get(value, now, renew) == Lookup::Hit {
            self.hits += 1;
            self.hits_series.add(now, 1.0);
            return Got::Hit(scaled(def.hit.sample(&mut self.hit_rng), factor));
        }
        // A lookup on a node that is down fails (connection refused) and
        // is handled as a miss by the application.
        if down {
            self.errors += 1;
        } else {
            self.misses += 1;
        }
        let latency = scaled(def.miss.sample(&mut self.miss_rng), factor);
        let st = &mut self.fetches;
        let f = st.keys.entry(value).or_default();
        f.misses += 1;
        st.stampede_max = st.stampede_max.max(u64::from(f.misses));
        if f.fetching > 0 {
            st.concurrent += 1;
            if let Some(wait) = def.coalesce {
                let ready = now + SimDuration(latency);
                let deadline = ready + wait;
                f.waiters.push(Waiter {
                    job: j,
                    ready,
                    deadline,
                });
                cx.at(deadline, Ev::LockTimeout(j));
                return Got::Wait;
            }
        }
        f.fetching += 1;
        st.fetches += 1;
        Got::Miss(latency)
    }

    /// Stores `value` now (unless its node is down: the store fails, and
    /// the application ignores it) and returns the key's waiters, to be
    /// resumed past their cache step; a `fill` also ends one fetch of the
    /// key.
    pub fn store(&mut self, def: &CacheDef, value: u64, fill: bool, now: SimTime) -> Vec<Waiter> {
        if !node_state(&self.nodes, value).0 {
            self.store.insert(value, expiry(now, def.ttl));
        }
        let Some(f) = self.fetches.keys.get_mut(&value) else {
            return Vec::new();
        };
        if fill {
            f.fetching = f.fetching.saturating_sub(1);
        }
        let waiters = std::mem::take(&mut f.waiters);
        if f.fetching == 0 {
            self.fetches.keys.remove(&value);
        }
        waiters
    }

    /// A waiter was answered by another request's store.
    pub fn coalesced(&mut self) {
        self.fetches.coalesced += 1;
    }

    /// The fill of `value` after a miss: its latency (the key was stored by
    /// [`Self::store`]).
    pub fn fill_latency(&mut self, def: &CacheDef, value: u64) -> u64 {
        let factor = node_state(&self.nodes, value).1;
        def.fill
            .as_ref()
            .map_or(0, |d| scaled(d.sample(&mut self.fill_rng), factor))
    }

    /// A completed write of `value` updates the cache: it deletes the key
    /// or, with write-through, stores it. Returns the waiters a store
    /// answers and how long the write path waits for the store.
    pub fn write(&mut self, def: &CacheDef, value: u64, now: SimTime) -> (Vec<Waiter>, u64) {
        match def.write_policy {
            super::WritePolicy::Invalidate => {
                self.store.remove(value);
                (Vec::new(), 0)
            }
            super::WritePolicy::WriteThrough => {
                let woken = self.store(def, value, false, now);
                self.fetches.updates += 1;
                let factor = node_state(&self.nodes, value).1;
                let wait = def
                    .fill
                    .as_ref()
                    .map_or(0, |d| scaled(d.sample(&mut self.write_rng), factor));
                (woken, wait)
            }
        }
    }

    /// Waiter `j`'s `lock_timeout` for `value` is up (`killed`: the job
    /// was killed meanwhile): unless it was answered meanwhile, it stops
    /// waiting and (alive) fetches the key itself.
    pub fn lock_timeout(&mut self, value: u64, j: JobId, killed: bool, now: SimTime) -> Timeout {
        let st = &mut self.fetches;
        let Some(f) = st.keys.get_mut(&value) else {
            return Timeout::Stale;
        };
        // The deadline tells this wait from a later one at the same step.
        let Some(at) = f
            .waiters
            .iter()
            .position(|w| w.job == j && w.deadline == now)
        else {
            return Timeout::Stale;
        };
        f.waiters.remove(at);
        if killed {
            if f.fetching == 0 && f.waiters.is_empty() {
                st.keys.remove(&value);
            }
            return Timeout::Killed;
        }
        f.fetching += 1;
        st.fetches += 1;
        st.lock_timeouts += 1;
        Timeout::Fetch
    }

    /// A killed job gives up its fetch of `value`: where no fetch of the
    /// key is left, the first live waiter takes over (returned: it leaves
    /// its cache step for `on_miss`). Waiters killed meanwhile are resumed
    /// only to be released.
    pub fn abandon(&mut self, value: u64, cx: &mut Cx<impl Sink>) -> Option<JobId> {
        let now = cx.now();
        let st = &mut self.fetches;
        let f = st.keys.get_mut(&value)?;
        f.fetching = f.fetching.saturating_sub(1);
        if f.fetching > 0 {
            return None;
        }
        let mut heir = None;
        while !f.waiters.is_empty() {
            let w = f.waiters.remove(0);
            cx.resume(w.job, now.max(w.ready));
            if !cx.jobs[w.job].killed {
                heir = Some(w.job);
                break;
            }
        }
        match heir {
            Some(_) => {
                f.fetching += 1;
                st.fetches += 1;
            }
            None if f.waiters.is_empty() => {
                st.keys.remove(&value);
            }
            None => {}
        }
        heir
    }
}
