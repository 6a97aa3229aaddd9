//! Service-level objectives on the command line: `p99<250ms`,
//! `errors<0.1%`, `endpoint:checkout:p99<400ms`, `cache:products:hit_ratio>0.8`,
//! and over a window of the run: `endpoint:checkout:p99<400ms@8m..17m`.

use sim_core::SimDuration;

pub use models::{Op, Slo, Verdict};

const HELP: &str = "objectives look like p99<250ms (p50, p90, p99, p999), mean<80ms, errors<0.1%, \
timeouts<0.1%, rejections<0.1%, rate_limited<1%, user_errors<1%, user_p99<300ms, throughput>900, \
endpoint:NAME:p99<400ms (p50, p90, p99, p999, mean, errors, timeouts, rejections, rate_limited, user_errors, user_p99, throughput), \
service:NAME:utilisation<0.8, service:NAME:session_loss<1%, \
db:NAME:hot_spot<1.5, db:NAME:hot_spot_interval<1.5, db:NAME:utilisation<0.7, cache:NAME:hit_ratio>0.8, queue:NAME:lag<1000, \
queue:NAME:e2e_p99<2s, queue:NAME:dead_letters<100, db:NAME:stale_reads<1%, cost<25 (per hour), cost_per_million<3; \
any of them over a window of the run with @FROM..TO: p99<400ms@8m..17m";

/// Parses one objective.
pub fn parse(text: &str) -> Result<Slo, String> {
    let bad = |why: String| format!("--slo {text}: {why}; {HELP}");
    let (text_limit, window) = match text.rsplit_once('@') {
        Some((l, w)) => (l, Some(window(w).map_err(&bad)?)),
        None => (text, None),
    };
    let (lhs, op, rhs) = if let Some((l, r)) = text_limit.split_once('<') {
        (l, Op::Below, r.trim_start_matches('='))
    } else if let Some((l, r)) = text_limit.split_once('>') {
        (l, Op::Above, r.trim_start_matches('='))
    } else {
        return Err(bad("no `<` or `>`".into()));
    };
    let mut parts: Vec<&str> = lhs.trim().split(':').collect();
    // The scenario file's names for the same objectives.
    if let [scope, _, m] = parts.as_mut_slice() {
        if *scope == "database" {
            *scope = "db";
        }
        *m = file_name(scope, m);
    } else if let [m] = parts.as_mut_slice() {
        *m = file_name("", m);
    }
    let (metric, kind) = match parts.as_slice() {
        [m] => match *m {
            "p50" => ("p50_ms".to_string(), Kind::Duration),
            "p90" => ("p90_ms".to_string(), Kind::Duration),
            "timeouts" | "timeout_rate" => ("timeout_rate".to_string(), Kind::Fraction),
            "rejections" | "rejection_rate" => ("rejection_rate".to_string(), Kind::Fraction),
            "rate_limited" | "rate_limited_rate" => {
                ("rate_limited_rate".to_string(), Kind::Fraction)
            }
            "user_errors" | "user_error_rate" => ("user_error_rate".to_string(), Kind::Fraction),
            "user_p99" => ("user_p99_ms".to_string(), Kind::Duration),
            "p99" => ("p99_ms".to_string(), Kind::Duration),
            "p999" | "p99.9" => ("p999_ms".to_string(), Kind::Duration),
            "mean" => ("mean_ms".to_string(), Kind::Duration),
            "errors" | "error_rate" => ("error_rate".to_string(), Kind::Fraction),
            "throughput" => ("throughput_rps".to_string(), Kind::Number("requests/s")),
            "cost" => ("cost.per_hour".to_string(), Kind::Number("$/hour")),
            "cost_per_million" => (
                "cost.per_million_requests".to_string(),
                Kind::Number("$/M requests"),
            ),
            other => return Err(bad(format!("unknown metric `{other}`"))),
        },
        [scope, name, m] => {
            let name = name.trim();
            if name.is_empty() {
                return Err(bad("empty component name".into()));
            }
            match (*scope, *m) {
                ("endpoint", m @ ("p50" | "p90" | "p99" | "p999")) => {
                    (format!("endpoint.{name}.{m}_ms"), Kind::Duration)
                }
                ("endpoint", "p99.9") => (format!("endpoint.{name}.p999_ms"), Kind::Duration),
                ("endpoint", "timeouts") => {
                    (format!("endpoint.{name}.timeout_rate"), Kind::Fraction)
                }
                ("endpoint", "rejections") => {
                    (format!("endpoint.{name}.rejection_rate"), Kind::Fraction)
                }
                ("endpoint", "user_errors") => {
                    (format!("endpoint.{name}.user_error_rate"), Kind::Fraction)
                }
                ("endpoint", "user_p99") => {
                    (format!("endpoint.{name}.user_p99_ms"), Kind::Duration)
                }
                ("endpoint", "rate_limited") => {
                    (format!("endpoint.{name}.rate_limited_rate"), Kind::Fraction)
                }
                ("endpoint", "mean") => (format!("endpoint.{name}.mean_ms"), Kind::Duration),
                ("endpoint", "errors") => (format!("endpoint.{name}.error_rate"), Kind::Fraction),
                ("endpoint", "throughput") => (
                    format!("endpoint.{name}.throughput_rps"),
                    Kind::Number("requests/s"),
                ),
                ("service", "utilisation") => {
                    (format!("service.{name}.utilisation"), Kind::Fraction)
                }
                ("service", "session_loss") => {
                    (format!("service.{name}.session_loss_rate"), Kind::Fraction)
                }
                ("db", "hot_spot") => (format!("db.{name}.hot_spot_index"), Kind::Number("")),
                ("db", "hot_spot_interval") => {
                    (format!("db.{name}.hot_spot_interval"), Kind::Number(""))
                }
                ("db", "utilisation") => (format!("db.{name}.max_utilisation"), Kind::Fraction),
                ("cache", "hit_ratio") => (format!("cache.{name}.hit_ratio"), Kind::Fraction),
                ("queue", "lag") => (format!("queue.{name}.lag_max"), Kind::Number("messages")),
                ("queue", "dead_letters") => (
                    format!("queue.{name}.dead_lettered"),
                    Kind::Number("messages"),
                ),
                ("db", "stale_reads") => (format!("db.{name}.stale_read_ratio"), Kind::Fraction),
                ("queue", "e2e_p99") => (format!("queue.{name}.e2e_p99_ms"), Kind::Duration),
                (s, m) => return Err(bad(format!("unknown objective `{s}:{name}:{m}`"))),
            }
        }
        _ => {
            return Err(bad(
                "expected METRIC or KIND:NAME:METRIC before the comparison".into(),
            ));
        }
    };
    let rhs = rhs.trim();
    let (limit, unit) = match kind {
        Kind::Duration => {
            let d = SimDuration::parse(rhs)
                .map_err(|e| bad(format!("{e} (give a unit, e.g. 250ms)")))?;
            (d.as_millis_f64(), "ms".to_string())
        }
        Kind::Fraction => match rhs.strip_suffix('%') {
            Some(p) => (
                p.trim()
                    .parse::<f64>()
                    .map_err(|_| bad(format!("`{rhs}` is not a percentage")))?
                    / 100.0,
                String::new(),
            ),
            None => (
                rhs.parse::<f64>()
                    .map_err(|_| bad(format!("`{rhs}` is not a number")))?,
                String::new(),
            ),
        },
        Kind::Number(u) => (
            rhs.parse::<f64>()
                .map_err(|_| bad(format!("`{rhs}` is not a number")))?,
            u.to_string(),
        ),
    };
    if !limit.is_finite() {
        return Err(bad("the limit must be finite".into()));
    }
    Ok(Slo {
        text: text.to_string(),
        metric: match window {
            Some(w) => models::windowed(&metric, w),
            None => metric,
        },
        op,
        limit,
        unit,
        percent: matches!(kind, Kind::Fraction),
    })
}

