//! The key store behind a cache or a CDN edge (shared by both kinds): one eviction policy
//! ([`Lru`] or [`Lfu`]) behind one interface.

pub mod index;
pub mod lfu;
pub mod lru;

use serde::{Deserialize, Serialize};
use sim_core::{SimDuration, SimTime};

use lfu::Lfu;
use lru::{Lookup, Lru};

/// Cache eviction policies.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
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

/// When a key stored (or renewed) at `now` with time to live `ttl` expires:
/// never ([`SimTime::MAX`]) without one.
#[inline]
pub fn expiry(now: SimTime, ttl: Option<SimDuration>) -> SimTime {
    ttl.map_or(SimTime::MAX, |t| now + t)
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

    /// Looks `key` up at `now`; a fresh hit is an access and, with
    /// `renew`, expires at that instant instead.
    #[inline]
    pub fn get(&mut self, key: u64, now: SimTime, renew: Option<SimTime>) -> Lookup {
        match self {
            Store::Lru(c) => c.get(key, now, renew),
            Store::Lfu(c) => c.get(key, now, renew),
        }
    }

    /// Stores `key` until `expires` ([`SimTime::MAX`]: never), evicting a
    /// key when full.
    #[inline]
    pub fn insert(&mut self, key: u64, expires: SimTime) {
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

    /// No key held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (evictions, expirations, invalidations) so far.
    pub fn counters(&self) -> (u64, u64, u64) {
        match self {
            Store::Lru(c) => (c.evictions, c.expirations, c.invalidations),
            Store::Lfu(c) => (c.evictions, c.expirations, c.invalidations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both policies: a key expires at its instant (moved on by a
    /// renewal), an expired key is dropped and counted once, and a
    /// removal is an invalidation.
    #[test]
    fn expiry_renewal_and_removal() {
        for policy in [EvictionPolicy::Lru, EvictionPolicy::Lfu] {
            let mut s = Store::new(policy, 10);
            s.insert(1, SimTime(100));
            assert_eq!(s.get(1, SimTime(99), Some(SimTime(150))), Lookup::Hit);
            assert_eq!(s.get(1, SimTime(149), None), Lookup::Hit);
            assert_eq!(s.get(1, SimTime(150), None), Lookup::Expired);
            assert_eq!(s.get(1, SimTime(101), None), Lookup::Miss);
            s.insert(2, SimTime::MAX);
            s.remove(2);
            assert_eq!(s.get(2, SimTime::ZERO, None), Lookup::Miss);
            // (evictions, expirations, invalidations), keys held
            let want = ((0, 1, 1), 0);
            assert_eq!((s.counters(), s.len()), want, "{}", policy.name());
        }
    }

    /// Without a TTL a key never expires; with one, the expiry saturates
    /// at the end of time.
    #[test]
    fn expiry_of_a_ttl() {
        let ttl = Some(SimDuration::from_millis(3));
        assert_eq!(expiry(SimTime(5), None), SimTime::MAX);
        assert_eq!(expiry(SimTime(5), ttl), SimTime(3_000_005));
        assert_eq!(expiry(SimTime(u64::MAX - 1), ttl), SimTime::MAX);
    }
}
