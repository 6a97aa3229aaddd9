//! Queues against theory: a work queue is M/M/c, a topic is one M/M/1
//! queue per partition, blocking retries are an M/G/1 queue, retries and
//! dead letters follow the truncated geometric law of attempts, zipf keys
//! make a hot partition of the share the hash gives it, unlimited prefetch
//! makes round-robin deliveries (E_c/M/1), consumers cut off the network
//! stall their partitions for the session timeout and then a rebalance
//! pauses the group. (What a queue refuses is tested beside it, in
//! `models/src/kinds/queue/mod.rs`.)
//!
//! # How the tolerances were chosen
//!
//! As in `validation`: about five standard errors of the estimator at the
//! sample size used, so a correct model fails with a probability of the
//! order of 10^-5 whatever the seed, while a modelling error (a consumer
//! that takes a message while another is free, retries that skip the
//! backoff, a partition that is not stuck, a dead-letter count off by an
//! attempt) moves the figure by many tolerances. Counts are binomial or
//! Poisson; queueing means are autocorrelated, so their standard errors
//! come from a pilot over 20 seeds ([`pilot`]). Rerun it after changing a
//! case with
//!
//! ```text
//! cargo test --test tests queues::pilot -- --ignored --nocapture
//! ```

use models::{QueueResult, Results};
use serde_json::{Value, json};

use crate::support::{self, SEED, close};
use sim_core::theory;

use crate::conservation::assert_invariants;

/// Warm-up of the queueing cases, s: far longer than their relaxation
/// times (an M/M/1 queue at ρ = 0.8 with 1 ms service relaxes in about
/// 0.1 s).
const WARMUP_S: f64 = 5.0;

// ------------------------------------------------------------- scaffolding

/// A publisher that never waits (one pod, workers to spare) sending `rps`
/// Poisson messages with `keys` to queue `q`, defined by `queue` (merged
/// into `{"name": "q", "consumers": 4, exponential 1 ms work}`), plus any
/// `extra` top-level fields (more queues, faults).
fn system(seed: u64, measured_s: f64, rps: f64, keys: Value, queue: Value, extra: Value) -> Value {
    let mut q = json!({ "name": "q", "consumers": 4,
                        "work": [{ "compute": { "exponential": { "mean": "1ms" } } }] });
    for (k, v) in queue.as_object().expect("object") {
        q[k] = v.clone();
    }
    let mut v = json!({
        "name": "queues",
        "seed": seed,
        "duration": format!("{}s", WARMUP_S + measured_s),
        "warmup": format!("{WARMUP_S}s"),
        "workloads": [{ "name": "w", "target": "app", "rate": [{ "rps": rps }],
                        "mix": { "order": 1 }, "keys": keys }],
        "services": [{ "name": "app", "replicas": 1, "concurrency": 100000,
                       "endpoints": { "order": [{ "publish": { "queue": "q" } }] } }],
        "queues": [q]
    });
    for (k, x) in extra.as_object().expect("object") {
        if k == "queues" {
            for e in x.as_array().expect("array") {
                v["queues"].as_array_mut().unwrap().push(e.clone());
            }
        } else {
            v[k] = x.clone();
        }
    }
    v
}

fn run(v: &Value) -> Results {
    support::run("queues.json", v)
}

fn q<'a>(r: &'a Results, name: &str) -> &'a QueueResult {
    r.queues
        .iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no queue {name}"))
}

/// The share of each of `partitions` partitions among key values
/// `0..n` weighted by `weight` (the partition of a value is xxh3(value) mod
/// partitions, as in the simulator).
fn partition_shares(n: u64, partitions: u64, weight: impl Fn(u64) -> f64) -> Vec<f64> {
    let mut share = vec![0.0; partitions as usize];
    let mut total = 0.0;
    for v in 0..n {
        let w = weight(v);
        share[(sim_core::stable_hash(v) % partitions) as usize] += w;
        total += w;
    }
    share.iter().map(|s| s / total).collect()
}

/// Uniform keys over a million values: the partitions' shares are within
/// 0.3% of 1/partitions, and each partition receives a Poisson stream.
fn uniform_keys() -> Value {
    json!({ "k": { "uniform": { "n": 1_000_000 } } })
}

// ----------------------------------------------- work queue vs topic

/// λ = 3200/s, 4 consumers, exponential work of 1 ms (μ = 1/ms): ρ = 0.8.
const LAMBDA: f64 = 3.2; // per ms
const C: u32 = 4;

fn work_queue_case(seed: u64) -> Value {
    system(
        seed,
        150.0,
        LAMBDA * 1000.0,
        uniform_keys(),
        json!({ "kind": "work_queue" }),
        json!({}),
    )
}

fn topic_case(seed: u64) -> Value {
    system(
        seed,
        150.0,
        LAMBDA * 1000.0,
        uniform_keys(),
        json!({ "partitions": C, "partition_key": "k" }),
        json!({}),
    )
}

