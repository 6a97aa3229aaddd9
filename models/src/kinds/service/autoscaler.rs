//! The Horizontal Pod Autoscaler's rules (`services[].autoscaling`).

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::Service;
use crate::kernel::resolve::{Path, Resolve};
use crate::scenario::ScenarioError;

/// Kubernetes Horizontal Pod Autoscaler rules: every `sync_period`,
/// desired = ceil(ready × metric / target), skipped while
/// |metric / target − 1| ≤ `tolerance`, bounded by min and max; a scale
/// down takes the highest desired count of the last `scale_down_stabilization`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    /// A scale down uses the highest recommendation of this window
    /// (Kubernetes: 5m).
    #[serde(default = "default_stabilization")]
    pub scale_down_stabilization: SimDuration,
}

fn default_sync() -> SimDuration {
    SimDuration::from_secs(15)
}

fn default_tolerance() -> f64 {
    0.1
}

fn default_stabilization() -> SimDuration {
    SimDuration::from_secs(300)
}

/// What an autoscaler measures per ready pod, averaged over the last sync
/// period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
    a: Autoscaling,
) -> Result<Autoscaling, ScenarioError> {
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
    Ok(a)
}
