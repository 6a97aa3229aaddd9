//! Issue 14, item 2: bounded memory for any file, refused clearly. A run
//! whose estimated memory (from the file's counts) is above the budget,
//! or whose expected requests are above the limit, is refused at
//! validation by every command: exit 2, the file, line:column and the
//! field that drives it, the flag that raises the limit, nothing written.
//! Before, `replicas: 50000001` aborted (exit 134), a million shards took
//! the whole machine and `validate` aborted on 2^31 range shards.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::cli::{Outcome, Scratch, capsim};

fn shipped(name: &str) -> String {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// `text` with `from` replaced by `to` (which must occur once), written
/// as `name`; with the line:column of the first character after `key` in
/// the written text (where the value starts).
fn variant(scratch: &Scratch, name: &str, text: &str, from: &str, to: &str) -> (PathBuf, String) {
    assert_eq!(text.matches(from).count(), 1, "{from}");
    let text = text.replace(from, to);
    let at = text.find(to).expect("replaced");
    let (key, _) = to.split_once(": ").expect("a \"key\": value");
    let value = at + key.len() + 2;
    let line = text[..value].matches('\n').count() + 1;
    let column = value - text[..value].rfind('\n').map_or(0, |n| n + 1) + 1;
    let path = scratch.file(name, &text);
    let shown = format!("{}:{line}:{column}", path.display());
    (path, shown)
}

fn run(args: &[&OsStr]) -> Outcome {
    capsim(args)
}

fn refused(out: &Outcome, starts: &str, also: &[&str]) {
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains(starts), "expected `{starts}` in\n{out}");
    for a in also {
        assert!(out.stderr.contains(a), "expected `{a}` in\n{out}");
    }
    assert!(!out.stderr.contains("panicked"), "{out}");
    assert_eq!(out.stdout, "", "{out}");
}

fn empty_or_absent(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

/// Before: "memory allocation of ... failed", exit 134, no file, no field.
#[test]
fn issue_14_fifty_million_replicas_are_refused_at_the_field() {
    let scratch = Scratch::new("limits-replicas");
    let (file, at) = variant(
        &scratch,
        "replicas.json",
        &shipped("mmc.json"),
        "\"replicas\": 1,",
        "\"replicas\": 50000001,",
    );
    let out_dir = scratch.dir.join("out");
    for command in ["run", "validate", "check"] {
        let mut args = vec![OsStr::new(command), file.as_os_str()];
        if command != "validate" {
            args.extend([OsStr::new("--out"), out_dir.as_os_str()]);
        }
        let out = run(&args);
        refused(
            &out,
            &format!("{at}: services[0].replicas: 50000001 replicas need about 29.8 GiB"),
            &["GiB budget (--max-memory to raise it)"],
        );
        assert!(empty_or_absent(&out_dir), "{out}");
    }
}

/// Before: a million shards took the whole machine (and `validate`
/// said ok).
#[test]
fn issue_14_a_million_shards_are_refused() {
    let scratch = Scratch::new("limits-shards");
    let (file, at) = variant(
        &scratch,
        "shards.json",
        &shipped("read-replicas.json"),
        "\"shards\": 4,",
        "\"shards\": 1000000,",
    );
    for command in ["validate", "run"] {
        let out = run(&[OsStr::new(command), file.as_os_str()]);
        refused(
            &out,
            &format!("{at}: databases[0].shards: 1000000 shards x 2 read replicas need about"),
            &["--max-memory"],
        );
    }
}

/// Before: `validate` aborted building 2^31 range boundaries.
#[test]
fn issue_14_range_shards_are_counted_before_their_boundaries_are_built() {
    let file = format!(
        "{}/scenarios/read-replicas.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = run(&[
        OsStr::new("validate"),
        OsStr::new(&file),
        OsStr::new("--set"),
        OsStr::new("databases.users.strategy=range"),
        OsStr::new("--set"),
        OsStr::new("databases.users.shards=2147483648"),
    ]);
    refused(
        &out,
        &format!("{file}: databases[0].shards: 2147483648 shards x 2 read replicas"),
        &["(value from --set databases.users.shards=2147483648)"],
    );
}

