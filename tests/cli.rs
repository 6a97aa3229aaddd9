//! The `capsim` binary as users run it: output formats, `--out`, `--seed`,
//! `--set`, help texts, and bad input (exit code 2, a message naming
//! file, line:column and field, no output file).

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use models::Results;
use serde_json::Value;

use crate::conservation::assert_invariants;

/// A scratch folder under the system temp dir, unique per test (and per
/// test process), removed when dropped.
pub struct Scratch {
    /// The folder.
    pub dir: PathBuf,
}

impl Scratch {
    /// A fresh, empty folder for the test `name`.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("capsim-tests-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        Scratch { dir }
    }

    /// Writes `text` to `name` in the folder and returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What one run of the binary did.
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cut at a character boundary: slicing inside a table's box
        // drawing would panic while reporting a failure (and abort).
        let mut end = self.stdout.len().min(2000);
        while !self.stdout.is_char_boundary(end) {
            end -= 1;
        }
        write!(
            f,
            "`{}` exited with {:?}\n--- stderr:\n{}\n--- stdout (first 2000 bytes):\n{}",
            self.command,
            self.code,
            self.stderr,
            &self.stdout[..end]
        )
    }
}

impl Outcome {
    /// Asserts exit code 0 and returns self.
    pub fn success(self) -> Outcome {
        assert_eq!(self.code, Some(0), "{self}");
        self
    }

    /// The results document printed by `--format json`, without its
    /// machine-dependent `engine` object.
    pub fn json_without_engine(&self) -> Value {
        let mut v: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self}"));
        let engine = v.as_object_mut().and_then(|o| o.shift_remove("engine"));
        assert!(
            engine.is_some(),
            "no `engine` object in the document: {self}"
        );
        v
    }

    /// The text printed by `--format json` with the `engine` object cut
    /// out, byte for byte (see [`text_without_engine`]).
    pub fn text_without_engine(&self) -> String {
        text_without_engine(&self.stdout)
    }

    /// The results document printed by `--format json`.
    pub fn results(&self) -> Results {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a results document ({e}): {self}"))
    }
}

/// A results document's text with its `engine` object (the last field,
/// holding only numbers) cut out, without parsing: comparing parsed
/// documents would hide differences in the last digit, since serde_json
/// (without its `float_roundtrip` feature) may read two different
/// shortest decimal forms as the same `f64`.
pub fn text_without_engine(json: &str) -> String {
    let key = json
        .rfind("\"engine\": {")
        .unwrap_or_else(|| panic!("no `engine` object in:\n{json}"));
    let start = json[..key]
        .rfind(',')
        .expect("`engine` is not the first field");
    let end = key
        + json[key..]
            .find('}')
            .expect("the `engine` object is closed")
        + 1;
    format!("{}{}", &json[..start], &json[end..])
}

/// Runs the binary with `args`.
pub fn capsim<I, S>(args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<S> = args.into_iter().collect();
    let command = std::iter::once("capsim".to_owned())
        .chain(args.iter().map(|a| {
            let a = a.as_ref().to_string_lossy();
            if a.contains([' ', '"', '{', '[']) {
                format!("'{a}'")
            } else {
                a.into_owned()
            }
        }))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("starting `{command}`: {e}"));
    Outcome {
        command,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The shipped flash-sale scenario.
pub fn flash_sale() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/flash-sale.json").to_owned()
}

/// `--set`s that cut flash-sale to 40 simulated seconds and ~11k requests
/// (a small ramp to 600/s), for runs of the binary.
pub fn tiny_flash_sale_sets() -> Vec<String> {
    vec![
        r#"workloads.shoppers.rate=[{"for":"10s","rps":100},{"for":"10s","ramp_to":600},{"for":"10s","rps":600},{"rps":100}]"#.to_owned(),
        r#"duration="40s""#.to_owned(),
        r#"warmup="5s""#.to_owned(),
        // The objectives' windows belong to the 30-minute sale.
        "slo=[]".to_owned(),
    ]
}

pub fn set_args(sets: &[String]) -> Vec<String> {
    sets.iter()
        .flat_map(|s| ["--set".to_owned(), s.clone()])
        .collect()
}

