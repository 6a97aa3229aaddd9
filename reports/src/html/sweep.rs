//! The page of a sweep: what varies, one row per variant with its
//! estimates, the load per shard of every variant, then the charts.

use std::fmt::Write as _;

use models::{SweepResult, VariantSummary};

use super::page::{Html, charts_section, codes, escape, n, nav, page, params_text, t, value};
use crate::chart::Chart;
use crate::fmt::{Unit, estimate, pct, short_path};
use crate::shared::{names_of, sharded};

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
    let get = |v: &VariantSummary, k: &str, unit: Unit| {
        v.metrics
            .get(k)
            .map_or("-".to_string(), |e| estimate(e, unit))
    };
    let number = Unit::Plain("");
    let dollars = Unit::Money("");
    for v in &s.variants {
        let mut row = vec![n(v.index.to_string())];
        for p in &paths {
            row.push(t(v.params.get(*p).map_or("-".into(), value)));
        }
        row.push(n(v.replications.to_string()));
        row.push(n(get(v, "throughput_rps", number)));
        row.push(n(get(v, "p99_ms", number)));
        let errors = get(v, "error_rate", Unit::Percent);
        let bad = v.metrics.get("error_rate").is_some_and(|e| e.mean > 0.0);
        row.push(n(if bad {
            format!("<span class=\"bad\">{errors}</span>")
        } else {
            errors
        }));
        for d in &dbs {
            row.push(n(get(v, &format!("db.{d}.hot_spot_index"), number)));
            row.push(n(get(v, &format!("db.{d}.hot_spot_interval"), number)));
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
            row.push(n(get(v, &format!("cache.{c}.hit_ratio"), Unit::Percent)));
        }
        row.push(n(get(v, "cost.per_hour", dollars)));
        row.push(n(get(v, "cost.per_million_requests", dollars)));
        tb.row("", &row);
    }
    format!(
        "<section id=\"variants\">\n<h2>Variants</h2>\n<p class=\"note\">One row per variant, in grid order; figures over the measured period of each replication. Hot-spot = busiest shard's statements / mean per shard (1 = even). Keys moved = share of rows on another shard than in the base scenario's layout.</p>\n{}</section>\n",
        tb.finish()
    )
}

fn shard_share_tables(s: &SweepResult) -> String {
    let mut b = String::new();
    for (db, shards) in sharded(s) {
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
