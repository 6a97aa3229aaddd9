//! Service-level objectives: the headline metrics of a run by stable
//! names, and the objectives of a scenario's `slo` section resolved
//! against them. `capsim check` asserts the objectives, `capsim plan`
//! searches for a configuration meeting them, and sweeps aggregate the
//! same metrics across replications.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use crate::doc::results::{EndpointResult, Results};
use crate::doc::sweeps::{Estimate, Slo, Verdict};

/// The headline metrics of a run, by stable names:
///
/// - overall, and per endpoint E under `endpoint.E.`: `throughput_rps`,
///   `error_rate`, `timeout_rate`, `rejection_rate`, `rate_limited_rate`,
///   `mean_ms`, `p50_ms`, `p90_ms`, `p99_ms`, `p999_ms`, and with retries
///   or closed-loop users `user_error_rate`, `user_p99_ms`,
///   `attempts_per_request`;
/// - per service S: `service.S.utilisation`, and with sessions
///   `service.S.session_loss_rate`;
/// - per database D: `db.D.hot_spot_index`, `db.D.hot_spot_interval`,
///   `db.D.max_utilisation`, `db.D.stale_read_ratio`;
/// - per cache C: `cache.C.hit_ratio`;
/// - per queue Q: `queue.Q.lag_max`, `queue.Q.e2e_p99_ms`,
///   `queue.Q.dead_lettered`;
/// - `cost.per_hour`, `cost.per_million_requests`.
pub fn metrics(r: &Results) -> IndexMap<String, f64> {
    let mut m = IndexMap::new();
    request_metrics(&mut m, "", &r.overall);
    for e in &r.endpoints {
        request_metrics(&mut m, &format!("endpoint.{}.", e.name), e);
    }
    for s in &r.services {
        m.insert(format!("service.{}.utilisation", s.name), s.utilisation);
        if let Some(ss) = &s.sessions {
            m.insert(
                format!("service.{}.session_loss_rate", s.name),
                ss.loss_rate,
            );
        }
    }
    for d in &r.databases {
        m.insert(format!("db.{}.hot_spot_index", d.name), d.hot_spot_index);
        m.insert(
            format!("db.{}.hot_spot_interval", d.name),
            d.hot_spot_index_by_interval,
        );
        m.insert(format!("db.{}.max_utilisation", d.name), d.max_utilisation);
        m.insert(
            format!("db.{}.stale_read_ratio", d.name),
            d.stale_read_ratio,
        );
    }
    for c in &r.caches {
        m.insert(format!("cache.{}.hit_ratio", c.name), c.hit_ratio);
    }
    for q in &r.queues {
        m.insert(format!("queue.{}.lag_max", q.name), q.lag_max);
        m.insert(format!("queue.{}.e2e_p99_ms", q.name), q.end_to_end.p99_ms);
        m.insert(
            format!("queue.{}.dead_lettered", q.name),
            q.dead_lettered as f64,
        );
    }
    m.insert("cost.per_hour".into(), r.cost.per_hour);
    m.insert(
        "cost.per_million_requests".into(),
        r.cost.per_million_requests,
    );
    m
}

/// How many samples the latency metric `metric` of [`metrics`] was
/// computed from — ok responses for an endpoint's (or all endpoints')
/// latency, messages for a queue's end-to-end p99 — or None for a metric
/// that is not a latency. A latency over no samples reads 0 ms; an
/// objective on it says nothing and must not hold.
pub fn samples(r: &Results, metric: &str) -> Option<u64> {
    if let Some(q) = metric
        .strip_prefix("queue.")
        .and_then(|m| m.strip_suffix(".e2e_p99_ms"))
    {
        return r
            .queues
            .iter()
            .find(|x| x.name == q)
            .map(|x| x.end_to_end.count);
    }
    let (scope, name) = match metric.strip_prefix("endpoint.") {
        Some(m) => {
            let (e, name) = m.rsplit_once('.')?;
            (r.endpoints.iter().find(|x| x.name == e)?, name)
        }
        None => (&r.overall, metric),
    };
    latency_samples(scope, name)
}

