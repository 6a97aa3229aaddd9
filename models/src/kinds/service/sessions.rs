//! User sessions (`services[].sessions`): which pod holds a user's session, and the sessions users
//! lose when it is not the pod that serves them.
//!
//! A session is created by a user's first request (the value of the
//! session key) and expires after `ttl` without a request. With local
//! sessions only the pod that created it knows it: a request served by
//! another pod finds no session — the user is logged out, the cart is
//! empty — and a new one is created there. That happens when the pod
//! crashed, restarted or was scaled down since (`lost_with_pod`), or when
//! the balancer sent the user elsewhere although the pod is still there
//! (`lost_to_routing`: balancing that is not sticky on the session key, or
//! a sticky mapping that moved when pods came or went). External sessions
//! are never lost; they cost a round trip per request instead (compiled
//! into the endpoints' programs). A lost session is counted, the request
//! itself is served.
//!
//! The table holds one entry per user seen within `ttl` (expired entries
//! are dropped when it doubles), so memory follows the active users.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sim_core::stats::CountSeries;
use sim_core::{DistSpec, SimDuration, SimTime};

use super::pods::Pod;
use crate::kernel::resolve::{Path, Programs, Resolve};
use crate::model::KeyId;
use crate::model::ids::ProgramId;
use crate::model::program::Instr;
use crate::scenario::ScenarioError;

/// User sessions of a service: a session is created by a user's first
/// request and lives until `ttl` passes without a request of that user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// `local` (in the pod's memory) or `external` (a shared store).
    pub store: SessionStore,
    /// The request key that identifies a session's user.
    pub key: String,
    /// Idle time after which a session expires (default 30m).
    #[serde(default)]
    pub ttl: Option<SimDuration>,
    /// `external`: the round trip to the session store that every request
    /// makes (a Redis GET), holding the worker.
    #[serde(default)]
    pub latency: Option<DistSpec>,
}

/// Where sessions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStore {
    /// In the memory of the pod that created it: only that pod knows it, so
    /// the balancer must be sticky on the session key, and a pod's crash,
    /// restart or scale-down loses the sessions it held.
    Local,
    /// In a store shared by every pod (Redis, a database): any pod serves
    /// any user, nothing is lost with a pod, every request pays a round
    /// trip.
    External,
}

/// A service's resolved session handling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionsDef {
    /// Local or external.
    pub store: SessionStore,
    /// The key naming a session's user.
    pub key: KeyId,
    /// Idle expiry, ns.
    pub ttl: u64,
}

/// Resolves the sessions of service `service` (at `at`), whose endpoints
/// run `programs_of_eps`: every workload calling them must draw the key,
/// and external sessions' round trip opens each of them.
pub fn resolve(
    ss: &Sessions,
    at: &Path,
    service: &str,
    programs_of_eps: &[ProgramId],
    cx: &Resolve<'_>,
    programs: &mut dyn Programs,
) -> Result<SessionsDef, ScenarioError> {
    let sp = at;
    let key = cx.key(&sp.k("key"), &ss.key)?;
    // Every endpoint needs the key: workloads calling any of them must
    // draw it (checked with the steps' keys).
    for &prog in programs_of_eps {
        programs.require_key(prog, key, sp.k("key"));
    }
    let ttl = ss.ttl.map_or(30 * 60 * sim_core::time::SECS, |d| d.0);
    if ttl == 0 {
        return Err(cx.err(&sp.k("ttl"), "must be positive"));
    }
    match (ss.store, &ss.latency) {
        (SessionStore::External, Some(spec)) => {
            // The store's round trip opens every endpoint.
            let dist = cx.dist(&sp.k("latency"), spec)?;
            let d = programs.add_dist(dist, format!("service/{service}/sessions"));
            for &prog in programs_of_eps {
                programs.prepend(prog, Instr::Compute { dist: d });
            }
        }
        (SessionStore::External, None) => {
            return Err(cx.err(
                sp,
                "external sessions need a `latency`: the round trip to the session store every request makes",
            ));
        }
        (SessionStore::Local, Some(_)) => {
            return Err(cx.err(
                &sp.k("latency"),
                "local sessions live in the pod's memory and cost no round trip; `latency` is for \"store\": \"external\"",
            ));
        }
        (SessionStore::Local, None) => {}
    }
    Ok(SessionsDef {
        store: ss.store,
        key,
        ttl,
    })
}

#[derive(Debug, Clone, Copy)]
struct Session {
    pod: u32,
    /// The pod's life when it last served the user.
    life: u32,
    last: u64,
}