/// A work queue with prefetch 1 hands the next message to whichever
/// consumer is free: an M/M/c queue. With c = 4 and ρ = 0.8, Erlang C is
/// 0.5964, the mean wait for a consumer C/(cμ − λ) = 0.7455 ms and the
/// mean publish-to-processed time 1.7455 ms (480,000 messages). Tolerances
/// 5 pilot sd (pilot: 0.7489 ± 0.0156 ms, 1.7491 ± 0.0164 ms, utilisation
/// 0.8003 ± 0.0017).
#[test]
fn a_work_queue_is_m_m_c() {
    let r = run(&work_queue_case(SEED));
    let w = q(&r, "q");
    assert_eq!(w.kind, "work_queue");
    assert_eq!((w.partitions, w.active_consumers), (1, C));
    let wq = theory::mmc_mean_wait(LAMBDA, 1.0, C);
    close("work queue: mean wait, ms", w.wait.mean_ms, wq, MMC_TOL[0]);
    close(
        "work queue: mean end to end, ms",
        w.end_to_end.mean_ms,
        theory::mmc_mean_sojourn(LAMBDA, 1.0, C),
        MMC_TOL[1],
    );
    close(
        "work queue: consumer utilisation",
        w.consumer_utilisation,
        0.8,
        MMC_TOL[2],
    );
}

/// 5 x the pilot sd of the work queue's mean wait, mean end to end and
/// utilisation.
const MMC_TOL: [f64; 3] = [0.08, 0.085, 0.0085];

/// The same messages on a topic of 4 partitions, one consumer each, keyed
/// by a uniform key: a message waits for *its* partition's consumer even
/// while the other three are idle. Hashing a Poisson stream by i.i.d.
/// keys splits it into independent Poisson streams, so every partition is
/// an M/M/1 queue at λ_p = λ·share_p, and the mean publish-to-processed
/// time is Σ_p share_p / (μ − λ_p) ≈ 1/(μ − λ/c) = 5 ms — 2.9 times the
/// work queue's 1.75 ms with the same four consumers. The work queue
/// pools its consumers (a message waits only when all four are busy);
/// the topic buys per-key ordering and partition-local state with that
/// latency. Tolerance 5 pilot sd (pilot: 5.015 ± 0.079 ms end to end,
/// 4.014 ± 0.078 ms wait).
#[test]
fn a_topic_is_one_m_m_1_queue_per_partition() {
    let r = run(&topic_case(SEED));
    let t = q(&r, "q");
    let shares = partition_shares(1_000_000, u64::from(C), |_| 1.0);
    let e2e: f64 = shares.iter().map(|s| s / (1.0 - LAMBDA * s)).sum();
    let wait: f64 = shares
        .iter()
        .map(|s| s * (LAMBDA * s) / (1.0 - LAMBDA * s))
        .sum();
    close(
        "topic: mean end to end, ms",
        t.end_to_end.mean_ms,
        e2e,
        TOPIC_TOL[0],
    );
    close("topic: mean wait, ms", t.wait.mean_ms, wait, TOPIC_TOL[1]);
    for (p, s) in t.partition_detail.iter().zip(&shares) {
        // Binomial: sd √(s(1-s)/n) ≈ 0.0006 over 480,000 messages.
        close("topic: partition share", p.share, *s, 0.003);
    }
    let work_queue = theory::mmc_mean_sojourn(LAMBDA, 1.0, C);
    assert!(
        t.end_to_end.mean_ms > 2.5 * work_queue,
        "the topic ({} ms) should be far slower than the work queue ({work_queue} ms)",
        t.end_to_end.mean_ms
    );
}

/// 5 x the pilot sd of the topic's mean end to end and mean wait.
const TOPIC_TOL: [f64; 2] = [0.4, 0.4];

/// Unlimited prefetch (`prefetch: 0`): the broker pushes every message to
/// the consumers in turn as it arrives, so each consumer sees every 4th
/// message — Erlang-4 inter-arrival times — and queues them itself: an
/// E_4/M/1 queue per consumer. Mean sojourn 1/(μ(1 − σ)) with σ the root
/// of σ = (λ/(λ + μ(1 − σ)))^4: σ = 0.6940, 3.268 ms — between the pooled
/// M/M/4 (1.75 ms) and random splitting (5 ms). Tolerance 5 pilot sd
/// (pilot: 3.267 ± 0.036 ms).
#[test]
fn unlimited_prefetch_deals_messages_in_turn() {
    let r = run(&prefetch_case(SEED));
    let w = q(&r, "q");
    let sigma = ek_sigma(LAMBDA, 1.0, C);
    close(
        "prefetch 0: mean end to end, ms",
        w.end_to_end.mean_ms,
        1.0 / (1.0 - sigma),
        PREFETCH_TOL,
    );
}

/// 5 x the pilot sd of the unlimited-prefetch case's mean end to end.
const PREFETCH_TOL: f64 = 0.18;

fn prefetch_case(seed: u64) -> Value {
    system(
        seed,
        150.0,
        LAMBDA * 1000.0,
        uniform_keys(),
        json!({ "kind": "work_queue", "prefetch": 0 }),
        json!({}),
    )
}

