//! The endpoints table: requests, errors by kind and latency per endpoint.

use models::{EndpointResult, Results};

use crate::fmt::{int, ms, pct, secs};
use crate::html::page::{Html, escape, n, t};
use crate::shared::worst_p99;

/// One row per endpoint (and all endpoints together).
pub(crate) fn endpoints(r: &Results) -> String {
    let iv = r.time_series.interval_s;
    // Failures in flight (502) and 429s get a column only when there are
    // any.
    let any_aborted = r.endpoints.iter().any(|e| e.aborted > 0);
    let any_limited = r.endpoints.iter().any(|e| e.rate_limited > 0);
    let mut header = vec![
        ("endpoint", false),
        ("requests", true),
        ("ok/s", true),
        ("errors", true),
        ("timeouts", true),
        ("rejected", true),
    ];
    if any_aborted {
        header.push(("failed in flight", true));
    }
    if any_limited {
        header.push(("rate limited (429)", true));
    }
    header.extend([
        ("p50 ms", true),
        ("p99 ms", true),
        ("p99.9 ms", true),
        ("max ms", true),
        ("worst interval p99", true),
    ]);
    let mut tb = Html::new(&header);
    let series: Vec<&[sim_core::stats::LatencyPoint]> = r
        .time_series
        .endpoints
        .iter()
        .map(|s| s.latency.as_slice())
        .collect();
    let mut rows: Vec<(
        String,
        &EndpointResult,
        &[sim_core::stats::LatencyPoint],
        &str,
    )> = r
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                format!("{}.{}", e.service, e.name),
                e,
                series.get(i).copied().unwrap_or(&[]),
                "",
            )
        })
        .collect();
    if r.endpoints.len() > 1 {
        // With service calls the rows count the calls' requests too; the
        // last row is the users' alone.
        rows.push((
            if r.calls.is_empty() {
                "all endpoints".into()
            } else {
                "users' requests".into()
            },
            &r.overall,
            r.time_series.overall_latency.as_slice(),
            "total",
        ));
    }
    for (name, e, s, class) in rows {
        let worst = worst_p99(s, iv, r.scenario.warmup_s)
            .map_or("-".into(), |(v, at)| format!("{} (at {})", ms(v), secs(at)));
        let no_data = e.latency.count == 0;
        let lat = |v: f64| if no_data { "-".to_string() } else { ms(v) };
        let mut cells = vec![
            t(escape(&name)),
            n(int(e.count)),
            n(format!("{:.1}", e.throughput_rps)),
            n(if e.errors > 0 {
                format!("<span class=\"bad\">{}</span>", pct(e.error_rate))
            } else {
                "0%".into()
            }),
            n(int(e.timeouts)),
            n(int(e.rejected)),
        ];
        if any_aborted {
            cells.push(n(int(e.aborted)));
        }
        if any_limited {
            cells.push(n(int(e.rate_limited)));
        }
        cells.extend([
            n(lat(e.latency.p50_ms)),
            n(lat(e.latency.p99_ms)),
            n(lat(e.latency.p999_ms)),
            n(lat(e.latency.max_ms)),
            n(worst),
        ]);
        tb.row(class, &cells);
    }
    format!(
        "<section id=\"endpoints\">\n<h2>Endpoints</h2>\n<p class=\"note\">Requests that arrived after the warm-up. Latency is that of ok responses, arrival to response, as the client sees it. Errors = timeouts + rejections (503) + failures in flight (502, a crash), as a share of requests; refusals by a rate limiter (429) are counted apart. Worst interval p99: the worst {} interval with at least 100 responses.{}{}</p>\n{}</section>\n{}",
        secs(iv),
        if r.calls.is_empty() {
            ""
        } else {
            " Requests that service calls made are counted at the callee's endpoint as it answered them (whether its caller still waited or not); the last row, users' requests, is what the workloads' users saw."
        },
        match &r.overall.user_visible {
            Some(u) => format!(
                " With retries or closed-loop users these rows count <b>attempts</b>; users sent {} requests, {} retries followed, and {} of the requests failed at their last attempt (p99 over all attempts and backoffs: {} ms).",
                int(u.requests),
                int(r.overall.retries),
                pct(u.error_rate),
                ms(u.latency.p99_ms)
            ),
            None => String::new(),
        },
        tb.finish(),
        calls(r)
    )
}

/// One row per call step (nothing without calls): the edge, its calls and
/// attempts, how attempts failed, and the latency the caller saw.
fn calls(r: &Results) -> String {
    if r.calls.is_empty() {
        return String::new();
    }
    let breakers = r.calls.iter().any(|c| c.circuit_breaker.is_some());
    let mut header = vec![
        ("caller", false),
        ("callee", false),
        ("calls", true),
        ("attempts", true),
        ("retries", true),
        ("timeouts", true),
        ("rejected (503)", true),
        ("failed (502)", true),
    ];
    let hedged = r.calls.iter().any(|c| c.hedges.is_some());
    if hedged {
        header.push(("hedges", true));
    }
    if breakers {
        header.extend([("short-circuited", true), ("breaker open s", true)]);
    }
    header.extend([("errors", true), ("p50 ms", true), ("p99 ms", true)]);
    let mut tb = Html::new(&header);
    for c in &r.calls {
        let lat = |v: f64| {
            if c.latency.count == 0 {
                "-".to_string()
            } else {
                ms(v)
            }
        };
        let mut cells = vec![
            t(escape(&c.from)),
            t(escape(&c.to)),
            n(int(c.calls)),
            n(int(c.attempts)),
            n(int(c.retries)),
            n(int(c.timeouts)),
            n(int(c.rejected)),
            n(int(c.aborted)),
        ];
        if hedged {
            cells.push(n(c.hedges.map_or("-".into(), int)));
        }
        if breakers {
            let (k, s) = c
                .circuit_breaker
                .as_ref()
                .map_or(("-".into(), "-".into()), |b| {
                    (int(b.short_circuited), format!("{:.1}", b.open_s))
                });
            cells.extend([n(k), n(s)]);
        }
        cells.extend([
            n(if c.errors > 0 {
                format!("<span class=\"bad\">{}</span>", pct(c.error_rate))
            } else {
                "0%".into()
            }),
            n(lat(c.latency.p50_ms)),
            n(lat(c.latency.p99_ms)),
        ]);
        tb.row("", &cells);
    }
    format!(
        "<section id=\"calls\">\n<h2>Calls</h2>\n<p class=\"note\">One row per call step, for calls whose caller arrived after the warm-up. Attempts = first attempts + retries (hedged copies apart); timeouts, rejections and failures count attempts; errors are calls that failed for good (their caller failed with them). Latency is what the caller saw: from the call to its answer, round trips, backoffs and retries included.</p>\n{}</section>\n",
        tb.finish()
    )
}
