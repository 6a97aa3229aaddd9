//! Messages that point at the right thing (issue 14, item 6), through the
//! binary: durations that say what is wrong with them (and compound ones
//! accepted), invalid UTF-8 located at its byte, a byte-order mark
//! accepted, hints for a number in quotes, a step written as a name and
//! a `--vary` range written `8-16`, kept-sweep errors that name the file, an `--out` that is a
//! file, and `-` for standard input.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::cli::{Outcome, Scratch, capsim};

/// A small valid scenario, one setting per line: line 3 is `duration`,
/// line 8 the service's `replicas`, line 11 the kept sweep.
pub(crate) const SCENARIO: &str = r#"{
  "name": "tiny",
  "duration": "10s",
  "workloads": [
    { "name": "users", "target": "app", "rate": [{ "rps": 50 }], "mix": { "get": 1 } }
  ],
  "services": [
    { "name": "app", "replicas": 2, "concurrency": 4,
      "endpoints": { "get": [ { "compute": "5ms" } ] } }
  ],
  "sweeps": { "sizes": { "vary": { "services.app.replicas": [1, 2] } } }
}"#;

/// `SCENARIO` with one piece replaced.
fn edit(from: &str, to: &str) -> String {
    assert!(SCENARIO.contains(from), "{from}");
    SCENARIO.replacen(from, to, 1)
}

/// Runs the binary with `args`, `stdin` fed to its standard input.
pub fn capsim_stdin(args: &[&str], stdin: &[u8]) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting capsim");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("writing stdin");
    let out = child.wait_with_output().expect("waiting for capsim");
    Outcome {
        command: format!("capsim {} < (stdin)", args.join(" ")),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts exit 2 with `expected` on standard error (after `error: `).
pub fn refused(out: &Outcome, expected: &str) {
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains(&format!("error: {expected}")),
        "expected `error: {expected}`\n{out}"
    );
}

