//! The page of a plan: the objectives, the chosen variant and its checks,
//! every evaluated variant, the unstable ones, then the charts.

use std::fmt::Write as _;

use models::{Check, Evaluated, PlanResult, Slo, Status, Verdict};

use super::page::{Html, charts_section, escape, n, nav, page, params_text, t, value};
use crate::chart::Chart;
use crate::fmt::{Unit, estimate, margin, money};
use crate::shared::evaluated_header;

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

/// The unit of an objective's figures (a plain number for a check whose
/// objective the plan does not list).
fn unit_of(slo: Option<&Slo>) -> Unit<'_> {
    slo.map_or(Unit::Plain(""), Unit::of)
}

/// An objective's estimate in its unit.
fn check_value(slo: Option<&Slo>, c: &Check) -> String {
    escape(&estimate(&c.estimate, unit_of(slo)))
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
                "<div class=\"box good\"><p><b>{}</b> at <b>{}</b> per hour ({} replication{}, p99 {})</p></div>",
                params_text(&c.params),
                money(c.cost_per_hour),
                c.replications,
                if c.replications == 1 { "" } else { "s" },
                estimate(&c.p99_ms, Unit::Ms)
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
                n(escape(&margin(&c.estimate, c.margin, unit_of(slo)))),
                t(verdict_html(c.verdict)),
            ],
        );
    }
    tb.finish()
}

fn evaluated_table(p: &PlanResult) -> String {
    let header = evaluated_header(p);
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
            n(estimate(&e.p99_ms, Unit::Plain(""))),
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
