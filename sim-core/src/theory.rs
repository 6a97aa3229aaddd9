//! Closed forms from queueing and caching theory: the oracle the simulator
//! is validated against (`tests/validation.rs`), and a quick way to
//! sanity-check a capacity plan without running anything.
//!
//! Every function is a pure function of `f64`s. Rates are per unit time and
//! times are in the reciprocal unit: pass rates per millisecond and read
//! milliseconds back, or per second and seconds — only consistency matters.
//! Notation: arrival rate `λ`, service rate `μ` (mean service time `1/μ`),
//! `c` servers (workers), offered load `a = λ/μ` (in Erlangs) and
//! utilisation `ρ = a/c`.
//!
//! | model | functions |
//! |---|---|
//! | Erlang B / C | [`erlang_b`], [`erlang_c`] |
//! | M/M/c (FIFO, unbounded) | [`mmc_mean_wait`], [`mmc_mean_sojourn`], [`mmc_sojourn_cdf`], [`mmc_sojourn_quantile`] |
//! | M/G/1 (Pollaczek-Khinchine) | [`mg1_mean_wait`], [`mg1_mean_sojourn`] |
//! | M/M/c/K (finite buffer) | [`mmck_blocking`], [`mmck_mean_in_system`] |
//! | LRU under the independent reference model | [`zipf_popularities`], [`che_characteristic_time`], [`che_lru_hit_ratio`] |
//! | `hash mod n` resharding | [`modulo_moved_fraction`] |
//!
//! M/M/1 is M/M/c with `c = 1`: its sojourn time is exponential with rate
//! `μ - λ`, so the mean is `1/(μ - λ)` and the p99 is `ln(100)/(μ - λ)`.
//!
//! ```
//! use sim_core::theory::*;
//! // The M/M/10 station of scenarios/mmc.json: 9000/s, 1 ms mean service.
//! let (lambda, mu) = (9.0, 1.0); // per ms
//! assert!((erlang_c(10, 9.0) - 0.6687).abs() < 1e-4);
//! assert!((mmc_mean_sojourn(lambda, mu, 10) - 1.6687).abs() < 1e-4);
//! // M/M/1 at rho = 0.9: mean sojourn 10, p99 ln(100)/0.1.
//! assert!((mmc_mean_sojourn(0.9, 1.0, 1) - 10.0).abs() < 1e-12);
//! assert!((mmc_sojourn_quantile(0.9, 1.0, 1, 0.99) - 100f64.ln() / 0.1).abs() < 1e-9);
//! ```
//!
//! References: L. Kleinrock, *Queueing Systems, Vol. 1* (1975), §3.4-3.7
//! (M/M/c, M/M/c/K, Erlang's formulas) and §5.6 (Pollaczek-Khinchine);
//! D. Gross, C. Harris, *Fundamentals of Queueing Theory*, §2.3 (the M/M/c
//! waiting-time distribution); H. Che, Y. Tung, Z. Wang, "Hierarchical Web
//! caching systems: modeling, design and experimental results", IEEE JSAC
//! 20(7), 2002; C. Fricker, P. Robert, J. Roberts, "A versatile and
//! accurate approximation for LRU cache performance", ITC 24, 2012 (why
//! Che's approximation is accurate).

// ------------------------------------------------------------------ Erlang

/// Erlang's B formula: the probability that an arrival finds all `c`
/// servers busy in an M/M/c/c loss system (no waiting room) offered
/// `a = λ/μ` Erlangs. By PASTA this is also the fraction of calls lost.
///
/// `B(c, a) = (a^c / c!) / Σ_{k=0..c} a^k / k!`, computed by the stable
/// recursion `B(0) = 1`, `B(k) = a·B(k-1) / (k + a·B(k-1))`, which never
/// forms a factorial or a power and is exact to rounding for any `c`.
/// (The formula is insensitive: it holds for M/G/c/c too.)
///
/// Returns 1 for `a = +∞` and 0 for `a <= 0` with `c >= 1`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return if c == 0 { 1.0 } else { 0.0 };
    }
    if a.is_infinite() {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=c {
        let ab = a * b;
        b = ab / (f64::from(k) + ab);
    }
    b
}

