//! Services that call services, against queueing theory: a tandem of
//! M/M/1 stations through `call` steps, probabilistic routing through a
//! `branch` step against Jackson's traffic equations with multi-worker
//! stations, a fork-join of two M/M/1 stations through `parallel` against
//! Nelson & Tantawi, and retries at k layers multiplying attempts by 3^k
//! exactly. Then what the binary refuses: unknown targets and endpoints,
//! a cycle in the call graph, bad branch weights, an empty parallel step.
//!
//! # How the tolerances were chosen
//!
//! The callers here hold a worker while they wait but have far more
//! workers than requests in flight, so they add no queueing: each caller's
//! latency is the sum (or the maximum) of its callees' sojourns. The
//! callees are M/M/1 or M/M/c stations, whose mean sojourn over N
//! customers has a standard deviation of √(2(1+ρ)/((1-ρ)^4 N)) / μ
//! (Whitt 1989, through Little's law; see `validation.rs`). Tolerances are
//! about five of those, summed over the stations (their errors may be
//! correlated), and were checked against the spread over seeds 1–6.

use serde_json::{Value, json};
use sim_core::theory;

use crate::cli::{Scratch, capsim};
use crate::support::{SEED, close, run};

/// A service with `concurrency` workers per pod whose one endpoint `x`
/// runs `steps`.
fn service(name: &str, concurrency: u32, steps: Value) -> Value {
    json!({ "name": name, "replicas": 1, "concurrency": concurrency,
            "endpoints": { "x": steps } })
}

/// An exponential compute step of mean `ms`.
fn exp_ms(ms: f64) -> Value {
    json!({ "compute": { "exponential": { "mean": format!("{ms}ms") } } })
}

/// A call of `target`'s endpoint `x`.
fn call(target: &str) -> Value {
    json!({ "call": { "target": target, "endpoint": "x" } })
}

/// Poisson arrivals at `rps` for `secs` (10 s warm-up) at `front.x`.
fn system(secs: u64, rps: f64, services: Value) -> Value {
    json!({
        "name": "calls",
        "seed": SEED,
        "duration": format!("{secs}s"),
        "warmup": "10s",
        "workloads": [{ "name": "users", "target": "front", "rate": [{ "rps": rps }],
                        "mix": { "x": 1 } }],
        "services": services
    })
}

/// Mean sojourn standard deviation of an M/M/c station over `n`
/// customers, ms (the M/M/1 formula, a bound for c > 1 at the same ρ).
fn sd_mean(rho: f64, mu_per_ms: f64, n: f64) -> f64 {
    (2.0 * (1.0 + rho) / ((1.0 - rho).powi(4) * n)).sqrt() / mu_per_ms
}

/// Two M/M/1 stations in tandem (λ = 500/s; means 1 ms and 1.25 ms, so ρ
/// = 0.5 and 0.625), called one after the other: by Burke's theorem the
/// second sees Poisson arrivals too, and the sojourns are independent
/// (Reich), so the caller's latency is hypoexponential with rates μ - λ =
/// 0.5 and 0.3 per ms: mean 2 + 3.33 = 5.33 ms, quantiles by bisection of
/// its survival function (a2·e^(-a1 t) - a1·e^(-a2 t)) / (a2 - a1):
/// p50 4.414, p90 10.474, p99 18.354 ms.
#[test]
fn a_tandem_of_calls_adds_mm1_sojourns() {
    let v = system(
        600,
        500.0,
        json!([
            service("front", 1000, json!([call("b"), call("c")])),
            service("b", 1, json!([exp_ms(1.0)])),
            service("c", 1, json!([exp_ms(1.25)])),
        ]),
    );
    let r = run("tandem.json", &v);
    let front = &r.endpoints[0];
    let n = front.ok as f64;
    // sd: 0.013 (b) + 0.030 (c) ms at N = 295,000; 5 sd = 0.21 ms.
    let sd = sd_mean(0.5, 1.0, n) + sd_mean(0.625, 0.8, n);
    close("mean, ms", front.latency.mean_ms, 2.0 + 1.0 / 0.3, 5.0 * sd);
    // Quantiles: seeds 1–6 spread by 0.04 / 0.10 / 0.25 ms around theory.
    close("p50, ms", front.latency.p50_ms, 4.414, 0.15);
    close("p90, ms", front.latency.p90_ms, 10.474, 0.35);
    close("p99, ms", front.latency.p99_ms, 18.354, 1.0);
    // Each callee's own sojourn is 1/(μ - λ), and every request made by a
    // call is counted at the callee's endpoint, none in `overall`.
    close(
        "b mean, ms",
        r.endpoints[1].latency.mean_ms,
        2.0,
        5.0 * sd_mean(0.5, 1.0, n),
    );
    assert_eq!(r.overall.count, front.count);
    assert_eq!(r.endpoints[1].count, front.count);
    assert_eq!(r.calls.len(), 2);
    assert_eq!(
        (r.calls[0].from.as_str(), r.calls[0].to.as_str()),
        ("front.x", "b.x")
    );
    assert_eq!(r.calls[0].calls, front.count);
    assert_eq!(r.calls[1].calls, front.count);
    assert_eq!(r.services[1].requests, front.count);
}

