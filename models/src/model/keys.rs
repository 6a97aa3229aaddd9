//! Keys a request carries: their specification in the file ([`KeySpec`])
//! and the generators that draw them ([`KeyGen`]).
//!
//! Key generators: how each request's key values (user_id, product_id,
//! tenant_id, order time, ...) are drawn. Hot shards and cache hit ratios
//! emerge from these draws, so they are modelled explicitly rather than
//! typed in as ratios.

use rand_distr::{Distribution, Zipf};
use sim_core::RngStream;

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

/// How a key's values are drawn for each request. Values are integers in
/// `[0, n)` (or counting up, for `sequential`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySpec {
    /// Every one of `n` values equally likely.
    Uniform {
        /// Number of distinct values.
        n: u64,
    },
    /// Zipf popularity: the value of rank k has weight 1/k^s.
    Zipf {
        /// Number of distinct values.
        n: u64,
        /// Exponent (0.6 - 1.2 is typical of web traffic; 0 is uniform).
        s: f64,
        /// Scatter ranks over the value space (default true), so popular
        /// values are not adjacent; false makes rank k the value k-1.
        #[serde(default = "yes")]
        shuffle: bool,
    },
    /// A hot set: a fraction of the values receives a share of the traffic,
    /// uniformly within the hot and cold sets.
    HotSet {
        /// Number of distinct values.
        n: u64,
        /// Fraction of the values that are hot, in (0, 1).
        hot_fraction: f64,
        /// Fraction of requests that draw a hot value, in [0, 1].
        hot_share: f64,
        /// Scatter hot values over the value space (default true).
        #[serde(default = "yes")]
        shuffle: bool,
    },
    /// Time-ordered values: each request takes the next value (like an
    /// auto-increment id).
    Sequential {
        /// The first value (default 0).
        #[serde(default)]
        start: u64,
    },
    /// The request's arrival time, in units of `resolution` since the
    /// start of the run (like a `created_at` column). Its value space is
    /// the run's duration, so range sharding splits it evenly by default.
    Timestamp {
        /// Unit of the value (default "1ms").
        #[serde(default)]
        resolution: Option<SimDuration>,
    },
}

fn yes() -> bool {
    true
}

/// A bijection of `[0, n)` that scatters ranks over the value space:
/// `v = (rank * a + b) mod n` with `a` coprime to `n`. Popular ranks then
/// land far apart, as popular user ids or product ids do in real systems.
#[derive(Debug, Clone, Copy)]
struct Scatter {
    n: u64,
    a: u64,
    b: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Scatter {
    fn new(n: u64) -> Self {
        // A multiplier near n / golden ratio, adjusted until coprime with n.
        let mut a = ((n as f64) * 0.618_033_988_749_895) as u64 | 1;
        while a > 1 && gcd(a, n) != 1 {
            a += 2;
        }
        let a = if n <= 2 { 1 } else { a % n };
        Scatter {
            n,
            a: a.max(1),
            b: n / 3,
        }
    }

    #[inline]
    fn apply(&self, rank: u64) -> u64 {
        ((u128::from(rank) * u128::from(self.a) + u128::from(self.b)) % u128::from(self.n)) as u64
    }
}

/// A ready-to-sample key generator.
#[derive(Debug, Clone)]
pub struct KeyGen(Inner);

#[derive(Debug, Clone)]
enum Inner {
    Uniform {
        n: u64,
    },
    Zipf {
        zipf: Zipf<f64>,
        scatter: Option<Scatter>,
    },
    HotSet {
        n: u64,
        hot: u64,
        hot_share: f64,
        scatter: Option<Scatter>,
    },
    Sequential {
        next: u64,
    },
    Timestamp {
        resolution: u64,
    },
}

impl KeyGen {
    /// Builds a generator from a validated spec. Errors are plain messages;
    /// the validator attaches the file location.
    pub fn new(spec: &KeySpec) -> Result<KeyGen, String> {
        match *spec {
            KeySpec::Uniform { n } => {
                if n == 0 {
                    return Err("n must be at least 1".into());
                }
                Ok(KeyGen(Inner::Uniform { n }))
            }
            KeySpec::Zipf { n, s, shuffle } => {
                if n == 0 {
                    return Err("n must be at least 1".into());
                }
                if !(s.is_finite() && s >= 0.0) {
                    return Err(format!("s must be a finite number >= 0, got {s}"));
                }
                let zipf = Zipf::new(n as f64, s).map_err(|e| format!("zipf: {e}"))?;
                Ok(KeyGen(Inner::Zipf {
                    zipf,
                    scatter: shuffle.then(|| Scatter::new(n)),
                }))
            }
            KeySpec::HotSet {
                n,
                hot_fraction,
                hot_share,
                shuffle,
            } => {
                if n < 2 {
                    return Err("n must be at least 2 for a hot set".into());
                }
                if !(hot_fraction > 0.0 && hot_fraction < 1.0) {
                    return Err(format!(
                        "hot_fraction must be in (0, 1), got {hot_fraction}"
                    ));
                }
                if !(0.0..=1.0).contains(&hot_share) {
                    return Err(format!("hot_share must be in [0, 1], got {hot_share}"));
                }
                let hot = ((n as f64 * hot_fraction).round() as u64).clamp(1, n - 1);
                Ok(KeyGen(Inner::HotSet {
                    n,
                    hot,
                    hot_share,
                    scatter: shuffle.then(|| Scatter::new(n)),
                }))
            }
            KeySpec::Sequential { start } => Ok(KeyGen(Inner::Sequential { next: start })),
            KeySpec::Timestamp { resolution } => {
                let r = resolution.map_or(1_000_000, |d| d.0);
                if r == 0 {
                    return Err("resolution must be positive".into());
                }
                Ok(KeyGen(Inner::Timestamp { resolution: r }))
            }
        }
    }

