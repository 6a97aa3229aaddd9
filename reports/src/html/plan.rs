//! The page of a plan: the answer first (the chosen variant, or none),
//! then what decided it — every objective with the chosen variant's
//! value as a share of its limit and the cheaper variants it turned
//! down — every evaluated variant with each objective's estimate, share
//! of its limit and verdict (the variant, its cost and status pinned
//! while the objectives scroll), the unstable variants, and the charts.

use std::fmt::Write as _;

use models::{Check, Evaluated, Op, PlanResult, Slo, Status, Verdict};

use super::page::{
    Html, LIMIT_CSS, charts_section, column_em, escape, limit_bar, n, nav, param_chars,
    params_text, pinned_css, styled_page, t, value,
};
use crate::chart::Chart;
use crate::fmt::{Unit, change, estimate, margin, money};
use crate::objectives::{
    Rejections, percent_figure, rejections, share_of_limit, slo_of, turned_down, worst,
};

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

/// The class of a verdict's bar in [`limit_bar`].
fn bar_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "h",
        Verdict::Unsure => "u",
        Verdict::Fails => "f",
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

/// A check's estimate as a share of its limit, as a bar with its
/// interval, and the share in figures (`-` when the limit is 0 or below).
fn share_cell(slo: Option<&Slo>, c: &Check) -> String {
    let Some(slo) = slo else { return "-".into() };
    let e = &c.estimate;
    match (
        share_of_limit(slo, e.low),
        share_of_limit(slo, e.mean),
        share_of_limit(slo, e.high),
    ) {
        (Some(lo), Some(mean), Some(hi)) => {
            limit_bar((lo, mean, hi), slo.op == Op::Above, bar_class(c.verdict))
        }
        _ => "-".into(),
    }
}

/// The label of a variant: its parameters (or its grid index), starred
/// when it is the chosen one — and only then.
fn variant_label(e: &Evaluated, chosen: Option<usize>) -> String {
    let mut label = params_text(&e.params);
    if label.is_empty() {
        label = format!("#{}", e.index);
    }
    if Some(e.index) == chosen {
        label = format!("<span class=\"good\">★ chosen</span><br>{label}");
    }
    label
}

/// Widths of the pinned columns of the evaluated variants (variant,
/// $/hour, status), em, from what they hold.
fn pinned_widths(p: &PlanResult) -> [f64; 3] {
    let params = p.evaluated.iter().map(|e| param_chars(&e.params));
    let cost = p
        .evaluated
        .iter()
        .map(|e| money(e.cost_per_hour).chars().count());
    [
        column_em(params.fold("★ chosen".chars().count(), usize::max)),
        column_em(cost.fold("$/hour".len(), usize::max)),
        column_em("? unsure".chars().count()),
    ]
}

/// The page of a plan: the answer, what decided it, every evaluated
/// variant with every objective, the unstable ones, the charts.
pub fn plan_page(p: &PlanResult, charts: &[Chart]) -> String {
    let id = &p.identity;
    let mut b = String::new();
    let how = if p.searched.is_empty() {
        match &p.search {
            Some(s) => format!(
                "by a monotone search on <code>{}</code> (assumed monotone: a larger value never hurts)",
                escape(s)
            ),
            None => "evaluating every variant".into(),
        }
    } else {
        let dims: Vec<String> = p
            .searched
            .iter()
            .map(|d| format!("<code>{}</code>", escape(d)))
            .collect();
        format!(
            "by a monotone search on {} (assumed monotone: a larger value never hurts): {} inferred, {} pruned by cost",
            dims.join(", "),
            p.inferred.len(),
            p.pruned
        )
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
        ("chosen", "Chosen"),
        ("decided", "What decided"),
        ("evaluated", "Evaluated"),
    ];
    if !p.unstable.is_empty() {
        sections.push(("unstable", "Unstable"));
    }
    b.push_str(&nav(&sections, charts));

    b.push_str(&chosen_section(p));
    b.push_str(&decided_section(p));
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
    let css = format!(
        "{LIMIT_CSS}{}table.evaluated :is(th,td):nth-child(5) {{ min-width: 16em; }}\ntable.evaluated :is(th,td):nth-child(n+7) {{ min-width: 11em; }}\ntd :is(.good,.bad,.unsure) {{ white-space: nowrap; }}\n",
        pinned_css("evaluated", &pinned_widths(p))
    );
    styled_page(&format!("{} — capsim plan report", id.scenario), &b, &css)
}