/// Probabilistic routing: 30% of requests call an M/M/4 station, 70% an
/// M/M/10 one (λ = 10/ms, μ = 1/ms; ρ = 0.75 and 0.7). Jackson's traffic
/// equations give λ_b = 3/ms and λ_c = 7/ms; each station is M/M/c, and
/// the caller's mean is 0.3·W_b + 0.7·W_c (Erlang C).
#[test]
fn a_branch_routes_by_weight_as_jacksons_equations_say() {
    let branch = json!([{ "branch": [
        { "weight": 3, "steps": [call("b")] },
        { "weight": 7, "steps": [call("c")] }
    ] }]);
    let v = system(
        200,
        10_000.0,
        json!([
            service("front", 1000, branch),
            service("b", 4, json!([exp_ms(1.0)])),
            service("c", 10, json!([exp_ms(1.0)])),
        ]),
    );
    let r = run("branch.json", &v);
    let n = r.endpoints[0].count as f64;
    // A binomial share: sd √(0.21/N) = 0.0003 at N = 1.9M.
    let share = r.endpoints[1].count as f64 / n;
    close("share to b", share, 0.3, 5.0 * (0.21 / n).sqrt());
    let (wb, wc) = (
        theory::mmc_mean_sojourn(3.0, 1.0, 4),
        theory::mmc_mean_sojourn(7.0, 1.0, 10),
    );
    let sd = 0.3 * sd_mean(0.75, 1.0, 0.3 * n) + 0.7 * sd_mean(0.7, 1.0, 0.7 * n);
    close(
        "b mean, ms",
        r.endpoints[1].latency.mean_ms,
        wb,
        5.0 * sd_mean(0.75, 1.0, 0.3 * n),
    );
    close(
        "c mean, ms",
        r.endpoints[2].latency.mean_ms,
        wc,
        5.0 * sd_mean(0.7, 1.0, 0.7 * n),
    );
    close(
        "caller mean, ms",
        r.endpoints[0].latency.mean_ms,
        0.3 * wb + 0.7 * wc,
        5.0 * sd,
    );
}

/// Fork-join: every request calls two M/M/1 stations at once (λ = 500/s,
/// mean 1 ms, ρ = 0.5) and waits for both. Nelson & Tantawi (1988) give
/// the exact mean for two servers: E[T] = (12 - ρ)/8 · 1/(μ - λ) = 2.875
/// ms (against 2 ms for one and 3 ms for two independent ones).
#[test]
fn a_parallel_step_matches_nelson_and_tantawi() {
    let v = system(
        600,
        500.0,
        json!([
            service(
                "front",
                1000,
                json!([{ "parallel": [[call("b")], [call("c")]] }])
            ),
            service("b", 1, json!([exp_ms(1.0)])),
            service("c", 1, json!([exp_ms(1.0)])),
        ]),
    );
    let r = run("fork-join.json", &v);
    let front = &r.endpoints[0];
    let sd = 2.0 * sd_mean(0.5, 1.0, front.ok as f64);
    close("fork-join mean, ms", front.latency.mean_ms, 2.875, 5.0 * sd);
    assert_eq!(r.endpoints[1].count, front.count);
    assert_eq!(r.endpoints[2].count, front.count);
}

