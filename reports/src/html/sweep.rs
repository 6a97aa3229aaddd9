//! The page of a sweep: what varies, one row per variant with its
//! estimates — the variant, its cost and its error rate pinned at the
//! left while the other figures scroll, the windowed figures of the
//! scenario's objectives beside the whole-run ones — the load per shard
//! (one row for the variants whose load is the same), then the charts.

use std::fmt::Write as _;

use models::{SweepResult, VariantSummary};

use super::page::{
    Html, charts_section, codes, column_em, escape, n, nav, param_chars, params_text, pinned_css,
    styled_page, t, value,
};
use crate::chart::Chart;
use crate::fmt::{Unit, estimate, metric_unit, pct, short_path};
use crate::shared::{names_of, shard_groups, sharded, window_column, windowed, windowed_name};

/// Widths of the pinned columns of the variants (variant, $/hour,
/// errors), em, from what they hold.
fn pinned_widths(s: &SweepResult) -> [f64; 3] {
    let widest = |f: &dyn Fn(&VariantSummary) -> usize, head: &str| {
        column_em(s.variants.iter().map(f).fold(head.len(), usize::max))
    };
    let text = |v: &VariantSummary, k: &str, unit: Unit| {
        v.metrics
            .get(k)
            .map_or(1, |e| estimate(e, unit).chars().count())
    };
    [
        widest(&|v| param_chars(&v.params), "variant"),
        widest(&|v| text(v, "cost.per_hour", Unit::Money("")), "$/hour"),
        widest(&|v| text(v, "error_rate", Unit::Percent), "errors"),
    ]
}

/// The page of a sweep: what was varied, one row per variant (its
/// parameters, cost, errors and estimates with 95% intervals), the
/// per-shard load of the variants, then the charts.
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
        let _ = writeln!(b, "<p>Base settings: {}</p>", codes(&id.sets));
    }
    let _ = write!(
        b,
        "<p class=\"note\">Scenario hash {}.</p>\n</section>\n",
        escape(&id.scenario_hash)
    );

    b.push_str(&variants_table(s));
    b.push_str(&shard_tables);
    b.push_str(&charts_section(charts));
    styled_page(
        &format!("{} — capsim sweep report", id.scenario),
        &b,
        &pinned_css("variants", &pinned_widths(s)),
    )
}

/// The columns of the figures a sweep records for whole runs, in the
/// table's order, each with the windowed figures of the same metric
/// right after it: (header, metric).
const WHOLE_RUN: [(&str, &str); 2] = [("ok/s", "throughput_rps"), ("p99 ms", "p99_ms")];