/// σ of E_k/M/1: the root in (0, 1) of σ = (λ/(λ + μ(1 − σ)))^k, by
/// fixed-point iteration (a contraction on (0, 1) when λ/k < μ).
fn ek_sigma(lambda: f64, mu: f64, k: u32) -> f64 {
    let mut s = 0.5;
    for _ in 0..10_000 {
        s = (lambda / (lambda + mu * (1.0 - s))).powi(k as i32);
    }
    s
}

// ------------------------------------------------- retries, dead letters

/// Attempts of a message when each fails with probability `p`, at most
/// `k`: P(A = a) = p^(a-1)(1 − p) for a < k, P(A = k) = p^(k-1).
fn attempts_law(p: f64, k: u32) -> Vec<f64> {
    (1..=k)
        .map(|a| {
            if a < k {
                p.powi(a as i32 - 1) * (1.0 - p)
            } else {
                p.powi(k as i32 - 1)
            }
        })
        .collect()
}

/// Transient failures with p = 0.3 and `max_attempts` 3, blocking retries
/// after a fixed 2 ms backoff, on a topic of 4 partitions at 1000/s
/// (λ_p = 0.25/ms), exponential work of 1 ms.
fn retry_case(seed: u64, mode: &str) -> Value {
    system(
        seed,
        400.0,
        1000.0,
        uniform_keys(),
        json!({ "partitions": 4, "partition_key": "k", "failure_probability": 0.3,
                "retry": { "max_attempts": 3, "mode": mode, "backoff": "2ms" } }),
        json!({}),
    )
}

/// Each attempt fails with p = 0.3, at most k = 3 attempts: a message
/// takes (1 − p^k)/(1 − p) = 1.39 attempts on average and p^k = 2.7% are
/// dead-lettered. Over n = 405,000 finished messages the dead-lettered
/// fraction has binomial sd √(p^k(1−p^k)/n) = 0.00025 and the attempts
/// per message sd √(Var A / n) = 0.0010; tolerances 5 sd (messages still
/// in a backoff at the end add at most 1e-5).
///
/// With blocking retries the consumer is occupied for the whole
/// S_eff = Σ_{i≤A} S_i + (A − 1)·B (work S ~ exp(1 ms), backoff B = 2 ms)
/// and takes nothing else: each partition is an M/G/1 queue whose
/// "service" is S_eff. The wait until a message's first attempt is
/// λ_p E[S_eff²] / (2(1 − λ_p E[S_eff])) (Pollaczek–Khinchine): E[S_eff]
/// = 2.17 ms, E[S_eff²] = 9.86 ms², 2.694 ms at λ_p = 0.25/ms, and the
/// consumers are busy λ_p E[S_eff] = 54.25% of the time. Retry topics take
/// the backoff off the consumer: busy λ_p E[A] s = 34.75%. Tolerances 5
/// pilot sd (pilot: wait 2.702 ± 0.023 ms, utilisation 0.5428 ± 0.0015
/// and 0.3477 ± 0.0008).
#[test]
fn retries_follow_the_attempts_law_and_block_their_partition() {
    let (p, k, s, b) = (0.3f64, 3u32, 1.0, 2.0);
    let law = attempts_law(p, k);
    let mean_a: f64 = law
        .iter()
        .enumerate()
        .map(|(i, q)| (i + 1) as f64 * q)
        .sum();
    let var_a: f64 = law
        .iter()
        .enumerate()
        .map(|(i, q)| ((i + 1) as f64 - mean_a).powi(2) * q)
        .sum();
    let dead = p.powi(k as i32);
    close(
        "mean attempts formula",
        mean_a,
        (1.0 - p.powi(k as i32)) / (1.0 - p),
        1e-12,
    );
    // S_eff given A = a: mean a·s + (a−1)·b, variance a·s².
    let m1: f64 = law
        .iter()
        .enumerate()
        .map(|(i, q)| q * ((i + 1) as f64 * s + i as f64 * b))
        .sum();
    let m2: f64 = law
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let a = (i + 1) as f64;
            q * (a * s * s + (a * s + (a - 1.0) * b).powi(2))
        })
        .sum();
    let shares = partition_shares(1_000_000, 4, |_| 1.0);
    let pk_wait: f64 = shares
        .iter()
        .map(|sh| {
            let l = 1.0 * sh; // per ms
            sh * l * m2 / (2.0 * (1.0 - l * m1))
        })
        .sum();

    for mode in ["blocking", "retry_topic"] {
        let r = run(&retry_case(SEED, mode));
        let t = q(&r, "q");
        let finished = (t.consumed + t.dead_lettered) as f64;
        assert_eq!(t.failed_attempts, t.retries + t.dead_lettered);
        assert_eq!(t.dead_letter_depth, t.dead_lettered);
        close(
            &format!("{mode}: dead-lettered fraction"),
            t.dead_lettered as f64 / finished,
            dead,
            5.0 * (dead * (1.0 - dead) / finished).sqrt(),
        );
        close(
            &format!("{mode}: attempts per message"),
            (finished + t.retries as f64) / finished,
            mean_a,
            5.0 * (var_a / finished).sqrt() + 1e-5,
        );
        if mode == "blocking" {
            close(
                "blocking: mean wait, ms",
                t.wait.mean_ms,
                pk_wait,
                RETRY_TOL[0],
            );
            close(
                "blocking: consumer utilisation",
                t.consumer_utilisation,
                0.25 * m1,
                RETRY_TOL[1],
            );
        } else {
            close(
                "retry topic: consumer utilisation",
                t.consumer_utilisation,
                0.25 * mean_a * s,
                RETRY_TOL[2],
            );
        }
    }
}

