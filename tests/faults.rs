//! Database and cache failures: random failures against renewal theory,
//! slow-downs against M/M/c (Erlang C), outages of a shard and of a cache
//! against what must fail and what must refill, determinism, and a bad
//! fault refused by the binary. (What a fault refuses is tested beside
//! its resolution, in `models/src/system/faults.rs`.)
//!
//! # How the tolerances were chosen
//!
//! As in `databases`: about five standard errors of the estimator, so a
//! correct model fails with a probability of the order of 10^-5 whatever
//! the seed, while a modelling error (a shard that comes back too early,
//! a slow-down applied to the wrong node, lookups that still hit a node
//! that is down, a refilled cache that stays empty) moves the figure by
//! many tolerances. Each check says where its standard error comes from:
//! a Poisson count, the variance of an alternating renewal process, or a
//! pilot over 20 seeds ([`pilot`]) where the estimator is autocorrelated:
//!
//! ```text
//! cargo test --test tests faults::pilot -- --ignored --nocapture
//! ```

use models::Results;
use serde_json::{Value, json};

use crate::support::{self, SEED, close};
use sim_core::theory;

fn run(v: &Value) -> Results {
    support::run("faults.json", v)
}

/// One app pod with workers to spare (no request waits for one), `rps`
/// Poisson arrivals of endpoint `get` running `steps`, a uniform key `k`
/// over `n` values, `secs` seconds without warm-up, 5 s time-series
/// buckets, and the given databases, caches and faults.
fn system(seed: u64, secs: u64, rps: f64, n: u64, steps: Value, parts: Value) -> Value {
    let mut v = json!({
        "name": "faults",
        "seed": seed,
        "duration": format!("{secs}s"),
        "time_series_interval": "5s",
        "workloads": [{ "name": "w", "target": "app", "rate": [{ "rps": rps }],
                        "mix": { "get": 1 }, "keys": { "k": { "uniform": { "n": n } } } }],
        "services": [{ "name": "app", "replicas": 1, "concurrency": 100000,
                       "endpoints": { "get": steps } }]
    });
    for (k, x) in parts.as_object().expect("object") {
        v[k] = x.clone();
    }
    v
}

/// A database `d` of `shards` shards by `k` with `connections` each and
/// exponential reads and writes of mean `ms`, plus `extra` fields.
fn db(shards: u32, connections: u32, ms: f64, extra: Value) -> Value {
    let mut d = json!({ "name": "d", "shards": shards, "shard_key": "k", "connections": connections,
                        "read_time": { "exponential": { "mean": format!("{ms}ms") } },
                        "write_time": { "exponential": { "mean": format!("{ms}ms") } } });
    for (k, x) in extra.as_object().expect("object") {
        d[k] = x.clone();
    }
    d
}

/// The mean of `xs[from..to]`.
fn mean_of(xs: &[f64], from: usize, to: usize) -> f64 {
    xs[from..to].iter().sum::<f64>() / (to - from) as f64
}

// ------------------------------------------------------ random failures

