//! CDN edges (the `cdns` section): a cache in front of an origin (a balancer or service) that
//! answers the requests of its endpoints before they reach the origin.
//!
//! A request that a workload sends to the origin for a cached endpoint is
//! looked up at the edge when it arrives. A **hit** is answered there after
//! `hit_latency`: the balancer and the pods never see it. A **miss** goes on
//! to the origin at once, as any request does; when the origin's response
//! is complete the edge stores it (the *fill*, with the edge's TTL) and the
//! client receives it `miss_latency + origin_latency` later. The model puts
//! the edge's whole share of a miss on the way back, so the origin sees the
//! request that much earlier than in reality; the client's latency is the
//! same. Rejected requests are not stored (errors are not cached).
//!
//! A response is named by the endpoint and the request's value of the
//! CDN's `key` (the URL's variable part); without a key, one response per
//! endpoint. Concurrent misses of one response all go to the origin: the
//! edge does not coalesce them.

use serde::{Deserialize, Serialize};
use sim_core::{Dist, DistSpec, RngStream, SimDuration, SimTime};

use crate::kernel::Cx;
use crate::kernel::cx::Event;
use crate::kernel::kind::{Finish, Kind, ratio};
use crate::kernel::store::lru::Lookup;
use crate::kernel::store::{Store, expiry};
use crate::model::ids::{EndpointId, JobId};

use crate::kernel::resolve::{Path, Resolve};
use crate::kernel::store::{EvictionPolicy, MAX_CACHE_KEYS};
use crate::model::KeyId;
use crate::model::vocab::{Destination, Target};
use crate::scenario::ScenarioError;

/// The section's name in the file and in the results document.
pub const SECTION: &str = "cdns";

/// A CDN edge in front of an origin (a load balancer or service): requests
/// that workloads send to the origin for one of `endpoints` are looked up
/// at the edge; a hit is answered there, a miss goes on to the origin and
/// its response is stored on the way back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cdn {
    /// Name, unique among all components.
    pub name: String,
    /// The load balancer or service behind the edge: the `target` of the
    /// workloads whose requests pass the edge.
    pub origin: String,
    /// The origin's endpoints whose responses the edge caches (the CDN's
    /// cache behaviours); other endpoints bypass it.
    pub endpoints: Vec<String>,
    /// The key that, with the endpoint, names a cached response (the URL's
    /// variable part). Absent: one response per endpoint.
    #[serde(default)]
    pub key: Option<String>,
    /// Responses held at the edge.
    pub capacity: u64,
    /// Eviction policy.
    #[serde(default)]
    pub policy: EvictionPolicy,
    /// A stored response expires this long after it was stored
    /// (`Cache-Control: max-age`). Absent: never.
    #[serde(default)]
    pub ttl: Option<SimDuration>,
    /// Client round trip of a request answered at the edge.
    pub hit_latency: DistSpec,
    /// Time the edge adds to a miss before and after the origin (default:
    /// as a hit).
    #[serde(default)]
    pub miss_latency: Option<DistSpec>,
    /// Round trip between the edge and the origin, added to a miss
    /// (default 0).
    #[serde(default)]
    pub origin_latency: Option<DistSpec>,
    /// Price per million requests received at the edge (hits and misses).
    #[serde(default)]
    pub price_per_million_requests: f64,
}

/// A resolved CDN edge.
#[derive(Debug, Clone)]
pub struct CdnDef {
    /// Name.
    pub name: String,
    /// The workload target behind the edge.
    pub origin: Target,
    /// Its name.
    pub origin_name: String,
    /// Cached endpoints (indices into [`Model::endpoints`]).
    pub endpoints: Vec<EndpointId>,
    /// The key that names a response with the endpoint (None: the endpoint
    /// alone).
    pub key: Option<KeyId>,
    /// Capacity in responses.
    pub capacity: u64,
    /// Eviction policy.
    pub policy: EvictionPolicy,
    /// Time to live from the store.
    pub ttl: Option<SimDuration>,
    /// Round trip of a hit.
    pub hit: Dist,
    /// Edge time added to a miss.
    pub miss: Dist,
    /// Edge-to-origin round trip added to a miss (None: zero).
    pub origin_latency: Option<Dist>,
    /// Price per million requests at the edge.
    pub price_per_million_requests: f64,
}

