//! Sharding: how a key value maps to a shard, and what fraction of rows
//! moves between two layouts.
//!
//! A [`Router`] is one resolved layout. Its strategies, one per file where
//! they take more than a few lines:
//!
//! - [`Router::Hash`]: `stable_hash(value) mod shards` (xxh3-64);
//! - [`Router::Range`]: contiguous value ranges between split points;
//! - [`Router::Ring`]: a consistent-hash ring with virtual nodes ([`ring`]);
//! - [`Router::Jump`]: Lamping & Veach's jump consistent hash ([`jump`]);
//! - [`Router::Directory`]: an explicit value -> shard table with a
//!   fallback ([`directory`]).
//!
//! Every hash is xxh3-64 with a fixed seed ([`sim_core::stable_hash`] for
//! key values), and every table is a sorted `Vec`, so a layout routes the
//! same way on every platform, release and run.
//!
//! # Moved rows
//!
//! [`moved_fraction`] compares one database in two models (another
//! strategy, shard count, number of virtual nodes, directory, split points
//! or shard key): rows are sampled from the *base* model's workloads, each
//! sample one request's key values (workloads weighted by their expected
//! arrivals), routed once by the base layout (its shard key and router) and
//! once by the candidate's. A row moves when the two shard indices differ;
//! shard `i` is taken to be the same machine in both layouts, as when
//! shards are added at the end. [`moved_between`] does the same for two
//! routers and given values, and [`Router::expected_moved`] gives the exact
//! fraction of uniformly hashed keys where it is known.

pub mod directory;
pub mod jump;
pub mod ring;

use sim_core::RngStream;

use crate::model::Model;
use crate::scenario::ShardStrategy;
pub use directory::{Directory, Fallback};
pub use jump::jump_hash;
pub use ring::Ring;

/// How key values map to shards: one resolved layout.
#[derive(Debug, Clone, PartialEq)]
pub enum Router {
    /// `stable_hash(v) mod shards`.
    Hash {
        /// Number of shards.
        shards: u32,
    },
    /// Shard i holds `[bounds[i-1], bounds[i])`.
    Range {
        /// The `shards - 1` ascending split points.
        bounds: Vec<u64>,
    },
    /// Consistent-hash ring with virtual nodes.
    Ring(Ring),
    /// Jump consistent hash of `stable_hash(v)`.
    Jump {
        /// Number of shards.
        shards: u32,
    },
    /// Explicit value -> shard table with a fallback.
    Directory(Directory),
}

impl Router {
    /// The shard that owns `value`.
    #[inline]
    pub fn route(&self, value: u64) -> usize {
        match self {
            Router::Hash { shards } => (sim_core::stable_hash(value) % u64::from(*shards)) as usize,
            Router::Range { bounds } => bounds.partition_point(|&b| b <= value),
            Router::Ring(r) => r.route(value),
            Router::Jump { shards } => jump_hash(sim_core::stable_hash(value), *shards) as usize,
            Router::Directory(d) => d.route(value),
        }
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        match self {
            Router::Hash { shards } | Router::Jump { shards } => *shards as usize,
            Router::Range { bounds } => bounds.len() + 1,
            Router::Ring(r) => r.shards() as usize,
            Router::Directory(d) => d.shards() as usize,
        }
    }

    /// The strategy.
    pub fn strategy(&self) -> ShardStrategy {
        match self {
            Router::Hash { .. } => ShardStrategy::Hash,
            Router::Range { .. } => ShardStrategy::Range,
            Router::Ring(_) => ShardStrategy::Ring,
            Router::Jump { .. } => ShardStrategy::Jump,
            Router::Directory(_) => ShardStrategy::Directory,
        }
    }

    /// The strategy's name as written in scenario files and results.
    pub fn strategy_name(&self) -> &'static str {
        match self {
            Router::Hash { .. } => "hash",
            Router::Range { .. } => "range",
            Router::Ring(_) => "ring",
            Router::Jump { .. } => "jump",
            Router::Directory(_) => "directory",
        }
    }

    /// The exact fraction of keys whose shard differs between `self` and
    /// `other`, for keys whose hashes are uniform, where a closed form is
    /// known: modulo to modulo (`1 - gcd/max`), jump to jump (`|m - n| /
    /// max`: only keys of the added or removed buckets move) and ring to
    /// ring (the arcs that change owner, measured exactly). `None` for
    /// other pairs: use [`moved_between`] or [`moved_fraction`].
    pub fn expected_moved(&self, other: &Router) -> Option<f64> {
        match (self, other) {
            (Router::Hash { shards: a }, Router::Hash { shards: b }) => {
                Some(sim_core::theory::modulo_moved_fraction(*a, *b))
            }
            (Router::Jump { shards: a }, Router::Jump { shards: b }) => {
                Some(f64::from(a.abs_diff(*b)) / f64::from((*a).max(*b)))
            }
            (Router::Ring(a), Router::Ring(b)) => Some(ring::moved_hash_space(a, b)),
            _ => None,
        }
    }
}

/// The fraction of `values` whose shard differs between layouts `a` and
/// `b` (0 for no values).
pub fn moved_between(a: &Router, b: &Router, values: impl IntoIterator<Item = u64>) -> f64 {
    let (mut n, mut moved) = (0u64, 0u64);
    for v in values {
        n += 1;
        moved += u64::from(a.route(v) != b.route(v));
    }
    if n == 0 { 0.0 } else { moved as f64 / n as f64 }
}

