//! Integration tests of the reports crate: every file of every kind of
//! report is well-formed and says what it should, strings from scenario
//! files are escaped, every chart renders to pixels with text, and one
//! chart is pinned byte for byte by a golden file.
//!
//! Fixtures: run reports come from small scenarios simulated here
//! (`models::load` + `models::simulate`); sweep and plan documents
//! are either built here (as JSON, through serde, like a saved document) or
//! read from `tests/golden/`, written by the command line:
//!
//! ```text
//! capsim sweep scenarios/sharding-compare.json --name layouts --out /tmp/sw
//! cp /tmp/sw/sweep.json reports/tests/golden/layouts-sweep.json
//! capsim plan scenarios/mmc.json --vary services.station.concurrency=9..=20 \
//!     --slo 'p99<5ms' --set duration='"20s"' --exhaustive --out /tmp/pl
//! cp /tmp/pl/plan.json reports/tests/golden/mmc-plan.json
//! ```

use std::path::{Path, PathBuf};

use models::{PlanResult, SweepResult};
use reports::{Chart, ReportFile};
use serde_json::{Value, json};

/// Shared fixtures and checks.
mod common {
    use super::*;

    /// A small shop: a cache in front of a sharded database, a queue, two
    /// endpoints; short enough for a debug build.
    pub const SHOP: &str = r#"{
      "name": "test-shop",
      "description": "A small shop for the report tests.",
      "seed": 5,
      "duration": "20s",
      "warmup": "2s",
      "time_series_interval": "1s",
      "workloads": [{
        "name": "users", "target": "app",
        "rate": [{ "for": "8s", "rps": 200 }, { "for": "4s", "rps": 600 }, { "for": "8s", "rps": 200 }],
        "mix": { "browse": 8, "checkout": 2 },
        "keys": { "user_id": { "zipf": { "n": 10000, "s": 0.9 } },
                  "product_id": { "zipf": { "n": 2000, "s": 1.1 } } },
        "timeout": "1s"
      }],
      "services": [{
        "name": "app", "replicas": 2, "concurrency": 8, "queue_capacity": 50,
        "price_per_replica_hour": 0.17,
        "endpoints": {
          "browse": [
            { "compute": { "lognormal": { "median": "5ms", "p99": "20ms" } } },
            { "cache": { "cache": "products", "key": "product_id",
                         "on_miss": [{ "read": { "db": "orders", "key": "user_id" } }] } }
          ],
          "checkout": [
            { "compute": { "exponential": { "mean": "10ms" } } },
            { "write": { "db": "orders" } },
            { "publish": { "queue": "events" } }
          ]
        }
      }],
      "caches": [{
        "name": "products", "capacity": 500, "ttl": "1m",
        "hit_latency": { "constant": "300us" }, "miss_latency": { "constant": "300us" }
      }],
      "databases": [{
        "name": "orders", "shards": 4, "shard_key": "user_id", "strategy": "hash",
        "connections": 8,
        "read_time": { "lognormal": { "median": "2ms", "p99": "10ms" } },
        "write_time": { "exponential": { "mean": "4ms" } },
        "price_per_shard_hour": 0.48
      }],
      "queues": [{
        "name": "events", "partitions": 4, "partition_key": "user_id", "consumers": 2,
        "publish_latency": { "constant": "1ms" },
        "work": [{ "compute": { "exponential": { "mean": "5ms" } } }]
      }]
    }"#;

    /// Names that must be escaped everywhere: the scenario is called
    /// `<script>alert(1)</script>`, its service and an endpoint `a&b<c>`.
    pub const EVIL: &str = r#"{
      "name": "<script>alert(1)</script>",
      "description": "<b>bold</b> & \"quoted\"",
      "duration": "10s",
      "workloads": [{ "name": "users", "target": "a&b<c>", "rate": [{ "rps": 200 }],
                      "mix": { "a&b<c>": 3, "plain": 1 } }],
      "services": [{ "name": "a&b<c>", "replicas": 1, "concurrency": 4,
                     "endpoints": {
                       "a&b<c>": [{ "compute": { "exponential": { "mean": "5ms" } } }],
                       "plain": [{ "compute": { "exponential": { "mean": "2ms" } } }]
                     } }]
    }"#;

    /// Simulates a scenario given as text.
    pub fn run(text: &str) -> models::Results {
        let (_, model) = models::load("test.json", text, &[]).expect("valid scenario");
        models::simulate(&model).expect("runs")
    }

    /// Reads a saved sweep document from `tests/golden/`.
    pub fn saved_sweep(name: &str) -> SweepResult {
        let text = std::fs::read_to_string(golden_path(name)).expect("golden file");
        serde_json::from_str(&text).expect("a sweep document of the current format")
    }

    /// Reads a saved plan document from `tests/golden/`.
    pub fn saved_plan(name: &str) -> PlanResult {
        let text = std::fs::read_to_string(golden_path(name)).expect("golden file");
        serde_json::from_str(&text).expect("a plan document of the current format")
    }

    pub fn golden_path(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name)
    }

    /// One variant of a sweep document, as JSON.
    #[allow(clippy::too_many_arguments)]
    pub fn variant(
        index: usize,
        params: Value,
        reps: u32,
        p99: (f64, Option<f64>),
        errors: f64,
        db: &str,
        share: &[f64],
        moved: Option<f64>,
    ) -> Value {
        let est = |m: f64, hw: Option<f64>| {
            let h = hw.unwrap_or(0.0);
            json!({ "mean": m, "ci95": hw, "low": m - h, "high": m + h })
        };
        let hot = share.iter().copied().fold(0.0, f64::max) * share.len() as f64;
        let mut metrics = serde_json::Map::new();
        metrics.insert("p50_ms".into(), est(p99.0 / 4.0, None));
        metrics.insert("p99_ms".into(), est(p99.0, p99.1));
        metrics.insert("error_rate".into(), est(errors, None));
        metrics.insert(format!("db.{db}.hot_spot_index"), est(hot, None));
        let mut shard_share = serde_json::Map::new();
        shard_share.insert(db.into(), json!(share));
        let mut keys_moved = serde_json::Map::new();
        if let Some(m) = moved {
            keys_moved.insert(db.into(), json!(m));
        }
        json!({
            "index": index, "params": params, "replications": reps,
            "metrics": metrics, "pooled": {},
            "shard_share": shard_share, "keys_moved": keys_moved
        })
    }

    /// A sweep document: `dims` as (path, values), `variants` as built by
    /// [`variant`].
    pub fn sweep(scenario: &str, dims: Value, reps: u32, variants: Vec<Value>) -> SweepResult {
        serde_json::from_value(json!({
            "format_version": 1, "capsim_version": "test",
            "identity": { "scenario": scenario, "scenario_hash": "0", "sets": [],
                          "name": null, "dims": dims, "replications": reps, "seed": 1 },
            "description": "test sweep",
            "variants": variants
        }))
        .expect("a sweep document")
    }

    /// A sweep with a single replication (no intervals) over one field,
    /// with a second field held at one value.
    pub fn single_replication_sweep() -> SweepResult {
        let values = [2, 4, 8];
        let variants = values
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let p99 = 80.0 / *r as f64;
                variant(
                    i,
                    json!({ "services.app.replicas": r, "services.app.concurrency": 8 }),
                    1,
                    (p99, None),
                    0.0,
                    "db",
                    &[1.0],
                    None,
                )
            })
            .collect();
        sweep(
            "one-dim",
            json!([
                { "path": "services.app.replicas", "values": values },
                { "path": "services.app.concurrency", "values": [8] }
            ]),
            1,
            variants,
        )
    }

    /// A sweep whose field paths and database carry `a&b<c>`.
    pub fn evil_sweep() -> SweepResult {
        let path = "services.a&b<c>.replicas";
        let variants = (0..3)
            .map(|i| {
                let share = [0.5, 0.25 + 0.05 * i as f64, 0.25 - 0.05 * i as f64];
                let p99 = (10.0 + i as f64, Some(0.5));
                variant(
                    i,
                    json!({ path: i + 1 }),
                    3,
                    p99,
                    0.0,
                    "a&b<c>",
                    &share,
                    Some(0.1),
                )
            })
            .collect();
        sweep(
            "<script>alert(1)</script>",
            json!([{ "path": path, "values": [1, 2, 3] }]),
            3,
            variants,
        )
    }

    /// A plan over `app.replicas` 2..=6 with every status, an unstable
    /// variant and a chosen one; `priced` false makes every cost 0.
    pub fn plan(scenario: &str, path: &str, priced: bool) -> PlanResult {
        let rows = [
            // replicas, p99 mean, half-width, status
            (2, 140.0, 12.0, "fails"),
            (3, 52.0, 4.0, "unsure"),
            (4, 41.0, 2.5, "meets"),
            (5, 38.0, 2.0, "meets"),
            (6, 37.5, 2.0, "meets"),
        ];
        let evaluated: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, (r, m, h, status))| {
                let est = json!({ "mean": m, "ci95": h, "low": m - h, "high": m + h });
                let verdict = match *status {
                    "fails" => "fails",
                    "unsure" => "unsure",
                    _ => "holds",
                };
                json!({
                    "index": i + 1, "params": { path: r }, "replications": 3,
                    "cost_per_hour": if priced { 0.17 * *r as f64 } else { 0.0 },
                    "p99_ms": est,
                    "checks": [{ "slo": "p99<50ms", "estimate": est, "verdict": verdict,
                                 "margin": 50.0 - m }],
                    "status": status
                })
            })
            .collect();
        serde_json::from_value(json!({
            "identity": { "scenario": scenario, "scenario_hash": "0", "sets": [],
                          "name": "grow", "dims": [{ "path": path, "values": [1, 2, 3, 4, 5, 6] }],
                          "replications": 3, "seed": 1 },
            "slos": [
                { "text": "p99<50ms", "metric": "p99_ms", "op": "below", "limit": 50.0,
                  "unit": "ms", "percent": false },
                { "text": "errors<0.1%", "metric": "error_rate", "op": "below", "limit": 0.001,
                  "unit": "", "percent": true }
            ],
            "grid_size": 6, "runs": 15, "search": path,
            "chosen": evaluated[2].clone(),
            "evaluated": evaluated,
            "frontier": [0, 1, 2, 3, 4],
            "unstable": [{ "params": { path: 1 }, "reason": "arrival rate exceeds capacity" }]
        }))
        .expect("a plan document")
    }

    /// The SVG files of a report.
    pub fn svgs(files: &[ReportFile]) -> Vec<(&str, &str)> {
        files
            .iter()
            .filter(|f| f.name.ends_with(".svg"))
            .map(|f| {
                (
                    f.name.as_str(),
                    std::str::from_utf8(&f.bytes).expect("UTF-8"),
                )
            })
            .collect()
    }

    /// The report's `index.html`.
    pub fn index(files: &[ReportFile]) -> &str {
        let f = files
            .iter()
            .find(|f| f.name == "index.html")
            .expect("index.html");
        std::str::from_utf8(&f.bytes).expect("UTF-8")
    }

    /// The texts of an SVG document (entities decoded), after checking
    /// that it is well-formed XML with an `svg` root, has drawn lines or
    /// shapes and no `script` element.
    pub fn texts(name: &str, svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("{name} is not well-formed XML: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}");
        let tag = |n: &roxmltree::Node, t: &str| n.is_element() && n.tag_name().name() == t;
        assert!(
            !doc.descendants().any(|n| tag(&n, "script")),
            "{name} has a script element"
        );
        let drawn = doc
            .descendants()
            .filter(|n| {
                ["path", "polyline", "rect", "circle", "line"]
                    .iter()
                    .any(|t| tag(n, t))
            })
            .count();
        assert!(drawn > 0, "{name} draws nothing");
        doc.descendants()
            .filter(|n| tag(n, "text"))
            .map(|n| n.text().unwrap_or("").trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// Whether one of `texts` is `title`, or `title` cut short with an
    /// ellipsis to fit the width.
    pub fn has_title(texts: &[String], title: &str) -> bool {
        texts.iter().any(|t| {
            t == title
                || t.strip_suffix('…')
                    .is_some_and(|cut| !cut.is_empty() && title.starts_with(cut))
        })
    }

    /// Checks every chart: its file is in the report, it parses, it carries
    /// its title.
    pub fn check_charts(charts: &[Chart], files: &[ReportFile]) {
        assert_eq!(svgs(files).len(), charts.len(), "one file per chart");
        for c in charts {
            assert!(files.iter().any(|f| f.name == c.file), "{} missing", c.file);
            let t = texts(&c.file, &c.svg);
            assert!(
                has_title(&t, &c.title),
                "{}: no title {:?} in {t:?}",
                c.file,
                c.title
            );
            assert!(!c.what_to_look_at.is_empty(), "{}", c.file);
        }
    }

    /// The table row (one line of `index.html`) holding `needle`.
    pub fn row<'a>(html: &'a str, needle: &str) -> &'a str {
        html.lines()
            .find(|l| l.starts_with("<tr") && l.contains(needle))
            .unwrap_or_else(|| panic!("no table row with {needle}"))
    }

    /// The chart written to `file`.
    pub fn chart<'a>(charts: &'a [Chart], file: &str) -> &'a Chart {
        charts.iter().find(|c| c.file == file).unwrap_or_else(|| {
            panic!(
                "no {file} among {:?}",
                charts.iter().map(|c| &c.file).collect::<Vec<_>>()
            )
        })
    }

    /// Whether some text contains `needle`.
    pub fn mentions(texts: &[String], needle: &str) -> bool {
        texts.iter().any(|t| t.contains(needle))
    }
}