    /// The number of distinct values in a run of `duration_ns`, if known.
    pub fn space(spec: &KeySpec, duration_ns: u64) -> Option<u64> {
        match *spec {
            KeySpec::Uniform { n } | KeySpec::Zipf { n, .. } | KeySpec::HotSet { n, .. } => Some(n),
            KeySpec::Sequential { .. } => None,
            KeySpec::Timestamp { resolution } => Some(
                duration_ns
                    .div_ceil(resolution.map_or(1_000_000, |d| d.0.max(1)))
                    .max(1),
            ),
        }
    }

    /// Draws the next value for a request arriving at `now_ns`.
    #[inline]
    pub fn sample(&mut self, rng: &mut RngStream, now_ns: u64) -> u64 {
        match &mut self.0 {
            Inner::Uniform { n } => rng.below(*n),
            Inner::Zipf { zipf, scatter } => {
                let rank = (zipf.sample(rng) as u64).saturating_sub(1);
                match scatter {
                    Some(s) => s.apply(rank),
                    None => rank,
                }
            }
            Inner::HotSet {
                n,
                hot,
                hot_share,
                scatter,
            } => {
                let rank = if rng.unit() < *hot_share {
                    rng.below(*hot)
                } else {
                    *hot + rng.below(*n - *hot)
                };
                match scatter {
                    Some(s) => s.apply(rank),
                    None => rank,
                }
            }
            Inner::Sequential { next } => {
                let v = *next;
                *next = next.wrapping_add(1);
                v
            }
            Inner::Timestamp { resolution } => now_ns / *resolution,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_is_a_bijection() {
        for n in [1u64, 2, 3, 10, 97, 100, 1000, 4096] {
            let s = Scatter::new(n);
            let mut seen = vec![false; n as usize];
            for r in 0..n {
                let v = s.apply(r);
                assert!(v < n);
                assert!(!seen[v as usize], "n={n}: {v} twice");
                seen[v as usize] = true;
            }
        }
    }

    #[test]
    fn zipf_top_rank_share_matches_harmonic_weight() {
        // P(rank 1) = 1 / H(n, s); n = 100, s = 1: H = 5.1874, p = 0.19277.
        let mut g = KeyGen::new(&KeySpec::Zipf {
            n: 100,
            s: 1.0,
            shuffle: false,
        })
        .unwrap();
        let mut rng = RngStream::new(3, "zipf");
        let draws = 200_000;
        let top = (0..draws).filter(|_| g.sample(&mut rng, 0) == 0).count();
        let p = top as f64 / draws as f64;
        // Binomial sd = sqrt(p(1-p)/n) = 0.00088; allow 5 sd.
        assert!((p - 0.19277).abs() < 0.0045, "p = {p}");
    }

    #[test]
    fn hot_set_share() {
        let spec = KeySpec::HotSet {
            n: 1000,
            hot_fraction: 0.01,
            hot_share: 0.9,
            shuffle: false,
        };
        let mut g = KeyGen::new(&spec).unwrap();
        let mut rng = RngStream::new(3, "hot");
        let draws = 100_000;
        let hot = (0..draws).filter(|_| g.sample(&mut rng, 0) < 10).count();
        let p = hot as f64 / draws as f64;
        // sd = 0.00095; 5 sd.
        assert!((p - 0.9).abs() < 0.005, "p = {p}");
    }

    #[test]
    fn timestamps_follow_the_clock() {
        let spec = KeySpec::Timestamp {
            resolution: Some(sim_core::SimDuration::from_secs(1)),
        };
        let mut g = KeyGen::new(&spec).unwrap();
        let mut rng = RngStream::new(3, "ts");
        assert_eq!(g.sample(&mut rng, 2_500_000_000), 2);
        assert_eq!(KeyGen::space(&spec, 60_000_000_000), Some(60));
    }

    #[test]
    fn sequential_counts_up() {
        let mut g = KeyGen::new(&KeySpec::Sequential { start: 5 }).unwrap();
        let mut rng = RngStream::new(3, "seq");
        let v: Vec<u64> = (0..3).map(|_| g.sample(&mut rng, 0)).collect();
        assert_eq!(v, [5, 6, 7]);
    }
}