/// `--max-memory` raises the budget (and lowers it); a sweep shares it
/// among its threads.
#[test]
fn issue_14_max_memory_sets_the_budget() {
    let rr = format!(
        "{}/scenarios/read-replicas.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let big = ["--set", "databases.users.shards=25000"];
    let mut args: Vec<&OsStr> = ["validate", rr.as_str()].map(OsStr::new).to_vec();
    args.extend(big.map(OsStr::new));
    refused(
        &run(&args),
        &format!("{rr}: databases[0].shards: 25000 shards"),
        &[],
    );
    args.extend(["--max-memory", "8GiB"].map(OsStr::new));
    let out = run(&args).success();
    assert!(
        out.stdout
            .contains("memory: about 4.8 GiB per run (budget 8.0 GiB"),
        "{out}"
    );

    let mmc = format!("{}/scenarios/mmc.json", env!("CARGO_MANIFEST_DIR"));
    let short = [
        "--set",
        "duration=1s",
        "--set",
        "warmup=0s",
        "--set",
        "slo=[]",
    ];
    let sweep = |threads: &str| {
        let mut a: Vec<&OsStr> = [
            "sweep",
            mmc.as_str(),
            "--vary",
            "services.station.concurrency=10,11",
        ]
        .map(OsStr::new)
        .to_vec();
        a.extend(short.map(OsStr::new));
        a.extend(["-j", threads, "--max-memory", "24MiB", "-q"].map(OsStr::new));
        run(&a)
    };
    refused(
        &sweep("2"),
        "services[0].endpoints: 1 endpoint needs about",
        &["above the 12.0 MiB budget"],
    );
    sweep("1").success();
    let out = run(&["run", mmc.as_str(), "--max-memory", "lots"].map(OsStr::new));
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("--max-memory"), "{out}");
}

/// Before: `rps: 1e308` into a loss system was accepted, and so were a
/// million users thinking 1 ns.
#[test]
fn issue_14_astronomical_request_counts_need_max_requests() {
    let scratch = Scratch::new("limits-requests");
    let mmc = shipped("mmc.json").replace(
        "\"concurrency\": 10,",
        "\"concurrency\": 10, \"queue_capacity\": 10,",
    );
    let (file, at) = variant(
        &scratch,
        "rps.json",
        &mmc,
        "\"rps\": 9000",
        "\"rps\": 1e308",
    );
    refused(
        &run(&[OsStr::new("run"), file.as_os_str()]),
        &format!(
            "{at}: workloads[0].rate[0].rps: the run would send more than 1e308 requests in 200s"
        ),
        &["(--max-requests to raise it, or shorten the run)"],
    );
    let (file, at) = variant(
        &scratch,
        "users.json",
        &mmc,
        "\"rate\": [{ \"rps\": 9000 }],",
        "\"users\": 1000000, \"think_time\": \"1ns\",",
    );
    refused(
        &run(&[OsStr::new("validate"), file.as_os_str()]),
        &format!("{at}: workloads[0].users: the run would send about 2.000e11 requests"),
        &["users / (mean think time + least response time) x duration"],
    );
    // 1.8 million requests: within the default, not within 10^6.
    let plain = format!("{}/scenarios/mmc.json", env!("CARGO_MANIFEST_DIR"));
    run(&["validate", plain.as_str()].map(OsStr::new)).success();
    refused(
        &run(&["validate", plain.as_str(), "--max-requests", "1e6"].map(OsStr::new)),
        &format!("{plain}:"),
        &[
            "workloads[0].rate[0].rps: the run would send about 1.800e6 requests",
            "above the limit of 1e6",
        ],
    );
}

/// A thousand shards with two read replicas each are well within the
/// budget, and run.
#[test]
fn a_thousand_shards_still_run() {
    let rr = format!(
        "{}/scenarios/read-replicas.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = run(&[
        "run",
        rr.as_str(),
        "--set",
        "databases.users.shards=1000",
        "--set",
        "duration=2s",
        "--set",
        "warmup=0s",
        "--set",
        "workloads.users.rate=[{\"rps\":200}]",
        "--set",
        "slo=[]",
        "--format",
        "json",
        "-q",
    ]
    .map(OsStr::new))
    .success();
    let results: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let shards = results["databases"][0]["shards"].as_array().map(Vec::len);
    assert_eq!(shards, Some(1000), "{out}");
}
