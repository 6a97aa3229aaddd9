//! `capsim check` and SLO windows: exit codes 0 / 1 / 2, located errors in
//! `slo` sections, windows against closed forms, baselines (an unchanged
//! scenario never regresses, a slower one does, a faster one does not),
//! JUnit XML read back with an XML parser, and byte-identical outputs.

use std::fs;
use std::path::Path;

use models::{CheckReport, CheckStatus, Results, World};
use sim_core::SimDuration;

use crate::cli::{Scratch, capsim};

/// One pod of `c` workers with exponential service of mean 5 ms behind a
/// step profile: 100/s for 10 s, then 1000/s for 10 s, then 100/s for
/// 10 s. `slo` is spliced in as the scenario's `slo` section.
fn step_scenario(c: u32, slo: &str) -> String {
    format!(
        r#"{{
  "name": "step",
  "seed": 3,
  "duration": "30s",
  "workloads": [
    {{
      "name": "users",
      "target": "app",
      "rate": [{{ "for": "10s", "rps": 100 }}, {{ "for": "10s", "rps": 1000 }}, {{ "for": "10s", "rps": 100 }}],
      "mix": {{ "get": 1 }}
    }}
  ],
  "services": [
    {{
      "name": "app",
      "replicas": 1,
      "concurrency": {c},
      "price_per_replica_hour": 0.5,
      "endpoints": {{ "get": [{{ "compute": {{ "exponential": {{ "mean": "5ms" }} }} }}] }}
    }}
  ],
  "slo": {slo}
}}
"#
    )
}

/// Objectives that hold for c = 10: overall p99 (M/M/10 at ρ = 0.5 in
/// the spike has p99 ≈ 24 ms; calm periods ≈ 23 ms), errors, throughput
/// in the spike window, utilisation in the spike window (0.5), cost.
const HOLDING: &str = r#"[
    { "name": "site", "p99": "40ms", "error_rate": "0.1%" },
    { "name": "spike", "window": { "from": "11s", "to": "19s" },
      "endpoint": "get", "min_throughput_rps": 900, "p99": "40ms" },
    { "name": "spike", "window": { "from": "11s", "to": "19s" },
      "service": "app", "max_utilisation": 0.6 },
    { "max_cost_per_hour": 1 }
  ]"#;

