//! `capsim plan` on an M/M/c station whose answer is known from Erlang C:
//! the smallest concurrency whose p99 sojourn is below the target, found
//! by bisection and by the exhaustive search alike; unstable variants are
//! never chosen; exit codes 0 / 1 / 2; `plan.json`.
//!
//! The scenario is [`STATION`](crate::sweep::STATION): λ = 1000/s,
//! exponential service of mean 10 ms (μ = 100/s, a = 10 erlangs), one pod
//! of c workers with an unbounded queue. Every variant costs the same
//! (concurrency is not priced), so the documented tie-break — equal costs
//! in grid order, smaller values first — makes the cheapest passing
//! variant the smallest passing c.

use std::fs;
use std::path::{Path, PathBuf};

use capsim::plan::{PlanOptions, PlanResult, Status, plan, slo};
use capsim::sweep::SweepSetup;
use capsim::sweep::spec::parse_vary;
use indicatif::ProgressBar;
use serde_json::{Value, json};
use sim_core::theory::mmc_sojourn_quantile;

use crate::cli::{Scratch, capsim};
use crate::sweep::{CONCURRENCY, arg, station};

/// Arrival rate, per ms.
const LAMBDA: f64 = 1.0;
/// Service rate, per ms (mean 10 ms).
const MU: f64 = 0.1;
/// The objective, ms.
const TARGET_MS: f64 = 54.0;
/// The objective as written.
const SLO: &str = "p99<54ms";
/// Seed of replication 0.
const SEED: u64 = 1;

