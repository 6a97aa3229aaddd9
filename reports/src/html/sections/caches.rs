//! The caches table, with the CDN edges under it.

use models::Results;

use crate::fmt::{int, pct};
use crate::html::page::{Html, escape, n, t};

/// The caches, then the CDN edges.
pub(crate) fn caches(r: &Results) -> String {
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
        super::cdns(r)
    )
}