fn variants_table(s: &SweepResult) -> String {
    let Some(first) = s.variants.first() else {
        return "<section id=\"variants\">\n<h2>Variants</h2>\n<p>No variants.</p>\n</section>\n"
            .into();
    };
    let dbs: Vec<String> = names_of(first, "db.", ".hot_spot_index");
    let caches: Vec<String> = names_of(first, "cache.", ".hit_ratio");
    let any_moved = s.variants.iter().any(|v| !v.keys_moved.is_empty());
    let windowed = windowed(s);
    let base = |k: &str| k.split('@').next().unwrap_or(k).to_string();
    // Columns, each a header and how a cell is written.
    enum Col {
        Index,
        Runs,
        Metric(String, Unit<'static>),
        Errors(String),
        Moved,
    }
    let mut cols: Vec<(String, Col)> = Vec::new();
    // The windowed error rates first, beside the pinned whole-run one.
    for k in windowed.iter().filter(|k| base(k) == "error_rate") {
        cols.push((window_column("errors", k), Col::Errors(k.to_string())));
    }
    cols.push(("#".into(), Col::Index));
    cols.push(("runs".into(), Col::Runs));
    for (h, m) in WHOLE_RUN {
        cols.push((h.into(), Col::Metric(m.into(), Unit::Plain(""))));
        let name = h.trim_end_matches(" ms");
        for k in windowed.iter().filter(|k| base(k) == m) {
            cols.push((
                window_column(name, k),
                Col::Metric(k.to_string(), metric_unit(k)),
            ));
        }
    }
    // Every other windowed figure beside its whole-run value.
    let mut others: Vec<String> = Vec::new();
    for k in &windowed {
        let m = base(k);
        if m != "error_rate" && !WHOLE_RUN.iter().any(|(_, w)| *w == m) && !others.contains(&m) {
            others.push(m);
        }
    }
    for m in &others {
        if first.metrics.contains_key(m) {
            cols.push((
                format!("{} (whole run)", short_path(m)),
                Col::Metric(m.clone(), metric_unit(m)),
            ));
        }
        for k in windowed.iter().filter(|k| base(k) == *m) {
            cols.push((windowed_name(k), Col::Metric(k.to_string(), metric_unit(k))));
        }
    }
    for d in &dbs {
        let plain = || Unit::Plain("");
        cols.push((
            format!("{d} hot-spot"),
            Col::Metric(format!("db.{d}.hot_spot_index"), plain()),
        ));
        cols.push((
            format!("{d} hot-spot per interval"),
            Col::Metric(format!("db.{d}.hot_spot_interval"), plain()),
        ));
    }
    if any_moved {
        cols.push(("keys moved".into(), Col::Moved));
    }
    for c in &caches {
        cols.push((
            format!("{c} hit ratio"),
            Col::Metric(format!("cache.{c}.hit_ratio"), Unit::Percent),
        ));
    }
    cols.push((
        "$ per M requests".into(),
        Col::Metric("cost.per_million_requests".into(), Unit::Money("")),
    ));

    let mut header: Vec<(&str, bool)> =
        vec![("variant", false), ("$/hour", true), ("errors", true)];
    header.extend(cols.iter().map(|(h, _)| (h.as_str(), true)));
    let mut tb = Html::with_class("variants", &header);
    let get = |v: &VariantSummary, k: &str, unit: Unit| {
        v.metrics
            .get(k)
            .map_or("-".to_string(), |e| escape(&estimate(e, unit)))
    };
    let errors = |v: &VariantSummary, k: &str| {
        let text = get(v, k, Unit::Percent);
        if v.metrics.get(k).is_some_and(|e| e.mean > 0.0) {
            format!("<span class=\"bad\">{text}</span>")
        } else {
            text
        }
    };
    for v in &s.variants {
        let mut label = params_text(&v.params);
        if label.is_empty() {
            label = format!("#{}", v.index);
        }
        let mut row = vec![
            t(label),
            n(get(v, "cost.per_hour", Unit::Money(""))),
            n(errors(v, "error_rate")),
        ];
        for (_, c) in &cols {
            row.push(n(match c {
                Col::Index => v.index.to_string(),
                Col::Runs => v.replications.to_string(),
                Col::Errors(k) => errors(v, k),
                Col::Metric(k, unit) => get(v, k, *unit),
                Col::Moved => {
                    if v.keys_moved.is_empty() {
                        "0%".into()
                    } else {
                        v.keys_moved
                            .iter()
                            .map(|(d, f)| format!("{} {}", escape(d), pct(*f)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                }
            }));
        }
        tb.row("", &row);
    }
    let windows = if windowed.is_empty() {
        ""
    } else {
        " A column named <code>@FROM–TO</code> is the figure over that window of the run, for the scenario's objectives that have one, beside the whole-run figure."
    };
    format!(
        "<section id=\"variants\">\n<h2>Variants</h2>\n<p class=\"note\">One row per variant, in grid order; figures over the measured period of each replication. The variant, its cost per hour and its error rate stay in view while the other columns scroll.{windows} Hot-spot = busiest shard's statements / mean per shard (1 = even). Keys moved = share of rows on another shard than in the base scenario's layout.</p>\n{}</section>\n",
        tb.finish()
    )
}

fn shard_share_tables(s: &SweepResult) -> String {
    let mut b = String::new();
    for (db, shards) in sharded(s) {
        let groups = shard_groups(s, db);
        let mut header: Vec<String> = vec!["variants".into()];
        header.extend((0..shards).map(|i| format!("shard {i}")));
        let refs: Vec<(&str, bool)> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), i > 0))
            .collect();
        let mut tb = Html::new(&refs);
        let same = groups.len() == 1 && s.variants.len() > 1;
        for (variants, shares) in &groups {
            let max = shares.iter().copied().fold(0.0, f64::max);
            let label = if same {
                format!("all {} variants", variants.len())
            } else {
                variants
                    .iter()
                    .map(|v| params_text(&v.params))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let mut row = vec![t(label)];
            for i in 0..shards {
                row.push(n(match shares.get(i) {
                    Some(x) if *x == max && shares.len() > 1 => format!("<b>{}</b>", pct(*x)),
                    Some(x) => pct(*x),
                    None => String::new(),
                }));
            }
            tb.row("", &row);
        }
        let grouped = if same {
            " The same in every variant: the varied fields do not move this database's load."
        } else if groups.len() < s.variants.len() {
            " Variants whose shares are the same share a row."
        } else {
            ""
        };
        let _ = write!(
            b,
            "<h3>Share of statements per shard — {}</h3>\n<p class=\"note\">Mean over replications; the busiest shard in bold; an even spread is {} per shard.{grouped}</p>\n{}",
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