/// Every report's files are well-formed and say what they should.
mod well_formed {
    use super::common::*;

    #[test]
    fn run_report_charts_parse_and_carry_their_titles_and_series() {
        let r = run(SHOP);
        let files = reports::run_report(&r).expect("report");
        let charts = reports::run_charts(&r).expect("charts");
        check_charts(&charts, &files);
        // Whatever else the run report holds (the chart kinds are written
        // separately), the latency chart of all endpoints is there with
        // its three percentiles.
        let latency = charts
            .iter()
            .find(|c| c.file == "latency-all.svg")
            .expect("latency-all.svg");
        let t = texts(&latency.file, &latency.svg);
        for series in ["p50", "p99", "p99.9"] {
            assert!(t.iter().any(|x| x == series), "no {series} in {t:?}");
        }
        // Each further kind, when present, is named after its subject.
        let expect = [
            ("latency-", "browse"),
            ("throughput", ""),
            ("utilisation", ""),
            ("heatmap", "orders"),
            ("shards", "orders"),
            ("cache", "products"),
            ("queue", "events"),
            ("cdf", ""),
        ];
        for (prefix, subject) in expect {
            for c in charts.iter().filter(|c| c.file.starts_with(prefix)) {
                if c.file.contains(subject) {
                    assert!(!texts(&c.file, &c.svg).is_empty(), "{} has no text", c.file);
                }
            }
        }
        assert!(index(&files).contains("test-shop"));
    }