fn model(text: &str) -> models::Model {
    models::load("step.json", text, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .1
}

fn window_run(m: &models::Model, seed: u64, from: &str, to: &str) -> Results {
    World::new(m, seed)
        .window(
            SimDuration::parse(from).unwrap(),
            SimDuration::parse(to).unwrap(),
        )
        .run()
        .unwrap()
}

/// The spike window sees the spike: 1000/s for 8 s is 8000 arrivals
/// (Poisson, sd 89: ±5% is 4.5 sd), a throughput of 1000/s, and a busy
/// fraction λE[S]/c = 1000 × 5 ms / 10 = 0.5 (the time average of a
/// binomial-like busy count over 8 s: its sd is below 0.01, the ±0.03
/// tolerance is more than 3 sd). The whole run averages the calm periods
/// in: about 390/s (5000 + 10,000 + ... arrivals over 30 s minus the
/// first second) and a third of the utilisation.
#[test]
fn a_window_sees_only_its_part_of_the_run() {
    let m = model(&step_scenario(10, HOLDING));
    let w = window_run(&m, 3, "11s", "19s");
    let e = &w.endpoints[0];
    assert!((e.count as f64 - 8000.0).abs() < 400.0, "count {}", e.count);
    assert!(
        (e.throughput_rps - 1000.0).abs() < 50.0,
        "{}",
        e.throughput_rps
    );
    assert!((w.scenario.measured_s - 8.0).abs() < 1e-9);
    let u = w.services[0].utilisation;
    assert!((u - 0.5).abs() < 0.03, "utilisation {u}");
    let whole = models::simulate(&m).unwrap();
    assert!(whole.endpoints[0].throughput_rps < 500.0);
    assert!(whole.services[0].utilisation < 0.3);
    // Every request of the window was followed to its answer.
    assert_eq!(e.in_flight, 0);
    assert_eq!(e.ok + e.timeouts + e.rejected, e.count);
}

/// Requests that arrive in the window are measured even when they finish
/// after it: with a constant 2 s service and a window of [5s, 6s), every
/// one of them ends after the window closes. A run cut at the window's end
/// would see none answered.
#[test]
fn a_window_follows_its_requests_past_its_end() {
    let text =
        step_scenario(2100, "[]").replace(r#"{ "exponential": { "mean": "5ms" } }"#, r#""2s""#);
    let m = model(&text);
    let w = window_run(&m, m.seed, "5s", "6s");
    let e = &w.endpoints[0];
    assert!(e.count > 50, "{}", e.count);
    assert_eq!(e.ok, e.count);
    assert!(
        (e.latency.p50_ms - 2000.0).abs() < 1.0,
        "{}",
        e.latency.p50_ms
    );
    // The same arrivals as the whole run's: its offered-load series
    // (250 ms buckets) counts as many from 5s to 6s.
    let whole = models::simulate(&m).unwrap();
    let ts = &whole.time_series;
    assert_eq!(ts.interval_s, 0.25);
    let offered: f64 = ts.workloads[0].offered_rps[20..24].iter().sum::<f64>() * 0.25;
    assert_eq!(offered.round() as u64, e.count);
    // A run that measures from 5s and stops at 6s answers none of them.
    let cut = models::load(
        "step.json",
        &text,
        &["warmup=\"5s\"".into(), "duration=\"6s\"".into()],
    )
    .unwrap()
    .1;
    let c = models::simulate(&cut).unwrap();
    assert!(c.endpoints[0].count > 50);
    assert_eq!(c.endpoints[0].ok, 0);
}

#[test]
fn windows_are_deterministic() {
    let m = model(&step_scenario(10, HOLDING));
    let a = window_run(&m, 9, "11s", "19s").without_engine();
    let b = window_run(&m, 9, "11s", "19s").without_engine();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

fn read_check(path: &Path) -> CheckReport {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Test cases of a JUnit file: (suite, name, failure message if any).
fn junit_cases(path: &Path) -> Vec<(String, String, Option<String>)> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}\n{text}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let mut out = Vec::new();
    let mut total = 0;
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let name = suite.attribute("name").unwrap().to_string();
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(
            suite.attribute("tests"),
            Some(cases.len().to_string().as_str())
        );
        let failed = cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count();
        assert_eq!(
            suite.attribute("failures"),
            Some(failed.to_string().as_str())
        );
        total += cases.len();
        for c in cases {
            assert_eq!(
                c.attribute("classname"),
                Some(format!("capsim.{name}").as_str())
            );
            let failure = c
                .children()
                .find(|n| n.has_tag_name("failure"))
                .map(|f| f.attribute("message").unwrap().to_string());
            out.push((
                name.clone(),
                c.attribute("name").unwrap().to_string(),
                failure,
            ));
        }
    }
    assert_eq!(root.attribute("tests"), Some(total.to_string().as_str()));
    out
}

/// `capsim check F -q` with `extra` arguments, its JUnit report and its
/// `--out` in `s` (`junit.xml`, `out/`): the outcome and the JUnit path.
fn check_to(s: &Scratch, f: &Path, extra: &[&str]) -> (crate::cli::Outcome, std::path::PathBuf) {
    let junit = s.dir.join("junit.xml");
    let mut args: Vec<std::ffi::OsString> = vec![
        "check".into(),
        f.into(),
        "--junit".into(),
        junit.clone().into(),
        "--out".into(),
        s.dir.join("out").into(),
        "-q".into(),
    ];
    args.extend(extra.iter().map(Into::into));
    (capsim(args), junit)
}

#[test]
fn holding_objectives_pass_with_exit_0_and_junit_cases() {
    let s = Scratch::new("check-pass");
    let f = s.file("step.json", &step_scenario(10, HOLDING));
    let (out, junit) = check_to(&s, &f, &[]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("check passed"), "{out}");
    // One case per limit: p99, error_rate, throughput, p99, utilisation, cost.
    let cases = junit_cases(&junit);
    assert_eq!(cases.len(), 6, "{cases:?}");
    // Margins on fractions are in percentage points, not percent.
    let xml = fs::read_to_string(&junit).expect("junit");
    assert!(
        xml.contains("(limit 0.1%, margin +0.1 pp;") && !xml.contains("margin +0.1%"),
        "{xml}"
    );
    assert!(
        cases.iter().all(|c| c.0 == "step" && c.2.is_none()),
        "{cases:?}"
    );
    assert!(
        cases
            .iter()
            .any(|c| c.1 == "spike: endpoint get p99 < 40ms over 11s–19s"),
        "{cases:?}"
    );
    let c = read_check(&s.dir.join("out/check.json"));
    assert!(c.passed);
    let sc = &c.scenarios[0];
    assert_eq!(sc.report_dir.as_deref(), Some("step"));
    assert!(s.dir.join("out/step/index.html").exists());
    assert!(s.dir.join("out/step/results.json").exists());
    assert!(s.dir.join("out/index.html").exists());
    // The windowed and the whole-run p99 come from different runs.
    let thr = sc
        .objectives
        .iter()
        .find(|o| o.objective.id == "endpoint.get.throughput_rps@11s..19s")
        .expect("the spike's throughput objective");
    assert!(
        (thr.estimate.mean - 1000.0).abs() < 50.0,
        "{:?}",
        thr.estimate
    );
}

#[test]
fn a_failing_objective_exits_1_and_says_why() {
    let s = Scratch::new("check-fail");
    // The spike's p99 is about 23 ms (exponential service of mean 5 ms
    // has p99 = 5 ms × ln 100 = 23 ms, and ρ = 0.5 adds little): a 10 ms
    // limit fails.
    let slo = HOLDING.replace(
        r#""min_throughput_rps": 900, "p99": "40ms""#,
        r#""min_throughput_rps": 900, "p99": "10ms""#,
    );
    let f = s.file("step.json", &step_scenario(10, &slo));
    let junit = s.dir.join("junit.xml");
    let out = capsim([
        "check".as_ref(),
        f.as_os_str(),
        "--junit".as_ref(),
        junit.as_os_str(),
        "-q".as_ref(),
    ]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains("check FAILED"), "{out}");
    assert!(
        out.stdout
            .contains("FAILED step: spike: endpoint get p99 over 11s–19s is"),
        "{out}"
    );
    let cases = junit_cases(&junit);
    let failed: Vec<_> = cases.iter().filter(|c| c.2.is_some()).collect();
    assert!(!failed.is_empty(), "{cases:?}");
    assert!(
        failed
            .iter()
            .any(|c| c.1.contains("p99") && c.2.as_ref().unwrap().contains("(limit 10ms)")),
        "{failed:?}"
    );
    // The cost objective still passes.
    assert!(
        cases
            .iter()
            .any(|c| c.1.starts_with("cost") && c.2.is_none()),
        "{cases:?}"
    );
}

#[test]
fn replications_give_intervals_and_marginal_objectives() {
    let s = Scratch::new("check-reps");
    // p99 of the whole run is about 23 ms: a limit of 23.2ms straddles.
    let slo = r#"[{ "p99": "23.2ms" }, { "p90": "60ms" }]"#;
    let f = s.file("step.json", &step_scenario(10, slo));
    let out_dir = s.dir.join("out");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check".to_string(),
            f.display().to_string(),
            "-r".into(),
            "5".into(),
            "-q".into(),
            "--out".into(),
            out_dir.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        capsim(args)
    };
    let out = run(&[]);
    let c = read_check(&out_dir.join("check.json"));
    let tight = &c.scenarios[0].objectives[0];
    assert_eq!(tight.values.len(), 5);
    let ci = tight
        .estimate
        .ci95
        .expect("five replications give an interval");
    assert!(ci > 0.0);
    let loose = &c.scenarios[0].objectives[1];
    assert_eq!(loose.status, CheckStatus::Pass, "{out}");
    if tight.status == CheckStatus::Marginal {
        assert_eq!(out.code, Some(0), "{out}");
        assert!(out.stdout.contains("marginal"), "{out}");
        let strict = run(&["--strict"]);
        assert_eq!(strict.code, Some(1), "{strict}");
        assert!(strict.stdout.contains("MARGINAL (strict)"), "{strict}");
    } else {
        // Not expected with this seed; the limit sits within the interval.
        panic!(
            "expected a marginal objective, got {:?}: {out}",
            tight.estimate
        );
    }
}

