//! Load balancers: the `load_balancers` section — a policy that picks a
//! pod, health checks, a connection limit, added latency and a gateway's
//! rate limiter in front.

pub mod gateway;
pub mod health;
pub mod policy;
pub mod result;

use serde::{Deserialize, Serialize};
use sim_core::stats::TimeWeighted;
use sim_core::{Dist, DistSpec, RngStream, SimDuration, SimTime};

use crate::kernel::Cx;
use crate::kernel::backend::{Backend, Pool};
use crate::kernel::cx::Event;
use crate::kernel::kind::{Finish, Kind};
use crate::kernel::resolve::{Path, Resolve};
use crate::model::KeyId;
use crate::model::ids::{JobId, LbId, ServiceId};
use crate::scenario::ScenarioError;
use gateway::{Limiter, RateLimit, RateLimitDef};
pub use health::HealthCheck;
use health::PodView;
use result::LbResult;

/// The section's name in the file and in the results document.
pub const SECTION: &str = "load_balancers";

/// A load balancer in front of one service's replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
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
    pub service: ServiceId,
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

/// Checks balancer `spec` (at `p`), in front of `service` (its `target`,
/// which the driver looked up), and resolves it.
pub fn resolve(
    spec: &LoadBalancer,
    p: &Path,
    service: ServiceId,
    cx: &Resolve<'_>,
) -> Result<LbDef, ScenarioError> {
    let l = spec;
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

/// A balancer's own events.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// The balancer's latency for this request elapsed: it picks a pod.
    Dispatch(JobId),
    /// The balancer checks its pods.
    HealthCheck(LbId),
}

/// The world's events, as this kind schedules its own ([`Ev`]) and resumes
/// jobs.
pub trait Sink: Event + From<Ev> {}

impl<E: Event + From<Ev>> Sink for E {}

/// A load balancer's state.
#[derive(Clone)]
pub struct LbState {
    rr: usize,
    in_flight: u64,
    tw: TimeWeighted,
    requests: u64,
    rejected: u64,
    rng: Option<RngStream>,
    /// Per pod slot, what the health checks concluded.
    views: Vec<PodView>,
    /// Smooth weighted round robin: current weight per pod slot.
    current: Vec<i64>,
    pick_rng: Option<RngStream>,
    /// Consistent-hash ring: (point, pod slot), sorted.
    ring: Vec<(u64, u32)>,
    /// The routable pods (registered, healthy in `views`), in slot order.
    scratch: Vec<u32>,
    /// (The pool's registration epoch, pod slots) when `scratch` was
    /// listed; None when `views` changed since.
    routable_at: Option<(u64, usize)>,
    /// Pod slots the health checks took out (not healthy in `views`).
    down: Vec<u32>,
    /// Requests sent to a crashed pod before a health check took it out.
    sent_to_down: u64,
    /// Times a health check took a pod out.
    marked_down: u64,
    /// The gateway's token buckets (with a `rate_limit`).
    limiter: Option<Limiter>,
    /// Requests refused by the rate limiter (HTTP 429).
    rate_limited: u64,
}

/// What became of a request that reached a balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enter {
    /// The gateway's rate limiter refused it (HTTP 429).
    RateLimited,
    /// The balancer's connection limit is reached: refused (HTTP 503).
    Full,
    /// It holds a connection; it goes to a pod after the balancer's latency.
    After(SimDuration),
    /// It holds a connection and goes to a pod now.
    Now,
}

