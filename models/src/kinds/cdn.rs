//! CDN edges: the `cdns` section — a cache of whole responses in front
//! of an origin (a balancer or a service).

use serde::{Deserialize, Serialize};
use sim_core::{Dist, DistSpec, SimDuration};

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Cached endpoints (indices into [`Model::endpoints`]).
    pub endpoints: Vec<usize>,
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