/// The latency metrics [`request_metrics`] gives a scope, in its order.
const LATENCIES: [&str; 6] = [
    "mean_ms",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p999_ms",
    "user_p99_ms",
];

/// How many samples the latency `name` (one of [`LATENCIES`]) of an
/// endpoint, or of all of them, came from; None for another metric, or
/// for `user_p99_ms` without retries or closed-loop users.
fn latency_samples(scope: &EndpointResult, name: &str) -> Option<u64> {
    match name {
        "mean_ms" | "p50_ms" | "p90_ms" | "p99_ms" | "p999_ms" => Some(scope.latency.count),
        "user_p99_ms" => scope.user_visible.as_ref().map(|u| u.latency.count),
        _ => None,
    }
}

/// The latency metrics of [`metrics`] that came from no samples (an
/// endpoint without an ok response, a queue without a message), in the
/// order of [`metrics`]: they read 0 ms, which says nothing, so an
/// objective on one is not measured in `run` and fails in `check` and
/// `plan`. Read from each scope directly (one pass, where looking each
/// metric up by name would search the endpoints once per metric).
pub fn unmeasured(r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    let mut scope = |prefix: &str, e: &EndpointResult| {
        for name in LATENCIES {
            if latency_samples(e, name) == Some(0) {
                out.push(format!("{prefix}{name}"));
            }
        }
    };
    scope("", &r.overall);
    for e in &r.endpoints {
        scope(&format!("endpoint.{}.", e.name), e);
    }
    for q in r.queues.iter().filter(|q| q.end_to_end.count == 0) {
        out.push(format!("queue.{}.e2e_p99_ms", q.name));
    }
    out
}

/// Why a latency objective on `metric` cannot be judged on a run that had
/// no sample for it (see [`samples`]), `in_window` for a windowed one.
pub fn unmeasured_reason(metric: &str, in_window: bool) -> String {
    format!(
        "the run has no {} to measure it on{}",
        if metric.starts_with("queue.") {
            "message with an end-to-end latency (none was published, or the queue has no consumer)"
        } else {
            "ok response"
        },
        if in_window { " in the window" } else { "" }
    )
}

/// Why an objective on the latency `metric` cannot be judged over
/// replications, when the runs with seeds `seeds` had no sample for it;
/// None when `seeds` is empty.
pub fn unmeasured_in(metric: &str, in_window: bool, seeds: &[u64]) -> Option<String> {
    let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
    (!seeds.is_empty()).then(|| {
        format!(
            "{} (the run{} with seed{} {})",
            unmeasured_reason(metric, in_window),
            if seeds.len() == 1 { "" } else { "s" },
            if seeds.len() == 1 { "" } else { "s" },
            list.join(", ")
        )
    })
}

fn request_metrics(m: &mut IndexMap<String, f64>, prefix: &str, e: &EndpointResult) {
    let rate = |n: u64| {
        if e.count == 0 {
            0.0
        } else {
            n as f64 / e.count as f64
        }
    };
    let l = &e.latency;
    for (name, v) in [
        ("throughput_rps", e.throughput_rps),
        ("error_rate", e.error_rate),
        ("timeout_rate", rate(e.timeouts)),
        ("rejection_rate", rate(e.rejected)),
        ("rate_limited_rate", rate(e.rate_limited)),
        ("mean_ms", l.mean_ms),
        ("p50_ms", l.p50_ms),
        ("p90_ms", l.p90_ms),
        ("p99_ms", l.p99_ms),
        ("p999_ms", l.p999_ms),
    ] {
        m.insert(format!("{prefix}{name}"), v);
    }
    // With retries or closed-loop users: what users saw, over all attempts.
    if let Some(u) = &e.user_visible {
        for (name, v) in [
            ("user_error_rate", u.error_rate),
            ("user_p99_ms", u.latency.p99_ms),
            ("attempts_per_request", u.attempts_per_request),
        ] {
            m.insert(format!("{prefix}{name}"), v);
        }
    }
}

