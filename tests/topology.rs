//! The topology (results' `topology`, the report's `topology.svg`): its
//! edges count exactly what the components count, their latencies are
//! the ones the endpoints and call steps report, a database step's
//! latency is an M/M/c sojourn, and `run --out` draws every component
//! and shows the picture first.
//!
//! # Tolerances
//!
//! Counts are compared exactly: an edge is counted where its component
//! counts the same event. Latencies recorded twice — once in an
//! endpoint's or a call step's 3-digit histogram, once in the edge's
//! 2-digit one — are the same samples, so their counts are equal and
//! their quantiles differ by the two histograms' resolution only: at
//! most 1% + 0.1%, allowed as 1.2%. The M/M/c case has its own note.

use std::collections::BTreeMap;
use std::fs;

use models::{Results, TopologyEdge};
use serde_json::{Value, json};
use sim_core::theory;

use crate::cli::{Scratch, capsim};
use crate::support::{SEED, close, run};

/// A shipped scenario, shortened to `duration`, without warm-up (so that
/// every job is measured and the components' counters, which start after
/// the warm-up, count the same events as the edges) and without its
/// objectives (whose windows may lie past the new end) and, unless
/// `faults`, its faults.
fn shipped(file: &str, duration: &str, faults: bool) -> Value {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut v: Value = serde_json::from_str(&text).expect("json");
    v["duration"] = json!(duration);
    v["warmup"] = json!("0s");
    v["slo"] = json!([]);
    if !faults {
        v["faults"] = json!([]);
    }
    v
}

/// The sum of `count` over edges into `to` of the given kinds.
fn into(r: &Results, to: &str, kinds: &[&str]) -> u64 {
    r.topology
        .edges
        .iter()
        .filter(|e| e.to == to && kinds.contains(&e.kind.as_str()))
        .map(|e| e.count)
        .sum()
}

/// The one edge `from -kind-> to`.
fn edge<'a>(r: &'a Results, from: &str, kind: &str, to: &str) -> &'a TopologyEdge {
    let found: Vec<_> = r
        .topology
        .edges
        .iter()
        .filter(|e| e.from == from && e.kind == kind && e.to == to)
        .collect();
    assert_eq!(found.len(), 1, "{from} -{kind}-> {to}: {found:?}");
    found[0]
}

/// Quantiles of the same samples in a 3-digit and a 2-digit histogram.
fn same_quantile(what: &str, edge_ms: f64, exact_ms: f64) {
    close(what, edge_ms, exact_ms, exact_ms * 0.012);
}

