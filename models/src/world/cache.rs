//! Cache steps: cache-aside lookups and fills, and write invalidation.

use sim_core::SimTime;

use super::World;
use super::lru::Lookup;
use crate::model::KeyId;

impl World<'_> {
    /// Looks the job's key up; on a hit the program jumps to `skip_to`.
    /// Returns the lookup's latency.
    pub(super) fn cache_get(&mut self, j: u32, cache: usize, key: KeyId, skip_to: usize) -> u64 {
        let m = self.m;
        let now = self.now();
        let next = self.jobs[j as usize].pc + 1;
        let value = self.key(j, key);
        let c = &mut self.caches[cache];
        let def = &m.caches[cache];
        c.lookups_series.add(SimTime(now), 1.0);
        if c.lru.get(value, now) == Lookup::Hit {
            c.hits += 1;
            c.hits_series.add(SimTime(now), 1.0);
            self.jobs[j as usize].pc = skip_to as u32;
            def.hit.sample(&mut c.hit_rng)
        } else {
            c.misses += 1;
            self.jobs[j as usize].pc = next;
            def.miss.sample(&mut c.miss_rng)
        }
    }

    /// Stores the job's key after a miss; returns the fill's latency.
    pub(super) fn cache_fill(&mut self, j: u32, cache: usize, key: KeyId) -> u64 {
        let m = self.m;
        let now = self.now();
        let next = self.jobs[j as usize].pc + 1;
        let value = self.key(j, key);
        let def = &m.caches[cache];
        let c = &mut self.caches[cache];
        let expires = def.ttl.map_or(u64::MAX, |t| now.saturating_add(t.0));
        c.lru.insert(value, expires);
        self.jobs[j as usize].pc = next;
        def.fill.as_ref().map_or(0, |d| d.sample(&mut c.fill_rng))
    }

    /// A write to `value` deletes it from `caches`.
    pub(super) fn invalidate(&mut self, caches: &[usize], value: u64) {
        for &c in caches {
            self.caches[c].lru.remove(value);
        }
    }
}
