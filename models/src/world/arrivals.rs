//! Open-loop arrivals: a non-homogeneous Poisson process whose rate follows
//! a piecewise-linear profile, sampled exactly by thinning (Lewis and
//! Shedler): candidates come at the segment's peak rate and are kept with
//! probability rate(t) / peak. Because the process is memoryless, a
//! candidate that falls past a segment's end restarts the draw at that end
//! with the next segment's peak, which keeps constant segments free of
//! rejections.

use sim_core::RngStream;

use crate::model::RateProfile;

/// The arrival process of one workload.
#[derive(Debug, Clone)]
pub struct Arrivals {
    seg: usize,
    t: u64,
    rng: RngStream,
}

impl Arrivals {
    /// A process starting at time 0.
    pub fn new(rng: RngStream) -> Self {
        Arrivals { seg: 0, t: 0, rng }
    }

    /// The next arrival instant (ns) before `end`, or None.
    pub fn next(&mut self, profile: &RateProfile, end: u64) -> Option<u64> {
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
            if s.from == s.to || self.rng.unit() * peak < s.rate_at(self.t) {
                return Some(self.t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RateSeg;

    fn seg(start: u64, end: u64, from: f64, to: f64) -> RateSeg {
        RateSeg {
            start,
            end,
            from,
            to,
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
}
