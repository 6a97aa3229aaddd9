//! A cache's section of the results document.

use serde::{Deserialize, Serialize};

/// One cache's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheResult {
    /// Name.
    pub name: String,
    /// Capacity, keys.
    pub capacity: u64,
    /// Lookups.
    pub lookups: u64,
    /// Fresh hits.
    pub hits: u64,
    /// Misses (absent or expired).
    pub misses: u64,
    /// `hits / lookups`.
    pub hit_ratio: f64,
    /// Keys evicted to make room.
    pub evictions: u64,
    /// Keys found expired.
    pub expirations: u64,
    /// Keys deleted by writes.
    pub invalidations: u64,
    /// Keys held at the end.
    pub entries_at_end: u64,
    /// Eviction policy: `lru` or `lfu`.
    #[serde(default)]
    pub policy: String,
    /// Misses that ran `on_miss` (went to the origin): `misses` without
    /// coalescing; with it, one per key and fetch, plus lock timeouts.
    #[serde(default)]
    pub fetches: u64,
    /// Misses that found a fetch of the same key already in flight (the
    /// thundering herd).
    #[serde(default)]
    pub concurrent_misses: u64,
    /// Coalesced misses answered by another request's store.
    #[serde(default)]
    pub coalesced: u64,
    /// Coalesced misses that waited `lock_timeout` and then fetched.
    #[serde(default)]
    pub lock_timeouts: u64,
    /// Most misses of one key while fetches of it were in flight (the
    /// largest stampede; 1 when misses never overlapped).
    #[serde(default)]
    pub stampede_max: u64,
    /// Values stored by write-through writes.
    #[serde(default)]
    pub updates: u64,
    /// Lookups that failed because their key's node was down (not in
    /// `hits` or `misses`; the application ran `on_miss` for each).
    #[serde(default)]
    pub errors: u64,
    /// Times a node went down (outages and random failures).
    #[serde(default)]
    pub node_failures: u64,
    /// Node-seconds down, all nodes.
    #[serde(default)]
    pub downtime_s: f64,
    /// Mean over the nodes of the fraction of the period each was up.
    #[serde(default = "crate::kernel::kind::one")]
    pub availability: f64,
    /// Keys lost when their node went down.
    #[serde(default)]
    pub keys_lost: u64,
}

/// A cache over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheSeries {
    /// Cache name.
    pub name: String,
    /// Hits / lookups in each bucket (0 when no lookups).
    pub hit_ratio: Vec<f64>,
}