    #[test]
    fn sweep_report_of_a_saved_sweep() {
        let s = saved_sweep("layouts-sweep.json");
        let files = reports::sweep_report(&s).expect("report");
        let charts = reports::charts::sweep_charts(&s).expect("charts");
        check_charts(&charts, &files);
        let names: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(
            names,
            [
                "sweep-p99-databases-orders-strategy.svg",
                "sweep-p99-databases-orders-shard-key.svg",
                "sweep-shards-orders.svg"
            ]
        );
        // p99 by shard key: one line per strategy, with a legend.
        let t = texts(names[1], &charts[1].svg);
        for label in [
            "strategy=hash",
            "strategy=range",
            "user_id",
            "tenant_id",
            "order_time",
        ] {
            assert!(t.iter().any(|x| x == label), "no {label} in {t:?}");
        }
        assert!(charts[1].svg.contains("<polyline"), "lines are drawn");
        // The shard table: every shard, every variant, the hot-spot index.
        let t = texts(names[2], &charts[2].svg);
        for label in ["s0", "s7", "strategy=hash, shard_key=tenant_id", "hot spot"] {
            assert!(t.iter().any(|x| x == label), "no {label} in {t:?}");
        }
        let tenant = &s.variants[1];
        let hot = tenant.metrics["db.orders.hot_spot_index"].mean;
        assert!(
            mentions(&t, &format!("×{hot:.2}")),
            "hot-spot index {hot:.2}"
        );
    }

    #[test]
    fn sweep_with_one_replication_draws_no_interval() {
        let s = single_replication_sweep();
        let charts = reports::charts::sweep_charts(&s).expect("charts");
        // One p99 chart: a field with one value has none, and tells no
        // lines apart; a single shard is no shard table.
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].file, "sweep-p99-services-app-replicas.svg");
        let t = texts(&charts[0].file, &charts[0].svg);
        assert!(mentions(&t, "no interval"), "{t:?}");
        assert!(!mentions(&t, "concurrency"), "{t:?}");
        assert!(mentions(&t, "p50"), "{t:?}");
        check_charts(&charts, &reports::sweep_report(&s).expect("report"));
    }

    #[test]
    fn plan_report_marks_the_choice_frontier_and_objective() {
        let p = plan("shop", "services.app.replicas", true);
        let files = reports::plan_report(&p).expect("report");
        let charts = reports::charts::plan_charts(&p).expect("charts");
        check_charts(&charts, &files);
        let c = chart(&charts, "plan-cost-p99.svg");
        let t = texts(&c.file, &c.svg);
        for label in [
            "meets every objective",
            "fails an objective",
            "objective p99<50ms",
            "replicas=2",
        ] {
            assert!(mentions(&t, label), "no {label} in {t:?}");
        }
        assert!(mentions(&t, "Pareto frontier"), "{t:?}");
        assert!(
            t.iter()
                .any(|x| x.starts_with("chosen: replicas=4, $0.68/h")),
            "{t:?}"
        );
        assert!(mentions(&t, "unstable: replicas=1"), "{t:?}");
        assert!(c.svg.contains("<polyline"), "the frontier is drawn");
    }

    /// A plan's margins on a fraction are in percentage points (a margin
    /// of 5 points to an 80% limit is not "5%" of anything), and a failing
    /// variant's shortfall too.
    #[test]
    fn plan_margins_on_fractions_are_in_points() {
        let check = |m: f64, verdict: &str| {
            let est =
                serde_json::json!({ "mean": m, "ci95": 0.01, "low": m - 0.01, "high": m + 0.01 });
            serde_json::json!([{ "slo": "util<80%", "estimate": est, "verdict": verdict, "margin": 0.8 - m }])
        };
        let variant = |i: usize, r: u32, m: f64, verdict: &str, status: &str| {
            serde_json::json!({ "index": i, "params": { "services.app.replicas": r }, "replications": 3,
                    "cost_per_hour": 0.1 * f64::from(r),
                    "p99_ms": { "mean": 10.0, "ci95": 1.0, "low": 9.0, "high": 11.0 },
                    "checks": check(m, verdict), "status": status })
        };
        let evaluated = vec![
            variant(1, 2, 0.9, "fails", "fails"),
            variant(2, 3, 0.75, "holds", "meets"),
        ];
        let p: models::PlanResult = serde_json::from_value(serde_json::json!({
            "identity": { "scenario": "shop", "scenario_hash": "0", "sets": [],
                          "name": "grow", "dims": [{ "path": "services.app.replicas", "values": [2, 3] }],
                          "replications": 3, "seed": 1 },
            "slos": [{ "text": "util<80%", "metric": "utilisation", "op": "below", "limit": 0.8,
                       "unit": "", "percent": true }],
            "grid_size": 2, "runs": 6, "search": "services.app.replicas",
            "chosen": evaluated[1].clone(),
            "evaluated": evaluated,
            "frontier": [0, 1],
            "unstable": []
        }))
        .expect("a plan document");
        let text = reports::terminal::plan::summary(&p);
        assert!(text.contains("margin +5.0 pp"), "{text}");
        assert!(text.contains("over the limit by 10.0 pp"), "{text}");
        assert!(!text.contains("margin +5.0%"), "{text}");
    }

    #[test]
    fn plan_without_prices_places_variants_by_their_parameter() {
        let p = saved_plan("mmc-plan.json");
        assert!(p.evaluated.iter().all(|e| e.cost_per_hour == 0.0));
        let charts = reports::charts::plan_charts(&p).expect("charts");
        check_charts(&charts, &reports::plan_report(&p).expect("report"));
        let c = chart(&charts, "plan-cost-p99.svg");
        let t = texts(&c.file, &c.svg);
        assert!(mentions(&t, "no prices"), "{t:?}");
        assert!(!mentions(&t, "Pareto"), "no frontier without costs: {t:?}");
        assert!(
            t.iter().any(|x| x.starts_with("chosen: concurrency=12")),
            "{t:?}"
        );
        for tick in ["10", "20"] {
            assert!(t.iter().any(|x| x == tick), "tick {tick} in {t:?}");
        }
    }
}

/// Strings from scenario files cannot inject markup into SVG or HTML.
mod escaping {
    use super::common::*;

    fn check_escaped(files: &[reports::ReportFile]) -> Vec<String> {
        let mut all = Vec::new();
        for (name, svg) in svgs(files) {
            all.extend(texts(name, svg));
            assert!(!svg.contains("<script"), "{name} holds a raw <script");
        }
        let html = index(files);
        assert!(
            html.contains("&lt;script&gt;"),
            "index.html escapes the name"
        );
        assert!(
            !html.contains("<script>alert"),
            "index.html holds a raw script"
        );
        all
    }

    #[test]
    fn run_report() {
        let files = reports::run_report(&run(EVIL)).expect("report");
        let t = check_escaped(&files);
        // The name went through escaped, not dropped.
        assert!(mentions(&t, "a&b<c>"), "{t:?}");
    }

    #[test]
    fn sweep_report() {
        let files = reports::sweep_report(&evil_sweep()).expect("report");
        let t = check_escaped(&files);
        assert!(mentions(&t, "a&b<c>"), "{t:?}");
    }