#[test]
fn baselines_catch_regressions_and_only_regressions() {
    let s = Scratch::new("check-baseline");
    let slo = r#"[{ "p99": "500ms" }, { "endpoint": "get", "mean": "500ms" }]"#;
    let base_file = s.file("step.json", &step_scenario(10, slo));
    let base_dir = s.dir.join("base");
    let args = |file: &Path, extra: &[&str]| {
        let mut a = vec![
            "check".to_string(),
            file.display().to_string(),
            "-q".into(),
            "-r".into(),
            "3".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let first = capsim(args(&base_file, &["--out", base_dir.to_str().unwrap()]));
    assert_eq!(first.code, Some(0), "{first}");
    let baseline = base_dir.join("check.json");
    let b = baseline.to_str().unwrap();

    // Unchanged: paired differences are exactly zero.
    let same = capsim(args(&base_file, &["--baseline", b, "--format", "json"]));
    assert_eq!(same.code, Some(0), "{same}");
    let c: CheckReport = serde_json::from_str(&same.stdout).unwrap();
    for o in &c.scenarios[0].objectives {
        let cmp = o.baseline.as_ref().expect("compared");
        assert!(
            cmp.paired && cmp.worse_by.mean == 0.0 && !cmp.regression,
            "{cmp:?}"
        );
    }

    // Six workers instead of ten: the spike runs at ρ = 0.83, p99 and mean
    // latency rise far beyond 5%, but stay below the 500 ms limits.
    let slower = s.file("slower.json", &step_scenario(6, slo));
    let junit = s.dir.join("junit.xml");
    let reg = capsim(args(
        &slower,
        &["--baseline", b, "--junit", junit.to_str().unwrap()],
    ));
    assert_eq!(reg.code, Some(1), "{reg}");
    assert!(reg.stdout.contains("REGRESSED"), "{reg}");
    assert!(reg.stdout.contains("regresses from"), "{reg}");
    let cases = junit_cases(&junit);
    assert!(
        cases
            .iter()
            .all(|c| c.2.as_ref().is_some_and(|m| m.contains("regresses from"))),
        "{cases:?}"
    );

    // Sixteen workers: better, not a regression.
    let faster = s.file("faster.json", &step_scenario(16, slo));
    let ok = capsim(args(&faster, &["--baseline", b]));
    assert_eq!(ok.code, Some(0), "{ok}");
    assert!(ok.stdout.contains("0 regressed"), "{ok}");

    // A generous tolerance lets the slower one through.
    let tolerant = capsim(args(&slower, &["--baseline", b, "--tolerance", "500%"]));
    assert_eq!(tolerant.code, Some(0), "{tolerant}");
}

#[test]
fn same_seed_same_bytes() {
    let s = Scratch::new("check-bytes");
    let f = s.file("step.json", &step_scenario(10, HOLDING));
    let run = |n: &str| {
        let dir = s.dir.join(n);
        let junit = s.dir.join(format!("{n}.xml"));
        let out = capsim([
            "check".as_ref(),
            f.as_os_str(),
            "-r".as_ref(),
            "2".as_ref(),
            "-q".as_ref(),
            "--out".as_ref(),
            dir.as_os_str(),
            "--junit".as_ref(),
            junit.as_os_str(),
        ]);
        assert_eq!(out.code, Some(0), "{out}");
        (
            fs::read(dir.join("check.json")).unwrap(),
            fs::read(junit).unwrap(),
            out.stdout,
        )
    };
    let (a, b) = (run("a"), run("b"));
    assert!(a.0 == b.0, "check.json differs between two runs");
    assert!(a.1 == b.1, "JUnit differs between two runs");
    assert_eq!(a.2.replace("/a/", "/b/"), b.2.replace("/a/", "/b/"));
}

/// A bad `slo` entry (as text replacing `HOLDING`), the located field and
/// a needle of the message.
fn bad_slos() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (r#"[{ "p98": "40ms" }]"#, "slo[0]", "unknown field"),
        (
            r#"[{ "endpoint": "gte", "p99": "40ms" }]"#,
            "slo[0].endpoint",
            "did you mean `get`",
        ),
        (
            r#"[{ "service": "ap", "max_utilisation": 0.5 }]"#,
            "slo[0].service",
            "did you mean `app`",
        ),
        (
            r#"[{ "endpoint": "get", "min_hit_ratio": 0.5 }]"#,
            "slo[0].min_hit_ratio",
            "a limit on a cache",
        ),
        (
            r#"[{ "window": { "from": "10s", "to": "40s" }, "p99": "1s" }]"#,
            "slo[0].window.to",
            "the run lasts 30s",
        ),
        (
            r#"[{ "window": { "from": "10s", "to": "5s" }, "p99": "1s" }]"#,
            "slo[0].window.to",
            "must end after it starts",
        ),
        (r#"[{ "name": "nothing" }]"#, "slo[0]", "sets no limit"),
        (
            r#"[{ "error_rate": "lots" }]"#,
            "slo[0].error_rate",
            "not a fraction",
        ),
        (r#"[{ "error_rate": 2 }]"#, "slo[0].error_rate", "at most 1"),
        (r#"[{ "p99": "-3ms" }]"#, "slo[0].p99", ""),
        (
            r#"[{ "endpoint": "get", "service": "app", "p99": "1s" }]"#,
            "slo[0].service",
            "one target",
        ),
    ]
}

#[test]
fn bad_slo_sections_exit_2_with_located_messages_and_no_output() {
    let s = Scratch::new("check-bad");
    for (i, (slo, field, needle)) in bad_slos().into_iter().enumerate() {
        let text = step_scenario(10, slo);
        let f = s.file(&format!("bad{i}.json"), &text);
        let junit = s.dir.join(format!("bad{i}.xml"));
        let out = capsim([
            "check".as_ref(),
            f.as_os_str(),
            "--junit".as_ref(),
            junit.as_os_str(),
            "--out".as_ref(),
            s.dir.join(format!("out{i}")).as_os_str(),
        ]);
        assert_eq!(out.code, Some(2), "{slo}: {out}");
        let name = f.display().to_string();
        assert!(
            out.stderr.contains(&format!("{name}:")),
            "{slo}: no file in {out}"
        );
        assert!(out.stderr.contains(field), "{slo}: no `{field}` in {out}");
        assert!(out.stderr.contains(needle), "{slo}: no `{needle}` in {out}");
        // A line:column follows the file name.
        let after = &out.stderr[out.stderr.find(&name).unwrap() + name.len()..];
        assert!(
            after.starts_with(':') && after[1..].chars().next().unwrap().is_ascii_digit(),
            "{slo}: no line:column in {out}"
        );
        assert!(
            !junit.exists() && !s.dir.join(format!("out{i}")).exists(),
            "{slo}: output written"
        );
        // `validate` reports the same.
        let v = capsim(["validate".as_ref(), f.as_os_str()]);
        assert_eq!(v.code, Some(2), "{v}");
    }
}

#[test]
fn other_bad_input_exits_2() {
    let s = Scratch::new("check-bad-args");
    let good = s.file("step.json", &step_scenario(10, HOLDING));
    let no_slo = s.file("noslo.json", &step_scenario(10, "[]"));
    let results = s.file("results.json", r#"{"totals": {}, "time_series": {}}"#);
    let not_json = s.file("garbage.json", "{ nope");
    for (args, needle) in [
        (vec![no_slo.to_str().unwrap()], "no `slo` section"),
        (
            vec![
                good.to_str().unwrap(),
                "--baseline",
                results.to_str().unwrap(),
            ],
            "results.json of `capsim run`",
        ),
        (
            vec![
                good.to_str().unwrap(),
                "--baseline",
                not_json.to_str().unwrap(),
            ],
            "not JSON",
        ),
        (
            vec![
                good.to_str().unwrap(),
                "--baseline",
                "/nonexistent/check.json",
            ],
            "cannot read",
        ),
        (
            vec![good.to_str().unwrap(), "--tolerance", "lots"],
            "--tolerance lots",
        ),
        (vec![good.to_str().unwrap(), "-r", "0"], "at least 1"),
        (
            vec![good.to_str().unwrap(), good.to_str().unwrap()],
            "names must differ",
        ),
    ] {
        let mut a = vec!["check"];
        a.extend(args);
        let out = capsim(&a);
        assert_eq!(out.code, Some(2), "{out}");
        assert!(out.stderr.contains(needle), "no `{needle}` in {out}");
    }
}

#[test]
fn duplicate_objectives_and_bare_tolerances_are_refused() {
    let s = Scratch::new("check-dup");
    let f = s.file(
        "dup.json",
        &step_scenario(
            10,
            r#"[{ "p99": "40ms" }, { "name": "again", "p99": "50ms" }]"#,
        ),
    );
    let out = capsim(["check".as_ref(), f.as_os_str()]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr
            .contains("slo[1].p99: another entry already limits `p99_ms`"),
        "{out}"
    );
    let g = s.file("ok.json", &step_scenario(10, HOLDING));
    let out = capsim([
        "check".as_ref(),
        g.as_os_str(),
        "--tolerance".as_ref(),
        "5".as_ref(),
    ]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("write 5%"), "{out}");
}

/// `capsim run` judges the scenario's objectives on its one run, as a
/// load-testing tool judges its thresholds: every objective of the file,
/// in file order, with exactly the figure `capsim check` measures in its
/// first replication (same seed, same window runs), and the verdict of
/// that figure against the limit. With c = 4 and a bounded queue the
/// spike (1000/s of 5 ms on 4 workers, ρ = 1.25) saturates the pod: its
/// windowed utilisation is about 1 and its throughput at most 800/s, so
/// those fail where c = 10 holds them; the cost holds either way.
#[test]
fn run_judges_the_scenarios_objectives_as_check_does() {
    let s = Scratch::new("run-objectives");
    for c in [10, 4] {
        let text = step_scenario(c, HOLDING).replace(
            "\"concurrency\": 4,",
            "\"concurrency\": 4, \"queue_capacity\": 20,",
        );
        let f = s.file(&format!("step{c}.json"), &text);
        let run = capsim([
            "run".as_ref(),
            f.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ])
        .success();
        let r = run.results();
        let out = s.dir.join(format!("check{c}"));
        capsim([
            "check".as_ref(),
            f.as_os_str(),
            "--replications".as_ref(),
            "1".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
            "-q".as_ref(),
        ]);
        let check = read_check(&out.join("check.json"));
        let checked = &check.scenarios[0].objectives;
        assert_eq!(r.objectives.len(), checked.len());
        for (o, k) in r.objectives.iter().zip(checked) {
            assert_eq!(o.objective.id, k.objective.id);
            let v = o.value.expect("measured");
            assert_eq!(
                v, k.values[0],
                "{}: run and check measure alike",
                o.objective.id
            );
            let holds = match o.objective.slo.op {
                models::Op::Below => v < o.objective.slo.limit,
                models::Op::Above => v > o.objective.slo.limit,
            };
            let want = if holds {
                models::RunVerdict::Holds
            } else {
                models::RunVerdict::Fails
            };
            assert_eq!(o.verdict, want, "{}: {v}", o.objective.id);
        }
        let verdict = |id: &str| {
            r.objectives
                .iter()
                .find(|o| o.objective.id == id)
                .unwrap_or_else(|| panic!("{id}"))
                .verdict
        };
        let expect = if c == 10 {
            models::RunVerdict::Holds
        } else {
            models::RunVerdict::Fails
        };
        assert_eq!(verdict("service.app.utilisation@11s..19s"), expect);
        assert_eq!(verdict("endpoint.get.throughput_rps@11s..19s"), expect);
        assert_eq!(verdict("cost.per_hour"), models::RunVerdict::Holds);
        // The table says it too, one mark per objective.
        let table = capsim(["run".as_ref(), f.as_os_str()]).success().stdout;
        let marks = table.matches("✓ holds").count() + table.matches("✗ FAILS").count();
        assert_eq!(marks, r.objectives.len(), "{table}");
        assert_eq!(table.contains("✗ FAILS"), c == 4, "c = {c}: {table}");
        assert!(
            table.contains("Objectives (the scenario's `slo`"),
            "{table}"
        );
    }
    // Without an `slo` section the document has no `objectives` field.
    let f = s.file("none.json", &step_scenario(10, "[]"));
    let out = capsim([
        "run".as_ref(),
        f.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .success();
    assert!(!out.stdout.contains("\"objectives\""), "{out}");
}

/// A run shortened by `--set duration` below an objective's window
/// reports that objective as not measured, with a warning, and judges
/// the others; `sweep` runs and warns; `check` and `plan` refuse (exit 2)
/// naming the objective and the `--set`; the same window past a duration
/// written in the file stays a located error.
#[test]
fn a_shortened_run_reports_a_window_it_cannot_see_as_not_measured() {
    let s = Scratch::new("not-measured");
    let f = s.file("step.json", &step_scenario(10, HOLDING));
    let short = "duration=15s";
    let run = capsim([
        "run".as_ref(),
        f.as_os_str(),
        "--set".as_ref(),
        short.as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .success();
    let r = run.results();
    let unmeasured: Vec<&str> = r
        .objectives
        .iter()
        .filter(|o| o.verdict == models::RunVerdict::NotMeasured)
        .map(|o| o.objective.id.as_str())
        .collect();
    assert_eq!(
        unmeasured,
        [
            "endpoint.get.p99_ms@11s..19s",
            "endpoint.get.throughput_rps@11s..19s",
            "service.app.utilisation@11s..19s"
        ]
    );
    for o in r
        .objectives
        .iter()
        .filter(|o| o.verdict == models::RunVerdict::NotMeasured)
    {
        assert_eq!(o.value, None);
        let why = o.reason.as_deref().unwrap_or_default();
        assert!(
            why.contains("the window ends at 19s but the run lasts 15s (--set duration=15s)"),
            "{why}"
        );
    }
    assert_eq!(r.objectives.len(), 6);
    assert_eq!(
        r.warnings
            .iter()
            .filter(|w| w.contains("not measured"))
            .count(),
        3,
        "{:?}",
        r.warnings
    );
    let table = capsim([
        "run".as_ref(),
        f.as_os_str(),
        "--set".as_ref(),
        short.as_ref(),
    ])
    .success()
    .stdout;
    assert!(table.contains("3 of 6 hold, 3 not measured"), "{table}");

    let sweep = capsim([
        "sweep".as_ref(),
        f.as_os_str(),
        "--set".as_ref(),
        short.as_ref(),
        "--vary".as_ref(),
        "services.app.concurrency=8,10".as_ref(),
        "--replications".as_ref(),
        "2".as_ref(),
    ])
    .success();
    assert!(
        sweep.stderr.contains("warning: objective `spike: endpoint get p99 < 40ms over 11s–19s` not measured: the window ends at 19s but the run lasts 15s (--set duration=15s)"),
        "{sweep}"
    );
    for cmd in [
        vec!["check", "-q"],
        vec!["plan", "--vary", "services.app.concurrency=8,10", "-q"],
    ] {
        let mut args: Vec<std::ffi::OsString> = vec![cmd[0].into(), f.clone().into()];
        args.extend(["--set".into(), short.into()]);
        args.extend(cmd[1..].iter().map(Into::into));
        let out = capsim(args);
        assert_eq!(out.code, Some(2), "{out}");
        assert!(
            out.stderr.contains("cannot be measured: the window ends at 19s but the run lasts 15s (--set duration=15s)")
                && out.stderr.contains(&format!("`capsim {}` judges every objective", cmd[0])),
            "{out}"
        );
    }
    let v = capsim([
        "validate".as_ref(),
        f.as_os_str(),
        "--set".as_ref(),
        short.as_ref(),
    ])
    .success();
    assert_eq!(
        v.stdout
            .matches("not measured: the window ends at 19s")
            .count(),
        3,
        "{v}"
    );
    // Written in the file, the same duration is an error at the window.
    let g = s.file(
        "short.json",
        &step_scenario(10, HOLDING).replace("\"duration\": \"30s\"", "\"duration\": \"15s\""),
    );
    let out = capsim(["run".as_ref(), g.as_os_str()]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains("slo[1].window.to")
            && out
                .stderr
                .contains("the window ends at 19s but the run lasts 15s"),
        "{out}"
    );
}

/// The step scenario with objectives `slo` and two endpoints under a
/// 100 ms timeout: `get` (2 s of work: every request times out, no ok
/// response) and `fast` (1 ms).
fn unanswered(slo: &str) -> String {
    step_scenario(100_000, slo)
        .replace(
            r#""mix": { "get": 1 }"#,
            r#""mix": { "get": 1, "fast": 1 }, "timeout": "100ms""#,
        )
        .replace(
            r#""endpoints": { "get": [{ "compute": { "exponential": { "mean": "5ms" } } }] }"#,
            r#""endpoints": { "get": [{ "compute": { "constant": "2s" } }],
                              "fast": [{ "compute": { "constant": "1ms" } }] }"#,
        )
}

/// A latency over no samples reads 0 ms: an objective on it says nothing,
/// so a run reports it as not measured instead of holding. Every request
/// of the step scenario times out when the work takes 2 s against a
/// 100 ms timeout (workers to spare: nothing waits for one): the p99
/// objective is not measured (it held before, at
/// 0 ms), the error-rate objective fails, and a p99 objective that does
/// have ok responses (a second, fast endpoint) is still judged.
#[test]
fn a_latency_without_ok_responses_is_not_measured() {
    let text = unanswered(
        r#"[{ "endpoint": "get", "p99": "40ms" },
                                      { "endpoint": "get", "error_rate": "1%" },
                                      { "endpoint": "fast", "p99": "40ms" }]"#,
    );
    let r = models::simulate_judged(&model(&text)).expect("runs");
    let verdicts: Vec<(&str, models::RunVerdict)> = r
        .objectives
        .iter()
        .map(|o| (o.objective.id.as_str(), o.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("endpoint.get.p99_ms", models::RunVerdict::NotMeasured),
            ("endpoint.get.error_rate", models::RunVerdict::Fails),
            ("endpoint.fast.p99_ms", models::RunVerdict::Holds),
        ]
    );
    let why = r.objectives[0].reason.as_deref().unwrap_or_default();
    assert_eq!(why, "the run has no ok response to measure it on");
    assert!(
        r.warnings.iter().any(|w| w.contains("no ok response")),
        "{:?}",
        r.warnings
    );
}

/// `check` fails a latency objective that no response measured, where it
/// held at 0 ms before: every `get` times out after 100 ms (2 s of work),
/// so its p99 cannot be judged and the check exits 1, saying why in the
/// terminal, the JUnit report and `check.json`; the `fast` endpoint's
/// objective, which has responses, still passes.
#[test]
fn check_fails_a_latency_objective_without_samples() {
    let s = Scratch::new("check-unmeasured");
    let text = unanswered(
        r#"[{ "endpoint": "get", "p99": "40ms" }, { "endpoint": "fast", "p99": "40ms" }]"#,
    );
    let f = s.file("step.json", &text);
    let (out, junit) = check_to(&s, &f, &["--replications", "2"]);
    let out_dir = s.dir.join("out");
    assert_eq!(out.code, Some(1), "{out}");
    let why = "the run has no ok response to measure it on (the runs with seeds 3, 4)";
    assert!(
        out.stdout
            .contains(&format!("endpoint get p99 cannot be judged: {why}")),
        "{out}"
    );
    let report = read_check(&out_dir.join("check.json"));
    let o = &report.scenarios[0].objectives;
    assert_eq!(o[0].status, CheckStatus::Fail);
    assert!(o[0].failed);
    assert_eq!(o[0].reason.as_deref(), Some(why));
    assert_eq!(o[1].status, CheckStatus::Pass);
    assert_eq!(o[1].reason, None);
    let cases = junit_cases(&junit);
    let failed: Vec<_> = cases.iter().filter(|c| c.2.is_some()).collect();
    assert_eq!(failed.len(), 1, "{cases:?}");
    assert!(
        failed[0].2.as_deref().unwrap_or_default().contains(why),
        "{failed:?}"
    );
}