/// 5 x the pilot sd of the blocking case's mean wait and utilisation, and
/// of the retry-topic case's utilisation.
const RETRY_TOL: [f64; 3] = [0.115, 0.0077, 0.0043];

/// Poison messages (q = 1%) fail every attempt; the others fail with p =
/// 10% per attempt. With 4 attempts, q + (1 − q)·p^4 = 1.0099% are
/// dead-lettered, into a dead-letter *queue* that has consumers of its
/// own: it receives exactly the dead letters. A work queue requeueing at
/// once (`basic.nack` with requeue) follows the same law. 150,000
/// messages: binomial sd 0.00026, tolerance 5 sd.
#[test]
fn poison_messages_end_in_the_dead_letter_queue() {
    for (kind, retry) in [
        (
            json!({ "partitions": 4 }),
            json!({ "max_attempts": 4, "backoff": "1ms" }),
        ),
        (
            json!({ "kind": "work_queue" }),
            json!({ "max_attempts": 4, "mode": "requeue" }),
        ),
    ] {
        let mut queue = json!({ "poison_probability": "1%", "failure_probability": 0.1,
                                "retry": retry, "dead_letter_queue": "dlq" });
        for (k, v) in kind.as_object().unwrap() {
            queue[k] = v.clone();
        }
        let v = system(
            SEED,
            150.0,
            1000.0,
            uniform_keys(),
            queue,
            json!({ "queues": [{ "name": "dlq", "partitions": 1, "consumers": 1,
                                 "work": [{ "compute": "1ms" }] }] }),
        );
        let r = run(&v);
        let (t, dlq) = (q(&r, "q"), q(&r, "dlq"));
        assert_eq!(t.dead_letter_queue.as_deref(), Some("dlq"));
        assert_eq!(
            dlq.published, t.dead_lettered,
            "the DLQ gets every dead letter"
        );
        assert_eq!(t.dead_letter_depth, dlq.lag_at_end);
        let finished = (t.consumed + t.dead_lettered) as f64;
        let expected = 0.01 + 0.99 * 0.1f64.powi(4);
        close(
            &format!("{}: dead-lettered fraction", t.kind),
            t.dead_lettered as f64 / finished,
            expected,
            5.0 * (expected * (1.0 - expected) / finished).sqrt(),
        );
        // Dead letters are processed by the DLQ's consumer.
        assert!(dlq.consumed + 1 >= dlq.published);
    }
}

// ------------------------------------------------------ partition skew

/// Zipf keys (s = 1.1 over 1,000 values, ranks in value order) hashed
/// over 8 partitions: each partition's share is the sum of the weights
/// of the values it owns, here 4.5% to 24.0% (the most popular value
/// alone weighs 17.9%); the skew index is 8 × the largest share = 1.92.
/// 320,000 messages: multinomial sd of a share ≤ 0.0008, tolerance 5 sd.
/// With one consumer per partition, each partition is an M/M/1 queue;
/// the hot partition's mean lag (messages not processed yet) is
/// ρ/(1 − ρ) with ρ = λ·share/μ = 0.8 — four messages — while the others'
/// is lower. Tolerance 5 pilot sd (pilot: 4.002 ± 0.135).
#[test]
fn zipf_keys_make_a_hot_partition() {
    let r = run(&skew_case(SEED));
    let t = q(&r, "q");
    let h = theory::zipf_popularities(1000, 1.1);
    let shares = partition_shares(1000, 8, |v| h[v as usize]);
    let (hot, hot_share) = shares
        .iter()
        .copied()
        .enumerate()
        .fold((0, 0.0), |b, (i, s)| if s > b.1 { (i, s) } else { b });
    assert_eq!(t.hottest_partition, hot);
    close(
        "skew index",
        t.skew_index,
        8.0 * hot_share,
        5.0 * 8.0 * 0.0008,
    );
    for (p, s) in t.partition_detail.iter().zip(&shares) {
        close("partition share", p.share, *s, 0.004);
    }
    let rate = skew_rate() / 1000.0; // per ms
    let rho = rate * hot_share / SKEW_MU;
    close("rho of the hot partition", rho, 0.8, 1e-9);
    close(
        "hot partition: mean lag",
        t.partition_detail[hot].lag_mean,
        rho / (1.0 - rho),
        SKEW_TOL,
    );
    for (i, p) in t.partition_detail.iter().enumerate() {
        if i != hot {
            let rho = rate * shares[i] / SKEW_MU;
            assert!(p.lag_mean < rho / (1.0 - rho) + 0.2, "partition {i}: {p:?}");
        }
    }
}

/// 5 x the pilot sd of the hot partition's mean lag.
const SKEW_TOL: f64 = 0.68;
/// Work rate per consumer, per ms (mean work 4 ms).
const SKEW_MU: f64 = 0.25;

