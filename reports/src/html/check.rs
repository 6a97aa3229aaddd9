//! The page of a check (`index.html` beside `check.json`): the outcome
//! first — passed or failed, and which objectives failed or regressed —
//! then how to read it, the scenarios at a glance, the chart of every
//! objective against its limit, and one table per scenario of its
//! objectives against their limits and, with a baseline, against the
//! baseline. It shares the style and helpers of the other pages
//! (`page.rs`); every string from a scenario or a saved document is
//! escaped.

use std::fmt::Write as _;

use models::{
    BaselineComparison, CheckReport, CheckStatus, Estimate, ObjectiveCheck, Op, ScenarioCheck, Slo,
};

use super::page::{Html, card, charts_section, codes, escape, n, nav, page, t};
use crate::chart::Chart;
use crate::fmt::{Digits, Unit, estimate, margin, pct};

/// Most failed objectives listed by name in the outcome box; the tables
/// below have them all.
const MAX_LISTED: usize = 20;

/// The page of a check.
pub(crate) fn check_page(c: &CheckReport, charts: &[Chart]) -> String {
    let all = || c.scenarios.iter().flat_map(|s| &s.objectives);
    let objectives = all().count();
    let failed = all().filter(|o| o.failed).count();
    let marginal = all().filter(|o| o.status == CheckStatus::Marginal).count();
    let regressions = all().filter(|o| regressed(o)).count();
    let scenarios = c.scenarios.len();
    let verdict = if c.passed {
        "<span class=\"good\">PASSED</span>"
    } else {
        "<span class=\"bad\">FAILED</span>"
    };

    let mut b = String::new();
    let reps = c.replications;
    let baseline = match &c.baseline {
        Some(f) => format!(
            "compared with the baseline <code>{}</code>, regression tolerance {}",
            escape(f),
            pct(c.tolerance)
        ),
        None => "no baseline: nothing compared".into(),
    };
    let strict = if c.strict {
        "strict: a marginal objective fails"
    } else {
        "not strict: a marginal objective passes with a warning"
    };
    let _ = write!(
        b,
        "<header>\n<p class=\"kind\">capsim check report</p>\n<h1>{verdict} — {}, {}</h1>\n<p class=\"meta\">{} per scenario · {baseline} · {strict} · capsim {} · check format {}</p>\n</header>\n",
        plural(scenarios, "scenario"),
        plural(objectives, "objective"),
        plural(reps as usize, "replication"),
        escape(&c.capsim_version),
        c.format_version
    );

    let ids: Vec<String> = (0..scenarios).map(scenario_id).collect();
    let mut sections: Vec<(&str, &str)> = vec![
        ("outcome", "Outcome"),
        ("how", "How to read this"),
        ("scenarios", "Scenarios"),
    ];
    for (id, s) in ids.iter().zip(&c.scenarios) {
        sections.push((id, &s.scenario));
    }
    b.push_str(&nav(&sections, charts));

    // The outcome.
    b.push_str("<section id=\"outcome\">\n");
    b.push_str(&outcome_box(c, failed, regressions, marginal));
    b.push_str("<div class=\"cards\">\n");
    let failed_scenarios = c.scenarios.iter().filter(|s| !s.passed).count();
    card(
        &mut b,
        format!("{} of {scenarios}", scenarios - failed_scenarios),
        "scenarios passed",
        if failed_scenarios > 0 { "bad" } else { "" },
    );
    card(
        &mut b,
        format!("{} of {objectives}", objectives - failed),
        "objectives passed",
        if failed > 0 { "bad" } else { "" },
    );
    card(
        &mut b,
        failed.to_string(),
        "failures",
        if failed > 0 { "bad" } else { "good" },
    );
    card(
        &mut b,
        if c.baseline.is_some() {
            regressions.to_string()
        } else {
            "-".into()
        },
        "regressions against the baseline",
        if regressions > 0 { "bad" } else { "" },
    );
    card(
        &mut b,
        marginal.to_string(),
        "marginal (interval straddles the limit)",
        if marginal > 0 { "unsure" } else { "" },
    );
    card(
        &mut b,
        reps.to_string(),
        if reps == 1 {
            "replication per scenario"
        } else {
            "replications per scenario"
        },
        "",
    );
    b.push_str("</div>\n</section>\n");

    b.push_str(&how_to_read(c));
    b.push_str(&scenarios_table(c));
    b.push_str(&charts_section(charts));
    for (i, s) in c.scenarios.iter().enumerate() {
        b.push_str(&scenario_section(c, i, s));
    }
    let title = format!(
        "capsim check — {} ({})",
        if c.passed { "PASSED" } else { "FAILED" },
        plural(scenarios, "scenario")
    );
    page(&title, &b)
}

