//! The `slo` section: objectives on endpoints, components or the whole
//! system, resolved into named metrics `capsim check` and `plan` judge.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::scenario::Scenario;
use crate::doc::slo::{Objective, Window};
use crate::doc::sweeps::{Op, Slo, short_number};
use crate::kernel::resolve::{Path, Resolve};
use crate::kinds::{cache, database, queue, service};
use crate::model::vocab::Fraction;
use crate::scenario::ScenarioError;

/// A group of service-level objectives on one target (an endpoint, a
/// component, or the whole system when no target is named), optionally
/// evaluated over a window of the run. Every limit given becomes one
/// objective; latency and rate limits are upper limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloEntry {
    /// A label shown with these objectives in tables and JUnit.
    #[serde(default)]
    pub name: Option<String>,
    /// Limits on this endpoint's requests.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Limits on this service.
    #[serde(default)]
    pub service: Option<String>,
    /// Limits on this database.
    #[serde(default)]
    pub database: Option<String>,
    /// Limits on this cache.
    #[serde(default)]
    pub cache: Option<String>,
    /// Limits on this queue.
    #[serde(default)]
    pub queue: Option<String>,
    /// Evaluate over this part of the run instead of the whole measured run.
    #[serde(default)]
    pub window: Option<SloWindow>,
    /// Allowed regression of these objectives against a baseline, as a
    /// fraction or percentage (default: `capsim check --tolerance`).
    #[serde(default)]
    pub tolerance: Option<Fraction>,
    /// Median latency limit.
    #[serde(default)]
    pub p50: Option<SimDuration>,
    /// 90th percentile latency limit.
    #[serde(default)]
    pub p90: Option<SimDuration>,
    /// 99th percentile latency limit.
    #[serde(default)]
    pub p99: Option<SimDuration>,
    /// 99.9th percentile latency limit.
    #[serde(default)]
    pub p999: Option<SimDuration>,
    /// Mean latency limit.
    #[serde(default)]
    pub mean: Option<SimDuration>,
    /// Most errors (timeouts + rejections) per request: 0.001 or "0.1%".
    #[serde(default)]
    pub error_rate: Option<Fraction>,
    /// Most client timeouts per request.
    #[serde(default)]
    pub timeout_rate: Option<Fraction>,
    /// Most rejections per request.
    #[serde(default)]
    pub rejection_rate: Option<Fraction>,
    /// Most requests refused by a rate limiter (HTTP 429) per request.
    #[serde(default)]
    pub rate_limited_rate: Option<Fraction>,
    /// Most errors per request as users see them (the last attempt's
    /// outcome, with retries or closed-loop users).
    #[serde(default)]
    pub user_error_rate: Option<Fraction>,
    /// Highest p99 as users see it (first attempt sent to answer, failed
    /// attempts and backoffs included).
    #[serde(default)]
    pub user_p99: Option<SimDuration>,
    /// Fewest answered requests per second.
    #[serde(default)]
    pub min_throughput_rps: Option<f64>,
    /// Highest busy fraction (a service's pods, a database's busiest shard).
    #[serde(default)]
    pub max_utilisation: Option<Fraction>,
    /// Highest fraction of a service's requests with a live session that
    /// lost it (`services[].sessions.loss_rate`).
    #[serde(default)]
    pub max_session_loss_rate: Option<Fraction>,
    /// Highest hot-spot index (busiest shard / mean shard) of a database.
    #[serde(default)]
    pub max_hot_spot_index: Option<f64>,
    /// Highest hot-spot index of any time-series interval of a database.
    #[serde(default)]
    pub max_hot_spot_index_by_interval: Option<f64>,
    /// Lowest hit ratio of a cache.
    #[serde(default)]
    pub min_hit_ratio: Option<Fraction>,
    /// Highest consumer lag of a queue, in messages.
    #[serde(default)]
    pub max_lag: Option<f64>,
    /// Highest p99 of a queue's publish-to-processed latency.
    #[serde(default)]
    pub max_end_to_end_p99: Option<SimDuration>,
    /// Most messages a queue dead-letters.
    #[serde(default)]
    pub max_dead_lettered: Option<f64>,
    /// Highest share of a database's reads that were stale (replicas).
    #[serde(default)]
    pub max_stale_read_ratio: Option<Fraction>,
    /// Highest cost per hour (system-wide objectives only).
    #[serde(default)]
    pub max_cost_per_hour: Option<f64>,
    /// Highest cost per million requests (system-wide objectives only).
    #[serde(default)]
    pub max_cost_per_million_requests: Option<f64>,
}

