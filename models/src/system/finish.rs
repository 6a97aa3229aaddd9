//! The results document of a run: the request ledger and the endpoints
//! (with the requests still alive at the end), each component's section
//! from its kind, the time series, the cost and the engine figures.

use sim_core::SimTime;

use super::endpoints::Leftovers;
use super::price::{per_hour, price_list};
use super::world::World;
use crate::doc::results::{Cost, Engine, FORMAT_VERSION, Results, ScenarioInfo, TimeSeries};
use crate::kernel::job::{Call, Reply};
use crate::kernel::kind::{Finish, Kind};
use crate::kinds::client::WorkloadSeries;

impl World<'_> {
    /// The results document as of `end` (the run's end, or an
    /// observation window's), with `wall_s` seconds of wall time.
    pub(super) fn finish(&self, end: SimTime, wall_s: f64) -> Results {
        let m = self.m;
        let period = crate::kernel::cx::Period {
            end,
            ..self.cx.period
        };
        let fin = Finish {
            period,
            spec: self.cx.spec,
            keys: &m.keys,
        };
        let mut warnings = Vec::new();
        let mut ledger = self.cx.ledger.clone();

        // Requests still alive: timed out already (lazily) or in flight.
        // Killed jobs were counted as aborted when they failed; attempts
        // their client gave up on, as timeouts then.
        let n = m.endpoints.len();
        let mut left = Leftovers {
            in_flight: vec![0; n],
            timeouts: vec![0; n],
            timeout_marks: vec![Vec::new(); n],
            call_in_flight: 0,
        };
        for (_, job) in self.cx.jobs.iter().filter(|(_, j)| j.live && !j.killed) {
            let (workload, call) = match job.reply {
                Reply::Client { workload, call } => (workload, call),
                // A call's attempt is in flight at its endpoint (and its call
                // with the call step) once it has crossed the network: it
                // is born when it arrives, and counted there then.
                Reply::Call { .. } => {
                    if job.measured && job.born <= end {
                        left.in_flight[job.route.ep.ix()] += 1;
                        left.call_in_flight += 1;
                    }
                    continue;
                }
                // Message attempts are counted by their queue, parallel
                // branches with their parent.
                Reply::Fork(_) | Reply::Consumer { .. } => continue,
            };
            if call == Call::Settled {
                continue;
            }
            let ep = job.route.ep.ix();
            match m.workloads[workload].timeout {
                Some(t) if (end - job.born) > t => {
                    ledger.failed += 1;
                    left.timeout_marks[ep].push(job.born + t);
                    if job.measured {
                        left.timeouts[ep] += 1;
                    }
                }
                _ => {
                    ledger.in_flight += 1;
                    if job.measured {
                        left.in_flight[ep] += 1;
                    }
                }
            }
        }

        let users = self.clients.user_view();
        let services: Vec<String> = m.services.iter().map(|s| s.name.clone()).collect();
        let (endpoints, overall, all_latency) = self.endpoints.finish(
            &m.endpoints,
            &services,
            &left,
            users.as_ref(),
            &fin,
            &mut warnings,
        );
        if let Some(u) = &users {
            ledger.user_visible = Some(u.totals.clone());
        }

        let load_balancers = kind_results(&self.balancers, &m.load_balancers, &fin, &mut warnings);
        let services_results = kind_results(&self.services, &m.services, &fin, &mut warnings);
        let caches = kind_results(&self.caches, &m.caches, &fin, &mut warnings);
        let cdns = kind_results(&self.cdns, &m.cdns, &fin, &mut warnings);
        let databases = kind_results(&self.databases, &m.databases, &fin, &mut warnings);
        let queues = self.queues.finish(&fin, &mut warnings);
        let mut calls = kind_results(&self.call_states, &m.calls, &fin, &mut warnings);
        for (c, open) in calls
            .iter_mut()
            .zip(self.calls.open_measured(m.calls.len()))
        {
            c.in_flight = open;
        }

        waiting_hints(
            m,
            &services_results,
            &calls,
            fin.measured_s(),
            &mut warnings,
        );
        let cost = self.cost(&fin, ledger.completed);
        let mut endpoint_series = self.endpoints.series(
            &m.endpoints,
            &left,
            m.load_balancers.iter().any(|l| l.rate_limit.is_some()),
            &fin,
        );
        for (s, retries) in endpoint_series
            .iter_mut()
            .zip(self.clients.retries_series())
        {
            s.retries_rps = fin.per_sec(retries);
        }
        let users_series = self.endpoints.user_series(&endpoint_series, &fin);
        let time_series = TimeSeries {
            interval_s: fin.spec.interval.as_secs_f64(),
            buckets: fin.spec.buckets,
            workloads: m
                .workloads
                .iter()
                .zip(&self.workloads)
                .map(|(d, w)| WorkloadSeries {
                    name: d.name.clone(),
                    offered_rps: fin.per_sec(w.offered.values()),
                })
                .collect(),
            overall_latency: self.endpoints.overall_series(end),
            endpoints: endpoint_series,
            users: users_series,
            services: m
                .services
                .iter()
                .zip(&self.services)
                .map(|(d, s)| s.series(d, &fin))
                .collect(),
            databases: m
                .databases
                .iter()
                .zip(&self.databases)
                .map(|(d, s)| s.series(d, &fin))
                .collect(),
            caches: m
                .caches
                .iter()
                .zip(&self.caches)
                .map(|(d, c)| c.series(d))
                .collect(),
            queues: self.queues.series(&fin),
        };
        let events = self.cx.events();
        let mut results = Results {
            format_version: FORMAT_VERSION,
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: ScenarioInfo {
                name: m.name.clone(),
                description: m.description.clone(),
                seed: self.cx.seed,
                duration_s: m.duration.as_secs_f64(),
                warmup_s: period.warmup.as_secs_f64(),
                measured_s: fin.measured_s(),
            },
            engine: Engine {
                events,
                wall_time_s: wall_s,
                events_per_sec: if wall_s > 0.0 {
                    events as f64 / wall_s
                } else {
                    0.0
                },
                requests_per_sec: if wall_s > 0.0 {
                    ledger.generated as f64 / wall_s
                } else {
                    0.0
                },
                peak_jobs: self.cx.jobs.peak as u64,
            },
            totals: ledger,
            overall,
            endpoints,
            load_balancers,
            services: services_results,
            caches,
            cdns,
            databases,
            queues,
            calls,
            cost,
            time_series,
            warnings,
            topology: Default::default(),
            objectives: Vec::new(),
        };
        results.topology = self.edges.finish(m, &results, &fin, &all_latency);
        results
    }

    /// What the run cost: every component's price times what was billed,
    /// per hour, over the run, and per million requests answered.
    fn cost(&self, fin: &Finish<'_>, completed: u64) -> Cost {
        let m = self.m;
        let end = fin.end();
        let measured_h = fin.period.measured().0 as f64 / 3.6e12;
        let items = price_list(
            m,
            |s| self.services[s].billed_mean(&m.services[s], end),
            |c| {
                if measured_h > 0.0 {
                    self.cdns[c].requests() as f64 / 1e6 / measured_h
                } else {
                    0.0
                }
            },
        );
        let per_hour = per_hour(&items);
        let total = per_hour * m.duration.as_secs_f64() / 3600.0;
        Cost {
            per_hour,
            total,
            per_million_requests: if completed == 0 {
                0.0
            } else {
                total / completed as f64 * 1e6
            },
            items,
        }
    }
}