/// Each shard primary and each cache node is up for Exp(mean 60 s), then
/// down for Exp(mean 15 s): an alternating renewal process, up a fraction
/// 60 / 75 = 0.8 of the time in the long run. Over T = 2 h the time-average
/// of one component's down indicator has variance 2·mtbf²·mttr² /
/// ((mtbf + mttr)³·T) (exponential up and down times), sd 0.0231; the mean
/// of 40 independent components has sd 0.00365, and the tolerance is 5 of
/// them. The number of failures of one component is a renewal count of
/// mean T/75 = 96 and variance T·(mtbf² + mttr²)/75³ = 65.3: 3,840 ± 51 for
/// 40 of them.
///
/// Given the down periods, the reads sent to a shard that is down are a
/// Poisson count of mean λ_shard × its downtime (Poisson arrivals see time
/// averages), so the failed statements are checked against the run's own
/// downtime, with 5 sd of that Poisson count, plus the handful of reads
/// running when their shard failed (1 ms reads at 0.25/s per shard). The
/// same holds for the cache's lookups that errored.
#[test]
fn shards_and_cache_nodes_are_up_mtbf_over_mtbf_plus_mttr() {
    let v = availability_case(SEED);
    let r = run(&v);
    let (mtbf, mttr, t, n): (f64, f64, f64, f64) = (60.0, 15.0, 7200.0, 40.0);
    let a = mtbf / (mtbf + mttr);
    let sd = (2.0 * mtbf * mtbf * mttr * mttr / (mtbf + mttr).powi(3) / t / n).sqrt();
    let d = &r.databases[0];
    let shard_avail = d.shards.iter().map(|s| s.availability).sum::<f64>() / n;
    close("shard availability", shard_avail, a, 5.0 * sd);
    let c = &r.caches[0];
    close("cache node availability", c.availability, a, 5.0 * sd);

    let cycles = n * t / (mtbf + mttr);
    let count_sd = (n * t * (mtbf * mtbf + mttr * mttr) / (mtbf + mttr).powi(3)).sqrt();
    let shard_failures: u64 = d.shards.iter().map(|s| s.failures).sum();
    close(
        "shard failures",
        shard_failures as f64,
        cycles,
        5.0 * count_sd,
    );
    close(
        "cache node failures",
        c.node_failures as f64,
        cycles,
        5.0 * count_sd,
    );
    // Reads (10/s over 40 shards) that found their shard down.
    let downtime: f64 = d.shards.iter().map(|s| s.downtime_s).sum();
    let expected = 10.0 / n * downtime;
    close(
        "failed statements",
        d.failed_statements as f64,
        expected,
        5.0 * expected.sqrt() + 5.0,
    );
    // One statement per `direct` request: each failure is one aborted
    // request, and nothing else aborts.
    assert_eq!(r.endpoints[0].aborted, d.failed_statements);
    // Lookups (10/s over 40 nodes) that found their node down.
    let expected = 10.0 / n * c.downtime_s;
    close(
        "cache errors",
        c.errors as f64,
        expected,
        5.0 * expected.sqrt(),
    );
    // A cache error is a miss for the application: the request succeeds.
    assert_eq!(r.endpoints[1].aborted, 0);
    assert_eq!(c.lookups, c.hits + c.misses + c.errors);
    assert!(c.keys_lost > 0);
}

fn availability_case(seed: u64) -> Value {
    let mut v = system(
        seed,
        7200,
        20.0,
        1000,
        json!([{ "read": { "db": "d" } }]),
        json!({
            "databases": [db(40, 4, 1.0, json!({ "failures": { "mtbf": "60s", "mttr": "15s" } }))],
            "caches": [{ "name": "c", "capacity": 1000, "nodes": 40, "hit_latency": "1ms",
                         "failures": { "mtbf": "60s", "mttr": "15s" } }]
        }),
    );
    v["workloads"][0]["mix"] = json!({ "direct": 1, "cached": 1 });
    v["services"][0]["endpoints"] = json!({
        "direct": [{ "read": { "db": "d" } }],
        "cached": [{ "cache": { "cache": "c", "key": "k" } }]
    });
    v
}

// ----------------------------------------------------------- slow-downs

/// One shard with 8 connections: an M/M/8 pool, Poisson reads at 400/s,
/// exponential 5 ms (offered load 2, utilisation 0.25), for 1200 s.
/// Slowed down 3 times for the whole run it is M/M/8 with mean service
/// 15 ms: utilisation 0.75 and an Erlang C wait of C(8, 6)/(8μ′ − λ) =
/// 0.3570 / (0.5333 − 0.4)/ms = 2.677 ms. Tolerances: 5 pilot sd
/// (autocorrelated estimators; 20 seeds: 0.0015 and 0.054 ms). A slow-down
/// of 2.5 instead would give 0.625 and 0.70 ms.
#[test]
fn a_slowed_shard_is_factor_times_busier_and_waits_like_erlang_c() {
    let r = run(&slow_case(SEED, json!("0s"), json!("1h")));
    let s = &r.databases[0].shards[0];
    let (lambda, mu, c, k) = (0.4, 0.2, 8u32, 3.0);
    close(
        "utilisation",
        s.utilisation,
        k * lambda / mu / 8.0,
        SLOW_TOL[0],
    );
    close(
        "mean wait, ms",
        s.wait_mean_ms,
        theory::mmc_mean_wait(lambda, mu / k, c),
        SLOW_TOL[1],
    );
    // Without the fault: a quarter busy, and almost no wait (C(8, 2)/(8μ −
    // λ) = 0.00096 ms; the tolerance only says "tiny").
    let mut v = slow_case(SEED, json!("0s"), json!("1h"));
    v.as_object_mut().unwrap().remove("faults");
    let base = run(&v);
    let b = &base.databases[0].shards[0];
    close("baseline utilisation", b.utilisation, 0.25, SLOW_TOL[0]);
    close(
        "baseline mean wait, ms",
        b.wait_mean_ms,
        theory::mmc_mean_wait(lambda, mu, c),
        0.01,
    );
}