/// The publish rate, per second, that loads the hot partition to ρ = 0.8.
fn skew_rate() -> f64 {
    let h = theory::zipf_popularities(1000, 1.1);
    let hot = partition_shares(1000, 8, |v| h[v as usize])
        .into_iter()
        .fold(0.0, f64::max);
    1000.0 * 0.8 * SKEW_MU / hot
}

fn skew_case(seed: u64) -> Value {
    system(
        seed,
        500.0,
        skew_rate(),
        json!({ "k": { "zipf": { "n": 1000, "s": 1.1, "shuffle": false } } }),
        json!({ "partitions": 8, "consumers": 8, "partition_key": "k",
                "work": [{ "compute": { "exponential": { "mean": "4ms" } } }] }),
        json!({}),
    )
}

// ----------------------------------------- partitions, crashes, rebalances

/// 4 partitions and consumers at 400/s, 3 ms of work; consumer 0 is cut
/// off from 20 s to 80 s, the session timeout is 10 s and a rebalance
/// pauses the group 2 s.
fn cut_case(seed: u64) -> Value {
    system(
        seed,
        95.0,
        400.0,
        uniform_keys(),
        json!({ "partitions": 4, "partition_key": "k", "session_timeout": "10s",
                "rebalance_pause": "2s", "work": [{ "compute": "3ms" }] }),
        json!({ "time_series_interval": "1s",
                "faults": [{ "at": "20s", "for": "60s",
                             "partition_consumers": { "queue": "q", "count": 1 } }] }),
    )
}

/// A consumer cut off at 20 s holds partition 0 while the coordinator
/// still counts it: nothing is read there for exactly the session timeout
/// (10 partition-seconds stuck). At 30 s it is removed: one rebalance,
/// which waits for the members' messages in hand (≤ 3 ms) and pauses 2 s;
/// the three others then share the four partitions. At 80 s it is back:
/// a second rebalance. Partition 0's lag climbs to the ~12 s of its
/// traffic (λ_0 ≈ 100/s: 1,200 messages, Poisson sd 35) and drains once
/// its new owner reads it. The counts are exact; the lag's tolerance is
/// 5 Poisson sd plus the ≤ 3 ms barriers.
#[test]
fn a_cut_off_consumer_stalls_its_partitions_then_the_group_rebalances() {
    let r = run(&cut_case(SEED));
    let t = q(&r, "q");
    assert_eq!(t.consumers_cut, 1);
    assert_eq!(t.session_timeouts, 1);
    assert_eq!(t.rebalances, 2);
    assert!(t.redeliveries <= 1, "only the message it held: {t:?}");
    close("stuck partition-seconds", t.stuck_partition_s, 10.0, 1e-6);
    close("paused, s", t.rebalance_paused_s, 4.003, 0.003);
    let share0 = partition_shares(1_000_000, 4, |_| 1.0)[0];
    let expected = 400.0 * share0 * 12.0;
    let p0 = &t.partition_detail[0];
    close(
        "partition 0: peak lag",
        p0.lag_max,
        expected,
        5.0 * expected.sqrt() + 2.0,
    );
    // The others only paused 2 s twice: at most ~200 + noise.
    for p in &t.partition_detail[1..] {
        assert!(p.lag_max < 400.0, "{p:?}");
    }
    // Lag over time: high while stuck, drained after.
    let ts = &r.time_series.queues[0];
    assert!(ts.lag[31] > 900.0, "lag at 31 s: {}", ts.lag[31]);
    assert!(ts.lag[60] < 20.0, "lag at 60 s: {}", ts.lag[60]);
    assert!(t.lag_at_end < 20);
    // The group is stopped in [30, 32] and [80, 82], plus the barriers.
    for (i, f) in ts.rebalancing.iter().enumerate() {
        let want = match i {
            30 | 31 | 80 | 81 => 1.0,
            32 | 82 => 0.0,
            _ => 0.0,
        };
        let slack = if i == 32 || i == 82 { 0.003 } else { 1e-9 };
        assert!((f - want).abs() <= slack, "rebalancing in bucket {i}: {f}");
    }
}

/// Without a rebalance the cut-off consumer's partition is not read by
/// anybody until it heals: a partition shorter than the session timeout
/// leaves no trace but lag (no rebalance, no redelivery; what it finished
/// meanwhile is acknowledged late).
#[test]
fn a_short_partition_needs_no_rebalance() {
    let mut v = cut_case(SEED);
    v["faults"][0]["for"] = json!("5s");
    let r = run(&v);
    let t = q(&r, "q");
    assert_eq!(
        (t.rebalances, t.session_timeouts, t.redeliveries),
        (0, 0, 0)
    );
    close("stuck partition-seconds", t.stuck_partition_s, 5.0, 1e-6);
    assert!(r.time_series.queues[0].rebalancing.is_empty());
    let share0 = partition_shares(1_000_000, 4, |_| 1.0)[0];
    let expected = 400.0 * share0 * 5.0;
    close(
        "partition 0: peak lag",
        t.partition_detail[0].lag_max,
        expected,
        5.0 * expected.sqrt() + 2.0,
    );
}

