//! Key store benchmarks: the LRU behind a cache on a get-then-insert-on-miss
//! mix (as a cache-aside read does) over Zipf(0.9) keys scattered over the
//! u64 space, at capacity 10k (100k keys) and 1M (10M keys). Run with
//! `cargo bench --bench store`; criterion reports the time per 1M
//! operations and the throughput in operations per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use models::{EvictionPolicy, Lookup, Store};
use sim_core::SimTime;

/// Operations per iteration.
const OPS: usize = 1_000_000;

/// `OPS` Zipf(`s`) ranks among `n` keys (inverse CDF on a fixed LCG),
/// each scattered by a stable hash as the scenarios' keys are.
fn zipf_keys(n: usize, s: f64) -> Vec<u64> {
    let mut cdf = Vec::with_capacity(n);
    let mut total = 0.0;
    for r in 1..=n {
        total += (r as f64).powf(-s);
        cdf.push(total);
    }
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..OPS)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64 * total;
            let rank = cdf.partition_point(|&c| c < u) as u64;
            sim_core::stable_hash(rank)
        })
        .collect()
}

/// One pass of the mix over `keys`: a lookup, and an insert on a miss.
fn pass(store: &mut Store, keys: &[u64]) -> u64 {
    let mut hits = 0;
    for &k in keys {
        if store.get(k, SimTime::ZERO, None) == Lookup::Hit {
            hits += 1;
        } else {
            store.insert(k, SimTime::MAX);
        }
    }
    hits
}

fn lru(c: &mut Criterion) {
    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Elements(OPS as u64));
    g.sample_size(10);
    for (capacity, n, name) in [
        (10_000, 100_000, "lru_zipf_cap10k"),
        (1_000_000, 10_000_000, "lru_zipf_cap1m"),
    ] {
        let keys = zipf_keys(n, 0.9);
        // Warm: a full store in its steady state.
        let mut store = Store::new(EvictionPolicy::Lru, capacity);
        pass(&mut store, &keys);
        pass(&mut store, &keys);
        g.bench_function(name, |b| {
            b.iter(|| black_box(pass(&mut store, black_box(&keys))))
        });
    }
    g.finish();
}

criterion_group!(benches, lru);
criterion_main!(benches);
