//! Issue 14, item 4: an interrupted `--out` leaves the folder exactly as
//! it was and no temporary beside or inside it (exit 130 for SIGINT, 143
//! for SIGTERM); a completed run replaces the whole set, so no chart of a
//! previous run survives; a temporary left by a killed run is removed by
//! the next one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::{Scratch, capsim};

/// Every file under `dir` (subfolders too), relative path -> bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, into);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                into.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

/// The names in `dir` other than `keep`: temporaries left behind.
fn others(dir: &Path, keep: &str) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != keep)
        .collect()
}

/// `capsim run SCENARIO --set duration=DURATION --quiet --out OUT`, which
/// must succeed.
fn run_into(scenario: &str, duration: &str, out: &Path) {
    let r = capsim([
        "run",
        scenario,
        "--set",
        &format!("duration=\"{duration}\""),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{r}");
}

/// Starts `capsim ARGS` in the background.
fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting capsim")
}

/// Waits (at most 30 s) until something other than `keep` appears in
/// `dir`: the run has started writing aside. Without such a sign (as
/// before the fix) the signal is sent anyway.
fn wait_for_temporary(dir: &Path, keep: &str) {
    let start = Instant::now();
    while others(dir, keep).is_empty() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` ("INT", "TERM") to `child` with kill(1).
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// A long run (the flash sale for ten hours of simulated time) writing
/// into `out`, interrupted by `sig` once it writes aside: it exits `code`,
/// the folder is byte for byte the earlier run's, nothing else is left.
fn interrupted(sig: &str, code: i32, args: &[&str]) {
    let scratch = Scratch::new(&format!("interrupt-{sig}"));
    let out = scratch.dir.join("out");
    run_into("scenarios/mmc.json", "20s", &out);
    let before = snapshot(&out);
    let mut all = args.to_vec();
    all.extend(["--quiet", "--out", out.to_str().unwrap()]);
    let mut child = spawn(&all);
    wait_for_temporary(&scratch.dir, "out");
    signal(&child, sig);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(code), "{status}; stderr: {stderr}");
    assert!(
        stderr.contains(&format!("interrupted (SIG{sig})")),
        "one line says so: {stderr}"
    );
    assert_eq!(
        others(&scratch.dir, "out"),
        Vec::<String>::new(),
        "no temporary beside --out"
    );
    let after = snapshot(&out);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "--out holds the earlier run's files, no more, no less"
    );
    assert!(after == before, "--out holds the earlier run's bytes");
}

#[test]
fn sigint_during_a_run_leaves_the_previous_set() {
    interrupted(
        "INT",
        130,
        &[
            "run",
            "scenarios/flash-sale.json",
            "--set",
            "duration=\"10h\"",
        ],
    );
}

#[test]
fn sigterm_during_a_sweep_leaves_the_previous_set() {
    interrupted(
        "TERM",
        143,
        &[
            "sweep",
            "scenarios/flash-sale.json",
            "--vary",
            "services.app.replicas=8..=16",
            "--replications",
            "20",
        ],
    );
}

#[test]
fn a_completed_run_replaces_the_whole_set() {
    let scratch = Scratch::new("interrupt-replace");
    let out = scratch.dir.join("out");
    let fresh = scratch.dir.join("fresh");
    let run = |scenario: &str, dir: &Path| run_into(scenario, "2m", dir);
    run("scenarios/flash-sale.json", &out);
    assert!(out.join("shards-orders.svg").exists());
    run("scenarios/mmc.json", &out);
    run("scenarios/mmc.json", &fresh);
    let (mut replaced, mut alone) = (snapshot(&out), snapshot(&fresh));
    for set in [&mut replaced, &mut alone] {
        // The engine section holds wall-clock timings.
        set.remove(Path::new("results.json"));
        set.remove(Path::new("index.html"));
    }
    assert_eq!(
        replaced.keys().collect::<Vec<_>>(),
        alone.keys().collect::<Vec<_>>(),
        "no chart of the flash sale is left beside the M/M/c run's"
    );
    assert_eq!(others(&scratch.dir, "out"), ["fresh"], "no temporary");
}

#[test]
fn a_killed_runs_temporary_is_removed_by_the_next_run() {
    let scratch = Scratch::new("interrupt-kill");
    let out = scratch.dir.join("out");
    let mut child = spawn(&[
        "run",
        "scenarios/flash-sale.json",
        "--set",
        "duration=\"10h\"",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    wait_for_temporary(&scratch.dir, "out");
    child.kill().unwrap(); // SIGKILL: no clean-up possible.
    child.wait().unwrap();
    let left = others(&scratch.dir, "out");
    assert!(
        left.iter().any(|n| n.contains(".capsim-tmp-")),
        "the temporary of a killed run stays: {left:?}"
    );
    run_into("scenarios/mmc.json", "20s", &out);
    assert_eq!(others(&scratch.dir, "out"), Vec::<String>::new());
}

#[test]
fn a_folder_holding_other_files_is_refused() {
    let scratch = Scratch::new("interrupt-foreign");
    let out = scratch.dir.join("out");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let r = capsim([
        "run",
        "scenarios/mmc.json",
        "--set",
        "duration=\"20s\"",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("notes.txt") && r.stderr.contains("did not write"),
        "{r}"
    );
    assert_eq!(snapshot(&out).len(), 1, "nothing written, nothing removed");
    assert_eq!(others(&scratch.dir, "out"), Vec::<String>::new());
}