/// Random consumer crashes (MTBF 10 s, MTTR 2 s, session timeout 1 s) on a
/// topic: a crash is followed by a removal (the coordinator notices it
/// after 1 s) and a restart by a join, each a rebalance unless it falls
/// into one in progress. A crash is
/// a renewal process of mean cycle 12 s, so 4 consumers over 600 s crash
/// about 200 times (renewal sd √(4·T·(mtbf² + mttr²)/cycle³) = 12;
/// tolerance 5 sd). Messages held at a crash are read again: at most one
/// per crash. A work queue's broker requeues a crashed consumer's messages
/// at once and never rebalances.
#[test]
fn crashed_consumers_are_removed_and_their_messages_redelivered() {
    let v = system(
        SEED,
        600.0,
        400.0,
        uniform_keys(),
        json!({ "partitions": 8, "partition_key": "k", "session_timeout": "1s",
                "rebalance_pause": "500ms", "consumer_failures": { "mtbf": "10s", "mttr": "2s" } }),
        json!({}),
    );
    let r = run(&v);
    let t = q(&r, "q");
    let expected = 4.0 * 605.0 / 12.0;
    close(
        "crashes",
        t.consumer_crashes as f64,
        expected,
        5.0 * (4.0 * 605.0 * (100.0 + 4.0) / 12f64.powi(3)).sqrt(),
    );
    assert!(t.redeliveries <= t.consumer_crashes);
    assert!(t.redeliveries > 0);
    // Each restart rejoins and each noticed crash is removed: a change of
    // membership each, and changes during a rebalance join it. Every
    // rebalance stops the group at least `rebalance_pause`.
    assert!(
        t.rebalances > 0 && t.rebalances <= t.session_timeouts + t.consumer_crashes,
        "{} rebalances for {} removals and {} crashes",
        t.rebalances,
        t.session_timeouts,
        t.consumer_crashes
    );
    assert!(t.rebalance_paused_s >= 0.5 * t.rebalances as f64 - 1e-9);
    // MTTR (2 s) > session timeout (1 s): most crashes are noticed.
    assert!(t.session_timeouts as f64 > 0.5 * t.consumer_crashes as f64);

    let mut w = v.clone();
    w["queues"][0] = json!({ "name": "q", "kind": "work_queue", "consumers": 4,
        "work": [{ "compute": { "exponential": { "mean": "1ms" } } }],
        "prefetch": 5, "consumer_failures": { "mtbf": "10s", "mttr": "2s" } });
    let r = run(&w);
    let t = q(&r, "q");
    assert_eq!((t.rebalances, t.session_timeouts), (0, 0));
    close(
        "work queue crashes",
        t.consumer_crashes as f64,
        expected,
        5.0 * (4.0 * 605.0 * (100.0 + 4.0) / 12f64.powi(3)).sqrt(),
    );
    // Up to the prefetch count per crash: the one in hand and the ones
    // delivered to it.
    assert!(t.redeliveries <= 5 * t.consumer_crashes);
}

/// Everything at once — keyed topic with retry topics, poison messages,
/// a dead-letter queue, consumer crashes and a network partition, plus a
/// work queue with prefetch and requeues — conserves every message and
/// gives the same results on the same seed.
#[test]
fn every_message_is_accounted_for_and_runs_repeat() {
    let v = system(
        7,
        120.0,
        2000.0,
        json!({ "k": { "zipf": { "n": 1000, "s": 1.0 } } }),
        json!({ "partitions": 8, "consumers": 8, "partition_key": "k",
                "work": [{ "compute": { "exponential": { "mean": "2ms" } } }],
                "failure_probability": 0.05, "poison_probability": 0.001,
                "retry": { "max_attempts": 4, "mode": "retry_topic", "backoff": "100ms", "multiplier": 2 },
                "dead_letter_queue": "dlq", "consumer_failures": { "mtbf": "60s", "mttr": "5s" },
                "session_timeout": "10s", "rebalance_pause": "1s", "retention": 2000 }),
        json!({
            "queues": [
                { "name": "dlq", "partitions": 2, "consumers": 1, "work": [{ "compute": "1ms" }] },
                { "name": "mail", "kind": "work_queue", "consumers": 4, "prefetch": 10,
                  "work": [{ "compute": { "exponential": { "mean": "1ms" } } }],
                  "failure_probability": 0.1, "retry": { "max_attempts": 3, "mode": "requeue" },
                  "consumer_failures": { "mtbf": "30s", "mttr": "2s" } }
            ],
            "faults": [{ "at": "50s", "for": "30s", "partition_consumers": { "queue": "q", "count": 2 } },
                       { "at": "20s", "for": "70s", "partition_consumers": { "queue": "mail", "count": 1 } }]
        }),
    );
    let mut v = v;
    v["services"][0]["endpoints"]["order"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "publish": { "queue": "mail" } }));
    let a = run(&v);
    let b = run(&v);
    assert_eq!(a.without_engine(), b.without_engine());
    for t in &a.queues {
        assert_eq!(
            t.published,
            t.consumed + t.dead_lettered + t.dropped + t.lag_at_end,
            "{t:?}"
        );
    }
    let (t, dlq) = (q(&a, "q"), q(&a, "dlq"));
    assert_eq!(dlq.published, t.dead_lettered);
    assert!(t.rebalances > 0 && t.redeliveries > 0 && t.dead_lettered > 0 && t.dropped > 0);
    assert!(q(&a, "mail").redeliveries > 0);
    // Another seed draws other failures.
    v["seed"] = json!(8);
    let c = run(&v);
    assert_ne!(q(&c, "q").failed_attempts, t.failed_attempts);
}

