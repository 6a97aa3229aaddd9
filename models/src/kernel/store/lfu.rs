//! An LFU cache of integer keys with optional expiry, as Redis'
//! `allkeys-lfu`: a full cache evicts the key with the fewest accesses,
//! and among those the least recently used one. Lookup, insert, access,
//! eviction and removal are O(1) (Shah, Mitra & Matani, "An O(1)
//! algorithm for implementing the LFU cache eviction scheme", 2010), and
//! memory is proportional to the capacity: counts are kept only for the
//! keys held, so a key evicted and stored again starts from 1.
//!
//! Keys with the same count share a *bucket*, a list ordered by recency
//! (front: most recent); buckets form a list ordered by count (front:
//! lowest). An access moves the key to the front of the next bucket, so
//! the victim is always the back of the first bucket.
//!
//! Redis' counter is a logarithmic estimate that decays over time
//! (`lfu-log-factor`, `lfu-decay-time`); this one counts exactly and never
//! decays, so a key that was hot long ago keeps its place until the keys
//! around it overtake its count.

use sim_core::SimTime;

use super::index::KeyIndex;
use super::lru::Lookup;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    expires: SimTime,
    bucket: u32,
    prev: u32,
    next: u32,
}

/// The keys accessed `count` times, most recent first.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    count: u64,
    head: u32,
    tail: u32,
    /// The bucket of the next lower count.
    prev: u32,
    /// The bucket of the next higher count.
    next: u32,
}

/// The LFU cache.
#[derive(Debug, Clone)]
pub struct Lfu {
    map: KeyIndex,
    entries: Vec<Entry>,
    free: Vec<u32>,
    buckets: Vec<Bucket>,
    free_buckets: Vec<u32>,
    /// The bucket of the lowest count (the victim's).
    low: u32,
    capacity: usize,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// Entries found expired on lookup.
    pub expirations: u64,
    /// Entries deleted by invalidation.
    pub invalidations: u64,
}