/// The command line's name of an objective the scenario file names
/// `m` (in an `slo` entry about a `scope`: "" for the whole system), or
/// `m` itself.
fn file_name<'a>(scope: &str, m: &'a str) -> &'a str {
    match (scope, m) {
        (_, "error_rate") => "errors",
        (_, "timeout_rate") => "timeouts",
        (_, "rejection_rate") => "rejections",
        (_, "rate_limited_rate") => "rate_limited",
        (_, "user_error_rate") => "user_errors",
        (_, "min_throughput_rps") => "throughput",
        ("", "max_cost_per_hour") => "cost",
        ("", "max_cost_per_million_requests") => "cost_per_million",
        ("service" | "db", "max_utilisation") => "utilisation",
        ("service", "max_session_loss_rate") => "session_loss",
        ("db", "max_hot_spot_index") => "hot_spot",
        ("db", "max_hot_spot_index_by_interval") => "hot_spot_interval",
        ("db", "max_stale_read_ratio") => "stale_reads",
        ("cache", "min_hit_ratio") => "hit_ratio",
        ("queue", "max_lag") => "lag",
        ("queue", "max_end_to_end_p99") => "e2e_p99",
        ("queue", "max_dead_lettered") => "dead_letters",
        _ => m,
    }
}

/// A window written `FROM..TO` (`8m..17m`).
fn window(text: &str) -> Result<models::Window, String> {
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| format!("the window `{text}` is not FROM..TO (e.g. @8m..17m)"))?;
    let d = |t: &str| SimDuration::parse(t.trim()).map_err(|e| format!("the window `{text}`: {e}"));
    let (from, to) = (d(from)?, d(to)?);
    if from >= to {
        return Err(format!("the window `{text}` ends before it starts"));
    }
    Ok(models::Window { from, to })
}

