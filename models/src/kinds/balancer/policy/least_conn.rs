//! Least connections: the routable pod holding the fewest requests.

use crate::kernel::backend::Backend;
use crate::kinds::balancer::LbState;

/// Fewest in flight; ties go to the next in turn so that an idle pool is
/// used evenly.
pub fn pick<B: Backend>(st: &mut LbState, pods: &[B]) -> Option<usize> {
    let n = pods.len();
    let start = st.rr;
    st.rr = (st.rr + 1) % n;
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
