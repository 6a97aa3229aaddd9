//! Weighted round robin, nginx's smooth variant: every routable pod gains
//! its weight, the largest current weight wins and pays the total.

use crate::kernel::backend::Backend;
use crate::kinds::balancer::{LbDef, LbState};

/// nginx's smooth weighted round robin over the routable pods (pods
/// without a weight weigh 1).
pub fn pick<B: Backend>(st: &mut LbState, def: &LbDef, pods: &[B]) -> Option<usize> {
    let n = pods.len();
    if st.current.len() < n {
        st.current.resize(n, 0);
    }
    let mut total = 0i64;
    let mut best: Option<usize> = None;
    for (i, pod) in pods.iter().enumerate() {
        if !(pod.registered() && st.views[i].healthy) {
            continue;
        }
        let w = i64::from(def.weights.get(i).copied().unwrap_or(1));
        st.current[i] += w;
        total += w;
        if best.is_none_or(|b| st.current[i] > st.current[b]) {
            best = Some(i);
        }
    }
    if let Some(b) = best {
        st.current[b] -= total;
    }
    best
}