    #[test]
    fn plan_report() {
        // Without prices the x axis is named after the field.
        let p = plan(
            "<script>alert(1)</script>",
            "services.a&b<c>.replicas",
            false,
        );
        let files = reports::plan_report(&p).expect("report");
        let t = check_escaped(&files);
        assert!(mentions(&t, "a&b<c>"), "{t:?}");
    }
}

/// Every chart renders to pixels, text included (resvg draws no text
/// unless a font is found: a missing font would pass every XML check).
mod rendering {
    use super::common::*;
    use resvg::{tiny_skia, usvg};
    use std::path::PathBuf;

    /// Parsing options with the system's fonts and DejaVu Sans as
    /// sans-serif. Fonts are read from the usual folders by hand: the
    /// `fs` feature of fontdb (its `load_system_fonts`) is not enabled.
    fn options() -> usvg::Options<'static> {
        let mut opt = usvg::Options::default();
        let db = opt.fontdb_mut();
        let mut stack: Vec<PathBuf> = ["/usr/share/fonts", "/usr/local/share/fonts"]
            .iter()
            .map(PathBuf::from)
            .collect();
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                let font = p
                    .extension()
                    .is_some_and(|e| e == "ttf" || e == "otf" || e == "ttc");
                if p.is_dir() {
                    stack.push(p);
                } else if font && let Ok(data) = std::fs::read(&p) {
                    db.load_font_data(data);
                }
            }
        }
        assert!(
            db.faces()
                .any(|f| f.families.iter().any(|(n, _)| n == "DejaVu Sans")),
            "DejaVu Sans is not installed (fonts-dejavu-core)"
        );
        db.set_sans_serif_family("DejaVu Sans");
        opt
    }

    /// Renders `svg` and checks it is neither blank nor without text.
    fn render(opt: &usvg::Options<'_>, name: &str, svg: &str) {
        let tree = usvg::Tree::from_str(svg, opt)
            .unwrap_or_else(|e| panic!("{name}: resvg cannot parse it: {e}"));
        let size = tree.size().to_int_size();
        let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).expect("pixmap");
        resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
        let w = size.width() as usize;
        let px = pixmap.data();
        let dark = |i: usize| {
            let p = &px[i * 4..i * 4 + 4];
            p[3] > 200 && (p[0] as u32 + p[1] as u32 + p[2] as u32) < 300
        };
        let not_white = (0..px.len() / 4)
            .filter(|&i| px[i * 4 + 3] > 0 && px[i * 4..i * 4 + 3].iter().any(|c| *c < 240))
            .count();
        assert!(not_white > 500, "{name} renders (almost) blank");
        // The title is text alone across the top: with a font it leaves
        // dark pixels there, without one none.
        let title = (0..w * 36).filter(|&i| dark(i)).count();
        assert!(
            title > 40,
            "{name}: no title text rendered ({title} dark pixels)"
        );
    }

    #[test]
    fn every_chart_renders_with_text() {
        let opt = options();
        let r = run(SHOP);
        let mut reports = vec![
            reports::run_report(&r).expect("run"),
            reports::run_report(&run(EVIL)).expect("run"),
            reports::sweep_report(&saved_sweep("layouts-sweep.json")).expect("sweep"),
            reports::sweep_report(&single_replication_sweep()).expect("sweep"),
            reports::sweep_report(&evil_sweep()).expect("sweep"),
            reports::plan_report(&saved_plan("mmc-plan.json")).expect("plan"),
        ];
        reports.push(
            reports::plan_report(&plan("shop", "services.app.replicas", true)).expect("plan"),
        );
        for with_p99 in [true, false] {
            let p = super::what_decided::decided_plan(with_p99);
            reports.push(reports::plan_report(&p).expect("plan"));
        }
        let s = super::what_decided::windowed_sweep();
        reports.push(reports::sweep_report(&s).expect("sweep"));
        let mut n = 0;
        for files in &reports {
            for (name, svg) in svgs(files) {
                render(&opt, name, svg);
                n += 1;
            }
        }
        assert!(n >= 8, "only {n} charts rendered");
    }
}

/// One chart pinned byte for byte, so that an unintended change to the
/// charts (a dependency bump, a refactoring) is seen in review. When a
/// change is intended, rewrite the file and commit it with the change:
///
/// ```text
/// UPDATE_GOLDEN=1 cargo test -p reports --test report golden
/// ```
mod golden {
    use super::common::*;

    #[test]
    fn plan_chart_matches_its_golden_file() {
        let p = plan("shop", "services.app.replicas", true);
        let charts = reports::charts::plan_charts(&p).expect("charts");
        let svg = &chart(&charts, "plan-cost-p99.svg").svg;
        let path = golden_path("plan-cost-p99.svg");
        if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
            std::fs::write(&path, svg).expect("write golden file");
            return;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; create it with UPDATE_GOLDEN=1", path.display()));
        if *svg != want {
            let line = svg
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| "length".to_string(), |i| format!("line {}", i + 1));
            panic!(
                "the plan chart differs from {} (first difference: {line}); if the change is intended, rerun with UPDATE_GOLDEN=1 and commit the file",
                path.display()
            );
        }
    }
}

/// The report of `capsim check`: the outcome at the top, failures and
/// regressions marked in the tables and the chart, names escaped, and a
/// link to each scenario's run report.
mod check {
    use super::common::*;
    use models::{
        BaselineComparison, CHECK_FORMAT_VERSION, CheckReport, CheckStatus, ObjectiveCheck,
        ScenarioCheck,
    };
    use models::{Estimate, Objective, Op, Slo, Verdict, Window};
    use sim_core::SimDuration;

    const TOLERANCE: f64 = 0.05;

    fn slo(text: &str, metric: &str, op: Op, limit: f64, unit: &str, percent: bool) -> Slo {
        Slo {
            text: text.into(),
            metric: metric.into(),
            op,
            limit,
            unit: unit.into(),
            percent,
        }
    }

    /// An objective evaluated the way `capsim check` does: the verdict
    /// and margin from the `Slo`, the baseline compared replication by
    /// replication (same seeds).
    fn objective(
        name: Option<&str>,
        slo: Slo,
        window: Option<Window>,
        values: &[f64],
        baseline: Option<&[f64]>,
    ) -> ObjectiveCheck {
        let estimate = Estimate::of(values);
        let verdict = slo.verdict(&estimate);
        let margin = slo.margin(&estimate);
        let status = match verdict {
            Verdict::Holds => CheckStatus::Pass,
            Verdict::Unsure if margin > 0.0 => CheckStatus::Marginal,
            _ => CheckStatus::Fail,
        };
        let baseline = baseline.map(|b| {
            let base = Estimate::of(b);
            let diffs: Vec<f64> = values
                .iter()
                .zip(b)
                .map(|(v, b)| match slo.op {
                    Op::Below => v - b,
                    Op::Above => b - v,
                })
                .collect();
            let worse_by = Estimate::of(&diffs);
            let threshold = TOLERANCE * base.mean.abs();
            BaselineComparison {
                values: b.to_vec(),
                worse_by_relative: Some(worse_by.mean / base.mean),
                regression: worse_by.mean > threshold && worse_by.low > 0.0,
                estimate: base,
                worse_by,
                paired: true,
                threshold,
                note: None,
            }
        });
        let failed = status == CheckStatus::Fail || baseline.as_ref().is_some_and(|b| b.regression);
        ObjectiveCheck {
            objective: Objective::new(name.map(String::from), slo, window),
            values: values.to_vec(),
            estimate,
            verdict,
            margin,
            status,
            baseline,
            failed,
            reason: None,
        }
    }

