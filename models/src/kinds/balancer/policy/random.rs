//! Random: a routable pod drawn uniformly.

use super::{Routable, routable};
use crate::kernel::backend::{Backend, Pool};
use crate::kinds::balancer::LbState;

/// A routable pod drawn uniformly from the balancer's pick stream.
pub fn pick<B: Backend>(st: &mut LbState, pods: &[B], pool: &Pool) -> Option<usize> {
    let k = match routable(st, pods, pool) {
        Routable::Decided(pod) => return pod,
        Routable::Draw(k) => k,
    };
    let rng = st.pick_rng.as_mut().expect("a pick stream");
    Some(st.scratch[rng.below(k) as usize] as usize)
}
