//! The Horizontal Pod Autoscaler's rules (`services[].autoscaling`).

use serde::{Deserialize, Serialize};
use sim_core::{SimDuration, SimTime};

use super::Sink;
use super::behavior::{self, Behavior, BehaviorDef};
use super::pods::{Phase, Pod};
use super::{Ev, Service, ServiceDef, SvcState};
use crate::kernel::Cx;
use crate::kernel::resolve::{Path, Resolve};
use crate::model::ids::ServiceId;
use crate::scenario::ScenarioError;

/// Kubernetes Horizontal Pod Autoscaler rules: every `sync_period`,
/// desired = ceil(ready × metric / target), skipped while
/// |metric / target − 1| ≤ `tolerance`, then stabilised and rate-limited
/// by `behavior` and bounded by min and max.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    /// Fewest pods.
    pub min_replicas: u32,
    /// Most pods.
    pub max_replicas: u32,
    /// What is measured per ready pod.
    #[serde(default)]
    pub metric: ScaleMetric,
    /// Target of the metric per pod: a busy fraction (0.6) for
    /// `utilisation`, a request count for `in_flight` and `queue`.
    pub target: f64,
    /// How often the autoscaler decides (Kubernetes: 15s).
    #[serde(default = "default_sync")]
    pub sync_period: SimDuration,
    /// Relative change of the metric ignored (Kubernetes: 0.1).
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// Shorthand for `behavior.scale_down.stabilization_window` (5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_stabilization: Option<SimDuration>,
    /// Stabilisation windows and rate limits of each direction
    /// (Kubernetes' defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
}

/// An autoscaler's rules, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoscalingDef {
    /// Fewest pods.
    pub min_replicas: u32,
    /// Most pods.
    pub max_replicas: u32,
    /// What is measured per ready pod.
    pub metric: ScaleMetric,
    /// Target of the metric per pod.
    pub target: f64,
    /// How often the autoscaler decides.
    pub sync_period: SimDuration,
    /// Relative change of the metric ignored.
    pub tolerance: f64,
    /// Stabilisation and rate limits, defaults filled in.
    pub behavior: BehaviorDef,
}

fn default_sync() -> SimDuration {
    SimDuration::from_secs(15)
}

fn default_tolerance() -> f64 {
    0.1
}

/// Kubernetes' scale-down stabilisation window
/// (`--horizontal-pod-autoscaler-downscale-stabilization`), ns.
const DEFAULT_DOWN_WINDOW: u64 = 300 * sim_core::time::SECS;

/// What an autoscaler measures per ready pod, averaged over the last sync
/// period.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMetric {
    /// Busy workers / workers (CPU-like utilisation).
    #[default]
    Utilisation,
    /// Requests in the pod (busy + waiting).
    InFlight,
    /// Requests waiting for a worker.
    Queue,
}

/// Checks an autoscaler's rules.
pub fn resolve(
    cx: &Resolve<'_>,
    p: &Path,
    s: &Service,
    a: &Autoscaling,
) -> Result<AutoscalingDef, ScenarioError> {
    if a.min_replicas == 0 {
        return Err(cx.err(&p.k("min_replicas"), "must be at least 1"));
    }
    if a.max_replicas < a.min_replicas {
        return Err(cx.err(
            &p.k("max_replicas"),
            format!(
                "must be at least min_replicas ({}), got {}",
                a.min_replicas, a.max_replicas
            ),
        ));
    }
    if a.max_replicas > 10_000 {
        return Err(cx.err(&p.k("max_replicas"), "at most 10000 pods"));
    }
    if s.replicas < a.min_replicas || s.replicas > a.max_replicas {
        return Err(cx.err(
            &p.k("min_replicas"),
            format!(
                "the service starts with {} replicas, outside [min_replicas, max_replicas] = [{}, {}]",
                s.replicas, a.min_replicas, a.max_replicas
            ),
        ));
    }
    if !(a.target.is_finite() && a.target > 0.0) {
        return Err(cx.err(&p.k("target"), "must be a positive number"));
    }
    if a.metric == ScaleMetric::Utilisation && a.target > 1.0 {
        return Err(cx.err(
            &p.k("target"),
            format!(
                "a utilisation target is a busy fraction in (0, 1], got {}",
                a.target
            ),
        ));
    }
    if a.sync_period.0 == 0 {
        return Err(cx.err(&p.k("sync_period"), "must be positive"));
    }
    if !(a.tolerance.is_finite() && (0.0..1.0).contains(&a.tolerance)) {
        return Err(cx.err(&p.k("tolerance"), "must be in [0, 1)"));
    }
    let down_given = a
        .behavior
        .as_ref()
        .and_then(|b| b.scale_down.as_ref())
        .is_some_and(|r| r.stabilization_window.is_some());
    if a.scale_down_stabilization.is_some() && down_given {
        return Err(cx.err(
            &p.k("scale_down_stabilization"),
            "give either scale_down_stabilization or behavior.scale_down.stabilization_window, not both (the first is a shorthand for the second)",
        ));
    }
    let down_window = a
        .scale_down_stabilization
        .map_or(DEFAULT_DOWN_WINDOW, |d| d.0);
    Ok(AutoscalingDef {
        min_replicas: a.min_replicas,
        max_replicas: a.max_replicas,
        metric: a.metric,
        target: a.target,
        sync_period: a.sync_period,
        tolerance: a.tolerance,
        behavior: behavior::resolve(cx, &p.k("behavior"), a.behavior.as_ref(), down_window)?,
    })
}

