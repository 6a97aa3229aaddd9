//! The endpoints' request ledger: every request (attempt) that arrives at
//! an endpoint, and how it ended — answered in time, timed out, refused,
//! failed in flight, rate limited — with the latency of the answers, per
//! endpoint and for all endpoints together.

use sim_core::SimTime;
use sim_core::stats::{CountSeries, LatencyHistogram, LatencySeries, SeriesSpec};

use crate::doc::results::{EndpointResult, EndpointSeries, UserSeries, UserVisibleResult};
use crate::kernel::kind::{Finish, ratio};
use crate::kernel::outcome::Failure;
use crate::kinds::client::calls::{Counts, UserView};
use crate::kinds::service::EndpointDef;
use crate::model::ids::EndpointId;

/// One endpoint's counts over the measured period, and its series over
/// the whole run.
#[derive(Clone)]
struct EpStats {
    count: u64,
    ok: u64,
    timeouts: u64,
    rejected: u64,
    /// Latencies of users' ok answers (`calls` holds the calls'): each
    /// latency is recorded once, and the endpoint's and the overall
    /// histograms are merged from these at the end.
    latency: LatencyHistogram,
    ok_series: CountSeries,
    timeout_series: CountSeries,
    rejected_series: CountSeries,
    /// Failed because their pod crashed or was down, or a dependency
    /// failed (HTTP 502).
    aborted: u64,
    aborted_series: CountSeries,
    /// Refused by a gateway's rate limiter (HTTP 429).
    rate_limited: u64,
    rate_limited_series: CountSeries,
    latency_series: LatencySeries,
    /// Of the counts above, the requests service calls made (the rest are
    /// users' requests, which alone make the overall figures).
    calls: Tally,
    /// Latencies of the ok answers to service calls.
    call_latency: LatencyHistogram,
}

impl EpStats {
    /// Latencies of every ok answer, users' and calls'.
    fn all_latency(&self) -> std::borrow::Cow<'_, LatencyHistogram> {
        if self.call_latency.is_empty() {
            std::borrow::Cow::Borrowed(&self.latency)
        } else {
            let mut all = self.latency.clone();
            all.merge(&self.call_latency);
            std::borrow::Cow::Owned(all)
        }
    }
}

/// Requests by how they ended.
#[derive(Clone, Copy, Default)]
struct Tally {
    count: u64,
    ok: u64,
    rejected: u64,
    aborted: u64,
    rate_limited: u64,
    timeouts: u64,
}

/// The requests service calls made to an endpoint, over time.
#[derive(Clone)]
struct CallSeries {
    ok: CountSeries,
    timeouts: CountSeries,
    rejected: CountSeries,
    aborted: CountSeries,
    rate_limited: CountSeries,
}

/// Every endpoint's ledger, and the latency of all endpoints together.
#[derive(Clone)]
pub struct Endpoints {
    eps: Vec<EpStats>,
    /// Per endpoint, with service calls (else empty).
    call_series: Vec<CallSeries>,
    overall_series: LatencySeries,
}

/// The figures of requests still alive at the end, found by the finish.
#[derive(Debug, Clone, Default)]
pub struct Leftovers {
    /// Per endpoint: measured requests in flight.
    pub in_flight: Vec<u64>,
    /// Per endpoint: measured requests past their client's timeout.
    pub timeouts: Vec<u64>,
    /// Per endpoint: (when, count) of late requests for the series.
    pub timeout_marks: Vec<Vec<SimTime>>,
    /// Of `in_flight`, the requests service calls made.
    pub call_in_flight: u64,
}

impl Endpoints {
    /// `n` endpoints, nothing counted; `calls`: service calls make
    /// requests too.
    pub fn new(n: usize, spec: SeriesSpec, calls: bool) -> Self {
        let series = || CallSeries {
            ok: CountSeries::new(spec),
            timeouts: CountSeries::new(spec),
            rejected: CountSeries::new(spec),
            aborted: CountSeries::new(spec),
            rate_limited: CountSeries::new(spec),
        };
        Endpoints {
            call_series: if calls {
                (0..n).map(|_| series()).collect()
            } else {
                Vec::new()
            },
            eps: (0..n)
                .map(|_| EpStats {
                    count: 0,
                    ok: 0,
                    timeouts: 0,
                    rejected: 0,
                    latency: LatencyHistogram::new(),
                    ok_series: CountSeries::new(spec),
                    timeout_series: CountSeries::new(spec),
                    rejected_series: CountSeries::new(spec),
                    aborted: 0,
                    aborted_series: CountSeries::new(spec),
                    rate_limited: 0,
                    rate_limited_series: CountSeries::new(spec),
                    latency_series: LatencySeries::new(spec),
                    calls: Tally::default(),
                    call_latency: LatencyHistogram::new(),
                })
                .collect(),
            overall_series: LatencySeries::new(spec),
        }
    }