/// The same slow-down for [200 s, 400 s) of a 600 s run: the shard's
/// utilisation per 5 s bucket is 0.75 inside the window and 0.25 outside
/// (the buckets at the edges, where statements started before the change
/// end after it, are left out). Each bucket holds about 2,000 statements
/// with exponential times, so its busy fraction has a relative sd of about
/// √(2/2000) = 3%; averaged over 38 buckets, 0.5%. Tolerance: 3% of the
/// value (6 sd). Reads do not change: they are counted where routed.
#[test]
fn a_slow_down_lasts_its_window() {
    let r = run(&slow_case(SEED, json!("200s"), json!("200s")));
    let util = &r.time_series.databases[0].shard_utilisation[0];
    let (before, during, after) = (
        mean_of(util, 1, 39),
        mean_of(util, 41, 79),
        mean_of(util, 81, 119),
    );
    close("utilisation before", before, 0.25, 0.03 * 0.25);
    close("utilisation during", during, 0.75, 0.03 * 0.75);
    close("utilisation after", after, 0.25, 0.03 * 0.25);
}

fn slow_case(seed: u64, at: Value, length: Value) -> Value {
    let secs = if at == json!("0s") { 1200 } else { 600 };
    system(
        seed,
        secs,
        400.0,
        1,
        json!([{ "read": { "db": "d" } }]),
        json!({
            "databases": [db(1, 8, 5.0, json!({}))],
            "faults": [{ "at": at, "for": length,
                         "slow_down": { "database": "d", "factor": 3 } }]
        }),
    )
}

/// 5 x the pilot sd of the slowed shard's utilisation and mean wait.
const SLOW_TOL: [f64; 2] = [0.008, 0.27];

/// A cache slowed down 4 times answers every lookup in 4 times its hit
/// latency (a constant 1 ms): every request takes exactly 4 ms, and it
/// keeps its keys (all hits once warm).
#[test]
fn a_slowed_cache_answers_factor_times_later_and_keeps_its_keys() {
    let mut v = system(
        SEED,
        60,
        200.0,
        10,
        json!([{ "cache": { "cache": "c", "key": "k" } }]),
        json!({
            "caches": [{ "name": "c", "capacity": 100, "hit_latency": "1ms" }],
            "faults": [{ "at": "10s", "for": "1h",
                         "slow_down": { "cache": "c", "factor": 4 } }]
        }),
    );
    v["warmup"] = json!("20s");
    let r = run(&v);
    let l = &r.endpoints[0].latency;
    assert_eq!((l.p50_ms, l.mean_ms, l.max_ms), (4.0, 4.0, 4.0), "{l:?}");
    assert_eq!(r.caches[0].misses, 0);
    assert_eq!(r.caches[0].errors, 0);
}

// --------------------------------------------------------------- outages

