//! A balancer's active health checks (`load_balancers[].health_check`):
//! every `interval` it probes each registered pod; a pod failing
//! `unhealthy_threshold` checks in a row is taken out of rotation, one
//! passing `healthy_threshold` in a row is put back.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::Sink;
use super::{Ev, LbDef, LbState};
use crate::kernel::Cx;
use crate::kernel::backend::Backend;
use crate::kernel::resolve::{Path, Resolve};
use crate::model::ids::LbId;
use crate::scenario::ScenarioError;

/// Active health checks of a balancer's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// A balancer's view of one pod, from its health checks.
#[derive(Clone, Copy)]
pub struct PodView {
    /// The balancer sends to it.
    pub healthy: bool,
    /// Failed checks in a row.
    pub fails: u32,
    /// Passed checks in a row.
    pub oks: u32,
}

impl PodView {
    /// A pod just registered: healthy, no checks yet.
    pub const FRESH: PodView = PodView {
        healthy: true,
        fails: 0,
        oks: 0,
    };

    /// Grows `views` to cover `n` pod slots, new ones fresh.
    pub fn cover(views: &mut Vec<PodView>, n: usize) {
        if views.len() < n {
            views.resize(n, PodView::FRESH);
        }
    }
}

impl LbState {
    /// The balancer checks every pod registered with it, and schedules its
    /// next round.
    pub fn health_check<B: Backend>(
        &mut self,
        l: LbId,
        def: &LbDef,
        pods: &[B],
        cx: &mut Cx<impl Sink>,
    ) {
        let h = def.health_check.expect("scheduled only with health checks");
        PodView::cover(&mut self.views, pods.len());
        for (i, p) in pods.iter().enumerate() {
            if !p.registered() {
                continue;
            }
            let v = &mut self.views[i];
            if p.ready() {
                v.fails = 0;
                v.oks = v.oks.saturating_add(1);
                if !v.healthy && v.oks >= h.healthy_threshold {
                    v.healthy = true;
                    self.down.retain(|&d| d as usize != i);
                    self.routable_at = None;
                }
            } else {
                v.oks = 0;
                v.fails = v.fails.saturating_add(1);
                if v.healthy && v.fails >= h.unhealthy_threshold {
                    v.healthy = false;
                    self.marked_down += 1;
                    self.down.push(i as u32);
                    self.routable_at = None;
                }
            }
        }
        cx.after(h.interval, Ev::HealthCheck(l));
    }

    /// Pod slot `pod` was just registered (a new pod is ready): healthy,
    /// no checks yet.
    pub fn register(&mut self, pod: usize) {
        PodView::cover(&mut self.views, pod + 1);
        self.views[pod] = PodView::FRESH;
        self.down.retain(|&d| d as usize != pod);
        self.routable_at = None;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::system::compile::testing::{assert_refused, base};

    /// What health checks refuse: no interval, thresholds of zero.
    #[test]
    fn refusals() {
        let check = "/load_balancers/0/health_check";
        assert_refused(
            &base(),
            vec![
                (
                    check,
                    json!({ "interval": "0s" }),
                    "load_balancers[0].health_check.interval: must be positive",
                ),
                (
                    check,
                    json!({ "interval": "1s", "unhealthy_threshold": 0 }),
                    "load_balancers[0].health_check.unhealthy_threshold: must be at least 1",
                ),
                (
                    check,
                    json!({ "interval": "1s", "healthy_threshold": 0 }),
                    "load_balancers[0].health_check.healthy_threshold: must be at least 1",
                ),
                (
                    check,
                    json!({ "healthy_threshold": 2 }),
                    "load_balancers[0].health_check: missing field `interval`",
                ),
            ],
        );
    }
}