/// The fraction of sampled rows of database `db` whose shard differs
/// between `base` and `candidate` (any two layouts: see the module docs),
/// or `None` when either model lacks the database or a sampled row lacks
/// the key a layout routes by.
pub fn moved_fraction(
    base: &Model,
    candidate: &Model,
    db: &str,
    samples: usize,
    seed: u64,
) -> Option<f64> {
    let b = base.databases.iter().find(|d| d.name == db)?;
    let c = candidate.databases.iter().find(|d| d.name == db)?;
    let b_key = &base.keys[b.shard_key];
    let c_key = &candidate.keys[c.shard_key];
    let weights: Vec<f64> = base
        .workloads
        .iter()
        .map(|w| w.profile.expected_arrivals(base.duration.0))
        .collect();
    let total: f64 = weights.iter().sum();
    if total <= 0.0 || samples == 0 {
        return None;
    }
    let mut pick = RngStream::new(seed, &format!("sharding/{db}/pick"));
    let mut gens: Vec<Vec<_>> = base
        .workloads
        .iter()
        .map(|w| {
            w.keys
                .iter()
                .map(|(id, _, g)| {
                    let name = base.keys[*id].clone();
                    let rng = RngStream::new(seed, &format!("sharding/{db}/{}/{name}", w.name));
                    (name, g.clone(), rng)
                })
                .collect()
        })
        .collect();
    let mut moved = 0usize;
    for _ in 0..samples {
        let mut u = pick.unit() * total;
        let mut wi = weights.len() - 1;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                wi = i;
                break;
            }
            u -= w;
        }
        let mut bv = None;
        let mut cv = None;
        for (name, g, rng) in &mut gens[wi] {
            // Rows are spread over the base run's duration.
            let now = pick.below(base.duration.0.max(1));
            let v = g.sample(rng, now);
            if name == b_key {
                bv = Some(v);
            }
            if name == c_key {
                cv = Some(v);
            }
        }
        if b.router.route(bv?) != c.router.route(cv?) {
            moved += 1;
        }
    }
    Some(moved as f64 / samples as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(shards: u32, strategy: &str, key: &str) -> Model {
        let text = format!(
            r#"{{"name": "s", "duration": "10s",
                "workloads": [{{"name": "w", "target": "app", "rate": [{{"rps": 10}}], "mix": {{"get": 1}},
                               "keys": {{"user": {{"uniform": {{"n": 1000000}}}}, "tenant": {{"uniform": {{"n": 100}}}}}}}}],
                "services": [{{"name": "app", "replicas": 1, "concurrency": 1, "queue_capacity": 10,
                              "endpoints": {{"get": [{{"read": {{"db": "d"}}}}]}}}}],
                "databases": [{{"name": "d", "shards": {shards}, "shard_key": "{key}", "strategy": "{strategy}",
                               "connections": 1, "read_time": "1ms", "write_time": "1ms"}}]}}"#
        );
        crate::scenario::load("s.json", &text, &[]).unwrap().1
    }

    #[test]
    fn modulo_n_to_n_plus_one_moves_n_over_n_plus_one() {
        let base = model(8, "hash", "user");
        let cand = model(9, "hash", "user");
        let f = moved_fraction(&base, &cand, "d", 100_000, 1).unwrap();
        // Binomial sd at n = 1e5: 0.001; allow 5 sd.
        assert!((f - 8.0 / 9.0).abs() < 0.005, "{f}");
    }

    #[test]
    fn identical_layouts_move_nothing_and_range_splits_move_predictably() {
        let base = model(4, "range", "user");
        assert_eq!(moved_fraction(&base, &base, "d", 10_000, 1), Some(0.0));
        // Even ranges 4 -> 8 shards over [0, 1e6): a value keeps its shard
        // only if floor(8v/n) == floor(4v/n), i.e. in [0, n/8): 1/8 stays.
        let cand = model(8, "range", "user");
        let f = moved_fraction(&base, &cand, "d", 100_000, 1).unwrap();
        assert!((f - 7.0 / 8.0).abs() < 0.005, "{f}");
    }

    #[test]
    fn consistent_strategies_move_only_the_new_shards_keys() {
        for strategy in ["jump", "ring"] {
            let base = model(8, strategy, "user");
            let cand = model(9, strategy, "user");
            let f = moved_fraction(&base, &cand, "d", 100_000, 1).unwrap();
            let exact = base.databases[0]
                .router
                .expected_moved(&cand.databases[0].router)
                .unwrap();
            // Binomial sd at n = 1e5: 0.001; allow 5 sd.
            assert!((f - exact).abs() < 0.005, "{strategy}: {f} vs {exact}");
        }
        // Across strategies: hash -> jump keeps a key where both agree,
        // about 1/8 of the time for independent-looking functions.
        let f = moved_fraction(
            &model(8, "hash", "user"),
            &model(8, "jump", "user"),
            "d",
            50_000,
            1,
        );
        assert!((f.unwrap() - 7.0 / 8.0).abs() < 0.01, "{f:?}");
    }

    #[test]
    fn changing_the_shard_key_moves_almost_everything() {
        let base = model(8, "hash", "user");
        let cand = model(8, "hash", "tenant");
        let f = moved_fraction(&base, &cand, "d", 50_000, 1).unwrap();
        // Independent keys: a row stays with probability 1/8.
        assert!((f - 7.0 / 8.0).abs() < 0.01, "{f}");
    }
}