    /// Latencies of users' ok answers, all endpoints (measured period).
    pub fn overall(&self) -> LatencyHistogram {
        let mut all = LatencyHistogram::new();
        for e in &self.eps {
            all.merge(&e.latency);
        }
        all
    }

    /// Takes the latency histograms out (the ledger keeps empty ones): of
    /// users' ok answers, all endpoints ([`overall`](Self::overall)), and
    /// of all ok answers, per endpoint.
    pub fn take_histograms(&mut self) -> (LatencyHistogram, Vec<LatencyHistogram>) {
        let overall = self.overall();
        let each = self
            .eps
            .iter_mut()
            .map(|e| {
                let mut h = std::mem::take(&mut e.latency);
                h.merge(&std::mem::take(&mut e.call_latency));
                h
            })
            .collect();
        (overall, each)
    }

    /// A measured request (attempt) arrived at `ep`.
    #[inline]
    pub fn arrived(&mut self, ep: EndpointId) {
        self.eps[ep.ix()].count += 1;
    }

    /// A measured request a service call made arrived at `ep`.
    #[inline]
    pub fn arrived_call(&mut self, ep: EndpointId) {
        let e = &mut self.eps[ep.ix()];
        e.count += 1;
        e.calls.count += 1;
    }

    /// A request a service call made to `ep` was answered at `now` after
    /// `latency` ns (whether its caller still waited for it or not).
    #[inline]
    pub fn ok_call(&mut self, ep: EndpointId, latency: u64, now: SimTime, measured: bool) {
        self.call_series[ep.ix()].ok.add(now, 1.0);
        let e = &mut self.eps[ep.ix()];
        e.ok_series.add(now, 1.0);
        e.latency_series.record(now, latency);
        if measured {
            e.ok += 1;
            e.calls.ok += 1;
            e.call_latency.record(latency);
        }
    }

    /// A request a service call made to `ep` failed at `now`.
    #[inline]
    pub fn failed_call(&mut self, ep: EndpointId, failure: Failure, now: SimTime, measured: bool) {
        self.failed(ep, failure, now, measured);
        let c = &mut self.call_series[ep.ix()];
        match failure {
            Failure::Rejected => &mut c.rejected,
            Failure::Aborted => &mut c.aborted,
            Failure::RateLimited => &mut c.rate_limited,
            Failure::TimedOut => &mut c.timeouts,
        }
        .add(now, 1.0);
        if measured {
            let t = &mut self.eps[ep.ix()].calls;
            match failure {
                Failure::Rejected => t.rejected += 1,
                Failure::Aborted => t.aborted += 1,
                Failure::RateLimited => t.rate_limited += 1,
                Failure::TimedOut => t.timeouts += 1,
            }
        }
    }

    /// A request of `ep` was answered in time at `now` after `latency` ns.
    #[inline]
    pub fn ok(&mut self, ep: EndpointId, latency: u64, now: SimTime, measured: bool) {
        let e = &mut self.eps[ep.ix()];
        e.ok_series.add(now, 1.0);
        e.latency_series.record(now, latency);
        self.overall_series.record(now, latency);
        if measured {
            e.ok += 1;
            e.latency.record(latency);
        }
    }

    /// A request of `ep` timed out at `at` (its birth plus the timeout).
    #[inline]
    pub fn timeout(&mut self, ep: EndpointId, at: SimTime, measured: bool) {
        let e = &mut self.eps[ep.ix()];
        e.timeout_series.add(at, 1.0);
        if measured {
            e.timeouts += 1;
        }
    }

    /// A request of `ep` was refused (503), failed in flight (502) or rate
    /// limited (429) at `now`.
    #[inline]
    pub fn failed(&mut self, ep: EndpointId, failure: Failure, now: SimTime, measured: bool) {
        let e = &mut self.eps[ep.ix()];
        let (series, count) = match failure {
            Failure::Rejected => (&mut e.rejected_series, &mut e.rejected),
            Failure::Aborted => (&mut e.aborted_series, &mut e.aborted),
            Failure::RateLimited => (&mut e.rate_limited_series, &mut e.rate_limited),
            Failure::TimedOut => (&mut e.timeout_series, &mut e.timeouts),
        };
        series.add(now, 1.0);
        if measured {
            *count += 1;
        }
    }