/// A scenario without the new settings draws nothing new: the queue's
/// results do not depend on whether a fault elsewhere exists.
#[test]
fn queues_without_failures_draw_nothing_new() {
    let base = topic_case(SEED);
    let mut with_fault = base.clone();
    with_fault["queues"].as_array_mut().unwrap().push(
        json!({ "name": "other", "partitions": 1, "consumers": 2,
                      "work": [{ "compute": "1ms" }],
                      "failure_probability": 0.5, "consumer_failures": { "mtbf": "5s" } }),
    );
    with_fault["faults"] = json!([{ "at": "10s", "for": "5s", "partition_consumers": { "queue": "other", "count": 2 } }]);
    let (a, b) = (run(&base), run(&with_fault));
    assert_eq!(q(&a, "q"), q(&b, "q"));
}

// ------------------------------------------------------- shipped scenario

/// `scenarios/order-pipeline.json` as shipped tells the story its README
/// section tells: the API does not feel the pipeline; the poison orders
/// (0.05% of about 212,000: 106, binomial sd 10) and nothing else end in
/// the dead-letter topic, which nobody consumes; the network partition
/// stalls 4 partitions for exactly the 45 s session timeout and costs two
/// rebalances; the e-mail workers' crashes redeliver messages but never
/// rebalance; and every message is accounted for.
#[test]
fn the_order_pipeline_tells_its_story() {
    let text = include_str!("../scenarios/order-pipeline.json");
    let (_, model) =
        models::load("scenarios/order-pipeline.json", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let r = models::simulate(&model).unwrap_or_else(|e| panic!("{e}"));
    assert_invariants(&r, "scenarios/order-pipeline.json");
    let api = &r.endpoints[0];
    assert_eq!(api.errors, 0);
    assert!(api.latency.p99_ms < 100.0, "{:?}", api.latency);
    let (orders, dlt, mail) = (q(&r, "orders"), q(&r, "orders-dlt"), q(&r, "notifications"));
    assert_eq!(dlt.published, orders.dead_lettered);
    assert_eq!(orders.dead_letter_depth, dlt.lag_at_end);
    assert_eq!(dlt.consumed, 0);
    let poison = 0.0005 * orders.published as f64;
    close(
        "dead letters",
        orders.dead_lettered as f64,
        poison,
        5.0 * poison.sqrt(),
    );
    // 4 consumers with one partition each, silent for the 45 s timeout.
    close(
        "stuck partition-seconds",
        orders.stuck_partition_s,
        180.0,
        1e-6,
    );
    assert_eq!((orders.consumers_cut, orders.session_timeouts), (4, 4));
    assert_eq!(orders.rebalances, 2, "the removal and the rejoin");
    assert!(orders.rebalance_paused_s >= 6.0 && orders.rebalance_paused_s < 20.0);
    assert!(orders.redeliveries <= 4);
    assert_eq!(mail.kind, "work_queue");
    assert_eq!((mail.rebalances, mail.dead_lettered), (0, 0));
    assert!(mail.consumer_crashes > 20 && mail.redeliveries > 0);
    // The topic waits for its partitions' consumers; the work queue hardly.
    assert!(orders.wait.mean_ms > 10.0 * mail.wait.mean_ms);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("dead-lettered to `orders-dlt`"))
    );
    assert!(!r.warnings.iter().any(|w| w.contains("no consumers")));
}

// ------------------------------------------------------------------ pilot

