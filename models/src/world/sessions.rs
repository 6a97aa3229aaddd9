//! User sessions: which pod holds a user's session, and the sessions users
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

use sim_core::SimTime;
use sim_core::stats::CountSeries;

use super::World;
use super::state::Pod;
use crate::kinds::service::SessionStore;

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
enum Found {
    New,
    Resumed,
    LostWithPod,
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

    /// User `user`'s request is served by `pod` at `now`.
    fn touch(
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

impl World<'_> {
    /// Request `j` was taken by `pod` of service `s`: find its session.
    pub(super) fn session(&mut self, s: usize, pod: usize, j: u32) {
        let Some(def) = self.m.services[s].sessions else {
            return;
        };
        let now = self.now();
        let user = self.cx.key(j, def.key);
        let measured = self.cx.jobs[j as usize].measured;
        let svc = &mut self.services[s];
        let table = svc.sessions.as_mut().expect("a table per sessions");
        let found = table.touch(now, user, pod, &svc.pods, def.ttl, def.store);
        if matches!(found, Found::LostWithPod | Found::LostToRouting) {
            table.lost_series.add(SimTime(now), 1.0);
        }
        if measured {
            match found {
                Found::New => table.created += 1,
                Found::Resumed => table.resumed += 1,
                Found::LostWithPod => table.lost_with_pod += 1,
                Found::LostToRouting => table.lost_to_routing += 1,
            }
        }
    }
}