impl Lfu {
    /// An empty cache holding up to `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        let cap = capacity.max(1);
        Lfu {
            map: KeyIndex::with_capacity(cap.min(1 << 20)),
            entries: Vec::with_capacity(cap.min(1 << 20)),
            free: Vec::new(),
            buckets: Vec::new(),
            free_buckets: Vec::new(),
            low: NIL,
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

    /// The entry of `key`, if held.
    #[inline]
    fn find(&self, key: u64) -> Option<u32> {
        let entries = &self.entries;
        self.map.get(key, |n| entries[n as usize].key)
    }

    /// The access count of `key` (0 when absent), for tests.
    #[cfg(test)]
    pub fn count(&self, key: u64) -> u64 {
        self.find(key).map_or(0, |i| {
            self.buckets[self.entries[i as usize].bucket as usize].count
        })
    }

    /// A new bucket of `count` placed after `after` (NIL: at the front).
    fn new_bucket(&mut self, count: u64, after: u32) -> u32 {
        let next = if after == NIL {
            self.low
        } else {
            self.buckets[after as usize].next
        };
        let b = Bucket {
            count,
            head: NIL,
            tail: NIL,
            prev: after,
            next,
        };
        let i = match self.free_buckets.pop() {
            Some(i) => {
                self.buckets[i as usize] = b;
                i
            }
            None => {
                self.buckets.push(b);
                (self.buckets.len() - 1) as u32
            }
        };
        if after == NIL {
            self.low = i;
        } else {
            self.buckets[after as usize].next = i;
        }
        if next != NIL {
            self.buckets[next as usize].prev = i;
        }
        i
    }

    fn drop_bucket(&mut self, b: u32) {
        let Bucket { prev, next, .. } = self.buckets[b as usize];
        if prev != NIL {
            self.buckets[prev as usize].next = next;
        } else {
            self.low = next;
        }
        if next != NIL {
            self.buckets[next as usize].prev = prev;
        }
        self.free_buckets.push(b);
    }

    /// Takes entry `i` out of its bucket, dropping the bucket if empty.
    fn unlink(&mut self, i: u32) {
        let Entry {
            bucket, prev, next, ..
        } = self.entries[i as usize];
        let bk = &mut self.buckets[bucket as usize];
        if prev != NIL {
            self.entries[prev as usize].next = next;
        } else {
            bk.head = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        } else {
            bk.tail = prev;
        }
        if bk.head == NIL {
            self.drop_bucket(bucket);
        }
    }

    fn push_front(&mut self, i: u32, bucket: u32) {
        let head = self.buckets[bucket as usize].head;
        let e = &mut self.entries[i as usize];
        e.bucket = bucket;
        e.prev = NIL;
        e.next = head;
        if head != NIL {
            self.entries[head as usize].prev = i;
        } else {
            self.buckets[bucket as usize].tail = i;
        }
        self.buckets[bucket as usize].head = i;
    }

    /// One more access to entry `i`: it moves to the bucket of the next
    /// count, as its most recent key.
    fn bump(&mut self, i: u32) {
        let b = self.entries[i as usize].bucket;
        let count = self.buckets[b as usize].count + 1;
        let after = self.buckets[b as usize].next;
        let target = if after != NIL && self.buckets[after as usize].count == count {
            after
        } else {
            self.new_bucket(count, b)
        };
        // Unlink after placing the target: `b` may be dropped, and the new
        // bucket is linked to it.
        self.unlink(i);
        self.push_front(i, target);
    }

    fn drop_entry(&mut self, i: u32) {
        self.unlink(i);
        self.map.remove(self.entries[i as usize].key, i);
        self.free.push(i);
    }

    /// Looks `key` up at time `now`. A fresh hit counts as an access
    /// and, with `renew`, expires at that instant instead (sliding TTL).
    pub fn get(&mut self, key: u64, now: SimTime, renew: Option<SimTime>) -> Lookup {
        let Some(i) = self.find(key) else {
            return Lookup::Miss;
        };
        if self.entries[i as usize].expires <= now {
            self.drop_entry(i);
            self.expirations += 1;
            return Lookup::Expired;
        }
        if let Some(e) = renew {
            self.entries[i as usize].expires = e;
        }
        self.bump(i);
        Lookup::Hit
    }

    /// Stores `key` until `expires` ([`SimTime::MAX`] for never). A key
    /// already held is updated and counts an access (as a Redis `SET`
    /// does); a new one starts with a count of 1, evicting the least
    /// frequently used key when full.
    pub fn insert(&mut self, key: u64, expires: SimTime) {
        if let Some(i) = self.find(key) {
            self.entries[i as usize].expires = expires;
            self.bump(i);
            return;
        }
        if self.map.len() >= self.capacity {
            let victim = self.buckets[self.low as usize].tail;
            self.drop_entry(victim);
            self.evictions += 1;
        }
        let bucket = if self.low != NIL && self.buckets[self.low as usize].count == 1 {
            self.low
        } else {
            self.new_bucket(1, NIL)
        };
        let e = Entry {
            key,
            expires,
            bucket,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = e;
                i
            }
            None => {
                self.entries.push(e);
                (self.entries.len() - 1) as u32
            }
        };
        self.map.insert(key, i);
        self.push_front(i, bucket);
    }

    /// Deletes `key` if present (write invalidation).
    pub fn remove(&mut self, key: u64) {
        if let Some(i) = self.find(key) {
            self.drop_entry(i);
            self.invalidations += 1;
        }
    }

