//! The cost section: per hour, per run, per million requests, and the
//! bill by component.

use models::Results;

use crate::fmt::{money, secs};
use crate::html::page::{Html, escape, n, num, t};

/// The cost figures and, when the scenario has prices, the bill.
pub(crate) fn cost(r: &Results) -> String {
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