/// A small, valid scenario laid out one field per line, so that positions
/// are known: line 7 is the workload's target, line 8 its rate, line 16
/// the service's replicas, line 17 its concurrency, line 21 the cache step,
/// line 22 its database read. 200/s for 10s: ~2000 requests.
const TINY: &str = r#"{
  "name": "tiny",
  "duration": "10s",
  "workloads": [
    {
      "name": "users",
      "target": "app",
      "rate": [{ "rps": 200 }],
      "mix": { "get": 1 },
      "keys": { "user_id": { "uniform": { "n": 1000 } } }
    }
  ],
  "services": [
    {
      "name": "app",
      "replicas": 2,
      "concurrency": 4,
      "endpoints": {
        "get": [
          { "compute": { "exponential": { "mean": "5ms" } } },
          { "cache": { "cache": "sessions", "key": "user_id",
                       "on_miss": [{ "read": { "db": "users-db" } }] } }
        ]
      }
    }
  ],
  "caches": [
    { "name": "sessions", "capacity": 100, "hit_latency": "1ms" }
  ],
  "databases": [
    { "name": "users-db", "shards": 2, "shard_key": "user_id", "connections": 4,
      "read_time": { "exponential": { "mean": "2ms" } },
      "write_time": { "exponential": { "mean": "4ms" } } }
  ]
}
"#;

/// `TINY` with the first `from` replaced by `to`.
fn tiny_with(from: &str, to: &str) -> String {
    assert!(TINY.contains(from), "`{from}` is not in the tiny scenario");
    TINY.replacen(from, to, 1)
}

/// 1-based line and column (in characters) of the first `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, column)
}

#[test]
fn run_prints_a_summary_table() {
    let mut args = vec!["run".to_owned(), flash_sale()];
    args.extend(set_args(&tiny_flash_sale_sets()));
    let out = capsim(&args).success();
    for needle in [
        "flash-sale — seed 42",
        "app.browse",
        "app.product",
        "app.cart",
        "app.checkout",
        "Database catalog",
        "Database orders",
        "product-cache",
        "order-events",
        "Cost:",
        "Engine:",
    ] {
        assert!(
            out.stdout.contains(needle),
            "no `{needle}` in the table: {out}"
        );
    }
    // The ledger line is printed and balances.
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("requests: "))
        .unwrap_or_else(|| panic!("no requests line: {out}"));
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.replace(',', "").parse().ok())
        .collect();
    // generated = completed + timed out + rejected + failed in flight +
    // rate-limited + still in flight, every term shown.
    assert_eq!(numbers.len(), 7, "{line}");
    assert!(numbers[0] > 5_000, "{line}");
    assert_eq!(numbers[0], numbers[1..].iter().sum::<u64>(), "{line}");
    assert_eq!(out.stderr, "", "{out}");
}

