//! `index.html`: one self-contained page per report — the scenario, the
//! summary tables and every chart with its title and what to look at.
//!
//! The page needs nothing but itself: CSS is inline, there is no script,
//! no web font and no external style, and the charts are inlined as SVG,
//! so the one file can be attached to a design review, mailed or opened
//! from a CI artifact on its own (the `.svg` files beside it remain, for
//! slides, and each figure links to its file). Plotters escapes the text
//! it writes into an SVG; a chart that somehow carried markup that could
//! run (`<script`, `<foreignObject`, an `on…=` handler) is embedded as an
//! `<img>` instead, which never runs anything.
//!
//! Every string that comes from a scenario or a saved document (names,
//! descriptions, parameter values, warnings, objectives) goes through
//! [`escape`].

use std::fmt::Write as _;

use models::{
    Check, Estimate, Evaluated, PlanResult, Slo, Status, SweepResult, VariantSummary, Verdict,
};
use models::{EndpointResult, Results};
use serde_json::Value;

use crate::chart::{Chart, slug};
use crate::table::{ms, worst_p99};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --zebra: #f6f7f9;
  --bad: #b34700; --good: #00795a; --warn: #8a5a00; --bar: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 48px; }
header .kind { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .06em; }
h1 { margin: 4px 0 8px; font-size: 28px; line-height: 1.2; overflow-wrap: anywhere; }
h2 { margin: 36px 0 10px; font-size: 21px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 22px 0 6px; font-size: 17px; overflow-wrap: anywhere; }
p { margin: 6px 0; }
.desc { max-width: 80ch; }
.meta, .note { color: var(--muted); font-size: 13px; }
nav { margin: 16px 0; padding: 8px 12px; background: var(--zebra); border-radius: 6px; font-size: 14px; }
nav a { margin-right: 14px; white-space: nowrap; }
a { color: #005a8c; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .k { color: var(--muted); font-size: 13px; }
.box { border-left: 4px solid; border-radius: 4px; padding: 8px 14px; margin: 14px 0; }
.box.warn { border-color: #e69f00; background: #fff8e6; }
.box.bad { border-color: var(--bad); background: #fdf0e8; }
.box.good { border-color: var(--good); background: #e9f6f1; }
.box ul { margin: 4px 0; padding-left: 20px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { text-align: left; background: var(--zebra); font-weight: 600; vertical-align: bottom; }
td { overflow-wrap: break-word; }
td.n, th.n { text-align: right; }
td.n { white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fbfbfc; }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
tr.hot td { background: #fdf0e8 !important; }
.bad { color: var(--bad); font-weight: 600; }
.good { color: var(--good); font-weight: 600; }
.unsure { color: var(--warn); font-weight: 600; }
.sharebar { display: inline-block; vertical-align: middle; width: 90px; height: 10px;
  background: var(--zebra); border: 1px solid var(--line); margin-right: 6px; }
.sharebar span { display: block; height: 100%; background: var(--bar); }
code { font-size: 13px; background: var(--zebra); padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
figure { margin: 18px 0 28px; padding: 0; break-inside: avoid; }
figure h3 { margin-bottom: 2px; }
figure .look { margin: 2px 0 8px; color: var(--muted); max-width: 90ch; }
figure svg, figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
ol.toc { columns: 2; column-gap: 32px; padding-left: 22px; font-size: 14px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { nav { display: none; } main { max-width: none; } h2 { break-after: avoid; } }
"#;

/// The page around `body`.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

// ---------------------------------------------------------------- numbers

/// A fraction as a percentage, with precision for small ones.
fn pct(v: f64) -> String {
    if v == 0.0 {
        "0%".into()
    } else if v.abs() < 0.001 {
        format!("{:.3}%", v * 100.0)
    } else if v.abs() < 0.1 {
        format!("{:.2}%", v * 100.0)
    } else {
        format!("{:.1}%", v * 100.0)
    }
}

/// An integer with thousands separators: `2,727,347`.
fn int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in seconds for people: `45s`, `2m30s`, `1h5m`.
fn secs(v: f64) -> String {
    if v >= 3600.0 {
        let h = (v / 3600.0).floor();
        let m = ((v - h * 3600.0) / 60.0).round();
        if m == 0.0 {
            format!("{h:.0}h")
        } else {
            format!("{h:.0}h{m:.0}m")
        }
    } else if v >= 60.0 {
        let m = (v / 60.0).floor();
        let s = (v - m * 60.0).round();
        if s == 0.0 {
            format!("{m:.0}m")
        } else {
            format!("{m:.0}m{s:.0}s")
        }
    } else if v.fract() == 0.0 {
        format!("{v:.0}s")
    } else {
        format!("{v:.1}s")
    }
}

/// Money: `$8.87`, `$1,234`.
fn money(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("${}", int(v.round() as u64))
    } else {
        format!("${v:.2}")
    }
}

/// A plain number: `1.45`, `250`, `0.0123`.
fn num(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.3}")
    }
}

/// A mean ± 95% half-width, each value shown by `show` (used where the
/// unit has its own formatter, such as an objective's).
pub(crate) fn estimate(e: &Estimate, show: impl Fn(f64) -> String) -> String {
    match e.ci95 {
        Some(h) if h != 0.0 => format!("{} ± {}", show(e.mean), show(h)),
        _ => show(e.mean),
    }
}

/// A mean ± 95% half-width times `scale`, both to the same decimals (set
/// by the mean's size), then `suffix`: `30.98 ± 0.15`, `62.7 ± 1.5%`. No
/// interval is shown without replications or when they all agreed.
fn est(e: &Estimate, scale: f64, suffix: &str) -> String {
    let m = e.mean * scale;
    let d = if m.abs() >= 100.0 {
        0
    } else if m.abs() >= 10.0 {
        1
    } else if m.abs() >= 1.0 || m == 0.0 {
        2
    } else {
        3
    };
    let m_text = if m == 0.0 {
        "0".to_string()
    } else {
        format!("{m:.d$}")
    };
    match e.ci95 {
        Some(h) if h != 0.0 => format!("{m_text} ± {:.d$}{suffix}", h * scale),
        _ => format!("{m_text}{suffix}"),
    }
}

/// The last two segments of a field path: `orders.shard_key`.
fn short_path(path: &str) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    if segs.len() > 2 {
        segs[segs.len() - 2..].join(".")
    } else {
        path.to_string()
    }
}

/// A sweep parameter value as text (strings without quotes), escaped.
fn value(v: &Value) -> String {
    escape(&match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// `params` as `path=value, ...`, escaped.
fn params_text<'a>(params: impl IntoIterator<Item = (&'a String, &'a Value)>) -> String {
    params
        .into_iter()
        .map(|(p, v)| {
            format!(
                "<span title=\"{}\">{}</span>=<b>{}</b>",
                escape(p),
                escape(&short_path(p)),
                value(v)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------- tables

/// A table under construction: a header, then rows of cells whose HTML
/// the caller has already escaped.
pub(crate) struct Html {
    out: String,
}

impl Html {
    pub(crate) fn new(header: &[(&str, bool)]) -> Html {
        let mut out = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
        for (h, numeric) in header {
            let _ = write!(
                out,
                "<th{}>{}</th>",
                if *numeric { " class=\"n\"" } else { "" },
                escape(h)
            );
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        Html { out }
    }

    /// A row; each cell is (html, numeric).
    pub(crate) fn row(&mut self, class: &str, cells: &[(String, bool)]) {
        if class.is_empty() {
            self.out.push_str("<tr>");
        } else {
            let _ = write!(self.out, "<tr class=\"{class}\">");
        }
        for (c, numeric) in cells {
            let _ = write!(
                self.out,
                "<td{}>{c}</td>",
                if *numeric { " class=\"n\"" } else { "" }
            );
        }
        self.out.push_str("</tr>\n");
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</tbody>\n</table></div>\n");
        self.out
    }
}

/// A numeric cell.
pub(crate) fn n(s: impl Into<String>) -> (String, bool) {
    (s.into(), true)
}

/// A text cell (already escaped).
pub(crate) fn t(s: impl Into<String>) -> (String, bool) {
    (s.into(), false)
}

/// A share of the whole as a small bar and a percentage.
fn share_bar(v: f64) -> String {
    let w = (v * 100.0).clamp(0.0, 100.0);
    format!(
        "<span class=\"sharebar\"><span style=\"width:{w:.1}%\"></span></span>{}",
        pct(v)
    )
}

// ---------------------------------------------------------------- charts

/// True when an SVG carries something a browser could run inline.
fn active(svg: &str) -> bool {
    let lower = svg.to_ascii_lowercase();
    lower.contains("<script")
        || lower.contains("<foreignobject")
        || lower.contains("javascript:")
        || lower
            .split(|c: char| c.is_whitespace())
            .any(|w| w.starts_with("on") && w.contains('='))
}

/// The anchor of a chart's figure.
fn chart_id(c: &Chart) -> String {
    format!("chart-{}", slug(c.file.trim_end_matches(".svg")))
}

/// Every chart as a figure: its title, what to look at, the picture.
pub(crate) fn charts_section(charts: &[Chart]) -> String {
    let mut out = String::new();
    if charts.is_empty() {
        return out;
    }
    out.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n<ol class=\"toc\">\n");
    for c in charts {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            chart_id(c),
            escape(&c.title)
        );
    }
    out.push_str("</ol>\n");
    for c in charts {
        let id = chart_id(c);
        let file = escape(&c.file);
        let title = escape(&c.title);
        let _ = write!(
            out,
            "<figure id=\"{id}\">\n<h3>{title}</h3>\n<p class=\"look\">{}</p>\n",
            escape(&c.what_to_look_at)
        );
        let svg = c.svg.trim_start();
        if svg.starts_with("<svg ") && !active(svg) {
            let _ = writeln!(
                out,
                "<svg role=\"img\" aria-label=\"{title}\" {}",
                &svg["<svg ".len()..]
            );
        } else {
            let _ = writeln!(out, "<img src=\"{file}\" alt=\"{title}\">");
        }
        let _ = write!(
            out,
            "<figcaption>Chart file: <a href=\"{file}\">{file}</a></figcaption>\n</figure>\n"
        );
    }
    out.push_str("</section>\n");
    out
}

/// The contents line: links to the sections present and to each chart.
pub(crate) fn nav(sections: &[(&str, &str)], charts: &[Chart]) -> String {
    let mut out = String::from("<nav>");
    for (id, name) in sections {
        let _ = write!(out, "<a href=\"#{id}\">{}</a>", escape(name));
    }
    if !charts.is_empty() {
        out.push_str("<a href=\"#charts\">Charts</a>");
    }
    out.push_str("</nav>\n");
    out
}

/// Warnings in a box at the top, where no one can miss them.
fn warnings_box(warnings: &[String]) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section id=\"warnings\" class=\"box warn\">\n<strong>Warnings</strong>\n<ul>\n",
    );
    for w in warnings {
        let _ = writeln!(out, "<li>{}</li>", escape(w));
    }
    out.push_str("</ul>\n</section>\n");
    out
}

// ---------------------------------------------------------------- run

/// The page of one run: scenario, headline figures, warnings, the tables
/// of endpoints, services, databases, caches, queues and cost, then every
/// chart.
pub fn run_page(r: &Results, charts: &[Chart]) -> String {
    let s = &r.scenario;
    let mut b = String::new();
    let _ = write!(
        b,
        "<header>\n<p class=\"kind\">capsim run report</p>\n<h1>{}</h1>\n<p class=\"desc\">{}</p>\n<p class=\"meta\">Seed {} · {} simulated · the first {} is warm-up, excluded from the tables (the charts show the whole run) · capsim {} · results format {}</p>\n</header>\n",
        escape(&s.name),
        escape(&s.description),
        s.seed,
        secs(s.duration_s),
        secs(s.warmup_s),
        escape(&r.capsim_version),
        r.format_version
    );
    let mut sections = vec![("summary", "Summary"), ("endpoints", "Endpoints")];
    if !r.services.is_empty() || !r.load_balancers.is_empty() {
        sections.push(("services", "Services"));
    }
    if !r.databases.is_empty() {
        sections.push(("databases", "Databases"));
    }
    if !r.caches.is_empty() || !r.cdns.is_empty() {
        sections.push(("caches", "Caches"));
    }
    if !r.queues.is_empty() {
        sections.push(("queues", "Queues"));
    }
    sections.push(("cost", "Cost"));
    b.push_str(&nav(&sections, charts));
    b.push_str(&warnings_box(&r.warnings));
    b.push_str(&run_summary(r));
    b.push_str(&endpoints_table(r));
    b.push_str(&services_table(r));
    b.push_str(&databases_tables(r));
    b.push_str(&caches_table(r));
    b.push_str(&queues_table(r));
    b.push_str(&cost_table(r));
    b.push_str(&charts_section(charts));
    let g = &r.engine;
    let _ = writeln!(
        b,
        "<footer>Engine: {} events in {:.2} s of wall time ({:.1} M events/s); the only figures that depend on the machine.</footer>",
        int(g.events),
        g.wall_time_s,
        g.events_per_sec / 1e6
    );
    page(&format!("{} — capsim run report", s.name), &b)
}

fn run_summary(r: &Results) -> String {
    let t = &r.totals;
    let o = &r.overall;
    let mut b = String::from("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
    let card = |b: &mut String, v: String, k: &str, class: &str| {
        let _ = writeln!(
            b,
            "<div class=\"card\"><div class=\"v {class}\">{v}</div><div class=\"k\">{k}</div></div>"
        );
    };
    card(
        &mut b,
        int(t.generated),
        "requests generated (whole run)",
        "",
    );
    card(
        &mut b,
        format!("{:.0}/s", o.throughput_rps),
        "ok responses, measured period",
        "",
    );
    card(
        &mut b,
        pct(o.error_rate),
        "errors (timeouts + rejections)",
        if o.errors > 0 { "bad" } else { "" },
    );
    card(
        &mut b,
        format!("{} ms", ms(o.latency.p99_ms)),
        "p99 latency, all endpoints",
        "",
    );
    card(&mut b, money(r.cost.per_hour), "cost per hour", "");
    b.push_str("</div>\n");
    let _ = write!(
        b,
        "<p class=\"note\">Every request of the run: {} generated = {} completed + {} failed (timed out) + {} rejected + {} still in flight at the end.</p>\n</section>\n",
        int(t.generated),
        int(t.completed),
        int(t.failed),
        int(t.rejected),
        int(t.in_flight)
    );
    b
}

fn endpoints_table(r: &Results) -> String {
    let iv = r.time_series.interval_s;
    // Failures in flight (502) and 429s get a column only when there are
    // any.
    let any_aborted = r.overall.aborted > 0;
    let any_limited = r.overall.rate_limited > 0;
    let mut header = vec![
        ("endpoint", false),
        ("requests", true),
        ("ok/s", true),
        ("errors", true),
        ("timeouts", true),
        ("rejected", true),
    ];
    if any_aborted {
        header.push(("failed in flight", true));
    }
    if any_limited {
        header.push(("rate limited (429)", true));
    }
    header.extend([
        ("p50 ms", true),
        ("p99 ms", true),
        ("p99.9 ms", true),
        ("max ms", true),
        ("worst interval p99", true),
    ]);
    let mut tb = Html::new(&header);
    let series: Vec<&[sim_core::stats::LatencyPoint]> = r
        .time_series
        .endpoints
        .iter()
        .map(|s| s.latency.as_slice())
        .collect();
    let mut rows: Vec<(
        String,
        &EndpointResult,
        &[sim_core::stats::LatencyPoint],
        &str,
    )> = r
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                format!("{}.{}", e.service, e.name),
                e,
                series.get(i).copied().unwrap_or(&[]),
                "",
            )
        })
        .collect();
    if r.endpoints.len() > 1 {
        rows.push((
            "all endpoints".into(),
            &r.overall,
            r.time_series.overall_latency.as_slice(),
            "total",
        ));
    }
    for (name, e, s, class) in rows {
        let worst = worst_p99(s, iv, r.scenario.warmup_s)
            .map_or("-".into(), |(v, at)| format!("{} (at {})", ms(v), secs(at)));
        let no_data = e.latency.count == 0;
        let lat = |v: f64| if no_data { "-".to_string() } else { ms(v) };
        let mut cells = vec![
            t(escape(&name)),
            n(int(e.count)),
            n(format!("{:.1}", e.throughput_rps)),
            n(if e.errors > 0 {
                format!("<span class=\"bad\">{}</span>", pct(e.error_rate))
            } else {
                "0%".into()
            }),
            n(int(e.timeouts)),
            n(int(e.rejected)),
        ];
        if any_aborted {
            cells.push(n(int(e.aborted)));
        }
        if any_limited {
            cells.push(n(int(e.rate_limited)));
        }
        cells.extend([
            n(lat(e.latency.p50_ms)),
            n(lat(e.latency.p99_ms)),
            n(lat(e.latency.p999_ms)),
            n(lat(e.latency.max_ms)),
            n(worst),
        ]);
        tb.row(class, &cells);
    }
    format!(
        "<section id=\"endpoints\">\n<h2>Endpoints</h2>\n<p class=\"note\">Requests that arrived after the warm-up. Latency is that of ok responses, arrival to response, as the client sees it. Errors = timeouts + rejections (503) + failures in flight (502, a crash), as a share of requests; refusals by a rate limiter (429) are counted apart. Worst interval p99: the worst {} interval with at least 100 responses.{}</p>\n{}</section>\n",
        secs(iv),
        match &r.overall.user_visible {
            Some(u) => format!(
                " With retries or closed-loop users these rows count <b>attempts</b>; users sent {} requests, {} retries followed, and {} of the requests failed at their last attempt (p99 over all attempts and backoffs: {} ms).",
                int(u.requests),
                int(r.overall.retries),
                pct(u.error_rate),
                ms(u.latency.p99_ms)
            ),
            None => String::new(),
        },
        tb.finish()
    )
}

fn services_table(r: &Results) -> String {
    if r.services.is_empty() && r.load_balancers.is_empty() {
        return String::new();
    }
    let mut tb = Html::new(&[
        ("service", false),
        ("pods × workers", true),
        ("utilisation", true),
        ("queue mean", true),
        ("queue max", true),
        ("wait mean ms", true),
        ("rejected", true),
    ]);
    for s in &r.services {
        tb.row(
            "",
            &[
                t(escape(&s.name)),
                n(format!("{} × {}", s.replicas, s.concurrency)),
                n(pct(s.utilisation)),
                n(format!("{:.2}", s.queue_length_mean)),
                n(format!("{:.0}", s.queue_length_max)),
                n(ms(s.queue_wait_mean_ms)),
                n(if s.rejected > 0 {
                    format!("<span class=\"bad\">{}</span>", int(s.rejected))
                } else {
                    "0".into()
                }),
            ],
        );
    }
    for l in &r.load_balancers {
        tb.row(
            "",
            &[
                t(format!(
                    "{} <span class=\"note\">(load balancer, {})</span>",
                    escape(&l.name),
                    escape(&l.policy)
                )),
                n("-"),
                n("-"),
                n(format!("{:.2} in flight", l.in_flight_mean)),
                n(format!("{:.0} in flight", l.in_flight_max)),
                n("-"),
                n(if l.rejected > 0 {
                    format!("<span class=\"bad\">{}</span>", int(l.rejected))
                } else {
                    "0".into()
                }),
            ],
        );
    }
    let notes: String = crate::table::component_notes(r)
        .iter()
        .map(|l| format!("<li>{}</li>\n", escape(l)))
        .collect();
    format!(
        "<section id=\"services\">\n<h2>Services</h2>\n<p class=\"note\">Utilisation = busy workers / all workers. Queue = requests waiting for a worker, all pods (time-average and largest). Wait = mean wait for a worker over every request that got one.</p>\n{}{}</section>\n",
        tb.finish(),
        if notes.is_empty() {
            String::new()
        } else {
            format!("<ul>\n{notes}</ul>\n")
        }
    )
}

fn databases_tables(r: &Results) -> String {
    if r.databases.is_empty() {
        return String::new();
    }
    let mut b = String::from(
        "<section id=\"databases\">\n<h2>Databases</h2>\n<p class=\"note\">Hot-spot index = the busiest shard's statements / the mean per shard (1 = perfectly even); per interval = the same ratio in each time interval, averaged — well above the whole-run figure when shards are hot in turn. The busiest shard is highlighted.</p>\n",
    );
    for d in &r.databases {
        let _ = write!(
            b,
            "<h3>{}</h3>\n<p>{} sharding on <code>{}</code> · {} shard{} · {} statements · hot-spot index <b>{:.2}</b> (per interval <b>{:.2}</b>) · busiest shard {} · highest shard utilisation {}</p>\n",
            escape(&d.name),
            escape(&d.strategy),
            escape(&d.shard_key),
            d.shards.len(),
            if d.shards.len() == 1 { "" } else { "s" },
            int(d.ops),
            d.hot_spot_index,
            d.hot_spot_index_by_interval,
            d.hottest_shard,
            pct(d.max_utilisation)
        );
        if let Some(note) = crate::table::db_notes(d) {
            let _ = writeln!(b, "<p>{}</p>", escape(&note));
        }
        let mut tb = Html::new(&[
            ("shard", true),
            ("reads", true),
            ("writes", true),
            ("share of statements", false),
            ("utilisation", true),
            ("queue mean", true),
            ("queue max", true),
            ("wait mean ms", true),
        ]);
        for s in &d.shards {
            let hot = s.index == d.hottest_shard && d.shards.len() > 1;
            tb.row(
                if hot { "hot" } else { "" },
                &[
                    n(if hot {
                        format!("{} (busiest)", s.index)
                    } else {
                        s.index.to_string()
                    }),
                    n(int(s.reads)),
                    n(int(s.writes)),
                    t(share_bar(s.load_share)),
                    n(pct(s.utilisation)),
                    n(format!("{:.2}", s.queue_length_mean)),
                    n(format!("{:.0}", s.queue_length_max)),
                    n(ms(s.wait_mean_ms)),
                ],
            );
        }
        b.push_str(&tb.finish());
    }
    b.push_str("</section>\n");
    b
}

fn caches_table(r: &Results) -> String {
    if r.caches.is_empty() && r.cdns.is_empty() {
        return String::new();
    }
    let mut tb = Html::new(&[
        ("cache", false),
        ("capacity (keys)", true),
        ("lookups", true),
        ("hit ratio", true),
        ("evictions", true),
        ("expirations", true),
        ("invalidations", true),
        ("keys at the end", true),
    ]);
    for c in &r.caches {
        tb.row(
            "",
            &[
                t(escape(&c.name)),
                n(int(c.capacity)),
                n(int(c.lookups)),
                n(pct(c.hit_ratio)),
                n(int(c.evictions)),
                n(int(c.expirations)),
                n(int(c.invalidations)),
                n(int(c.entries_at_end)),
            ],
        );
    }
    format!(
        "<section id=\"caches\">\n<h2>Caches</h2>\n{}{}</section>\n",
        if r.caches.is_empty() {
            String::new()
        } else {
            tb.finish()
        },
        cdns_table(r)
    )
}

/// CDN edges, under the caches.
fn cdns_table(r: &Results) -> String {
    if r.cdns.is_empty() {
        return String::new();
    }
    let mut tb = Html::new(&[
        ("CDN edge", false),
        ("origin", false),
        ("requests", true),
        ("hit ratio", true),
        ("origin offload", true),
        ("to origin", true),
        ("evictions", true),
        ("expirations", true),
    ]);
    for c in &r.cdns {
        tb.row(
            "",
            &[
                t(escape(&c.name)),
                t(escape(&c.origin)),
                n(int(c.requests)),
                n(pct(c.hit_ratio)),
                n(pct(c.offload)),
                n(int(c.origin_requests)),
                n(int(c.evictions)),
                n(int(c.expirations)),
            ],
        );
    }
    format!(
        "<h3>CDN edges</h3>\n<p class=\"note\">Hit ratio = answered at the edge / requests for cached endpoints. Origin offload = edge hits / everything the origin would have served without the edge.</p>\n{}",
        tb.finish()
    )
}

fn queues_table(r: &Results) -> String {
    if r.queues.is_empty() {
        return String::new();
    }
    let mut tb = Html::new(&[
        ("queue", false),
        ("partitions", true),
        ("consumers", true),
        ("consumers busy", true),
        ("published", true),
        ("consumed", true),
        ("dropped", true),
        ("lag mean", true),
        ("lag max", true),
        ("lag at end", true),
        ("e2e p50 ms", true),
        ("e2e p99 ms", true),
    ]);
    for q in &r.queues {
        tb.row(
            "",
            &[
                t(escape(&q.name)),
                n(q.partitions.to_string()),
                n(format!("{} ({} active)", q.consumers, q.active_consumers)),
                n(pct(q.consumer_utilisation)),
                n(int(q.published)),
                n(int(q.consumed)),
                n(if q.dropped > 0 {
                    format!("<span class=\"bad\">{}</span>", int(q.dropped))
                } else {
                    "0".into()
                }),
                n(format!("{:.1}", q.lag_mean)),
                n(format!("{:.0}", q.lag_max)),
                n(int(q.lag_at_end)),
                n(ms(q.end_to_end.p50_ms)),
                n(ms(q.end_to_end.p99_ms)),
            ],
        );
    }
    format!(
        "<section id=\"queues\">\n<h2>Queues</h2>\n<p class=\"note\">Lag = messages published and not yet processed. e2e = end-to-end latency of a message, publish to processed. Consumers: in the group (those owning a partition); busy = mean busy fraction of the active ones.</p>\n{}</section>\n",
        tb.finish()
    )
}

fn cost_table(r: &Results) -> String {
    let c = &r.cost;
    let mut b = format!(
        "<section id=\"cost\">\n<h2>Cost</h2>\n<p><b>{}</b> per hour · {} for this run ({}) · {} per million completed requests</p>\n",
        money(c.per_hour),
        money(c.total),
        secs(r.scenario.duration_s),
        money(c.per_million_requests)
    );
    if !c.items.is_empty() {
        let mut tb = Html::new(&[
            ("component", false),
            ("unit", false),
            ("count", true),
            ("price per hour", true),
            ("per hour", true),
        ]);
        for i in &c.items {
            tb.row(
                "",
                &[
                    t(escape(&i.component)),
                    t(escape(&i.unit)),
                    n(num(i.count)),
                    n(money(i.price_per_hour)),
                    n(money(i.per_hour)),
                ],
            );
        }
        tb.row(
            "total",
            &[t("total"), t(""), n(""), n(""), n(money(c.per_hour))],
        );
        b.push_str(&tb.finish());
    }
    b.push_str("</section>\n");
    b
}

// ---------------------------------------------------------------- sweep

/// Names of `prefix.X.suffix` metrics present in `v`, in order.
fn names_of(v: &VariantSummary, prefix: &str, suffix: &str) -> Vec<String> {
    v.metrics
        .keys()
        .filter_map(|k| k.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)))
        .map(String::from)
        .collect()
}

/// The page of a sweep: what was varied, one row per variant (its
/// parameters and estimates with 95% intervals), the per-shard load of
/// every variant, then the charts.
pub fn sweep_page(s: &SweepResult, charts: &[Chart]) -> String {
    let id = &s.identity;
    let mut b = String::new();
    let name = id.name.as_deref().map_or(String::new(), |n| {
        format!(" — sweep <code>{}</code>", escape(n))
    });
    let _ = write!(
        b,
        "<header>\n<p class=\"kind\">capsim sweep report</p>\n<h1>{}{name}</h1>\n<p class=\"desc\">{}</p>\n<p class=\"meta\">{} variant{} × {} replication{} (seeds {}–{}) · estimates are means over replications ± the 95% confidence half-width (Student t) · capsim {}</p>\n</header>\n",
        escape(&id.scenario),
        escape(&s.description),
        s.variants.len(),
        if s.variants.len() == 1 { "" } else { "s" },
        id.replications,
        if id.replications == 1 { "" } else { "s" },
        id.seed,
        id.seed + u64::from(id.replications.max(1)) - 1,
        escape(&s.capsim_version)
    );
    let mut sections = vec![("varied", "What varies"), ("variants", "Variants")];
    let shard_tables = shard_share_tables(s);
    if !shard_tables.is_empty() {
        sections.push(("shards", "Load per shard"));
    }
    b.push_str(&nav(&sections, charts));

    b.push_str("<section id=\"varied\">\n<h2>What varies</h2>\n");
    let mut dims = Html::new(&[("field", false), ("values", false)]);
    for d in &id.dims {
        dims.row(
            "",
            &[
                t(format!("<code>{}</code>", escape(&d.path))),
                t(d.values.iter().map(value).collect::<Vec<_>>().join(", ")),
            ],
        );
    }
    b.push_str(&dims.finish());
    if !id.sets.is_empty() {
        let _ = writeln!(
            b,
            "<p>Base settings: {}</p>",
            id.sets
                .iter()
                .map(|x| format!("<code>{}</code>", escape(x)))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let _ = write!(
        b,
        "<p class=\"note\">Scenario hash {}.</p>\n</section>\n",
        escape(&id.scenario_hash)
    );

    b.push_str(&variants_table(s));
    b.push_str(&shard_tables);
    b.push_str(&charts_section(charts));
    page(&format!("{} — capsim sweep report", id.scenario), &b)
}

fn variants_table(s: &SweepResult) -> String {
    let Some(first) = s.variants.first() else {
        return "<section id=\"variants\">\n<h2>Variants</h2>\n<p>No variants.</p>\n</section>\n"
            .into();
    };
    let paths: Vec<&String> = s.identity.dims.iter().map(|d| &d.path).collect();
    let dbs: Vec<String> = names_of(first, "db.", ".hot_spot_index");
    let caches: Vec<String> = names_of(first, "cache.", ".hit_ratio");
    let any_moved = s.variants.iter().any(|v| !v.keys_moved.is_empty());
    let mut header: Vec<(String, bool)> = vec![("#".into(), true)];
    header.extend(paths.iter().map(|p| (short_path(p), false)));
    header.push(("runs".into(), true));
    header.push(("ok/s".into(), true));
    header.push(("p99 ms".into(), true));
    header.push(("errors".into(), true));
    for d in &dbs {
        header.push((format!("{d} hot-spot"), true));
        header.push((format!("{d} hot-spot per interval"), true));
    }
    if any_moved {
        header.push(("keys moved".into(), true));
    }
    for c in &caches {
        header.push((format!("{c} hit ratio"), true));
    }
    header.push(("$/hour".into(), true));
    header.push(("$ per M requests".into(), true));
    let header_refs: Vec<(&str, bool)> = header.iter().map(|(h, k)| (h.as_str(), *k)).collect();
    let mut tb = Html::new(&header_refs);
    let get = |v: &VariantSummary, k: &str, scale: f64, suffix: &str| {
        v.metrics
            .get(k)
            .map_or("-".to_string(), |e| est(e, scale, suffix))
    };
    for v in &s.variants {
        let mut row = vec![n(v.index.to_string())];
        for p in &paths {
            row.push(t(v.params.get(*p).map_or("-".into(), value)));
        }
        row.push(n(v.replications.to_string()));
        row.push(n(get(v, "throughput_rps", 1.0, "")));
        row.push(n(get(v, "p99_ms", 1.0, "")));
        let errors = get(v, "error_rate", 100.0, "%");
        let bad = v.metrics.get("error_rate").is_some_and(|e| e.mean > 0.0);
        row.push(n(if bad {
            format!("<span class=\"bad\">{errors}</span>")
        } else {
            errors
        }));
        for d in &dbs {
            row.push(n(get(v, &format!("db.{d}.hot_spot_index"), 1.0, "")));
            row.push(n(get(v, &format!("db.{d}.hot_spot_interval"), 1.0, "")));
        }
        if any_moved {
            row.push(n(if v.keys_moved.is_empty() {
                "0%".into()
            } else {
                v.keys_moved
                    .iter()
                    .map(|(d, f)| format!("{} {}", escape(d), pct(*f)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }));
        }
        for c in &caches {
            row.push(n(get(v, &format!("cache.{c}.hit_ratio"), 100.0, "%")));
        }
        row.push(n(v
            .metrics
            .get("cost.per_hour")
            .map_or("-".into(), |e| money(e.mean))));
        row.push(n(v
            .metrics
            .get("cost.per_million_requests")
            .map_or("-".into(), |e| money(e.mean))));
        tb.row("", &row);
    }
    format!(
        "<section id=\"variants\">\n<h2>Variants</h2>\n<p class=\"note\">One row per variant, in grid order; figures over the measured period of each replication. Hot-spot = busiest shard's statements / mean per shard (1 = even). Keys moved = share of rows on another shard than in the base scenario's layout.</p>\n{}</section>\n",
        tb.finish()
    )
}

fn shard_share_tables(s: &SweepResult) -> String {
    let Some(first) = s.variants.first() else {
        return String::new();
    };
    let mut b = String::new();
    for db in first.shard_share.keys() {
        let shards = s
            .variants
            .iter()
            .filter_map(|v| v.shard_share.get(db).map(Vec::len))
            .max()
            .unwrap_or(0);
        if shards < 2 {
            continue;
        }
        let mut header: Vec<String> = vec!["variant".into()];
        header.extend((0..shards).map(|i| format!("shard {i}")));
        let refs: Vec<(&str, bool)> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), i > 0))
            .collect();
        let mut tb = Html::new(&refs);
        for v in &s.variants {
            let shares = v.shard_share.get(db).cloned().unwrap_or_default();
            let max = shares.iter().copied().fold(0.0, f64::max);
            let mut row = vec![t(params_text(&v.params))];
            for i in 0..shards {
                row.push(n(match shares.get(i) {
                    Some(x) if *x == max && shares.len() > 1 => format!("<b>{}</b>", pct(*x)),
                    Some(x) => pct(*x),
                    None => String::new(),
                }));
            }
            tb.row("", &row);
        }
        let _ = write!(
            b,
            "<h3>Share of statements per shard — {}</h3>\n<p class=\"note\">Mean over replications; the busiest shard of each variant in bold; an even spread is {} per shard.</p>\n{}",
            escape(db),
            pct(1.0 / shards as f64),
            tb.finish()
        );
    }
    if b.is_empty() {
        return b;
    }
    format!("<section id=\"shards\">\n<h2>Load per shard</h2>\n{b}</section>\n")
}

// ---------------------------------------------------------------- plan

fn verdict_html(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "<span class=\"good\">✓ holds</span>",
        Verdict::Fails => "<span class=\"bad\">✗ fails</span>",
        Verdict::Unsure => "<span class=\"unsure\">? unsure</span>",
    }
}

fn status_html(s: Status) -> &'static str {
    match s {
        Status::Meets => "<span class=\"good\">✓ meets</span>",
        Status::Fails => "<span class=\"bad\">✗ fails</span>",
        Status::Unsure => "<span class=\"unsure\">? unsure</span>",
    }
}

/// An objective's estimate in its unit.
fn check_value(slo: Option<&Slo>, c: &Check) -> String {
    match slo {
        Some(s) => escape(&estimate(&c.estimate, |v| s.show(v))),
        None => escape(&estimate(&c.estimate, num)),
    }
}

/// The page of a plan: the objectives, the chosen variant and its checks,
/// every evaluated variant with its status, the unstable ones, the charts.
pub fn plan_page(p: &PlanResult, charts: &[Chart]) -> String {
    let id = &p.identity;
    let mut b = String::new();
    let how = match &p.search {
        Some(s) => format!(
            "by bisection on <code>{}</code> (assumed monotone: a larger value never hurts)",
            escape(s)
        ),
        None => "evaluating every variant".into(),
    };
    let sweep_name = id.name.as_deref().map_or(String::new(), |n| {
        format!("Sweep <code>{}</code> · ", escape(n))
    });
    let _ = write!(
        b,
        "<header>\n<p class=\"kind\">capsim plan report</p>\n<h1>{}</h1>\n<p class=\"desc\">The cheapest configuration that meets every objective with 95% confidence.</p>\n<p class=\"meta\">{sweep_name}Grid of {} variant{} · searched {how} · {} evaluated in {} runs · seed {}</p>\n</header>\n",
        escape(&id.scenario),
        p.grid_size,
        if p.grid_size == 1 { "" } else { "s" },
        p.evaluated.len(),
        p.runs,
        id.seed
    );
    let mut sections = vec![
        ("objectives", "Objectives"),
        ("chosen", "Chosen"),
        ("evaluated", "Evaluated"),
    ];
    if !p.unstable.is_empty() {
        sections.push(("unstable", "Unstable"));
    }
    b.push_str(&nav(&sections, charts));

    b.push_str("<section id=\"objectives\">\n<h2>Objectives</h2>\n<ul>\n");
    for s in &p.slos {
        let _ = writeln!(b, "<li><code>{}</code></li>", escape(&s.text));
    }
    if p.slos.is_empty() {
        b.push_str("<li>none</li>\n");
    }
    b.push_str("</ul>\n");
    let dims: Vec<String> = id
        .dims
        .iter()
        .map(|d| {
            format!(
                "<code>{}</code> ∈ {{{}}}",
                escape(&d.path),
                d.values.iter().map(value).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    if !dims.is_empty() {
        let _ = writeln!(b, "<p>Searched: {}</p>", dims.join("; "));
    }
    b.push_str("</section>\n");

    b.push_str("<section id=\"chosen\">\n<h2>Chosen</h2>\n");
    match &p.chosen {
        Some(c) => {
            let _ = writeln!(
                b,
                "<div class=\"box good\"><p><b>{}</b> at <b>{}</b> per hour ({} replication{}, p99 {} ms)</p></div>",
                params_text(&c.params),
                money(c.cost_per_hour),
                c.replications,
                if c.replications == 1 { "" } else { "s" },
                est(&c.p99_ms, 1.0, "")
            );
            b.push_str(&checks_table(p, c));
            b.push_str("<p class=\"note\">An objective holds when the whole 95% interval is on the good side of its limit. Margin = distance of the mean to the limit, positive on the good side.</p>\n");
        }
        None => {
            b.push_str("<div class=\"box bad\"><p><b>No evaluated variant meets every objective.</b> The table below shows how close each came.</p></div>\n");
        }
    }
    if p.evaluated.iter().all(|e| e.cost_per_hour == 0.0) && !p.evaluated.is_empty() {
        b.push_str("<p class=\"note\">The scenario sets no prices, so every variant costs $0; ties go to the smaller configuration.</p>\n");
    }
    b.push_str("</section>\n");

    b.push_str(&evaluated_table(p));
    if !p.unstable.is_empty() {
        let mut tb = Html::new(&[("variant", false), ("why it was not run", false)]);
        for u in &p.unstable {
            tb.row("", &[t(params_text(&u.params)), t(escape(&u.reason))]);
        }
        let _ = write!(
            b,
            "<section id=\"unstable\">\n<h2>Unstable variants</h2>\n<p class=\"note\">Not run: an unbounded queue would be fed faster than it drains. They meet no objective.</p>\n{}</section>\n",
            tb.finish()
        );
    }
    b.push_str(&charts_section(charts));
    page(&format!("{} — capsim plan report", id.scenario), &b)
}

fn checks_table(p: &PlanResult, e: &Evaluated) -> String {
    let mut tb = Html::new(&[
        ("objective", false),
        ("estimate (mean ± 95%)", true),
        ("margin", true),
        ("verdict", false),
    ]);
    for c in &e.checks {
        let slo = p.slos.iter().find(|s| s.text == c.slo);
        tb.row(
            "",
            &[
                t(format!("<code>{}</code>", escape(&c.slo))),
                n(check_value(slo, c)),
                n(escape(&slo.map_or(num(c.margin), |s| s.show(c.margin)))),
                t(verdict_html(c.verdict)),
            ],
        );
    }
    tb.finish()
}

fn evaluated_table(p: &PlanResult) -> String {
    let mut header: Vec<String> = vec![
        "variant".into(),
        "runs".into(),
        "$/hour".into(),
        "p99 ms".into(),
    ];
    header.extend(p.slos.iter().map(|s| s.text.clone()));
    header.push("status".into());
    let refs: Vec<(&str, bool)> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), (1..4).contains(&i)))
        .collect();
    let mut tb = Html::new(&refs);
    let chosen = p.chosen.as_ref().map(|c| c.index);
    for (i, e) in p.evaluated.iter().enumerate() {
        let mut label = params_text(&e.params);
        if label.is_empty() {
            label = format!("#{}", e.index);
        }
        if p.frontier.contains(&i) {
            label.push_str(" <span title=\"on the cost-vs-p99 Pareto frontier\">★</span>");
        }
        if Some(e.index) == chosen {
            label.push_str(" <b>(chosen)</b>");
        }
        let mut row = vec![
            t(label),
            n(e.replications.to_string()),
            n(money(e.cost_per_hour)),
            n(est(&e.p99_ms, 1.0, "")),
        ];
        for s in &p.slos {
            row.push(match e.checks.iter().find(|c| c.slo == s.text) {
                Some(c) => t(format!(
                    "{}<br>{}",
                    check_value(Some(s), c),
                    verdict_html(c.verdict)
                )),
                None => t("-"),
            });
        }
        row.push(t(status_html(e.status)));
        tb.row(if Some(e.index) == chosen { "hot" } else { "" }, &row);
    }
    format!(
        "<section id=\"evaluated\">\n<h2>Evaluated variants</h2>\n<p class=\"note\">Cheapest first. ★ = on the cost-vs-p99 Pareto frontier: no other variant is both no dearer and faster.</p>\n{}</section>\n",
        tb.finish()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(int(2_727_347), "2,727,347");
        assert_eq!(int(999), "999");
        assert_eq!(secs(90.0), "1m30s");
        assert_eq!(secs(1800.0), "30m");
        assert_eq!(secs(15.0), "15s");
        assert_eq!(pct(0.157), "15.7%");
        assert_eq!(pct(0.0), "0%");
        assert_eq!(money(8.87), "$8.87");
        assert_eq!(short_path("databases.orders.shard_key"), "orders.shard_key");
        let e = Estimate {
            mean: 0.627,
            ci95: Some(0.0151),
            low: 0.0,
            high: 0.0,
        };
        assert_eq!(est(&e, 100.0, "%"), "62.7 ± 1.5%");
        let zero = Estimate {
            mean: 0.0,
            ci95: Some(0.0),
            low: 0.0,
            high: 0.0,
        };
        assert_eq!(est(&zero, 100.0, "%"), "0%");
    }

    #[test]
    fn active_svg_is_not_inlined() {
        assert!(active("<svg ><script>x</script></svg>"));
        assert!(active("<svg onload=\"x\"></svg>"));
        assert!(!active(
            "<svg width=\"1\"><text>&lt;script&gt;</text></svg>"
        ));
        let chart = Chart {
            file: "a.svg".into(),
            title: "t".into(),
            what_to_look_at: "w".into(),
            svg: "<svg onload=\"alert(1)\"></svg>".into(),
        };
        let html = charts_section(&[chart]);
        assert!(html.contains("<img src=\"a.svg\""));
        assert!(!html.contains("onload"));
    }
}
