//! Balancing policies, one per file: each picks a pod among those the
//! balancer may send to (registered, and healthy in its view), or none.

pub mod hash;
pub mod least_conn;
pub mod p2c;
pub mod random;
pub mod round_robin;
pub mod weighted;

use super::LbState;
use super::health::PodView;
use crate::kernel::backend::Backend;

/// The routable pods of a balancer, for the policies that draw among
/// them.
pub enum Routable {
    /// None or one: the choice is made without a draw.
    Decided(Option<usize>),
    /// This many (at least two) in `scratch`: draw among them.
    Draw(u64),
}

/// Lists the routable pods in the balancer's scratch list.
pub fn routable<B: Backend>(st: &mut LbState, pods: &[B]) -> Routable {
    routable_into(&mut st.scratch, pods, &st.views);
    match st.scratch.len() {
        0 => Routable::Decided(None),
        1 => Routable::Decided(Some(st.scratch[0] as usize)),
        k => Routable::Draw(k as u64),
    }
}

/// The pod slots a balancer may send to: registered and healthy in its
/// view, into `out` in slot order.
pub fn routable_into<B: Backend>(out: &mut Vec<u32>, pods: &[B], views: &[PodView]) {
    out.clear();
    for (i, (p, v)) in pods.iter().zip(views).enumerate() {
        if p.registered() && v.healthy {
            out.push(i as u32);
        }
    }
}