/// Three layers each retry a failing call up to 3 attempts: the bottom
/// service (its database down for the whole run) sees 3^3 = 27 attempts
/// per user request, exactly; every layer's counts follow, and each user
/// request fails once with the bottom's 502.
#[test]
fn retries_at_three_layers_multiply_attempts_by_27() {
    let retrying = |target: &str| {
        json!([{ "call": { "target": target, "endpoint": "x",
                           "retry": { "max_attempts": 3, "retry_on": ["5xx"],
                                      "backoff": { "base_interval": "1ms" } } } }])
    };
    let mut v = system(
        20,
        50.0,
        json!([
            service("front", 1000, retrying("l1")),
            service("l1", 1000, retrying("l2")),
            service("l2", 1000, retrying("l3")),
            service("l3", 1000, json!([{ "read": { "db": "d" } }])),
        ]),
    );
    v["warmup"] = json!("0s");
    // Requests stop at 15 s, so every one has settled by 20 s.
    v["workloads"][0]["rate"] = json!([{ "for": "15s", "rps": 50 }, { "rps": 0 }]);
    v["workloads"][0]["keys"] = json!({ "k": { "uniform": { "n": 100 } } });
    v["databases"] = json!([{ "name": "d", "shards": 1, "shard_key": "k", "connections": 10,
                             "read_time": "1ms", "write_time": "1ms" }]);
    v["faults"] = json!([{ "at": "0s", "for": "20s", "outage": { "database": "d" } }]);
    let r = run("retries.json", &v);
    let n = r.endpoints[0].count;
    assert!(n > 600, "{n}");
    let counts: Vec<u64> = r.endpoints.iter().map(|e| e.count).collect();
    assert_eq!(counts, vec![n, 3 * n, 9 * n, 27 * n]);
    for (layer, c) in r.calls.iter().enumerate() {
        let calls = 3u64.pow(layer as u32) * n;
        assert_eq!(
            (c.calls, c.attempts, c.retries, c.errors, c.ok),
            (calls, 3 * calls, 2 * calls, calls, 0),
            "{} -> {}",
            c.from,
            c.to
        );
        assert_eq!(c.aborted, 3 * calls);
    }
    assert_eq!((r.overall.count, r.overall.aborted), (n, n));
    assert_eq!(r.totals.aborted, n);
}

/// A circuit breaker in front of a service whose database is down for
/// [60 s, 120 s) (100 calls/s; window 100, minimum 20, 50%, open for 10 s,
/// 10 half-open probes). Failures replace successes in the window: the
/// 50th failure (at about 60.5 s) opens it. Every 10 s it lets 10 probes
/// through, which fail at once, and opens again: at about 70.5, 80.6,
/// 90.6, 100.7 and 110.7 s. The next probes, at about 120.8 s, find the
/// database back: it closes. So 50 + 5 × 10 = 100 attempts reach the sick
/// service (a few more if statements were running when it went down),
/// the breaker opens 6 times for about 60 s, and the other attempts of
/// the outage and those until the last probes (about 6,000 - 100 + 80)
/// are short-circuited (Poisson, sd ≈ 77; tolerance 5 sd).
#[test]
fn a_circuit_breaker_lets_only_probes_through_an_outage() {
    let call = json!([{ "call": { "target": "back", "endpoint": "x", "circuit_breaker": {
        "window": 100, "minimum_calls": 20, "failure_rate_threshold": "50%",
        "open_for": "10s", "half_open_calls": 10 } } }]);
    let mut v = system(
        180,
        100.0,
        json!([
            service("front", 1000, call),
            service("back", 1000, json!([{ "read": { "db": "d" } }])),
        ]),
    );
    v["warmup"] = json!("0s");
    v["workloads"][0]["keys"] = json!({ "k": { "uniform": { "n": 100 } } });
    v["databases"] = json!([{ "name": "d", "shards": 1, "shard_key": "k", "connections": 10,
                             "read_time": "1ms", "write_time": "1ms" }]);
    v["faults"] = json!([{ "at": "60s", "for": "60s", "outage": { "database": "d" } }]);
    let r = run("breaker.json", &v);
    let c = &r.calls[0];
    let b = c.circuit_breaker.as_ref().expect("breaker figures");
    let failed = r.endpoints[1].aborted;
    assert!(
        (100..=110).contains(&failed),
        "attempts failed at the sick service: {failed}"
    );
    assert_eq!(b.opened, 6);
    close("time open, s", b.open_s, 60.0, 1.5);
    close("short-circuited", b.short_circuited as f64, 5980.0, 400.0);
    assert_eq!(
        c.attempts + b.short_circuited,
        c.calls,
        "a short-circuited call is not retried"
    );
    // What users saw: the failures (502) and the short circuits (503),
    // and nothing else; after 121 s every request succeeds.
    let f = &r.endpoints[0];
    assert_eq!((f.aborted, f.rejected), (failed, b.short_circuited));
    assert_eq!(f.ok + f.aborted + f.rejected + f.in_flight, f.count);
    let users = r.time_series.users.as_ref().expect("users' series");
    let iv = r.time_series.interval_s;
    for (i, (a, b)) in users
        .aborted_rps
        .iter()
        .zip(&users.rejected_rps)
        .enumerate()
    {
        let t = i as f64 * iv;
        if t >= 125.0 {
            assert_eq!(
                a + b,
                0.0,
                "errors at {t}s: the breaker closed after the outage"
            );
        }
    }
}

