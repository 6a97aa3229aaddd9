//! Same scenario + same seed = the same results document, byte for byte
//! apart from the engine figures, in-process and through the binary;
//! another seed gives other numbers; adding a component leaves the random
//! draws of the others alone (named random streams).
//!
//! On a mismatch the messages print the seed, the first difference and
//! the command that reproduces the run.

use models::Results;
use serde_json::{Value, json};

use crate::cli::{capsim, flash_sale, set_args, text_without_engine, tiny_flash_sale_sets};
use crate::conservation::{assert_invariants, command_line};
use crate::support::first_difference;

/// flash-sale cut to 3 simulated minutes (~300k requests) that still
/// ramps to the 3000/s plateau.
fn flash_sale_sets() -> Vec<String> {
    vec![
        r#"workloads.shoppers.rate=[{"for":"30s","rps":300},{"for":"30s","ramp_to":3000},{"for":"60s","rps":3000},{"for":"30s","ramp_to":300},{"rps":300}]"#.to_owned(),
        r#"duration="3m""#.to_owned(),
        r#"warmup="10s""#.to_owned(),
        "slo=[]".to_owned(),
    ]
}

/// mmc cut to 20 simulated seconds (~180k requests).
fn mmc_sets() -> Vec<String> {
    vec![r#"duration="20s""#.to_owned()]
}

/// `scenarios/mmc.json`, absolute.
fn mmc() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mmc.json").to_owned()
}