/// Checks CDN edge `c` (at `p`) in front of `dest` and resolves it:
/// the endpoints are the origin service's, at most one edge per origin
/// (`earlier` are the edges before it), and every workload that sends a
/// cached endpoint to the origin draws the key.
pub fn resolve(
    c: &Cdn,
    p: &Path,
    dest: &Destination<'_>,
    earlier: &[CdnDef],
    cx: &Resolve<'_>,
) -> Result<CdnDef, ScenarioError> {
    let origin = dest.target;
    if let Some(other) = earlier.iter().find(|o| o.origin == origin) {
        return Err(cx.err(
            &p.k("origin"),
            format!(
                "`{}` is already behind CDN `{}`; one edge per origin — list the endpoints in that CDN",
                c.origin, other.name
            ),
        ));
    }
    if c.endpoints.is_empty() {
        return Err(cx.err(
            &p.k("endpoints"),
            "a CDN needs at least one endpoint to cache",
        ));
    }
    let mut eps = Vec::new();
    for (k, name) in c.endpoints.iter().enumerate() {
        let ep = p.k("endpoints").i(k);
        let Some(&(e, _)) = dest.endpoints.iter().find(|(_, n)| *n == name) else {
            let known: Vec<&str> = dest.endpoints.iter().map(|(_, n)| *n).collect();
            return Err(cx.unknown(
                &ep,
                &format!("endpoint of service `{}`", dest.service_name),
                name,
                &known,
            ));
        };
        if eps.contains(&e) {
            return Err(cx.err(&ep, format!("endpoint `{name}` is listed twice")));
        }
        eps.push(e);
    }
    let key = match &c.key {
        None => None,
        Some(k) => Some(cx.key(&p.k("key"), k)?),
    };
    if let Some(k) = &c.key {
        for (wi, w) in cx.senders.iter().enumerate() {
            let sends = w.mix.iter().find(|e| c.endpoints.contains(e));
            if w.target == c.origin
                && let Some(e) = sends
                && !w.keys.contains(k)
            {
                return Err(cx.err(
                    &p.k("key"),
                    format!(
                        "CDN `{}` names responses by key `{k}`, but workload `{}` (which sends endpoint `{e}` through it) does not draw it; add it to workloads[{wi}].keys",
                        c.name, w.name
                    ),
                ));
            }
        }
    }
    if c.capacity == 0 {
        return Err(cx.err(
            &p.k("capacity"),
            "a CDN needs a capacity of at least 1 response",
        ));
    }
    if c.capacity > MAX_CACHE_KEYS {
        return Err(cx.err(
            &p.k("capacity"),
            format!(
                "at most {MAX_CACHE_KEYS} responses per CDN are simulated (memory is per response)"
            ),
        ));
    }
    if c.ttl == Some(SimDuration::ZERO) {
        return Err(cx.err(
            &p.k("ttl"),
            "a TTL must be positive (omit it for no expiry)",
        ));
    }
    let hit = cx.dist(&p.k("hit_latency"), &c.hit_latency)?;
    Ok(CdnDef {
        name: c.name.clone(),
        origin,
        origin_name: c.origin.clone(),
        endpoints: eps,
        key,
        capacity: c.capacity,
        policy: c.policy,
        ttl: c.ttl,
        miss: match &c.miss_latency {
            Some(d) => cx.dist(&p.k("miss_latency"), d)?,
            None => hit.clone(),
        },
        hit,
        origin_latency: cx.dist_opt(&p.k("origin_latency"), c.origin_latency.as_ref())?,
        price_per_million_requests: cx.price(
            &p.k("price_per_million_requests"),
            c.price_per_million_requests,
        )?,
    })
}

