//! The pages `plan --out` and `sweep --out` write, end to end (issue 13,
//! item 5): a plan decided by utilisation, not p99, says so on its page,
//! stars the chosen variant only and draws every objective; a sweep's
//! page pins cost and errors and shows the scenario's windowed figures
//! beside the whole-run ones. What each page and chart holds in detail is
//! tested in `reports/tests/report.rs`; here the binary writes them.

use std::fs;
use std::path::Path;

use crate::cli::{Scratch, capsim};
use crate::sweep::{STATION, arg};

/// The M/M/c station of the sweep tests with a price per pod-hour and an
/// objective over a window of the run: 1000 requests/s of 10 ms need 10
/// busy workers; pods have 6, two of them by default.
fn priced_station(s: &Scratch) -> String {
    let mut v: serde_json::Value = serde_json::from_str(STATION).expect("JSON");
    v["services"][0]["concurrency"] = 6.into();
    v["services"][0]["replicas"] = 2.into();
    v["services"][0]["price_per_replica_hour"] = 0.5.into();
    v["slo"] = serde_json::json!([
        { "name": "steady", "window": { "from": "5s", "to": "15s" }, "p99": "500ms" }
    ]);
    arg(&s.file("station.json", &v.to_string()))
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every SVG in `dir` parses as XML with an `svg` root.
fn svgs_parse(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "svg") {
            let text = read(&path);
            let doc = roxmltree::Document::parse(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    names.sort();
    names
}

/// The row of the evaluated table whose variant has `replicas`.
fn evaluated_row(html: &str, replicas: u32) -> &str {
    let table = &html[html.find("<section id=\"evaluated\">").expect("evaluated")..];
    table
        .lines()
        .find(|l| l.starts_with("<tr") && l.contains(&format!("replicas</span>=<b>{replicas}</b>")))
        .unwrap_or_else(|| panic!("no row for replicas={replicas}"))
}

#[test]
fn a_plan_decided_by_utilisation_shows_what_decided() {
    let s = Scratch::new("pages-plan");
    let scenario = priced_station(&s);
    let out = s.dir.join("out");
    // Two pods are stable (12 workers for 10 erlangs) but 83% busy: the
    // utilisation objective, not p99, turns them down.
    capsim([
        "plan",
        &scenario,
        "--vary",
        "services.station.replicas=2,3,4",
        "--slo",
        "p99<500ms",
        "--slo",
        "service:station:utilisation<0.6",
        "--exhaustive",
        "-q",
        "--out",
        &arg(&out),
    ])
    .success();
    assert_eq!(
        svgs_parse(&out),
        [
            "plan-cost-p99.svg",
            "plan-objectives.svg",
            "plan-worst-objective.svg"
        ]
    );
    let html = read(&out.join("index.html"));
    let decided = &html[html.find("<section id=\"decided\">").expect("decided")..];
    let decided = &decided[..decided.find("</section>").expect("end")];
    assert!(
        decided.contains(
            "1 cheaper variant was turned down by: <code>service:station:utilisation&lt;0.6</code>"
        ),
        "{decided}"
    );
    let two = evaluated_row(&html, 2);
    assert!(!two.contains('★'), "{two}");
    assert!(two.contains("✗ fails"), "{two}");
    let three = evaluated_row(&html, 3);
    assert!(three.contains("★ chosen"), "{three}");
    assert!(!evaluated_row(&html, 4).contains('★'));
    // Each variant's worst objective is utilisation, at its share of the
    // limit (83% busy of 60%: about 139%).
    assert!(
        two.contains("<code>service:station:utilisation&lt;0.6</code> 13"),
        "{two}"
    );
    let objectives = read(&out.join("plan-objectives.svg"));
    let doc = roxmltree::Document::parse(&objectives).expect("XML");
    let rows = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter(|n| n.text().map(str::trim) == Some("service:station:utilisation<0.6"))
        .count();
    assert_eq!(rows, 3, "one row per variant");
}

#[test]
fn a_sweep_page_pins_cost_and_errors_and_shows_the_windows() {
    let s = Scratch::new("pages-sweep");
    let scenario = priced_station(&s);
    let out = s.dir.join("out");
    capsim([
        "sweep",
        &scenario,
        "--vary",
        "services.station.replicas=2,3",
        "--replications",
        "2",
        "-q",
        "--out",
        &arg(&out),
    ])
    .success();
    svgs_parse(&out);
    let html = read(&out.join("index.html"));
    let table = &html[html.find("<section id=\"variants\">").expect("variants")..];
    let header = &table[..table.find("</tr>").expect("header")];
    let at = |h: &str| {
        header
            .find(&format!(">{h}</th>"))
            .unwrap_or_else(|| panic!("no column {h} in {header}"))
    };
    assert!(at("variant") < at("$/hour") && at("$/hour") < at("errors"));
    assert!(at("errors") < at("runs"), "cost and errors come first");
    assert!(at("p99 ms") < at("p99 @5s–15s"), "{header}");
    assert!(html.contains("position: sticky"));
    // The windowed p99 is in ms, and the cost is 2 × $0.50 an hour.
    let row = table
        .lines()
        .find(|l| l.starts_with("<tr") && l.contains("replicas</span>=<b>2</b>"))
        .expect("row");
    assert!(row.contains("<td class=\"n\">$1.00 ± $0</td>"), "{row}");
    assert!(row.contains("ms</td>"), "{row}");
}