    /// Each endpoint's section of the results and all endpoints together
    /// (`overall`), with what users saw when clients retry, and the
    /// latencies of users' ok answers, all endpoints (merged once, for the
    /// caller to reuse); problems go to `warnings`.
    pub fn finish(
        &self,
        defs: &[EndpointDef],
        services: &[String],
        left: &Leftovers,
        users: Option<&UserView>,
        fin: &Finish<'_>,
        warnings: &mut Vec<String>,
    ) -> (Vec<EndpointResult>, EndpointResult, LatencyHistogram) {
        let measured_s = fin.measured_s();
        let mut endpoints: Vec<EndpointResult> = defs
            .iter()
            .zip(&self.eps)
            .enumerate()
            .map(|(i, (def, e))| {
                let latency = e.all_latency();
                if latency.clamped() > 0 {
                    warnings.push(format!(
                        "endpoint `{}`: {} latencies above the histogram's range were clamped",
                        def.name,
                        latency.clamped()
                    ));
                }
                let timeouts = e.timeouts + left.timeouts[i];
                let errors = timeouts + e.rejected + e.aborted;
                EndpointResult {
                    name: def.name.clone(),
                    service: services[def.service].clone(),
                    count: e.count,
                    ok: e.ok,
                    errors,
                    timeouts,
                    rejected: e.rejected,
                    aborted: e.aborted,
                    rate_limited: e.rate_limited,
                    in_flight: left.in_flight[i],
                    throughput_rps: e.ok as f64 / measured_s,
                    error_rate: ratio(errors, e.count),
                    latency: latency.summary(),
                    latency_cdf: latency.cdf(),
                    retries: 0,
                    retries_refused_by_budget: 0,
                    user_visible: None,
                }
            })
            .collect();
        // `overall` is what users' requests saw: the rows without the
        // requests service calls made.
        let sum = |f: fn(&EndpointResult) -> u64| endpoints.iter().map(f).sum::<u64>();
        let calls = |f: fn(&Tally) -> u64| self.eps.iter().map(|e| f(&e.calls)).sum::<u64>();
        let (count, ok, timeouts, rejected, aborted) = (
            sum(|e| e.count) - calls(|t| t.count),
            sum(|e| e.ok) - calls(|t| t.ok),
            sum(|e| e.timeouts) - calls(|t| t.timeouts),
            sum(|e| e.rejected) - calls(|t| t.rejected),
            sum(|e| e.aborted) - calls(|t| t.aborted),
        );
        let all_latency = self.overall();
        let mut overall = EndpointResult {
            name: "all".to_string(),
            service: "*".to_string(),
            count,
            ok,
            errors: timeouts + rejected + aborted,
            timeouts,
            rejected,
            aborted,
            rate_limited: sum(|e| e.rate_limited) - calls(|t| t.rate_limited),
            in_flight: sum(|e| e.in_flight) - left.call_in_flight,
            throughput_rps: ok as f64 / measured_s,
            error_rate: ratio(timeouts + rejected + aborted, count),
            latency: all_latency.summary(),
            latency_cdf: all_latency.cdf(),
            retries: 0,
            retries_refused_by_budget: 0,
            user_visible: None,
        };
        // Retries and what users saw.
        if let Some(u) = users {
            for (e, (n, inf, latency)) in endpoints.iter_mut().zip(&u.endpoints) {
                e.retries = n.retries;
                e.retries_refused_by_budget = n.refused;
                e.user_visible = Some(user_visible(n, *inf, e.count, latency.clone()));
            }
            let (all, inf, latency) = &u.overall;
            overall.retries = all.retries;
            overall.retries_refused_by_budget = all.refused;
            overall.user_visible = Some(user_visible(all, *inf, overall.count, latency.clone()));
        }
        (endpoints, overall, all_latency)
    }

    /// Each endpoint's time series (retries added by the caller); `late`
    /// marks the timeouts of requests still alive at the end.
    pub fn series(
        &self,
        defs: &[EndpointDef],
        left: &Leftovers,
        rate_limits: bool,
        fin: &Finish<'_>,
    ) -> Vec<EndpointSeries> {
        let end = fin.end();
        defs.iter()
            .zip(&self.eps)
            .zip(&left.timeout_marks)
            .map(|((d, e), late)| {
                let mut timeouts = e.timeout_series.clone();
                for &at in late {
                    timeouts.add(at, 1.0);
                }
                EndpointSeries {
                    name: d.name.clone(),
                    ok_rps: fin.per_sec(e.ok_series.values()),
                    timeouts_rps: fin.per_sec(timeouts.values()),
                    rejected_rps: fin.per_sec(e.rejected_series.values()),
                    aborted_rps: if e.aborted_series.values().iter().any(|v| *v > 0.0) {
                        fin.per_sec(e.aborted_series.values())
                    } else {
                        Vec::new()
                    },
                    rate_limited_rps: if rate_limits {
                        fin.per_sec(e.rate_limited_series.values())
                    } else {
                        Vec::new()
                    },
                    retries_rps: Vec::new(),
                    latency: e.latency_series.finish(end),
                }
            })
            .collect()
    }