/// Four shards by a uniform key, 200 requests/s each reading its key's
/// shard; shard 2 is down for [60 s, 120 s) of 180 s. The reads routed to
/// it in the window fail: a Poisson count of mean 200 × 60 / 4 = 3,000 (sd
/// 55; tolerance 5 sd), a quarter of the window's requests, plus the few
/// running when it went down (0.25 busy connections on average). Nothing
/// fails outside the window, and nothing on the other shards.
#[test]
fn requests_routed_to_a_shard_that_is_down_fail() {
    let r = run(&outage_case(SEED, "primary", json!({ "get": 1 })));
    let d = &r.databases[0];
    let s2 = &d.shards[2];
    close(
        "failed statements",
        s2.failed_statements as f64,
        3000.0,
        5.0 * 55.0 + 5.0,
    );
    assert_eq!(r.overall.aborted, s2.failed_statements);
    let arrived_in_window = 200.0 * 60.0;
    close(
        "failed fraction in the window",
        r.overall.aborted as f64 / arrived_in_window,
        0.25,
        (5.0 * 55.0 + 5.0) / arrived_in_window,
    );
    for (i, s) in d.shards.iter().enumerate() {
        if i != 2 {
            assert_eq!((s.failed_statements, s.failures), (0, 0), "shard {i}");
        }
    }
    assert_eq!(s2.failures, 1);
    close("downtime, s", s2.downtime_s, 60.0, 1e-9);
    close("availability", s2.availability, 2.0 / 3.0, 1e-9);
    // Failures only in the window's buckets (5 s: 12 to 23).
    let ts = &r.time_series;
    let aborted = &ts.endpoints[0].aborted_rps;
    for (b, x) in aborted.iter().enumerate() {
        if (12..24).contains(&b) {
            assert!(*x > 30.0, "bucket {b}: {x}/s failed");
        } else {
            assert_eq!(*x, 0.0, "bucket {b}");
        }
    }
    // The shard gets its traffic back after the window.
    let ops = &ts.databases[0].shard_ops_rps[2];
    close("shard 2 ops after, /s", mean_of(ops, 25, 36), 50.0, 5.0);
}

/// With one replica and `read_from: round_robin`, reads routed to the
/// shard whose primary is down go to the replica, and only writes fail:
/// 20% of the 3,000 statements, Poisson with mean 600 (sd 24.5, tolerance
/// 5 sd). With `read_from: replicas` the same. With `primary`, reads and
/// writes fail.
#[test]
fn reads_go_to_a_replica_when_the_primary_is_down() {
    let mix = json!({ "get": 4, "put": 1 });
    for (read_from, expected, sd) in [
        ("round_robin", 600.0, 24.5),
        ("replicas", 600.0, 24.5),
        ("primary", 3000.0, 55.0),
    ] {
        let r = run(&outage_case(SEED, read_from, mix.clone()));
        let s2 = &r.databases[0].shards[2];
        close(
            &format!("{read_from}: failed statements"),
            s2.failed_statements as f64,
            expected,
            5.0 * sd + 5.0,
        );
        let get = &r.endpoints[0];
        if read_from == "primary" {
            assert!(get.aborted > 2000, "{}", get.aborted);
        } else {
            // A read running on the primary when it went down fails.
            assert!(
                get.aborted <= 5,
                "{read_from}: {} reads failed",
                get.aborted
            );
            // The replica served the window's reads of shard 2 (2,400).
            assert!(s2.replicas[0].reads > 2000, "{}", s2.replicas[0].reads);
        }
    }
}

fn outage_case(seed: u64, read_from: &str, mix: Value) -> Value {
    let replicas = if read_from == "primary" { 0 } else { 1 };
    let mut v = system(
        seed,
        180,
        200.0,
        100_000,
        json!([{ "read": { "db": "d" } }]),
        json!({
            "databases": [db(4, 8, 5.0, json!({ "replicas": replicas, "read_from": read_from }))],
            "faults": [{ "at": "60s", "for": "60s", "outage": { "database": "d", "shard": 2 } }]
        }),
    );
    v["workloads"][0]["mix"] = mix;
    v["services"][0]["endpoints"]["put"] = json!([{ "write": { "db": "d" } }]);
    v
}

