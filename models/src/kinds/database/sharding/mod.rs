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

use indexmap::IndexMap;

use super::{Database, DirectoryDefault, ShardStrategy};
use crate::kernel::resolve::{Path, Resolve};
use crate::scenario::ScenarioError;
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
    /// other pairs: use [`moved_between`] or `moved_fraction` (system/reshard.rs).
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

/// Most tokens (shards x virtual nodes) on a consistent-hash ring.
pub const MAX_RING_TOKENS: u64 = 10_000_000;

/// Resolves a database's sharding strategy and its settings into a
/// [`Router`], checking that every strategy-specific field applies.
pub fn resolve(cx: &Resolve<'_>, p: &Path, d: &Database) -> Result<Router, ScenarioError> {
    let keys = &cx.keys;
    // The strategy that places values (for a directory: its fallback too).
    let fallback = match (d.strategy, d.directory_default) {
        (ShardStrategy::Directory, None) => Some(ShardStrategy::Hash),
        (ShardStrategy::Directory, Some(DirectoryDefault::Strategy(s))) => Some(s),
        _ => None,
    };
    let uses = |s: ShardStrategy| d.strategy == s || fallback == Some(s);
    let only = |field: &str, what: &str| -> ScenarioError {
        cx.err(
            &p.k(field),
            format!("{field} applies to strategy \"{what}\" only (or a directory whose directory_default is \"{what}\")"),
        )
    };
    if d.range_boundaries.is_some() && !uses(ShardStrategy::Range) {
        return Err(only("range_boundaries", "range"));
    }
    if d.virtual_nodes.is_some() && !uses(ShardStrategy::Ring) {
        return Err(only("virtual_nodes", "ring"));
    }
    for (field, set) in [
        ("directory", d.directory.is_some()),
        ("directory_default", d.directory_default.is_some()),
    ] {
        if set && d.strategy != ShardStrategy::Directory {
            return Err(cx.err(
                &p.k(field),
                format!("{field} applies to strategy \"directory\" only"),
            ));
        }
    }
    // `strategy` is where an error about the placing strategy points: the
    // `strategy` field, or the directory's fallback.
    let build = |strategy: ShardStrategy, at: &str| -> Result<Router, ScenarioError> {
        Ok(match strategy {
            ShardStrategy::Hash => Router::Hash { shards: d.shards },
            ShardStrategy::Jump => Router::Jump { shards: d.shards },
            ShardStrategy::Ring => {
                let v = d.virtual_nodes.unwrap_or(ring::DEFAULT_VNODES);
                if v == 0 {
                    return Err(cx.err(
                        &p.k("virtual_nodes"),
                        "a shard needs at least 1 virtual node",
                    ));
                }
                if u64::from(v) * u64::from(d.shards) > MAX_RING_TOKENS {
                    return Err(cx.err(
                        &p.k("virtual_nodes"),
                        format!(
                            "{} shards x {v} virtual nodes is {} tokens; the limit is {MAX_RING_TOKENS}",
                            d.shards,
                            u64::from(v) * u64::from(d.shards)
                        ),
                    ));
                }
                Router::Ring(Ring::new(d.shards, v))
            }
            ShardStrategy::Range => match &d.range_boundaries {
                Some(bounds) => {
                    if bounds.len() + 1 != d.shards as usize {
                        return Err(cx.err(
                            &p.k("range_boundaries"),
                            format!(
                                "{} shards need {} split point{}, got {}",
                                d.shards,
                                d.shards - 1,
                                if d.shards == 2 { "" } else { "s" },
                                bounds.len()
                            ),
                        ));
                    }
                    if let Some(w) = bounds.windows(2).position(|w| w[0] >= w[1]) {
                        return Err(cx.err(
                            &p.k("range_boundaries").i(w + 1),
                            "split points must be strictly ascending",
                        ));
                    }
                    Router::Range {
                        bounds: bounds.clone(),
                    }
                }
                None => match keys.get(&d.shard_key).copied().flatten() {
                    Some(n) => Router::Range {
                        bounds: (1..d.shards as u64)
                            .map(|i| {
                                ((u128::from(n) * u128::from(i)) / u128::from(d.shards)) as u64
                            })
                            .collect(),
                    },
                    None => {
                        return Err(cx.err(
                            &p.k(at),
                            format!(
                                "range sharding on `{}` needs range_boundaries: the key is sequential, so its value space has no known size",
                                d.shard_key
                            ),
                        ));
                    }
                },
            },
            ShardStrategy::Directory => unreachable!("a directory's fallback is never a directory"),
        })
    };
    if d.strategy != ShardStrategy::Directory {
        return build(d.strategy, "strategy");
    }
    let Some(table) = &d.directory else {
        return Err(cx.err(
            &p.k("strategy"),
            "strategy \"directory\" needs a `directory`: key value -> shard, e.g. {\"1\": 0, \"2\": 0, \"3\": 5}",
        ));
    };
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(table.len());
    let mut seen: IndexMap<u64, &str> = IndexMap::new();
    for (k, &shard) in table {
        let kp = p.k("directory").k(k);
        let Ok(v) = k.trim().parse::<u64>() else {
            return Err(cx.err(
                &kp,
                format!("`{k}` is not a key value: directory keys are integers >= 0 written as strings, like \"42\""),
            ));
        };
        if let Some(first) = seen.insert(v, k) {
            return Err(cx.err(
                &kp,
                format!("`{k}` is the key value {v} again (first written `{first}`)"),
            ));
        }
        if shard >= d.shards {
            return Err(cx.err(
                &kp,
                format!(
                    "shard {shard} does not exist: shards are numbered 0 to {}",
                    d.shards - 1
                ),
            ));
        }
        entries.push((v, shard));
    }
    let fallback = match d.directory_default {
        Some(DirectoryDefault::Shard(s)) => {
            if s >= d.shards {
                return Err(cx.err(
                    &p.k("directory_default"),
                    format!(
                        "shard {s} does not exist: shards are numbered 0 to {}",
                        d.shards - 1
                    ),
                ));
            }
            Fallback::Shard(s)
        }
        Some(DirectoryDefault::Strategy(s)) => {
            Fallback::Router(Box::new(build(s, "directory_default")?))
        }
        None => Fallback::Router(Box::new(build(ShardStrategy::Hash, "directory_default")?)),
    };
    Ok(Router::Directory(Directory::new(
        d.shards, entries, fallback,
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{accepted, assert_refused, base, changed, merged};

    /// What the sharding settings refuse: each strategy's fields with
    /// another strategy, a ring without tokens or with too many, range
    /// split points that do not fit, a range over a key of unknown size,
    /// a directory that is missing or whose entries are not key values,
    /// repeat one or name no shard, a fallback that names no shard.
    #[test]
    fn refusals() {
        // A sequential key, whose value space has no known size.
        let b = changed(
            &base(),
            &[("/workloads/0/keys/seq", json!({ "sequential": {} }))],
        );
        let db = |fields: Value| merged(&b["databases"][0], fields);
        let dir = |table: Value| db(json!({ "strategy": "directory", "directory": table }));
        let at = "/databases/0";
        assert_refused(
            &b,
            vec![
                (
                    at,
                    db(json!({ "strategy": "jump", "range_boundaries": [500] })),
                    "databases[0].range_boundaries: range_boundaries applies to strategy \"range\" only (or a directory whose directory_default is \"range\")",
                ),
                (
                    at,
                    db(json!({ "virtual_nodes": 16 })),
                    "databases[0].virtual_nodes: virtual_nodes applies to strategy \"ring\" only (or a directory whose directory_default is \"ring\")",
                ),
                (
                    at,
                    db(json!({ "directory": { "1": 0 } })),
                    "databases[0].directory: directory applies to strategy \"directory\" only",
                ),
                (
                    at,
                    db(json!({ "strategy": "ring", "directory_default": 0 })),
                    "databases[0].directory_default: directory_default applies to strategy \"directory\" only",
                ),
                (
                    at,
                    db(json!({ "strategy": "ring", "virtual_nodes": 0 })),
                    "databases[0].virtual_nodes: a shard needs at least 1 virtual node",
                ),
                (
                    at,
                    db(json!({ "strategy": "ring", "virtual_nodes": 5_000_001 })),
                    "databases[0].virtual_nodes: 2 shards x 5000001 virtual nodes is 10000002 tokens; the limit is 10000000",
                ),
                (
                    at,
                    db(json!({ "strategy": "range", "range_boundaries": [1, 2] })),
                    "databases[0].range_boundaries: 2 shards need 1 split point, got 2",
                ),
                (
                    at,
                    db(json!({ "shards": 3, "strategy": "range", "range_boundaries": [5, 5] })),
                    "databases[0].range_boundaries[1]: split points must be strictly ascending",
                ),
                (
                    at,
                    db(json!({ "strategy": "range", "shard_key": "seq" })),
                    "databases[0].strategy: range sharding on `seq` needs range_boundaries: the key is sequential, so its value space has no known size",
                ),
                (
                    at,
                    db(
                        json!({ "strategy": "directory", "shard_key": "seq", "directory": {},
                               "directory_default": "range" }),
                    ),
                    "databases[0].directory_default: range sharding on `seq` needs range_boundaries",
                ),
                (
                    at,
                    db(json!({ "strategy": "directory" })),
                    "databases[0].strategy: strategy \"directory\" needs a `directory`: key value -> shard, e.g. {\"1\": 0, \"2\": 0, \"3\": 5}",
                ),
                (
                    at,
                    dir(json!({ "x": 1 })),
                    "databases[0].directory.x: `x` is not a key value: directory keys are integers >= 0 written as strings, like \"42\"",
                ),
                (
                    at,
                    dir(json!({ "1": 1, "01": 0 })),
                    "databases[0].directory.01: `01` is the key value 1 again (first written `1`)",
                ),
                (
                    at,
                    dir(json!({ "4": 2 })),
                    "databases[0].directory.4: shard 2 does not exist: shards are numbered 0 to 1",
                ),
                (
                    at,
                    db(json!({ "strategy": "directory", "directory": {}, "directory_default": 9 })),
                    "databases[0].directory_default: shard 9 does not exist: shards are numbered 0 to 1",
                ),
                (
                    at,
                    db(
                        json!({ "strategy": "directory", "directory": {}, "directory_default": "modulo" }),
                    ),
                    "databases[0].directory_default: `modulo` is not a shard index or a strategy",
                ),
                (
                    at,
                    db(
                        json!({ "strategy": "directory", "directory": {}, "directory_default": "directory" }),
                    ),
                    "databases[0].directory_default: `directory` is not a shard index or a strategy",
                ),
                (
                    at,
                    db(json!({ "strategy": "modulo" })),
                    "databases[0].strategy: unknown variant `modulo`",
                ),
            ],
        );
    }

    /// Every strategy with its settings, and directories falling back to
    /// a range or a ring, load.
    #[test]
    fn every_strategy_loads() {
        let b = base();
        for fields in [
            json!({ "strategy": "ring" }),
            json!({ "strategy": "jump" }),
            json!({ "strategy": "range" }),
            json!({ "strategy": "directory", "directory": { "7": 5 }, "directory_default": "range",
                    "range_boundaries": [1, 2, 3, 4, 5] }),
            json!({ "strategy": "directory", "directory": { "7": 5 }, "directory_default": "ring",
                    "virtual_nodes": 4 }),
            json!({ "strategy": "directory", "directory": { "7": 5 }, "directory_default": 0 }),
        ] {
            let db = merged(&b["databases"][0], merged(&json!({ "shards": 6 }), fields));
            accepted(&changed(&b, &[("/databases/0", db)]));
        }
    }
}