#[test]
fn compound_durations_are_accepted() {
    let s = Scratch::new("msg-compound");
    for (text, shown) in [("1m15s", "1.25m"), ("1h 30m", "1.5h"), ("2m30s", "2.5m")] {
        let path = s.file("c.json", &edit(r#""10s""#, &format!("{text:?}")));
        let out = capsim(["validate", path.to_str().unwrap()]).success();
        assert!(
            out.stdout.contains(&format!("{shown} simulated")),
            "{text}: {out}"
        );
    }
}

#[test]
fn a_bad_duration_says_what_is_wrong() {
    let s = Scratch::new("msg-durations");
    for (text, reason) in [
        ("-1ms", "a duration cannot be negative"),
        (
            "1e30h",
            "too large: the longest duration is 18446744073709551615ns, about 584 years",
        ),
        (
            "5 parsecs",
            "unknown unit `parsecs` (use ns, us or µs, ms, s, m or min, h, d)",
        ),
        (
            "30m1h",
            "`h` after `m`: write the parts from the largest unit",
        ),
    ] {
        let path = s.file("d.json", &edit(r#""10s""#, &format!("{text:?}")));
        let out = capsim(["validate", path.to_str().unwrap()]);
        refused(
            &out,
            &format!(
                "{}:3:15: duration: invalid duration {text:?}: {reason}",
                path.display()
            ),
        );
    }
}

#[test]
fn invalid_utf8_is_located_at_its_byte() {
    let s = Scratch::new("msg-utf8");
    let path = s.dir.join("bad.json");
    // Line 2, after `  "name": "t` (12 characters): column 13.
    let text = SCENARIO.replacen("\"tiny\"", "\"t\u{FFFD}\"", 1);
    let bytes = text.replacen('\u{FFFD}', "\u{1}", 1).into_bytes();
    let bytes: Vec<u8> = bytes
        .into_iter()
        .map(|b| if b == 1 { 0xFF } else { b })
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let out = capsim(["validate", path.to_str().unwrap()]);
    refused(
        &out,
        &format!(
            "{}:2:13: invalid UTF-8 (byte 0xFF): save the file as UTF-8",
            path.display()
        ),
    );
    assert!(out.stdout.is_empty(), "{out}");
}

#[test]
fn a_byte_order_mark_is_accepted_and_positions_count_after_it() {
    let s = Scratch::new("msg-bom");
    let path = s.dir.join("bom.json");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(SCENARIO.as_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let out = capsim(["validate", path.to_str().unwrap()]).success();
    assert!(out.stdout.contains("ok — scenario `tiny`"), "{out}");
    // An error on line 1 is at the column an editor shows.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(br#"{"name": 5}"#);
    std::fs::write(&path, &bytes).unwrap();
    let out = capsim(["validate", path.to_str().unwrap()]);
    refused(
        &out,
        &format!("{}:1:10: name: invalid type", path.display()),
    );
}

#[test]
fn a_number_in_quotes_gets_a_hint() {
    let s = Scratch::new("msg-quoted");
    let path = s.file("q.json", &edit(r#""replicas": 2"#, r#""replicas": "12""#));
    let out = capsim(["validate", path.to_str().unwrap()]);
    refused(
        &out,
        &format!(
            "{}:8:34: services[0].replicas: invalid type: string \"12\", expected u32\n  \
             help: write a number: 12 (without quotes)",
            path.display()
        ),
    );
}

/// `{"read": "pg"}`: a step written as its target's name alone gets the
/// object it should be, with the fields that step needs.
#[test]
fn a_step_written_as_a_name_gets_its_object_form() {
    let s = Scratch::new("msg-step");
    for (step, ty, form) in [
        ("read", "DbStep", r#"{"read": {"db": "pg"}}"#),
        ("write", "WriteStep", r#"{"write": {"db": "pg"}}"#),
        (
            "cache",
            "CacheStep",
            r#"{"cache": {"cache": "pg", "key": "user_id"}}"#,
        ),
        ("publish", "PublishStep", r#"{"publish": {"queue": "pg"}}"#),
        (
            "call",
            "CallStep",
            r#"{"call": {"target": "pg", "endpoint": "ENDPOINT"}}"#,
        ),
    ] {
        let text = edit(
            r#"[ { "compute": "5ms" } ]"#,
            &format!(r#"[ {{ "compute": "5ms" }}, {{ "{step}": "pg" }} ]"#),
        );
        let path = s.file(&format!("{step}.json"), &text);
        let out = capsim(["validate", path.to_str().unwrap()]);
        assert_eq!(out.code, Some(2), "{out}");
        let want = format!(
            "services[0].endpoints.get[1].{step}: invalid type: string \"pg\", expected struct {ty}\n  \
             help: a step is an object: write {form}"
        );
        assert!(out.stderr.contains(&want), "{want}\n{out}");
    }
}

#[test]
fn a_vary_range_written_with_a_dash_gets_a_hint() {
    let s = Scratch::new("msg-vary");
    let path = s.file("v.json", SCENARIO);
    let out = capsim([
        "sweep",
        path.to_str().unwrap(),
        "--vary",
        "services.app.replicas=8-16",
        "-q",
    ]);
    refused(
        &out,
        "--vary services.app.replicas=8-16: `8-16` is not a range: for a range write 8..=16",
    );
}

#[test]
fn kept_sweep_errors_name_the_file_and_the_sweep() {
    let s = Scratch::new("msg-kept");
    let path = s.file("k.json", &edit("[1, 2]", "[1, 0]"));
    let p = path.to_str().unwrap();
    let expected = format!(
        "{p}: sweeps.sizes: variant app.replicas=0: services[0].replicas: a service needs \
         at least 1 replica (the variant's services.app.replicas=0)\n"
    );
    refused(&capsim(["validate", p]), &expected);
    refused(&capsim(["sweep", p, "-q"]), &expected);
    // The value is the sweep's, not a --set of the user's.
    assert!(!capsim(["validate", p]).stderr.contains("--set"));
}

#[test]
fn an_out_that_is_a_file_is_refused_in_words() {
    let s = Scratch::new("msg-out");
    let path = s.file("o.json", SCENARIO);
    let out_file = s.file("results.json", "keep me");
    let p = path.to_str().unwrap();
    let o = out_file.to_str().unwrap();
    for args in [
        vec!["run", p, "--out", o, "-q"],
        vec!["sweep", p, "--out", o, "-q"],
    ] {
        let out = capsim(&args);
        refused(&out, &format!("--out {o} is a file; give a folder"));
        assert!(out.stdout.is_empty(), "{out}");
    }
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "keep me");
    assert_eq!(std::fs::read_dir(&s.dir).unwrap().count(), 2);
}

#[test]
fn a_dash_reads_the_scenario_from_standard_input() {
    let out = capsim_stdin(&["validate", "-"], SCENARIO.as_bytes()).success();
    assert!(
        out.stdout.starts_with("<stdin>: ok — scenario `tiny`"),
        "{out}"
    );
    // The same results as from the file.
    let s = Scratch::new("msg-stdin");
    let path = s.file("f.json", SCENARIO);
    let from_stdin = capsim_stdin(&["run", "-", "--format", "json", "-q"], SCENARIO.as_bytes())
        .success()
        .json_without_engine();
    let from_file = capsim(["run", path.to_str().unwrap(), "--format", "json", "-q"])
        .success()
        .json_without_engine();
    assert_eq!(from_stdin, from_file);
    // Errors name <stdin>, with line and column; a kept sweep is read once.
    let bad = edit(r#""replicas": 2"#, r#""replicas": 0"#);
    refused(
        &capsim_stdin(&["validate", "-"], bad.as_bytes()),
        "<stdin>:8:34: services[0].replicas:",
    );
    let out = capsim_stdin(
        &["sweep", "-", "-q", "--format", "json"],
        SCENARIO.as_bytes(),
    );
    assert_eq!(out.code, Some(0), "{out}");
}

/// `capsim report -` reads the document from standard input and renders
/// the same report as from the file.
#[test]
fn report_reads_a_document_from_standard_input() {
    let s = Scratch::new("msg-report-stdin");
    let scenario = s.file("tiny.json", SCENARIO);
    let run = capsim(["run", scenario.to_str().unwrap(), "--format", "json", "-q"]);
    assert_eq!(run.code, Some(0), "{run}");
    let out = s.dir.join("report");
    let piped = capsim_stdin(
        &["report", "-", "--out", out.to_str().unwrap()],
        run.stdout.as_bytes(),
    );
    assert_eq!(piped.code, Some(0), "{piped}");
    assert!(piped.stdout.contains("run report written to"), "{piped}");
    let doc = s.file("results.json", &run.stdout);
    let again = s.dir.join("again");
    let file = capsim([
        "report",
        doc.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(file.code, Some(0), "{file}");
    assert_eq!(
        std::fs::read(out.join("index.html")).unwrap(),
        std::fs::read(again.join("index.html")).unwrap()
    );
    // Not a capsim document: refused, naming `<stdin>`.
    let bad = capsim_stdin(&["report", "-", "--out", out.to_str().unwrap()], b"{}");
    assert_eq!(bad.code, Some(2), "{bad}");
    assert!(
        bad.stderr.contains("<stdin>: not a capsim document"),
        "{bad}"
    );
}
