//! An LRU cache of integer keys with optional expiry: O(1) lookup, insert,
//! touch, eviction and removal, memory proportional to its capacity.
//!
//! Its [`KeyIndex`] is only ever probed, never iterated, so its layout
//! cannot reach results.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use sim_core::SimTime;

use super::index::KeyIndex;

/// A fast hasher for `u64` keys (folded 128-bit multiply).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    #[inline]
    fn write_u64(&mut self, k: u64) {
        let m = u128::from(k ^ self.0) * 0x9E37_79B9_7F4A_7C15_u128;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

/// A `HashMap` keyed by `u64` with [`KeyHasher`].
pub type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: u64,
    expires: SimTime,
    /// Bumped at each access and when the node is freed: the recency
    /// queue's entries of an older version are stale.
    version: u32,
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Present and fresh.
    Hit,
    /// Absent.
    Miss,
    /// Present but expired (now removed): a miss.
    Expired,
}

/// The LRU cache: recency is a queue of accesses, oldest first, each
/// naming a node and its version then. An access pushes a new entry and
/// bumps the node's version, which makes its earlier entries stale; the
/// least recently used key is the node of the first entry that is not.
/// This is exactly the order of a doubly linked list moved to the front at
/// each access, but an access writes one node and appends to the queue
/// instead of touching the node's two neighbours. Stale entries are swept
/// out when they outnumber the keys, so memory stays proportional to the
/// capacity.
#[derive(Debug, Clone)]
pub struct Lru {
    map: KeyIndex,
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// (node, version) per access, oldest first.
    recency: VecDeque<(u32, u32)>,
    capacity: usize,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// Entries found expired on lookup.
    pub expirations: u64,
    /// Entries deleted by invalidation.
    pub invalidations: u64,
}

impl Lru {
    /// An empty cache holding up to `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        let cap = capacity.max(1);
        Lru {
            map: KeyIndex::with_capacity(cap.min(1 << 20)),
            nodes: Vec::with_capacity(cap.min(1 << 20)),
            free: Vec::new(),
            recency: VecDeque::with_capacity(cap.min(1 << 20)),
            capacity: cap,
            evictions: 0,
            expirations: 0,
            invalidations: 0,
        }
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The node of `key`, if held.
    #[inline]
    fn find(&self, key: u64) -> Option<u32> {
        let nodes = &self.nodes;
        self.map.get(key, |n| nodes[n as usize].key)
    }

    /// Whether queue entry `e` is its node's latest access.
    #[inline]
    fn live(&self, e: (u32, u32)) -> bool {
        self.nodes[e.0 as usize].version == e.1
    }

    /// Node `i` is the most recently used.
    #[inline]
    fn touch(&mut self, i: u32) {
        let n = &mut self.nodes[i as usize];
        n.version = n.version.wrapping_add(1);
        self.recency.push_back((i, n.version));
        if self.recency.len() >= 2 * self.map.len() + 64 {
            self.sweep();
        }
    }

    /// Drops the stale entries, keeping the order of the others.
    #[cold]
    fn sweep(&mut self) {
        let nodes = &self.nodes;
        self.recency
            .retain(|&(i, v)| nodes[i as usize].version == v);
    }

    #[inline]
    fn drop_node(&mut self, i: u32) {
        let n = &mut self.nodes[i as usize];
        n.version = n.version.wrapping_add(1);
        let key = n.key;
        self.map.remove(key, i);
        self.free.push(i);
    }

    /// Looks `key` up at time `now`; a fresh hit becomes most recent
    /// and, with `renew`, expires at that instant instead (sliding TTL).
    pub fn get(&mut self, key: u64, now: SimTime, renew: Option<SimTime>) -> Lookup {
        let Some(i) = self.find(key) else {
            return Lookup::Miss;
        };
        if self.nodes[i as usize].expires <= now {
            self.drop_node(i);
            self.expirations += 1;
            return Lookup::Expired;
        }
        if let Some(e) = renew {
            self.nodes[i as usize].expires = e;
        }
        self.touch(i);
        Lookup::Hit
    }

    /// Stores `key` until `expires` ([`SimTime::MAX`] for never), evicting
    /// the least recently used key when full.
    pub fn insert(&mut self, key: u64, expires: SimTime) {
        if let Some(i) = self.find(key) {
            self.nodes[i as usize].expires = expires;
            self.touch(i);
            return;
        }
        if self.map.len() >= self.capacity {
            loop {
                let e = self
                    .recency
                    .pop_front()
                    .expect("a full cache has a live entry");
                if self.live(e) {
                    self.drop_node(e.0);
                    break;
                }
            }
            self.evictions += 1;
        }
        let i = match self.free.pop() {
            Some(i) => {
                let n = &mut self.nodes[i as usize];
                n.key = key;
                n.expires = expires;
                i
            }
            None => {
                self.nodes.push(Node {
                    key,
                    expires,
                    version: 0,
                });
                (self.nodes.len() - 1) as u32
            }
        };
        self.map.insert(key, i);
        self.touch(i);
    }