/// A shard with one connection and 10 s reads, a request per second:
/// statements pile up. When the primary goes down (at 15 s, for 5 s) the
/// running statement and every waiting one fail at once, and requests
/// sent during the window fail on arrival; the running statement's end
/// (later, at its drawn time) must not free a connection a second time,
/// and the shard serves again after the window.
#[test]
fn statements_waiting_or_running_when_the_primary_goes_down_fail() {
    let v = system(
        SEED,
        60,
        1.0,
        1,
        json!([{ "read": { "db": "d" } }]),
        json!({
            "databases": [{ "name": "d", "shards": 1, "shard_key": "k", "connections": 1,
                            "read_time": "10s", "write_time": "10s" }],
            "faults": [{ "at": "15s", "for": "5s", "outage": { "database": "d" } }]
        }),
    );
    let r = run(&v);
    let s = &r.databases[0].shards[0];
    assert_eq!(r.overall.aborted, s.failed_statements);
    // About 15 in the system at 15 s (one ran to its end at 10 s) and 5
    // arriving in the window: at least 10 fail whatever the draws.
    assert!(s.failed_statements >= 10, "{}", s.failed_statements);
    // After the window, one read every 10 s completes again: those of the
    // first arrivals after 20 s finish at 30, 40, 50 and 60 s.
    assert!(r.overall.ok >= 4, "{}", r.overall.ok);
}

/// A warm cache of 1,000 uniformly read keys (500 lookups/s, no TTL, no
/// evictions) goes down for [60 s, 90 s) of 180 s:
///
/// - every lookup of the window errors, a Poisson count of mean 15,000
///   (sd 122; tolerance 5 sd), and goes to the database, whose read rate
///   rises from 0 to the full 500/s (per 5 s bucket, Poisson sd 10/s;
///   averaged over the window's 6 buckets, 4/s; tolerance 5 sd);
/// - the node loses its 1,000 keys and comes back empty; each key misses
///   once more. Keys are drawn at 0.5/s each, so t seconds after the
///   restart a fraction 1 − e^(−0.5t) is back: the hit ratio over the
///   first 5 s is 1 − (1 − e^(−2.5))/2.5 = 0.633 (2,500 lookups, binomial
///   sd 0.01, tolerance 5 sd) and from 30 s on it is 1 (a key missing
///   after 30 s has probability e^(−15)).
/// - misses: 1,000 cold misses before the outage, 1,000 after, plus the
///   lookups of a key while its fetch is in flight (0.5/s × 4 ms per key:
///   about 4 in all).
#[test]
fn a_cache_outage_sends_every_lookup_to_the_database_and_the_cache_refills() {
    let r = run(&cache_outage_case(SEED, 1, None));
    let c = &r.caches[0];
    close("errors", c.errors as f64, 15_000.0, 5.0 * 122.0);
    assert_eq!(c.keys_lost, 1000);
    assert_eq!(c.node_failures, 1);
    close("downtime, s", c.downtime_s, 30.0, 1e-9);
    assert!((2000..2030).contains(&c.misses), "{} misses", c.misses);
    assert_eq!(
        r.overall.aborted, 0,
        "a cache error is not a failed request"
    );
    let ts = &r.time_series;
    let ops = &ts.databases[0].shard_ops_rps[0];
    close("database reads before, /s", mean_of(ops, 6, 12), 0.0, 0.5);
    close(
        "database reads during, /s",
        mean_of(ops, 12, 18),
        500.0,
        20.0,
    );
    let hit = &ts.caches[0].hit_ratio;
    close("hit ratio during", mean_of(hit, 12, 18), 0.0, 0.0);
    close(
        "hit ratio in the first 5 s after",
        hit[18],
        1.0 - (1.0 - (-2.5f64).exp()) / 2.5,
        0.05,
    );
    close("hit ratio from 30 s after", mean_of(hit, 24, 36), 1.0, 1e-3);
}

/// The same cache on 4 nodes, only node 1 down: it loses the keys in its
/// quarter of the hash slots (binomial, 250 ± 14 of the 1,000) and only
/// their lookups error — a fraction keys_lost / 1000 of the window's
/// 15,000 lookups (Poisson sd ≤ 122, tolerance 5 sd).
#[test]
fn a_cache_node_outage_loses_its_share_of_the_keys() {
    let r = run(&cache_outage_case(SEED, 4, Some(1)));
    let c = &r.caches[0];
    close("keys lost", c.keys_lost as f64, 250.0, 5.0 * 13.7);
    let expected = 15_000.0 * c.keys_lost as f64 / 1000.0;
    close("errors", c.errors as f64, expected, 5.0 * expected.sqrt());
    assert_eq!(c.node_failures, 1);
    close(
        "availability",
        c.availability,
        1.0 - 30.0 / 180.0 / 4.0,
        1e-9,
    );
}

