//! The CDN edges table (under the caches).

use models::Results;

use crate::fmt::{int, pct};
use crate::html::page::{Html, escape, n, t};

/// CDN edges, under the caches.
pub(crate) fn cdns(r: &Results) -> String {
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
