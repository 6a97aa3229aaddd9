//! The terminal summary of one results document, printed by `capsim run`.

use std::fmt::Write as _;

use comfy_table::Cell;
use models::{EndpointResult, Results, RunVerdict};
use sim_core::stats::LatencyPoint;

use super::{TermTable, Tone, table, verdict_cell};
use crate::fmt::{int, money, ms, pct, secs};
use crate::shared::{
    MIN_P99_SAMPLES, component_notes, db_notes, ledger, objectives_tally, run_value,
    run_verdict_word, worst_p99,
};

/// Renders the human summary printed by `capsim run`.
pub fn summary(r: &Results) -> String {
    let mut out = String::new();
    let s = &r.scenario;
    let _ = writeln!(
        out,
        "{} — seed {}, {} simulated ({} warm-up excluded)",
        s.name,
        s.seed,
        secs(s.duration_s),
        secs(s.warmup_s)
    );
    let _ = writeln!(out, "requests: {}\n", ledger(&r.totals));
    if let Some(u) = &r.overall.user_visible {
        // With retries or closed-loop users, requests (what users sent) and
        // attempts (what the system saw) differ.
        let _ = writeln!(
            out,
            "as users see it (measured period): {} requests, {} retries ({} refused by a retry budget), {:.2} attempts per request; {} ok, errors {}, p50 {} ms, p99 {} ms (backoffs and failed attempts included)\n",
            int(u.requests),
            int(r.overall.retries),
            int(r.overall.retries_refused_by_budget),
            u.attempts_per_request,
            int(u.ok),
            pct(u.error_rate),
            ms(u.latency.p50_ms),
            ms(u.latency.p99_ms)
        );
    }

    // Columns for failures in flight (502) and 429s only when the run has
    // any: most runs have neither.
    let any_aborted = r.endpoints.iter().any(|e| e.aborted > 0);
    let any_limited = r.endpoints.iter().any(|e| e.rate_limited > 0);
    let mut header = vec![
        "endpoint", "count", "ok/s", "errors", "timeouts", "rejected",
    ];
    if any_aborted {
        header.push("failed");
    }
    if any_limited {
        header.push("429");
    }
    header.extend(["p50 ms", "p99 ms", "p99.9 ms", "max ms", "worst p99 (at)"]);
    let mut e = table(&header, 1);
    let iv = r.time_series.interval_s;
    let mut rows: Vec<(String, &EndpointResult, &[LatencyPoint])> = r
        .endpoints
        .iter()
        .zip(&r.time_series.endpoints)
        .map(|(ep, s)| {
            (
                format!("{}.{}", ep.service, ep.name),
                ep,
                s.latency.as_slice(),
            )
        })
        .collect();
    if r.endpoints.len() > 1 {
        // With service calls, the endpoints count the calls' requests too:
        // the last row is the users' alone.
        let all = if r.calls.is_empty() {
            "all endpoints"
        } else {
            "users' requests"
        };
        rows.push((
            all.to_string(),
            &r.overall,
            r.time_series.overall_latency.as_slice(),
        ));
    }
    for (name, ep, series) in rows {
        let worst = worst_p99(series, iv, r.scenario.warmup_s)
            .map_or("-".into(), |(v, at)| format!("{} ({})", ms(v), secs(at)));
        let mut row = vec![
            name,
            int(ep.count),
            format!("{:.1}", ep.throughput_rps),
            pct(ep.error_rate),
            int(ep.timeouts),
            int(ep.rejected),
        ];
        if any_aborted {
            row.push(int(ep.aborted));
        }
        if any_limited {
            row.push(int(ep.rate_limited));
        }
        row.extend([
            ms(ep.latency.p50_ms),
            ms(ep.latency.p99_ms),
            ms(ep.latency.p999_ms),
            ms(ep.latency.max_ms),
            worst,
        ]);
        e.add_row(row);
    }
    let _ = writeln!(
        out,
        "Endpoints (latency of ok responses over the measured period; worst p99 = worst {} interval with at least {MIN_P99_SAMPLES} responses)\n{e}\n",
        secs(iv)
    );

    if !r.calls.is_empty() {
        let _ = writeln!(
            out,
            "Calls (one row per call step; latency as the caller saw it, retries and round trips included)\n{}\n",
            calls(r)
        );
    }

    if let Some(tl) = timeline(r, 12) {
        let _ = writeln!(
            out,
            "Timeline (rates are means over each window; p99 of all requests, worst interval in the window)\n{tl}\n"
        );
    }

    let mut sv = table(
        &[
            "service",
            "pods x workers",
            "utilisation",
            "queue mean",
            "queue max",
            "wait mean ms",
            "rejected",
        ],
        1,
    );
    for x in &r.services {
        sv.add_row(vec![
            x.name.clone(),
            format!("{} x {}", x.replicas, x.concurrency),
            pct(x.utilisation),
            format!("{:.2}", x.queue_length_mean),
            format!("{:.0}", x.queue_length_max),
            ms(x.queue_wait_mean_ms),
            int(x.rejected),
        ]);
    }
    for l in &r.load_balancers {
        sv.add_row(vec![
            format!("{} (lb, {})", l.name, l.policy),
            "-".into(),
            "-".into(),
            format!("{:.2} in flight", l.in_flight_mean),
            format!("{:.0}", l.in_flight_max),
            "-".into(),
            int(l.rejected),
        ]);
    }
    let _ = writeln!(out, "Services\n{sv}");
    for line in component_notes(r) {
        let _ = writeln!(out, "  {line}");
    }
    out.push('\n');

    for d in &r.databases {
        let mut dt = table(
            &[
                "shard",
                "reads",
                "writes",
                "load share",
                "utilisation",
                "queue mean",
                "queue max",
                "wait mean ms",
            ],
            1,
        );
        for sh in &d.shards {
            let mark = if sh.index == d.hottest_shard && d.shards.len() > 1 {
                " *"
            } else {
                ""
            };
            dt.add_row(vec![
                format!("{}{mark}", sh.index),
                int(sh.reads),
                int(sh.writes),
                pct(sh.load_share),
                pct(sh.utilisation),
                format!("{:.2}", sh.queue_length_mean),
                format!("{:.0}", sh.queue_length_max),
                ms(sh.wait_mean_ms),
            ]);
        }
        let _ = writeln!(
            out,
            "Database {} — {} sharding on {}, hot-spot index {:.2} (busiest shard ops / mean; {:.2} per interval), hottest shard {} (*)\n{dt}\n",
            d.name,
            d.strategy,
            d.shard_key,
            d.hot_spot_index,
            d.hot_spot_index_by_interval,
            d.hottest_shard
        );
        if let Some(note) = db_notes(d) {
            // Under the table, before its blank line.
            out.pop();
            let _ = writeln!(out, "  {note}\n");
        }
    }

    if !r.caches.is_empty() {
        let mut ct = table(
            &[
                "cache",
                "capacity",
                "lookups",
                "hit ratio",
                "evictions",
                "expirations",
                "invalidations",
            ],
            1,
        );
        for c in &r.caches {
            ct.add_row(vec![
                c.name.clone(),
                int(c.capacity),
                int(c.lookups),
                pct(c.hit_ratio),
                int(c.evictions),
                int(c.expirations),
                int(c.invalidations),
            ]);
        }
        let _ = writeln!(out, "Caches\n{ct}");
        for c in r
            .caches
            .iter()
            .filter(|c| c.errors > 0 || c.node_failures > 0)
        {
            let _ = writeln!(
                out,
                "  {}: {} lookups failed on a node that was down (served from the database as misses); {} node failures, {} keys lost with them, availability {}",
                c.name,
                int(c.errors),
                int(c.node_failures),
                int(c.keys_lost),
                pct(c.availability)
            );
        }
        out.push('\n');
    }

    if !r.cdns.is_empty() {
        let mut ct = table(
            &[
                "cdn",
                "origin",
                "requests",
                "hit ratio",
                "origin offload",
                "to origin",
                "evictions",
                "expirations",
            ],
            1,
        );
        for c in &r.cdns {
            ct.add_row(vec![
                c.name.clone(),
                c.origin.clone(),
                int(c.requests),
                pct(c.hit_ratio),
                pct(c.offload),
                int(c.origin_requests),
                int(c.evictions),
                int(c.expirations),
            ]);
        }
        let _ = writeln!(out, "CDN edges\n{ct}\n");
    }

    if !r.queues.is_empty() {
        let mut qt = table(
            &[
                "queue",
                "partitions",
                "consumers",
                "published",
                "consumed",
                "lag mean",
                "lag max",
                "lag end",
                "e2e p50 ms",
                "e2e p99 ms",
                "dropped",
            ],
            1,
        );
        for q in &r.queues {
            qt.add_row(vec![
                q.name.clone(),
                q.partitions.to_string(),
                format!(
                    "{} ({} active, {} busy)",
                    q.consumers,
                    q.active_consumers,
                    pct(q.consumer_utilisation)
                ),
                int(q.published),
                int(q.consumed),
                format!("{:.1}", q.lag_mean),
                format!("{:.0}", q.lag_max),
                int(q.lag_at_end),
                ms(q.end_to_end.p50_ms),
                ms(q.end_to_end.p99_ms),
                int(q.dropped),
            ]);
        }
        let _ = writeln!(out, "Queues\n{qt}\n");
    }

    let c = &r.cost;
    let _ = writeln!(
        out,
        "Cost: {}/hour, {} for this run, {} per million completed requests",
        money(c.per_hour),
        money(c.total),
        money(c.per_million_requests)
    );
    if !r.objectives.is_empty() {
        out.push_str(&objectives(r));
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let g = &r.engine;
    let _ = writeln!(
        out,
        "Engine: {} events in {:.2}s wall ({:.1}M events/s, {:.2}M requests/s)",
        int(g.events),
        g.wall_time_s,
        g.events_per_sec / 1e6,
        g.requests_per_sec / 1e6
    );
    out
}

fn run_verdict_tone(v: RunVerdict) -> Tone {
    match v {
        RunVerdict::Holds => Tone::Good,
        RunVerdict::Fails => Tone::Bad,
        RunVerdict::NotMeasured => Tone::Unsure,
    }
}

/// The scenario's objectives judged on this run, one line each with its
/// mark, as a load-testing tool ends a test with its thresholds.
fn objectives(r: &Results) -> String {
    let mut t = table(&["", "objective", "this run", "limit"], 2);
    for o in &r.objectives {
        t.add_row(vec![
            verdict_cell(run_verdict_word(o.verdict), run_verdict_tone(o.verdict)),
            Cell::new(o.objective.label()),
            Cell::new(run_value(o)),
            Cell::new(o.objective.slo.limit_text()),
        ]);
    }
    format!(
        "\nObjectives (the scenario's `slo`, judged on this run: {}; `capsim check` judges them over replications, with 95% intervals)\n{t}\n",
        objectives_tally(&r.objectives)
    )
}

/// One row per call step: the edge, its calls and attempts, how they
/// failed, and the latency the caller saw.
fn calls(r: &Results) -> TermTable {
    let breakers = r.calls.iter().any(|c| c.circuit_breaker.is_some());
    let mut header = vec![
        "call", "calls", "attempts", "retries", "timeouts", "rejected", "failed",
    ];
    let hedged = r.calls.iter().any(|c| c.hedges.is_some());
    if hedged {
        header.push("hedges");
    }
    if breakers {
        header.extend(["short-circuited", "open s"]);
    }
    header.extend(["errors", "p50 ms", "p99 ms"]);
    let mut t = table(&header, 1);
    for c in &r.calls {
        let mut row = vec![
            format!("{} -> {}", c.from, c.to),
            int(c.calls),
            int(c.attempts),
            int(c.retries),
            int(c.timeouts),
            int(c.rejected),
            int(c.aborted),
        ];
        if hedged {
            row.push(c.hedges.map_or("-".into(), int));
        }
        if breakers {
            let (n, s) = c
                .circuit_breaker
                .as_ref()
                .map_or(("-".into(), "-".into()), |b| {
                    (int(b.short_circuited), format!("{:.1}", b.open_s))
                });
            row.extend([n, s]);
        }
        row.extend([
            pct(c.error_rate),
            ms(c.latency.p50_ms),
            ms(c.latency.p99_ms),
        ]);
        t.add_row(row);
    }
    t
}

/// A compact timeline: the time series folded into at most `rows` windows,
/// so the moment latency breaks is visible in a terminal.
pub fn timeline(r: &Results, rows: usize) -> Option<TermTable> {
    let ts = &r.time_series;
    if ts.buckets == 0 || rows == 0 {
        return None;
    }
    let group = ts.buckets.div_ceil(rows);
    let mut header = vec!["window", "offered/s", "ok/s", "errors/s", "p99 ms"];
    let has_429 = ts.endpoints.iter().any(|e| !e.rate_limited_rps.is_empty());
    if has_429 {
        header.insert(4, "429/s");
    }
    let has_svc = !ts.services.is_empty();
    let has_db = ts.databases.iter().any(|d| !d.shard_utilisation.is_empty());
    let has_q = !ts.queues.is_empty();
    if has_svc {
        header.push("busiest service");
    }
    if has_db {
        header.push("busiest shard");
    }
    if has_q {
        header.push("queue lag");
    }
    let mut t = table(&header, 1);
    let mean = |v: &[f64], a: usize, b: usize| {
        let s = &v[a.min(v.len())..b.min(v.len())];
        if s.is_empty() {
            0.0
        } else {
            s.iter().sum::<f64>() / s.len() as f64
        }
    };
    let mut a = 0;
    while a < ts.buckets {
        let b = (a + group).min(ts.buckets);
        let offered: f64 = ts
            .workloads
            .iter()
            .map(|w| mean(&w.offered_rps, a, b))
            .sum();
        // Users' requests: with service calls, the endpoints count the
        // calls' requests too.
        let (ok, errors) = match &ts.users {
            Some(u) => (
                mean(&u.ok_rps, a, b),
                mean(&u.timeouts_rps, a, b)
                    + mean(&u.rejected_rps, a, b)
                    + mean(&u.aborted_rps, a, b),
            ),
            None => (
                ts.endpoints.iter().map(|e| mean(&e.ok_rps, a, b)).sum(),
                ts.endpoints
                    .iter()
                    .map(|e| {
                        mean(&e.timeouts_rps, a, b)
                            + mean(&e.rejected_rps, a, b)
                            + mean(&e.aborted_rps, a, b)
                    })
                    .sum(),
            ),
        };
        let worst = ts.overall_latency
            [a.min(ts.overall_latency.len())..b.min(ts.overall_latency.len())]
            .iter()
            .filter(|p| p.count >= MIN_P99_SAMPLES)
            .map(|p| p.p99_ms)
            .fold(0.0, f64::max);
        let mut row = vec![
            format!(
                "{}-{}",
                secs(a as f64 * ts.interval_s),
                secs(b as f64 * ts.interval_s)
            ),
            format!("{offered:.0}"),
            format!("{ok:.0}"),
            format!("{errors:.1}"),
            ms(worst),
        ];
        if has_429 {
            let limited: f64 = ts
                .endpoints
                .iter()
                .map(|e| mean(&e.rate_limited_rps, a, b))
                .sum();
            row.insert(4, format!("{limited:.1}"));
        }
        if has_svc {
            let (name, u) = ts
                .services
                .iter()
                .map(|s| (s.name.as_str(), mean(&s.utilisation, a, b)))
                .fold(("", -1.0), |x, y| if y.1 > x.1 { y } else { x });
            row.push(format!("{name} {}", pct(u)));
        }
        if has_db {
            let (name, u) = ts
                .databases
                .iter()
                .flat_map(|d| {
                    d.shard_utilisation
                        .iter()
                        .enumerate()
                        .map(move |(i, v)| (format!("{}[{i}]", d.name), mean(v, a, b)))
                })
                .fold((String::new(), -1.0), |x, y| if y.1 > x.1 { y } else { x });
            row.push(format!("{name} {}", pct(u)));
        }
        if has_q {
            let lag: f64 = ts.queues.iter().map(|q| mean(&q.lag, a, b)).sum();
            row.push(format!("{lag:.1}"));
        }
        t.add_row(row);
        a = b;
    }
    Some(t)
}
