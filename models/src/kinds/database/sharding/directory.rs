//! Directory sharding: an explicit table from key value to shard, as
//! multi-tenant systems place tenants (Citus tenant isolation, Vitess
//! lookup vindexes, a `tenant -> cell` table in a control plane). Values
//! that are not in the table are placed by a fallback: one fixed shard
//! (everyone else shares the "pool" shard) or another strategy (hash, jump,
//! ring or range) over the same shards.

use super::Router;

/// Where a value missing from the directory goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Fallback {
    /// Always this shard.
    Shard(u32),
    /// Routed by this strategy (never itself a directory).
    Router(Box<Router>),
}

/// A value -> shard table with a fallback.
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    shards: u32,
    /// (value, shard), ascending by value, values unique.
    entries: Vec<(u64, u32)>,
    fallback: Fallback,
}

impl Directory {
    /// A directory over `shards` shards. `entries` may come in any order;
    /// values must be unique and shards below `shards` (validation checks
    /// both, with the file's positions, before building one).
    pub fn new(shards: u32, mut entries: Vec<(u64, u32)>, fallback: Fallback) -> Directory {
        entries.sort_unstable();
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        debug_assert!(entries.iter().all(|e| e.1 < shards));
        Directory {
            shards,
            entries,
            fallback,
        }
    }

    /// Number of shards.
    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// The mapped values, (value, shard), ascending by value.
    pub fn entries(&self) -> &[(u64, u32)] {
        &self.entries
    }

    /// Where unmapped values go.
    pub fn fallback(&self) -> &Fallback {
        &self.fallback
    }

    /// The shard that owns `value`.
    #[inline]
    pub fn route(&self, value: u64) -> usize {
        match self.entries.binary_search_by_key(&value, |e| e.0) {
            Ok(i) => self.entries[i].1 as usize,
            Err(_) => match &self.fallback {
                Fallback::Shard(s) => *s as usize,
                Fallback::Router(r) => r.route(value),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_values_go_where_mapped_and_others_fall_back() {
        let d = Directory::new(6, vec![(3, 5), (1, 0), (2, 0)], Fallback::Shard(4));
        assert_eq!(
            (d.route(1), d.route(2), d.route(3), d.route(4)),
            (0, 0, 5, 4)
        );
        let h = Router::Hash { shards: 6 };
        let d = Directory::new(6, vec![(7, 1)], Fallback::Router(Box::new(h.clone())));
        assert_eq!(d.route(7), 1);
        for v in 8..100 {
            assert_eq!(d.route(v), h.route(v));
        }
    }
}