/// Hedging a bimodal service (Dean & Barroso, "The Tail at Scale"): 99%
/// of its answers take 1 ms, 1% take 100 ms, and it has workers to spare.
/// Without hedging the p99.9 is the slow mode, 100 ms. Hedged after 5 ms
/// (one extra copy), a slow first copy is overtaken by a second that is
/// fast with probability 0.99: the caller waits 5 + 1 = 6 ms, and both
/// are slow only with probability 10^-4, below the 0.1% tail. The extra
/// copies are the slow first ones: 1% of calls (binomial, sd √(0.0099/N),
/// tolerance 5 sd).
#[test]
fn hedging_cuts_the_tail_of_a_bimodal_service() {
    let bimodal = json!([{ "branch": [
        { "weight": 99, "steps": [{ "compute": "1ms" }] },
        { "weight": 1, "steps": [{ "compute": "100ms" }] }
    ] }]);
    let case = |hedge: Value| {
        let mut call = json!({ "target": "back", "endpoint": "x" });
        if !hedge.is_null() {
            call["hedge"] = hedge;
        }
        run(
            "hedge.json",
            &system(
                120,
                1000.0,
                json!([
                    service("front", 10_000, json!([{ "call": call }])),
                    service("back", 10_000, bimodal.clone()),
                ]),
            ),
        )
    };
    let plain = case(Value::Null);
    close(
        "p99.9 without hedging, ms",
        plain.endpoints[0].latency.p999_ms,
        100.0,
        0.2,
    );
    let hedged = case(json!({ "after": "5ms", "max_extra": 1 }));
    let f = &hedged.endpoints[0].latency;
    close("p99.9 hedged, ms", f.p999_ms, 6.0, 0.1);
    close("p90 hedged, ms", f.p90_ms, 1.0, 0.01);
    let c = &hedged.calls[0];
    let n = c.calls as f64;
    let extra = c.hedges.expect("hedge figures") as f64 / n;
    close(
        "extra copies per call",
        extra,
        0.01,
        5.0 * (0.0099 / n).sqrt(),
    );
    assert_eq!(c.attempts, c.calls, "a hedged copy is not an attempt");
    // The losers run on at the callee: every copy is counted there.
    assert_eq!(hedged.endpoints[1].count, c.calls + c.hedges.unwrap_or(0));
}

