//! Least connections: the routable pod holding the fewest requests.
//!
//! Behind more than [`SCAN_MAX`] pod slots, the service's [`Pool`] keeps
//! a min-tree of its registered pods' loads, so a pick is O(log pods):
//! the pods the balancer's health checks took out (usually none) are
//! masked for the query and put back.

use crate::kernel::backend::{Backend, Pool};
use crate::kinds::balancer::LbState;

/// Up to this many pod slots a scan is faster than the tree (which is
/// then never built, so the service's updates cost nothing).
const SCAN_MAX: usize = 32;

/// Fewest in flight; ties go to the next in turn so that an idle pool is
/// used evenly.
pub fn pick<B: Backend>(st: &mut LbState, pods: &[B], pool: &mut Pool) -> Option<usize> {
    let n = pods.len();
    let start = st.rr;
    st.rr = (st.rr + 1) % n;
    if n <= SCAN_MAX {
        return scan(st, pods, start);
    }
    let tree = pool.loads(pods);
    let masked = |i: usize| i < n && pods[i].registered();
    for &i in &st.down {
        if masked(i as usize) {
            tree.set(i as usize, u64::MAX);
        }
    }
    let best = tree.first_min_from(start);
    for &i in &st.down {
        if masked(i as usize) {
            pool.load(i as usize, &pods[i as usize]);
        }
    }
    debug_assert_eq!(best, scan(st, pods, start), "least_connections tree");
    best
}

/// The O(pods) scan the tree replaces (the tests' oracle): from `start`,
/// the first routable pod with the fewest requests.
pub fn scan<B: Backend>(st: &LbState, pods: &[B], start: usize) -> Option<usize> {
    let n = pods.len();
    let mut best: Option<usize> = None;
    for k in 0..n {
        let i = (start + k) % n;
        if pods[i].registered()
            && st.views[i].healthy
            && best.is_none_or(|b| pods[i].load() < pods[b].load())
        {
            best = Some(i);
        }
    }
    best
}
