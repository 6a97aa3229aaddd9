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
use crate::kernel::backend::{Backend, Pool};

/// The routable pods of a balancer, for the policies that draw among
/// them.
pub enum Routable {
    /// None or one: the choice is made without a draw.
    Decided(Option<usize>),
    /// This many (at least two) in `scratch`: draw among them.
    Draw(u64),
}

/// Lists the routable pods in the balancer's scratch list, rebuilt only
/// when a registration (`pool`) or the balancer's view changed since.
#[inline]
pub fn routable<B: Backend>(st: &mut LbState, pods: &[B], pool: &Pool) -> Routable {
    routable_list(st, pods, pool);
    match st.scratch.len() {
        0 => Routable::Decided(None),
        1 => Routable::Decided(Some(st.scratch[0] as usize)),
        k => Routable::Draw(k as u64),
    }
}

/// Brings the balancer's scratch list of routable pods up to date.
#[inline]
pub fn routable_list<B: Backend>(st: &mut LbState, pods: &[B], pool: &Pool) {
    let at = Some((pool.epoch(), pods.len()));
    if st.routable_at != at {
        routable_into(&mut st.scratch, pods, &st.views);
        st.routable_at = at;
    }
    debug_assert!(
        {
            let mut fresh = Vec::new();
            routable_into(&mut fresh, pods, &st.views);
            fresh == st.scratch
        },
        "stale routable list"
    );
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use sim_core::stats::SeriesSpec;
    use sim_core::{SimDuration, SimTime};

    use super::least_conn;
    use crate::kernel::Cx;
    use crate::kernel::backend::Backend;
    use crate::kernel::backend::Pool;
    use crate::kernel::kind::Kind;
    use crate::kinds::balancer::{HealthCheck, LbDef, LbPolicy, LbState};
    use crate::model::ids::{JobId, LbId, ServiceId};
    use crate::system::kinds::Ev;

    #[derive(Clone, Copy, Debug)]
    struct FakePod {
        registered: bool,
        ready: bool,
        load: usize,
    }

    impl Backend for FakePod {
        fn registered(&self) -> bool {
            self.registered
        }
        fn ready(&self) -> bool {
            self.ready
        }
        fn load(&self) -> usize {
            self.load
        }
    }

    /// What happens between picks, as the service and the health checks
    /// make it happen.
    #[derive(Clone, Debug)]
    enum Op {
        Load(usize, usize),
        Registered(usize),
        Ready(usize),
        HealthCheck,
        Register(usize),
        Grow(bool),
        Pick,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..128usize, 0..4usize).prop_map(|(p, l)| Op::Load(p, l)),
            1 => (0..128usize).prop_map(Op::Registered),
            1 => (0..128usize).prop_map(Op::Ready),
            1 => Just(Op::HealthCheck),
            1 => (0..128usize).prop_map(Op::Register),
            1 => any::<bool>().prop_map(Op::Grow),
            6 => Just(Op::Pick),
        ]
    }

    fn def(policy: LbPolicy) -> LbDef {
        LbDef {
            name: "lb".into(),
            service: ServiceId(0),
            policy,
            weights: Vec::new(),
            hash_key: None,
            consistent: false,
            health_check: Some(HealthCheck {
                interval: SimDuration(1),
                unhealthy_threshold: 1,
                healthy_threshold: 2,
            }),
            latency: None,
            max_connections: None,
            rate_limit: None,
            price_per_hour: 0.0,
        }
    }

    /// The pick of the O(pods) implementations the pool replaced, on
    /// `st` (its routable list relisted, least connections scanned).
    fn oracle(st: &mut LbState, d: &LbDef, pods: &[FakePod], cx: &Cx<Ev>) -> Option<usize> {
        st.routable_at = None;
        if d.policy == LbPolicy::LeastConnections {
            super::PodView::cover(&mut st.views, pods.len());
            let start = st.rr;
            st.rr = (st.rr + 1) % pods.len();
            return least_conn::scan(st, pods, start);
        }
        st.pick(d, pods, &mut Pool::default(), JobId(0), cx)
    }

    proptest! {
        /// On random sequences of loads, registrations, health checks and
        /// new pods, the pool's picks (cached routable list, min-tree past
        /// 32 pods) are the old scans' picks, draw for draw.
        #[test]
        fn picks_match_the_scans(
            n in 1..48usize,
            ops in proptest::collection::vec(op(), 1..300),
        ) {
            let spec = SeriesSpec { interval: SimDuration(1), buckets: 1 };
            let mut cx: Cx<Ev> = Cx::new(1, spec, 0, SimTime(10), SimTime(0));
            for policy in [LbPolicy::LeastConnections, LbPolicy::PowerOfTwoChoices, LbPolicy::Random] {
                let d = def(policy);
                let fresh = FakePod { registered: true, ready: true, load: 0 };
                let mut pods = vec![fresh; n];
                let mut pool = Pool::default();
                let (mut fast, mut slow) = (LbState::start(&d, &cx), LbState::start(&d, &cx));
                for o in &ops {
                    let len = pods.len();
                    match *o {
                        Op::Load(p, l) => {
                            pods[p % len].load = l;
                            pool.load(p % len, &pods[p % len]);
                        }
                        Op::Registered(p) => {
                            pods[p % len].registered ^= true;
                            pool.registration(p % len, &pods[p % len]);
                        }
                        Op::Ready(p) => pods[p % len].ready ^= true,
                        Op::HealthCheck => {
                            fast.health_check(LbId(0), &d, &pods, &mut cx);
                            slow.health_check(LbId(0), &d, &pods, &mut cx);
                        }
                        Op::Register(p) => {
                            fast.register(p % len);
                            slow.register(p % len);
                        }
                        Op::Grow(registered) => pods.push(FakePod { registered, ..fresh }),
                        Op::Pick => {
                            let want = oracle(&mut slow, &d, &pods, &cx);
                            let got = fast.pick(&d, &pods, &mut pool, JobId(0), &cx);
                            prop_assert_eq!(got, want, "{:?} on {:?}", policy, pods);
                        }
                    }
                }
            }
        }
    }
}