/// A part of the run an objective is evaluated over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Window {
    /// Start (simulated time since the run began).
    pub from: SimDuration,
    /// End.
    pub to: SimDuration,
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}–{}", self.from.human(), self.to.human())
    }
}

/// One objective of a scenario's `slo` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// Stable identity, used to match a baseline: the metric, and the
    /// window when there is one, its durations written canonically
    /// (`endpoint.checkout.p99_ms@1m..2.5m` for 60s to 150s).
    pub id: String,
    /// The entry's `name`, if it has one (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The limit on a metric; `slo.text` reads like
    /// `endpoint checkout p99 < 300ms`.
    pub slo: Slo,
    /// Evaluated over this window (absent: over the measured run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Allowed regression against a baseline, as a fraction (overrides
    /// `--tolerance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// Why this objective cannot be measured by a run of this length: its
    /// window ends after a run shortened with `--set duration=...` (or a
    /// varied duration). `run` and `sweep` report it as not measured;
    /// `check` and `plan` refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_measured: Option<String>,
}

/// How an objective fared on one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunVerdict {
    /// The run's figure is on the good side of the limit.
    Holds,
    /// The run's figure is on the limit or past it.
    Fails,
    /// The run could not measure it (see [`RunObjective::reason`]).
    NotMeasured,
}

/// One of the scenario's objectives judged on one run, as a load-testing
/// tool judges its thresholds at the end of a test: the run's figure
/// against the limit, with no confidence interval (`capsim check` judges
/// the same objectives over replications, with 95% intervals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunObjective {
    /// The objective, as the `slo` section resolved it.
    pub objective: Objective,
    /// The run's figure, in the metric's unit (the window's for a windowed
    /// objective); absent when not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Holds, fails, or not measured.
    pub verdict: RunVerdict,
    /// Why it was not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RunObjective {
    /// Judges `o` on `metrics`, the figures of the run over its window,
    /// whose latency metric (if `o` is on one) came from `samples`
    /// samples ([`samples`]).
    pub fn judge(
        o: &Objective,
        metrics: Option<&IndexMap<String, f64>>,
        samples: Option<u64>,
    ) -> RunObjective {
        let value = metrics
            .and_then(|m| m.get(&o.slo.metric).copied())
            .filter(|v| v.is_finite());
        let (verdict, reason) = match (&o.not_measured, value) {
            (Some(why), _) => (RunVerdict::NotMeasured, Some(why.clone())),
            (None, Some(_)) if samples == Some(0) => (
                RunVerdict::NotMeasured,
                Some(unmeasured_reason(&o.slo.metric, o.window.is_some())),
            ),
            (None, None) => (
                RunVerdict::NotMeasured,
                Some("the run has no figure for it (nothing measured)".to_string()),
            ),
            (None, Some(v)) => match o.slo.verdict(&Estimate::of(&[v])) {
                Verdict::Holds => (RunVerdict::Holds, None),
                _ => (RunVerdict::Fails, None),
            },
        };
        RunObjective {
            objective: o.clone(),
            value: value.filter(|_| verdict != RunVerdict::NotMeasured),
            verdict,
            reason,
        }
    }
}

/// The name of `metric` measured over window `w`, as plans and sweeps
/// record it and objectives are identified: `endpoint.checkout.p99_ms@8m..17m`.
pub fn windowed(metric: &str, w: Window) -> String {
    format!("{metric}@{}..{}", w.from, w.to)
}