/// 200 s runs with a 5 s warm-up: about 195,000 measured customers.
///
/// Why the answer cannot flip: Erlang C gives p99 = 62.68 ms at c = 11,
/// 49.74 ms at c = 12 and 47.39 ms at c = 13 (see [`erlang_c_answer`]).
/// At this length the per-replication p99 has a standard deviation of
/// about 2.9 ms at c = 11 (rho = 0.91, long busy periods) and 0.34 ms at
/// c = 12 (measured over 10 seeds), so the 95% half-width after the first
/// 3 replications (t = 4.30) is about 7.2 ms and 0.83 ms. The target
/// 54 ms is 4.3 ms (5 half-widths, 12 sd) above c = 12's p99: c = 12
/// holds at once. It is 8.7 ms below c = 11's: c = 11 fails, or at worst
/// stays unsure, which the planner also rejects — for c = 11 to be chosen
/// its whole interval would have to fall below 54 ms, 3 sd of the mean of
/// 3 below theory even before adding the interval.
fn sets() -> Vec<String> {
    vec![r#"duration="200s""#.into(), r#"warmup="5s""#.into()]
}

/// The p99 sojourn of M/M/c at this load, ms.
fn p99(c: u32) -> f64 {
    mmc_sojourn_quantile(LAMBDA, MU, c, 0.99)
}

/// The smallest stable c whose Erlang-C p99 meets the target, after
/// checking that the target sits well inside the gap.
fn erlang_c_answer() -> u32 {
    let a = LAMBDA / MU;
    let c_star = (1..100)
        .find(|&c| f64::from(c) > a && p99(c) < TARGET_MS)
        .expect("some c meets the target");
    assert_eq!(
        c_star,
        12,
        "p99 by c: {:?}",
        (11..14).map(p99).collect::<Vec<_>>()
    );
    assert!(p99(c_star - 1) - TARGET_MS > 8.0, "{}", p99(c_star - 1));
    assert!(TARGET_MS - p99(c_star) > 4.0, "{}", p99(c_star));
    c_star
}

/// Plans over `--vary vary` in-process.
fn plan_grid(name: &str, vary: &str, exhaustive: bool) -> PlanResult {
    let s = Scratch::new(name);
    let setup = SweepSetup::new(
        &station(&s),
        sets(),
        vec![parse_vary(vary).unwrap()],
        None,
        Some(SEED),
        None,
    )
    .unwrap();
    let opt = PlanOptions {
        min_replications: 3,
        max_replications: 10,
        batch: 2,
        search: Vec::new(),
        exhaustive,
        threads: 0,
    };
    plan(
        &setup,
        &[slo::parse(SLO).unwrap()],
        &opt,
        &ProgressBar::hidden(),
    )
    .unwrap()
}

/// The concurrency of a variant's parameters.
fn concurrency(params: &indexmap::IndexMap<String, Value>) -> u64 {
    params[CONCURRENCY].as_u64().expect("a whole number")
}

/// Asserts the chosen variant is c*, and that c* - 1 was evaluated and
/// rejected (so c* is the smallest passing value the planner saw).
fn assert_chose(p: &PlanResult, c_star: u32) {
    let chosen = p.chosen.as_ref().expect("a variant meets the objective");
    assert_eq!(concurrency(&chosen.params), u64::from(c_star), "{p:#?}");
    assert_eq!(chosen.status, Status::Meets);
    // Its p99 agrees with Erlang C: the mean of 3 has sd ~0.2 ms (0.4%),
    // the histogram adds 0.1%; 3% is over 6 sd.
    let got = chosen.p99_ms.mean;
    assert!(
        (got / p99(c_star) - 1.0).abs() < 0.03,
        "{got} vs {}",
        p99(c_star)
    );
    let below = p
        .evaluated
        .iter()
        .find(|e| concurrency(&e.params) == u64::from(c_star - 1))
        .unwrap_or_else(|| panic!("c = {} was not evaluated: {p:#?}", c_star - 1));
    assert_ne!(below.status, Status::Meets, "{below:#?}");
    // Every variant is free: the tie-break of grid order decided.
    assert!(p.evaluated.iter().all(|e| e.cost_per_hour == 0.0));
}

#[test]
fn plan_picks_the_smallest_concurrency_erlang_c_allows() {
    let c_star = erlang_c_answer();
    let p = plan_grid(
        "plan-bisection",
        "services.station.concurrency=8..=20",
        false,
    );
    assert_chose(&p, c_star);
    assert_eq!(p.search.as_deref(), Some(CONCURRENCY));
    assert_eq!(p.grid_size, 13);
    assert!(
        p.evaluated.len() < p.grid_size,
        "bisection evaluated {} of {}",
        p.evaluated.len(),
        p.grid_size
    );
    assert_eq!(
        p.runs,
        p.evaluated
            .iter()
            .map(|e| e.replications as usize)
            .sum::<usize>()
    );
}

#[test]
fn exhaustive_search_agrees_and_lists_unstable_variants() {
    let c_star = erlang_c_answer();
    let p = plan_grid(
        "plan-exhaustive",
        "services.station.concurrency=8..=20",
        true,
    );
    assert_chose(&p, c_star);
    assert_eq!(p.search, None);
    // c = 8, 9, 10 cannot serve a = 10 erlangs with an unbounded queue.
    let unstable: Vec<u64> = p.unstable.iter().map(|u| concurrency(&u.params)).collect();
    assert_eq!(unstable, [8, 9, 10]);
    assert!(p.unstable.iter().all(|u| u.reason.contains("unstable")));
    assert_eq!(p.evaluated.len(), 10, "every stable variant");
    for e in &p.evaluated {
        let c = concurrency(&e.params);
        assert!(c > 10, "an unstable variant was run: {e:#?}");
        // Monotone: every c above c* also meets the target.
        assert_eq!(e.status == Status::Meets, c >= u64::from(c_star), "{e:#?}");
    }
}

#[test]
fn bisection_steps_over_unstable_midpoints() {
    // 2..=14 puts unstable values (c <= 10) at the first midpoints.
    let c_star = erlang_c_answer();
    let p = plan_grid(
        "plan-unstable",
        "services.station.concurrency=2..=14",
        false,
    );
    assert_chose(&p, c_star);
    assert!(!p.unstable.is_empty(), "{p:#?}");
    for u in &p.unstable {
        assert!(concurrency(&u.params) <= 10, "{u:#?}");
    }
    assert!(p.evaluated.iter().all(|e| concurrency(&e.params) > 10));
}

/// `capsim plan` on the station with `extra` arguments.
fn plan_cli(scenario: &Path, vary: &str, extra: &[&str]) -> crate::cli::Outcome {
    let mut a = vec![
        "plan".to_string(),
        arg(scenario),
        "--vary".into(),
        vary.into(),
        "--seed".into(),
        SEED.to_string(),
        "-q".into(),
    ];
    for s in sets() {
        a.extend(["--set".into(), s]);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    capsim(a)
}

#[test]
fn plan_json_and_out_hold_the_choice_the_frontier_and_every_evaluation() {
    let c_star = erlang_c_answer();
    let s = Scratch::new("plan-json");
    let sc = station(&s);
    let out = s.dir.join("out");
    let o = plan_cli(
        &sc,
        "services.station.concurrency=8..=20",
        &["--slo", SLO, "--format", "json", "--out", &arg(&out)],
    )
    .success();
    let file = fs::read_to_string(out.join("plan.json")).expect("plan.json written");
    // --out also writes the plan's report.
    for f in ["index.html", "plan-cost-p99.svg"] {
        assert!(out.join(f).is_file(), "{f} missing from --out");
    }
    assert_eq!(o.stdout, file, "stdout and plan.json differ");
    let doc: Value = serde_json::from_str(&file).unwrap_or_else(|e| panic!("{e}: {o}"));
    assert_eq!(doc["chosen"]["params"][CONCURRENCY], json!(c_star));
    assert_eq!(doc["chosen"]["status"], "meets");
    let evaluated = doc["evaluated"].as_array().expect("evaluated");
    assert!(!evaluated.is_empty() && evaluated.len() < 13);
    assert!(evaluated.contains(&doc["chosen"]));
    let frontier = doc["frontier"].as_array().expect("frontier");
    // The lowest p99 among the cheapest variants is never dominated.
    let cost = |e: &Value| e["cost_per_hour"].as_f64().unwrap();
    let p99 = |e: &Value| e["p99_ms"]["mean"].as_f64().unwrap();
    let cheapest = evaluated.iter().map(cost).fold(f64::INFINITY, f64::min);
    let best = (0..evaluated.len())
        .filter(|&i| cost(&evaluated[i]) == cheapest)
        .min_by(|&a, &b| p99(&evaluated[a]).total_cmp(&p99(&evaluated[b])))
        .unwrap();
    assert!(
        frontier.contains(&json!(best)),
        "the cheapest, fastest variant is on it"
    );
    assert!(
        frontier
            .iter()
            .all(|i| i.as_u64().unwrap() < evaluated.len() as u64)
    );
    assert_eq!(doc["grid_size"], 13);
    assert_eq!(doc["slos"][0]["metric"], "p99_ms");
    // It reads back as the library's type.
    let p: PlanResult = serde_json::from_str(&file).unwrap();
    assert_eq!(p.evaluated.len(), evaluated.len());
}

/// Regression: with equal costs (a scenario without prices) every variant
/// whose p99 beats the cheaper ones' is marked on the frontier, including
/// variants dominated by an equally cheap one with a lower p99.
#[test]
fn the_frontier_holds_no_dominated_variant() {
    let p = plan_grid(
        "plan-frontier",
        "services.station.concurrency=11..=14",
        true,
    );
    for &i in &p.frontier {
        let e = &p.evaluated[i];
        let dominated_by = p.evaluated.iter().find(|o| {
            o.cost_per_hour <= e.cost_per_hour
                && o.p99_ms.mean <= e.p99_ms.mean
                && (o.cost_per_hour < e.cost_per_hour || o.p99_ms.mean < e.p99_ms.mean)
        });
        assert!(
            dominated_by.is_none(),
            "frontier variant {:?} (${}, p99 {}) is dominated by {:?}",
            e.params,
            e.cost_per_hour,
            e.p99_ms.mean,
            dominated_by.map(|d| &d.params)
        );
    }
}

#[test]
fn no_variant_meeting_the_objective_exits_1() {
    // No c brings p99 below 40 ms: the service time alone has p99
    // ln(100) x 10 ms = 46.05 ms.
    assert!(p99(100) > 46.0);
    let s = Scratch::new("plan-unmet");
    let out = s.dir.join("out");
    let o = plan_cli(
        &station(&s),
        "services.station.concurrency=12..=16",
        &["--slo", "p99<40ms", "--out", &arg(&out)],
    );
    assert_eq!(o.code, Some(1), "{o}");
    assert!(o.stdout.contains("No variant meets"), "{o}");
    // The plan is still written, without a choice, so CI can show why.
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(doc["chosen"], Value::Null);
    assert!(
        doc["evaluated"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] != "meets")
    );
}

#[test]
fn bad_objectives_exit_2_and_write_nothing() {
    let s = Scratch::new("plan-bad");
    let sc: PathBuf = station(&s);
    let out = s.dir.join("out");
    for (args, needle) in [
        (&["--slo", "p99=5ms"][..], "--slo p99=5ms: no `<` or `>`"),
        (&["--slo", "p98<5ms"][..], "unknown metric `p98`"),
        (&["--slo", "p99<5"][..], "give a unit"),
        (
            &["--slo", "endpoint:checkout:p99<5ms"][..],
            "no metric `endpoint.checkout.p99_ms`",
        ),
        (&[][..], "at least one objective"),
        (
            &["--slo", SLO, "--min-replications", "1"][..],
            "--min-replications must be at least 2",
        ),
    ] {
        let mut extra = args.to_vec();
        let out_arg = arg(&out);
        extra.extend(["--out", &out_arg]);
        let o = plan_cli(&sc, "services.station.concurrency=12..=14", &extra);
        assert_eq!(o.code, Some(2), "{o}");
        assert!(
            o.stderr.starts_with("error: ") && o.stderr.contains(needle),
            "no `{needle}` in: {o}"
        );
        assert!(!out.join("plan.json").exists(), "{o}");
    }
}

// ------------------------------------------- objectives over a window

/// A station busy at its peak only: 100 requests/s, then 500/s for a
/// minute, then 100/s again, exponential service of 10 ms on c workers
/// (queue of 200, so an overloaded variant is not refused as unstable).
/// Over the peak minute the load is 5 erlangs, which needs c ≥ 7 for
/// "utilisation below 80%" (5/7 = 71%; 5/6 = 83%). Over the whole run
/// even c = 2 looks fine: saturated at the peak it serves only 2 erlangs
/// there and rejects the rest, so its whole-run utilisation is
/// (1 + 2 + 1)/(2 × 3) = 67% — the wrong answer, with confidence,
/// that whole-run objectives give.
fn peaky(s: &Scratch, slo: Value) -> PathBuf {
    let v = json!({
        "name": "peaky", "seed": SEED, "duration": "180s", "warmup": "0s",
        "workloads": [{ "name": "w", "target": "s", "mix": { "x": 1 },
                        "rate": [{ "for": "60s", "rps": 100 }, { "for": "60s", "rps": 500 },
                                 { "for": "60s", "rps": 100 }] }],
        "services": [{ "name": "s", "replicas": 1, "concurrency": 2, "queue_capacity": 200,
                       "endpoints": { "x": [{ "compute": { "exponential": { "mean": "10ms" } } }] } }],
        "slo": slo
    });
    s.file("peaky.json", &v.to_string())
}

/// The chosen concurrency of a plan printed as JSON.
fn chosen_c(o: &crate::cli::Outcome) -> u64 {
    let doc: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o}"));
    doc["chosen"]["params"]["services.s.concurrency"]
        .as_u64()
        .unwrap_or_else(|| panic!("no choice: {o}"))
}