/// One CDN edge's figures (measured period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CdnResult {
    /// Name.
    pub name: String,
    /// The balancer or service behind it.
    pub origin: String,
    /// Eviction policy: `lru` or `lfu`.
    pub policy: String,
    /// Capacity, responses.
    pub capacity: u64,
    /// Requests for its endpoints, all looked up at the edge.
    pub requests: u64,
    /// Answered at the edge.
    pub hits: u64,
    /// Passed on to the origin.
    pub misses: u64,
    /// `hits / requests`.
    pub hit_ratio: f64,
    /// `hits` / all requests sent to the origin, cached endpoints or not:
    /// the share of the origin's traffic the edge took.
    pub offload: f64,
    /// Requests that reached the origin: misses and endpoints not cached.
    pub origin_requests: u64,
    /// Responses evicted to make room.
    pub evictions: u64,
    /// Responses found expired.
    pub expirations: u64,
    /// Responses held at the end.
    pub entries_at_end: u64,
}

/// A CDN edge's own event.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// A request answered at the edge reaches its client.
    Hit(JobId),
}

/// One edge's state and counters.
#[derive(Clone)]
pub struct CdnState {
    store: Store,
    /// Requests for the edge's endpoints (all looked up at the edge).
    requests: u64,
    hits: u64,
    misses: u64,
    /// Every request sent to the origin, cached endpoint or not.
    all_requests: u64,
    /// Store counters at the warm-up instant.
    base: (u64, u64, u64),
    hit_rng: RngStream,
    miss_rng: RngStream,
    origin_rng: RngStream,
}

/// The stored response's name: the endpoint's position in the top byte,
/// the key's value below (exact for values under 2^56).
fn response_key(pos: usize, value: u64) -> u64 {
    ((pos as u64) << 56) ^ value
}

impl CdnState {
    /// A request for the origin reached the edge (cached endpoint or not).
    pub fn arrived(&mut self) {
        self.all_requests += 1;
    }

    /// Looks up the response to the `pos`-th cached endpoint for key value
    /// `value`: on a hit, the time until the client has it.
    pub fn lookup(
        &mut self,
        def: &CdnDef,
        pos: usize,
        value: u64,
        now: SimTime,
    ) -> Option<SimDuration> {
        let name = response_key(pos, value);
        self.requests += 1;
        if self.store.get(name, now, None) != Lookup::Hit {
            self.misses += 1;
            return None;
        }
        self.hits += 1;
        Some(SimDuration(def.hit.sample(&mut self.hit_rng)))
    }

    /// The origin answered a request that missed: the edge stores the
    /// response (with its TTL). Returns the time the edge adds before the
    /// client has it.
    pub fn respond(&mut self, def: &CdnDef, pos: usize, value: u64, now: SimTime) -> SimDuration {
        let name = response_key(pos, value);
        self.store.insert(name, expiry(now, def.ttl));
        // Distributions draw raw ns; their sum is added as before.
        SimDuration(
            def.miss.sample(&mut self.miss_rng)
                + def
                    .origin_latency
                    .as_ref()
                    .map_or(0, |d| d.sample(&mut self.origin_rng)),
        )
    }

    /// Requests looked up at the edge in the measured period (billed).
    pub fn requests(&self) -> u64 {
        self.requests
    }
}

impl Kind for CdnState {
    type Def = CdnDef;
    type Result = CdnResult;

    /// An empty edge; its streams are `cdn/NAME/hit`, `/miss`, `/origin`.
    fn start<E: Event>(def: &CdnDef, cx: &Cx<E>) -> Self {
        let rng = |s: &str| cx.stream(&format!("cdn/{}/{s}", def.name));
        CdnState {
            store: Store::new(def.policy, def.capacity),
            requests: 0,
            hits: 0,
            misses: 0,
            all_requests: 0,
            base: (0, 0, 0),
            hit_rng: rng("hit"),
            miss_rng: rng("miss"),
            origin_rng: rng("origin"),
        }
    }

