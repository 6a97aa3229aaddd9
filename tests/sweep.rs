//! `capsim sweep` and `capsim merge`: the same bytes whatever the thread
//! count or partitioning, grids and `--vary` values as documented, clear
//! refusals of bad input, confidence intervals against a hand computation
//! and against separate `capsim run`s, and common random numbers across
//! variants.
//!
//! The runs are an M/M/c station ([`STATION`]) on short horizons: a run of
//! a few thousand customers takes milliseconds even in a dev build.

use std::fs;
use std::path::{Path, PathBuf};

use capsim::progress::Progress;
use capsim::sweep::aggregate::{Estimate, aggregate};
use capsim::sweep::record::RunRecord;
use capsim::sweep::spec::{Variant, parse_vary};
use capsim::sweep::{SweepResult, SweepSetup};
use indexmap::IndexMap;
use serde_json::{Value, json};
use sim_core::stats::LatencyHistogram;

use crate::cli::{Scratch, capsim};

/// One M/M/c station: Poisson arrivals at 1000/s, exponential service with
/// mean 10 ms (offered load a = λ/μ = 10 erlangs), 12 workers in one pod
/// sharing an unbounded FIFO queue — Erlang C applies. 20 s with a 2 s
/// warm-up: about 18,000 measured customers. Tests reshape it with --set.
pub const STATION: &str = r#"{
  "name": "station",
  "seed": 3,
  "duration": "20s",
  "warmup": "2s",
  "workloads": [
    { "name": "arrivals", "target": "station", "rate": [{ "rps": 1000 }], "mix": { "serve": 1 } }
  ],
  "services": [
    {
      "name": "station",
      "replicas": 1,
      "concurrency": 12,
      "endpoints": { "serve": [{ "compute": { "exponential": { "mean": "10ms" } } }] }
    }
  ]
}
"#;

/// The varied field of most tests.
pub const CONCURRENCY: &str = "services.station.concurrency";

/// Writes [`STATION`] into the scratch folder.
pub fn station(s: &Scratch) -> PathBuf {
    s.file("station.json", STATION)
}