/// A busy thread-pool service whose workers mostly wait for a callee is
/// not where capacity is short: adding workers there sends more load to
/// the callee. Says so, for each service at least 85% busy, when one of
/// its call steps alone held at least half of its busy worker time (the
/// calls' number times their mean latency as the caller saw it; one step
/// runs once per request, so this is a lower bound on the waiting).
fn waiting_hints(
    m: &super::model::Model,
    services: &[crate::kinds::service::result::ServiceResult],
    calls: &[crate::kinds::call::CallResult],
    measured_s: f64,
    warnings: &mut Vec<String>,
) {
    for (def, r) in m.services.iter().zip(services) {
        if def.event_loop || r.utilisation < 0.85 || measured_s <= 0.0 {
            continue;
        }
        let pods = if r.ready_mean > 0.0 {
            r.ready_mean
        } else {
            f64::from(def.replicas)
        };
        let busy_s = r.utilisation * pods * f64::from(def.concurrency) * measured_s;
        // Call steps of this service's endpoints (`from` is "service.endpoint").
        let ours = |from: &str| {
            from.strip_prefix(def.name.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|ep| def.endpoints.iter().any(|&e| m.endpoints[e].name == ep))
        };
        let waits = m.calls.iter().zip(calls).filter(|(c, _)| ours(&c.from));
        let Some((c, waited_s)) = waits
            .map(|(c, r)| (c, r.calls as f64 * r.latency.mean_ms / 1e3))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            continue;
        };
        let share = waited_s / busy_s;
        if share >= 0.5 {
            warnings.push(format!(
                "service `{}` is {:.0}% busy, but its workers spent at least {:.0}% of that waiting for `{}` (called from `{}`): more workers here send more load there; look at `{}` first",
                def.name,
                r.utilisation * 100.0,
                share.min(1.0) * 100.0,
                c.to,
                c.from,
                m.services[c.service].name
            ));
        }
    }
}