/// Runs the stochastic cases over seeds 1..=20 and prints the mean and sd
/// of each figure: the evidence behind the tolerances.
#[test]
#[ignore = "pilot for the tolerances; run by hand"]
fn pilot() {
    type Case = (
        &'static str,
        fn(u64) -> Value,
        Vec<(&'static str, fn(&Results) -> f64)>,
    );
    let cases: Vec<Case> = vec![
        (
            "work queue",
            work_queue_case,
            vec![
                ("mean wait ms", |r| r.queues[0].wait.mean_ms),
                ("mean e2e ms", |r| r.queues[0].end_to_end.mean_ms),
                ("utilisation", |r| r.queues[0].consumer_utilisation),
            ],
        ),
        (
            "topic",
            topic_case,
            vec![
                ("mean e2e ms", |r| r.queues[0].end_to_end.mean_ms),
                ("mean wait ms", |r| r.queues[0].wait.mean_ms),
            ],
        ),
        (
            "prefetch 0",
            prefetch_case,
            vec![("mean e2e ms", |r| r.queues[0].end_to_end.mean_ms)],
        ),
        (
            "blocking retries",
            |s| retry_case(s, "blocking"),
            vec![
                ("mean wait ms", |r| r.queues[0].wait.mean_ms),
                ("utilisation", |r| r.queues[0].consumer_utilisation),
            ],
        ),
        (
            "retry topic",
            |s| retry_case(s, "retry_topic"),
            vec![("utilisation", |r| r.queues[0].consumer_utilisation)],
        ),
        (
            "skew",
            skew_case,
            vec![("hot lag mean", |r| {
                let t = &r.queues[0];
                t.partition_detail[t.hottest_partition].lag_mean
            })],
        ),
    ];
    for (name, case, figures) in cases {
        let runs: Vec<Results> = (1..=20).map(|s| run(&case(s))).collect();
        for (what, f) in figures {
            let xs: Vec<f64> = runs.iter().map(f).collect();
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            println!("{name}: {what}: mean {mean:.6} sd {sd:.6}");
        }
    }
}

// ------------------------------------------------- a backlog that grows

/// Consumers that cannot keep up are named in a warning: 4 consumers of
/// 1 ms messages offered 6,000 a second (ρ = 1.5) fall behind by about
/// 2,000 messages a second to the end of the run; at ρ = 0.8 (the M/M/c
/// case above) the lag stays small and nothing is said.
#[test]
fn a_lag_growing_to_the_end_is_warned_about() {
    let over = run(&system(
        SEED,
        20.0,
        6000.0,
        uniform_keys(),
        json!({ "kind": "work_queue" }),
        json!({}),
    ));
    let lag = q(&over, "q").lag_at_end as f64;
    // About 2,000/s over 25 s (warm-up included), give or take the
    // Poisson noise of the arrivals (±5 sd of 150,000 is ±2,000).
    close("lag at the end", lag, 2000.0 * 25.0, 5000.0);
    let w: Vec<&String> = over
        .warnings
        .iter()
        .filter(|w| w.contains("queue `q`: its lag grew to the end of the run"))
        .collect();
    assert_eq!(w.len(), 1, "{:?}", over.warnings);
    assert!(w[0].contains("4 consumer(s) never caught up"), "{}", w[0]);

    let fine = run(&work_queue_case(SEED));
    assert!(
        fine.warnings.iter().all(|w| !w.contains("lag grew")),
        "{:?}",
        fine.warnings
    );
}

/// The end-to-end latency counts every message published in the measured
/// period: those processed, and those still in the queue at the end at
/// their age then. 4 consumers of 1 ms messages offered 6,000 a second
/// (ρ = 1.5) fall behind for good; FIFO, a message published at t is
/// processed at 1.5 t, so by the end (T = 20 s, no warm-up) only those
/// published before T / 1.5 = 13.3 s are. Counting only those would read
/// the queue as fast exactly where it is slowest:
///
/// - over the run, `end_to_end.count` is every message published (none is
///   dead-lettered or dropped), not the 2/3 that were consumed;
/// - over a window of the last 5 s nothing published is processed; the
///   window's messages are counted at their ages, 0 to 5 s, so the p99 is
///   about 4.95 s and an objective of 1 s fails (it held, on no samples,
///   before: its p99 read 0 ms). The window's run goes on to the end of
///   the scenario waiting for its messages.
#[test]
fn messages_never_processed_count_at_their_age() {
    let mut v = system(
        SEED,
        20.0,
        6000.0,
        uniform_keys(),
        json!({ "kind": "work_queue" }),
        json!({ "slo": [
            { "name": "tail", "window": { "from": "15s", "to": "20s" },
              "queue": "q", "max_end_to_end_p99": "1s" },
            { "queue": "q", "max_end_to_end_p99": "30s" }
        ] }),
    );
    v["duration"] = json!("20s");
    v["warmup"] = json!("0s");
    let model = support::load("queues.json", &v);
    let r = models::simulate_judged(&model).expect("runs");
    let qr = q(&r, "q");
    assert_eq!(qr.dead_lettered + qr.dropped, 0);
    assert_eq!(qr.end_to_end.count, qr.published);
    // Consumed: 4,000/s for 20 s, give or take the service noise.
    close("consumed", qr.consumed as f64, 80_000.0, 2_000.0);
    assert!(qr.lag_at_end > 30_000, "{}", qr.lag_at_end);

    let tail = &r.objectives[0];
    assert_eq!(tail.objective.name.as_deref(), Some("tail"));
    assert_eq!(tail.verdict, models::RunVerdict::Fails, "{tail:?}");
    // Ages of Poisson arrivals over the last 5 s: uniform on [0, 5 s].
    close("tail p99, ms", tail.value.expect("measured"), 4950.0, 50.0);
    // The whole run's p99: the censored ages and the processed messages'
    // e2e (0.5 t for t up to 13.3 s) both reach 6.67 s.
    let whole = &r.objectives[1];
    assert_eq!(whole.verdict, models::RunVerdict::Holds, "{whole:?}");
    close(
        "whole p99, ms",
        whole.value.expect("measured"),
        6600.0,
        150.0,
    );
}