/// Most scaling decisions kept for the results.
const MAX_SCALE_EVENTS: usize = 1000;

impl SvcState {
    /// The autoscaler decides: every `sync_period` it averages its metric
    /// per ready pod over the last period, computes desired = ceil(ready ×
    /// metric / target), keeps the current count while the ratio is within
    /// `tolerance` of 1, then stabilises and rate-limits the change as its
    /// `behavior` says and bounds it by min and max (see [`behavior`]).
    /// New pods are paid for from the moment they are requested and serve
    /// after their start-up; removed pods stop taking requests, finish
    /// what they hold, then go.
    pub fn autoscale(&mut self, def: &ServiceDef, s: ServiceId, cx: &mut Cx<impl Sink>) {
        let a = def
            .autoscaling
            .as_ref()
            .expect("scheduled only with an autoscaler");
        let t = cx.now();
        let now = t.0;
        let busy = self.hpa_busy.integral(t);
        let ready = self.hpa_ready.integral(t);
        let queued = self.hpa_queued.integral(t);
        let (b0, r0, q0) = self.hpa_last;
        self.hpa_last = (busy, ready, queued);
        let pod_time = ready - r0;
        if pod_time <= 0.0 {
            self.hpa_last_at = now;
        }
        let current = self
            .pods
            .iter()
            .filter(|p| matches!(p.phase, Phase::Ready | Phase::Starting | Phase::Down))
            .count() as u32;
        cx.after(a.sync_period, Ev::Autoscale(s));
        if pod_time <= 0.0 || self.ready == 0 {
            return;
        }
        let metric = match a.metric {
            ScaleMetric::Utilisation => (busy - b0) / pod_time / f64::from(def.concurrency),
            ScaleMetric::InFlight => ((busy - b0) + (queued - q0)) / pod_time,
            ScaleMetric::Queue => (queued - q0) / pod_time,
        };
        let ratio = metric / a.target;
        // Pods that carried the load over the period (time-averaged): a pod
        // that became ready at the end has no usage to report yet, as the
        // HPA ignores pods without metrics.
        let period = (now - self.hpa_last_at) as f64;
        self.hpa_last_at = now;
        let carried = pod_time / period;
        let desired = if (ratio - 1.0).abs() <= a.tolerance {
            current
        } else {
            // `as` saturates: a huge ratio asks for u32::MAX, bounded below.
            (carried * ratio - 1e-9).ceil().max(0.0) as u32
        };
        let bounds = (a.min_replicas, a.max_replicas);
        let target = self
            .hpa_history
            .decide(&a.behavior, bounds, now, current, desired);
        if target == current {
            return;
        }
        if self.scale_events.len() < MAX_SCALE_EVENTS {
            self.scale_events.push((now, current, target, metric));
        }
        if target > current {
            for _ in current..target {
                self.add_pod(def, s, cx);
            }
        } else {
            for _ in target..current {
                self.remove_pod(t);
            }
        }
    }

    /// A new pod: paid from now, ready after its start-up. Reuses the slot
    /// of a pod that has gone.
    fn add_pod(&mut self, def: &ServiceDef, s: ServiceId, cx: &mut Cx<impl Sink>) {
        let slot = match self.pods.iter().position(|p| p.phase == Phase::Gone) {
            Some(i) => i,
            None => {
                let mut p = Pod::new(Phase::Gone);
                if def.failures.is_some() {
                    p.fail_rng = Some(cx.stream(&format!(
                        "service/{}/pod/{}/failures",
                        def.name,
                        self.pods.len()
                    )));
                }
                self.pods.push(p);
                self.pods.len() - 1
            }
        };
        let p = &mut self.pods[slot];
        p.life += 1;
        p.registered = false;
        self.pool.registration(slot, p);
        self.set_phase(slot, Phase::Starting, cx.now());
        self.start_up(def, s, slot, cx);
    }