/// The answer: the chosen variant and its price, or none.
fn chosen_section(p: &PlanResult) -> String {
    let mut b = String::from("<section id=\"chosen\">\n<h2>Chosen</h2>\n");
    match &p.chosen {
        Some(c) => {
            let closest = worst(p, c).map_or(String::new(), |w| {
                format!(
                    "; closest to its limit: <code>{}</code> at {} of it",
                    escape(&w.slo.text),
                    percent_figure(w.used.1 * 100.0)
                )
            });
            let _ = writeln!(
                b,
                "<div class=\"box good\"><p>★ <b>{}</b> at <b>{}</b> per hour ({} replication{}){closest}.</p><p>Every objective holds with 95% confidence: the far end of each interval is inside its limit.</p></div>",
                params_text(&c.params),
                money(c.cost_per_hour),
                c.replications,
                if c.replications == 1 { "" } else { "s" },
            );
        }
        None => {
            b.push_str("<div class=\"box bad\"><p><b>No evaluated variant meets every objective.</b> The tables below show how close each came and which objectives it fails.</p></div>\n");
        }
    }
    let dims: Vec<String> = p
        .identity
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
    if !p.paired.is_empty() {
        let mut head: Vec<(String, bool)> = vec![
            ("next smaller variant".into(), false),
            ("pairs".into(), true),
        ];
        head.extend(p.slos.iter().map(|s| (s.text.clone(), true)));
        let head: Vec<(&str, bool)> = head.iter().map(|(h, r)| (h.as_str(), *r)).collect();
        let mut tb = Html::new(&head);
        for pair in &p.paired {
            let mut cells = vec![
                t(params_text(&pair.params)),
                n(pair.replications.to_string()),
            ];
            cells.extend(
                p.slos
                    .iter()
                    .zip(&pair.differences)
                    .map(|(s, d)| n(escape(&change(d, Unit::of(s).change())))),
            );
            tb.row("", &cells);
        }
        let _ = write!(
            b,
            "<p>The chosen variant minus each evaluated variant one value smaller in a searched dimension, paired by replication (replication r of both ran with seed SEED+r, so the difference is the change's, not the seeds'), with 95% intervals:</p>\n{}",
            tb.finish()
        );
    }
    if p.evaluated.iter().all(|e| e.cost_per_hour == 0.0) && !p.evaluated.is_empty() {
        b.push_str("<p class=\"note\">The scenario sets no prices, so every variant costs $0; ties go to the smaller configuration.</p>\n");
    }
    b.push_str("</section>\n");
    b
}

