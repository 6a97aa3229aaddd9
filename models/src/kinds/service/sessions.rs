//! User sessions kept in the pod or in an external store
//! (`services[].sessions`).

use serde::{Deserialize, Serialize};
use sim_core::{DistSpec, SimDuration};

use crate::kernel::resolve::{Path, Programs, Resolve};
use crate::model::KeyId;
use crate::model::program::Instr;
use crate::scenario::ScenarioError;

/// User sessions of a service: a session is created by a user's first
/// request and lives until `ttl` passes without a request of that user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    programs_of_eps: &[usize],
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