    /// Deletes `key` if present (write invalidation).
    pub fn remove(&mut self, key: u64) {
        if let Some(i) = self.find(key) {
            self.drop_node(i);
            self.invalidations += 1;
        }
    }

    /// Drops every key for which `lost` is true (a node's share of the
    /// keys, when it fails), walking the keys in recency order; returns
    /// how many. Not counted as evictions or invalidations.
    pub fn lose(&mut self, lost: impl Fn(u64) -> bool) -> u64 {
        let mut n = 0;
        for k in (0..self.recency.len()).rev() {
            let e = self.recency[k];
            if self.live(e) && lost(self.nodes[e.0 as usize].key) {
                self.drop_node(e.0);
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let mut c = Lru::new(2);
        c.insert(1, SimTime::MAX);
        c.insert(2, SimTime::MAX);
        assert_eq!(c.get(1, SimTime::ZERO, None), Lookup::Hit); // 2 is now least recent
        c.insert(3, SimTime::MAX);
        assert_eq!(c.get(2, SimTime::ZERO, None), Lookup::Miss);
        assert_eq!(c.get(1, SimTime::ZERO, None), Lookup::Hit);
        assert_eq!(c.get(3, SimTime::ZERO, None), Lookup::Hit);
        assert_eq!(c.evictions, 1);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn losing_keys_keeps_the_order_of_the_rest() {
        let mut c = Lru::new(4);
        for k in 1..=4 {
            c.insert(k, SimTime::MAX);
        }
        assert_eq!(c.lose(|k| k % 2 == 0), 2);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(2, SimTime::ZERO, None), Lookup::Miss);
        c.insert(5, SimTime::MAX);
        c.insert(6, SimTime::MAX);
        c.insert(7, SimTime::MAX); // full: evicts 1, the least recent left
        assert_eq!(c.get(1, SimTime::ZERO, None), Lookup::Miss);
        assert_eq!(c.get(3, SimTime::ZERO, None), Lookup::Hit);
        assert_eq!((c.evictions, c.invalidations), (1, 0));
    }

    #[test]
    fn matches_a_naive_model() {
        // Compare against an O(n) reference list on a pseudo-random trace.
        let mut c = Lru::new(8);
        let mut reference: Vec<u64> = Vec::new(); // front = most recent
        let mut x = 12345u64;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = (x >> 33) % 20;
            let hit = c.get(k, SimTime::ZERO, None) == Lookup::Hit;
            let pos = reference.iter().position(|&r| r == k);
            assert_eq!(hit, pos.is_some());
            if let Some(p) = pos {
                reference.remove(p);
            } else {
                c.insert(k, SimTime::MAX);
                if reference.len() == 8 {
                    reference.pop();
                }
            }
            reference.insert(0, k);
        }
    }

    /// Against an O(n) list with expiry, renewal, removals and lost keys,
    /// at several capacities (the recency queue is swept many times).
    #[test]
    fn matches_a_naive_model_with_removals_and_expiry() {
        for cap in [1usize, 3, 50] {
            let mut c = Lru::new(cap);
            // front = most recent: (key, expires)
            let mut reference: Vec<(u64, u64)> = Vec::new();
            let mut x = 99u64;
            for t in 0..30_000u64 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let k = (x >> 33) % (2 * cap as u64 + 3);
                let now = SimTime(t);
                let pos = reference.iter().position(|&(r, _)| r == k);
                match (x >> 20) % 16 {
                    0 => {
                        c.remove(k);
                        if let Some(p) = pos {
                            reference.remove(p);
                        }
                    }
                    1 if t.is_multiple_of(500) => {
                        let lost = |key: u64| key % 3 == t % 3;
                        c.lose(lost);
                        reference.retain(|&(r, _)| !lost(r));
                    }
                    _ => {
                        let renew = (x >> 40).is_multiple_of(4).then_some(SimTime(t + 40));
                        let got = c.get(k, now, renew);
                        let want = match pos {
                            None => Lookup::Miss,
                            Some(p) if reference[p].1 <= t => {
                                reference.remove(p);
                                Lookup::Expired
                            }
                            Some(p) => {
                                let (r, e) = reference.remove(p);
                                reference.insert(0, (r, renew.map_or(e, |s| s.0)));
                                Lookup::Hit
                            }
                        };
                        assert_eq!(got, want, "cap {cap} t {t} key {k}");
                        if want != Lookup::Hit {
                            let e = t + 1 + (x >> 50) % 100;
                            c.insert(k, SimTime(e));
                            if reference.len() == cap {
                                reference.pop();
                            }
                            reference.insert(0, (k, e));
                        }
                    }
                }
                assert_eq!(c.len(), reference.len());
            }
        }
    }
}
