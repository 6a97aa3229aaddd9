//! Caches and CDN edges against closed forms and exact counts: TTL hit
//! ratios (renewal arguments), sliding expiry, LFU against LRU under a
//! polluting scan, write-through, the edge in front of an origin, and the
//! thundering herd with and without request coalescing.
//!
//! Random figures are compared with theory within about five standard
//! deviations of the estimator at the sample size used, derived in each
//! test's comment; everything else is an exact count.

use models::Results;
use serde_json::{Value, json};
use sim_core::theory;

/// Loads and runs a scenario built in code.
fn run(v: &Value) -> Results {
    let text = v.to_string();
    let (_, model) = models::load("caches.json", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
    models::simulate(&model).unwrap_or_else(|e| panic!("{e}"))
}

/// One service `app` with one endpoint `get` whose steps are `steps`,
/// Poisson requests at `rps` carrying `keys`, for `duration_s` seconds.
fn one_endpoint(rps: f64, duration_s: f64, keys: Value, steps: Value, cache: Value) -> Value {
    json!({
        "name": "caches",
        "seed": 1,
        "duration": format!("{duration_s}s"),
        "workloads": [{
            "name": "w", "target": "app", "rate": [{ "rps": rps }], "mix": { "get": 1 },
            "keys": keys
        }],
        "services": [{
            "name": "app", "replicas": 1, "concurrency": 4000,
            "endpoints": { "get": steps }
        }],
        "caches": [cache]
    })
}

/// A lookup of `item` in cache `c` with nothing on a miss.
fn lookup() -> Value {
    json!([{ "cache": { "cache": "c", "key": "item" } }])
}

// --------------------------------------------------------------------- TTL

/// One key read by Poisson requests at rate r, with a TTL of T.
fn ttl_case(mode: &str, t_ms: f64) -> Results {
    run(&one_endpoint(
        1000.0,
        1000.0,
        json!({ "item": { "uniform": { "n": 1 } } }),
        lookup(),
        json!({ "name": "c", "capacity": 10, "hit_latency": "0s",
                "ttl": format!("{t_ms}ms"), "ttl_mode": mode }),
    ))
}

/// TTL from the store (`insert`), one key, Poisson requests at rate r,
/// every latency 0, capacity beyond need. Renewal argument: a miss fills
/// the key at once and starts a window of length T in which every request
/// hits — Poisson(rT) of them — and the first request after it misses
/// (the process is memoryless), starting the next window. So the hit
/// ratio is E[hits per window] / E[requests per window] = rT / (1 + rT)
/// (renewal-reward), and every miss but the first finds the entry
/// expired.
///
/// Tolerance: with L lookups the number of windows K has, by the renewal
/// central limit theorem, variance L·σ²/m³ with m = 1 + rT lookups per
/// window and σ² = rT their variance, so the hit ratio 1 - K/L has
/// sd √(rT / (L (1+rT)³)): 3.5e-4 at rT = 1 and 1.5e-4 at rT = 5 for
/// L = 10^6. The tolerance is 5 sd. A TTL that slid on hits would give
/// 1 - e^{-rT} (0.632, 0.993), and a window one lookup longer or shorter
/// moves the figure by more than 0.1.
#[test]
fn insert_ttl_hit_ratio_is_rt_over_one_plus_rt() {
    for (t_ms, rt) in [(1.0, 1.0_f64), (5.0, 5.0)] {
        let r = ttl_case("insert", t_ms);
        let c = &r.caches[0];
        let theory = rt / (1.0 + rt);
        let l = c.lookups as f64;
        let sd = (rt / (l * (1.0 + rt).powi(3))).sqrt();
        eprintln!(
            "insert TTL, rT = {rt}: hit ratio {:.6}, theory {theory:.6}, sd {sd:.2e}",
            c.hit_ratio
        );
        assert!(l > 990_000.0, "{l} lookups");
        assert!(
            (c.hit_ratio - theory).abs() <= 5.0 * sd,
            "rT = {rt}: hit ratio {} vs rT/(1+rT) = {theory} (tolerance {})",
            c.hit_ratio,
            5.0 * sd
        );
        assert_eq!(
            c.expirations,
            c.misses - 1,
            "every miss but the first expired"
        );
    }
}

/// Sliding TTL (`access`), same setting: the entry survives as long as
/// every gap between requests is shorter than T, and each gap is, inde-
/// pendently, longer with probability e^{-rT}; so each lookup misses with
/// that probability and the hit ratio is 1 - e^{-rT}. Misses are then
/// Bernoulli: sd √(p(1-p)/L) = 4.8e-4 at rT = 1 and 6.7e-5 at rT = 5
/// (p = e^{-rT}); the tolerance is 5 sd. A TTL that did not slide would
/// give rT/(1+rT), 0.13 and 0.16 lower.
#[test]
fn access_ttl_hit_ratio_is_one_minus_e_to_the_minus_rt() {
    for (t_ms, rt) in [(1.0, 1.0_f64), (5.0, 5.0)] {
        let r = ttl_case("access", t_ms);
        let c = &r.caches[0];
        let p = (-rt).exp();
        let sd = (p * (1.0 - p) / c.lookups as f64).sqrt();
        eprintln!(
            "access TTL, rT = {rt}: hit ratio {:.6}, theory {:.6}, sd {sd:.2e}",
            c.hit_ratio,
            1.0 - p
        );
        assert!(
            (c.hit_ratio - (1.0 - p)).abs() <= 5.0 * sd,
            "rT = {rt}: hit ratio {} vs 1 - e^-rT = {}",
            c.hit_ratio,
            1.0 - p
        );
        assert_eq!(c.expirations, c.misses - 1);
    }
}

/// A key read exactly every millisecond: a pod with one worker whose
/// requests look the key up and then compute for exactly 1 ms, fed twice
/// as fast as it serves and with a waiting room of 1000, so after the
/// warm-up (3 s: the room fills in about one) the worker is never idle
/// and the lookups are exactly 1 ms apart. Counts after the warm-up:
fn every_ms(ttl: &str, mode: &str) -> Results {
    run(&json!({
        "name": "every ms",
        "duration": "13s",
        "warmup": "3s",
        "workloads": [{
            "name": "w", "target": "app", "rate": [{ "rps": 2000 }], "mix": { "get": 1 },
            "keys": { "item": { "uniform": { "n": 1 } } }
        }],
        "services": [{
            "name": "app", "replicas": 1, "concurrency": 1, "queue_capacity": 1000,
            "endpoints": { "get": [
                { "cache": { "cache": "c", "key": "item" } },
                { "compute": "1ms" }
            ] }
        }],
        "caches": [{ "name": "c", "capacity": 1, "hit_latency": "0s",
                     "ttl": ttl, "ttl_mode": mode }]
    }))
}

/// - a sliding TTL of 1.5 ms never expires the key: no miss at all;
/// - the same TTL from the store expires it every other lookup (stored at
///   t, still there at t + 1 ms, gone at t + 2 ms): hits = misses ± 1;
/// - a sliding TTL of exactly the gap expires it at every lookup (an
///   entry expires at its deadline, not after).
#[test]
fn access_ttl_never_expires_a_key_read_more_often_than_the_ttl() {
    let c = every_ms("1.5ms", "access").caches[0].clone();
    assert_eq!((c.misses, c.expirations), (0, 0), "{c:?}");
    assert!(c.lookups >= 9_999, "{c:?}");

    let c = every_ms("1.5ms", "insert").caches[0].clone();
    assert!(c.hits.abs_diff(c.misses) <= 1, "{c:?}");
    assert_eq!(c.expirations, c.misses, "{c:?}");

    let c = every_ms("1ms", "access").caches[0].clone();
    assert_eq!(c.hits, 0, "{c:?}");
}

// --------------------------------------------------------------------- LFU

/// Zipf(0.8) reads over 10,000 items (rank k is item k-1) at 50,000/s,
/// plus a scan of never-repeated items (`sequential` from 10^6) at the
/// same rate, through one cache of 1000 keys; 40 s after a 10 s warm-up.
fn scan_case(policy: &str, seed: u64) -> Results {
    let rps = 50_000.0;
    run(&json!({
        "name": "scan",
        "seed": seed,
        "duration": "50s",
        "warmup": "10s",
        "workloads": [
            { "name": "hot", "target": "app", "rate": [{ "rps": rps }], "mix": { "get": 1 },
              "keys": { "item": { "zipf": { "n": 10_000, "s": 0.8, "shuffle": false } } } },
            { "name": "scan", "target": "app", "rate": [{ "rps": rps }], "mix": { "scan": 1 },
              "keys": { "item": { "sequential": { "start": 1_000_000 } } } }
        ],
        "services": [{
            "name": "app", "replicas": 1, "concurrency": 1,
            "endpoints": {
                "get": [{ "cache": { "cache": "c", "key": "item" } }],
                "scan": [{ "cache": { "cache": "c", "key": "item" } }]
            }
        }],
        "caches": [{ "name": "c", "capacity": 1000, "hit_latency": "0s", "policy": policy }]
    }))
}

/// Hit ratio of the Zipf reads alone: scan lookups never hit, and every
/// latency is 0, so the scan endpoint's count is its lookups.
fn zipf_hit_ratio(r: &Results) -> f64 {
    let c = &r.caches[0];
    let scans = r
        .endpoints
        .iter()
        .find(|e| e.name == "scan")
        .expect("scan")
        .count;
    c.hits as f64 / (c.lookups - scans) as f64
}

/// Che's approximation with one-timers: a share q of the requests are for
/// items never seen again, each of which stays in the cache for the
/// characteristic time T (in requests) like any other, so T solves
/// `Σ (1 - e^{-(1-q) p_i T}) + q T = C` and the Zipf reads hit with
/// `Σ p_i (1 - e^{-(1-q) p_i T})`.
fn che_with_scan(p: &[f64], q: f64, c: f64) -> f64 {
    let occ = |t: f64| {
        p.iter()
            .map(|&x| -(-(1.0 - q) * x * t).exp_m1())
            .sum::<f64>()
            + q * t
    };
    let (mut lo, mut hi) = (0.0, c / q);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if occ(mid) < c {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    p.iter().map(|&x| x * -(-(1.0 - q) * x * lo).exp_m1()).sum()
}

/// Half the lookups are a scan of one-time items. LRU lets each of them
/// push a key out, so Che (with the scan's one-timers) gives the Zipf
/// reads a hit ratio of only 0.3135, against 0.437 without the scan.
/// LFU stores a scanned item with a count of 1, and the next insertion
/// evicts the least used key (ties: the least recent), which is that item
/// again; the keys that have earned counts above 1 stay. Under this
/// independent reference model no policy beats the ideal static cache of
/// the 1000 most popular items, Σ_{k≤1000} p_k = 0.5706; in-cache LFU
/// falls short of it because the keys it keeps are settled in the first
/// moments (counts never decay) and not all of them are the top 1000.
///
/// Tolerances: 2M Zipf lookups give a binomial sd of 3.4e-4 (the LRU case
/// of tests/validation.rs measured 4.8e-4 with correlation); Che is
/// within about 10^-3 at this size, so LRU gets 0.0035 as there. LFU has
/// no closed form here; a pilot of 10 seeds ([`lfu_pilot`]) measured
/// 0.5210 with an sd of 0.0026, so it must be within 5 sd (0.013) of that
/// and never above the ideal (plus 5 binomial sds). An LFU that counted
/// the scanned items as hot, evicted the most used key, or broke ties the
/// wrong way (evicting the longest-held key of count 1 rather than the
/// scan item just stored) is no better than LRU here.
#[test]
fn lfu_keeps_the_hot_set_through_a_scan_that_flushes_lru() {
    let p = theory::zipf_popularities(10_000, 0.8);
    let ideal: f64 = p[..1000].iter().sum();
    let che = che_with_scan(&p, 0.5, 1000.0);
    let lru = zipf_hit_ratio(&scan_case("lru", 1));
    let lfu = zipf_hit_ratio(&scan_case("lfu", 1));
    eprintln!("scan: LRU {lru:.4} (Che {che:.4}), LFU {lfu:.4} (ideal {ideal:.4})");
    assert!((lru - che).abs() <= 0.0035, "LRU {lru} vs Che {che}");
    assert!(
        (lfu - 0.5210).abs() <= 0.013,
        "LFU {lfu}, pilot 0.5210 ± 0.0026"
    );
    assert!(lfu <= ideal + 0.0017, "LFU {lfu} above the ideal {ideal}");
}

// ------------------------------------------------------------ write policy

/// One product read and written at random (half each), reads cache-aside
/// over a database; every latency constant. With one worker the requests
/// run one after another; with 100 (and 100 connections) none waits.
fn writes(policy: &str, workers: u32) -> Results {
    run(&json!({
        "name": "writes",
        "duration": "100s",
        "workloads": [{
            "name": "w", "target": "app", "rate": [{ "rps": 100 }],
            "mix": { "read": 1, "update": 1 },
            "keys": { "item": { "uniform": { "n": 1 } } }
        }],
        "services": [{
            "name": "app", "replicas": 1, "concurrency": workers, "queue_capacity": 100,
            "endpoints": {
                "read": [{ "cache": { "cache": "c", "key": "item",
                                      "on_miss": [{ "read": { "db": "d" } }] } }],
                "update": [{ "write": { "db": "d", "invalidate": ["c"] } }]
            }
        }],
        "caches": [{ "name": "c", "capacity": 10, "hit_latency": "0s",
                     "fill_latency": "1ms", "write_policy": policy }],
        "databases": [{ "name": "d", "shards": 1, "shard_key": "item", "connections": 100,
                        "read_time": "2ms", "write_time": "2ms" }]
    }))
}

/// One request at a time. With write-through every read after the first
/// store hits: at most one miss (the first read, if no write came before
/// it). With invalidation a read misses exactly when a write came since
/// the previous request that touched the key, and a write deletes exactly
/// when a read came since the previous write: runs of reads and of writes
/// alternate, so misses and invalidations differ by at most one. A read
/// misses when the request before it was a write, probability 1/2; the
/// count of such pairs among N fair coin flips has variance about N/16,
/// so the miss ratio over ~5000 reads has sd ≈ 0.007: tolerance 0.035.
#[test]
fn write_through_makes_the_read_after_a_write_hit() {
    let r = writes("write_through", 1);
    let c = &r.caches[0];
    let update = r
        .endpoints
        .iter()
        .find(|e| e.name == "update")
        .expect("update");
    assert!(c.misses <= 1, "{c:?}");
    assert_eq!(c.invalidations, 0);
    assert_eq!(
        c.updates,
        update.count - update.rejected,
        "every write stored the value"
    );

    let r = writes("invalidate", 1);
    let c = &r.caches[0];
    assert_eq!(c.updates, 0);
    assert!(c.misses.abs_diff(c.invalidations) <= 1, "{c:?}");
    let ratio = c.misses as f64 / c.lookups as f64;
    assert!((ratio - 0.5).abs() <= 0.035, "{c:?}");
}

/// The write path waits for the write-through store: with nothing queued,
/// an update takes the write and the store, 2 + 1 = 3 ms, every time; with
/// invalidation (a delete, not waited for) 2 ms.
#[test]
fn write_through_costs_the_store_on_the_write_path() {
    for (policy, ms) in [("write_through", 3.0), ("invalidate", 2.0)] {
        let r = writes(policy, 100);
        let u = &r
            .endpoints
            .iter()
            .find(|e| e.name == "update")
            .expect("update")
            .latency;
        assert!(u.count > 4000, "{u:?}");
        assert_eq!((u.mean_ms, u.max_ms), (ms, ms), "{policy}");
    }
}

// --------------------------------------------------------------------- CDN

/// Shoppers through a balancer to `app`: `asset` (Zipf over 1000 values)
/// is cached at the edge `edge` for 10 s, `api` is not. Constant latencies:
/// edge hit 2 ms, miss 3 ms at the edge + 30 ms to the origin and back,
/// 10 ms at the origin. Traffic stops a second before the end, so every
/// request is answered.
fn cdn_scenario(mix_api: f64) -> Value {
    json!({
        "name": "cdn",
        "duration": "200s",
        "workloads": [{
            "name": "shoppers", "target": "lb",
            "rate": [{ "for": "199s", "rps": 500 }, { "rps": 0 }],
            "mix": { "asset": 1, "api": mix_api },
            "keys": { "asset_id": { "zipf": { "n": 1000, "s": 1.0 } } }
        }],
        "load_balancers": [{ "name": "lb", "target": "app" }],
        "services": [{
            "name": "app", "replicas": 2, "concurrency": 100,
            "endpoints": { "asset": [{ "compute": "10ms" }], "api": [{ "compute": "10ms" }] }
        }],
        "cdns": [{
            "name": "edge", "origin": "lb", "endpoints": ["asset"], "key": "asset_id",
            "capacity": 10_000, "ttl": "10s",
            "hit_latency": "2ms", "miss_latency": "3ms", "origin_latency": "30ms",
            "price_per_million_requests": 1.0
        }]
    })
}

/// The edge answers hits itself: with only cached traffic the balancer and
/// the pods see exactly the misses; an ok response takes 2 ms on a hit
/// and 3 + 30 + 10 = 43 ms on a miss, so the mean latency is exact. With
/// uncached traffic beside it, the pods see the misses plus all of it,
/// and the offload is the hits over everything sent to the origin.
#[test]
fn cdn_answers_hits_at_the_edge_and_only_misses_reach_the_pods() {
    // `mix` needs a positive weight: a tiny `api` share, counted exactly.
    let r = run(&cdn_scenario(1e-9));
    let e = &r.cdns[0];
    let asset = r
        .endpoints
        .iter()
        .find(|x| x.name == "asset")
        .expect("asset");
    let api = r.endpoints.iter().find(|x| x.name == "api").expect("api");
    assert_eq!(api.count, 0);
    assert_eq!(e.requests, asset.count);
    assert_eq!(e.hits + e.misses, e.requests);
    assert_eq!(
        r.services[0].requests, e.misses,
        "pods see exactly the misses"
    );
    assert_eq!(r.load_balancers[0].requests, e.misses);
    assert_eq!(e.origin_requests, e.misses);
    // Zipf(1) over 1000 values at 500/s and a 10 s TTL: most values are
    // read more often than every 10 s (the run gives 0.876).
    assert!(e.hit_ratio > 0.8, "{e:?}");
    let mean = (2.0 * e.hits as f64 + 43.0 * e.misses as f64) / e.requests as f64;
    assert!(
        (asset.latency.mean_ms - mean).abs() < 1e-9,
        "{} vs {mean}",
        asset.latency.mean_ms
    );
    assert_eq!(asset.latency.max_ms, 43.0);
    assert_eq!(asset.ok, asset.count);
    // Billed per million edge requests per hour of the run: about 1.8.
    let item = r
        .cost
        .items
        .iter()
        .find(|i| i.component == "edge")
        .expect("billed");
    let per_hour = e.requests as f64 / 200.0 * 3600.0 / 1e6;
    assert!(
        (item.count - per_hour).abs() < 1e-9,
        "{item:?} vs {per_hour}"
    );
    assert_eq!(item.per_hour, item.count * 1.0);

    let r = run(&cdn_scenario(1.0));
    let e = &r.cdns[0];
    let api = r.endpoints.iter().find(|x| x.name == "api").expect("api");
    assert_eq!(r.services[0].requests, e.misses + api.count);
    assert_eq!(e.origin_requests, e.misses + api.count);
    let offload = e.hits as f64 / (e.requests + api.count) as f64;
    assert!((e.offload - offload).abs() < 1e-12);
}

// -------------------------------------------------- stampede, coalescing

/// One hot key at 10,000 requests/s, stored for 100 ms from the fill; a
/// miss reads the database for exactly D = 10 ms (1000 connections: no
/// waiting). Cache latencies are 0.
fn hot_key(coalesce: Option<&str>) -> Results {
    let mut cache = json!({ "name": "c", "capacity": 10, "hit_latency": "0s", "ttl": "100ms" });
    if let Some(lock) = coalesce {
        cache["coalesce"] = json!(true);
        cache["lock_timeout"] = json!(lock);
    }
    run(&json!({
        "name": "hot key",
        "duration": "60s",
        "workloads": [{
            "name": "w", "target": "app", "rate": [{ "rps": 10_000 }], "mix": { "get": 1 },
            "keys": { "item": { "uniform": { "n": 1 } } }
        }],
        "services": [{
            "name": "app", "replicas": 1, "concurrency": 5000,
            "endpoints": { "get": [{ "cache": { "cache": "c", "key": "item",
                                                "on_miss": [{ "read": { "db": "d" } }] } }] }
        }],
        "caches": [cache],
        "databases": [{ "name": "d", "shards": 1, "shard_key": "item", "connections": 1000,
                        "read_time": "10ms", "write_time": "10ms" }]
    }))
}

/// Without coalescing, when the key expires the first request misses and
/// so does every request until its fill D later: a stampede of 1 +
/// Poisson(rD) = 101 database reads on average per expiry (the run's
/// first miss starts one too, so stampedes = expirations + 1). Each
/// stampede has one leader, the rest are concurrent misses. About 500
/// stampedes in 60 s: the mean's sd is √(rD/500) = 0.45, tolerance 2.5.
///
/// With coalescing the same misses wait for the leader's fill: exactly one
/// database read per expiry, every other miss is answered by the fill and
/// none waits longer than D.
#[test]
fn coalescing_turns_a_stampede_into_one_fetch_per_expiry() {
    let r = hot_key(None);
    let c = &r.caches[0];
    let stampedes = c.expirations + 1;
    let per = r.databases[0].ops as f64 / stampedes as f64;
    eprintln!(
        "stampede: {} reads for {stampedes} expiries, {per:.2} each, largest {}",
        r.databases[0].ops, c.stampede_max
    );
    assert!(
        (per - 101.0).abs() <= 2.5,
        "{per} reads per expiry, theory 101"
    );
    assert_eq!(c.fetches, r.databases[0].ops);
    assert_eq!(c.fetches, c.misses);
    assert_eq!(c.concurrent_misses, c.misses - stampedes);
    assert!(c.stampede_max > 101, "{c:?}");
    assert_eq!(c.coalesced, 0);

    let r = hot_key(Some("1s"));
    let c = &r.caches[0];
    assert_eq!(r.databases[0].ops, c.expirations + 1, "one read per expiry");
    assert_eq!(c.fetches, r.databases[0].ops);
    assert_eq!(c.coalesced, c.concurrent_misses);
    assert_eq!(c.coalesced + c.fetches, c.misses);
    assert_eq!(c.lock_timeouts, 0);
    assert!(c.coalesced > 50 * c.fetches, "{c:?}");
    assert!(r.overall.latency.max_ms <= 10.0, "{:?}", r.overall.latency);
    assert_eq!(r.overall.ok, r.overall.count - r.overall.in_flight);
}

/// A lock timeout L shorter than the fetch: the waiters that arrive in
/// the first D - L of a stampede give up before the fill and read the
/// database themselves, the rest are answered by the fill. Per expiry:
/// 1 + Poisson(r(D - L)) = 61 reads for L = 4 ms, and r·L = 40 coalesced
/// misses; sds √(60/500) and √(40/500), about 0.35 and 0.28, so 2.
#[test]
fn lock_timeout_bounds_the_wait_and_sends_late_waiters_to_the_origin() {
    let r = hot_key(Some("4ms"));
    let c = &r.caches[0];
    let stampedes = (c.expirations + 1) as f64;
    let reads = r.databases[0].ops as f64 / stampedes;
    let coalesced = c.coalesced as f64 / stampedes;
    eprintln!("lock timeout 4ms: {reads:.2} reads and {coalesced:.2} coalesced per expiry");
    assert!(
        (reads - 61.0).abs() <= 2.0,
        "{reads} reads per expiry, theory 61"
    );
    assert!(
        (coalesced - 40.0).abs() <= 2.0,
        "{coalesced} coalesced per expiry, theory 40"
    );
    assert_eq!(
        c.lock_timeouts as f64,
        r.databases[0].ops as f64 - stampedes
    );
    assert!(r.overall.latency.max_ms <= 14.0, "{:?}", r.overall.latency);
}

/// The spread of the LFU figure over seeds, behind its bounds.
#[test]
#[ignore = "pilot for the LFU bounds; run by hand"]
fn lfu_pilot() {
    let xs: Vec<f64> = (1..=10)
        .map(|seed| zipf_hit_ratio(&scan_case("lfu", seed)))
        .collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    println!("LFU under a scan over {n} seeds: mean {mean:.5}, sd {sd:.5}, {xs:.4?}");
}

/// The fetching request dies: one slow read (2 s) is fetching the key for
/// service `a`'s pod, which crashes at 0.5 s, while requests of service `b`
/// wait for that fetch (lock timeout 10 s). A killed request stops at its
/// next event (here the end of its database read, at about 2 s); its fetch
/// is then handed to the first waiter still alive — a `b` request — whose
/// read answers everyone at about 4 s. Without the hand-over the `b`
/// requests would wait out the 10 s lock timeout.
#[test]
fn a_dead_fetcher_hands_its_fetch_to_a_waiter() {
    let get = |svc: &str| {
        json!({ format!("get_{svc}"): [
            { "cache": { "cache": "c", "key": "item", "on_miss": [{ "read": { "db": "d" } }] } }
        ] })
    };
    let r = run(&json!({
        "name": "dead fetcher",
        "duration": "20s",
        "workloads": [
            { "name": "wa", "target": "a", "rate": [{ "for": "5ms", "rps": 2000 }, { "rps": 0 }],
              "mix": { "get_a": 1 }, "keys": { "item": { "uniform": { "n": 1 } } } },
            { "name": "wb", "target": "b",
              "rate": [{ "for": "100ms", "rps": 0 }, { "for": "900ms", "rps": 100 }, { "rps": 0 }],
              "mix": { "get_b": 1 }, "keys": { "item": { "uniform": { "n": 1 } } } }
        ],
        "services": [
            { "name": "a", "replicas": 1, "concurrency": 100, "endpoints": get("a") },
            { "name": "b", "replicas": 1, "concurrency": 100, "endpoints": get("b") }
        ],
        "caches": [{ "name": "c", "capacity": 10, "hit_latency": "0s",
                     "coalesce": true, "lock_timeout": "10s" }],
        "databases": [{ "name": "d", "shards": 1, "shard_key": "item", "connections": 100,
                        "read_time": "2s", "write_time": "2s" }],
        "faults": [{ "at": "500ms", "kill_pods": { "service": "a", "count": 1 } }]
    }));
    let c = &r.caches[0];
    let b = r
        .endpoints
        .iter()
        .find(|e| e.name == "get_b")
        .expect("get_b");
    assert!(b.count > 50, "{b:?}");
    assert_eq!((b.ok, b.timeouts, b.in_flight), (b.count, 0, 0), "{b:?}");
    assert_eq!(c.lock_timeouts, 0, "{c:?}");
    assert_eq!(r.databases[0].ops, 2, "the dead read and the hand-over's");
    assert_eq!(c.fetches, 2, "{c:?}");
    assert_eq!(c.coalesced, b.count - 1, "every b request but the heir");
    assert!(b.latency.max_ms < 4000.0, "{:?}", b.latency);
    assert_eq!(r.totals.in_flight, 0);
}
