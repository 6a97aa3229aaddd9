//! Progress bars: drawn on a terminal (a pseudo-terminal made by
//! `script`), never in a pipe or a CI log, never with `--quiet`; the
//! engine's progress reports change no result.

use std::process::{Command, Stdio};

use models::{PROGRESS_EVERY, World};
use sim_core::SimTime;

use crate::cli::Scratch;

fn mmc() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mmc.json").to_owned()
}

/// The four commands with a progress bar, on short runs of mmc (about
/// 480,000 events each, so the engine reports its clock several times),
/// each with what its bar says and how its results begin.
fn commands() -> Vec<(Vec<String>, &'static str, &'static str)> {
    let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let short = "--set duration=\"20s\"";
    vec![
        (
            words(&format!("run {} {short}", mmc())),
            "% of 20s simulated, ETA ",
            "mmc — seed 1",
        ),
        (
            words(&format!(
                "sweep {} {short} --vary services.station.concurrency=10,12 -r 2 -j 2",
                mmc()
            )),
            "/4 runs, ETA ",
            "Sweep of mmc",
        ),
        (
            words(&format!(
                "plan {} --set duration=\"8s\" --vary services.station.concurrency=10..=12 --slo p99<50ms -j 2",
                mmc()
            )),
            " runs so far, ETA ",
            "Plan for mmc",
        ),
        (
            words(&format!("check {} {short} -j 2", mmc())),
            "/1 runs, ETA ",
            "mmc (",
        ),
    ]
}

/// Runs the binary with `args` and the bar shown from the start (no
/// one-second grace), standard error a pipe: what a CI log gets.
fn piped(args: &[String]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .env("CAPSIM_PROGRESS_DELAY_MS", "0")
        .stdin(Stdio::null())
        .output()
        .expect("starting capsim");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary with `args` on a pseudo-terminal (`script`), the bar
/// shown from the start; returns what the terminal received (standard
/// output and error together), or `None` where `script` is missing.
fn on_terminal(args: &[String]) -> Option<String> {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_capsim").to_owned())
        .chain(args.iter().cloned())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &quoted.join(" "), "/dev/null"])
        .env("CAPSIM_PROGRESS_DELAY_MS", "0")
        .env("COLUMNS", "120")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`capsim {}` on a terminal exited with {:?}:\n{text}",
        args.join(" "),
        out.status.code()
    );
    Some(text)
}

/// Issue 13 item 6: nothing but the results on a pipe, even with the
/// bar's one-second grace removed.
#[test]
fn no_progress_output_when_standard_error_is_not_a_terminal() {
    for (args, says, _) in commands() {
        let (code, stdout, stderr) = piped(&args);
        assert_eq!(code, Some(0), "capsim {}:\n{stderr}", args.join(" "));
        assert_eq!(stderr, "", "capsim {}: progress on a pipe", args.join(" "));
        assert!(
            !stdout.contains(says) && !stdout.contains("ETA"),
            "{stdout}"
        );
        assert!(!stdout.contains('\r') && !stdout.contains('\u{1b}'));
    }
}

/// Issue 13 item 6: on a terminal each command draws its bar, with an
/// estimate of the time left, and clears it before the results; `--quiet`
/// draws none.
#[test]
fn a_terminal_gets_a_bar_with_an_eta_unless_quiet() {
    for (args, says, results) in commands() {
        let Some(shown) = on_terminal(&args) else {
            eprintln!("`script` is not installed: progress on a terminal not tested");
            return;
        };
        let what = format!("capsim {}", args.join(" "));
        assert!(shown.contains(says), "{what}: no `{says}` in:\n{shown}");
        // Its elapsed time comes first: `00:00:00 [`.
        assert!(shown.contains("00:00:0"), "{what}:\n{shown}");
        // The bar is cleared (erase line), then the results follow.
        let last_bar = shown.rfind(says).expect("found");
        let results_at = shown
            .find(results)
            .unwrap_or_else(|| panic!("{what}: no `{results}` in:\n{shown}"));
        assert!(last_bar < results_at, "{what}: a bar among the results");
        assert!(
            shown[last_bar..results_at].contains("\u{1b}[2K"),
            "{what}: the bar is not cleared:\n{shown}"
        );

        let mut quiet = args.clone();
        quiet.push("--quiet".into());
        let shown = on_terminal(&quiet).expect("script ran before");
        assert!(!shown.contains("ETA"), "{what} --quiet:\n{shown}");
    }
}

/// The engine's progress report sees the clock only: the run is the same
/// with it, and it is called every [`PROGRESS_EVERY`] events with a clock
/// that never goes back and the run's end.
#[test]
fn progress_reports_change_no_result() {
    let (_, model) = models::load_file(
        std::path::Path::new(&mmc()),
        &[r#"duration="20s""#.to_owned()],
    )
    .expect("mmc loads");
    let plain = World::new(&model, 3).run().expect("runs");
    let mut seen: Vec<(SimTime, SimTime)> = Vec::new();
    let watched = World::new(&model, 3)
        .progress(|now, end| seen.push((now, end)))
        .run()
        .expect("runs");
    assert_eq!(
        serde_json::to_string(&watched.without_engine()).unwrap(),
        serde_json::to_string(&plain.without_engine()).unwrap()
    );
    assert_eq!(watched.engine.events, plain.engine.events);
    assert_eq!(
        seen.len() as u64,
        plain.engine.events / PROGRESS_EVERY,
        "one report per {PROGRESS_EVERY} events"
    );
    assert!(seen.len() >= 5, "{} reports", seen.len());
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(seen.iter().all(|&(now, end)| {
        end == SimTime(20_000_000_000) && now > SimTime::ZERO && now <= end
    }));
}

/// A sweep's `--out` files are the same whether its bar was drawn (and
/// its runs reported their clocks) or not.
#[test]
fn a_drawn_bar_changes_no_output_file() {
    let scratch = Scratch::new("progress-sweep");
    let (drawn, plain) = (scratch.dir.join("drawn"), scratch.dir.join("plain"));
    let sweep = |dir: &std::path::Path| {
        format!(
            "sweep {} --set duration=\"20s\" --vary services.station.concurrency=10,12 -r 2 -j 2 --out {}",
            mmc(),
            dir.display()
        )
        .split(' ')
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let Some(shown) = on_terminal(&sweep(&drawn)) else {
        eprintln!("`script` is not installed: not tested");
        return;
    };
    assert!(shown.contains("runs, ETA"), "{shown}");
    let (code, _, stderr) = piped(&sweep(&plain));
    assert_eq!(code, Some(0), "{stderr}");
    for file in ["sweep.json", "sweep.csv"] {
        let read = |d: &std::path::Path| std::fs::read(d.join(file)).expect("written");
        assert!(read(&drawn) == read(&plain), "{file} differs");
    }
}
