//! A balancer's section of the results document.

use serde::{Deserialize, Serialize};

/// One load balancer's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LbResult {
    /// Name.
    pub name: String,
    /// Policy used.
    pub policy: String,
    /// Requests received.
    pub requests: u64,
    /// Refused at `max_connections`, or with no healthy pod to send to.
    pub rejected: u64,
    /// Time-average of requests in flight through it.
    pub in_flight_mean: f64,
    /// Most requests in flight at once.
    pub in_flight_max: f64,
    /// Requests sent to a crashed pod before a health check took it out.
    #[serde(default)]
    pub sent_to_down: u64,
    /// Times a health check took a pod out of rotation.
    #[serde(default)]
    pub marked_down: u64,
    /// Refused by the gateway's rate limiter (HTTP 429).
    #[serde(default)]
    pub rate_limited: u64,
}