fn cache_outage_case(seed: u64, nodes: u32, node: Option<u32>) -> Value {
    let mut outage = json!({ "cache": "c" });
    if let Some(n) = node {
        outage["node"] = json!(n);
    }
    system(
        seed,
        180,
        500.0,
        1000,
        json!([{ "cache": { "cache": "c", "key": "k", "on_miss": [{ "read": { "db": "d" } }] } }]),
        json!({
            "caches": [{ "name": "c", "capacity": 10000, "nodes": nodes, "hit_latency": "1ms" }],
            "databases": [db(1, 64, 2.0, json!({}))],
            "faults": [{ "at": "60s", "for": "30s", "outage": outage }]
        }),
    )
}

/// A queue consumer whose statement fails hands its message to the
/// queue's failure handling (here: no retry, dead-lettered at once): 50
/// messages/s on 2 partitions with a consumer each (a quarter busy), each
/// message a scatter over 4 shards, with shard 2 down for [20 s, 30 s) of
/// 60 s. Every message consumed in the window fails (a Poisson count of
/// mean 500, sd 22; tolerance 5 sd plus the few in hand or waiting when
/// the shard went down); the scatter's reads on the other shards run to
/// their end without the message, and the consumer takes the next one at
/// once. The other messages are processed.
#[test]
fn a_consumer_whose_statement_fails_dead_letters_the_message() {
    let mut v = system(
        SEED,
        60,
        50.0,
        1000,
        json!([{ "publish": { "queue": "q" } }]),
        json!({
            "databases": [db(4, 8, 5.0, json!({}))],
            "queues": [{ "name": "q", "partitions": 2, "consumers": 2,
                         "work": [{ "scatter": { "db": "d" } }] }],
            "faults": [{ "at": "20s", "for": "10s", "outage": { "database": "d", "shard": 2 } }]
        }),
    );
    v["queues"][0]["partition_key"] = json!("k");
    let r = run(&v);
    let q = &r.queues[0];
    close(
        "failed attempts",
        q.failed_attempts as f64,
        500.0,
        5.0 * 22.4 + 5.0,
    );
    assert_eq!(q.dead_lettered, q.failed_attempts);
    assert_eq!(r.databases[0].failed_statements, q.failed_attempts);
    // Every request only publishes: none fails.
    assert_eq!(r.overall.aborted, 0);
    assert!(
        q.consumed + q.dead_lettered + q.lag_at_end == q.published,
        "{q:?}"
    );
    assert!(q.lag_at_end <= 5, "{q:?}");
}

/// Shards failing in turn under a backlog: one consumer scatters over two
/// shards of one 100 ms connection each, 20 messages/s (twice what they
/// serve). Shard 0 is down for [5 s, 8 s) and shard 1 for [6 s, 9 s):
/// each message that fails on shard 0 leaves its read on shard 1 running
/// or waiting without it, and those fail again when shard 1 goes down.
/// Every message is accounted for, and the shards serve again after.
#[test]
fn shards_failing_in_turn_under_a_backlog_lose_nothing() {
    let v = system(
        SEED,
        20,
        20.0,
        1000,
        json!([{ "publish": { "queue": "q" } }]),
        json!({
            "databases": [{ "name": "d", "shards": 2, "shard_key": "k", "connections": 1,
                            "read_time": "100ms", "write_time": "100ms" }],
            "queues": [{ "name": "q", "partitions": 1, "consumers": 1,
                         "work": [{ "scatter": { "db": "d" } }] }],
            "faults": [
                { "at": "5s", "for": "3s", "outage": { "database": "d", "shard": 0 } },
                { "at": "6s", "for": "3s", "outage": { "database": "d", "shard": 1 } }
            ]
        }),
    );
    let r = run(&v);
    let q = &r.queues[0];
    assert!(q.failed_attempts >= 10, "{q:?}");
    assert_eq!(
        q.consumed + q.dead_lettered + q.lag_at_end,
        q.published,
        "{q:?}"
    );
    let d = &r.databases[0];
    assert!(d.shards.iter().all(|s| s.failures == 1), "{d:?}");
    // After 9 s the consumer works through its backlog again, one message
    // per 100 ms: at least 80 of the 11 s left.
    assert!(q.consumed >= 80, "{q:?}");
}