    /// Removes one pod: a starting one if any (Kubernetes deletes unready
    /// pods first), else the newest ready one, which drains.
    fn remove_pod(&mut self, now: SimTime) {
        let pods = &self.pods;
        let pick = pods
            .iter()
            .rposition(|p| p.phase == Phase::Starting)
            .or_else(|| pods.iter().rposition(|p| p.phase == Phase::Down))
            .or_else(|| pods.iter().rposition(|p| p.phase == Phase::Ready));
        let Some(i) = pick else { return };
        match self.pods[i].phase {
            Phase::Ready if self.pods[i].load() > 0 => {
                self.set_phase(i, Phase::Draining, now);
            }
            _ => self.pod_gone(i, now),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{accepted, assert_refused, base, changed, merged};

    /// What an autoscaler refuses: bounds that exclude the service's
    /// replicas or each other, targets, periods and tolerances out of
    /// range, an unknown metric.
    #[test]
    fn refusals() {
        let rules = |fields: Value| {
            merged(
                &json!({ "min_replicas": 1, "max_replicas": 4, "target": 0.6 }),
                fields,
            )
        };
        let at = "/services/0/autoscaling";
        assert_refused(
            &base(),
            vec![
                (
                    at,
                    rules(json!({ "min_replicas": 0 })),
                    "services[0].autoscaling.min_replicas: must be at least 1",
                ),
                (
                    at,
                    rules(json!({ "min_replicas": 3, "max_replicas": 2 })),
                    "services[0].autoscaling.max_replicas: must be at least min_replicas (3), got 2",
                ),
                (
                    at,
                    rules(json!({ "max_replicas": 10_001 })),
                    "services[0].autoscaling.max_replicas: at most 10000 pods",
                ),
                (
                    at,
                    rules(json!({ "min_replicas": 3, "max_replicas": 5 })),
                    "services[0].autoscaling.min_replicas: the service starts with 2 replicas, outside [min_replicas, max_replicas] = [3, 5]",
                ),
                (
                    at,
                    rules(json!({ "max_replicas": 1 })),
                    "services[0].autoscaling.min_replicas: the service starts with 2 replicas, outside [min_replicas, max_replicas] = [1, 1]",
                ),
                (
                    at,
                    rules(json!({ "target": 0 })),
                    "services[0].autoscaling.target: must be a positive number",
                ),
                (
                    at,
                    rules(json!({ "target": 1.5 })),
                    "services[0].autoscaling.target: a utilisation target is a busy fraction in (0, 1], got 1.5",
                ),
                (
                    at,
                    rules(json!({ "sync_period": "0s" })),
                    "services[0].autoscaling.sync_period: must be positive",
                ),
                (
                    at,
                    rules(json!({ "tolerance": 1 })),
                    "services[0].autoscaling.tolerance: must be in [0, 1)",
                ),
                (
                    at,
                    rules(json!({ "tolerance": -0.1 })),
                    "services[0].autoscaling.tolerance: must be in [0, 1)",
                ),
                (
                    at,
                    rules(json!({ "metric": "cpu" })),
                    "services[0].autoscaling.metric: unknown variant `cpu`",
                ),
                (
                    at,
                    rules(json!({
                        "scale_down_stabilization": "2m",
                        "behavior": { "scale_down": { "stabilization_window": "1m" } }
                    })),
                    "services[0].autoscaling.scale_down_stabilization: give either scale_down_stabilization or behavior.scale_down.stabilization_window, not both",
                ),
            ],
        );
    }

    /// `scale_down_stabilization` is a shorthand for
    /// `behavior.scale_down.stabilization_window`: both give the same
    /// rules, and either may be combined with the rest of a behaviour.
    #[test]
    fn the_shorthand_sets_the_scale_down_window() {
        let rules = |fields: Value| {
            let a = merged(
                &json!({ "min_replicas": 1, "max_replicas": 4, "target": 0.6 }),
                fields,
            );
            let m = accepted(&changed(&base(), &[("/services/0/autoscaling", a)]));
            m.services[0].autoscaling.clone().expect("an autoscaler")
        };
        let short = rules(json!({ "scale_down_stabilization": "2m",
                                  "behavior": { "scale_down": { "select_policy": "min" } } }));
        let long = rules(json!({ "behavior": { "scale_down": {
            "stabilization_window": "2m", "select_policy": "min" } } }));
        assert_eq!(short, long);
        assert_eq!(short.behavior.down.window, 120_000_000_000);
        // Without either, Kubernetes' 5 minutes.
        let default = rules(json!({}));
        assert_eq!(default.behavior.down.window, 300_000_000_000);
        assert_eq!(default.behavior.up.window, 0);
    }
}
