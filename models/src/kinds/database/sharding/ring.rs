//! A consistent-hash ring with virtual nodes, as Cassandra, ScyllaDB,
//! DynamoDB and Riak place data.
//!
//! Every shard owns `vnodes` tokens on a ring of 2^64 positions (Cassandra
//! calls them vnodes and sets their number per node with `num_tokens`:
//! 256 before Cassandra 4.0, 16 since). A key value is hashed to a position
//! with [`sim_core::stable_hash`] and belongs to the shard of the first token
//! clockwise, i.e. the smallest token `>=` the position (wrapping past the
//! largest token to the smallest). A token owns the arc from the previous
//! token (exclusive) to itself (inclusive).
//!
//! Token `v` of shard `s` sits at xxh3-64 of the 8 little-endian bytes of
//! `s << 32 | v` with seed [`TOKEN_SEED`] `^ seed`, where `seed` is 0 for
//! every layout a scenario file describes. A shard's tokens therefore do not
//! depend on how many other shards there are: adding shard `n` adds its
//! tokens and moves exactly the arcs they take, from their previous owners
//! to the new shard, and nothing else (consistent hashing).

use std::fmt;
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of the token hash, distinct from the key hash's seed 0 so a token
/// and the key with the same bytes are unrelated.
pub const TOKEN_SEED: u64 = 0x7269_6e67_746f_6b6e; // "ringtokn"

/// Default virtual nodes per shard: Cassandra's `num_tokens` before 4.0.
pub const DEFAULT_VNODES: u32 = 256;

/// A ring of `shards x vnodes` tokens, sorted by position.
#[derive(Clone, PartialEq, Eq)]
pub struct Ring {
    shards: u32,
    vnodes: u32,
    seed: u64,
    /// (position, shard), ascending by position then shard.
    tokens: Arc<[(u64, u32)]>,
}

impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("shards", &self.shards)
            .field("vnodes", &self.vnodes)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl Ring {
    /// The ring a scenario file describes: `shards` shards of `vnodes`
    /// tokens each, token seed 0. Both counts must be positive.
    pub fn new(shards: u32, vnodes: u32) -> Ring {
        Ring::with_seed(shards, vnodes, 0)
    }

    /// A ring whose tokens are placed with another `seed`: another layout
    /// of the same shape, as another cluster would pick its random tokens.
    /// For averaging over layouts in tests and studies.
    pub fn with_seed(shards: u32, vnodes: u32, seed: u64) -> Ring {
        assert!(shards > 0 && vnodes > 0, "a ring needs shards and tokens");
        let mut tokens: Vec<(u64, u32)> = (0..shards)
            .flat_map(|s| (0..vnodes).map(move |v| (token(s, v, seed), s)))
            .collect();
        tokens.sort_unstable();
        Ring {
            shards,
            vnodes,
            seed,
            tokens: tokens.into(),
        }
    }

    /// Number of shards.
    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// Tokens per shard.
    pub fn vnodes(&self) -> u32 {
        self.vnodes
    }

    /// The token seed (0 for scenario layouts).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The tokens, (position, shard), ascending.
    pub fn tokens(&self) -> &[(u64, u32)] {
        &self.tokens
    }

    /// The shard that owns key `value`.
    #[inline]
    pub fn route(&self, value: u64) -> usize {
        self.owner_of(sim_core::stable_hash(value))
    }

    /// The shard that owns ring position `h`: the first token clockwise.
    #[inline]
    pub fn owner_of(&self, h: u64) -> usize {
        let i = self.tokens.partition_point(|t| t.0 < h);
        let i = if i == self.tokens.len() { 0 } else { i };
        self.tokens[i].1 as usize
    }

    /// Each shard's exact share of the ring (the summed lengths of the arcs
    /// its tokens own, as fractions of 2^64): its expected share of keys
    /// whose hashes are uniform. Sums to 1.
    pub fn shares(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.shards as usize];
        let t = &self.tokens;
        if t.len() == 1 {
            out[t[0].1 as usize] = 1.0;
            return out;
        }
        for i in 0..t.len() {
            let prev = t[if i == 0 { t.len() - 1 } else { i - 1 }].0;
            out[t[i].1 as usize] += arc(prev, t[i].0);
        }
        out
    }
}

/// Length of the arc `(from, to]` as a fraction of the ring (wrapping).
fn arc(from: u64, to: u64) -> f64 {
    to.wrapping_sub(from) as f64 / 2f64.powi(64)
}

/// Position of token `vnode` of `shard`.
fn token(shard: u32, vnode: u32, seed: u64) -> u64 {
    let id = (u64::from(shard) << 32) | u64::from(vnode);
    xxh3_64_with_seed(&id.to_le_bytes(), TOKEN_SEED ^ seed)
}

/// The exact fraction of the hash space (hence of keys with uniform hashes)
/// whose owner differs between rings `a` and `b`: the arcs between all
/// their tokens, compared one by one. No sampling noise.
pub fn moved_hash_space(a: &Ring, b: &Ring) -> f64 {
    let mut points: Vec<u64> = a
        .tokens
        .iter()
        .chain(b.tokens.iter())
        .map(|t| t.0)
        .collect();
    points.sort_unstable();
    points.dedup();
    if points.len() == 1 {
        return f64::from(u8::from(a.owner_of(points[0]) != b.owner_of(points[0])));
    }
    let mut moved = 0.0;
    for i in 0..points.len() {
        let prev = points[if i == 0 { points.len() - 1 } else { i - 1 }];
        // Every position in (prev, p] has the same owner in both rings: the
        // owner of p, since no token of either ring lies strictly inside.
        let p = points[i];
        if a.owner_of(p) != b.owner_of(p) {
            moved += arc(prev, p);
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_belongs_to_the_first_token_clockwise() {
        let r = Ring::new(3, 4);
        let t = r.tokens();
        assert_eq!(t.len(), 12);
        assert!(t.windows(2).all(|w| w[0] < w[1]));
        // Exactly on a token, just past it, and past the last token.
        assert_eq!(r.owner_of(t[5].0), t[5].1 as usize);
        assert_eq!(r.owner_of(t[5].0 + 1), t[6].1 as usize);
        assert_eq!(r.owner_of(t[11].0.wrapping_add(1)), t[0].1 as usize);
        assert_eq!(r.owner_of(0), t[0].1 as usize);
        let s: f64 = r.shares().iter().sum();
        assert!((s - 1.0).abs() < 1e-12, "{s}");
    }

    #[test]
    fn adding_a_shard_only_adds_its_tokens() {
        let (a, b) = (Ring::new(5, 16), Ring::new(6, 16));
        let old: Vec<_> = b.tokens().iter().filter(|t| t.1 < 5).copied().collect();
        assert_eq!(old, a.tokens());
        // The moved space is exactly the new shard's share.
        let moved = moved_hash_space(&a, &b);
        assert!((moved - b.shares()[5]).abs() < 1e-12, "{moved}");
        assert_eq!(moved_hash_space(&a, &a), 0.0);
    }

    #[test]
    fn one_token_owns_everything() {
        let r = Ring::new(1, 1);
        assert_eq!(r.shares(), vec![1.0]);
        assert_eq!(r.route(42), 0);
    }
}