/// Deadline propagation (gRPC): users give up after 100 ms; the frontend
/// computes 60 ms, then calls a backend (its own timeout 1 s) that
/// computes twice 100 ms. Propagated, the call's timeout is what is left
/// of the deadline, 40 ms: it fails with 504 at exactly 100 ms, and the
/// backend, past the deadline after its first 100 ms, stops there — half
/// the work. Without propagation the backend runs both steps and answers
/// at 260 ms, to a user who left at 100 ms. All times are constant, so
/// the counts are exact and the backend's busy time halves.
#[test]
fn a_propagated_deadline_stops_work_nobody_waits_for() {
    let case = |propagate: bool| {
        let mut v = system(
            60,
            20.0,
            json!([
                service(
                    "front",
                    1000,
                    json!([{ "compute": "60ms" },
                    { "call": { "target": "back", "endpoint": "x", "timeout": "1s",
                                "propagate_deadline": propagate } }])
                ),
                service(
                    "back",
                    1000,
                    json!([{ "compute": "100ms" }, { "compute": "100ms" }])
                ),
            ]),
        );
        v["workloads"][0]["timeout"] = json!("100ms");
        run("deadline.json", &v)
    };
    let (with, without) = (case(true), case(false));
    let (f, b, c) = (&with.endpoints[0], &with.endpoints[1], &with.calls[0]);
    assert_eq!(
        (b.ok, b.timeouts + b.in_flight),
        (0, b.count),
        "the backend stops"
    );
    assert_eq!(c.timeouts + c.in_flight, c.attempts);
    assert_eq!(
        f.timeouts + f.in_flight,
        f.count,
        "users get a 504 at their deadline"
    );
    assert_eq!(
        without.endpoints[1].ok + without.endpoints[1].in_flight,
        without.endpoints[1].count
    );
    let ratio = with.services[1].utilisation / without.services[1].utilisation;
    close("backend busy time, propagated / not", ratio, 0.5, 0.01);
}

/// A slow dependency (200 ms) behind a frontend of 4 workers per pod at
/// 100 requests/s: with threads each request holds its worker for the
/// call, 100 × 0.2 = 20 busy workers are needed, and the pod (4 workers,
/// 10 waiting places) refuses most requests. As an event loop with 4
/// cores, a request holds a core only for its 1 ms of compute: nothing is
/// refused, and the cores are 100 × 1 ms / 4 = 2.5% busy — the figure a
/// CPU-based autoscaler reads.
#[test]
fn a_slow_call_exhausts_threads_but_not_an_event_loop() {
    let case = |execution: &str| {
        let mut front = service(
            "front",
            4,
            json!([{ "compute": "1ms" }, { "call": { "target": "back", "endpoint": "x" } }]),
        );
        front["execution"] = json!(execution);
        front["queue_capacity"] = json!(10);
        run(
            "execution.json",
            &system(
                120,
                100.0,
                json!([
                    front,
                    service("back", 1000, json!([{ "compute": "200ms" }]))
                ]),
            ),
        )
    };
    let threads = case("threads");
    let f = &threads.endpoints[0];
    assert!(
        f.rejected as f64 > 0.7 * f.count as f64,
        "{} of {}",
        f.rejected,
        f.count
    );
    let event_loop = case("event_loop");
    let f = &event_loop.endpoints[0];
    assert_eq!(f.rejected, 0);
    close("p50, ms", f.latency.p50_ms, 201.0, 0.5);
    // Busy fraction of 4 cores: sd of a Poisson count over 110 s is
    // √11000 / 11000 = 1% relative; tolerance 5%.
    close(
        "core utilisation",
        event_loop.services[0].utilisation,
        0.025,
        0.025 * 0.05,
    );
}

/// The tandem of M/M/1 stations again, the first being the caller itself:
/// an event loop with one core computing 1 ms (exponential) and then
/// calling an M/M/1 service of mean 1.25 ms (λ = 500/s). The core is free
/// while the call waits, so the caller is an M/M/1 station (ρ = 0.5) in
/// series with the callee (ρ = 0.625): mean 2 + 3.33 = 5.33 ms.
#[test]
fn an_event_loop_caller_is_an_mm1_station_in_tandem() {
    let mut front = service(
        "front",
        1,
        json!([exp_ms(1.0), { "call": { "target": "c", "endpoint": "x" } }]),
    );
    front["execution"] = json!("event_loop");
    let r = run(
        "event-loop-tandem.json",
        &system(
            600,
            500.0,
            json!([front, service("c", 1, json!([exp_ms(1.25)]))]),
        ),
    );
    let n = r.endpoints[0].ok as f64;
    let sd = sd_mean(0.5, 1.0, n) + sd_mean(0.625, 0.8, n);
    close(
        "mean, ms",
        r.endpoints[0].latency.mean_ms,
        2.0 + 1.0 / 0.3,
        5.0 * sd,
    );
    close(
        "caller's core utilisation",
        r.services[0].utilisation,
        0.5,
        0.005,
    );
}