impl LbState {
    /// Request `j` reaches the balancer now: the gateway's rate limiter
    /// (if any) lets it in or not, then the connection limit.
    #[inline]
    pub fn enter(&mut self, def: &LbDef, j: JobId, cx: &Cx<impl Sink>) -> Enter {
        let now = cx.now();
        self.requests += 1;
        if let Some(rl) = &def.rate_limit {
            let value = rl.key.map(|k| cx.key(j, k));
            let limiter = self.limiter.as_mut().expect("a limiter per rate_limit");
            if !limiter.admit(now.0, value) {
                self.rate_limited += 1;
                return Enter::RateLimited;
            }
        }
        if let Some(max) = def.max_connections
            && self.in_flight >= max
        {
            self.rejected += 1;
            return Enter::Full;
        }
        self.in_flight += 1;
        self.tw.set(now, self.in_flight as f64);
        match (&def.latency, &mut self.rng) {
            (Some(d), Some(rng)) => Enter::After(SimDuration(d.sample(rng))),
            _ => Enter::Now,
        }
    }

    /// The balancer's choice among the pods it believes healthy, for
    /// request `j`.
    #[inline]
    pub fn pick<B: Backend>(
        &mut self,
        def: &LbDef,
        pods: &[B],
        pool: &mut Pool,
        j: JobId,
        cx: &Cx<impl Sink>,
    ) -> Option<usize> {
        PodView::cover(&mut self.views, pods.len());
        match def.policy {
            LbPolicy::RoundRobin => policy::round_robin::pick(self, pods),
            LbPolicy::WeightedRoundRobin => policy::weighted::pick(self, def, pods),
            LbPolicy::LeastConnections => policy::least_conn::pick(self, pods, pool),
            LbPolicy::Random => policy::random::pick(self, pods, pool),
            LbPolicy::PowerOfTwoChoices => policy::p2c::pick(self, pods, pool),
            LbPolicy::Hash => {
                let key = def.hash_key.expect("validated: hash needs a key");
                let value = sim_core::stable_hash(cx.key(j, key));
                policy::hash::pick(self, def, pods, pool, value)
            }
        }
    }

    /// No pod to send the request to: the balancer answers 503.
    pub fn no_pod(&mut self) {
        self.rejected += 1;
    }

    /// The request was sent to a crashed pod the balancer still believed
    /// in.
    pub fn sent_to_down(&mut self) {
        self.sent_to_down += 1;
    }

    /// A request lets go of its connection now.
    #[inline]
    pub fn leave(&mut self, now: SimTime) {
        self.in_flight -= 1;
        self.tw.set(now, self.in_flight as f64);
    }

    /// Schedules the balancer's first health check.
    pub fn schedule_start(&mut self, l: LbId, def: &LbDef, cx: &mut Cx<impl Sink>) {
        if let Some(h) = def.health_check {
            cx.at(SimTime::ZERO + h.interval, Ev::HealthCheck(l));
        }
    }
}

impl Kind for LbState {
    type Def = LbDef;
    type Result = LbResult;

    /// Its latency draws from `lb/NAME/latency`, random and power-of-two
    /// choices from `lb/NAME/pick`.
    fn start<E: Event>(def: &LbDef, cx: &Cx<E>) -> Self {
        let l = def;
        LbState {
            rr: 0,
            in_flight: 0,
            tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            requests: 0,
            rejected: 0,
            rng: l
                .latency
                .as_ref()
                .map(|_| cx.stream(&format!("lb/{}/latency", l.name))),
            views: Vec::new(),
            current: Vec::new(),
            pick_rng: matches!(l.policy, LbPolicy::Random | LbPolicy::PowerOfTwoChoices)
                .then(|| cx.stream(&format!("lb/{}/pick", l.name))),
            ring: Vec::new(),
            scratch: Vec::new(),
            routable_at: None,
            down: Vec::new(),
            sent_to_down: 0,
            marked_down: 0,
            limiter: l.rate_limit.as_ref().map(Limiter::new),
            rate_limited: 0,
        }
    }

    fn reset(&mut self, now: SimTime) {
        self.tw.reset(now);
        self.requests = 0;
        self.rejected = 0;
        self.rate_limited = 0;
    }