/// A part of the run: requests that arrive in `[from, to)` are followed to
/// their answer; component figures cover `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloWindow {
    /// Start of the window (simulated time since the run began).
    pub from: SimDuration,
    /// End of the window.
    pub to: SimDuration,
}

/// What an `slo` entry is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SloScope {
    System,
    Endpoint,
    Service,
    Database,
    Cache,
    Queue,
}

impl SloScope {
    fn noun(self) -> &'static str {
        match self {
            SloScope::System => "the whole system",
            SloScope::Endpoint => "an endpoint",
            SloScope::Service => "a service",
            SloScope::Database => "a database",
            SloScope::Cache => "a cache",
            SloScope::Queue => "a queue",
        }
    }
}

/// How a limit is written and shown.
#[derive(Clone, Copy)]
enum LimitKind {
    /// A duration; the metric is in ms.
    Dur,
    /// A fraction in [0, 1], shown as a percentage.
    Frac,
    /// A non-negative number with a unit.
    Num(&'static str),
}

/// One kind of limit of an `slo` entry: field, value if given, metric,
/// label, direction, how it is written, the targets it applies to.
type Limit<'a> = (
    &'a str,
    Option<f64>,
    &'a str,
    &'a str,
    Op,
    LimitKind,
    &'a [SloScope],
);

