//! Round robin: the next routable pod after the last one picked.

use crate::kernel::backend::Backend;
use crate::kinds::balancer::LbState;

/// The next routable pod after the last one picked.
pub fn pick<B: Backend>(st: &mut LbState, pods: &[B]) -> Option<usize> {
    let n = pods.len();
    for k in 1..=n {
        let i = (st.rr + k) % n;
        if pods[i].registered() && st.views[i].healthy {
            st.rr = i;
            return Some(i);
        }
    }
    None
}