    /// Statistics restart; stored responses stay.
    fn reset(&mut self, _now: SimTime) {
        self.requests = 0;
        self.hits = 0;
        self.misses = 0;
        self.all_requests = 0;
        self.base = self.store.counters();
    }

    fn finish(&self, def: &CdnDef, _fin: &Finish<'_>, _warnings: &mut Vec<String>) -> CdnResult {
        let c = self;
        let (evictions, expirations, _) = c.store.counters();
        CdnResult {
            name: def.name.clone(),
            origin: def.origin_name.clone(),
            policy: def.policy.name().to_string(),
            capacity: def.capacity,
            requests: c.requests,
            hits: c.hits,
            misses: c.misses,
            hit_ratio: ratio(c.hits, c.requests),
            offload: ratio(c.hits, c.all_requests),
            origin_requests: c.all_requests - c.hits,
            evictions: evictions - c.base.0,
            expirations: expirations - c.base.1,
            entries_at_end: c.store.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{assert_refused, base, bots, changed, merged};

    /// What a CDN edge refuses: an origin that is not a balancer or
    /// service, or is already behind an edge, endpoints that are missing,
    /// unknown or listed twice, a key no workload draws or one that a
    /// workload sending through the edge does not, no capacity or more
    /// than is simulated, a zero TTL, bad latencies or price.
    #[test]
    fn refusals() {
        let b = changed(&base(), &[("/workloads/1", bots())]);
        let second = merged(
            &b["cdns"][0],
            json!({ "name": "edge2", "endpoints": ["put"] }),
        );
        let bad_dist = || json!({ "uniform": { "min": "2ms", "max": "1ms" } });
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "/cdns/0/origin",
                json!("app2"),
                "cdns[0].origin: no load balancer or service named `app2` (known: lb, app)\n  help: did you mean `app`?",
            ),
            (
                "/cdns/1",
                second,
                "cdns[1].origin: `lb` is already behind CDN `edge`; one edge per origin — list the endpoints in that CDN",
            ),
            (
                "/cdns/0/endpoints",
                json!([]),
                "cdns[0].endpoints: a CDN needs at least one endpoint to cache",
            ),
            (
                "/cdns/0/endpoints",
                json!(["assets"]),
                "cdns[0].endpoints[0]: no endpoint of service `app` named `assets` (known: get, put)",
            ),
            (
                "/cdns/0/endpoints",
                json!(["get", "get"]),
                "cdns[0].endpoints[1]: endpoint `get` is listed twice",
            ),
            (
                "/cdns/0/key",
                json!("user"),
                "cdns[0].key: no key drawn by any workload named `user` (known: user_id, item_id)",
            ),
            (
                "/cdns/0/key",
                json!("item_id"),
                "cdns[0].key: CDN `edge` names responses by key `item_id`, but workload `bots` (which sends endpoint `get` through it) does not draw it; add it to workloads[1].keys",
            ),
            (
                "/cdns/0/capacity",
                json!(0),
                "cdns[0].capacity: a CDN needs a capacity of at least 1 response",
            ),
            (
                "/cdns/0/capacity",
                json!(50_000_001),
                "cdns[0].capacity: at most 50000000 responses per CDN are simulated (memory is per response)",
            ),
            (
                "/cdns/0/ttl",
                json!("0s"),
                "cdns[0].ttl: a TTL must be positive (omit it for no expiry)",
            ),
            (
                "/cdns/0/hit_latency",
                bad_dist(),
                "cdns[0].hit_latency: uniform: min (2ms) must not exceed max (1ms)",
            ),
            (
                "/cdns/0/miss_latency",
                bad_dist(),
                "cdns[0].miss_latency: uniform: min (2ms)",
            ),
            (
                "/cdns/0/origin_latency",
                bad_dist(),
                "cdns[0].origin_latency: uniform: min (2ms)",
            ),
            (
                "/cdns/0/price_per_million_requests",
                json!(-1),
                "cdns[0].price_per_million_requests: a price must be a finite number >= 0, got -1",
            ),
        ];
        assert_refused(&b, cases);
    }
}