// ----------------------------------------------------------- determinism

/// The same seed gives the same document, failures and faults included;
/// another seed another one.
#[test]
fn failures_and_faults_are_deterministic() {
    let mut v = availability_case(SEED);
    v["duration"] = json!("600s");
    v["faults"] = json!([
        { "at": "100s", "for": "50s", "slow_down": { "database": "d", "shard": 3, "factor": 4 } },
        { "at": "200s", "for": "50s", "outage": { "cache": "c", "node": 7 } }
    ]);
    let a = run(&v).without_engine();
    assert_eq!(a, run(&v).without_engine());
    v["seed"] = json!(SEED + 1);
    assert_ne!(a, run(&v).without_engine());
}

/// A slow-down by 1, and random failures so rare that none happens in the
/// run, change no figure: they draw nothing from the other streams.
#[test]
fn faults_that_do_nothing_change_nothing() {
    let base = cache_outage_case(SEED, 3, None);
    let mut quiet = base.clone();
    quiet["faults"] = json!([
        { "at": "10s", "for": "100s", "slow_down": { "database": "d", "factor": 1 } },
        { "at": "10s", "for": "100s", "slow_down": { "cache": "c", "factor": 1 } }
    ]);
    quiet["databases"][0]["failures"] = json!({ "mtbf": "100000h", "mttr": "1m" });
    quiet["caches"][0]["failures"] = json!({ "mtbf": "100000h", "mttr": "1m" });
    let mut base = base;
    base.as_object_mut().unwrap().remove("faults");
    let (a, b) = (run(&base), run(&quiet));
    assert_eq!(a.endpoints, b.endpoints);
    assert_eq!(a.databases, b.databases);
    assert_eq!(a.caches, b.caches);
    assert_eq!(a.time_series, b.time_series);
}

// ------------------------------------------------------------- bad input

/// 1-based line and column of the first `needle` after the first
/// `anchor` in `text`.
fn position(text: &str, anchor: &str, needle: &str) -> (usize, usize) {
    let from = text
        .find(anchor)
        .unwrap_or_else(|| panic!("`{anchor}` is not in {text}"));
    let at = from
        + text[from..]
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` is not after `{anchor}` in {text}"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, column)
}

/// The same through the binary: exit 2, the located message on stderr.
#[test]
fn a_bad_fault_is_bad_input_for_the_binary() {
    let scratch = crate::cli::Scratch::new("faults-bad");
    let mut v = availability_case(SEED);
    v["faults"] = json!([{ "at": "10s", "for": "5s",
                           "outage": { "database": "d", "shard": 40 } }]);
    let text = serde_json::to_string_pretty(&v).unwrap();
    let file = scratch.file("bad.json", &text);
    let (line, column) = position(&text, "\"shard\":", "40");
    let out = crate::cli::capsim(["validate".as_ref(), file.as_os_str()]);
    assert_eq!(out.code, Some(2), "{out}");
    let want = format!(
        "{}:{line}:{column}: faults[0].outage.shard: database `d` has 40 shards",
        file.display()
    );
    assert!(out.stderr.contains(&want), "wanted `{want}`: {out}");
}

// ------------------------------------------------------------------ pilot

/// Runs the autocorrelated cases over seeds 1..=20 and prints the mean and
/// sd of each figure: the evidence behind the tolerances.
#[test]
#[ignore = "pilot for the tolerances; run by hand"]
fn pilot() {
    let runs: Vec<Results> = (1..=20)
        .map(|s| run(&slow_case(s, json!("0s"), json!("1h"))))
        .collect();
    type Figure = (&'static str, fn(&Results) -> f64);
    let figures: [Figure; 2] = [
        ("slowed utilisation", |r| {
            r.databases[0].shards[0].utilisation
        }),
        ("slowed mean wait ms", |r| {
            r.databases[0].shards[0].wait_mean_ms
        }),
    ];
    for (what, f) in figures {
        let xs: Vec<f64> = runs.iter().map(f).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        println!("{what}: mean {mean:.6} sd {sd:.6}");
    }
}