    fn scenario(
        name: &str,
        report_dir: Option<&str>,
        objectives: Vec<ObjectiveCheck>,
    ) -> ScenarioCheck {
        ScenarioCheck {
            file: format!("scenarios/{}.json", name.len()),
            scenario: name.into(),
            scenario_hash: "00ff".into(),
            sets: vec!["services.app.replicas=4".into()],
            seed: 7,
            replications: 3,
            report_dir: report_dir.map(String::from),
            passed: objectives.iter().all(|o| !o.failed),
            objectives,
        }
    }

    fn report(scenarios: Vec<ScenarioCheck>) -> CheckReport {
        CheckReport {
            format_version: CHECK_FORMAT_VERSION,
            capsim_version: "test".into(),
            replications: 3,
            tolerance: TOLERANCE,
            strict: false,
            baseline: Some("base/check.json".into()),
            passed: scenarios.iter().all(|s| s.passed),
            scenarios,
        }
    }

    /// Two scenarios: the first (named `<script>…`) fails its error-rate
    /// objective and passes `a&b<c>`; the second meets its limits but its
    /// checkout p99 regressed against the baseline, and its throughput is
    /// marginal.
    fn failing() -> CheckReport {
        let p99 = || slo("p99 < 300ms", "p99_ms", Op::Below, 300.0, "ms", false);
        let evil = scenario(
            "<script>alert(1)</script>",
            Some("evil"),
            vec![
                objective(Some("a&b<c>"), p99(), None, &[250.0, 260.0, 270.0], None),
                objective(
                    None,
                    slo(
                        "error_rate < 0.1%",
                        "error_rate",
                        Op::Below,
                        0.001,
                        "",
                        true,
                    ),
                    None,
                    &[0.004, 0.005, 0.006],
                    None,
                ),
            ],
        );
        let window = Window {
            from: SimDuration::from_secs(60),
            to: SimDuration::from_secs(150),
        };
        let shop = scenario(
            "shop",
            Some("shop"),
            vec![
                objective(
                    Some("checkout"),
                    slo(
                        "endpoint checkout p99 < 300ms",
                        "endpoint.checkout.p99_ms",
                        Op::Below,
                        300.0,
                        "ms",
                        false,
                    ),
                    Some(window),
                    &[200.0, 205.0, 212.0],
                    Some(&[150.0, 152.0, 155.0]),
                ),
                objective(
                    None,
                    slo(
                        "throughput > 100rps",
                        "throughput_rps",
                        Op::Above,
                        100.0,
                        "req/s",
                        false,
                    ),
                    None,
                    &[101.0, 99.5, 104.0],
                    Some(&[101.0, 100.0, 103.0]),
                ),
            ],
        );
        report(vec![evil, shop])
    }

    #[test]
    fn fixture_is_what_the_tests_assume() {
        let c = failing();
        let [evil, shop] = [&c.scenarios[0], &c.scenarios[1]];
        assert_eq!(evil.objectives[0].status, CheckStatus::Pass);
        assert_eq!(evil.objectives[1].status, CheckStatus::Fail);
        assert_eq!(shop.objectives[0].status, CheckStatus::Pass);
        assert!(shop.objectives[0].baseline.as_ref().unwrap().regression);
        assert_eq!(shop.objectives[1].status, CheckStatus::Marginal);
        assert!(!shop.objectives[1].failed);
        assert!(!c.passed);
    }

    #[test]
    fn failures_and_regressions_are_marked() {
        let c = failing();
        let files = reports::check_report(&c).expect("report");
        let charts = reports::charts::check_charts(&c).expect("charts");
        assert_eq!(charts.len(), 1, "one chart of every objective");
        check_charts(&charts, &files);
        let html = index(&files);

        // The headline, the counts and the failures by name.
        assert!(
            html.contains("<h1><span class=\"bad\">FAILED</span>"),
            "{html}"
        );
        assert!(
            html.contains("2 of 4 objectives failed</b> in 2 of 2 scenarios"),
            "{html}"
        );
        assert!(
            html.contains("(1 regression against the baseline)"),
            "{html}"
        );
        assert!(html.contains("base/check.json"));
        // The failing objective: its row is highlighted and says FAIL.
        let errors = row(html, "error_rate &lt; 0.1%");
        assert!(errors.starts_with("<tr class=\"hot\">"), "{errors}");
        assert!(errors.contains("✗ FAIL"), "{errors}");
        let o = &c.scenarios[0].objectives[1];
        let mean = reports::fmt::mean(&o.estimate, reports::fmt::Unit::of(&o.objective.slo));
        assert!(mean.ends_with('%'), "{mean}");
        assert!(
            errors.contains(&format!(">{mean}</span><br><span class=\"note\">± ")),
            "measured in percent: {errors}"
        );
        // The regression: its row is highlighted, says REGRESSED, and
        // shows the window and the relative change.
        let checkout = row(html, "endpoint checkout p99 &lt; 300ms over 1m–2m30s");
        assert!(checkout.starts_with("<tr class=\"hot\">"), "{checkout}");
        assert!(checkout.contains("REGRESSED"), "{checkout}");
        assert!(checkout.contains("✓ pass"), "meets its limit: {checkout}");
        assert!(checkout.contains("+35.0%"), "{checkout}");
        // Passing and marginal rows are not highlighted.
        let ab = row(html, "a&amp;b&lt;c&gt;");
        assert!(ab.starts_with("<tr>") && ab.contains("✓ pass"), "{ab}");
        let marginal = row(html, "throughput &gt; 100rps");
        assert!(marginal.starts_with("<tr>"), "{marginal}");
        assert!(marginal.contains("? marginal"), "{marginal}");
        assert!(!marginal.contains("REGRESSED"), "{marginal}");
        // How to read it.
        assert!(html.contains("How to read this"));
        assert!(html.contains("whole 95% interval is on the good side"));

        // The chart shows every objective, coloured by outcome, and the
        // regression.
        let t = texts(&charts[0].file, &charts[0].svg);
        assert!(mentions(&t, "FAIL: the mean on the bad side"), "{t:?}");
        assert!(mentions(&t, "marginal"), "{t:?}");
        assert!(mentions(&t, "REGRESSED"), "{t:?}");
        assert!(mentions(&t, "baseline"), "{t:?}");
        assert!(mentions(&t, "100%"), "the limit's tick: {t:?}");
        // The failed error rate is 500% of its limit: off the scale.
        assert!(mentions(&t, "500% (off the scale)"), "{t:?}");
        // resvg reads it too (the rendering tests draw the other charts).
        resvg::usvg::Tree::from_str(&charts[0].svg, &resvg::usvg::Options::default())
            .expect("resvg parses the check chart");
        let vermillion = "#D55E00";
        assert!(
            charts[0].svg.to_uppercase().contains(vermillion),
            "failures are drawn in vermillion"
        );
    }

    #[test]
    fn links_to_each_scenario_report() {
        let files = reports::check_report(&failing()).expect("report");
        let html = index(&files);
        for dir in ["evil", "shop"] {
            assert!(
                html.contains(&format!("<a href=\"./{dir}/index.html\">")),
                "no link to {dir}/index.html"
            );
        }
        // Without a report folder there is no link.
        let mut c = failing();
        c.scenarios[1].report_dir = None;
        let files = reports::check_report(&c).expect("report");
        assert!(!index(&files).contains("shop/index.html"));
    }

