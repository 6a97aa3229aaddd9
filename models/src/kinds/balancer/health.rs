//! A balancer's active health checks (`load_balancers[].health_check`).

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use crate::kernel::resolve::{Path, Resolve};
use crate::scenario::ScenarioError;

/// Active health checks of a balancer's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// Time between two checks of a replica (HAProxy `inter`).
    pub interval: SimDuration,
    /// Consecutive failed checks that take a replica out (HAProxy `fall`,
    /// Kubernetes `failureThreshold`; default 3).
    #[serde(default = "default_fall")]
    pub unhealthy_threshold: u32,
    /// Consecutive passed checks that bring it back (HAProxy `rise`,
    /// Kubernetes `successThreshold`; default 2).
    #[serde(default = "default_rise")]
    pub healthy_threshold: u32,
}

fn default_fall() -> u32 {
    3
}

fn default_rise() -> u32 {
    2
}

/// Checks a balancer's health checks (at `hp`).
pub fn check(h: &HealthCheck, hp: &Path, cx: &Resolve<'_>) -> Result<(), ScenarioError> {
    if h.interval.0 == 0 {
        return Err(cx.err(&hp.k("interval"), "must be positive"));
    }
    if h.unhealthy_threshold == 0 {
        return Err(cx.err(&hp.k("unhealthy_threshold"), "must be at least 1"));
    }
    if h.healthy_threshold == 0 {
        return Err(cx.err(&hp.k("healthy_threshold"), "must be at least 1"));
    }
    Ok(())
}
