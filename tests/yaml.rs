//! Scenario files in YAML (issue 14, item 7): the same scenario in YAML
//! gives the same results, byte for byte, as in JSON; `--set` paths are
//! the same; errors are located at the YAML file's line:column with the
//! field's path and exit 2; standard input is told apart by its first
//! character; every command takes `.yaml` and `.yml`.

use std::path::Path;

use crate::cli::{Scratch, capsim};
use crate::messages::{capsim_stdin, refused};

/// A small valid scenario, one setting per line: line 3 is `duration`,
/// line 9 the service's `replicas`, line 5 the workload's `rps`.
const SCENARIO: &str = "name: tiny
description: a YAML scenario
duration: 10s
workloads:
  - { name: users, target: app, rate: [{ rps: 50 }], mix: { get: 1 } }
services:
  - name: app
    concurrency: 4
    replicas: 2
    endpoints:
      get:
        - compute: 5ms
sweeps:
  sizes:
    vary: { services.app.replicas: [1, 2] }
";

/// `SCENARIO` with one piece replaced.
fn edit(from: &str, to: &str) -> String {
    assert!(SCENARIO.contains(from), "{from}");
    SCENARIO.replacen(from, to, 1)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_yaml_scenario_runs_byte_for_byte_like_its_json() {
    let json = root().join("scenarios/flash-sale.json");
    let yaml = root().join("tests/fixtures/flash-sale.yaml");
    // The fixture is the JSON scenario, value for value.
    let (from_json, _) = models::load_file(&json, &[]).expect("JSON scenario");
    let (from_yaml, _) = models::load_file(&yaml, &[]).expect("YAML scenario");
    assert_eq!(
        from_json, from_yaml,
        "tests/fixtures/flash-sale.yaml no longer matches scenarios/flash-sale.json: regenerate it"
    );
    let s = Scratch::new("yaml-same");
    let yml = s.file(
        "flash-sale.yml",
        &std::fs::read_to_string(&yaml).expect("fixture"),
    );
    let mut outputs = Vec::new();
    for file in [&json, &yaml, &yml] {
        let out = capsim([
            "run",
            file.to_str().expect("UTF-8"),
            "--seed",
            "3",
            "--set",
            "duration=\"3m\"",
            "--set",
            "services.app.replicas=6",
            "--format",
            "json",
        ])
        .success();
        // Everything but the engine's wall-clock figures.
        let mut results: serde_json::Value =
            serde_json::from_str(&out.stdout).expect("results JSON");
        results
            .as_object_mut()
            .expect("object")
            .shift_remove("engine")
            .expect("engine");
        outputs.push(serde_json::to_string_pretty(&results).expect("JSON"));
    }
    assert!(
        outputs[0].contains("\"replicas\": 6"),
        "{}",
        &outputs[0][..400]
    );
    assert_eq!(outputs[0], outputs[1], "YAML and JSON results differ");
    assert_eq!(outputs[0], outputs[2], ".yml and JSON results differ");
}

#[test]
fn every_command_takes_a_yaml_file() {
    let s = Scratch::new("yaml-commands");
    let p = s.file("tiny.yaml", SCENARIO);
    let p = p.to_str().expect("UTF-8");
    let out = capsim(["validate", p]).success();
    assert!(out.stdout.contains("ok — scenario `tiny`"), "{out}");
    capsim(["run", p, "--set", "services.app.replicas=3"]).success();
    let out = capsim(["sweep", p, "--name", "sizes", "-q", "--format", "json"]).success();
    assert!(out.stdout.contains("\"name\": \"sizes\""), "{out}");
    let out = capsim([
        "plan",
        p,
        "--vary",
        "services.app.replicas=1..=2",
        "--slo",
        "p99<1s",
        "-q",
    ]);
    assert_eq!(out.code, Some(0), "{out}");
    let with_slo = s.file(
        "slo.yml",
        &format!("{SCENARIO}slo:\n  - {{ name: fast, p99: 1s }}\n"),
    );
    let out = capsim(["check", with_slo.to_str().expect("UTF-8"), "--quiet"]);
    assert_eq!(out.code, Some(0), "{out}");
}

#[test]
fn standard_input_is_json_when_it_starts_with_a_brace_and_yaml_otherwise() {
    let out = capsim_stdin(&["validate", "-"], SCENARIO.as_bytes());
    assert_eq!(out.code, Some(0), "{out}");
    // Leading blank lines and comments still make YAML.
    let commented = format!("\n# a comment\n{SCENARIO}");
    let out = capsim_stdin(&["validate", "-"], commented.as_bytes());
    assert_eq!(out.code, Some(0), "{out}");
    // A YAML error on standard input is located as in a file.
    let out = capsim_stdin(
        &["validate", "-"],
        edit("replicas: 2", "replicas: two").as_bytes(),
    );
    refused(
        &out,
        "<stdin>:9:15: services[0].replicas: invalid type: string \"two\"",
    );
    // `{` first: JSON, and its message is serde_json's.
    let out = capsim_stdin(&["validate", "-"], b"  {\"name\": }");
    refused(&out, "<stdin>:1:12: expected value");
}

#[test]
fn errors_are_located_in_the_yaml_file() {
    let s = Scratch::new("yaml-errors");
    let cases = [
        (
            edit("concurrency: 4", "concurency: 4"),
            "8:5: services[0].concurency: unknown field `concurency`\n  help: did you mean `concurrency`?",
        ),
        (
            edit("replicas: 2", "replicas: two"),
            "9:15: services[0].replicas: invalid type: string \"two\", expected u32",
        ),
        (
            edit("replicas: 2", "replicas: \"12\""),
            "9:15: services[0].replicas: invalid type: string \"12\", expected u32\n  \
             help: write a number: 12 (without quotes)",
        ),
        (
            edit("rps: 50", "rps: -50"),
            "5:47: workloads[0].rate[0].rps: a rate must be a finite number",
        ),
        (
            edit("duration: 10s", "duration: 10 parsecs"),
            "3:11: duration: invalid duration \"10 parsecs\": unknown unit `parsecs`",
        ),
        (
            edit(
                "compute: 5ms",
                "compute: { exponential: { mean: 5ms }, uniform: 1 }",
            ),
            "12:20: services[0].endpoints.get[0].compute: a distribution has exactly one kind",
        ),
        (
            edit("    replicas: 2\n", "    replicas: 2\n   bad: 1\n"),
            "10:4: ",
        ),
        (
            edit("  - name: app\n", "  - name: app\n    name: web\n"),
            "8:5: duplicated key",
        ),
        (edit("duration: 10s", "duration: [10s"), "4:10: "),
        (
            format!("{SCENARIO}---\nname: second\n"),
            "17:1: a second YAML document",
        ),
        (
            "# nothing\n".to_owned(),
            "1:1: the file holds no YAML document",
        ),
        (
            edit(
                "description: a YAML scenario",
                "description: !thing a YAML scenario",
            ),
            "2:14: the tag `!thing` is not part of a scenario",
        ),
    ];
    for (text, expected) in cases {
        let path = s.file("bad.yaml", &text);
        let p = path.to_str().expect("UTF-8");
        let out = capsim(["validate", p]);
        refused(&out, &format!("{p}:{expected}"));
        assert!(out.stdout.is_empty(), "{out}");
    }
}

#[test]
fn yaml_1_1_words_and_numbers_read_as_json_would() {
    let s = Scratch::new("yaml-1-1");
    // `no` is the string "no" (a YAML 1.1 reader makes it false): as a
    // name it is fine, and `--set` finds it by that name.
    let text = edit("name: app", "name: no")
        .replace("target: app", "target: no")
        .replace("services.app.replicas", "services.no.replicas");
    let path = s.file("no.yaml", &text);
    let p = path.to_str().expect("UTF-8");
    capsim(["validate", p, "--set", "services.no.replicas=3"]).success();
    // `010` is ten, not octal eight.
    let path = s.file("octal.yaml", &edit("replicas: 2", "replicas: 010"));
    let out = capsim(["run", path.to_str().expect("UTF-8"), "--format", "json"]).success();
    assert!(out.stdout.contains("\"replicas\": 10"), "{out}");
    // `1h30m` is a duration string, not sexagesimal or anything else.
    let path = s.file("compound.yaml", &edit("duration: 10s", "duration: 1m30s"));
    let out = capsim(["validate", path.to_str().expect("UTF-8")]).success();
    assert!(out.stdout.contains("1.5m simulated"), "{out}");
}