    #[test]
    fn names_are_escaped() {
        let files = reports::check_report(&failing()).expect("report");
        let mut all = Vec::new();
        for (name, svg) in svgs(&files) {
            all.extend(texts(name, svg));
            assert!(!svg.contains("<script"), "{name} holds a raw <script");
        }
        assert!(!all.is_empty(), "the chart is a file of the report");
        // In the chart, the names went through escaped, not dropped.
        assert!(mentions(&all, "<script>alert(1)</script>"), "{all:?}");
        assert!(mentions(&all, "a&b<c>"), "{all:?}");
        let html = index(&files);
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>alert"), "raw script in index.html");
        assert!(html.contains("a&amp;b&lt;c&gt;"));
        assert!(!html.contains("a&b<c>"), "raw name in index.html");
    }

    #[test]
    fn a_passing_check_says_so() {
        let mut c = failing();
        c.scenarios.truncate(1);
        c.scenarios[0].objectives.truncate(1);
        c.scenarios[0].passed = true;
        c.passed = true;
        let files = reports::check_report(&c).expect("report");
        let html = index(&files);
        assert!(
            html.contains("<h1><span class=\"good\">PASSED</span>"),
            "{html}"
        );
        assert!(html.contains("Every objective passed"));
        for failure in ["FAILED", "✗ FAIL", "class=\"hot\"", "class=\"bad\""] {
            assert!(
                !html.contains(failure),
                "nothing failed: {failure} in {html}"
            );
        }
        let t = texts(
            "check",
            &reports::charts::check_charts(&c).expect("chart")[0].svg,
        );
        assert!(!mentions(&t, "FAIL"), "{t:?}");
        // With no objective at all there is no chart, but a page.
        c.scenarios[0].objectives.clear();
        let files = reports::check_report(&c).expect("report");
        assert_eq!(files.len(), 1);
        assert!(index(&files).contains("no objectives"));
    }
}

/// What tables cannot show in columns of every run: failures in flight,
/// 429s, sessions, pods that came and went, read replicas — shown when a
/// run has them, in the terminal summary, the HTML page and the
/// throughput chart.
mod failures_and_limits {
    use super::common::*;

    const SCENARIO: &str = r#"{
      "name": "faults-and-limits",
      "duration": "20s",
      "time_series_interval": "1s",
      "workloads": [{
        "name": "users", "target": "gw", "rate": [{ "rps": 400 }],
        "mix": { "page": 1 },
        "keys": { "user_id": { "uniform": { "n": 300 } } }
      }],
      "load_balancers": [{
        "name": "gw", "target": "app", "policy": "hash", "hash_key": "user_id",
        "health_check": { "interval": "1s" },
        "rate_limit": { "requests_per_second": 2, "burst": 4, "key": "user_id" }
      }],
      "services": [{
        "name": "app", "replicas": 4, "concurrency": 8,
        "sessions": { "store": "local", "key": "user_id" },
        "endpoints": { "page": [
          { "compute": { "exponential": { "mean": "2ms" } } },
          { "read": { "db": "users" } }
        ] }
      }],
      "databases": [{
        "name": "users", "shards": 2, "shard_key": "user_id", "connections": 8,
        "read_time": { "constant": "1ms" }, "write_time": { "constant": "1ms" },
        "replicas": 1, "read_from": "replicas"
      }],
      "faults": [{ "at": "8s", "kill_pods": { "service": "app", "count": 1 } }]
    }"#;

    #[test]
    fn summary_page_and_chart_show_failures_429s_sessions_and_replicas() {
        let r = run(SCENARIO);
        assert!(
            r.overall.rate_limited > 0 && r.overall.aborted > 0,
            "{:?}",
            r.overall
        );
        let summary = reports::summary(&r);
        for want in [
            "┆ failed ┆",
            "┆ 429 ┆",
            "rate-limited",
            "app sessions (local on user_id):",
            "requests sent to dead pods",
            "refused by the rate limit (429)",
            "1 pod crashes",
            "1 read replica per shard, reads from replicas",
        ] {
            assert!(summary.contains(want), "no `{want}` in\n{summary}");
        }
        let files = reports::run_report(&r).expect("report");
        let page = index(&files);
        for want in [
            "failed in flight",
            "rate limited (429)",
            "app sessions (local on user_id)",
            "1 read replica per shard",
        ] {
            assert!(page.contains(want), "no `{want}` in the page");
        }
        let charts = reports::run_charts(&r).expect("charts");
        let tp = charts
            .iter()
            .find(|c| c.file == "throughput.svg")
            .expect("throughput.svg");
        let t = texts(&tp.file, &tp.svg);
        for legend in ["failed in flight (502)", "rate limited (429)"] {
            assert!(t.iter().any(|x| x == legend), "no {legend} in {t:?}");
        }
        // A pod crashed: the pods chart shows ready and paid-for pods.
        let pods = charts
            .iter()
            .find(|c| c.file == "pods.svg")
            .expect("pods.svg");
        let t = texts(&pods.file, &pods.svg);
        for legend in ["app: ready", "app: paid for"] {
            assert!(t.iter().any(|x| x == legend), "no {legend} in {t:?}");
        }
    }

    /// The numbers of a ledger line, thousands separators removed (words
    /// such as `(429)` are not numbers).
    fn ledger_numbers(line: &str) -> Vec<u64> {
        line.split_whitespace()
            .filter_map(|w| w.replace(',', "").parse().ok())
            .collect()
    }

    /// Issue 11: the page's request ledger left out the requests refused by
    /// the rate limiter (429) and those failed in flight (502), so it did
    /// not add up. Both ledgers, the terminal's and the page's, show every
    /// term of `generated = completed + failed + rejected + aborted +
    /// rate_limited + in_flight`, in that order, and add up.
    #[test]
    fn the_request_ledger_shows_every_term_and_adds_up() {
        let r = run(SCENARIO);
        let t = &r.totals;
        assert!(t.rate_limited > 0 && t.aborted > 0, "{t:?}");
        let terms = [
            t.completed,
            t.failed,
            t.rejected,
            t.aborted,
            t.rate_limited,
            t.in_flight,
        ];
        assert_eq!(t.generated, terms.iter().sum::<u64>(), "{t:?}");
        let mut want = vec![t.generated];
        want.extend(terms);

        let summary = reports::summary(&r);
        let line = summary
            .lines()
            .find(|l| l.starts_with("requests: "))
            .expect("a ledger line in the terminal summary");
        assert_eq!(ledger_numbers(line), want, "{line}");

        let files = reports::run_report(&r).expect("report");
        let page = index(&files);
        let line = page
            .lines()
            .find(|l| l.contains("Every request of the run:"))
            .expect("a ledger line on the page");
        let numbers = ledger_numbers(line);
        assert_eq!(numbers, want, "{line}");
        for word in [
            "generated",
            "completed",
            "timed out",
            "rejected",
            "failed in flight (502)",
            "rate-limited (429)",
            "in flight",
        ] {
            assert!(line.contains(word), "no `{word}` in {line}");
        }
    }

    /// A run with none of these keeps the plain tables.
    #[test]
    fn plain_runs_get_no_extra_columns() {
        let r = run(SHOP);
        let summary = reports::summary(&r);
        assert!(!summary.contains("┆ 429 ┆") && !summary.contains("┆ failed ┆"));
        assert!(!summary.contains("sessions ("));
        let charts = reports::run_charts(&r).expect("charts");
        assert!(charts.iter().all(|c| c.file != "pods.svg"), "fixed pods");
    }
}