    /// Users' requests over time (with service calls: the endpoints'
    /// series without the calls'), None without calls.
    pub fn user_series(&self, series: &[EndpointSeries], fin: &Finish<'_>) -> Option<UserSeries> {
        if self.call_series.is_empty() {
            return None;
        }
        let n = fin.spec.buckets;
        let total = |all: &dyn Fn(&EndpointSeries) -> &Vec<f64>,
                     calls: &dyn Fn(&CallSeries) -> &CountSeries| {
            let mut v = vec![0.0; n];
            for s in series {
                for (x, y) in v.iter_mut().zip(all(s)) {
                    *x += y;
                }
            }
            for c in &self.call_series {
                for (x, y) in v.iter_mut().zip(fin.per_sec(calls(c).values())) {
                    *x -= y;
                }
            }
            v.iter().map(|x| x.max(0.0)).collect()
        };
        Some(UserSeries {
            ok_rps: total(&|s| &s.ok_rps, &|c| &c.ok),
            timeouts_rps: total(&|s| &s.timeouts_rps, &|c| &c.timeouts),
            rejected_rps: total(&|s| &s.rejected_rps, &|c| &c.rejected),
            aborted_rps: total(&|s| &s.aborted_rps, &|c| &c.aborted),
            rate_limited_rps: total(&|s| &s.rate_limited_rps, &|c| &c.rate_limited),
        })
    }

    /// The overall latency over time.
    pub fn overall_series(&self, end: SimTime) -> Vec<sim_core::stats::LatencyPoint> {
        self.overall_series.finish(end)
    }
}

/// An endpoint's (or all endpoints') requests as users saw them.
fn user_visible(
    u: &Counts,
    in_flight: u64,
    attempts: u64,
    latency: sim_core::stats::LatencySummary,
) -> UserVisibleResult {
    let errors = u.timeouts + u.rejected + u.aborted;
    let per = |a: u64| {
        if u.requests == 0 {
            0.0
        } else {
            a as f64 / u.requests as f64
        }
    };
    UserVisibleResult {
        requests: u.requests,
        ok: u.ok,
        errors,
        timeouts: u.timeouts,
        rejected: u.rejected,
        aborted: u.aborted,
        rate_limited: u.rate_limited,
        in_flight,
        error_rate: per(errors),
        attempts_per_request: per(attempts),
        latency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{RngStream, SimDuration};

    /// Each latency is recorded once, at its endpoint, by whom it came
    /// from; the endpoint's histogram (users' and calls' answers) and the
    /// overall one (users' answers, all endpoints) merged from those at
    /// the end equal histograms fed every latency directly.
    #[test]
    fn merged_histograms_equal_recording_everywhere() {
        let spec = SeriesSpec::new(SimDuration(1_000_000), SimDuration(100_000_000));
        let mut eps = Endpoints::new(3, spec, true);
        let mut each = vec![LatencyHistogram::new(); 3];
        let mut overall = LatencyHistogram::new();
        let mut rng = RngStream::new(3, "endpoints");
        for i in 0..30_000u64 {
            let ep = EndpointId::new(rng.below(3) as usize);
            let bits = rng.below(34).max(1);
            let ns = rng.below(1 << bits);
            let now = SimTime(i * 3_000);
            let measured = i % 7 != 0;
            // Endpoint 2 answers calls only, endpoint 0 users only.
            if ep.ix() == 2 || (ep.ix() == 1 && i % 2 == 0) {
                eps.ok_call(ep, ns, now, measured);
            } else {
                eps.ok(ep, ns, now, measured);
                if measured {
                    overall.record(ns);
                }
            }
            if measured {
                each[ep.ix()].record(ns);
            }
        }
        assert_eq!(eps.overall().to_compact(), overall.to_compact());
        let (o, hists) = eps.take_histograms();
        assert_eq!(o.to_compact(), overall.to_compact());
        for (got, want) in hists.iter().zip(&each) {
            assert_eq!(got.to_compact(), want.to_compact());
            assert_eq!(got.summary(), want.summary());
            assert_eq!(got.cdf(), want.cdf());
        }
    }
}