/// Erlang's C formula: the probability that an arrival must wait in an
/// M/M/c queue (unbounded FIFO waiting room) with offered load
/// `a = λ/μ < c`.
///
/// `C(c, a) = B / (1 - ρ(1 - B))` with `B = erlang_b(c, a)` and
/// `ρ = a/c`, equivalent to the textbook
/// `(a^c/c!)·(c/(c-a)) / (Σ_{k<c} a^k/k! + (a^c/c!)·(c/(c-a)))`
/// but stable for large `c` (Kleinrock 1975, eq. 3.40).
///
/// Returns 1 when `a >= c` (the queue is unstable: every arrival waits).
/// Example: `erlang_c(10, 9.0) = 0.6687`.
pub fn erlang_c(c: u32, offered_load_a: f64) -> f64 {
    let a = offered_load_a;
    if c == 0 || a >= f64::from(c) {
        return 1.0;
    }
    if a <= 0.0 {
        return 0.0;
    }
    let b = erlang_b(c, a);
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

// ------------------------------------------------------------------- M/M/c

/// Mean waiting time before service (excluding the service itself) in an
/// M/M/c FIFO queue: `Wq = C(c, λ/μ) / (cμ - λ)`.
///
/// Returns `+∞` when `λ >= cμ`.
pub fn mmc_mean_wait(lambda: f64, mu: f64, c: u32) -> f64 {
    let theta = f64::from(c) * mu - lambda;
    if theta <= 0.0 {
        return f64::INFINITY;
    }
    erlang_c(c, lambda / mu) / theta
}

/// Mean sojourn (response) time in an M/M/c queue: waiting plus service,
/// `W = Wq + 1/μ`. For M/M/1: `W = 1/(μ - λ)`.
///
/// Returns `+∞` when `λ >= cμ`.
pub fn mmc_mean_sojourn(lambda: f64, mu: f64, c: u32) -> f64 {
    mmc_mean_wait(lambda, mu, c) + 1.0 / mu
}

/// `P(S + E > t)` for independent exponentials of rates `r1` and `r2`
/// (hypoexponential survival), stable for all rates including `r1 = r2`.
///
/// The textbook form `(r2·e^{-r1 t} - r1·e^{-r2 t}) / (r2 - r1)` cancels
/// catastrophically as `r2 -> r1`. It is symmetric in the two rates, so
/// with `a = min`, `d = max - min >= 0` it equals
/// `e^{-a t}·(1 + a·(1 - e^{-d t})/d)`, where `(1 - e^{-d t})/d` is
/// computed with `expm1` and tends to `t` as `d -> 0` (the Erlang-2 case
/// `(1 + a t)·e^{-a t}`). Nothing overflows because `d >= 0`.
fn hypoexp_survival(r1: f64, r2: f64, t: f64) -> f64 {
    let (a, b) = if r1 <= r2 { (r1, r2) } else { (r2, r1) };
    let d = b - a;
    let g = if d * t < 1e-300 || d == 0.0 {
        t
    } else {
        -(-d * t).exp_m1() / d
    };
    (-a * t).exp() * (1.0 + a * g)
}

/// `P(T > t)` for the M/M/c FIFO sojourn time; see [`mmc_sojourn_cdf`].
fn mmc_sojourn_survival(lambda: f64, mu: f64, c: u32, t: f64) -> f64 {
    if t <= 0.0 {
        return 1.0;
    }
    let theta = f64::from(c) * mu - lambda;
    if theta <= 0.0 {
        return 1.0;
    }
    let pw = erlang_c(c, lambda / mu);
    let s = (1.0 - pw) * (-mu * t).exp() + pw * hypoexp_survival(mu, theta, t);
    s.clamp(0.0, 1.0)
}

/// `P(T <= t)`: the distribution function of the sojourn time `T` of an
/// M/M/c FIFO queue (`t` in the reciprocal unit of the rates).
///
/// Derivation. `T = Wq + S` where the service time `S ~ Exp(μ)` is
/// independent of the wait `Wq` (under FIFO the wait depends only on
/// earlier customers). The wait is 0 with probability `1 - C` and, given
/// that the customer waits, `Exp(θ)` with `θ = cμ - λ`
/// (`P(Wq > t) = C·e^{-θt}`; Gross & Harris §2.3). Conditioning:
///
/// `P(T > t) = (1 - C)·e^{-μt} + C·P(S + E_θ > t)`,
///
/// and the convolution of two exponentials gives
/// `P(S + E_θ > t) = (θ·e^{-μt} - μ·e^{-θt}) / (θ - μ)` for `θ ≠ μ`, and
/// `(1 + μt)·e^{-μt}` (Erlang-2) in the special case `θ = μ`, i.e.
/// `λ = (c - 1)μ`. Both cases are evaluated by one formula that is stable
/// as `θ -> μ`. For `c = 1` (`C = ρ`) the sum collapses to
/// `P(T > t) = e^{-(μ-λ)t}`.
///
/// Returns 0 when the queue is unstable (`λ >= cμ`).
pub fn mmc_sojourn_cdf(lambda: f64, mu: f64, c: u32, t: f64) -> f64 {
    1.0 - mmc_sojourn_survival(lambda, mu, c, t)
}

/// The `q`-quantile of the M/M/c FIFO sojourn time: the `t` with
/// `P(T <= t) = q`, found by bisection on the survival function
/// `P(T > t) = 1 - q` (which keeps full relative precision in the tail).
/// M/M/1 check: the p99 is `ln(100)/(μ - λ)`.
///
/// Returns 0 for `q <= 0` and `+∞` for `q >= 1` or an unstable queue.
pub fn mmc_sojourn_quantile(lambda: f64, mu: f64, c: u32, q: f64) -> f64 {
    if q <= 0.0 {
        return 0.0;
    }
    let theta = f64::from(c) * mu - lambda;
    if q >= 1.0 || theta <= 0.0 {
        return f64::INFINITY;
    }
    let target = 1.0 - q;
    let (mut lo, mut hi) = (0.0f64, 1.0 / mu.min(theta));
    while mmc_sojourn_survival(lambda, mu, c, hi) > target {
        lo = hi;
        hi *= 2.0;
    }
    // The survival function is continuous and decreasing: halve the
    // bracket until it is as narrow as f64 allows.
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if mmc_sojourn_survival(lambda, mu, c, mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

// ------------------------------------------------------------------- M/G/1

/// Mean waiting time before service in an M/G/1 FIFO queue, by the
/// Pollaczek-Khinchine formula: `Wq = λ·E[S²] / (2(1 - ρ))`, `ρ = λ·E[S]`.
///
/// `second_moment_s` is `E[S²] = Var(S) + E[S]² = E[S]²(1 + cv²)`:
/// `2·E[S]²` for exponential service (giving M/M/1), `E[S]²` for constant
/// service (M/D/1, half the M/M/1 wait), `E[S]²(1 + cv²)` for gamma.
/// Kleinrock 1975, eq. 5.72.
///
/// Returns `+∞` when `ρ >= 1`.
pub fn mg1_mean_wait(lambda: f64, mean_s: f64, second_moment_s: f64) -> f64 {
    let rho = lambda * mean_s;
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    lambda * second_moment_s / (2.0 * (1.0 - rho))
}

/// Mean sojourn time in an M/G/1 FIFO queue:
/// `W = E[S] + λ·E[S²] / (2(1 - ρ))` (Pollaczek-Khinchine).
///
/// Returns `+∞` when `ρ >= 1`.
pub fn mg1_mean_sojourn(lambda: f64, mean_s: f64, second_moment_s: f64) -> f64 {
    mean_s + mg1_mean_wait(lambda, mean_s, second_moment_s)
}

// ----------------------------------------------------------------- M/M/c/K

/// Stationary distribution of the M/M/c/K birth-death chain, unnormalised
/// then normalised: `p_n ∝ Π_{i=1..n} λ / (min(i, c)·μ)`, `n = 0..=K`.
/// Terms are rescaled on the way so nothing overflows for large `K`.
fn mmck_distribution(lambda: f64, mu: f64, c: u32, k: u32) -> Vec<f64> {
    let a = lambda / mu;
    let mut p = Vec::with_capacity(k as usize + 1);
    let mut term = 1.0f64;
    p.push(term);
    for n in 1..=k {
        term *= a / f64::from(n.min(c));
        p.push(term);
        if term > 1e250 {
            for x in &mut p {
                *x *= 1e-250;
            }
            term *= 1e-250;
        }
    }
    let total: f64 = p.iter().sum();
    for x in &mut p {
        *x /= total;
    }
    p
}

/// Blocking probability of an M/M/c/K queue: `c` servers and room for `K`
/// customers in the system in total (`K - c` waiting places; `K >= c`).
/// By PASTA an arrival sees the stationary distribution, so the fraction
/// of arrivals refused is
///
/// `P_K = (a^c/c!)·ρ^{K-c} / (Σ_{n=0..c} a^n/n! + (a^c/c!)·Σ_{n=c+1..K} ρ^{n-c})`
///
/// with `a = λ/μ`, `ρ = a/c` (Kleinrock 1975, §3.7; Gross & Harris §2.5).
/// `K = c` gives Erlang B; `c = 1` gives `(1-ρ)ρ^K / (1-ρ^{K+1})`. Any
/// load is allowed: a finite system is always stable.
///
/// In capsim terms, one pod with `concurrency` workers and a bounded
/// `queue_capacity` is M/M/c/K with `c = concurrency`,
/// `K = concurrency + queue_capacity`.
///
/// # Panics
///
/// If `c == 0` or `k < c`.
pub fn mmck_blocking(lambda: f64, mu: f64, c: u32, k: u32) -> f64 {
    assert!(
        c >= 1 && k >= c,
        "M/M/c/K needs c >= 1 and K >= c (c = {c}, K = {k})"
    );
    *mmck_distribution(lambda, mu, c, k)
        .last()
        .expect("K + 1 >= 1 states")
}

/// Mean number of customers in an M/M/c/K system (waiting plus in
/// service), `L = Σ n·p_n` over the stationary distribution of
/// [`mmck_blocking`]. By Little's law the mean sojourn of admitted
/// customers is `L / (λ(1 - P_K))`.
///
/// # Panics
///
/// If `c == 0` or `k < c`.
pub fn mmck_mean_in_system(lambda: f64, mu: f64, c: u32, k: u32) -> f64 {
    assert!(
        c >= 1 && k >= c,
        "M/M/c/K needs c >= 1 and K >= c (c = {c}, K = {k})"
    );
    mmck_distribution(lambda, mu, c, k)
        .iter()
        .enumerate()
        .map(|(n, p)| n as f64 * p)
        .sum()
}

// --------------------------------------------------------------- LRU / Che

/// Zipf popularities of `n` items: item of rank `k` (1-based, returned at
/// index `k - 1`) is requested with probability `k^{-s} / H(n, s)`,
/// `H(n, s) = Σ_{j=1..n} j^{-s}`. Sums to 1. `s = 0` is uniform.
pub fn zipf_popularities(n: usize, s: f64) -> Vec<f64> {
    let mut p: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
    // Sum smallest first for accuracy.
    let h: f64 = p.iter().rev().sum();
    for x in &mut p {
        *x /= h;
    }
    p
}

/// `Σ (1 - e^{-p_i T})`: the expected number of distinct items requested
/// in `T` requests, the left side of Che's equation.
fn che_occupancy(popularities: &[f64], t: f64) -> f64 {
    popularities.iter().map(|&p| -(-p * t).exp_m1()).sum()
}

/// Che's characteristic time `T_C` of an LRU cache of `capacity` items
/// under the independent reference model (each request independently asks
/// for item `i` with probability `p_i`): the root of
///
/// `Σ_i (1 - e^{-p_i·T}) = C`,
///
/// measured in requests. An item is in the cache iff it was requested
/// within the last `T_C` requests. The left side increases from 0 to the
/// number of items with `p_i > 0`; the root is bracketed by doubling and
/// found by bisection to full precision. (Che et al. 2002; the mean-field
/// argument of Fricker, Robert & Roberts 2012 explains its accuracy.)
///
/// Returns `+∞` when `capacity` is at least the number of items with a
/// positive popularity (everything fits) and 0 when `capacity <= 0`.
/// `popularities` need not be normalised: `T` is then in units of
/// `1 / Σ p_i` requests.
pub fn che_characteristic_time(popularities: &[f64], capacity: f64) -> f64 {
    if capacity <= 0.0 {
        return 0.0;
    }
    let items = popularities.iter().filter(|&&p| p > 0.0).count() as f64;
    if capacity >= items {
        return f64::INFINITY;
    }
    let (mut lo, mut hi) = (0.0f64, capacity.max(1.0));
    while che_occupancy(popularities, hi) < capacity {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if che_occupancy(popularities, mid) < capacity {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Che's approximation of the hit ratio of an LRU cache of `capacity`
/// items under the independent reference model with request
/// probabilities `popularities` (normalised to sum to 1):
///
/// `h = Σ_i p_i·(1 - e^{-p_i·T_C})`
///
/// with `T_C` from [`che_characteristic_time`]. Accurate to well under 1%
/// absolute for caches of hundreds of items or more under Zipf laws
/// (Fricker et al. 2012). Uniform popularity over `n` items gives exactly
/// `capacity / n`.
pub fn che_lru_hit_ratio(popularities: &[f64], capacity: f64) -> f64 {
    let total: f64 = popularities.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let t = che_characteristic_time(popularities, capacity);
    if t.is_infinite() {
        return 1.0;
    }
    popularities
        .iter()
        .map(|&p| p * -(-p * t).exp_m1())
        .sum::<f64>()
        / total
}

// ------------------------------------------------------- modulo resharding

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The fraction of keys that change shard when `hash(key) mod n` goes from
/// `n_from` to `n_to` shards, for hashes uniform over a range that is a
/// multiple of `lcm(n_from, n_to)` (and to within `lcm / 2^64` for a
/// 64-bit hash):
///
/// `moved = 1 - gcd(n_from, n_to) / max(n_from, n_to)`.
///
/// Derivation: let `a <= b` be the two shard counts and `L = lcm(a, b)`;
/// `h mod a` and `h mod b` depend only on `x = h mod L`, uniform on
/// `[0, L)`. If `h mod a = h mod b = r` then `r < a` and `x ≡ r` modulo
/// both `a` and `b`, hence modulo `L`, so `x = r < a`; conversely every
/// `x < a` keeps its shard. So `a` of the `L` residues stay:
/// `a / L = gcd(a, b) / b`.
///
/// Going from `n` to `n + 1` shards moves `n / (n + 1)` of the keys (a
/// consistent-hash ring would move only `1 / (n + 1)`); doubling moves
/// half; 8 -> 12 moves two thirds. Returns 0 when `n_from == n_to`.
///
/// # Panics
///
/// If either count is 0.
pub fn modulo_moved_fraction(n_from: u32, n_to: u32) -> f64 {
    assert!(n_from > 0 && n_to > 0, "shard counts must be positive");
    let g = gcd(u64::from(n_from), u64::from(n_to));
    1.0 - g as f64 / f64::from(n_from.max(n_to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn erlang_b_textbook_values() {
        // By hand from the recursion: B(1, a) = a/(1+a); B(2, 1) = 0.2.
        assert!(close(erlang_b(1, 3.0), 0.75, 1e-15));
        assert!(close(erlang_b(2, 1.0), 0.2, 1e-15));
        // B(5, 3) = 0.11005 (standard Erlang B table).
        assert!(close(erlang_b(5, 3.0), 0.110_054, 1e-6));
        // Direct sum for c = 10, a = 9: (9^10/10!) / Σ 9^k/k!.
        let terms: Vec<f64> = (0..=10u32)
            .scan(1.0, |t, k| {
                if k > 0 {
                    *t *= 9.0 / f64::from(k);
                }
                Some(*t)
            })
            .collect();
        let direct = terms[10] / terms.iter().sum::<f64>();
        assert!(close(erlang_b(10, 9.0), direct, 1e-14));
        // Large c stays finite and sensible.
        let b = erlang_b(10_000, 9_500.0);
        assert!(b > 0.0 && b < 0.01, "{b}");
    }

    #[test]
    fn erlang_c_textbook_values() {
        // c = 10, a = 9 (the mmc scenario): 0.6687.
        assert!(close(erlang_c(10, 9.0), 0.668_7, 5e-5));
        // c = 1: C = rho.
        assert!(close(erlang_c(1, 0.7), 0.7, 1e-15));
        // c = 2, a = 1: C = 1/3 (= 2·0.2 / (2 - 1 + 0.2) with B = 0.2).
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-15));
        // Unstable and idle edges.
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert_eq!(erlang_c(4, 0.0), 0.0);
        // C >= B always.
        for c in 1..30 {
            let a = 0.8 * f64::from(c);
            assert!(erlang_c(c, a) >= erlang_b(c, a));
        }
    }

    #[test]
    fn mm1_closed_forms() {
        // lambda = 0.9, mu = 1: W = 10, Wq = 9, p99 = ln(100)/0.1.
        assert!(close(mmc_mean_sojourn(0.9, 1.0, 1), 10.0, 1e-12));
        assert!(close(mmc_mean_wait(0.9, 1.0, 1), 9.0, 1e-12));
        let p99 = mmc_sojourn_quantile(0.9, 1.0, 1, 0.99);
        assert!(close(p99, 100f64.ln() / 0.1, 1e-9), "{p99}");
        // The sojourn is Exp(mu - lambda).
        for t in [0.1, 1.0, 5.0, 30.0] {
            assert!(close(
                mmc_sojourn_cdf(0.8, 1.0, 1, t),
                1.0 - (-0.2 * t).exp(),
                1e-14
            ));
        }
        assert_eq!(mmc_mean_sojourn(1.0, 1.0, 1), f64::INFINITY);
    }

    #[test]
    fn mmc_matches_the_scenario_description() {
        // scenarios/mmc.json: 9 per ms, mu = 1 per ms, c = 10.
        assert!(close(mmc_mean_wait(9.0, 1.0, 10), 0.6687, 5e-5));
        assert!(close(mmc_mean_sojourn(9.0, 1.0, 10), 1.6687, 5e-5));
        // Here theta = c·mu - lambda = 1 = mu, so P(T > t) = e^{-t}(1 + C t);
        // solving e^{-t}(1 + 0.66875 t) = 0.01 by hand gives t = 6.2499
        // (e^{-6.2499} = 0.0019308, times 5.1796 = 0.010001). A 2-million
        // customer Monte Carlo of the FIFO recursion agrees (6.10-6.25).
        let p99 = mmc_sojourn_quantile(9.0, 1.0, 10, 0.99);
        assert!(close(p99, 6.2499, 5e-4), "{p99}");
    }

    #[test]
    fn quantile_inverts_cdf() {
        for &(lambda, mu, c) in &[
            (0.8, 1.0, 1),
            (9.0, 1.0, 10),
            (1.0, 1.0, 2),
            (3.0, 0.5, 7),
            (0.1, 1.0, 3),
        ] {
            for q in [0.01, 0.5, 0.9, 0.99, 0.999, 0.999_999] {
                let t = mmc_sojourn_quantile(lambda, mu, c, q);
                let back = mmc_sojourn_cdf(lambda, mu, c, t);
                assert!(
                    close(back, q, 1e-12),
                    "({lambda},{mu},{c}) q={q}: t={t} cdf={back}"
                );
            }
        }
    }

    #[test]
    fn sojourn_cdf_integrates_to_the_mean() {
        // E[T] = ∫ P(T > t) dt, by Simpson's rule on a fine grid.
        for &(lambda, mu, c) in &[(0.8, 1.0, 1), (9.0, 1.0, 10), (1.0, 1.0, 2), (3.0, 0.5, 7)] {
            let end = 60.0 * mmc_mean_sojourn(lambda, mu, c);
            let n = 20_000;
            let h = end / n as f64;
            let f = |t: f64| 1.0 - mmc_sojourn_cdf(lambda, mu, c, t);
            let mut s = f(0.0) + f(end);
            for i in 1..n {
                s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
            }
            let integral = s * h / 3.0;
            let mean = mmc_mean_sojourn(lambda, mu, c);
            assert!(
                close(integral, mean, 1e-6 * mean),
                "({lambda},{mu},{c}): {integral} vs {mean}"
            );
        }
    }

    #[test]
    fn sojourn_cdf_special_case_theta_equals_mu() {
        // c = 2, mu = 1, lambda = 1: theta = c·mu - lambda = 1 = mu, and
        // P(T > t) = (1 - C) e^{-t} + C (1 + t) e^{-t}, C = 1/3.
        for t in [0.0f64, 0.5, 1.0, 3.0, 10.0] {
            let expect = 1.0 - ((2.0 / 3.0) * (-t).exp() + (1.0 / 3.0) * (1.0 + t) * (-t).exp());
            assert!(close(mmc_sojourn_cdf(1.0, 1.0, 2, t), expect, 1e-15));
            // Continuous through the special case.
            for eps in [1e-12, 1e-8, 1e-5] {
                let near = mmc_sojourn_cdf(1.0 + eps, 1.0, 2, t);
                assert!(close(near, expect, 10.0 * eps), "t={t} eps={eps}");
            }
        }
    }

    #[test]
    fn pollaczek_khinchine() {
        // Exponential service (E[S²] = 2E[S]²) reproduces M/M/1.
        assert!(close(
            mg1_mean_sojourn(0.8, 1.0, 2.0),
            mmc_mean_sojourn(0.8, 1.0, 1),
            1e-12
        ));
        // M/D/1: half the M/M/1 wait; rho = 0.8 -> Wq = 0.8/(2·0.2) = 2.
        assert!(close(mg1_mean_wait(0.8, 1.0, 1.0), 2.0, 1e-12));
        assert!(close(mg1_mean_sojourn(0.8, 1.0, 1.0), 3.0, 1e-12));
        // Gamma cv = 0.5: E[S²] = 1.25 E[S]²; Wq = 0.8·1.25/0.4 = 2.5.
        assert!(close(mg1_mean_wait(0.8, 1.0, 1.25), 2.5, 1e-12));
        assert_eq!(mg1_mean_wait(1.0, 1.0, 1.0), f64::INFINITY);
    }

    #[test]
    fn mmck_limits() {
        // K = c is Erlang B.
        for c in [1, 3, 10] {
            assert!(close(
                mmck_blocking(7.0, 1.0, c, c),
                erlang_b(c, 7.0),
                1e-14
            ));
        }
        // c = 1: (1-rho) rho^K / (1 - rho^{K+1}); rho = 0.9, K = 10: 0.05081.
        let (rho, k) = (0.9f64, 10);
        let expect = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
        assert!(close(mmck_blocking(0.9, 1.0, 1, k as u32), expect, 1e-15));
        assert!(close(expect, 0.050_813, 1e-6));
        // rho = 1, c = 1: uniform over K + 1 states.
        assert!(close(mmck_blocking(1.0, 1.0, 1, 9), 0.1, 1e-15));
        // A big buffer tends to M/M/c: no blocking, L = lambda·W.
        let l = mmck_mean_in_system(9.0, 1.0, 10, 2_000);
        assert!(mmck_blocking(9.0, 1.0, 10, 2_000) < 1e-50);
        assert!(close(l, 9.0 * mmc_mean_sojourn(9.0, 1.0, 10), 1e-9));
        // Overload is fine and blocks about 1 - c·mu/lambda.
        let b = mmck_blocking(20.0, 1.0, 10, 5_000);
        assert!(close(b, 0.5, 1e-12), "{b}");
    }

    #[test]
    fn zipf_is_normalised_and_ordered() {
        let p = zipf_popularities(10_000, 0.8);
        assert!(close(p.iter().sum::<f64>(), 1.0, 1e-12));
        assert!(p.windows(2).all(|w| w[0] > w[1]));
        // n = 100, s = 1: p_1 = 1/H_100 = 1/5.18738.
        assert!(close(
            zipf_popularities(100, 1.0)[0],
            1.0 / 5.187_377_517_639_621,
            1e-12
        ));
        // s = 0 is uniform.
        assert!(
            zipf_popularities(4, 0.0)
                .iter()
                .all(|&x| close(x, 0.25, 1e-15))
        );
    }

    #[test]
    fn che_solves_its_equation() {
        let p = zipf_popularities(10_000, 0.8);
        let t = che_characteristic_time(&p, 1_000.0);
        assert!(close(che_occupancy(&p, t), 1_000.0, 1e-8));
        // Uniform popularity: the hit ratio is exactly C/n.
        let u = vec![1.0 / 500.0; 500];
        assert!(close(che_lru_hit_ratio(&u, 100.0), 0.2, 1e-12));
        // Monotone in capacity and in skew; 1 when everything fits.
        let h1 = che_lru_hit_ratio(&p, 1_000.0);
        let h2 = che_lru_hit_ratio(&p, 2_000.0);
        let h3 = che_lru_hit_ratio(&zipf_popularities(10_000, 1.0), 1_000.0);
        assert!(0.0 < h1 && h1 < h2 && h2 < 1.0 && h1 < h3, "{h1} {h2} {h3}");
        assert_eq!(che_lru_hit_ratio(&p, 10_000.0), 1.0);
        assert_eq!(che_lru_hit_ratio(&p, 0.0), 0.0);
        // The hit ratio of LRU is below that of the static optimum (the C
        // most popular items) and above the uniform C/n.
        let top: f64 = p[..1_000].iter().sum();
        assert!(h1 < top && h1 > 0.1, "{h1} {top}");
    }

    #[test]
    fn modulo_resharding() {
        for n in 1..50 {
            assert!(close(
                modulo_moved_fraction(n, n + 1),
                f64::from(n) / f64::from(n + 1),
                1e-15
            ));
        }
        assert_eq!(modulo_moved_fraction(8, 8), 0.0);
        assert!(close(modulo_moved_fraction(8, 16), 0.5, 1e-15));
        assert!(close(modulo_moved_fraction(8, 12), 2.0 / 3.0, 1e-15));
        assert!(close(modulo_moved_fraction(12, 8), 2.0 / 3.0, 1e-15));
        // Brute force over one full period of residues.
        for (a, b) in [(4u64, 6u64), (5, 7), (8, 12), (9, 6), (16, 17)] {
            let l = a * b / gcd(a, b);
            let moved = (0..l).filter(|h| h % a != h % b).count() as f64 / l as f64;
            assert!(
                close(modulo_moved_fraction(a as u32, b as u32), moved, 1e-15),
                "{a}->{b}"
            );
        }
    }
}