/// Resolves the `slo` section into objectives on named metrics.
pub fn resolve(
    cx: &Resolve<'_>,
    sc: &Scenario,
    duration: SimDuration,
) -> Result<Vec<Objective>, ScenarioError> {
    let mut out = Vec::new();
    for (i, e) in sc.slo.iter().enumerate() {
        let p = Path::root("slo").i(i);
        let targets: Vec<(&str, &String)> = [
            ("endpoint", &e.endpoint),
            ("service", &e.service),
            ("database", &e.database),
            ("cache", &e.cache),
            ("queue", &e.queue),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        if targets.len() > 1 {
            return Err(cx.err(
                &p.k(targets[1].0),
                format!(
                    "an entry is about one target; this one names {} {} and {} {} (write two entries)",
                    article(targets[0].0),
                    targets[0].0,
                    article(targets[1].0),
                    targets[1].0
                ),
            ));
        }
        let (scope, prefix, what) = scope_of(cx, sc, &p, targets.first().copied())?;
        let (window, not_measured) = window(cx, &p, e.window, duration)?;
        let dur = |d: Option<SimDuration>| d.map(|d| d.as_millis_f64());
        let frac = |f: Option<Fraction>| f.map(|f| f.0);
        use LimitKind::{Dur, Frac, Num};
        use SloScope::*;
        let request = &[System, Endpoint][..];
        #[rustfmt::skip]
        let limits: [Limit<'_>; 23] = [
            ("p50", dur(e.p50), "p50_ms", "p50", Op::Below, Dur, request),
            ("p90", dur(e.p90), "p90_ms", "p90", Op::Below, Dur, request),
            ("p99", dur(e.p99), "p99_ms", "p99", Op::Below, Dur, request),
            ("p999", dur(e.p999), "p999_ms", "p99.9", Op::Below, Dur, request),
            ("mean", dur(e.mean), "mean_ms", "mean latency", Op::Below, Dur, request),
            ("error_rate", frac(e.error_rate), "error_rate", "error rate", Op::Below, Frac, request),
            ("timeout_rate", frac(e.timeout_rate), "timeout_rate", "timeout rate", Op::Below, Frac, request),
            ("rejection_rate", frac(e.rejection_rate), "rejection_rate", "rejection rate", Op::Below, Frac, request),
            ("rate_limited_rate", frac(e.rate_limited_rate), "rate_limited_rate", "rate-limited (429) rate", Op::Below, Frac, request),
            ("user_error_rate", frac(e.user_error_rate), "user_error_rate", "error rate as users see it", Op::Below, Frac, request),
            ("user_p99", dur(e.user_p99), "user_p99_ms", "p99 as users see it", Op::Below, Dur, request),
            ("min_throughput_rps", e.min_throughput_rps, "throughput_rps", "throughput", Op::Above, Num("requests/s"), request),
            ("max_utilisation", frac(e.max_utilisation), if scope == Database { "max_utilisation" } else { "utilisation" }, if scope == Database { "busiest shard's utilisation" } else { "utilisation" }, Op::Below, Frac, &[Service, Database]),
            ("max_session_loss_rate", frac(e.max_session_loss_rate), "session_loss_rate", "session loss rate", Op::Below, Frac, &[Service]),
            ("max_hot_spot_index", e.max_hot_spot_index, "hot_spot_index", "hot-spot index", Op::Below, Num(""), &[Database]),
            ("max_hot_spot_index_by_interval", e.max_hot_spot_index_by_interval, "hot_spot_interval", "hot-spot index by interval", Op::Below, Num(""), &[Database]),
            ("min_hit_ratio", frac(e.min_hit_ratio), "hit_ratio", "hit ratio", Op::Above, Frac, &[Cache]),
            ("max_lag", e.max_lag, "lag_max", "lag", Op::Below, Num("messages"), &[Queue]),
            ("max_end_to_end_p99", dur(e.max_end_to_end_p99), "e2e_p99_ms", "end-to-end p99", Op::Below, Dur, &[Queue]),
            ("max_dead_lettered", e.max_dead_lettered, "dead_lettered", "dead-lettered messages", Op::Below, Num("messages"), &[Queue]),
            ("max_stale_read_ratio", frac(e.max_stale_read_ratio), "stale_read_ratio", "stale reads", Op::Below, Frac, &[Database]),
            ("max_cost_per_hour", e.max_cost_per_hour, "cost.per_hour", "cost", Op::Below, Num("$/hour"), &[System]),
            ("max_cost_per_million_requests", e.max_cost_per_million_requests, "cost.per_million_requests", "cost per million requests", Op::Below, Num("$/M requests"), &[System]),
        ];
        let before = out.len();
        for (field, value, metric, label, op, kind, scopes) in limits {
            let Some(v) = value else { continue };
            let fp = p.k(field);
            if !scopes.contains(&scope) {
                let allowed: Vec<&str> = scopes.iter().map(|s| s.noun()).collect();
                return Err(cx.err(
                    &fp,
                    format!(
                        "`{field}` is a limit on {}; this entry is about {}",
                        allowed.join(" or "),
                        match targets.first() {
                            Some((k, n)) => format!("{k} `{n}`"),
                            None => "the whole system".to_string(),
                        }
                    ),
                ));
            }
            if !v.is_finite() || v < 0.0 {
                return Err(cx.err(
                    &fp,
                    format!("a limit must be a finite number >= 0, got {v}"),
                ));
            }
            if matches!(kind, Frac) && v > 1.0 {
                return Err(cx.err(&fp, format!("a fraction is at most 1 (100%), got {v}")));
            }
            // Metrics that only some scenarios have.
            if field == "max_session_loss_rate"
                && let Some((_, name)) = targets.first()
                && sc
                    .services
                    .iter()
                    .any(|s| s.name == **name && s.sessions.is_none())
            {
                return Err(cx.err(
                    &fp,
                    format!("service `{name}` keeps no sessions (add `sessions` to it)"),
                ));
            }
            if field.starts_with("user_")
                && !sc
                    .workloads
                    .iter()
                    .any(|w| w.retry.is_some() || w.users.is_some())
            {
                return Err(cx.err(
                    &fp,
                    "users see what the system sees unless a workload retries or has closed-loop `users`: use the plain limit",
                ));
            }
            let metric = if metric.starts_with("cost.") {
                metric.to_string()
            } else {
                format!("{prefix}{metric}")
            };
            let (unit, percent, shown) = match kind {
                Dur => (
                    "ms",
                    false,
                    format!("{}", SimDuration((v * 1e6).round() as u64)),
                ),
                Frac => ("", true, format!("{}%", short_number(v * 100.0))),
                Num(u) => (
                    u,
                    false,
                    if u.is_empty() {
                        short_number(v)
                    } else {
                        format!("{} {u}", short_number(v))
                    },
                ),
            };
            let sign = match op {
                Op::Below => "<",
                Op::Above => ">",
            };
            let what = if what.is_empty() {
                "overall "
            } else {
                what.as_str()
            };
            let what = if metric.starts_with("cost.") {
                ""
            } else {
                what
            };
            let mut objective = Objective::new(
                e.name.clone(),
                Slo {
                    text: format!("{what}{label} {sign} {shown}"),
                    metric,
                    op,
                    limit: v,
                    unit: unit.to_string(),
                    percent,
                },
                window,
            );
            objective.tolerance = e.tolerance.map(|t| t.0);
            objective.not_measured.clone_from(&not_measured);
            if out.iter().any(|o: &Objective| o.id == objective.id) {
                return Err(cx.err(
                    &fp,
                    format!(
                        "another entry already limits `{}`{}; one limit per metric and window",
                        objective.slo.metric,
                        window.map(|w| format!(" over {w}")).unwrap_or_default()
                    ),
                ));
            }
            out.push(objective);
        }
        if let Some(t) = e.tolerance
            && !(t.0.is_finite() && t.0 >= 0.0)
        {
            return Err(cx.err(&p.k("tolerance"), "must be a fraction >= 0"));
        }
        if out.len() == before {
            return Err(cx.err(
                &p,
                "this entry sets no limit; give e.g. \"p99\": \"250ms\", \"error_rate\": \"0.1%\", \"max_utilisation\": 0.8 (see docs/scenario-format.md)",
            ));
        }
    }
    Ok(out)
}

/// "a" or "an" before `word`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// What an entry (at `p`) is about: its scope, the prefix of its metrics'
/// names (`endpoint.get.`) and the words that name it in an objective's
/// text.
fn scope_of(
    cx: &Resolve<'_>,
    sc: &Scenario,
    p: &Path,
    target: Option<(&str, &String)>,
) -> Result<(SloScope, String, String), ScenarioError> {
    Ok(match target {
        None => (SloScope::System, String::new(), String::new()),
        Some(("endpoint", n)) => {
            let owners: Vec<&str> = sc
                .services
                .iter()
                .filter(|s| s.endpoints.contains_key(n.as_str()))
                .map(|s| s.name.as_str())
                .collect();
            if owners.is_empty() {
                let known: Vec<&str> = sc
                    .services
                    .iter()
                    .flat_map(|s| s.endpoints.keys().map(String::as_str))
                    .collect();
                return Err(cx.unknown(&p.k("endpoint"), "endpoint", n, &known));
            }
            if owners.len() > 1 {
                return Err(cx.err(
                    &p.k("endpoint"),
                    format!(
                        "endpoint `{n}` exists in services {}; objectives need an endpoint name used once",
                        owners.join(", ")
                    ),
                ));
            }
            (
                SloScope::Endpoint,
                format!("endpoint.{n}."),
                format!("endpoint {n} "),
            )
        }
        Some((field, n)) => {
            let (scope, key, section) = match field {
                "service" => (SloScope::Service, "service", service::SECTION),
                "database" => (SloScope::Database, "db", database::SECTION),
                "cache" => (SloScope::Cache, "cache", cache::SECTION),
                _ => (SloScope::Queue, "queue", queue::SECTION),
            };
            cx.index_in(&p.k(field), n, section, field)?;
            (scope, format!("{key}.{n}."), format!("{field} {n} "))
        }
    })
}

/// An entry's window (at `p.window`), inside the run of length `duration`,
/// and why it cannot be measured when a `--set` (or a varied value) made
/// the run end before the window does: such an objective is kept, marked
/// not measured, so `run` and `sweep` can say so while `check` and `plan`
/// refuse it. A window past the duration written in the file is refused.
fn window(
    cx: &Resolve<'_>,
    p: &Path,
    window: Option<SloWindow>,
    duration: SimDuration,
) -> Result<(Option<Window>, Option<String>), ScenarioError> {
    let Some(w) = window else {
        return Ok((None, None));
    };
    let wp = p.k("window");
    if w.from >= w.to {
        return Err(cx.err(
            &wp.k("to"),
            format!(
                "the window must end after it starts ({} is not after {})",
                w.to, w.from
            ),
        ));
    }
    let mut not_measured = None;
    if w.to > duration {
        let why = format!("the window ends at {} but the run lasts {duration}", w.to);
        match cx.override_of(&Path::root("duration")) {
            Some(set) => not_measured = Some(format!("{why} (--set {set})")),
            None => return Err(cx.err(&wp.k("to"), why)),
        }
    }
    let w = Window {
        from: w.from,
        to: w.to,
    };
    Ok((Some(w), not_measured))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::system::compile::testing::{assert_refused, base, changed, merged};

    /// What an `slo` entry refuses: two targets, targets that do not
    /// exist or an endpoint name two services use, windows outside the
    /// run, limits on another kind of target, negative limits and
    /// fractions above 1, figures the scenario does not have (sessions,
    /// what users see), the same limit twice, a negative tolerance, no
    /// limit at all, an unknown field.
    #[test]
    fn refusals() {
        let b = base();
        let entry = "/slo/0";
        assert_refused(
            &b,
            vec![
                (
                    entry,
                    json!({ "endpoint": "get", "service": "app", "p99": "1s" }),
                    "slo[0].service: an entry is about one target; this one names an endpoint and a service (write two entries)",
                ),
                (
                    entry,
                    json!({ "endpoint": "gte", "p99": "1s" }),
                    "slo[0].endpoint: no endpoint named `gte` (known: get, put)\n  help: did you mean `get`?",
                ),
                (
                    entry,
                    json!({ "service": "ap", "max_utilisation": 0.5 }),
                    "slo[0].service: no service named `ap` (known: app)\n  help: did you mean `app`?",
                ),
                (
                    entry,
                    json!({ "database": "e", "max_utilisation": 0.5 }),
                    "slo[0].database: no database named `e` (known: d)",
                ),
                (
                    entry,
                    json!({ "cache": "cc", "min_hit_ratio": 0.5 }),
                    "slo[0].cache: no cache named `cc` (known: c)",
                ),
                (
                    entry,
                    json!({ "queue": "qq", "max_lag": 10 }),
                    "slo[0].queue: no queue named `qq` (known: q)",
                ),
                (
                    entry,
                    json!({ "window": { "from": "10s", "to": "5s" }, "p99": "1s" }),
                    "slo[0].window.to: the window must end after it starts (5s is not after 10s)",
                ),
                (
                    entry,
                    json!({ "window": { "from": "10s", "to": "40s" }, "p99": "1s" }),
                    "slo[0].window.to: the window ends at 40s but the run lasts 20s",
                ),
                (
                    entry,
                    json!({ "endpoint": "get", "min_hit_ratio": 0.5 }),
                    "slo[0].min_hit_ratio: `min_hit_ratio` is a limit on a cache; this entry is about endpoint `get`",
                ),
                (
                    entry,
                    json!({ "max_utilisation": 0.5 }),
                    "slo[0].max_utilisation: `max_utilisation` is a limit on a service or a database; this entry is about the whole system",
                ),
                (
                    entry,
                    json!({ "service": "app", "p99": "1s" }),
                    "slo[0].p99: `p99` is a limit on the whole system or an endpoint; this entry is about service `app`",
                ),
                (
                    entry,
                    json!({ "min_throughput_rps": -1 }),
                    "slo[0].min_throughput_rps: a limit must be a finite number >= 0, got -1",
                ),
                (
                    entry,
                    json!({ "error_rate": 2 }),
                    "slo[0].error_rate: a fraction is at most 1 (100%), got 2",
                ),
                (
                    entry,
                    json!({ "error_rate": "lots" }),
                    "slo[0].error_rate: `lots` is not a fraction: write a number (0.001) or a percentage (\"0.1%\")",
                ),
                (
                    entry,
                    json!({ "p99": "-3ms" }),
                    "slo[0].p99: invalid duration \"-3ms\"",
                ),
                (
                    entry,
                    json!({ "user_error_rate": "1%" }),
                    "slo[0].user_error_rate: users see what the system sees unless a workload retries or has closed-loop `users`: use the plain limit",
                ),
                (
                    "/slo",
                    json!([{ "p99": "40ms" }, { "name": "again", "p99": "50ms" }]),
                    "slo[1].p99: another entry already limits `p99_ms`; one limit per metric and window",
                ),
                (
                    entry,
                    json!({ "p99": "1s", "tolerance": -0.1 }),
                    "slo[0].tolerance: must be a fraction >= 0",
                ),
                (
                    entry,
                    json!({ "name": "nothing" }),
                    "slo[0]: this entry sets no limit; give e.g. \"p99\": \"250ms\", \"error_rate\": \"0.1%\", \"max_utilisation\": 0.8 (see docs/scenario-format.md)",
                ),
                (
                    entry,
                    json!({ "p98": "40ms" }),
                    "slo[0].p98: unknown field `p98`",
                ),
            ],
        );
        // An endpoint name two services use; a service without sessions.
        let twice = merged(
            &b["services"][0],
            json!({ "name": "app2", "sessions": null }),
        );
        for (change, slo, want) in [
            (
                ("/services/1", twice),
                json!({ "endpoint": "get", "p99": "1s" }),
                "slo[0].endpoint: endpoint `get` exists in services app, app2; objectives need an endpoint name used once",
            ),
            (
                ("/services/0/sessions", json!(null)),
                json!({ "service": "app", "max_session_loss_rate": "1%" }),
                "slo[0].max_session_loss_rate: service `app` keeps no sessions (add `sessions` to it)",
            ),
        ] {
            assert_refused(&changed(&b, &[change]), vec![(entry, slo, want)]);
        }
    }

    /// A window past a duration given with `--set` is kept, marked not
    /// measured with the assignment named (`run` and `sweep` report it);
    /// the same window past the file's duration is refused (above), and
    /// a window inside the shortened run is measured as usual.
    #[test]
    fn a_window_past_a_set_duration_is_not_measured() {
        let doc = changed(
            &base(),
            &[(
                "/slo",
                json!([
                    { "window": { "from": "10s", "to": "15s" }, "p99": "1s" },
                    { "window": { "from": "2s", "to": "8s" }, "p99": "1s" }
                ]),
            )],
        );
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let sets = ["duration=12s".to_string()];
        let (_, m) = crate::load("s.json", &text, &sets).unwrap_or_else(|e| panic!("{e}"));
        let why: Vec<Option<&str>> = m
            .objectives
            .iter()
            .map(|o| o.not_measured.as_deref())
            .collect();
        assert_eq!(
            why,
            [
                Some("the window ends at 15s but the run lasts 12s (--set duration=12s)"),
                None
            ]
        );
        let (_, m) = crate::load("s.json", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(m.objectives.iter().all(|o| o.not_measured.is_none()));
    }
}