    /// Drops every key for which `lost` is true (a node's share of the
    /// keys, when it fails), walking the buckets from the lowest count;
    /// returns how many. Not counted as evictions or invalidations.
    pub fn lose(&mut self, lost: impl Fn(u64) -> bool) -> u64 {
        let mut victims = Vec::new();
        let mut b = self.low;
        while b != NIL {
            let mut i = self.buckets[b as usize].head;
            while i != NIL {
                let e = self.entries[i as usize];
                if lost(e.key) {
                    victims.push(i);
                }
                i = e.next;
            }
            b = self.buckets[b as usize].next;
        }
        for &i in &victims {
            self.drop_entry(i);
        }
        victims.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_frequently_used_then_least_recent() {
        let mut c = Lfu::new(3);
        c.insert(1, SimTime::MAX);
        c.insert(2, SimTime::MAX);
        c.insert(3, SimTime::MAX);
        assert_eq!(c.get(1, SimTime::ZERO, None), Lookup::Hit); // counts 1:2, 2:1, 3:1
        assert_eq!(c.get(1, SimTime::ZERO, None), Lookup::Hit); // 1:3
        assert_eq!(c.get(3, SimTime::ZERO, None), Lookup::Hit); // 3:2; 2 is the only 1
        c.insert(4, SimTime::MAX); // evicts 2
        assert_eq!(c.get(2, SimTime::ZERO, None), Lookup::Miss);
        // 4 (count 1) goes next, even though it is the newest.
        c.insert(5, SimTime::MAX);
        assert_eq!(c.get(4, SimTime::ZERO, None), Lookup::Miss);
        // Ties by recency: 5 and 6 both at 1, 5 is older.
        assert_eq!(c.get(3, SimTime::ZERO, None), Lookup::Hit); // 3:3
        assert_eq!(c.count(1), 3);
        assert_eq!(c.count(3), 3);
        c.insert(6, SimTime::MAX); // evicts 5 (count 1)
        c.insert(7, SimTime::MAX); // evicts 6
        assert_eq!((c.count(5), c.count(6), c.count(7)), (0, 0, 1));
        assert_eq!(c.evictions, 4);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn losing_keys_keeps_the_counts_of_the_rest() {
        let mut c = Lfu::new(4);
        for k in 1..=4 {
            c.insert(k, SimTime::MAX);
        }
        c.get(3, SimTime::ZERO, None);
        assert_eq!(c.lose(|k| k <= 2), 2);
        assert_eq!((c.len(), c.count(3), c.count(4), c.count(1)), (2, 2, 1, 0));
        c.insert(5, SimTime::MAX);
        c.insert(6, SimTime::MAX);
        c.insert(7, SimTime::MAX); // full: evicts 4, the least recent of count 1
        assert_eq!((c.count(4), c.count(3), c.evictions), (0, 2, 1));
    }

    /// Expiry and removal are tested for both policies in `store`.
    #[test]
    fn an_update_counts_and_buckets_are_reused() {
        let mut c = Lfu::new(10);
        c.insert(2, SimTime::MAX);
        c.insert(2, SimTime::MAX); // an update counts as an access
        assert_eq!(c.count(2), 2);
        c.remove(2);
        assert_eq!((c.count(2), c.invalidations, c.len()), (0, 1, 0));
        // Buckets are reused, not leaked.
        for k in 0..1000 {
            c.insert(k % 7, SimTime::MAX);
        }
        assert!(c.buckets.len() <= 12, "{} buckets", c.buckets.len());
    }

    #[test]
    fn matches_a_naive_model() {
        // Compare against an O(n) reference on a pseudo-random trace over
        // a skewed key space, with removals mixed in.
        let mut c = Lfu::new(8);
        // (key, count, last access)
        let mut reference: Vec<(u64, u64, u64)> = Vec::new();
        let mut x = 12345u64;
        for t in 0..50_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = x >> 33;
            let k = (r % 30) * (r % 30) % 30; // skewed towards some keys
            if r.is_multiple_of(53) {
                c.remove(k);
                reference.retain(|e| e.0 != k);
                continue;
            }
            let hit = c.get(k, SimTime::ZERO, None) == Lookup::Hit;
            let pos = reference.iter().position(|e| e.0 == k);
            assert_eq!(hit, pos.is_some(), "step {t} key {k}");
            match pos {
                Some(p) => {
                    reference[p].1 += 1;
                    reference[p].2 = t;
                }
                None => {
                    c.insert(k, SimTime::MAX);
                    if reference.len() == 8 {
                        let victim = (0..reference.len())
                            .min_by_key(|&i| (reference[i].1, reference[i].2))
                            .expect("full");
                        reference.remove(victim);
                    }
                    reference.push((k, 1, t));
                }
            }
            for e in &reference {
                assert_eq!(c.count(e.0), e.1, "step {t} key {}", e.0);
            }
        }
    }
}
