//! Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory,
//! Consistent Hash Algorithm", 2014).
//!
//! Maps a 64-bit key to one of `n` buckets with no table at all: a linear
//! congruential generator seeded by the key "jumps" from bucket to bucket,
//! and the last jump below `n` is the answer. Going from `n` to `n + 1`
//! buckets moves each key with probability exactly `1 / (n + 1)`, and only
//! to the new bucket; every bucket holds `1 / n` of the keys in
//! expectation. Unlike a ring, buckets can only be added or removed at the
//! end (they are numbered), which is how sharded stores that use it grow.
//!
//! The key is the value's [`sim_core::stable_hash`], so consecutive values
//! are as well spread as random ones. The arithmetic is IEEE-754 double
//! precision with no fused operations, identical on every platform.

/// The bucket in `[0, buckets)` of `key`, as published by Lamping & Veach.
/// `buckets` must be positive.
#[inline]
pub fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    debug_assert!(buckets > 0);
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_published_implementations() {
        // Values printed by other implementations of the paper's code
        // (the Rust crates jmphash-rs / rust-jumphash, and the Python
        // package jump-consistent-hash).
        assert_eq!(jump_hash(123_456, 1000), 984);
        assert_eq!(jump_hash(256, 1024), 520);
        assert_eq!(jump_hash(u64::MAX, 1), 0);
    }

    #[test]
    fn growing_moves_keys_only_to_the_new_bucket() {
        for k in 0..10_000u64 {
            let h = sim_core::stable_hash(k);
            for n in 1..20 {
                let (a, b) = (jump_hash(h, n), jump_hash(h, n + 1));
                assert!(a < n && b <= n);
                assert!(a == b || b == n, "key {k}: {n} -> {}: {a} -> {b}", n + 1);
            }
        }
    }
}