/// `scenarios/NAME`, absolute.
fn shipped(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A path as a command-line argument.
pub fn arg(p: &Path) -> String {
    p.to_str().expect("temporary paths are UTF-8").to_owned()
}

/// `--set` pairs for a short horizon.
fn horizon(duration: &str, warmup: &str) -> Vec<String> {
    vec![
        "--set".into(),
        format!("duration=\"{duration}\""),
        "--set".into(),
        format!("warmup=\"{warmup}\""),
    ]
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn sweep_doc(dir: &Path) -> Value {
    serde_json::from_str(&read(&dir.join("sweep.json"))).expect("sweep.json is JSON")
}

/// Asserts that two files hold the same bytes; on a mismatch, names the
/// first differing line and how to reproduce.
fn assert_same_bytes(a: &Path, b: &Path, reproduce: &str) {
    let (x, y) = (read(a), read(b));
    if x != y {
        let line = x.lines().zip(y.lines()).position(|(p, q)| p != q).map_or(
            "(one is a prefix of the other)".to_string(),
            |i| {
                format!(
                    "line {}:\n  {}: {}\n  {}: {}",
                    i + 1,
                    a.display(),
                    x.lines().nth(i).unwrap_or(""),
                    b.display(),
                    y.lines().nth(i).unwrap_or("")
                )
            },
        );
        panic!(
            "{} and {} differ at {line}\nreproduce: {reproduce}",
            a.display(),
            b.display()
        );
    }
}

/// The values of `path` in every variant of a sweep document, in order.
fn param_column(doc: &Value, path: &str) -> Vec<Value> {
    doc["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| v["params"][path].clone())
        .collect()
}

#[test]
fn one_and_two_threads_write_the_same_bytes() {
    let s = Scratch::new("sweep-threads");
    let sc = station(&s);
    // 24 variants x 2 replications = 48 runs: more than one chunk of
    // `run_all` on either thread count (chunks hold a few runs per
    // thread), so chunk boundaries fall at different places in the two.
    let sweep = |threads: &str| {
        let out = s.dir.join(format!("threads-{threads}"));
        let mut a = strings(&[
            "sweep",
            &arg(&sc),
            "--vary",
            "services.station.concurrency=11..=34",
        ]);
        a.extend(strings(&[
            "-r",
            "2",
            "--seed",
            "5",
            "--threads",
            threads,
            "-q",
        ]));
        a.extend(horizon("10s", "1s"));
        a.extend(["--out".into(), arg(&out)]);
        let o = capsim(&a).success();
        (out, o.command)
    };
    let (one, cmd) = sweep("1");
    let (two, _) = sweep("2");
    for f in ["sweep.json", "sweep.csv"] {
        assert_same_bytes(&one.join(f), &two.join(f), &cmd);
    }
    // Not an empty agreement: 24 replicated variants with intervals, and
    // the varied field has its effect (11 workers queue far more than 34).
    let doc = sweep_doc(&one);
    let variants = doc["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 24);
    for v in variants {
        assert_eq!(v["replications"], 2);
        assert!(v["metrics"]["p99_ms"]["ci95"].is_f64(), "{v}");
    }
    // Erlang C: mean sojourn 16.8 ms at c = 11 and 10.0 ms at c = 34. A
    // 9 s run's mean at c = 11 has an sd of about 1.65 ms (measured), the
    // mean of 2 runs 1.17 ms: 1.1 x 10.0 is 5 sd below 16.8.
    let mean = |i: usize| variants[i]["metrics"]["mean_ms"]["mean"].as_f64().unwrap();
    assert!(
        mean(0) > mean(23) * 1.1,
        "mean {} at c=11, {} at c=34",
        mean(0),
        mean(23)
    );
    assert_eq!(read(&one.join("sweep.csv")).lines().count(), 1 + 24);
}

/// The common arguments of the partition tests: `variants` concurrencies
/// from 11, `reps` replications, seed `seed`, 3 s runs.
fn part_args(sc: &Path, variants: u32, reps: u32, seed: u64) -> Vec<String> {
    let mut a = vec![
        "sweep".into(),
        arg(sc),
        "--vary".into(),
        format!("{CONCURRENCY}=11..{}", 11 + variants),
        "-r".into(),
        reps.to_string(),
        "--seed".into(),
        seed.to_string(),
        "-q".into(),
    ];
    a.extend(horizon("3s", "1s"));
    a
}

/// Runs slice `k` of `n` into `dir` and returns the part file.
fn write_slice(base: &[String], k: usize, n: usize, dir: &Path) -> PathBuf {
    let mut a = base.to_vec();
    a.extend([
        "--partition".into(),
        format!("{k}/{n}"),
        "--threads".into(),
        (1 + k % 2).to_string(),
        "--out".into(),
        arg(dir),
    ]);
    capsim(&a).success();
    let path = dir.join(format!("part-{k:04}-of-{n:04}.jsonl"));
    assert!(path.is_file(), "no {}", path.display());
    path
}

/// The variant of every record in a part file (after its header line).
fn variants_in(part: &Path) -> Vec<u64> {
    read(part)
        .lines()
        .skip(1)
        .map(|l| {
            let r: Value = serde_json::from_str(l).expect("a record is JSON");
            r["variant"].as_u64().expect("variant")
        })
        .collect()
}

#[test]
fn merged_partitions_equal_the_single_machine_sweep() {
    let s = Scratch::new("sweep-partitions");
    let sc = station(&s);
    // 4 variants x 3 replications = 12 runs in 3 slices of 4: slice 0 is
    // variant 0 and replication 0 of variant 1, slice 1 the rest of
    // variant 1 and two of variant 2, so variants are cut across parts.
    let base = part_args(&sc, 4, 3, 9);
    let single = s.dir.join("single");
    let mut a = base.clone();
    a.extend(["--out".into(), arg(&single)]);
    let cmd = capsim(&a).success().command;

    let parts_dir = s.dir.join("parts");
    let parts: Vec<PathBuf> = (0..3)
        .map(|k| write_slice(&base, k, 3, &parts_dir))
        .collect();
    let held: Vec<Vec<u64>> = parts.iter().map(|p| variants_in(p)).collect();
    assert_eq!(held, [vec![0, 0, 0, 1], vec![1, 1, 2, 2], vec![2, 3, 3, 3]]);

    let merged = s.dir.join("merged");
    let shuffled = [&parts[2], &parts[0], &parts[1]];
    let mut m = vec!["merge".to_string()];
    m.extend(shuffled.iter().map(|p| arg(p)));
    m.extend(strings(&["--out", &arg(&merged), "--format", "json"]));
    let out = capsim(&m).success();
    for f in ["sweep.json", "sweep.csv"] {
        assert_same_bytes(
            &single.join(f),
            &merged.join(f),
            &format!("{cmd}\n  vs {}", out.command),
        );
    }
    // `--format json` prints the document it writes.
    assert_eq!(out.stdout, read(&merged.join("sweep.json")), "{out}");
    // Both write the sweep's report, and the pages are identical too.
    assert_same_bytes(
        &single.join("index.html"),
        &merged.join("index.html"),
        "index.html",
    );
}

#[test]
fn more_slices_than_runs_still_merge() {
    let s = Scratch::new("sweep-empty-slices");
    let sc = station(&s);
    // 2 variants x 2 replications = 4 runs in 6 slices: slices 0 and 3
    // hold no run at all.
    let base = part_args(&sc, 2, 2, 4);
    let single = s.dir.join("single");
    let mut a = base.clone();
    a.extend(["--out".into(), arg(&single)]);
    capsim(&a).success();
    let parts_dir = s.dir.join("parts");
    let parts: Vec<PathBuf> = (0..6)
        .map(|k| write_slice(&base, k, 6, &parts_dir))
        .collect();
    assert!(variants_in(&parts[0]).is_empty() && variants_in(&parts[3]).is_empty());
    let merged = s.dir.join("merged");
    let mut m = vec!["merge".to_string()];
    m.extend(parts.iter().rev().map(|p| arg(p)));
    m.extend(["--out".into(), arg(&merged)]);
    capsim(&m).success();
    assert_same_bytes(
        &single.join("sweep.json"),
        &merged.join("sweep.json"),
        "merge",
    );
}

#[test]
fn merge_refuses_missing_duplicated_foreign_and_truncated_parts() {
    let s = Scratch::new("sweep-merge-errors");
    let sc = station(&s);
    // 2 variants x 2 replications = 4 runs in 3 slices: runs 0, 1, 2..4.
    let base = part_args(&sc, 2, 2, 9);
    let dir = s.dir.join("parts");
    let p: Vec<PathBuf> = (0..3).map(|k| write_slice(&base, k, 3, &dir)).collect();
    // The same slice of the same grid with another seed: another sweep.
    let other = write_slice(&part_args(&sc, 2, 2, 10), 1, 3, &s.dir.join("other"));
    // Part 1 without its only record, part 2 cut inside its last record.
    let cut = s.dir.join("cut");
    fs::create_dir_all(&cut).unwrap();
    let text1 = read(&p[1]);
    let header_only = cut.join("part-0001-of-0003.jsonl");
    fs::write(&header_only, format!("{}\n", text1.lines().next().unwrap())).unwrap();
    let text2 = read(&p[2]);
    let cut_record = cut.join("part-0002-of-0003.jsonl");
    fs::write(&cut_record, &text2[..text2.len() - 40]).unwrap();
    // A finished sweep is not a part.
    let finished = s.dir.join("finished");
    let mut a = base.clone();
    a.extend(["--out".into(), arg(&finished)]);
    capsim(&a).success();
    let finished = finished.join("sweep.json");

    let cases: Vec<(&str, Vec<&PathBuf>, Vec<String>)> = vec![
        (
            "a missing part",
            vec![&p[0], &p[2]],
            vec!["missing part(s) 1 of 3".into()],
        ),
        (
            "a duplicated part",
            vec![&p[0], &p[1], &p[1], &p[2]],
            vec!["part 1 of 3 is given twice".into()],
        ),
        (
            "a part of another sweep (other seed)",
            vec![&p[0], &other, &p[2]],
            vec!["slices of different sweeps".into(), arg(&other)],
        ),
        (
            "a part truncated at a line",
            vec![&p[0], &header_only, &p[2]],
            vec!["truncated".into(), arg(&header_only)],
        ),
        (
            "a part cut inside a record",
            vec![&p[0], &p[1], &cut_record],
            vec![format!("{}:3: bad record", arg(&cut_record))],
        ),
        (
            "a finished sweep",
            vec![&p[0], &p[1], &finished],
            vec!["not a capsim partial sweep".into()],
        ),
    ];
    for (what, parts, needles) in cases {
        let out_dir = s.dir.join("merged");
        let mut m = vec!["merge".to_string()];
        m.extend(parts.iter().map(|p| arg(p)));
        m.extend(["--out".into(), arg(&out_dir)]);
        let o = capsim(&m);
        assert_eq!(o.code, Some(2), "{what}: {o}");
        assert!(o.stderr.starts_with("error: "), "{what}: {o}");
        for n in &needles {
            assert!(o.stderr.contains(n.as_str()), "{what}: no `{n}` in: {o}");
        }
        assert!(
            !out_dir.join("sweep.json").exists() && !out_dir.join("sweep.csv").exists(),
            "{what}: an output was written"
        );
    }
}

#[test]
fn vary_values_and_grid_order_through_the_cli() {
    let s = Scratch::new("sweep-grid");
    let sc = station(&s);
    let out = s.dir.join("out");
    // 4 x 2 x 2 = 16 variants of 5 s at 200 or 300 requests/s (a <= 3
    // erlangs, so 4 workers are enough).
    let mut a = strings(&[
        "sweep",
        &arg(&sc),
        "--vary",
        "services.station.concurrency=4..=16:4",
        "--vary",
        r#"workloads.arrivals.timeout="1s",2s"#,
        "--vary",
        r#"workloads.arrivals.rate=[[{"rps": 200}], [{"rps": 300}]]"#,
        "-q",
        "--out",
        &arg(&out),
    ]);
    a.extend(horizon("5s", "0.5s"));
    capsim(&a).success();
    let doc = sweep_doc(&out);
    let rate = |r: u64| json!([{ "rps": r }]);
    assert_eq!(
        doc["identity"]["dims"],
        json!([
            { "path": CONCURRENCY, "values": [4, 8, 12, 16] },
            { "path": "workloads.arrivals.timeout", "values": ["1s", "2s"] },
            { "path": "workloads.arrivals.rate", "values": [rate(200), rate(300)] },
        ])
    );
    // First dimension outermost (slowest), last innermost.
    let mut expected = Vec::new();
    for c in [4, 8, 12, 16] {
        for t in ["1s", "2s"] {
            for r in [200, 300] {
                expected.push((json!(c), json!(t), rate(r)));
            }
        }
    }
    let got: Vec<(Value, Value, Value)> = param_column(&doc, CONCURRENCY)
        .into_iter()
        .zip(param_column(&doc, "workloads.arrivals.timeout"))
        .zip(param_column(&doc, "workloads.arrivals.rate"))
        .map(|((c, t), r)| (c, t, r))
        .collect();
    assert_eq!(got, expected);
    for (i, v) in doc["variants"].as_array().unwrap().iter().enumerate() {
        assert_eq!(v["index"], i);
        // The rate took effect: ~900 or ~1350 measured customers in 4.5 s
        // (Poisson, sd 3.3% or 2.7%); 12% is over 3.6 sd.
        let want = if i % 2 == 0 { 200.0 } else { 300.0 };
        let got = v["metrics"]["throughput_rps"]["mean"].as_f64().unwrap();
        assert!(
            (got / want - 1.0).abs() < 0.12,
            "variant {i}: {got}/s, want ~{want}"
        );
    }
    // sweep.csv: the same order, values with commas quoted.
    let csv = read(&out.join("sweep.csv"));
    let mut lines = csv.lines();
    assert!(
        lines.next().unwrap().starts_with(&format!(
            "{CONCURRENCY},workloads.arrivals.timeout,workloads.arrivals.rate,replications,throughput_rps_mean,"
        )),
        "{csv}"
    );
    assert_eq!(
        lines.next().unwrap().split(",1,").next().unwrap(),
        r#"4,1s,"[{""rps"":200}]""#,
        "{csv}"
    );
    assert_eq!(lines.count(), 15);

    // An exclusive range ends before its end.
    let mut a = strings(&[
        "sweep",
        &arg(&sc),
        "--vary",
        "services.station.concurrency=11..14",
    ]);
    a.extend(strings(&["-q", "--format", "json"]));
    a.extend(horizon("2s", "0s"));
    let o = capsim(&a).success();
    let doc: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(doc["identity"]["dims"][0]["values"], json!([11, 12, 13]));
}

/// `--vary load_factor=...` reaches a top-level field the file does not
/// have: the station's 1,000/s becomes 500/s and 1,100/s (below its 1,200/s
/// capacity). Over 9 measured seconds the smaller Poisson count, 4,500,
/// has an sd of 1.5%: 8% is over 5 sd, and the variants are 2.2x apart.
#[test]
fn the_load_factor_is_sweepable() {
    let s = Scratch::new("sweep-load-factor");
    let sc = station(&s);
    let mut a = strings(&["sweep", &arg(&sc), "--vary", "load_factor=0.5,1.1"]);
    a.extend(strings(&["-q", "--format", "json"]));
    a.extend(horizon("10s", "1s"));
    let doc: Value = serde_json::from_str(&capsim(&a).success().stdout).unwrap();
    assert_eq!(param_column(&doc, "load_factor"), [json!(0.5), json!(1.1)]);
    for (v, want) in doc["variants"]
        .as_array()
        .unwrap()
        .iter()
        .zip([500.0, 1100.0])
    {
        let got = v["metrics"]["throughput_rps"]["mean"].as_f64().unwrap();
        assert!((got / want - 1.0).abs() < 0.08, "{got}/s, want ~{want}");
    }
}

#[test]
fn bad_vary_arguments_exit_2_naming_them_and_write_nothing() {
    let s = Scratch::new("sweep-bad-vary");
    let sc = station(&s);
    let out = s.dir.join("out");
    let cases = [
        ("services.station.concurrency=4..x", "not an integer"),
        ("services.station.concurrency=", "no values"),
        ("services.station.concurrency", "PATH=VALUES"),
        ("services.station.concurrency=12,,13", "empty value"),
        ("services.station.concurrency=12,12", "appears twice"),
        ("services.station.concurrency=16..=12", "empty"),
        (
            "services.station.concurrency=12..=16:0",
            "step must be positive",
        ),
        ("workloads.arrivals.rate=[[{\"rps\": 1}]", "invalid JSON"),
    ];
    for (vary, why) in cases {
        let mut a = strings(&["sweep", &arg(&sc), "--vary", vary, "--out", &arg(&out)]);
        a.extend(horizon("2s", "0s"));
        let o = capsim(&a);
        assert_eq!(o.code, Some(2), "{o}");
        assert!(
            o.stderr.starts_with(&format!("error: --vary {vary}: ")) && o.stderr.contains(why),
            "{o}"
        );
        assert!(
            !out.join("sweep.json").exists() && !out.join("sweep.csv").exists(),
            "{o}"
        );
    }
    // Paths and values the scenario refuses: the message names the path.
    for (vary, needles) in [
        (
            "services.nope.replicas=1,2",
            &["services.nope.replicas", "no element named `nope`"][..],
        ),
        (
            "services.station.concurrency=12,twelve",
            &["services.station.concurrency", "twelve"][..],
        ),
        (
            "services.station.concurrency=2,12",
            &["station.concurrency=2", "unstable"][..],
        ),
    ] {
        let mut a = strings(&["sweep", &arg(&sc), "--vary", vary, "--out", &arg(&out)]);
        a.extend(horizon("2s", "0s"));
        let o = capsim(&a);
        assert_eq!(o.code, Some(2), "{o}");
        for n in needles {
            assert!(o.stderr.contains(n), "no `{n}` in: {o}");
        }
        assert!(!out.join("sweep.json").exists(), "{o}");
    }
}

/// Regression: `--vary P=... --vary P=...` (the same path twice) silently
/// keeps only the last dimension's value in every variant.
#[test]
fn a_path_varied_twice_is_refused() {
    let s = Scratch::new("sweep-vary-twice");
    let sc = station(&s);
    let mut a = strings(&[
        "sweep",
        &arg(&sc),
        "--vary",
        "services.station.concurrency=12,13",
    ]);
    a.extend(strings(&[
        "--vary",
        "services.station.concurrency=14,15",
        "-q",
    ]));
    a.extend(horizon("2s", "0s"));
    let o = capsim(&a);
    assert_eq!(o.code, Some(2), "{o}");
    assert!(o.stderr.contains("services.station.concurrency"), "{o}");
}

/// `sharding-compare.json` at 600 requests/s for 10 s.
fn sharding_args(name: Option<&str>) -> Vec<String> {
    let mut a = strings(&["sweep", &shipped("sharding-compare.json"), "-q"]);
    if let Some(n) = name {
        a.extend(["--name".into(), n.into()]);
    }
    a.extend(horizon("10s", "1s"));
    a.extend(strings(&["--set", r#"workloads.api.rate=[{"rps": 600}]"#]));
    a
}

#[test]
fn a_sweep_kept_in_the_scenario_runs_by_name() {
    let mut a = sharding_args(Some("layouts"));
    a.extend(strings(&["--format", "json"]));
    let o = capsim(&a).success();
    let doc: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o}"));
    let id = &doc["identity"];
    assert_eq!(id["name"], "layouts");
    assert_eq!(id["replications"], 3, "the file's replications");
    assert_eq!(id["seed"], 7, "the scenario's seed");
    assert!(
        doc["description"]
            .as_str()
            .unwrap()
            .starts_with("Every strategy")
    );
    let variants = doc["variants"].as_array().unwrap();
    let labels: Vec<String> = variants
        .iter()
        .map(|v| {
            let p = &v["params"];
            format!(
                "{}/{}",
                p["databases.orders.strategy"].as_str().unwrap(),
                p["databases.orders.shard_key"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            "hash/user_id",
            "hash/tenant_id",
            "hash/order_time",
            "range/user_id",
            "range/tenant_id",
            "range/order_time"
        ]
    );
    // Today's layout (hash of user_id) moves nothing; hash -> range of the
    // same key reassigns rows independently, so 7/8 of them move (20,000
    // sampled rows: sd 0.23%; 2% is over 8 sd).
    assert_eq!(variants[0]["keys_moved"], json!({}));
    for v in &variants[1..] {
        let f = v["keys_moved"]["orders"]
            .as_f64()
            .unwrap_or_else(|| panic!("{v}"));
        assert!(f > 0.0 && f <= 1.0, "{f}");
    }
    let to_range = variants[3]["keys_moved"]["orders"].as_f64().unwrap();
    assert!((to_range - 0.875).abs() < 0.02, "{to_range}");

    let o = capsim(sharding_args(Some("nope")));
    assert_eq!(o.code, Some(2), "{o}");
    assert!(
        o.stderr.contains("no sweep named `nope`") && o.stderr.contains("layouts, reshard"),
        "{o}"
    );
    let o = capsim(sharding_args(None));
    assert_eq!(o.code, Some(2), "{o}");
    assert!(
        o.stderr.contains("several sweeps") && o.stderr.contains("--name"),
        "{o}"
    );
}

#[test]
fn confidence_interval_matches_a_hand_computation() {
    // [1, 3]: mean 2, s = sqrt(2), t(0.975, 1) = 12.7062047, so the
    // half-width is 12.7062047 * sqrt(2) / sqrt(2) = 12.7062047.
    let e = Estimate::of(&[1.0, 3.0]);
    assert_eq!(e.mean, 2.0);
    let hw = e.ci95.unwrap();
    assert!((hw - 12.706_204_7).abs() < 1e-6, "{hw}");
    // [2, 4, 9]: mean 5, s^2 = (9 + 1 + 16) / 2 = 13, s = 3.6055513,
    // t(0.975, 2) = 4.3026527, half-width = 4.3026527 * 3.6055513 / sqrt(3)
    // = 8.9566859.
    let e = Estimate::of(&[2.0, 4.0, 9.0]);
    assert_eq!(e.mean, 5.0);
    let hw = e.ci95.unwrap();
    assert!((hw - 8.956_685_9).abs() < 1e-6, "{hw}");
    assert_eq!((e.low, e.high), (5.0 - hw, 5.0 + hw));
    // One replication has no interval.
    assert_eq!(Estimate::of(&[7.0]).ci95, None);
}

/// A hand-made record: metric `p99_ms`, `latencies_ms` in its histogram
/// and `shares` as the load shares of database `db`.
fn record(rep: u32, p99_ms: f64, latencies_ms: &[u64], shares: [f64; 2]) -> RunRecord {
    let mut h = LatencyHistogram::new();
    for &ms in latencies_ms {
        h.record(ms * 1_000_000);
    }
    RunRecord {
        run: rep as usize,
        variant: 0,
        replication: rep,
        seed: 100 + u64::from(rep),
        metrics: IndexMap::from([("p99_ms".to_string(), p99_ms)]),
        unmeasured: Vec::new(),
        overall: h.to_compact(),
        endpoints: IndexMap::new(),
        shard_share: IndexMap::from([("db".to_string(), shares.to_vec())]),
        keys_moved: IndexMap::new(),
    }
}

#[test]
fn aggregation_of_replications_matches_a_hand_computation() {
    let variant = Variant {
        index: 0,
        params: vec![(CONCURRENCY.to_string(), json!(12))],
    };
    let mut first = record(0, 2.0, &[1, 1, 1], [0.5, 0.5]);
    first.keys_moved.insert("db".into(), 0.25);
    let recs = [
        first,
        record(1, 4.0, &[2, 2], [0.7, 0.3]),
        record(2, 9.0, &[6], [0.6, 0.4]),
    ];
    let v = aggregate(&variant, &recs);
    assert_eq!(v.replications, 3);
    assert_eq!(v.params[CONCURRENCY], json!(12));
    // The metric: mean and interval of 2, 4, 9 (see above).
    let p99 = &v.metrics["p99_ms"];
    assert_eq!(p99.mean, 5.0);
    assert!((p99.ci95.unwrap() - 8.956_685_9).abs() < 1e-6);
    // Pooled latencies weigh every response, not every replication: six
    // responses summing to 3 + 4 + 6 = 13 ms, mean 13/6 ms (the histogram
    // keeps the exact sum); the mean of the replications' means would be 3.
    let all = &v.pooled["all"];
    assert_eq!(all.count, 6);
    assert!((all.mean_ms - 13.0 / 6.0).abs() < 1e-9, "{}", all.mean_ms);
    // Shares: mean per shard; keys moved: replication 0's.
    let shares = &v.shard_share["db"];
    assert!((shares[0] - 0.6).abs() < 1e-12 && (shares[1] - 0.4).abs() < 1e-12);
    assert_eq!(v.keys_moved["db"], 0.25);
}

#[test]
fn a_sweeps_means_are_those_of_separate_runs_with_the_same_seeds() {
    // Replication r of every variant runs with seed SEED + r; each must be
    // exactly `capsim run --seed SEED+r` of the same variant.
    const SEED: u64 = 40;
    let mmc = shipped("mmc.json");
    let mut a = strings(&[
        "sweep",
        &mmc,
        "--vary",
        "services.station.concurrency=10,12",
    ]);
    a.extend(strings(&[
        "-r",
        "3",
        "--seed",
        &SEED.to_string(),
        "--format",
        "json",
        "-q",
    ]));
    a.extend(horizon("10s", "1s"));
    let o = capsim(&a).success();
    let doc: SweepResult = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o}"));
    for v in &doc.variants {
        let c = &v.params[CONCURRENCY];
        let mut p99 = Vec::new();
        let mut throughput = Vec::new();
        for r in 0..3 {
            let mut a = strings(&["run", &mmc, "--format", "json", "--seed"]);
            a.push((SEED + r).to_string());
            a.extend(horizon("10s", "1s"));
            a.extend(["--set".into(), format!("{CONCURRENCY}={c}")]);
            let res = capsim(&a).success().results();
            p99.push(res.overall.latency.p99_ms);
            throughput.push(res.overall.throughput_rps);
        }
        assert_eq!(
            v.metrics["p99_ms"],
            Estimate::of(&p99),
            "c={c}: runs {p99:?}"
        );
        assert_eq!(
            v.metrics["throughput_rps"],
            Estimate::of(&throughput),
            "c={c}"
        );
        // And that mean is the plain average (to rounding: 1e-14 relative).
        let plain = p99.iter().sum::<f64>() / 3.0;
        assert!(
            (v.metrics["p99_ms"].mean - plain).abs() <= 1e-14 * plain,
            "c={c}"
        );
        // The replications differ (other seeds), so the interval is real.
        assert!(v.metrics["p99_ms"].ci95.unwrap() > 0.0, "c={c}: {p99:?}");
    }
}

#[test]
fn variants_share_their_arrivals_common_random_numbers() {
    let s = Scratch::new("sweep-crn");
    let sc = station(&s);
    // Arrivals stop at 20 s and the run ends at 22 s: every request has
    // finished by then (even at 11 workers, rho = 0.91, the backlog clears
    // in well under a second), so `throughput_rps` counts exactly the
    // measured arrivals, and nothing is rejected (unbounded queue).
    let sets = vec![
        r#"workloads.arrivals.rate=[{"for": "20s", "rps": 1000}, {"rps": 0}]"#.to_string(),
        r#"duration="22s""#.to_string(),
    ];
    let dims = vec![parse_vary("services.station.concurrency=11,13,16").unwrap()];
    let setup = SweepSetup::new(&sc, sets, dims, Some(3), Some(21), None).unwrap();
    let hidden = Progress::hidden();
    let records = setup.execute(0..setup.runs(), 2, &hidden).unwrap();
    let metric = |v: usize, r: usize, name: &str| records[v * 3 + r].metrics[name];
    for r in 0..3 {
        for v in 1..3 {
            assert_eq!(
                metric(v, r, "throughput_rps"),
                metric(0, r, "throughput_rps"),
                "replication {r}: variant {v} saw other arrivals than variant 0"
            );
            assert_eq!(metric(v, r, "error_rate"), 0.0);
        }
        // The variants do differ: 11 workers queue far more than 16 (mean
        // sojourn 16.8 vs 10.1 ms by Erlang C; sd of one 18 s run at c = 11
        // about 1.2 ms, so 1.2x is 4 sd inside).
        assert!(metric(0, r, "mean_ms") > 1.2 * metric(2, r, "mean_ms"));
    }
    // Other seeds draw other arrivals.
    assert_ne!(
        metric(0, 0, "throughput_rps"),
        metric(0, 1, "throughput_rps")
    );

    // In the aggregated sweep: the same throughput estimate everywhere.
    let result = setup.run_all(2, &hidden).unwrap();
    let first = &result.variants[0].metrics["throughput_rps"];
    for v in &result.variants {
        assert_eq!(&v.metrics["throughput_rps"], first, "variant {}", v.index);
        assert_eq!(v.metrics["error_rate"].mean, 0.0);
    }
}