/// The results-document entries of one kind's components, in file order.
fn kind_results<K: Kind>(
    states: &[K],
    defs: &[K::Def],
    fin: &Finish<'_>,
    warnings: &mut Vec<String>,
) -> Vec<K::Result> {
    states
        .iter()
        .zip(defs)
        .map(|(s, d)| s.finish(d, fin, warnings))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// The warnings of a front (1 pod, 4 workers, queue 10, 1000
    /// requests/s) that computes `front` and then calls a backend (1 pod,
    /// `workers`) computing `backend`.
    fn warnings(front: &str, backend: &str, workers: u32) -> Vec<String> {
        let doc = json!({
            "name": "wait", "duration": "5s",
            "workloads": [{ "name": "users", "target": "front", "rate": [{ "rps": 1000 }],
                            "mix": { "serve": 1 } }],
            "services": [{
                "name": "front", "replicas": 1, "concurrency": 4, "queue_capacity": 10,
                "endpoints": { "serve": [
                    { "compute": front },
                    { "call": { "target": "backend", "endpoint": "get" } }
                ] }
            }, {
                "name": "backend", "replicas": 1, "concurrency": workers,
                "endpoints": { "get": [{ "compute": backend }] }
            }]
        });
        let (_, model) =
            crate::load("wait.json", &doc.to_string(), &[]).unwrap_or_else(|e| panic!("{e}"));
        crate::simulate(&model)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .warnings
    }

    /// A saturated front whose workers wait for a slow backend is told to
    /// look at the backend; one saturated by its own compute, calling a
    /// fast backend, is not.
    #[test]
    fn a_busy_service_waiting_for_its_callee_points_at_it() {
        let slow = warnings("1ms", "10ms", 1);
        let hint = slow
            .iter()
            .find(|w| w.starts_with("service `front` is 100% busy"))
            .unwrap_or_else(|| panic!("{slow:?}"));
        assert!(
            hint.contains("waiting for `backend.get` (called from `front.serve`)")
                && hint.ends_with("look at `backend` first"),
            "{hint}"
        );
        // 10 ms of its own compute per request, 0.1 ms at the backend.
        let busy = warnings("10ms", "100us", 4);
        assert!(
            busy.iter()
                .any(|w| w.contains("rejected by full pod queues")),
            "{busy:?}"
        );
        assert!(!busy.iter().any(|w| w.contains("waiting for")), "{busy:?}");
    }
}