/// Issue 13, item 5: the plan's page and charts show what decided — every
/// objective of every variant against its limit, the worst objective
/// against cost — and the star goes to the chosen variant only; the
/// sweep's page keeps cost and errors in view, prints a shard table that
/// does not change once, and shows the windowed figures.
mod what_decided {
    use super::common::*;
    use serde_json::{Value, json};

    /// One check of a plan document.
    fn check(slo: &str, mean: f64, hw: f64, verdict: &str, margin: f64) -> Value {
        json!({ "slo": slo, "estimate": { "mean": mean, "ci95": hw, "low": mean - hw, "high": mean + hw },
                "verdict": verdict, "margin": margin })
    }

    /// A plan over `app.replicas` 2..=5 decided by utilisation: p99 holds
    /// flat everywhere (well under its limit), the minimum throughput
    /// holds at 125% of its limit (so it is the chosen variant's closest
    /// objective: it uses 80% of its limit), and utilisation < 80% fails
    /// at 2 and 3 replicas, is unsure at 4 and holds at 5 (75%), the
    /// chosen one. The
    /// cost-vs-p99 frontier holds failing variants, as the planner writes
    /// it. Without `with_p99`, the p99 objective is left out.
    pub fn decided_plan(with_p99: bool) -> models::PlanResult {
        let rows = [
            (2, 1.2, "fails", "fails"),
            (3, 0.95, "fails", "fails"),
            (4, 0.8, "unsure", "unsure"),
            (5, 0.6, "holds", "meets"),
        ];
        let evaluated: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, (r, util, verdict, status))| {
                let mut checks = Vec::new();
                if with_p99 {
                    checks.push(check("p99<250ms", 40.0, 1.0, "holds", 210.0));
                }
                checks.push(check("util<80%", *util, 0.01, verdict, 0.8 - util));
                checks.push(check("throughput>1000", 1250.0, 5.0, "holds", 250.0));
                json!({
                    "index": i, "params": { "services.app.replicas": r }, "replications": 3,
                    "cost_per_hour": 0.5 * f64::from(*r),
                    "p99_ms": { "mean": 40.0, "ci95": 1.0, "low": 39.0, "high": 41.0 },
                    "checks": checks, "status": status
                })
            })
            .collect();
        let mut slos = Vec::new();
        if with_p99 {
            slos.push(
                json!({ "text": "p99<250ms", "metric": "p99_ms", "op": "below", "limit": 250.0,
                              "unit": "ms", "percent": false }),
            );
        }
        slos.push(
            json!({ "text": "util<80%", "metric": "service.app.utilisation", "op": "below",
                          "limit": 0.8, "unit": "", "percent": true }),
        );
        slos.push(
            json!({ "text": "throughput>1000", "metric": "throughput_rps", "op": "above",
                          "limit": 1000.0, "unit": "requests/s", "percent": false }),
        );
        serde_json::from_value(json!({
            "identity": { "scenario": "busy", "scenario_hash": "0", "sets": [], "name": null,
                          "dims": [{ "path": "services.app.replicas", "values": [2, 3, 4, 5] }],
                          "replications": 3, "seed": 1 },
            "slos": slos,
            "grid_size": 4, "runs": 12, "search": null,
            "chosen": evaluated[3].clone(),
            "evaluated": evaluated,
            "frontier": [0, 1, 2, 3],
            "unstable": []
        }))
        .expect("a plan document")
    }

    /// The `<tr>` of the evaluated table whose variant is `replicas`.
    fn evaluated_row(html: &str, replicas: u32) -> &str {
        let table = &html[html.find("<section id=\"evaluated\">").expect("evaluated")..];
        let table = &table[..table.find("</section>").expect("end")];
        let at = table
            .find(&format!("replicas</span>=<b>{replicas}</b>"))
            .unwrap_or_else(|| panic!("no row for replicas={replicas}"));
        let start = table[..at].rfind("<tr").expect("row start");
        let end = at + table[at..].find("</tr>").expect("row end");
        &table[start..end]
    }

    #[test]
    fn the_star_marks_the_chosen_variant_only() {
        let p = decided_plan(true);
        let files = reports::plan_report(&p).expect("report");
        let html = index(&files);
        for r in [2, 3, 4] {
            assert!(
                !evaluated_row(html, r).contains('★'),
                "replicas={r} is starred"
            );
        }
        let chosen = evaluated_row(html, 5);
        assert!(chosen.contains("★ chosen"), "{chosen}");
        // The Pareto star of the old table is gone: before the charts, ★
        // appears in the chosen box and the chosen row (and the note that
        // says so), nowhere else.
        let tables = &html[..html.find("<section id=\"charts\">").expect("charts")];
        assert_eq!(tables.matches('★').count(), 3, "{tables}");
        assert_eq!(tables.matches("★ marks the chosen variant only").count(), 1);
        // In the charts too: only the chosen variant's label has a star.
        let charts = reports::charts::plan_charts(&p).expect("charts");
        check_charts(&charts, &files);
        for c in &charts {
            let t = texts(&c.file, &c.svg);
            let starred: Vec<&String> = t.iter().filter(|x| x.contains('★')).collect();
            assert!(
                starred.iter().all(|x| x.contains("replicas=5")),
                "{}: {starred:?}",
                c.file
            );
        }
    }

    #[test]
    fn a_plan_decided_by_utilisation_says_so() {
        let p = decided_plan(true);
        let files = reports::plan_report(&p).expect("report");
        let html = index(&files);
        // What decided: utilisation turned the three cheaper variants
        // down (two fail, one unsure); p99 and throughput none.
        let decided = &html[html.find("<section id=\"decided\">").expect("decided")..];
        let decided = &decided[..decided.find("</section>").expect("end")];
        assert!(
            decided.contains("3 cheaper variants were turned down by: <code>util&lt;80%</code>"),
            "{decided}"
        );
        assert!(decided.contains("fails on 2"), "{decided}");
        assert!(decided.contains("unsure on 1"), "{decided}");
        let p99_row = row(decided, "<code>p99&lt;250ms</code>");
        assert!(!p99_row.contains("hot"), "{p99_row}");
        assert!(row(decided, "<code>util&lt;80%</code>").contains("class=\"hot\""));

        // The worst-objective chart: each failing variant labelled with
        // utilisation at its share of the limit, the chosen one too.
        let charts = reports::charts::plan_charts(&p).expect("charts");
        let names: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(
            names,
            [
                "plan-worst-objective.svg",
                "plan-objectives.svg",
                "plan-cost-p99.svg"
            ]
        );
        let t = texts(names[0], &charts[0].svg);
        for label in [
            "replicas=2: util<80% 150%",
            "replicas=3: util<80% 119%",
            "replicas=4: util<80% 100.0%",
            "★ chosen: replicas=5, $2.50/h, closest: throughput>1000 80%",
        ] {
            assert!(t.iter().any(|x| x == label), "no {label} in {t:?}");
        }
        assert!(mentions(&t, "the limit of every objective (100%)"), "{t:?}");

        // Without a p99 objective there is no cost-vs-p99 chart (its flat
        // line decided nothing).
        let p = decided_plan(false);
        let charts = reports::charts::plan_charts(&p).expect("charts");
        assert!(charts.iter().all(|c| c.file != "plan-cost-p99.svg"));
        check_charts(&charts, &reports::plan_report(&p).expect("report"));
    }

    #[test]
    fn every_objective_of_every_variant_against_its_limit() {
        let p = decided_plan(true);
        let charts = reports::charts::plan_charts(&p).expect("charts");
        let c = chart(&charts, "plan-objectives.svg");
        let t = texts(&c.file, &c.svg);
        // One row per objective per variant, one heading per variant.
        for slo in ["p99<250ms", "util<80%", "throughput>1000"] {
            assert_eq!(t.iter().filter(|x| *x == slo).count(), 4, "{slo}: {t:?}");
        }
        for heading in [
            "replicas=2 · $1.00/h — FAILS",
            "replicas=4 · $2.00/h — unsure",
            "★ chosen: replicas=5 · $2.50/h — meets",
        ] {
            assert!(t.iter().any(|x| x == heading), "no {heading} in {t:?}");
        }
        // The shares: p99 40 of 250 ms is 16%; utilisation 1.2 of 0.8 is
        // 150%; a minimum throughput of 1000 met at 1250 is 125% (its
        // failing side is left of the limit).
        assert_eq!(t.iter().filter(|x| *x == "16%").count(), 4, "{t:?}");
        assert_eq!(t.iter().filter(|x| *x == "125%").count(), 4, "{t:?}");
        assert!(t.iter().any(|x| x == "150%"), "{t:?}");
        assert!(t.iter().any(|x| x == "75%"), "{t:?}");
        // The chosen group is tinted.
        assert!(c.svg.contains("#E2F4ED"), "no tint");

        // The page's table: each objective of each variant with its
        // estimate, share and verdict; a minimum's bar is shaded left.
        let html = index(&reports::plan_report(&p).expect("report")).to_string();
        let r2 = evaluated_row(&html, 2);
        assert!(r2.contains("120.0 ± 1.0%"), "{r2}");
        assert!(r2.contains("150%"), "{r2}");
        assert!(r2.contains("✗ fails"), "{r2}");
        assert!(r2.contains("1,250.0 ± 5.0 requests/s"), "{r2}");
        assert!(r2.contains("<span class=\"limit min\""), "{r2}");
        assert!(r2.contains("125%"), "{r2}");
        assert_eq!(r2.matches("<span class=\"limit ").count(), 3, "{r2}");
        // Worst objective column, with the use of its limit.
        assert!(r2.contains("<code>util&lt;80%</code> 150%"), "{r2}");
        // The variant, its cost and status stay in view.
        assert!(html.contains("table.evaluated :is(th,td):nth-child(-n+3) { position: sticky;"));
    }

    /// A sweep over `app.replicas` with windowed objectives' figures, a
    /// database whose load does not change between variants and one
    /// whose load does.
    pub fn windowed_sweep() -> models::SweepResult {
        let est = |m: f64, hw: f64| json!({ "mean": m, "ci95": hw, "low": m - hw, "high": m + hw });
        let variants = [2, 4, 8]
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let f = f64::from(*r);
                let moved = if *r == 2 { [0.5, 0.5] } else { [0.6, 0.4] };
                json!({
                    "index": i, "params": { "services.app.replicas": r }, "replications": 3,
                    "metrics": {
                        "throughput_rps": est(1000.0, 5.0), "error_rate": est(0.02 / f, 0.001),
                        "p99_ms": est(80.0 / f, 1.0), "service.app.utilisation": est(0.9 / f, 0.01),
                        "db.orders.hot_spot_index": est(1.02, 0.01),
                        "db.catalog.hot_spot_index": est(1.2, 0.01),
                        "cost.per_hour": est(0.17 * f, 0.0),
                        "cost.per_million_requests": est(0.05 * f, 0.0),
                        "p99_ms@8m..17m": est(120.0 / f, 2.0),
                        "error_rate@8m..17m": est(0.05 / f, 0.002),
                        "service.app.utilisation@8m..17m": est(1.1 / f, 0.01)
                    },
                    "pooled": {},
                    "shard_share": { "orders": [0.251, 0.249, 0.25, 0.25], "catalog": moved },
                    "keys_moved": {}
                })
            })
            .collect();
        sweep(
            "windows",
            json!([{ "path": "services.app.replicas", "values": [2, 4, 8] }]),
            3,
            variants,
        )
    }

    #[test]
    fn the_sweep_page_pins_cost_and_errors_and_shows_windows() {
        let s = windowed_sweep();
        let files = reports::sweep_report(&s).expect("report");
        let html = index(&files);
        let table = &html[html.find("<section id=\"variants\">").expect("variants")..];
        let header = &table[..table.find("</tr>").expect("header")];
        let columns: Vec<&str> = header
            .split("<th")
            .skip(1)
            .filter(|h| !h.starts_with("ead"))
            .map(|h| {
                let h = &h[h.find('>').expect(">") + 1..];
                &h[..h.find("</th>").expect("</th>")]
            })
            .collect();
        // Cost and errors right after the variant, pinned; each windowed
        // figure beside its whole-run one.
        assert_eq!(&columns[..3], ["variant", "$/hour", "errors"]);
        assert_eq!(columns[3], "errors @8m–17m");
        let at = |c: &str| {
            columns
                .iter()
                .position(|x| *x == c)
                .unwrap_or_else(|| panic!("no column {c} in {columns:?}"))
        };
        assert_eq!(at("p99 @8m–17m"), at("p99 ms") + 1);
        assert_eq!(
            at("app.utilisation @8m–17m"),
            at("app.utilisation (whole run)") + 1
        );
        assert!(html.contains("table.variants :is(th,td):nth-child(-n+3) { position: sticky;"));
        // Windowed figures in their units: ms, percentages.
        let first = row(table, "replicas</span>=<b>2</b>");
        for cell in ["$0.34 ± $0", "60.0 ± 2.0ms", "55.0 ± 1.0%", "2.50 ± 0.20%"] {
            assert!(first.contains(cell), "no {cell} in {first}");
        }
        assert!(
            first.contains("<span class=\"bad\">1.00 ± 0.10%</span>"),
            "{first}"
        );

        // The orders table does not change: printed once; the catalog's
        // groups the two variants that share a layout.
        let shards = &html[html.find("<section id=\"shards\">").expect("shards")..];
        let orders = &shards[shards.find("— orders").expect("orders")..];
        let orders = &orders[..orders.find("</table>").expect("end")];
        assert_eq!(orders.matches("<tr>").count(), 2, "{orders}");
        assert!(orders.contains("all 3 variants"), "{orders}");
        assert!(orders.contains("The same in every variant"), "{orders}");
        let catalog = &shards[shards.find("— catalog").expect("catalog")..];
        let catalog = &catalog[..catalog.find("</table>").expect("end")];
        assert_eq!(catalog.matches("<tr>").count(), 3, "{catalog}");
        let grouped = row(catalog, "replicas</span>=<b>4</b>");
        assert!(grouped.contains("replicas</span>=<b>8</b>"), "{grouped}");
        // The shard charts too: one row for orders, two for catalog.
        let charts = reports::charts::sweep_charts(&s).expect("charts");
        check_charts(&charts, &files);
        let orders = texts("orders", &chart(&charts, "sweep-shards-orders.svg").svg);
        assert!(orders.iter().any(|x| x == "all 3 variants"), "{orders:?}");
        assert!(!mentions(&orders, "replicas="), "{orders:?}");
        let catalog = texts("catalog", &chart(&charts, "sweep-shards-catalog.svg").svg);
        assert!(catalog.iter().any(|x| x == "replicas=2"), "{catalog:?}");
        assert!(
            catalog.iter().any(|x| x == "replicas=4; replicas=8"),
            "{catalog:?}"
        );
    }
}