/// How many variants an objective turned down, in words.
fn rejected_text(r: Rejections) -> String {
    let mut parts = Vec::new();
    if r.fails > 0 {
        parts.push(format!("<span class=\"bad\">fails on {}</span>", r.fails));
    }
    if r.unsure > 0 {
        parts.push(format!(
            "<span class=\"unsure\">unsure on {}</span>",
            r.unsure
        ));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// What decided: a sentence naming the objectives that turned the
/// cheaper variants down, then every objective with the chosen variant's
/// value against its limit and how many variants it turned down.
fn decided_section(p: &PlanResult) -> String {
    let mut b = String::from("<section id=\"decided\">\n<h2>What decided</h2>\n");
    let down = turned_down(p);
    let rej = rejections(p);
    let deciding: Vec<String> = p
        .slos
        .iter()
        .zip(&rej)
        .filter(|(_, r)| r.fails + r.unsure > 0)
        .map(|(s, r)| format!("<code>{}</code> ({})", escape(&s.text), rejected_text(*r)))
        .collect();
    let whom = if p.chosen.is_some() {
        "cheaper variant"
    } else {
        "evaluated variant"
    };
    if down.is_empty() {
        let _ = writeln!(
            b,
            "<p>No {whom} was turned down: the answer is the cheapest variant evaluated.</p>"
        );
    } else {
        let _ = writeln!(
            b,
            "<p>{} {whom}{} turned down by: {}.</p>",
            down.len(),
            if down.len() == 1 { " was" } else { "s were" },
            deciding.join("; ")
        );
    }
    let chosen = p.chosen.as_ref();
    let mut header = vec![("objective", false), ("limit", true)];
    if chosen.is_some() {
        header.extend([
            ("chosen: estimate (mean ± 95%)", true),
            ("share of the limit", false),
            ("margin", true),
            ("verdict", false),
        ]);
    }
    header.push(("turned down", false));
    let mut tb = Html::new(&header);
    for (s, r) in p.slos.iter().zip(&rej) {
        let op = match s.op {
            Op::Below => "&lt;",
            Op::Above => "&gt;",
        };
        let mut row = vec![
            t(format!("<code>{}</code>", escape(&s.text))),
            n(format!("{op} {}", escape(&s.limit_text()))),
        ];
        if let Some(c) = chosen {
            match c.checks.iter().find(|k| k.slo == s.text) {
                Some(k) => {
                    row.push(n(check_value(Some(s), k)));
                    row.push(t(share_cell(Some(s), k)));
                    row.push(n(escape(&margin(&k.estimate, k.margin, Unit::of(s)))));
                    row.push(t(verdict_html(k.verdict)));
                }
                None => row.extend([n("-"), t("-"), n("-"), t("-")]),
            }
        }
        row.push(t(rejected_text(*r)));
        tb.row(if r.fails + r.unsure > 0 { "hot" } else { "" }, &row);
    }
    b.push_str(&tb.finish());
    let columns = if chosen.is_some() {
        " The bar is the value as a share of its limit (0 to 200%, the limit at the black line, the failing side shaded: right of it for a maximum, left for a minimum), its line the 95% interval. Margin = distance of the mean to the limit, positive on the good side."
    } else {
        ""
    };
    let _ = writeln!(
        b,
        "<p class=\"note\">An objective holds when the whole 95% interval is on the good side of its limit.{columns} <i>Turned down</i> counts the {whom}s on which the objective fails or is unsure; the highlighted objectives decided the answer.</p>"
    );
    b.push_str("</section>\n");
    b
}

fn evaluated_table(p: &PlanResult) -> String {
    let mut header: Vec<(String, bool)> = vec![
        ("variant".into(), false),
        ("$/hour".into(), true),
        ("status".into(), false),
        ("runs".into(), true),
        ("worst objective (share of its limit used)".into(), false),
        ("p99 ms".into(), true),
    ];
    header.extend(p.slos.iter().map(|s| (s.text.clone(), false)));
    let refs: Vec<(&str, bool)> = header.iter().map(|(h, k)| (h.as_str(), *k)).collect();
    let mut tb = Html::with_class("evaluated", &refs);
    let chosen = p.chosen.as_ref().map(|c| c.index);
    for e in &p.evaluated {
        let worst_text = worst(p, e).map_or("-".into(), |w| {
            format!(
                "<code>{}</code> {}",
                escape(&w.slo.text),
                percent_figure(w.used.1 * 100.0)
            )
        });
        let mut row = vec![
            t(variant_label(e, chosen)),
            n(money(e.cost_per_hour)),
            t(status_html(e.status)),
            n(e.replications.to_string()),
            t(worst_text),
            n(estimate(&e.p99_ms, Unit::Plain(""))),
        ];
        for s in &p.slos {
            row.push(match e.checks.iter().find(|c| c.slo == s.text) {
                Some(c) => t(format!(
                    "{}<br>{}<br>{}{}",
                    check_value(slo_of(p, c), c),
                    share_cell(Some(s), c),
                    verdict_html(c.verdict),
                    c.reason.as_deref().map_or(String::new(), |r| format!(
                        "<br><span class=\"note\">cannot be judged: {}</span>",
                        escape(r)
                    ))
                )),
                None => t("-"),
            });
        }
        tb.row(if Some(e.index) == chosen { "hot" } else { "" }, &row);
    }
    format!(
        "<section id=\"evaluated\">\n<h2>Evaluated variants</h2>\n<p class=\"note\">Cheapest first; the variant, its cost and its status stay in view while the objectives scroll. Each objective: its estimate (mean ± 95%), the estimate as a share of its limit, its verdict. The worst objective is the one whose mean uses the most of its limit (value ÷ limit for a maximum, limit ÷ value for a minimum): above 100% it fails. ★ marks the chosen variant only.</p>\n{}</section>\n",
        tb.finish()
    )
}
