//! Hash: the pod is a function of a request key's value, so the same
//! value goes to the same pod (sticky sessions). Plain hashing takes the
//! value modulo the routable pods; `consistent` places pods on a ring
//! (ketama) so that pods coming and going move few values.

use super::routable_list;
use crate::kernel::backend::{Backend, Pool};
use crate::kinds::balancer::{LbDef, LbState};

/// The pod for the (stable-hashed) key value `value`.
pub fn pick<B: Backend>(
    st: &mut LbState,
    def: &LbDef,
    pods: &[B],
    pool: &Pool,
    value: u64,
) -> Option<usize> {
    let n = pods.len();
    if def.consistent {
        pods_ring(&mut st.ring, n);
        let start = st.ring.partition_point(|&(p, _)| p < value);
        let len = st.ring.len();
        (0..len)
            .map(|k| st.ring[(start + k) % len].1 as usize)
            .find(|&i| pods[i].registered() && st.views[i].healthy)
    } else {
        routable_list(st, pods, pool);
        let k = st.scratch.len() as u64;
        (k > 0).then(|| st.scratch[(value % k) as usize] as usize)
    }
}

/// Places pod slots `0..n` on a consistent-hash ring (160 points each, as
/// ketama), adding the slots not placed yet; slots are never removed, so a
/// pod's points stay put while it comes and goes.
fn pods_ring(ring: &mut Vec<(u64, u32)>, n: usize) {
    const POINTS: u64 = 160;
    let placed = ring.len() / POINTS as usize;
    if placed >= n {
        return;
    }
    for slot in placed..n {
        for v in 0..POINTS {
            let point = sim_core::stable_hash(((slot as u64) << 32) | v);
            ring.push((point, slot as u32));
        }
    }
    ring.sort_unstable();
}

#[cfg(test)]
mod tests {
    use super::pods_ring;

    fn owner(ring: &[(u64, u32)], key: u64) -> u32 {
        let h = sim_core::stable_hash(key);
        let i = ring.partition_point(|&(p, _)| p < h);
        ring[i % ring.len()].1
    }

    /// Adding a fifth pod to a ring of four moves only the keys the new
    /// pod takes: about 1/5 of them (160 points per pod: the new pod's
    /// share has a coefficient of variation of about 1/sqrt(160) = 8%, so
    /// 0.2 ± 0.05 holds for any layout worth the name), and every moved key
    /// moves to the new pod. `hash mod n` would move 4/5.
    #[test]
    fn a_new_pod_takes_about_its_share_and_nothing_else_moves() {
        let mut ring = Vec::new();
        pods_ring(&mut ring, 4);
        let before: Vec<u32> = (0..20_000).map(|k| owner(&ring, k)).collect();
        pods_ring(&mut ring, 5);
        let mut moved = 0;
        for (k, b) in before.iter().enumerate() {
            let a = owner(&ring, k as u64);
            if a != *b {
                assert_eq!(a, 4, "key {k} moved between old pods");
                moved += 1;
            }
        }
        let f = f64::from(moved) / 20_000.0;
        assert!((f - 0.2).abs() < 0.05, "{f}");
        let modulo = (0..20_000u64)
            .filter(|k| sim_core::stable_hash(*k) % 4 != sim_core::stable_hash(*k) % 5)
            .count() as f64
            / 20_000.0;
        assert!((modulo - 0.8).abs() < 0.02, "{modulo}");
    }
}
