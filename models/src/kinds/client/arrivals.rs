//! Open-loop arrivals: a non-homogeneous Poisson process whose rate follows
//! a profile of constant, linear and sinusoidal (diurnal) segments, sampled
//! exactly by thinning (Lewis and Shedler): candidates come at the
//! segment's peak rate and are kept with probability rate(t) / peak.
//! Because the process is memoryless, a candidate that falls past a
//! segment's end restarts the draw at that end with the next segment's
//! peak, which keeps constant segments free of rejections.
//!
//! Closed-loop workloads have no arrival process: their users send when
//! they have finished thinking (calls.rs).

use sim_core::RngStream;

use crate::kinds::client::RateProfile;
use crate::kinds::client::WorkloadDef;

/// The arrival process of one workload.
#[derive(Debug, Clone)]
pub struct Arrivals {
    seg: usize,
    t: u64,
    rng: RngStream,
    /// False for closed-loop users: no arrivals are drawn.
    open: bool,
}

impl Arrivals {
    /// A process starting at time 0.
    pub fn new(rng: RngStream) -> Self {
        Arrivals {
            seg: 0,
            t: 0,
            rng,
            open: true,
        }
    }

    /// The process of workload `w`: none for closed-loop users.
    pub fn of(w: &WorkloadDef, rng: RngStream) -> Self {
        Arrivals {
            open: w.users.is_none(),
            ..Arrivals::new(rng)
        }
    }

    /// The next arrival instant (ns) before `end`, or None.
    #[inline]
    pub fn next(&mut self, profile: &RateProfile, end: u64) -> Option<u64> {
        if !self.open {
            return None;
        }
        loop {
            let s = profile.segments.get(self.seg)?;
            if self.t >= s.end {
                self.seg += 1;
                continue;
            }
            if self.t >= end {
                return None;
            }
            let peak = s.max_rate();
            if peak <= 0.0 {
                if s.end == u64::MAX {
                    return None;
                }
                self.t = s.end;
                continue;
            }
            let gap = -self.rng.unit_open0().ln() / peak * 1e9;
            let cand = (self.t as f64 + gap).round();
            if cand >= s.end as f64 {
                self.t = s.end;
                continue;
            }
            self.t = cand as u64;
            if self.t >= end {
                return None;
            }
            if s.is_constant() || self.rng.unit() * peak < s.rate_at(self.t) {
                return Some(self.t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::client::RateSeg;

    fn seg(start: u64, end: u64, from: f64, to: f64) -> RateSeg {
        RateSeg {
            start,
            end,
            from,
            to,
            diurnal: None,
            label: None,
        }
    }

    const S: u64 = 1_000_000_000;

    #[test]
    fn counts_follow_the_integrated_rate() {
        // 100/s for 100s, ramp 100 -> 1000 over 100s, 1000/s for 50s, then 0.
        let p = RateProfile {
            segments: vec![
                seg(0, 100 * S, 100.0, 100.0),
                seg(100 * S, 200 * S, 100.0, 1000.0),
                seg(200 * S, 250 * S, 1000.0, 1000.0),
            ],
        };
        let mut a = Arrivals::new(RngStream::new(9, "arrivals"));
        let mut counts = [0u64; 4];
        let mut last = 0;
        while let Some(t) = a.next(&p, 400 * S) {
            assert!(t >= last, "arrivals must be in order");
            last = t;
            counts[((t / S) / 100).min(3) as usize] += 1;
        }
        // Poisson counts: mean m, sd sqrt(m); allow 5 sd.
        for (c, m) in counts.iter().zip([10_000.0, 55_000.0, 50_000.0, 0.0f64]) {
            assert!((*c as f64 - m).abs() <= 5.0 * m.sqrt() + 1e-9, "{counts:?}");
        }
        assert_eq!(p.expected_arrivals(400 * S), 115_000.0);
    }

    #[test]
    fn stops_at_the_end() {
        let p = RateProfile {
            segments: vec![seg(0, u64::MAX, 50.0, 50.0)],
        };
        let mut a = Arrivals::new(RngStream::new(1, "x"));
        let mut n = 0;
        while a.next(&p, 10 * S).is_some() {
            n += 1;
        }
        assert!((n as f64 - 500.0).abs() < 5.0 * 500f64.sqrt());
    }

    /// A diurnal segment over three days, 0.2 to 1 arrival/s peaking at
    /// 14h: arrivals in every hour-long window match the integral of the
    /// sinusoid over that hour (720 to 3600 arrivals). Counts of a Poisson
    /// process are Poisson, so each is within 5 sd (sqrt of its mean) of
    /// the integral: a false alarm over the 72 windows has probability
    /// about 72 x 6e-7.
    #[test]
    fn diurnal_counts_follow_the_sinusoid() {
        use crate::kinds::client::profile::DiurnalDef;
        const H: u64 = 3600 * S;
        let d = DiurnalDef {
            min: 0.2,
            max: 1.0,
            period: 24 * H,
            peak_at: 14 * H,
        };
        let p = RateProfile {
            segments: vec![RateSeg {
                diurnal: Some(d),
                ..seg(0, 72 * H, d.rate_at(0), d.rate_at(72 * H))
            }],
        };
        let mut a = Arrivals::new(RngStream::new(3, "diurnal"));
        let mut counts = [0u64; 72];
        while let Some(t) = a.next(&p, 72 * H) {
            counts[(t / H) as usize] += 1;
        }
        for (h, c) in counts.iter().enumerate() {
            let m = d.integral(h as u64 * H, (h as u64 + 1) * H);
            let z = (*c as f64 - m) / m.sqrt();
            assert!(z.abs() <= 5.0, "hour {h}: {c} arrivals, expected {m:.0}");
        }
        // The busiest and the quietest hour of the day are near 14h and
        // 2h. The hours either side of them differ by only ~2 sd, so the
        // check allows one hour more on each side (which differ by > 6 sd).
        let day = |h: usize| counts[h] + counts[h + 24] + counts[h + 48];
        let peak = (0..24).max_by_key(|h| day(*h));
        let trough = (0..24).min_by_key(|h| day(*h));
        assert!(matches!(peak, Some(12..=15)), "peak hour {peak:?}");
        assert!(matches!(trough, Some(0..=3)), "trough hour {trough:?}");
        // The closed-form integral: a whole period gives mid x period.
        let cycle = d.integral(5 * H, 29 * H);
        assert!((cycle - 0.6 * 86_400.0).abs() < 1e-6, "{cycle}");
        assert!((p.expected_arrivals(72 * H) - 0.6 * 3.0 * 86_400.0).abs() < 1e-6);
        // Peak: the first peak instant, at the maximum rate.
        assert_eq!(p.peak(72 * H), (1.0, 14 * H));
        // Before the first peak, the highest rate is at the end: cos(-60°).
        let (r, at) = p.peak(10 * H);
        assert!((r - 0.8).abs() < 1e-12 && at == 10 * H, "{r} at {at}");
        assert!((p.rate_at(2 * H) - 0.2).abs() < 1e-12, "trough at 2h");
    }
}
