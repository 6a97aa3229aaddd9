//! CDN edges: a cache in front of an origin (a balancer or service) that
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

use sim_core::{RngStream, SimTime};

use super::{Ev, NONE, Owner, World};
use crate::kernel::store::Store;
use crate::kernel::store::lru::Lookup;
use crate::kinds::cdn::CdnDef;

/// One edge's state and counters.
#[derive(Clone)]
pub struct CdnState {
    pub store: Store,
    /// Requests for the edge's endpoints (all looked up at the edge).
    pub requests: u64,
    pub hits: u64,
    pub misses: u64,
    /// Every request sent to the origin, cached endpoint or not.
    pub all_requests: u64,
    /// Store counters at the warm-up instant.
    pub base: (u64, u64, u64),
    hit_rng: RngStream,
    miss_rng: RngStream,
    origin_rng: RngStream,
}

impl CdnState {
    /// An empty edge; its streams are `cdn/NAME/hit`, `/miss`, `/origin`.
    pub fn new(def: &CdnDef, seed: u64) -> Self {
        let rng = |s: &str| RngStream::new(seed, &format!("cdn/{}/{s}", def.name));
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

    /// Statistics restart (the warm-up ended); stored responses stay.
    pub fn restart(&mut self) {
        self.requests = 0;
        self.hits = 0;
        self.misses = 0;
        self.all_requests = 0;
        self.base = self.store.counters();
    }
}

/// The edge of `origin` and the position of `ep` among its endpoints
/// (None: the endpoint bypasses the edge).
fn edge_of(
    cdns: &[CdnDef],
    origin: crate::model::vocab::Target,
    ep: usize,
) -> Option<(usize, Option<usize>)> {
    let c = cdns.iter().position(|c| c.origin == origin)?;
    Some((c, cdns[c].endpoints.iter().position(|&e| e == ep)))
}

/// The stored response's name: the endpoint's position in the top byte,
/// the key's value below (exact for values under 2^56).
fn response_key(pos: usize, value: u64) -> u64 {
    ((pos as u64) << 56) ^ value
}

impl World<'_> {
    /// A request of workload `w` for endpoint `ep` has arrived: if an edge
    /// is in front of its target and caches `ep`, look it up. Returns true
    /// when the edge answers it (a hit); the request then never reaches
    /// the origin.
    pub(super) fn edge(&mut self, j: u32, w: usize, ep: usize) -> bool {
        let m = self.m;
        if m.cdns.is_empty() {
            return false;
        }
        let Some((c, pos)) = edge_of(&m.cdns, m.workloads[w].target, ep) else {
            return false;
        };
        self.cdns[c].all_requests += 1;
        let Some(pos) = pos else {
            return false;
        };
        let def = &m.cdns[c];
        let now = self.now();
        let name = response_key(pos, def.key.map_or(0, |k| self.cx.key(j, k)));
        let st = &mut self.cdns[c];
        st.requests += 1;
        if st.store.get(name, now, None) != Lookup::Hit {
            st.misses += 1;
            return false;
        }
        st.hits += 1;
        let d = def.hit.sample(&mut st.hit_rng);
        if let Owner::Request { lb, .. } = &mut self.cx.jobs[j as usize].owner {
            *lb = NONE;
        }
        self.cx.q.push(SimTime(now + d), Ev::EdgeHit(j));
        true
    }

    /// A request answered at the edge reaches its client.
    pub(super) fn edge_hit(&mut self, j: u32) {
        let latency = self.now() - self.cx.jobs[j as usize].born;
        self.answer(j, latency);
        self.release(j);
    }

    /// The origin has answered request `j`: if it came through an edge
    /// (so it missed there), the edge stores the response. Returns the
    /// time the edge adds before the client has it (0 without an edge).
    pub(super) fn edge_response(&mut self, j: u32) -> u64 {
        let m = self.m;
        if m.cdns.is_empty() {
            return 0;
        }
        let Owner::Request { workload, ep, .. } = self.cx.jobs[j as usize].owner else {
            return 0;
        };
        let Some((c, Some(pos))) =
            edge_of(&m.cdns, m.workloads[workload as usize].target, ep as usize)
        else {
            return 0;
        };
        let def = &m.cdns[c];
        let now = self.now();
        let name = response_key(pos, def.key.map_or(0, |k| self.cx.key(j, k)));
        let st = &mut self.cdns[c];
        st.store
            .insert(name, def.ttl.map_or(u64::MAX, |t| now.saturating_add(t.0)));
        def.miss.sample(&mut st.miss_rng)
            + def
                .origin_latency
                .as_ref()
                .map_or(0, |d| d.sample(&mut st.origin_rng))
    }
}