/// Loads and runs `path` with `sets` as `capsim run` does (its objectives
/// judged, window runs included).
fn run_file(path: &str, sets: &[String]) -> Results {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (_, model) = models::load(path, &text, sets).unwrap_or_else(|e| panic!("{e}"));
    models::simulate_judged(&model).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The comparable form of a results document.
fn canonical(r: &Results) -> String {
    serde_json::to_string(&r.without_engine()).expect("results serialise")
}

/// Asserts that two serialised documents are identical; otherwise panics
/// with the seed, the first difference and the reproducing command.
fn assert_identical(first: &str, second: &str, what: &str, seed: u64, reproduce: &str) {
    if first != second {
        let a: Value = serde_json::from_str(first).expect("JSON");
        let b: Value = serde_json::from_str(second).expect("JSON");
        let diff = first_difference(&a, &b, "results").unwrap_or_else(|| {
            // Same values, different text: show where the texts part.
            let at = first
                .bytes()
                .zip(second.bytes())
                .position(|(x, y)| x != y)
                .unwrap_or(first.len().min(second.len()));
            let around = |s: &str| s[at.saturating_sub(60)..(at + 60).min(s.len())].to_owned();
            format!(
                "byte {at} (same values, different text): `{}` vs `{}`",
                around(first),
                around(second)
            )
        });
        panic!(
            "{what}: the documents differ (seed {seed}): first difference at {diff}\n\
             reproduce (run twice and compare, ignoring `engine`): {reproduce}"
        );
    }
}

#[test]
fn same_seed_same_results_in_process() {
    for (path, sets, min_requests) in [
        (flash_sale(), flash_sale_sets(), 250_000),
        (mmc(), mmc_sets(), 150_000),
    ] {
        let first = run_file(&path, &sets);
        let second = run_file(&path, &sets);
        let seed = first.scenario.seed;
        let reproduce = command_line(&path, &sets, " --format json");
        assert_identical(
            &canonical(&first),
            &canonical(&second),
            &path,
            seed,
            &reproduce,
        );
        // Not vacuous: a real run with traffic and latencies to compare.
        assert!(
            first.totals.generated > min_requests,
            "{reproduce}: {:?}",
            first.totals
        );
        assert_invariants(&first, &reproduce);
    }
}

#[test]
fn same_seed_same_results_through_the_binary() {
    // Small runs (~11k and ~18k requests): each is started twice.
    let mmc_small = vec![
        r#"duration="2s""#.to_owned(),
        r#"warmup="500ms""#.to_owned(),
    ];
    for (path, sets) in [(flash_sale(), tiny_flash_sale_sets()), (mmc(), mmc_small)] {
        let mut args = vec![
            "run".to_owned(),
            path.clone(),
            "--format".to_owned(),
            "json".to_owned(),
        ];
        args.extend(set_args(&sets));
        let first = capsim(&args).success();
        let second = capsim(&args).success();
        let seed = first.results().scenario.seed;
        // Parsed, engine removed, re-serialised ...
        let a = first.json_without_engine();
        let b = second.json_without_engine();
        assert_identical(&a.to_string(), &b.to_string(), &path, seed, &first.command);
        // ... and as printed, to the last digit.
        assert_identical(
            &first.text_without_engine(),
            &second.text_without_engine(),
            &path,
            seed,
            &first.command,
        );
        // The binary prints what the library computes.
        let library =
            serde_json::to_string_pretty(&run_file(&path, &sets)).expect("results serialise");
        assert_identical(
            &first.text_without_engine(),
            &text_without_engine(&format!("{library}\n")),
            &format!("{path} (binary vs library)"),
            seed,
            &first.command,
        );
        let r = first.results();
        assert!(r.totals.generated > 5_000, "{first}");
        assert_invariants(&r, &first.command);
    }
}

#[test]
fn another_seed_gives_other_numbers() {
    for (path, sets) in [(flash_sale(), flash_sale_sets()), (mmc(), mmc_sets())] {
        let base = run_file(&path, &sets);
        let mut reseeded_sets = sets.clone();
        reseeded_sets.push(format!("seed={}", base.scenario.seed + 1));
        let other = run_file(&path, &reseeded_sets);
        let reproduce = command_line(&path, &reseeded_sets, " --format json");
        assert_eq!(other.scenario.seed, base.scenario.seed + 1, "{reproduce}");
        assert_ne!(
            base.totals.generated, other.totals.generated,
            "{reproduce}: same number of Poisson arrivals under two seeds"
        );
        for (a, b) in base.endpoints.iter().zip(&other.endpoints) {
            assert_ne!(
                a.latency, b.latency,
                "{reproduce}: endpoint {} has the same latencies under seeds {} and {}",
                a.name, base.scenario.seed, other.scenario.seed
            );
        }
        // Different numbers, same conservation laws.
        assert_invariants(&base, &command_line(&path, &sets, " --format json"));
        assert_invariants(&other, &reproduce);
    }
}

/// The base system: `users` -> service `app` (compute, then a read or a
/// write on the `orders` database by `user_id`), loaded enough to have
/// timeouts and rejections (~10k requests).
fn base_components() -> Value {
    json!({
        "workloads": [{
            "name": "users", "target": "app",
            "rate": [{ "rps": 1000 }], "mix": { "get": 3, "put": 1 },
            "keys": { "user_id": { "zipf": { "n": 10000, "s": 0.9 } } },
            "timeout": "30ms"
        }],
        "load_balancers": [],
        "services": [{
            "name": "app", "replicas": 2, "concurrency": 4, "queue_capacity": 4,
            "endpoints": {
                "get": [{ "compute": { "exponential": { "mean": "4ms" } } },
                        { "read": { "db": "orders" } }],
                "put": [{ "compute": { "lognormal": { "median": "3ms", "p99": "20ms" } } },
                        { "write": { "db": "orders" } }]
            }
        }],
        "caches": [],
        "databases": [{
            "name": "orders", "shards": 4, "shard_key": "user_id", "connections": 2,
            "read_time": { "exponential": { "mean": "2ms" } },
            "write_time": { "gamma": { "mean": "5ms", "cv": 0.7 } }
        }],
        "queues": []
    })
}

/// Unrelated components with other names: `bots` -> balancer `edge2` ->
/// service `other`, which uses its own cache, database and queue.
fn extra_components() -> Value {
    json!({
        "workloads": [{
            "name": "bots", "target": "edge2",
            "rate": [{ "rps": 150 }], "mix": { "scan": 1 },
            "keys": { "tenant_id": { "uniform": { "n": 500 } } },
            "timeout": "30ms"
        }],
        "load_balancers": [{
            "name": "edge2", "target": "other",
            "latency": { "exponential": { "mean": "300us" } }
        }],
        "services": [{
            "name": "other", "replicas": 1, "concurrency": 4, "queue_capacity": 5,
            "endpoints": {
                "scan": [{ "compute": { "exponential": { "mean": "6ms" } } },
                         { "cache": { "cache": "c2", "key": "tenant_id",
                                      "on_miss": [{ "read": { "db": "d2" } }] } },
                         { "publish": { "queue": "q2" } }]
            }
        }],
        "caches": [{ "name": "c2", "capacity": 100,
                     "hit_latency": { "exponential": { "mean": "200us" } } }],
        "databases": [{
            "name": "d2", "shards": 2, "shard_key": "tenant_id", "connections": 2,
            "read_time": { "exponential": { "mean": "3ms" } },
            "write_time": { "exponential": { "mean": "3ms" } }
        }],
        "queues": [{ "name": "q2", "partitions": 3, "consumers": 2,
                     "work": [{ "compute": { "exponential": { "mean": "4ms" } } }] }]
    })
}

/// The base system alone, or with the extra components before or after
/// the base ones in every list.
fn system(seed: u64, extra: Option<Placement>) -> String {
    let base = base_components();
    let extra_parts = extra_components();
    let mut doc = json!({ "name": "streams", "seed": seed, "duration": "10s", "warmup": "1s" });
    for list in [
        "workloads",
        "load_balancers",
        "services",
        "caches",
        "databases",
        "queues",
    ] {
        let mut items = base[list].as_array().unwrap().clone();
        let more = extra_parts[list].as_array().unwrap().clone();
        match extra {
            None => {}
            Some(Placement::After) => items.extend(more),
            Some(Placement::Before) => items.splice(0..0, more).for_each(drop),
        }
        doc[list] = Value::Array(items);
    }
    serde_json::to_string_pretty(&doc).unwrap()
}

#[derive(Clone, Copy, Debug)]
enum Placement {
    Before,
    After,
}

/// What the base system's components report: its endpoints (counts,
/// latency summaries), its service and its database.
fn base_figures(r: &Results) -> Value {
    let endpoints: Vec<_> = r.endpoints.iter().filter(|e| e.service == "app").collect();
    let service = r.services.iter().find(|s| s.name == "app");
    let db = r.databases.iter().find(|d| d.name == "orders");
    json!({ "endpoints": endpoints, "service": service, "database": db })
}

fn run_text(text: &str) -> Results {
    let (_, model) = models::load("streams.json", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    models::simulate(&model).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_extra_components_change_nothing(placement: Placement, test: &str) {
    for seed in [1, 7, 42] {
        let alone = run_text(&system(seed, None));
        let with = run_text(&system(seed, Some(placement)));
        let a = base_figures(&alone);
        let b = base_figures(&with);
        // Not vacuous: the base system has traffic, timeouts, rejections
        // and database work, and the extra components ran too.
        let app = &alone.endpoints;
        assert!(
            app.iter().map(|e| e.ok).sum::<u64>() > 5_000
                && app.iter().map(|e| e.timeouts).sum::<u64>() > 0
                && app.iter().map(|e| e.rejected).sum::<u64>() > 0
                && alone.databases[0].ops > 5_000,
            "the base system is too quiet to compare: {app:?}"
        );
        assert!(
            with.endpoints
                .iter()
                .any(|e| e.name == "scan" && e.ok > 100),
            "the extra workload did not run: {:?}",
            with.endpoints
        );
        if a != b {
            panic!(
                "adding components ({placement:?} the base ones) changed the base system's \
                 draws with seed {seed}: first difference at {}\n\
                 reproduce: cargo test --test tests -- determinism::{test} --exact --include-ignored",
                first_difference(&a, &b, "base").unwrap_or_default()
            );
        }
    }
}

#[test]
fn adding_components_after_leaves_other_draws_alone() {
    assert_extra_components_change_nothing(
        Placement::After,
        "adding_components_after_leaves_other_draws_alone",
    );
}

/// Adding components *before* the existing ones in the file must not
/// change their draws either: a stream is named after its component, not
/// its position.
#[test]
fn adding_components_before_leaves_other_draws_alone() {
    assert_extra_components_change_nothing(
        Placement::Before,
        "adding_components_before_leaves_other_draws_alone",
    );
}

/// A saved results document read back and written again is the same
/// document, byte for byte: reports re-render saved results, and merged
/// sweep slices must equal a single-machine run byte for byte.
#[test]
fn saved_results_read_back_identically() {
    let mut args = vec![
        "run".to_owned(),
        flash_sale(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    args.extend(set_args(&tiny_flash_sale_sets()));
    let out = capsim(&args).success();
    let seed = out.results().scenario.seed;
    let again = serde_json::to_string_pretty(&out.results()).expect("results serialise");
    assert_identical(
        &out.stdout,
        &format!("{again}\n"),
        "a results document read back and written again",
        seed,
        &out.command,
    );
}