/// Every node is a component of the scenario and every edge joins two
/// of them; what the edges count equals what the components count:
/// users' attempts, a balancer's dispatches, call steps, cache lookups,
/// database statements, publishes; the edge latencies are the endpoints'
/// and the call steps' own samples.
#[test]
fn edges_count_what_the_components_count() {
    let r = run(
        "microservices.json",
        &shipped("microservices.json", "7m", true),
    );
    let t = &r.topology;
    let ids: Vec<&str> = t.nodes.iter().map(|n| n.id.as_str()).collect();
    let components = r.load_balancers.len()
        + r.services.len()
        + r.caches.len()
        + r.cdns.len()
        + r.databases.len()
        + r.queues.len()
        + 1; // one workload
    assert_eq!(t.nodes.len(), components, "{ids:?}");
    for e in &t.edges {
        assert!(
            ids.contains(&e.from.as_str()) && ids.contains(&e.to.as_str()),
            "{e:?}"
        );
        let rate = e.count as f64 / r.scenario.measured_s;
        assert!((e.rate_rps - rate).abs() <= 1e-9 * rate.max(1.0), "{e:?}");
    }

    // The users' requests: every attempt, the latency of the ok ones.
    let users = edge(&r, "workload:shoppers", "requests", "load_balancer:gateway");
    assert_eq!(users.count, r.overall.count);
    let lat = users.latency.as_ref().expect("timed");
    assert_eq!(lat.count, r.overall.latency.count);
    same_quantile("users' p99", lat.p99_ms, r.overall.latency.p99_ms);
    same_quantile("users' p50", lat.p50_ms, r.overall.latency.p50_ms);

    // The balancer dispatched each of them to a pod (it refuses none here).
    let gateway = &r.load_balancers[0];
    assert_eq!(gateway.rejected + gateway.rate_limited, 0);
    let route = edge(&r, "load_balancer:gateway", "route", "service:frontend");
    assert_eq!(route.count, users.count);
    assert!(route.latency.is_none());

    // Call steps: one per pair of services here.
    assert!(!r.calls.is_empty());
    for c in &r.calls {
        let from = format!("service:{}", c.from.split('.').next().expect("service"));
        let to = format!("service:{}", c.to.split('.').next().expect("service"));
        let e = edge(&r, &from, "call", &to);
        assert_eq!(e.count, c.calls, "{from} -> {to}");
        let lat = e.latency.as_ref().expect("timed");
        assert_eq!(lat.count, c.latency.count, "{from} -> {to}");
        if lat.count > 0 {
            same_quantile(&format!("{from} -> {to} p99"), lat.p99_ms, c.latency.p99_ms);
        }
    }

    // Components' own counters.
    for c in &r.caches {
        assert_eq!(
            into(&r, &format!("cache:{}", c.name), &["lookup"]),
            c.lookups
        );
    }
    for d in &r.databases {
        let to = format!("database:{}", d.name);
        assert_eq!(into(&r, &to, &["read", "write"]), d.ops, "{to}");
    }

    // Peak utilisation: a service's busiest bucket, at least its mean.
    for (n, s) in t
        .nodes
        .iter()
        .filter(|n| n.kind == "service")
        .zip(&r.services)
    {
        let peak = n.peak_utilisation.expect("a service has a capacity");
        assert!(peak >= s.utilisation - 1e-9 && peak <= 1.0 + 1e-9, "{n:?}");
    }
    for n in t
        .nodes
        .iter()
        .filter(|n| n.kind == "workload" || n.kind == "cache")
    {
        assert!(n.peak_utilisation.is_none(), "{n:?}");
    }
}

/// Queue work and dead letters: the queue's consumers' steps leave from
/// the queue, publishes and dead letters are what the queues count.
#[test]
fn queues_publish_and_dead_letter_along_their_edges() {
    let r = run(
        "order-pipeline.json",
        &shipped("order-pipeline.json", "3m", false),
    );
    for q in &r.queues {
        let to = format!("queue:{}", q.name);
        let published = into(&r, &to, &["publish"]);
        let dead = into(&r, &to, &["dead_letter"]);
        if q.dead_letter_queue.is_none() && published > 0 {
            assert_eq!(published, q.published, "{to}");
        }
        if dead > 0 {
            let from = r
                .queues
                .iter()
                .find(|s| s.dead_letter_queue.as_deref() == Some(&q.name))
                .expect("a source");
            assert_eq!(dead, from.dead_lettered, "{to}");
        }
    }
    let by_kind: BTreeMap<&str, u64> = r
        .topology
        .edges
        .iter()
        .filter(|e| e.from.starts_with("queue:"))
        .fold(BTreeMap::new(), |mut m, e| {
            *m.entry(e.kind.as_str()).or_default() += e.count;
            m
        });
    assert!(
        by_kind.get("write").copied().unwrap_or(0) > 0,
        "{by_kind:?}"
    );
    for d in &r.databases {
        let to = format!("database:{}", d.name);
        assert_eq!(into(&r, &to, &["read", "write"]), d.ops, "{to}");
    }
}