/// What the binary refuses in call, parallel and branch steps: exit 2,
/// the file, line and column, the field's path, and a suggestion where a
/// name is close.
#[test]
fn bad_calls_are_refused_with_their_location() {
    let base = || {
        system(
            20,
            10.0,
            json!([
                service("front", 10, json!([call("back")])),
                service("back", 10, json!([exp_ms(1.0)])),
            ]),
        )
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/services/0/endpoints/x/0",
            json!({ "call": { "target": "bakc", "endpoint": "x" } }),
            "services[0].endpoints.x[0].call.target: no load balancer or service named `bakc` (known: front, back)\n  help: did you mean `back`?",
        ),
        (
            "/services/0/endpoints/x/0",
            json!({ "call": { "target": "back", "endpoint": "y" } }),
            "services[0].endpoints.x[0].call.endpoint: no endpoint of service `back` named `y` (known: x)",
        ),
        (
            "/services/1/endpoints/x/0",
            call("front"),
            "services[1].endpoints.x[0].call: this call closes a cycle (front.x -> back.x -> front.x): a request would call itself without end",
        ),
        (
            "/services/0/endpoints/x/0",
            json!({ "branch": [{ "weight": -1, "steps": [] }] }),
            "services[0].endpoints.x[0].branch[0].weight: a branch weight must be a positive number, got -1",
        ),
        (
            "/services/0/endpoints/x/0",
            json!({ "parallel": [] }),
            "services[0].endpoints.x[0].parallel: a parallel step needs at least one branch",
        ),
        (
            "/services/0/endpoints/x/0",
            json!({ "call": { "target": "back", "endpoint": "x",
                              "circuit_breaker": { "window": 10, "minimum_calls": 20 } } }),
            "services[0].endpoints.x[0].call.circuit_breaker.minimum_calls: minimum_calls is 1 to the window (10), got 20",
        ),
        (
            "/services/0/endpoints/x/0",
            json!({ "call": { "target": "back", "endpoint": "x",
                              "circuit_breaker": { "failure_rate_threshold": 0 } } }),
            "services[0].endpoints.x[0].call.circuit_breaker.failure_rate_threshold: a failure rate threshold is above 0 and at most 1 (100%), got 0",
        ),
        (
            "/services/0",
            json!({ "name": "front", "replicas": 1, "concurrency": 10, "max_in_flight": 100,
                    "endpoints": { "x": [call("back")] } }),
            "services[0].max_in_flight: max_in_flight bounds an event loop's requests; with threads, concurrency does (set \"execution\": \"event_loop\")",
        ),
        (
            "/services/0/endpoints/x/0",
            json!({ "call": { "target": "back", "endpoint": "x",
                              "hedge": { "after": "5ms", "max_extra": 11 } } }),
            "services[0].endpoints.x[0].call.hedge.max_extra: max_extra is 1 to 10 extra copies, got 11",
        ),
        (
            "/services/0/endpoints/x/0",
            json!({ "parallel": [[]] }),
            "services[0].endpoints.x[0].parallel[0]: a parallel branch needs at least one step",
        ),
        (
            "/services/0/endpoints/x/0",
            json!({ "call": { "target": "back", "endpoint": "x", "timeout": "0s" } }),
            "services[0].endpoints.x[0].call.timeout: a timeout must be positive (omit it for none)",
        ),
    ];
    let s = Scratch::new("bad-calls");
    for (pointer, value, want) in cases {
        let mut v = base();
        *v.pointer_mut(pointer).expect("a path of the base") = value;
        let text = serde_json::to_string_pretty(&v).expect("json");
        let file = s.file("bad-call.json", &text);
        let out = capsim(["validate", file.to_str().expect("utf-8")]);
        assert_eq!(out.code, Some(2), "{want}: {out}");
        assert!(out.stderr.contains(want), "want `{want}` in:\n{out}");
        assert!(out.stderr.contains("bad-call.json:"), "{out}");
    }
}
