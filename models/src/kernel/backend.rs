//! What a balancer sees of the pods behind it. Services implement it for
//! their pods; balancers pick among them without knowing the service,
//! helped by the service's [`Pool`], which it keeps up to date.

/// A pod as a balancer sees it.
pub trait Backend {
    /// Registered with the balancers: it was ready since it was created
    /// and is not draining or gone (a crashed pod stays registered until
    /// a health check notices).
    fn registered(&self) -> bool;
    /// It answers: a health check passes.
    fn ready(&self) -> bool;
    /// Requests it holds (executing and waiting), for least-connections
    /// and power-of-two-choices.
    fn load(&self) -> usize;
}

/// A leaf of a pod the balancers may not send to.
const OUT: u64 = u64::MAX;

/// The leaf of a pod: its load when registered, [`OUT`] otherwise.
#[inline]
fn leaf(p: &impl Backend) -> u64 {
    if p.registered() { p.load() as u64 } else { OUT }
}

/// What the balancers in front of a service keep of its pods between
/// picks, so that a pick does not scan every pod: a counter of
/// registration changes (a routable list is listed again only when it
/// moved) and, once a `least_connections` balancer picked, a min-tree of
/// the pods' loads.
///
/// The service owns its pool (several balancers may share its pods) and
/// tells it of every change: [`Pool::registration`] when a pod's phase or
/// registration changes, [`Pool::load`] when the requests it holds do.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    /// Bumped at every change of a pod's registration.
    epoch: u64,
    /// Loads of the registered pods, built by the first least-connections
    /// pick and kept up to date from then on.
    loads: Option<MinTree>,
}

impl Pool {
    /// Pod slot `pod` (now `p`) may have changed registration: routable
    /// lists are rebuilt at the next pick.
    #[inline]
    pub fn registration(&mut self, pod: usize, p: &impl Backend) {
        self.epoch += 1;
        self.load(pod, p);
    }

    /// Pod slot `pod` (now `p`) may hold a different number of requests.
    #[inline]
    pub fn load(&mut self, pod: usize, p: &impl Backend) {
        if let Some(t) = &mut self.loads
            && pod < t.n
        {
            t.set(pod, leaf(p));
        }
    }

    /// Changes of registration so far.
    #[inline]
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The tree of `pods`' loads, (re)built when missing or when slots
    /// were added.
    #[inline]
    pub fn loads<B: Backend>(&mut self, pods: &[B]) -> &mut MinTree {
        if self.loads.as_ref().is_none_or(|t| t.n != pods.len()) {
            self.loads = Some(MinTree::new(pods.iter().map(leaf)));
        }
        self.loads.as_mut().expect("just built")
    }
}

/// A segment tree of minima over `n` values.
#[derive(Debug, Clone)]
pub struct MinTree {
    n: usize,
    /// Leaves (a power of two, at least `n`).
    size: usize,
    /// Node `i`'s children are `2i` and `2i + 1`; leaves from `size`.
    t: Vec<u64>,
}

impl MinTree {
    /// A tree over `values`.
    pub fn new(values: impl ExactSizeIterator<Item = u64>) -> Self {
        let n = values.len();
        let size = n.next_power_of_two().max(1);
        let mut t = vec![OUT; 2 * size];
        for (i, v) in values.enumerate() {
            t[size + i] = v;
        }
        for i in (1..size).rev() {
            t[i] = t[2 * i].min(t[2 * i + 1]);
        }
        MinTree { n, size, t }
    }

    /// Sets value `i` to `v`.
    #[inline]
    pub fn set(&mut self, i: usize, v: u64) {
        let mut k = self.size + i;
        if self.t[k] == v {
            return;
        }
        self.t[k] = v;
        while k > 1 {
            k /= 2;
            let m = self.t[2 * k].min(self.t[2 * k + 1]);
            if self.t[k] == m {
                break;
            }
            self.t[k] = m;
        }
    }

    /// The first index at or after `start`, cyclically, holding the
    /// smallest value; None when every value is [`OUT`].
    #[inline]
    pub fn first_min_from(&self, start: usize) -> Option<usize> {
        let m = self.t[1];
        if m == OUT {
            return None;
        }
        self.first_at_most(1, 0, self.size, start, m)
            .or_else(|| self.first_at_most(1, 0, self.size, 0, m))
    }

    /// The first index at or after `from` under `node` (covering
    /// `lo..hi`) whose value is at most `m`.
    fn first_at_most(
        &self,
        node: usize,
        lo: usize,
        hi: usize,
        from: usize,
        m: u64,
    ) -> Option<usize> {
        if hi <= from || self.t[node] > m {
            return None;
        }
        if node >= self.size {
            return Some(node - self.size);
        }
        let mid = (lo + hi) / 2;
        self.first_at_most(2 * node, lo, mid, from, m)
            .or_else(|| self.first_at_most(2 * node + 1, mid, hi, from, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first minimum at or after a start, wrapping, as a scan finds it.
    #[test]
    fn first_minimum_from_a_start_wraps() {
        let vals = [5, 3, 7, 3, OUT, 9];
        let mut t = MinTree::new(vals.iter().copied());
        assert_eq!(t.first_min_from(0), Some(1));
        assert_eq!(t.first_min_from(2), Some(3));
        assert_eq!(t.first_min_from(4), Some(1));
        t.set(1, 8);
        t.set(3, 8);
        assert_eq!(t.first_min_from(0), Some(0));
        t.set(5, 2);
        assert_eq!(t.first_min_from(0), Some(5));
        for i in 0..6 {
            t.set(i, OUT);
        }
        assert_eq!(t.first_min_from(3), None);
        assert_eq!(MinTree::new([].into_iter()).first_min_from(0), None);
    }
}