/// One service's sessions and what happened to them.
#[derive(Debug, Clone)]
pub struct SessionTable {
    map: HashMap<u64, Session>,
    prune_at: usize,
    /// Sessions started (first request, or after expiry).
    pub created: u64,
    /// Requests that found their session.
    pub resumed: u64,
    /// Requests whose session was on a pod that is gone or restarted.
    pub lost_with_pod: u64,
    /// Requests sent to another pod than the live one holding the session.
    pub lost_to_routing: u64,
    /// Losses over time (all requests, warm-up included).
    pub lost_series: CountSeries,
}

/// What a request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No live session: one starts.
    New,
    /// Its session was there.
    Resumed,
    /// Its session was on a pod that crashed, restarted or was scaled down.
    LostWithPod,
    /// Its session is on another pod, still there.
    LostToRouting,
}

impl SessionTable {
    /// An empty table.
    pub fn new(lost_series: CountSeries) -> Self {
        SessionTable {
            map: HashMap::new(),
            prune_at: 4096,
            created: 0,
            resumed: 0,
            lost_with_pod: 0,
            lost_to_routing: 0,
            lost_series,
        }
    }

    /// Forgets the counts (not the sessions) at the end of the warm-up.
    pub fn restart(&mut self) {
        self.created = 0;
        self.resumed = 0;
        self.lost_with_pod = 0;
        self.lost_to_routing = 0;
    }

    /// User `user`'s request is served by `pod` at `now`: what it found.
    pub fn touch(
        &mut self,
        now: u64,
        user: u64,
        pod: usize,
        pods: &[Pod],
        ttl: u64,
        store: SessionStore,
    ) -> Found {
        if self.map.len() >= self.prune_at {
            self.map.retain(|_, s| now - s.last <= ttl);
            self.prune_at = (2 * self.map.len()).max(4096);
        }
        let here = Session {
            pod: pod as u32,
            life: pods[pod].life,
            last: now,
        };
        let before = self.map.insert(user, here);
        match before {
            None => Found::New,
            Some(s) if now - s.last > ttl => Found::New,
            Some(_) if store == SessionStore::External => Found::Resumed,
            Some(s) if s.pod as usize == pod && s.life == here.life => Found::Resumed,
            Some(s) if pods[s.pod as usize].life != s.life => Found::LostWithPod,
            Some(_) => Found::LostToRouting,
        }
    }
}

impl SessionTable {
    /// A request of user `user` is taken by `pod` at `now` (`measured`:
    /// counted in the statistics): its session is found, started, or lost.
    pub fn see(
        &mut self,
        now: SimTime,
        user: u64,
        pod: usize,
        pods: &[Pod],
        def: &SessionsDef,
        measured: bool,
    ) {
        let found = self.touch(now.0, user, pod, pods, def.ttl, def.store);
        if matches!(found, Found::LostWithPod | Found::LostToRouting) {
            self.lost_series.add(now, 1.0);
        }
        if measured {
            match found {
                Found::New => self.created += 1,
                Found::Resumed => self.resumed += 1,
                Found::LostWithPod => self.lost_with_pod += 1,
                Found::LostToRouting => self.lost_to_routing += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::system::compile::testing::{assert_refused, base, bots, changed};

    /// What sessions refuse: a key no workload draws, or that a workload
    /// calling the service does not, no ttl, an external store without a
    /// round trip or a local one with it, an unknown store.
    #[test]
    fn refusals() {
        let sessions = "/services/0/sessions";
        assert_refused(
            &changed(&base(), &[("/workloads/1", bots())]),
            vec![
                (
                    sessions,
                    json!({ "store": "local", "key": "cart" }),
                    "services[0].sessions.key: no key drawn by any workload named `cart` (known: user_id, item_id)",
                ),
                (
                    sessions,
                    json!({ "store": "local", "key": "item_id" }),
                    "services[0].sessions.key: this service keeps its sessions by key `item_id`, but workload `bots` (which calls endpoint `get`) does not draw it; add it to workloads[1].keys",
                ),
                (
                    sessions,
                    json!({ "store": "local", "key": "user_id", "ttl": "0s" }),
                    "services[0].sessions.ttl: must be positive",
                ),
                (
                    sessions,
                    json!({ "store": "external", "key": "user_id" }),
                    "services[0].sessions: external sessions need a `latency`: the round trip to the session store every request makes",
                ),
                (
                    sessions,
                    json!({ "store": "external", "key": "user_id",
                            "latency": { "exponential": { "mean": "0s" } } }),
                    "services[0].sessions.latency: exponential: mean (0s) must be positive",
                ),
                (
                    sessions,
                    json!({ "store": "local", "key": "user_id", "latency": { "constant": "1ms" } }),
                    "services[0].sessions.latency: local sessions live in the pod's memory and cost no round trip",
                ),
                (
                    sessions,
                    json!({ "store": "disk", "key": "user_id" }),
                    "services[0].sessions.store: unknown variant `disk`",
                ),
            ],
        );
    }
}
