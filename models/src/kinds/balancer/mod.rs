//! Load balancers: the `load_balancers` section — a policy that picks a
//! pod, health checks, a connection limit, added latency and a gateway's
//! rate limiter in front.

pub mod health;

use serde::{Deserialize, Serialize};
use sim_core::{Dist, DistSpec};

use crate::kernel::resolve::{Path, Resolve};
use crate::kinds::gateway::{self, RateLimit, RateLimitDef};
use crate::model::KeyId;
use crate::scenario::ScenarioError;
pub use health::HealthCheck;

/// The section's name in the file and in the results document.
pub const SECTION: &str = "load_balancers";

/// A load balancer in front of one service's replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    /// Name, unique among all components.
    pub name: String,
    /// The service whose replicas receive the traffic.
    pub target: String,
    /// How a replica is chosen.
    #[serde(default)]
    pub policy: LbPolicy,
    /// `weighted_round_robin`: weight of each replica, by pod index (as
    /// nginx's `server ... weight=N`); replicas beyond the list weigh 1.
    #[serde(default)]
    pub weights: Vec<u32>,
    /// `hash`: the request key whose value picks the replica (a client id,
    /// an IP, a user id: any key the workloads draw).
    #[serde(default)]
    pub hash_key: Option<String>,
    /// `hash`: place replicas on a consistent-hash ring (as nginx's `hash
    /// $key consistent`, ketama) so that adding or losing a replica moves
    /// few clients, instead of `hash(key) mod replicas`.
    #[serde(default)]
    pub consistent: bool,
    /// Active health checks (HAProxy `check inter fall rise`): without
    /// them a failed replica keeps receiving traffic, which fails.
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
    /// Latency the balancer adds to each request (default 0).
    #[serde(default)]
    pub latency: Option<DistSpec>,
    /// Maximum requests in flight through the balancer; beyond it requests
    /// are rejected (HTTP 503). Absent: no limit.
    #[serde(default)]
    pub max_connections: Option<u64>,
    /// A gateway's token-bucket rate limiter in front of the balancer:
    /// requests beyond it are refused with HTTP 429.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Price per hour of the balancer.
    #[serde(default)]
    pub price_per_hour: f64,
}

/// Load-balancing policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LbPolicy {
    /// Replicas in turn.
    #[default]
    RoundRobin,
    /// Replicas in turn in proportion to `weights` (nginx's smooth weighted
    /// round robin: the heaviest replica is never picked in a burst).
    WeightedRoundRobin,
    /// The pod with the fewest requests in flight (busy + waiting); ties go
    /// to the first such pod after the previous pick, so an idle pool is
    /// used evenly.
    LeastConnections,
    /// A replica drawn uniformly at random.
    Random,
    /// Two distinct replicas drawn at random; the one with fewer requests
    /// in flight wins (nginx `random two least_conn`, Envoy
    /// `LEAST_REQUEST`).
    PowerOfTwoChoices,
    /// The replica owning the value of `hash_key` (sticky sessions).
    Hash,
}

/// A resolved load balancer.
#[derive(Debug, Clone)]
pub struct LbDef {
    /// Name.
    pub name: String,
    /// Target service.
    pub service: usize,
    /// Policy.
    pub policy: LbPolicy,
    /// Weight per pod index (`weighted_round_robin`); missing weigh 1.
    pub weights: Vec<u32>,
    /// Key whose value picks the pod (`hash`).
    pub hash_key: Option<KeyId>,
    /// Consistent hashing (`hash`).
    pub consistent: bool,
    /// Active health checks.
    pub health_check: Option<HealthCheck>,
    /// Added latency.
    pub latency: Option<Dist>,
    /// In-flight limit.
    pub max_connections: Option<u64>,
    /// Token-bucket rate limiter in front of the balancer.
    pub rate_limit: Option<RateLimitDef>,
    /// Price per hour.
    pub price_per_hour: f64,
}

/// Checks balancer `spec` (at `p`) and resolves it.
pub fn resolve(spec: &LoadBalancer, p: &Path, cx: &Resolve<'_>) -> Result<LbDef, ScenarioError> {
    let l = spec;
    let service = cx.index_in(
        &p.k("target"),
        &l.target,
        crate::kinds::service::SECTION,
        "service",
    )?;
    if l.max_connections == Some(0) {
        return Err(cx.err(
            &p.k("max_connections"),
            "must be at least 1 (or absent for no limit)",
        ));
    }
    if !l.weights.is_empty() && l.policy != LbPolicy::WeightedRoundRobin {
        return Err(cx.err(
            &p.k("weights"),
            "`weights` needs \"policy\": \"weighted_round_robin\"",
        ));
    }
    if let Some(i) = l.weights.iter().position(|w| *w == 0) {
        return Err(cx.err(
            &p.k("weights").i(i),
            "a weight must be at least 1 (scale a replica down instead)",
        ));
    }
    // A key the balancer reads: drawn by every workload sending here.
    let hash_key = match (&l.hash_key, l.policy) {
        (Some(k), LbPolicy::Hash) => Some(cx.key_drawn_by_senders(&p.k("hash_key"), &l.name, k)?),
        (None, LbPolicy::Hash) => {
            return Err(cx.err(
                &p.k("policy"),
                "\"policy\": \"hash\" needs a `hash_key`: the request key that picks the replica",
            ));
        }
        (Some(_), _) => {
            return Err(cx.err(&p.k("hash_key"), "`hash_key` needs \"policy\": \"hash\""));
        }
        (None, _) => None,
    };
    if l.consistent && l.policy != LbPolicy::Hash {
        return Err(cx.err(
            &p.k("consistent"),
            "`consistent` needs \"policy\": \"hash\"",
        ));
    }
    if let Some(h) = l.health_check {
        health::check(&h, &p.k("health_check"), cx)?;
    }
    let rate_limit = match &l.rate_limit {
        None => None,
        Some(r) => Some(gateway::resolve(r, &p.k("rate_limit"), &l.name, cx)?),
    };
    Ok(LbDef {
        rate_limit,
        name: l.name.clone(),
        service,
        policy: l.policy,
        weights: l.weights.clone(),
        hash_key,
        consistent: l.consistent,
        health_check: l.health_check,
        latency: cx.dist_opt(&p.k("latency"), l.latency.as_ref())?,
        max_connections: l.max_connections,
        price_per_hour: cx.price(&p.k("price_per_hour"), l.price_per_hour)?,
    })
}