    fn finish(&self, def: &LbDef, fin: &Finish<'_>, _warnings: &mut Vec<String>) -> LbResult {
        let (l, end) = (self, fin.end());
        LbResult {
            name: def.name.clone(),
            policy: match def.policy {
                LbPolicy::RoundRobin => "round_robin",
                LbPolicy::WeightedRoundRobin => "weighted_round_robin",
                LbPolicy::LeastConnections => "least_connections",
                LbPolicy::Random => "random",
                LbPolicy::PowerOfTwoChoices => "power_of_two_choices",
                LbPolicy::Hash if def.consistent => "hash (consistent)",
                LbPolicy::Hash => "hash",
            }
            .to_string(),
            requests: l.requests,
            rejected: l.rejected,
            in_flight_mean: l.tw.mean(end),
            in_flight_max: l.tw.max(),
            sent_to_down: l.sent_to_down,
            marked_down: l.marked_down,
            rate_limited: l.rate_limited,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{assert_refused, base, bots, changed, merged};

    /// What a balancer refuses: a target that is not a service, no
    /// connection, weights and hash settings without their policy, a hash
    /// key some sender does not draw, a bad latency or price. (Health
    /// checks: `health`; rate limits: `gateway`.)
    #[test]
    fn refusals() {
        let b = changed(&base(), &[("/workloads/1", bots())]);
        let lb = |fields: Value| merged(&b["load_balancers"][0], fields);
        assert_refused(
            &b,
            vec![
                (
                    "/load_balancers/0/target",
                    json!("ap"),
                    "load_balancers[0].target: no service named `ap` (known: app)\n  help: did you mean `app`?",
                ),
                (
                    "/load_balancers/0/target",
                    json!("c"),
                    "load_balancers[0].target: no service named `c`",
                ),
                (
                    "/load_balancers/0/max_connections",
                    json!(0),
                    "load_balancers[0].max_connections: must be at least 1 (or absent for no limit)",
                ),
                (
                    "/load_balancers/0/weights",
                    json!([1, 2]),
                    "load_balancers[0].weights: `weights` needs \"policy\": \"weighted_round_robin\"",
                ),
                (
                    "/load_balancers/0",
                    lb(json!({ "policy": "weighted_round_robin", "weights": [1, 0] })),
                    "load_balancers[0].weights[1]: a weight must be at least 1 (scale a replica down instead)",
                ),
                (
                    "/load_balancers/0/policy",
                    json!("hash"),
                    "load_balancers[0].policy: \"policy\": \"hash\" needs a `hash_key`: the request key that picks the replica",
                ),
                (
                    "/load_balancers/0/hash_key",
                    json!("user_id"),
                    "load_balancers[0].hash_key: `hash_key` needs \"policy\": \"hash\"",
                ),
                (
                    "/load_balancers/0",
                    lb(json!({ "policy": "hash", "hash_key": "usr" })),
                    "load_balancers[0].hash_key: no key drawn by any workload named `usr` (known: user_id, item_id)",
                ),
                (
                    "/load_balancers/0",
                    lb(json!({ "policy": "hash", "hash_key": "item_id" })),
                    "load_balancers[0].hash_key: workload `bots` sends requests here but does not draw `item_id`",
                ),
                (
                    "/load_balancers/0/consistent",
                    json!(true),
                    "load_balancers[0].consistent: `consistent` needs \"policy\": \"hash\"",
                ),
                (
                    "/load_balancers/0/latency",
                    json!({ "uniform": { "min": "2ms", "max": "1ms" } }),
                    "load_balancers[0].latency: uniform: min (2ms) must not exceed max (1ms)",
                ),
                (
                    "/load_balancers/0/price_per_hour",
                    json!(-1),
                    "load_balancers[0].price_per_hour: a price must be a finite number >= 0, got -1",
                ),
                (
                    "/load_balancers/0/policy",
                    json!("least_conn"),
                    "load_balancers[0].policy: unknown variant `least_conn`",
                ),
            ],
        );
    }
}