/// `n thing` or `n things`.
fn plural(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// The anchor of scenario `i`'s section (by position: names are free
/// text).
fn scenario_id(i: usize) -> String {
    format!("scenario-{}", i + 1)
}

/// Whether an objective regressed against the baseline.
fn regressed(o: &ObjectiveCheck) -> bool {
    o.baseline.as_ref().is_some_and(|b| b.regression)
}

/// An objective for people: its name, if any, then its text.
fn objective_text(o: &ObjectiveCheck) -> String {
    match &o.objective.name {
        Some(n) => format!(
            "<b>{}</b> <code>{}</code>",
            escape(n),
            escape(&o.objective.describe())
        ),
        None => format!("<code>{}</code>", escape(&o.objective.describe())),
    }
}

/// An objective in a table cell: as [`objective_text`], but in the
/// body font, which wraps between words only (code wraps anywhere, and
/// the narrowest column of a wide table is squeezed to a few letters).
fn objective_cell(o: &ObjectiveCheck) -> String {
    let text = escape(&o.objective.describe());
    match &o.objective.name {
        Some(n) => format!("<b>{}</b><br>{text}", escape(n)),
        None => text,
    }
}

/// The "worse by" cell: the difference and its share of the baseline,
/// then its interval, how it was computed and the allowed difference,
/// fractions in percentage points.
fn worse_cell(slo: &Slo, b: &BaselineComparison) -> String {
    let w = &b.worse_by;
    let unit = Unit::of(slo).change();
    let d = Digits::of(w, unit);
    let relative = b
        .worse_by_relative
        .map_or(String::new(), |r| format!(" ({:+.1}%)", r * 100.0));
    let interval = match w.ci95 {
        Some(_) => format!(
            "95%: {} to {}<br>",
            escape(&d.signed(w.low, unit)),
            escape(&d.signed(w.high, unit))
        ),
        None => String::new(),
    };
    format!(
        "{}{relative}<br><span class=\"note\">{interval}{} · allowed {}</span>",
        escape(&d.signed(w.mean, unit)),
        if b.paired { "paired" } else { "Welch" },
        escape(&d.signed(b.threshold, unit))
    )
}

/// Why an objective failed, in a few words.
fn failure_reason(c: &CheckReport, o: &ObjectiveCheck) -> String {
    let slo = &o.objective.slo;
    let mut why = Vec::new();
    match o.status {
        CheckStatus::Fail if o.reason.is_some() => why.push(format!(
            "cannot be judged: {}",
            escape(o.reason.as_deref().unwrap_or_default())
        )),
        CheckStatus::Fail => why.push(format!(
            "measured {} against a limit of {}",
            escape(&estimate(&o.estimate, Unit::of(slo))),
            limit_text(slo)
        )),
        CheckStatus::Marginal if c.strict => why.push(format!(
            "marginal ({} against a limit of {}; fails under strict)",
            escape(&estimate(&o.estimate, Unit::of(slo))),
            limit_text(slo)
        )),
        _ => {}
    }
    if let Some(b) = o.baseline.as_ref().filter(|b| b.regression) {
        why.push(format!(
            "REGRESSED: worse than the baseline by {}",
            escape(&worse_text(slo, b))
        ));
    }
    why.join("; ")
}

/// The box at the top: passed or failed, and the failures by name.
fn outcome_box(c: &CheckReport, failed: usize, regressions: usize, marginal: usize) -> String {
    let mut out = String::new();
    if c.passed {
        let nothing = if c.baseline.is_some() {
            " and nothing regressed against the baseline"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<div class=\"box good\"><p><b>Every objective passed</b>{nothing}.</p>"
        );
        if marginal > 0 {
            let _ = write!(
                out,
                "<p>{} marginal: the mean is on the good side but the 95% interval straddles the limit; more replications would decide.</p>",
                if marginal == 1 {
                    "1 objective is".to_string()
                } else {
                    format!("{marginal} objectives are")
                }
            );
        }
        out.push_str("</div>\n");
        return out;
    }
    let failed_scenarios = c.scenarios.iter().filter(|s| !s.passed).count();
    let _ = write!(
        out,
        "<div class=\"box bad\"><p><b>{} of {} failed</b> in {} of {}",
        failed,
        plural(
            c.scenarios.iter().map(|s| s.objectives.len()).sum(),
            "objective"
        ),
        failed_scenarios,
        plural(c.scenarios.len(), "scenario"),
    );
    if c.baseline.is_some() {
        let _ = write!(
            out,
            " ({} against the baseline)",
            plural(regressions, "regression")
        );
    }
    out.push_str(".</p>\n<ul>\n");
    let mut listed = 0;
    for (i, s) in c.scenarios.iter().enumerate() {
        for o in s.objectives.iter().filter(|o| o.failed) {
            if listed < MAX_LISTED {
                let _ = writeln!(
                    out,
                    "<li><a href=\"#{}\">{}</a>: {} — {}</li>",
                    scenario_id(i),
                    escape(&s.scenario),
                    objective_text(o),
                    failure_reason(c, o)
                );
            }
            listed += 1;
        }
    }
    if listed > MAX_LISTED {
        let _ = writeln!(
            out,
            "<li>and {} more: see the tables below.</li>",
            listed - MAX_LISTED
        );
    }
    if listed == 0 {
        out.push_str(
            "<li>No objective is marked failed: see the scenarios marked FAILED below.</li>\n",
        );
    }
    out.push_str("</ul>\n</div>\n");
    out
}

/// The paragraph that explains the verdicts.
fn how_to_read(c: &CheckReport) -> String {
    let strict = if c.strict {
        " This check was strict, so a marginal objective fails."
    } else {
        " It passes, with a warning (under <code>--strict</code> it fails)."
    };
    let baseline = if c.baseline.is_some() {
        format!(
            "<p><b>Against the baseline</b>, <i>worse by</i> is how much worse the mean is than the baseline's (current − baseline for an upper limit, baseline − current for a lower one: positive is worse), with its 95% interval. The interval is <i>paired</i> — from the differences replication by replication — when both checks used the same seeds, so the seeds' noise cancels; otherwise it is Welch's interval of two means. An objective <b>REGRESSED</b> when it is worse by more than the tolerance ({} of the baseline's mean) <i>and</i> the interval of the difference excludes zero: a real change, not noise. A regression fails the check even when the objective still meets its limit.</p>\n",
            pct(c.tolerance)
        )
    } else {
        String::new()
    };
    format!(
        "<section id=\"how\">\n<h2>How to read this</h2>\n<p>Every scenario ran {}; replication <i>r</i> uses the scenario's seed + <i>r</i>. Each objective's metric is measured in every replication, and the tables show the mean ± the half-width of its 95% confidence interval (Student t). <b>pass</b>: the whole 95% interval is on the good side of the limit. <b>marginal</b>: the mean is on the good side but the interval straddles the limit — more replications could decide.{strict} <b>FAIL</b>: the mean is on the bad side. <i>Margin</i> is the mean's distance to the limit, positive on the good side. Failed rows are highlighted.</p>\n{baseline}</section>\n",
        plural(c.replications as usize, "replication")
    )
}

/// A relative link to `dir/index.html`: path characters other than
/// letters, digits, `-._~/` percent-encoded, and `./` in front, so that
/// the folder name can never be read as a scheme (`javascript:`).
fn report_href(dir: &str) -> String {
    let mut out = String::from("./");
    for byte in dir.trim_start_matches('/').bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out.push_str("index.html");
    escape(&out)
}

/// The scenarios at a glance.
fn scenarios_table(c: &CheckReport) -> String {
    let mut tb = Html::new(&[
        ("scenario", false),
        ("file", false),
        ("seed", true),
        ("objectives", true),
        ("failed", true),
        ("regressed", true),
        ("result", false),
        ("run report", false),
    ]);
    for (i, s) in c.scenarios.iter().enumerate() {
        let failed = s.objectives.iter().filter(|o| o.failed).count();
        let regressions = s.objectives.iter().filter(|o| regressed(o)).count();
        let count = |v: usize| {
            if v > 0 {
                format!("<span class=\"bad\">{v}</span>")
            } else {
                "0".into()
            }
        };
        tb.row(
            if s.passed { "" } else { "hot" },
            &[
                t(format!(
                    "<a href=\"#{}\">{}</a>",
                    scenario_id(i),
                    escape(&s.scenario)
                )),
                t(format!("<code>{}</code>", escape(&s.file))),
                n(s.seed.to_string()),
                n(s.objectives.len().to_string()),
                n(count(failed)),
                n(if c.baseline.is_some() {
                    count(regressions)
                } else {
                    "-".into()
                }),
                t(passed_html(s.passed)),
                t(s.report_dir.as_deref().map_or("-".into(), |d| {
                    format!("<a href=\"{}\">report</a>", report_href(d))
                })),
            ],
        );
    }
    format!(
        "<section id=\"scenarios\">\n<h2>Scenarios</h2>\n{}</section>\n",
        tb.finish()
    )
}

fn passed_html(passed: bool) -> String {
    if passed {
        "<span class=\"good\">✓ passed</span>".into()
    } else {
        "<span class=\"bad\">✗ FAILED</span>".into()
    }
}

/// An objective's limit: `< 300.00ms`, `> 0.800`.
fn limit_text(slo: &Slo) -> String {
    let op = match slo.op {
        Op::Below => "&lt;",
        Op::Above => "&gt;",
    };
    format!("{op} {}", escape(&slo.limit_text()))
}

/// How much worse than the baseline, with its interval when there is one:
/// `+12.3ms (95%: +8.1ms to +16.5ms)`, fractions in percentage points.
fn worse_text(slo: &Slo, b: &BaselineComparison) -> String {
    let w = &b.worse_by;
    let unit = Unit::of(slo).change();
    let d = Digits::of(w, unit);
    match w.ci95 {
        Some(_) => format!(
            "{} (95%: {} to {})",
            d.signed(w.mean, unit),
            d.signed(w.low, unit),
            d.signed(w.high, unit)
        ),
        None => d.signed(w.mean, unit),
    }
}

fn status_html(c: &CheckReport, o: &ObjectiveCheck) -> String {
    match o.status {
        CheckStatus::Pass => "<span class=\"good\">✓ pass</span>".into(),
        CheckStatus::Marginal if c.strict => {
            "<span class=\"bad\">? marginal — fails under strict</span>".into()
        }
        CheckStatus::Marginal => "<span class=\"unsure\">? marginal</span>".into(),
        CheckStatus::Fail => "<span class=\"bad\">✗ FAIL</span>".into(),
    }
}

/// A mean in the objective's unit and, on a second line, ± the 95%
/// half-width (narrow columns leave the objective room), with the values
/// of each replication as a tooltip, all to the digits of the estimate.
fn measured(slo: &Slo, e: &Estimate, values: &[f64]) -> String {
    let unit = Unit::of(slo);
    let d = Digits::of(e, unit);
    let half = match e.ci95.filter(|h| h.is_finite()) {
        Some(h) => format!(
            "<br><span class=\"note\">± {}</span>",
            escape(&d.value(h, unit))
        ),
        None => String::new(),
    };
    let each: Vec<String> = values.iter().map(|v| d.value(*v, unit)).collect();
    format!(
        "<span title=\"{}\">{}</span>{half}",
        escape(&format!("per replication: {}", each.join(", "))),
        escape(&d.value(e.mean, unit))
    )
}

/// What the baseline comparison says, in a word or two.
fn against_baseline(b: &BaselineComparison) -> &'static str {
    if b.regression {
        "<span class=\"bad\">REGRESSED</span>"
    } else if b.worse_by.mean <= 0.0 {
        "<span class=\"good\">no worse</span>"
    } else if b.worse_by.mean > b.threshold {
        "<span class=\"unsure\">worse, within noise</span>"
    } else {
        "within tolerance"
    }
}