/// A database step's latency is the statement's sojourn at its shard:
/// with Poisson requests (λ = 400/s) reading one shard of c = 4
/// connections and exponential reads of 5 ms (ρ = 0.5), the read edge's
/// latency is the M/M/4 sojourn: mean 5.435 ms (Erlang C 0.174), p99
/// 23.82 ms. Over about 120,000 reads the sample mean varies by about
/// 0.03 ms (seeds 1–6: 5.39 to 5.47 ms) and the p99 by about 0.2 ms
/// (23.59 to 24.12 ms): allowed 3% of the mean and 5% of the p99, about
/// five times those spreads.
#[test]
fn a_database_step_takes_an_mmc_sojourn() {
    let v = json!({
        "name": "pool", "seed": SEED, "duration": "310s", "warmup": "10s",
        "workloads": [{ "name": "users", "target": "api", "rate": [{ "rps": 400 }],
                        "mix": { "get": 1 }, "keys": { "id": { "uniform": { "n": 1000 } } } }],
        "services": [{ "name": "api", "replicas": 1, "concurrency": 1000,
                       "endpoints": { "get": [{ "read": { "db": "db" } }] } }],
        "databases": [{ "name": "db", "shards": 1, "shard_key": "id", "connections": 4,
                        "read_time": { "exponential": { "mean": "5ms" } },
                        "write_time": "1ms" }]
    });
    let r = run("pool.json", &v);
    let read = edge(&r, "service:api", "read", "database:db");
    let lat = read.latency.as_ref().expect("timed");
    let (lambda, mu) = (400.0, 200.0);
    let mean = theory::mmc_mean_sojourn(lambda, mu, 4) * 1e3;
    let p99 = theory::mmc_sojourn_quantile(lambda, mu, 4, 0.99) * 1e3;
    close("read edge mean, ms", lat.mean_ms, mean, 0.03 * mean);
    close("read edge p99, ms", lat.p99_ms, p99, 0.05 * p99);
    // The users wait for nothing else: their latency is the read's.
    same_quantile(
        "users' p99 vs the read's",
        lat.p99_ms,
        r.overall.latency.p99_ms,
    );
}

/// `run --out` writes `topology.svg`: valid SVG with one box per
/// component (named) and one arrow per pair of components; the report
/// shows it before the summary.
#[test]
fn run_out_draws_the_topology_first() {
    let scratch = Scratch::new("topology");
    let out = scratch.dir.join("out");
    let file = format!(
        "{}/scenarios/microservices.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out_dir = out.to_str().expect("utf-8");
    let done = capsim([
        "run",
        &file,
        "--set",
        "duration=\"6m\"",
        "--set",
        "slo=[]",
        "--out",
        out_dir,
    ]);
    assert_eq!(done.code, Some(0), "{done}");
    let svg = fs::read_to_string(out.join("topology.svg")).expect("topology.svg");
    let doc = roxmltree::Document::parse(&svg).expect("valid XML");
    let results: Results =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).expect("results"))
            .expect("results.json");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for n in &results.topology.nodes {
        assert!(texts.contains(&n.name.as_str()), "{} not drawn", n.name);
    }
    let boxes = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("rx") == Some("6"))
        .count();
    assert_eq!(boxes, results.topology.nodes.len());
    let pairs: std::collections::BTreeSet<(&str, &str)> = results
        .topology
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    let heads = svg.matches("url(#topology-head)").count();
    assert_eq!(heads, pairs.len(), "one arrow head per pair of components");
    // The payment service is saturated in the incident: the darkest band.
    assert!(svg.contains("#e31a1c"), "a saturated service is red");

    let html = fs::read_to_string(out.join("index.html")).expect("index.html");
    let topology = html
        .find("<section id=\"topology\">")
        .expect("a topology section");
    let summary = html.find("id=\"summary\"").expect("a summary");
    assert!(topology < summary, "the topology comes first");
    assert!(html[topology..summary].contains("topology.svg"));
}

/// A results document written before the topology existed still renders
/// (`capsim report`), without the picture.
#[test]
fn a_document_without_topology_still_reports() {
    let r = run(
        "microservices.json",
        &shipped("microservices.json", "30s", false),
    );
    let mut v = serde_json::to_value(&r).expect("json");
    v.as_object_mut().expect("object").remove("topology");
    let old: Results = serde_json::from_value(v).expect("reads without topology");
    assert!(old.topology.nodes.is_empty());
    let files = reports::run_report(&old).expect("report");
    assert!(files.iter().all(|f| f.name != "topology.svg"));
    let files = reports::run_report(&r).expect("report");
    assert!(files.iter().any(|f| f.name == "topology.svg"));
}