#[test]
fn run_json_out_seed_and_set() {
    let scratch = Scratch::new("run-json");
    let file = scratch.file("tiny.json", TINY);
    let out_dir = scratch.dir.join("out");

    // --format json prints a complete, conserving results document ...
    let plain = capsim([
        "run".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .success();
    let r = plain.results();
    assert_eq!(r.scenario.name, "tiny");
    assert_eq!(r.scenario.seed, 1, "the default seed");
    assert_eq!(r.endpoints.len(), 1);
    assert!(r.totals.generated > 1_500, "{:?}", r.totals);
    assert_eq!(r.caches[0].name, "sessions");
    assert!(r.caches[0].lookups > 0 && r.databases[0].ops > 0);
    assert_invariants(&r, &plain.command);

    // ... and with --out writes the same document to DIR/results.json.
    let with_out = capsim([
        "run".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ])
    .success();
    let written = fs::read_to_string(out_dir.join("results.json"))
        .unwrap_or_else(|e| panic!("no results.json ({e}): {with_out}"));
    let mut written: Value = serde_json::from_str(&written).expect("results.json is JSON");
    written.as_object_mut().unwrap().shift_remove("engine");
    assert_eq!(written, with_out.json_without_engine(), "{with_out}");
    assert_eq!(
        written,
        plain.json_without_engine(),
        "same seed, same results"
    );
    // Byte for byte: the file is what was printed.
    let written_text = fs::read_to_string(out_dir.join("results.json")).unwrap();
    assert_eq!(
        text_without_engine(&written_text),
        with_out.text_without_engine(),
        "{with_out}"
    );
    assert!(
        written_text.ends_with("}\n"),
        "results.json ends with a newline"
    );
    let mut leftovers: Vec<String> = fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    leftovers.sort();
    assert!(
        leftovers.contains(&"results.json".to_string()),
        "{leftovers:?}"
    );
    assert!(
        leftovers.iter().all(|f| f == "results.json"
            || f == "index.html"
            || f == ".capsim-out"
            || f.ends_with(".svg")),
        "only results.json and the report in --out, no temporaries: {leftovers:?}"
    );

    // In table format, --out says where the results went.
    let table = capsim([
        "run".as_ref(),
        file.as_os_str(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ])
    .success();
    assert!(
        table.stdout.contains("Results written to") && table.stdout.contains("results.json"),
        "{table}"
    );

    // --seed changes the draws and is recorded; it is `--set seed=N`.
    let seeded = capsim([
        "run".as_ref(),
        file.as_os_str(),
        "--seed".as_ref(),
        "7".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .success();
    let s = seeded.results();
    assert_eq!(s.scenario.seed, 7);
    assert_ne!(s.endpoints[0].latency, r.endpoints[0].latency, "{seeded}");
    assert_invariants(&s, &seeded.command);
    let set_seed = capsim([
        "run".as_ref(),
        file.as_os_str(),
        "--set".as_ref(),
        "seed=7".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .success();
    assert_eq!(
        seeded.json_without_engine(),
        set_seed.json_without_engine(),
        "--seed 7 and --set seed=7 differ"
    );

    // --set reaches the model: three pods instead of two.
    let set = capsim([
        "run".as_ref(),
        file.as_os_str(),
        "--set".as_ref(),
        "services.app.replicas=3".as_ref(),
        "--set".as_ref(),
        r#"caches.sessions.capacity=7"#.as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .success();
    let t = set.results();
    assert_eq!(t.services[0].replicas, 3, "{set}");
    assert_eq!(t.services[0].pods.len(), 3, "{set}");
    assert!(t.services[0].pods.iter().all(|p| p.requests > 0), "{set}");
    assert_eq!(t.caches[0].capacity, 7, "{set}");
    assert!(t.caches[0].entries_at_end <= 7, "{set}");
}

#[test]
fn validate_accepts_a_good_scenario() {
    let scratch = Scratch::new("validate-ok");
    let file = scratch.file("tiny.json", TINY);
    let out = capsim(["validate".as_ref(), file.as_os_str()]).success();
    assert!(
        out.stdout.contains(": ok") && out.stdout.contains("`tiny`"),
        "{out}"
    );
    // ~2000 requests expected at 200/s for 10s.
    assert!(out.stdout.contains("about 2000 requests"), "{out}");
    let out = capsim([
        "validate".as_ref(),
        file.as_os_str(),
        "--set".as_ref(),
        r#"duration="20s""#.as_ref(),
    ])
    .success();
    assert!(out.stdout.contains("about 4000 requests"), "{out}");
}

#[test]
fn help_texts_have_examples() {
    for args in [
        &["--help"][..],
        &["run", "--help"][..],
        &["validate", "--help"][..],
    ] {
        let out = capsim(args).success();
        assert!(out.stdout.contains("Examples"), "{out}");
        assert!(out.stdout.contains("capsim "), "{out}");
    }
}

/// One bad input and what the error must say.
struct Bad {
    what: &'static str,
    /// The scenario text.
    text: String,
    /// Extra arguments after the file.
    args: &'static [&'static str],
    /// `Some((line, column))`: the message starts `file:line:column: `.
    at: Option<(usize, usize)>,
    /// Text that follows (the field path and message).
    says: &'static [&'static str],
    /// The "did you mean" suggestion, if any.
    help: Option<&'static str>,
}

fn bad_inputs() -> Vec<Bad> {
    let mut cases = Vec::new();
    // Hard-coded positions, counted by hand in TINY.
    let text = tiny_with(r#""concurrency": 4"#, r#""concurency": 4"#);
    cases.push(Bad {
        what: "misspelt field",
        at: Some((17, 7)),
        text,
        args: &[],
        says: &["services[0].concurency: unknown field `concurency`"],
        help: Some("concurrency"),
    });
    let text = tiny_with(r#""replicas": 2"#, r#""replicas": "two""#);
    cases.push(Bad {
        what: "string for a number",
        at: Some((16, 19)),
        text,
        args: &[],
        says: &["services[0].replicas: invalid type: string \"two\", expected u32"],
        help: None,
    });
    // Positions computed from the edited text.
    let text = tiny_with(r#""replicas": 2,"#, r#""replicas": 2"#);
    cases.push(Bad {
        what: "syntax error (missing comma)",
        at: Some(position(&text, r#""concurrency""#)),
        text,
        args: &[],
        says: &["expected `,` or `}`"],
        help: None,
    });
    let text = tiny_with(r#"{ "rps": 200 }"#, r#"{ "rps": -5 }"#);
    cases.push(Bad {
        what: "negative rate",
        at: Some(position(&text, "-5")),
        text,
        args: &[],
        says: &["workloads[0].rate[0].rps: ", "got -5"],
        help: None,
    });
    let text = tiny_with(r#""target": "app""#, r#""target": "ap""#);
    cases.push(Bad {
        what: "target that does not exist",
        at: Some(position(&text, r#""ap""#)),
        text,
        args: &[],
        says: &["workloads[0].target: no load balancer or service named `ap`"],
        help: Some("app"),
    });
    let text = tiny_with(r#""cache": "sessions""#, r#""cache": "sesions""#);
    cases.push(Bad {
        what: "cache step naming a missing cache",
        at: Some(position(&text, r#""sesions""#)),
        text,
        args: &[],
        says: &["services[0].endpoints.get[1].cache.cache: no cache named `sesions`"],
        help: Some("sessions"),
    });
    let text = tiny_with(r#""db": "users-db""#, r#""db": "user-db""#);
    cases.push(Bad {
        what: "read step naming a missing database",
        at: Some(position(&text, r#""user-db""#)),
        text,
        args: &[],
        says: &[
            "services[0].endpoints.get[1].cache.on_miss[0].read.db: no database named `user-db`",
        ],
        help: Some("users-db"),
    });
    let text = tiny_with(r#"{ "rps": 200 }"#, r#"{ "rps": 5000 }"#);
    cases.push(Bad {
        what: "unbounded queue above capacity",
        at: Some(position(
            &text,
            r#"{
      "name": "app""#,
        )),
        text,
        args: &[],
        says: &["services[0]: unstable: arrival rate exceeds capacity at service `app`"],
        help: None,
    });
    let text = tiny_with(r#""10s""#, r#""5 parsecs""#);
    cases.push(Bad {
        what: "bad duration",
        at: Some(position(&text, r#""5 parsecs""#)),
        text,
        args: &[],
        says: &["duration: invalid duration \"5 parsecs\"", "parsecs"],
        help: None,
    });
    let text = tiny_with(
        r#""rate": [{ "rps": 200 }],"#,
        r#""rate": { "profile": "sael" },"#,
    )
    .replacen(
        r#""duration": "10s","#,
        r#""duration": "10s", "profiles": { "sale": [{ "rps": 200 }] },"#,
        1,
    );
    cases.push(Bad {
        what: "workload sharing a profile that does not exist",
        at: Some(position(&text, r#""sael""#)),
        text,
        args: &[],
        says: &["workloads[0].rate.profile: no rate profile named `sael` (known: sale)"],
        help: Some("sale"),
    });
    // Overrides are not in the file: no position, the --set is named.
    cases.push(Bad {
        what: "--set without `=`",
        at: None,
        text: TINY.to_owned(),
        args: &["--set", "services.app.replicas"],
        says: &["--set services.app.replicas: expected PATH=VALUE"],
        help: None,
    });
    cases.push(Bad {
        what: "--set naming a missing array element",
        at: None,
        text: TINY.to_owned(),
        args: &["--set", "services.ap.replicas=3"],
        says: &["--set services.ap.replicas=3: no element named `ap` in `services`"],
        help: Some("app"),
    });
    cases.push(Bad {
        what: "--set giving a load factor of zero",
        at: None,
        text: TINY.to_owned(),
        args: &["--set", "load_factor=0"],
        says: &["load_factor: the load factor must be a finite number > 0 \
             (1 is today's traffic), got 0 (value from --set load_factor=0)"],
        help: None,
    });
    cases.push(Bad {
        what: "--set giving a bad value",
        at: None,
        text: TINY.to_owned(),
        args: &["--set", "services.app.replicas=0"],
        says: &["services[0].replicas: a service needs at least 1 replica \
             (value from --set services.app.replicas=0)"],
        help: None,
    });
    cases
}

#[test]
fn bad_input_exits_2_with_a_located_message_and_no_output_file() {
    let scratch = Scratch::new("bad-input");
    for (i, case) in bad_inputs().into_iter().enumerate() {
        let file = scratch.file(&format!("bad-{i}.json"), &case.text);
        let out_dir = scratch.dir.join(format!("out-{i}"));
        fs::create_dir(&out_dir).unwrap();
        let name = file.display().to_string();
        let prefix = match case.at {
            Some((line, column)) => format!("error: {name}:{line}:{column}: "),
            None => format!("error: {name}: "),
        };
        for command in ["run", "validate"] {
            let mut args: Vec<&OsStr> = vec![command.as_ref(), file.as_os_str()];
            args.extend(case.args.iter().map(OsStr::new));
            if command == "run" {
                args.extend(["--out".as_ref(), out_dir.as_os_str()]);
            }
            let out = capsim(&args);
            let what = case.what;
            assert_eq!(out.code, Some(2), "{what}: {out}");
            assert!(
                out.stderr.starts_with(&prefix),
                "{what}: expected `{prefix}`: {out}"
            );
            for says in case.says {
                assert!(
                    out.stderr.contains(says),
                    "{what}: expected `{says}`: {out}"
                );
            }
            match case.help {
                Some(help) => assert!(
                    out.stderr
                        .contains(&format!("\n  help: did you mean `{help}`?")),
                    "{what}: expected a suggestion of `{help}`: {out}"
                ),
                None => assert!(!out.stderr.contains("help:"), "{what}: {out}"),
            }
            assert_eq!(out.stdout, "", "{what}: nothing on stdout: {out}");
        }
        let left: Vec<_> = fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            left.is_empty(),
            "{}: files left in --out: {left:?}",
            case.what
        );
    }
}

#[test]
fn a_missing_scenario_file_is_bad_input() {
    let scratch = Scratch::new("missing");
    let missing = scratch.dir.join("no-such-scenario.json");
    let out_dir = scratch.dir.join("out");
    for args in [
        vec![
            "run".as_ref(),
            missing.as_os_str(),
            "--out".as_ref(),
            out_dir.as_os_str(),
        ],
        vec!["validate".as_ref(), missing.as_os_str()],
    ] {
        let out = capsim(&args);
        // main.rs maps every ScenarioError, including unreadable files, to 2.
        assert_eq!(out.code, Some(2), "{out}");
        assert!(
            out.stderr.starts_with(&format!(
                "error: {}: cannot read the scenario: ",
                missing.display()
            )),
            "{out}"
        );
        assert_eq!(out.stdout, "", "{out}");
    }
    assert!(!out_dir.exists(), "--out created for a missing scenario");
}

#[test]
fn an_out_folder_under_a_file_is_bad_input() {
    let scratch = Scratch::new("unwritable-out");
    let file = scratch.file("tiny.json", TINY);
    // --out names a folder under an existing regular file: refused before
    // the run, in words (issue 14, item 6; tests/messages.rs has the rest).
    let blocker = scratch.file("not-a-folder", "x");
    let out = capsim([
        "run".as_ref(),
        file.as_os_str(),
        "--out".as_ref(),
        blocker.join("sub").as_os_str(),
    ]);
    assert_eq!(out.code, Some(2), "{out}");
    assert_eq!(
        out.stderr,
        format!(
            "error: --out {}: {} is a file; give a folder\n",
            blocker.join("sub").display(),
            blocker.display()
        ),
        "{out}"
    );
    assert_eq!(fs::read_to_string(&blocker).unwrap(), "x");
}

#[test]
fn an_overloaded_bounded_service_runs_and_reports_rejections() {
    let scratch = Scratch::new("overload");
    // Capacity 2 workers / 5ms = 400/s; offered 2000/s for 5s (~10k).
    let text = r#"{
      "name": "overload",
      "duration": "5s",
      "warmup": "1s",
      "workloads": [{ "name": "users", "target": "app",
                      "rate": [{ "rps": 2000 }], "mix": { "get": 1 } }],
      "services": [{ "name": "app", "replicas": 1, "concurrency": 2,
                     "queue_capacity": 5,
                     "endpoints": { "get": [{ "compute": "5ms" }] } }]
    }"#;
    let file = scratch.file("overload.json", text);
    let out = capsim([
        "run".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .success();
    let r = out.results();
    assert_invariants(&r, &out.command);
    let t = &r.totals;
    // At most 400/s get through (plus what the queue holds at the end).
    assert!(t.completed <= 5 * 400 + 5, "{t:?}");
    assert!(
        t.completed >= 5 * 400 - 10,
        "the service works flat out: {t:?}"
    );
    assert!(t.rejected * 10 >= t.generated * 7, "~80% rejected: {t:?}");
    let e = &r.endpoints[0];
    assert!(e.rejected > 0 && e.error_rate > 0.7, "{e:?}");
    assert_eq!(r.services[0].rejected, e.rejected, "{e:?}");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("rejected by full pod queues")),
        "{:?}",
        r.warnings
    );
    // The table shows the warning too.
    let table = capsim(["run".as_ref(), file.as_os_str()]).success();
    assert!(table.stdout.contains("warning: service `app`"), "{table}");
}