/// One scenario: what ran, and a row per objective.
fn scenario_section(c: &CheckReport, i: usize, s: &ScenarioCheck) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<section id=\"{}\">\n<h2>{} {}</h2>\n",
        scenario_id(i),
        escape(&s.scenario),
        passed_html(s.passed)
    );
    let seeds = if s.replications > 1 {
        format!(
            "seed {} (replications use {}–{})",
            s.seed,
            s.seed,
            s.seed + u64::from(s.replications) - 1
        )
    } else {
        format!("seed {}", s.seed)
    };
    let sets = if s.sets.is_empty() {
        String::new()
    } else {
        format!(" · settings {}", codes(&s.sets))
    };
    let _ = writeln!(
        b,
        "<p class=\"meta\">File <code>{}</code> · {seeds} · {}{sets} · scenario hash {}</p>",
        escape(&s.file),
        plural(s.replications as usize, "replication"),
        escape(&s.scenario_hash)
    );
    if let Some(d) = &s.report_dir {
        let _ = writeln!(
            b,
            "<p>The run report of this scenario (tables and charts of one run): <a href=\"{}\">{}/index.html</a></p>",
            report_href(d),
            escape(d.trim_end_matches('/'))
        );
    }
    if s.objectives.is_empty() {
        b.push_str("<p>This scenario has no objectives.</p>\n</section>\n");
        return b;
    }
    let compared = s.objectives.iter().any(|o| o.baseline.is_some());
    if c.baseline.is_some() && !compared {
        b.push_str("<p class=\"note\">The baseline has none of these objectives for this scenario (it is matched by name): nothing was compared.</p>\n");
    }
    let mut header = vec![
        ("objective", false),
        ("limit", true),
        ("measured", true),
        ("margin", true),
        ("status", false),
    ];
    if compared {
        header.extend([
            ("baseline", true),
            ("worse by", true),
            ("vs baseline", false),
        ]);
    }
    let mut tb = Html::new(&header);
    for o in &s.objectives {
        let slo = &o.objective.slo;
        let unit = Unit::of(slo);
        let margin = escape(&margin(&o.estimate, o.margin, unit));
        let mut row = vec![
            t(objective_cell(o)),
            n(limit_text(slo)),
            n(measured(slo, &o.estimate, &o.values)),
            n(if o.margin < 0.0 {
                format!("<span class=\"bad\">{margin}</span>")
            } else {
                margin
            }),
            t(status_html(c, o)),
        ];
        if compared {
            match &o.baseline {
                Some(bc) => {
                    row.push(n(measured(slo, &bc.estimate, &bc.values)));
                    row.push(n(worse_cell(slo, bc)));
                    row.push(t(against_baseline(bc)));
                }
                None => {
                    row.push(n("-"));
                    row.push(n("-"));
                    row.push(t("<span class=\"note\">not in the baseline</span>"));
                }
            }
        }
        tb.row(if o.failed { "hot" } else { "" }, &row);
    }
    b.push_str(&tb.finish());
    b.push_str("</section>\n");
    b
}
