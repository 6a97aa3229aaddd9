//! Issue 14, item 1: no panic, no abort, ever. A price so large that the
//! cost overflows is refused at validation, pointing at the price (every
//! price field, through a file or a `--set`), by every command and
//! without an output file; a price just below the limit runs and its
//! documents read back; `report` and `check --baseline` refuse a document
//! with `null` in a number field, naming the file, line:column and field.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use crate::cli::{Scratch, capsim, flash_sale};

/// The M/M/c station cut to 5 s (and a 1 s warm-up).
fn mmc() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mmc.json").to_owned()
}

const SHORT: [&str; 4] = ["--set", "duration=5s", "--set", "warmup=1s"];

/// No panic text, nothing on standard output.
fn no_panic(out: &crate::cli::Outcome) {
    for text in [&out.stderr, &out.stdout] {
        assert!(!text.contains("panicked"), "{out}");
        assert!(!text.contains("RUST_BACKTRACE"), "{out}");
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Before: `run` wrote `"total": null` and exited 0, `sweep` and `plan`
/// panicked in every rayon worker (`records read back: invalid type:
/// null`, exit 101). Now each command refuses the price (exit 2), naming
/// the field and the `--set`, and writes nothing.
#[test]
fn issue_14_an_overflowing_price_is_refused_by_every_command() {
    let scratch = Scratch::new("finite-commands");
    let file = mmc();
    let price = "services.station.price_per_replica_hour=1e308";
    let commands: [&[&str]; 5] = [
        &["run"],
        &["validate"],
        &["sweep", "--vary", "services.station.replicas=1,2"],
        &["plan", "--vary", "services.station.replicas=1..=2"],
        &["check"],
    ];
    for (i, command) in commands.iter().enumerate() {
        let out_dir = scratch.dir.join(format!("out-{i}"));
        let mut args: Vec<&OsStr> = command.iter().map(OsStr::new).collect();
        args.insert(1, OsStr::new(&file));
        args.extend(SHORT.iter().map(OsStr::new));
        args.extend([OsStr::new("--set"), OsStr::new(price)]);
        if command[0] != "validate" {
            args.extend([OsStr::new("--out"), out_dir.as_os_str()]);
        }
        let out = capsim(&args);
        assert_eq!(out.code, Some(2), "{out}");
        no_panic(&out);
        assert!(
            out.stderr.contains(&format!(
                "{file}: services[0].price_per_replica_hour: a price of 1e308 makes the cost of the run overflow"
            )),
            "{out}"
        );
        assert!(
            out.stderr.contains(&format!("(value from --set {price})")),
            "{out}"
        );
        assert_eq!(out.stdout, "", "{out}");
        assert!(
            files_in(&out_dir).is_empty(),
            "{out}: {:?}",
            files_in(&out_dir)
        );
    }

    // A varied price: the variant is named, no worker panics.
    let out = capsim([
        "sweep",
        &file,
        "--set",
        "duration=5s",
        "--set",
        "warmup=1s",
        "--vary",
        "services.station.price_per_replica_hour=1,1e308",
    ]);
    assert_eq!(out.code, Some(2), "{out}");
    no_panic(&out);
    assert!(
        out.stderr
            .contains("variant station.price_per_replica_hour=1e+308")
            && out
                .stderr
                .contains("services[0].price_per_replica_hour: a price of 1e308"),
        "{out}"
    );
}

/// Every price field of flash-sale (and a CDN's, on a scenario with an
/// edge) is checked: the error names that field. A replica price left out
/// is the shard price, so the shard price is blamed.
#[test]
fn issue_14_every_price_field_is_checked() {
    let file = flash_sale();
    let cases = [
        (
            "load_balancers.edge.price_per_hour=1e308",
            "load_balancers[0].price_per_hour",
        ),
        (
            "services.app.price_per_replica_hour=1e305",
            "services[0].price_per_replica_hour",
        ),
        (
            "caches.product-cache.price_per_node_hour=1e300",
            "caches[0].price_per_node_hour",
        ),
        (
            "databases.catalog.price_per_shard_hour=1e300",
            "databases[0].price_per_shard_hour",
        ),
        (
            "queues.order-events.price_per_partition_hour=1e300",
            "queues[0].price_per_partition_hour",
        ),
        (
            "queues.order-events.price_per_consumer_hour=1e300",
            "queues[0].price_per_consumer_hour",
        ),
        (
            "queues.order-events.price_per_broker_hour=1e300",
            "queues[0].price_per_broker_hour",
        ),
    ];
    for (set, field) in cases {
        let out = capsim(["validate", &file, "--set", set]);
        assert_eq!(out.code, Some(2), "{out}");
        no_panic(&out);
        assert!(
            out.stderr
                .starts_with(&format!("error: {file}: {field}: a price of ")),
            "{field}: {out}"
        );
        assert!(
            out.stderr.contains(&format!("(value from --set {set})")),
            "{out}"
        );
    }
    // Read replicas: their own price, or the shard price when absent.
    // 8 shards at 1e298 over 30 minutes stay finite (8e298 × 1800 s × 10^6
    // = 1.44e308); 16 read replicas at the same (defaulted) price tip the
    // sum over, on the replica line, blamed on the shard price.
    let replicas = "databases.orders.replicas=2";
    let shard_price = "databases.orders.price_per_shard_hour=1e298";
    let cases: [(&[&str], Option<&str>); 3] = [
        (
            &[replicas, "databases.orders.price_per_replica_hour=1e300"],
            Some("databases[1].price_per_replica_hour: a price of 1e300"),
        ),
        (&[shard_price], None),
        (
            &[replicas, shard_price],
            Some("databases[1].price_per_shard_hour: a price of 1e298"),
        ),
    ];
    for (sets, refusal) in cases {
        let mut args = vec!["validate", &file];
        for set in sets {
            args.extend(["--set", set]);
        }
        let out = capsim(&args);
        match refusal {
            Some(says) => {
                assert_eq!(out.code, Some(2), "{out}");
                assert!(
                    out.stderr.starts_with(&format!("error: {file}: {says}")),
                    "{out}"
                );
            }
            None => assert_eq!(out.code, Some(0), "{out}"),
        }
    }

    // A CDN is billed per million requests: its largest countable rate
    // times the price must stay finite.
    let scratch = Scratch::new("finite-cdn");
    let cdn = scratch.file(
        "cdn.json",
        r#"{
  "name": "cdn",
  "duration": "10s",
  "workloads": [{
    "name": "shoppers", "target": "lb",
    "rate": [{ "rps": 100 }],
    "mix": { "asset": 1 },
    "keys": { "asset_id": { "zipf": { "n": 1000, "s": 1.0 } } }
  }],
  "load_balancers": [{ "name": "lb", "target": "app" }],
  "services": [{
    "name": "app", "replicas": 2, "concurrency": 100,
    "endpoints": { "asset": [{ "compute": "10ms" }] }
  }],
  "cdns": [{
    "name": "edge", "origin": "lb", "endpoints": ["asset"], "key": "asset_id",
    "capacity": 10000, "ttl": "10s",
    "hit_latency": "2ms", "miss_latency": "3ms", "origin_latency": "30ms",
    "price_per_million_requests": 1e280
  }]
}
"#,
    );
    let out = capsim([OsStr::new("validate"), cdn.as_os_str()]);
    assert_eq!(out.code, Some(2), "{out}");
    no_panic(&out);
    // Located in the file: line 19 holds the price, column 35 its value.
    let name = cdn.display();
    assert!(
        out.stderr.starts_with(&format!(
            "error: {name}:19:35: cdns[0].price_per_million_requests: a price of 1e280"
        )),
        "{out}"
    );
    let out = capsim([
        OsStr::new("validate"),
        cdn.as_os_str(),
        OsStr::new("--set"),
        OsStr::new("cdns.edge.price_per_million_requests=1e250"),
    ]);
    assert_eq!(out.code, Some(0), "{out}");
}

/// A large price that does not overflow runs, and every document it
/// writes reads back: the limit refuses only what cannot be written.
#[test]
fn issue_14_a_large_finite_price_runs_and_reads_back() {
    let scratch = Scratch::new("finite-large");
    let file = mmc();
    let run_dir = scratch.dir.join("run");
    let mut args: Vec<&OsStr> = vec!["run".as_ref(), file.as_ref()];
    args.extend(SHORT.iter().map(OsStr::new));
    let price = "services.station.price_per_replica_hour=1e290";
    args.extend(["--set", price, "--out"].map(OsStr::new));
    args.push(run_dir.as_os_str());
    let out = capsim(&args);
    assert_eq!(out.code, Some(0), "{out}");
    let text = fs::read_to_string(run_dir.join("results.json")).unwrap();
    assert!(!text.contains("null"), "{text}");
    let results: models::Results = serde_json::from_str(&text).unwrap();
    assert!(results.cost.total.is_finite() && results.cost.total > 1e285);
    assert!(results.cost.per_million_requests.is_finite());
    let out = capsim([
        OsStr::new("report"),
        run_dir.join("results.json").as_os_str(),
        OsStr::new("--out"),
        scratch.dir.join("report").as_os_str(),
    ]);
    assert_eq!(out.code, Some(0), "{out}");
}

/// Before: `report` said only "does not read as one: invalid type: null,
/// expected f64", without the field or the line. Now it names
/// file:line:column and the field path, exits 2 and writes nothing.
/// `check --baseline` does the same for a check.json.
#[test]
fn issue_14_a_null_number_is_refused_with_the_file_and_the_field() {
    let scratch = Scratch::new("finite-null");
    let file = mmc();

    // A results document with `cost.total` as null (what capsim wrote
    // before validation refused overflowing prices).
    let run_dir = scratch.dir.join("run");
    let mut args: Vec<&OsStr> = vec!["run".as_ref(), file.as_ref()];
    args.extend(SHORT.iter().map(OsStr::new));
    args.extend([OsStr::new("--out"), run_dir.as_os_str()]);
    let out = capsim(&args);
    assert_eq!(out.code, Some(0), "{out}");
    let results = run_dir.join("results.json");
    let text = fs::read_to_string(&results).unwrap();
    let at = text.find("\"total\": ").expect("cost.total") + "\"total\": ".len();
    let end = at + text[at..].find([',', '\n']).unwrap();
    let broken = format!("{}null{}", &text[..at], &text[end..]);
    let line = text[..at].lines().count();
    let column = at - text[..at].rfind('\n').unwrap() - 1 + "null".len();
    let bad = scratch.file("bad-results.json", &broken);
    let report_dir = scratch.dir.join("report");
    let out = capsim([
        OsStr::new("report"),
        bad.as_os_str(),
        OsStr::new("--out"),
        report_dir.as_os_str(),
    ]);
    assert_eq!(out.code, Some(2), "{out}");
    no_panic(&out);
    assert!(
        out.stderr.starts_with(&format!(
            "error: {}:{line}:{column}: looks like a results document but does not read as one",
            bad.display()
        )),
        "{out}"
    );
    assert!(
        out.stderr
            .contains(": cost.total: invalid type: null, expected f64\n"),
        "{out}"
    );
    assert!(files_in(&report_dir).is_empty(), "{out}");

    // A check.json baseline with a measured value as null.
    let check_dir = scratch.dir.join("check");
    let mut args: Vec<&OsStr> = vec!["check".as_ref(), file.as_ref()];
    args.extend(SHORT.iter().map(OsStr::new));
    args.extend([OsStr::new("--out"), check_dir.as_os_str()]);
    let out = capsim(&args);
    assert_eq!(out.code, Some(0), "{out}");
    let text = fs::read_to_string(check_dir.join("check.json")).unwrap();
    let key = "\"mean\": ";
    let at = text.find(key).expect("a mean") + key.len();
    let end = at + text[at..].find([',', '\n']).unwrap();
    let bad = scratch.file(
        "bad-check.json",
        &format!("{}null{}", &text[..at], &text[end..]),
    );
    let mut args: Vec<&OsStr> = vec!["check".as_ref(), file.as_ref()];
    args.extend(SHORT.iter().map(OsStr::new));
    args.extend([OsStr::new("--baseline"), bad.as_os_str()]);
    let out = capsim(&args);
    assert_eq!(out.code, Some(2), "{out}");
    no_panic(&out);
    assert!(
        out.stderr.contains(&format!("error: {}:", bad.display()))
            && out
                .stderr
                .contains(".mean: invalid type: null, expected f64\n"),
        "{out}"
    );
    assert!(!out.stderr.contains(" at line "), "{out}");
}
