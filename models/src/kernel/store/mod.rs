//! The key store behind a cache or a CDN edge (shared by both kinds): one eviction policy
//! ([`Lru`] or [`Lfu`]) behind one interface.

pub mod lfu;
pub mod lru;

use serde::{Deserialize, Serialize};

use lfu::Lfu;
use lru::{Lookup, Lru};

/// Cache eviction policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvictionPolicy {
    /// Evict the least recently used key.
    #[default]
    Lru,
    /// Evict the least frequently used key (ties: the least recently
    /// used), as Redis' `allkeys-lfu`.
    Lfu,
}

/// Largest cache simulated, in keys.
pub const MAX_CACHE_KEYS: u64 = 50_000_000;

impl EvictionPolicy {
    /// Its name in the file and the results: `lru` or `lfu`.
    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::Lru => "lru",
            EvictionPolicy::Lfu => "lfu",
        }
    }
}

/// Keys with expiry, evicted by the configured policy.
#[derive(Debug, Clone)]
pub enum Store {
    /// Least recently used.
    Lru(Lru),
    /// Least frequently used, ties by recency.
    Lfu(Lfu),
}

impl Store {
    /// An empty store of up to `capacity` keys.
    pub fn new(policy: EvictionPolicy, capacity: u64) -> Self {
        let cap = usize::try_from(capacity).unwrap_or(usize::MAX);
        match policy {
            EvictionPolicy::Lru => Store::Lru(Lru::new(cap)),
            EvictionPolicy::Lfu => Store::Lfu(Lfu::new(cap)),
        }
    }

    /// Looks `key` up at `now` (ns); a fresh hit is an access and, with
    /// `renew`, expires at that instant instead.
    #[inline]
    pub fn get(&mut self, key: u64, now: u64, renew: Option<u64>) -> Lookup {
        match self {
            Store::Lru(c) => c.get(key, now, renew),
            Store::Lfu(c) => c.get(key, now, renew),
        }
    }

    /// Stores `key` until `expires` (ns), evicting a key when full.
    #[inline]
    pub fn insert(&mut self, key: u64, expires: u64) {
        match self {
            Store::Lru(c) => c.insert(key, expires),
            Store::Lfu(c) => c.insert(key, expires),
        }
    }

    /// Deletes `key` if present.
    pub fn remove(&mut self, key: u64) {
        match self {
            Store::Lru(c) => c.remove(key),
            Store::Lfu(c) => c.remove(key),
        }
    }

    /// Drops every key for which `lost` is true, in a fixed order;
    /// returns how many.
    pub fn lose(&mut self, lost: impl Fn(u64) -> bool) -> u64 {
        match self {
            Store::Lru(c) => c.lose(lost),
            Store::Lfu(c) => c.lose(lost),
        }
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        match self {
            Store::Lru(c) => c.len(),
            Store::Lfu(c) => c.len(),
        }
    }

    /// (evictions, expirations, invalidations) so far.
    pub fn counters(&self) -> (u64, u64, u64) {
        match self {
            Store::Lru(c) => (c.evictions, c.expirations, c.invalidations),
            Store::Lfu(c) => (c.evictions, c.expirations, c.invalidations),
        }
    }
}
