//! The run page's objectives: the scenario's `slo` judged on this run,
//! one row each with its mark.

use models::{Results, RunVerdict};

use crate::html::page::{Html, escape, n, t};
use crate::shared::{objectives_tally, run_value, run_verdict_word};

/// The scenario's objectives judged on this run (nothing without an `slo`
/// section).
pub(crate) fn objectives(r: &Results) -> String {
    if r.objectives.is_empty() {
        return String::new();
    }
    let mut b = format!(
        "<section id=\"objectives\">\n<h2>Objectives</h2>\n<p>The scenario's <code>slo</code>, judged on this run: <b>{}</b>. One run has no confidence interval: <code>capsim check</code> judges the same objectives over replications, with 95% intervals.</p>\n",
        objectives_tally(&r.objectives)
    );
    let mut tb = Html::new(&[
        ("result", false),
        ("objective", false),
        ("this run", true),
        ("limit", true),
    ]);
    for o in &r.objectives {
        let class = match o.verdict {
            RunVerdict::Holds => "good",
            RunVerdict::Fails => "bad",
            RunVerdict::NotMeasured => "unsure",
        };
        let word = format!(
            "<span class=\"{class}\">{}</span>",
            run_verdict_word(o.verdict)
        );
        let objective = match &o.reason {
            Some(why) => format!(
                "{}<br><small>not measured: {}</small>",
                escape(&o.objective.label()),
                escape(why)
            ),
            None => escape(&o.objective.label()),
        };
        tb.row(
            "",
            &[
                t(word),
                t(objective),
                n(escape(&run_value(o))),
                n(escape(&o.objective.slo.limit_text())),
            ],
        );
    }
    b.push_str(&tb.finish());
    b.push_str("</section>\n");
    b
}