/// The metric and window of a windowed metric name ([`windowed`]); None
/// for a whole-run metric or a window that does not read.
pub fn split_windowed(name: &str) -> Option<(&str, Window)> {
    let (metric, w) = name.split_once('@')?;
    let (from, to) = w.split_once("..")?;
    let from = SimDuration::parse(from.trim()).ok()?;
    let to = SimDuration::parse(to.trim()).ok()?;
    Some((metric, Window { from, to }))
}

impl Objective {
    /// Builds an objective from its limit (whose `text` reads like
    /// `endpoint checkout p99 < 300ms`).
    pub fn new(name: Option<String>, slo: Slo, window: Option<Window>) -> Objective {
        let id = match window {
            Some(w) => windowed(&slo.metric, w),
            None => slo.metric.clone(),
        };
        Objective {
            id,
            name,
            slo,
            window,
            tolerance: None,
            not_measured: None,
        }
    }

    /// The objective for people: its text, with the window if any.
    pub fn describe(&self) -> String {
        match self.window {
            Some(w) => format!("{} over {w}", self.slo.text),
            None => self.slo.text.clone(),
        }
    }

    /// The objective's label: its entry's name, then
    /// [`Objective::describe`].
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n}: {}", self.describe()),
            None => self.describe(),
        }
    }

    /// The warning for this objective left unmeasured `why`: `objective
    /// `plateau: overall p99 < 120ms over 8m–17m` not measured: the window
    /// ends at 17m but the run lasts 5m (--set duration=5m)`.
    pub fn not_measured_because(&self, why: &str) -> String {
        format!("objective `{}` not measured: {why}", self.label())
    }

    /// [`Objective::not_measured_because`] of [`Objective::not_measured`],
    /// if the objective is not measured by a run of this length.
    pub fn not_measured_note(&self) -> Option<String> {
        self.not_measured
            .as_deref()
            .map(|why| self.not_measured_because(why))
    }

    /// The objective as plans and sweeps judge it: its metric is
    /// [`Objective::id`] (the window's figure for a windowed one), its text
    /// [`Objective::label`].
    pub fn as_slo(&self) -> Slo {
        Slo {
            text: self.label(),
            metric: self.id.clone(),
            ..self.slo.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `unmeasured` lists exactly the metrics of `metrics` whose
    /// `samples` are 0, in the same order: here `get`'s latencies (every
    /// request times out), not `fast`'s, the users' p99 of `get` (the
    /// workload retries) and the end-to-end p99 of a queue without
    /// consumers.
    #[test]
    fn unmeasured_lists_the_latencies_without_samples() {
        let doc = json!({
            "name": "empty", "duration": "5s",
            "workloads": [{ "name": "users", "target": "app", "rate": [{ "rps": 50 }],
                            "mix": { "get": 1, "fast": 1 }, "timeout": "100ms",
                            "retry": { "max_attempts": 2 } }],
            "services": [{ "name": "app", "replicas": 1, "concurrency": 200,
                           "endpoints": { "get": [{ "compute": "2s" }],
                                          "fast": [{ "compute": "1ms" }, { "publish": { "queue": "q" } }] } }],
            "queues": [{ "name": "q", "partitions": 1, "consumers": 0, "work": [{ "compute": "1ms" }] }]
        });
        let (_, model) =
            crate::load("empty.json", &doc.to_string(), &[]).unwrap_or_else(|e| panic!("{e}"));
        let r = crate::simulate(&model).unwrap_or_else(|e| panic!("{e:?}"));
        let by_name: Vec<String> = metrics(&r)
            .into_keys()
            .filter(|m| samples(&r, m) == Some(0))
            .collect();
        let direct = unmeasured(&r);
        assert_eq!(direct, by_name);
        for m in [
            "endpoint.get.p99_ms",
            "endpoint.get.user_p99_ms",
            "queue.q.e2e_p99_ms",
        ] {
            assert!(direct.iter().any(|d| d == m), "{m}: {direct:?}");
        }
        assert!(
            !direct.iter().any(|d| d.starts_with("endpoint.fast.")),
            "{direct:?}"
        );
    }
}
