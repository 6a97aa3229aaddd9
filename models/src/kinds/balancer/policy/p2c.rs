//! Power of two choices: two distinct routable pods drawn uniformly, the
//! one holding fewer requests wins (Mitzenmacher).

use super::{Routable, routable};
use crate::kernel::backend::{Backend, Pool};
use crate::kinds::balancer::LbState;

/// The less loaded of two distinct routable pods drawn uniformly (the
/// first on a tie).
pub fn pick<B: Backend>(st: &mut LbState, pods: &[B], pool: &Pool) -> Option<usize> {
    let k = match routable(st, pods, pool) {
        Routable::Decided(pod) => return pod,
        Routable::Draw(k) => k,
    };
    let rng = st.pick_rng.as_mut().expect("a pick stream");
    // Two distinct pods: the second drawn among the other k - 1.
    let a = rng.below(k);
    let mut b = rng.below(k - 1);
    if b >= a {
        b += 1;
    }
    let (a, b) = (
        st.scratch[a as usize] as usize,
        st.scratch[b as usize] as usize,
    );
    Some(if pods[b].load() < pods[a].load() {
        b
    } else {
        a
    })
}
