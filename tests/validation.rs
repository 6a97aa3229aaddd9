//! DRAFT builders (pilot)
use serde_json::{Value, json};

pub fn station(
    name: &str,
    seed: u64,
    duration_s: f64,
    warmup_s: f64,
    rps: f64,
    concurrency: u32,
    queue_capacity: Option<u64>,
    service: Value,
) -> Value {
    let mut svc = json!({
        "name": "station",
        "replicas": 1,
        "concurrency": concurrency,
        "endpoints": { "serve": [ { "compute": service } ] }
    });
    if let Some(q) = queue_capacity {
        svc["queue_capacity"] = json!(q);
    }
    json!({
        "name": name,
        "seed": seed,
        "duration": format!("{duration_s}s"),
        "warmup": format!("{warmup_s}s"),
        "workloads": [ { "name": "w", "target": "station", "rate": [ { "rps": rps } ], "mix": { "serve": 1 } } ],
        "services": [ svc ]
    })
}

pub fn lru(seed: u64, s: f64, lookups: f64, warmup_lookups: f64) -> Value {
    let rps = 100_000.0;
    json!({
        "name": format!("lru-zipf-{s}"),
        "seed": seed,
        "duration": format!("{}s", (lookups + warmup_lookups) / rps),
        "warmup": format!("{}s", warmup_lookups / rps),
        "workloads": [ { "name": "w", "target": "app", "rate": [ { "rps": rps } ], "mix": { "get": 1 },
            "keys": { "item": { "zipf": { "n": 10000, "s": s, "shuffle": false } } } } ],
        "services": [ { "name": "app", "replicas": 1, "concurrency": 1,
            "endpoints": { "get": [ { "cache": { "cache": "c", "key": "item", "on_miss": [] } } ] } } ],
        "caches": [ { "name": "c", "capacity": 1000, "hit_latency": "0s" } ]
    })
}

pub fn run(v: &Value) -> models::Results {
    let text = v.to_string();
    let (_, m) = models::scenario::load("v.json", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
    models::simulate(&m).unwrap_or_else(|e| panic!("{e}"))
}
#[test]
fn speed_probe() {
    let t0 = std::time::Instant::now();
    let r = run(&station(
        "mm1",
        1,
        505.0,
        5.0,
        800.0,
        1,
        None,
        json!({"exponential": {"mean": "1ms"}}),
    ));
    eprintln!("mm1 400k: {:?} {}", t0.elapsed(), r.endpoints[0].count);
    let t0 = std::time::Instant::now();
    let r = run(&lru(1, 0.8, 500_000.0, 50_000.0));
    eprintln!("lru 550k: {:?} {}", t0.elapsed(), r.caches[0].lookups);
}
