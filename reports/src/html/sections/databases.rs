//! One table per database: its shards' load, utilisation and queues.

use std::fmt::Write as _;

use models::Results;

use crate::fmt::{int, ms, pct};
use crate::html::page::{Html, escape, n, share_bar, t};
use crate::shared::db_notes;

/// A heading, a line of figures and a shard table per database.
pub(crate) fn databases(r: &Results) -> String {
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
        if let Some(note) = db_notes(d) {
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
