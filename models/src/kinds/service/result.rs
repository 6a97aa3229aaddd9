//! A service's section of the results document.

use serde::{Deserialize, Serialize};

/// One service's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceResult {
    /// Name.
    pub name: String,
    /// Pods.
    pub replicas: u32,
    /// Workers per pod.
    pub concurrency: u32,
    /// Requests that reached a pod.
    pub requests: u64,
    /// Refused by a full pod queue.
    pub rejected: u64,
    /// Mean busy workers / all workers, 0..1.
    pub utilisation: f64,
    /// Time-average of requests waiting for a worker, all pods.
    pub queue_length_mean: f64,
    /// Most requests waiting at once, all pods.
    pub queue_length_max: f64,
    /// Mean wait for a worker, ms, over every request that got one (those
    /// served at once count as a wait of zero).
    pub queue_wait_mean_ms: f64,
    /// Requests lost because their pod crashed, or sent to a crashed pod,
    /// or failed by a database statement on a shard that was down.
    #[serde(default)]
    pub aborted: u64,
    /// Time-average of ready pods.
    #[serde(default)]
    pub ready_mean: f64,
    /// Time-average of pods paid for (requested and not gone: starting,
    /// ready, crashed or draining).
    #[serde(default)]
    pub billed_mean: f64,
    /// Fewest and most ready pods at once.
    #[serde(default)]
    pub ready_min: f64,
    /// Most ready pods at once.
    #[serde(default)]
    pub ready_max: f64,
    /// Pod crashes (scheduled and random).
    #[serde(default)]
    pub crashes: u64,
    /// The autoscaler's decisions, in order (at most 1000).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scaling: Vec<ScaleEvent>,
    /// What happened to users' sessions (services with `sessions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionResult>,
    /// Per pod slot (a slot is reused when a pod goes and another comes).
    pub pods: Vec<PodResult>,
}

/// A service's sessions over the measured period: every request that
/// reached a pod is counted once, in `created`, `resumed` or `lost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionResult {
    /// `local` or `external`.
    pub store: String,
    /// The key naming a session's user.
    pub key: String,
    /// Requests that started a session (the user's first request, or the
    /// first after `ttl` idle).
    pub created: u64,
    /// Requests that found their session.
    pub resumed: u64,
    /// `lost_with_pod + lost_to_routing`: requests whose user had a live
    /// session that the serving pod did not hold (logged out, cart gone).
    pub lost: u64,
    /// Lost because the pod holding the session crashed, restarted or was
    /// scaled down since.
    pub lost_with_pod: u64,
    /// Lost because the balancer sent the user to another pod while the
    /// one holding the session was still there.
    pub lost_to_routing: u64,
    /// `lost / (resumed + lost)`: of the requests that had a live session,
    /// the fraction that lost it (0 with none).
    pub loss_rate: f64,
}

/// One autoscaler decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleEvent {
    /// When, seconds.
    pub at_s: f64,
    /// Pods before (starting, ready or crashed).
    pub from: u32,
    /// Pods requested.
    pub to: u32,
    /// The metric per ready pod over the last sync period.
    pub metric: f64,
}

/// One pod's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodResult {
    /// Requests that reached the pod.
    pub requests: u64,
    /// Refused by its full queue.
    pub rejected: u64,
    /// Mean busy workers / workers.
    pub utilisation: f64,
    /// Time-average queue length.
    pub queue_length_mean: f64,
}

/// A service over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSeries {
    /// Service name.
    pub name: String,
    /// Mean busy fraction of all workers.
    pub utilisation: Vec<f64>,
    /// Mean requests waiting, all pods.
    pub queue_length: Vec<f64>,
    /// Mean ready pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ready: Vec<f64>,
    /// Mean pods paid for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub billed: Vec<f64>,
    /// Sessions lost per second (services with `sessions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions_lost_per_s: Vec<f64>,
}