/// With no `--slo`, a plan judges the scenario's `slo` section, windows
/// included, on the window's own figures: the whole-run objective alone
/// accepts a station saturated at the peak; the peak window
/// needs 7. The same window on the command line (`@60s..120s`) decides
/// the same.
#[test]
fn a_plan_judges_the_scenarios_objectives_over_their_windows() {
    let s = Scratch::new("plan-window");
    let vary = "services.s.concurrency=2..=10";
    let run = |sc: &Path, extra: &[&str]| {
        let mut a: Vec<String> = ["plan", &arg(sc), "--vary", vary, "-q", "--format", "json"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        a.extend(extra.iter().map(|x| x.to_string()));
        let o = capsim(a);
        assert_eq!(o.code, Some(0), "{o}");
        o
    };
    let whole = json!([{ "service": "s", "max_utilisation": 0.8 }]);
    let both = json!([
        { "service": "s", "max_utilisation": 0.8 },
        { "name": "peak", "window": { "from": "60s", "to": "120s" },
          "service": "s", "max_utilisation": 0.8 }
    ]);
    let c_whole = chosen_c(&run(&peaky(&s, whole), &[]));
    assert!(c_whole <= 4, "whole run only: c = {c_whole}");
    let o = run(&peaky(&s, both.clone()), &[]);
    assert_eq!(chosen_c(&o), 7, "{o}");
    let doc: Value = serde_json::from_str(&o.stdout).expect("json");
    let texts: Vec<&str> = doc["slos"]
        .as_array()
        .expect("slos")
        .iter()
        .map(|x| x["text"].as_str().expect("text"))
        .collect();
    assert_eq!(
        texts,
        [
            "service s utilisation < 80%",
            "peak: service s utilisation < 80% over 1m–2m"
        ],
        "{o}"
    );
    let cli = run(
        &peaky(&s, json!([])),
        &["--slo", "service:s:utilisation<0.8@60s..120s"],
    );
    assert_eq!(chosen_c(&cli), 7, "{cli}");

    // A window past the run's end is refused.
    let mut a: Vec<String> = ["plan", &arg(&peaky(&s, json!([]))), "--vary", vary, "-q"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    a.extend(["--slo".into(), "p99<1s@1m..10m".into()]);
    let o = capsim(a);
    assert_eq!(o.code, Some(2), "{o}");
    assert!(
        o.stderr
            .contains("the window ends at 10m but the run lasts 3m"),
        "{o}"
    );
}

/// A sweep records the scenario's windowed objectives' figures beside the
/// whole-run ones, in `sweep.json` and in its table: over the peak minute
/// the peaky station's utilisation is 5 erlangs over c workers (71.4% at
/// c = 7; saturated at c = 2), over the whole run far less.
#[test]
fn a_sweep_carries_the_windowed_figures_of_the_objectives() {
    let s = Scratch::new("sweep-window");
    let slo = json!([{ "name": "peak", "window": { "from": "60s", "to": "120s" },
                       "service": "s", "max_utilisation": 0.8 }]);
    let sc = peaky(&s, slo);
    let sweep = |format: &str| {
        capsim([
            "sweep".to_string(),
            arg(&sc),
            "--vary".into(),
            "services.s.concurrency=2,7".into(),
            "-q".into(),
            "--format".into(),
            format.into(),
        ])
    };
    let o = sweep("json");
    assert_eq!(o.code, Some(0), "{o}");
    let doc: Value = serde_json::from_str(&o.stdout).expect("json");
    let util = |i: usize, key: &str| {
        doc["variants"][i]["metrics"][key]["mean"]
            .as_f64()
            .unwrap_or_else(|| panic!("no {key}: {o}"))
    };
    let peak = "service.s.utilisation@1m..2m";
    // 30,000 requests in the window: the utilisation's standard error is
    // well under 1%; allowed 2 points.
    close_to(util(1, peak), 5.0 / 7.0, 0.02);
    assert!(util(0, peak) > 0.99, "c = 2 is saturated at the peak");
    assert!(util(1, "service.s.utilisation") < 0.5);
    let table = sweep("table");
    assert!(table.stdout.contains("s.utilisation @1m–2m"), "{table}");
}

/// `|a - b| <= tol`, said either way.
fn close_to(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b} ± {tol}");
}

/// A variant that answers nothing does not meet a latency objective: with
/// a 20 ms timeout every request (50 ms of work) times out, so its p99
/// reads 0 ms over no response. The plan used to choose it (cheapest by
/// grid order at equal cost); now its check fails, saying why, and the
/// 200 ms timeout, whose p99 is the 50 ms of work, is chosen.
#[test]
fn a_variant_without_responses_does_not_meet_a_latency_objective() {
    let s = Scratch::new("plan-unmeasured");
    let f = s.file(
        "timeouts.json",
        &json!({
            "name": "timeouts",
            "seed": 5,
            "duration": "10s",
            "workloads": [{ "name": "users", "target": "app", "rate": [{ "for": "10s", "rps": 100 }],
                            "mix": { "get": 1 }, "timeout": "1s" }],
            "services": [{ "name": "app", "replicas": 1, "concurrency": 100,
                           "price_per_replica_hour": 0.5,
                           "endpoints": { "get": [{ "compute": { "constant": "50ms" } }] } }]
        })
        .to_string(),
    );
    let out = s.dir.join("out");
    let o = capsim([
        "plan",
        &arg(&f),
        "--vary",
        "workloads.users.timeout=20ms,200ms",
        "--slo",
        "p99<100ms",
        "--exhaustive",
        "--out",
        &arg(&out),
        "-q",
    ]);
    assert_eq!(o.code, Some(0), "{o}");
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(doc["chosen"]["params"]["workloads.users.timeout"], "200ms");
    let first = &doc["evaluated"][0];
    assert_eq!(
        first["params"]["workloads.users.timeout"], "20ms",
        "{first}"
    );
    assert_eq!(first["status"], "fails", "{first}");
    assert_eq!(first["checks"][0]["verdict"], "fails");
    assert_eq!(
        first["checks"][0]["reason"],
        "the run has no ok response to measure it on (the runs with seeds 5, 6, 7)"
    );
    // Without a response it has no p99 either, so it is not on the
    // cost-vs-p99 frontier (its 0 ms put it there before).
    assert_eq!(doc["frontier"], json!([1]), "{}", doc["frontier"]);
    assert!(o.stdout.contains("no data FAILS"), "{o}");
}