enum Kind {
    Duration,
    Fraction,
    Number(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::Estimate;

    #[test]
    fn parses_objectives() {
        let s = parse("p99<250ms").unwrap();
        assert_eq!(
            (s.metric.as_str(), s.op, s.limit),
            ("p99_ms", Op::Below, 250.0)
        );
        let s = parse("errors<0.1%").unwrap();
        assert_eq!((s.metric.as_str(), s.limit), ("error_rate", 0.001));
        let s = parse("endpoint:checkout:p99<0.4s").unwrap();
        assert_eq!(
            (s.metric.as_str(), s.limit),
            ("endpoint.checkout.p99_ms", 400.0)
        );
        let s = parse("cache:products:hit_ratio>0.8").unwrap();
        assert_eq!(
            (s.metric.as_str(), s.op),
            ("cache.products.hit_ratio", Op::Above)
        );
        assert_eq!(parse("throughput>=900").unwrap().limit, 900.0);
        assert_eq!(parse("cost<25").unwrap().metric, "cost.per_hour");
        assert_eq!(
            parse("endpoint:checkout:p90<1s").unwrap().metric,
            "endpoint.checkout.p90_ms"
        );
        assert_eq!(
            parse("endpoint:checkout:rejections<1%").unwrap().metric,
            "endpoint.checkout.rejection_rate"
        );
        assert_eq!(parse("timeouts<1%").unwrap().metric, "timeout_rate");
        // Over a window: the metric's windowed name, durations canonical.
        let s = parse("endpoint:checkout:p99<400ms@480s..17m").unwrap();
        assert_eq!(
            (s.metric.as_str(), s.limit),
            ("endpoint.checkout.p99_ms@8m..17m", 400.0)
        );
        assert_eq!(
            models::split_windowed(&s.metric).map(|(m, w)| (m, w.to)),
            Some(("endpoint.checkout.p99_ms", SimDuration::from_secs(1020)))
        );
        assert_eq!(
            parse("errors<1%@0s..1m").unwrap().metric,
            "error_rate@0s..1m"
        );
        // The scenario file's names read the same.
        for (file, cli) in [
            ("error_rate<1%", "errors<1%"),
            ("min_throughput_rps>900", "throughput>900"),
            ("max_cost_per_hour<10", "cost<10"),
            (
                "endpoint:checkout:timeout_rate<1%",
                "endpoint:checkout:timeouts<1%",
            ),
            (
                "service:app:max_utilisation<0.98",
                "service:app:utilisation<0.98",
            ),
            (
                "database:catalog:max_hot_spot_index<1.6",
                "db:catalog:hot_spot<1.6",
            ),
            (
                "database:catalog:max_utilisation<0.5",
                "db:catalog:utilisation<0.5",
            ),
            ("cache:c:min_hit_ratio>0.5", "cache:c:hit_ratio>0.5"),
            ("queue:q:max_lag<200", "queue:q:lag<200"),
            ("queue:q:max_end_to_end_p99<1s", "queue:q:e2e_p99<1s"),
            ("queue:q:max_dead_lettered<5", "queue:q:dead_letters<5"),
        ] {
            let (a, b) = (parse(file).unwrap(), parse(cli).unwrap());
            assert_eq!(
                (a.metric, a.limit, a.op),
                (b.metric, b.limit, b.op),
                "{file}"
            );
        }
    }

    /// Every limit a scenario file's `slo` entry can set, on every target
    /// it can be set on, reads the same on the command line under the
    /// file's name: the same metric, unit and limit (the two tables of
    /// names, here and in `models`, cannot drift apart).
    #[test]
    fn every_file_objective_reads_the_same_on_the_command_line() {
        let scenario = serde_json::json!({
            "name": "all", "duration": "10s",
            "workloads": [{
                "name": "users", "target": "app", "rate": [{ "rps": 10 }], "mix": { "get": 1 },
                "keys": { "user_id": { "uniform": { "n": 100 } } },
                "timeout": "1s", "retry": { "max_attempts": 2 }
            }],
            "services": [{
                "name": "app", "replicas": 1, "concurrency": 4, "price_per_replica_hour": 1,
                "sessions": { "store": "local", "key": "user_id", "ttl": "30m" },
                "endpoints": { "get": [
                    { "cache": { "cache": "c", "key": "user_id",
                                 "on_miss": [{ "read": { "db": "d" } }] } },
                    { "publish": { "queue": "q" } }
                ] }
            }],
            "caches": [{ "name": "c", "capacity": 10, "hit_latency": "1ms" }],
            "databases": [{ "name": "d", "shards": 2, "shard_key": "user_id", "connections": 4,
                            "read_time": "1ms", "write_time": "1ms", "replicas": 1,
                            "read_from": "replicas", "replication_lag": "10ms" }],
            "queues": [{ "name": "q", "partitions": 1, "consumers": 1,
                         "work": [{ "compute": "1ms" }] }]
        });
        let request = [
            ("p50", "1s"),
            ("p90", "1s"),
            ("p99", "1s"),
            ("p999", "1s"),
            ("mean", "1s"),
            ("error_rate", "0.5"),
            ("timeout_rate", "0.5"),
            ("rejection_rate", "0.5"),
            ("rate_limited_rate", "0.5"),
            ("user_error_rate", "0.5"),
            ("user_p99", "1s"),
            ("min_throughput_rps", "1"),
        ];
        let mut cases: Vec<(&str, &str, &str, &str)> = Vec::new();
        for (field, v) in request {
            cases.push(("", "", field, v));
            cases.push(("endpoint", "get", field, v));
        }
        cases.extend([
            ("", "", "max_cost_per_hour", "1"),
            ("", "", "max_cost_per_million_requests", "1"),
            ("service", "app", "max_utilisation", "0.5"),
            ("service", "app", "max_session_loss_rate", "0.5"),
            ("database", "d", "max_utilisation", "0.5"),
            ("database", "d", "max_hot_spot_index", "1"),
            ("database", "d", "max_hot_spot_index_by_interval", "1"),
            ("database", "d", "max_stale_read_ratio", "0.5"),
            ("cache", "c", "min_hit_ratio", "0.5"),
            ("queue", "q", "max_lag", "1"),
            ("queue", "q", "max_end_to_end_p99", "1s"),
            ("queue", "q", "max_dead_lettered", "1"),
        ]);
        // Every limit the file format has is among the cases.
        let schema = models::scenario_schema().to_value();
        let fields = schema["$defs"]["SloEntry"]["properties"]
            .as_object()
            .expect("the schema's SloEntry");
        let not_limits = [
            "name",
            "endpoint",
            "service",
            "database",
            "cache",
            "queue",
            "window",
            "tolerance",
        ];
        for field in fields.keys().filter(|f| !not_limits.contains(&f.as_str())) {
            assert!(
                cases.iter().any(|c| c.2 == field),
                "the slo field `{field}` is not checked here"
            );
        }
        for (scope, name, field, v) in cases {
            let mut doc = scenario.clone();
            let mut entry = serde_json::Map::new();
            if !scope.is_empty() {
                entry.insert(scope.into(), name.into());
            }
            let value = v
                .parse::<f64>()
                .map_or_else(|_| v.into(), serde_json::Value::from);
            entry.insert(field.into(), value);
            doc["slo"] = serde_json::json!([entry]);
            let (_, model) = models::load("all.json", &doc.to_string(), &[])
                .unwrap_or_else(|e| panic!("{scope} {field}: {e}"));
            let [file] = model.objectives.as_slice() else {
                panic!("{scope} {field}: {:?}", model.objectives);
            };
            let f = &file.slo;
            let op = if f.op == Op::Below { '<' } else { '>' };
            let text = if scope.is_empty() {
                format!("{field}{op}{v}")
            } else {
                format!("{scope}:{name}:{field}{op}{v}")
            };
            let c = parse(&text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                (&c.metric, c.limit, &c.unit, c.percent),
                (&f.metric, f.limit, &f.unit, f.percent),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_objectives_say_why() {
        for (t, needle) in [
            ("p99=250ms", "no `<` or `>`"),
            ("p98<250ms", "unknown metric"),
            ("p99<250", "unit"),
            ("errors<lots", "not a number"),
            ("endpoint::p99<1s", "empty component name"),
            ("db:x:p99<1s", "unknown objective"),
            ("p99<1s@8m", "not FROM..TO"),
            ("p99<1s@8m..2m", "ends before it starts"),
            ("p99<1s@8x..9m", "the window `8x..9m`"),
        ] {
            let e = parse(t).unwrap_err();
            assert!(e.contains(needle), "{t}: {e}");
        }
    }

    #[test]
    fn verdicts_use_the_whole_interval() {
        let s = parse("p99<100ms").unwrap();
        let est = |low: f64, high: f64| Estimate {
            mean: (low + high) / 2.0,
            ci95: Some((high - low) / 2.0),
            low,
            high,
        };
        assert_eq!(s.verdict(&est(80.0, 99.0)), Verdict::Holds);
        assert_eq!(s.verdict(&est(90.0, 110.0)), Verdict::Unsure);
        assert_eq!(s.verdict(&est(100.0, 120.0)), Verdict::Fails);
        let t = parse("throughput>50").unwrap();
        assert_eq!(t.verdict(&est(51.0, 60.0)), Verdict::Holds);
        assert_eq!(t.verdict(&est(40.0, 50.0)), Verdict::Fails);
    }
}
