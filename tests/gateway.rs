//! The gateway's token-bucket rate limiter (HTTP 429) and user sessions
//! kept locally or externally.
//!
//! A token bucket gains r tokens per second up to b; a request takes one or
//! is refused. Over a run of T seconds the tokens spent are at most the
//! initial bucket plus what was gained: admitted ≤ b + rT. Offered more
//! than r, the bucket is empty almost all the time, so hardly a token is
//! wasted on a full bucket and admitted ≥ rT − (a few tokens): the admitted
//! count is rT within b. Offered well below r (ρ = λ/r), refusals need a
//! run of b more arrivals than tokens, a probability that decays like
//! ρ^b-ish — zero in practice for b = 100.
//!
//! Sessions: with local sessions behind round robin over k pods, a
//! returning user's request lands on the pod holding the session with
//! probability 1/k (the request's turn is unrelated to the user), so
//! (k − 1)/k of the requests with a live session lose it; behind a hash
//! balancer on the session key none do, until a pod dies.

use models::Results;
use serde_json::{Value, json};

fn run(v: &Value) -> Results {
    let text = serde_json::to_string_pretty(v).unwrap();
    let (_, model) = models::load("gateway.json", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
    models::simulate(&model).unwrap_or_else(|e| panic!("{e}"))
}

fn ep<'a>(r: &'a Results, name: &str) -> &'a models::EndpointResult {
    r.endpoints.iter().find(|e| e.name == name).expect(name)
}

/// Every generated request ends in exactly one outcome, 429s included.
fn ledger_closes(r: &Results) {
    let t = &r.totals;
    assert_eq!(
        t.generated,
        t.completed + t.failed + t.rejected + t.aborted + t.rate_limited + t.in_flight,
        "{t:?}"
    );
}

/// `rps` of Poisson traffic for `secs` (no warm-up) through a balancer with
/// `rate_limit` to 8 pods that are never the bottleneck (5 ms, 50 workers).
fn limited(rps: f64, secs: u64, rate_limit: Value) -> Value {
    json!({
        "name": "gateway",
        "duration": format!("{secs}s"),
        "workloads": [{"name": "users", "target": "gw", "rate": [{"rps": rps}],
                       "mix": {"get": 1},
                       "keys": {"user_id": {"uniform": {"n": 10}}}}],
        "load_balancers": [{"name": "gw", "target": "app", "rate_limit": rate_limit}],
        "services": [{"name": "app", "replicas": 8, "concurrency": 50,
                      "endpoints": {"get": [{"compute": {"constant": "5ms"}}]}}]
    })
}

/// Offered 2000/s against a global 1000/s bucket of 50 for 60 s: admitted
/// = 60,000 within the bucket of 50 (see the module comment), half refused.
/// The refused never reach a pod.
#[test]
fn a_global_bucket_admits_its_rate_and_refuses_the_rest() {
    let r = run(&limited(
        2000.0,
        60,
        json!({"requests_per_second": 1000, "burst": 50}),
    ));
    let e = &r.overall;
    let admitted = e.count - e.rate_limited;
    assert!(
        (59_990..=60_050).contains(&admitted),
        "admitted {admitted} of {}",
        e.count
    );
    assert_eq!(r.load_balancers[0].rate_limited, e.rate_limited);
    assert_eq!(r.totals.rate_limited, e.rate_limited);
    assert_eq!(r.services[0].requests, admitted, "429s use no pod");
    assert_eq!(e.errors, 0, "429s are not errors");
    let series = &r.time_series.endpoints[0].rate_limited_rps;
    let mid = series[series.len() / 2];
    assert!((mid - 1000.0).abs() < 200.0, "429/s mid-run {mid}");
    ledger_closes(&r);
}

/// Offered 80% of the rate with a bucket of 100: nothing is refused.
#[test]
fn below_the_rate_nothing_is_refused() {
    let r = run(&limited(
        800.0,
        60,
        json!({"requests_per_second": 1000, "burst": 100}),
    ));
    assert_eq!(r.overall.rate_limited, 0);
    assert!(r.overall.count > 45_000);
}

/// 10 users at 100/s each against 50/s per user with a bucket of 20: each
/// user's bucket admits 50/s, so 60 s admit 10 × (50 × 60) = 30,000 within
/// 10 × 20 (module comment, per bucket).
#[test]
fn per_key_buckets_limit_each_user_to_the_rate() {
    let r = run(&limited(
        1000.0,
        60,
        json!({"requests_per_second": 50, "burst": 20, "key": "user_id"}),
    ));
    let admitted = r.overall.count - r.overall.rate_limited;
    assert!(
        (29_900..=30_200).contains(&admitted),
        "admitted {admitted} of {}",
        r.overall.count
    );
    ledger_closes(&r);
}

/// One abusive client (500/s) among ordinary users (500/s in all, each a
/// few requests: here a new user id per request): a per-user limit of
/// 10/s (burst 20) refuses 490/s of the abuser and none of the others; a
/// global limit of 600/s refuses 40% of everybody's requests, ordinary
/// users included.
#[test]
fn a_per_key_limit_stops_the_abuser_and_no_one_else() {
    let scenario = |rate_limit: Value| {
        json!({
            "name": "abuse",
            "duration": "40s",
            "warmup": "10s",
            "workloads": [
                {"name": "abuser", "target": "gw", "rate": [{"rps": 500}],
                 "mix": {"scrape": 1}, "keys": {"user_id": {"uniform": {"n": 1}}}},
                {"name": "users", "target": "gw", "rate": [{"rps": 500}],
                 "mix": {"browse": 1},
                 "keys": {"user_id": {"sequential": {"start": 1000}}}}
            ],
            "load_balancers": [{"name": "gw", "target": "app", "rate_limit": rate_limit}],
            "services": [{"name": "app", "replicas": 4, "concurrency": 50,
                          "endpoints": {"scrape": [{"compute": {"constant": "5ms"}}],
                                        "browse": [{"compute": {"constant": "5ms"}}]}}]
        })
    };
    let r = run(&scenario(
        json!({"requests_per_second": 10, "burst": 20, "key": "user_id"}),
    ));
    let (scrape, browse) = (ep(&r, "scrape"), ep(&r, "browse"));
    assert_eq!(browse.rate_limited, 0, "{browse:?}");
    // Measured 30 s: the abuser's bucket is empty after the warm-up, so it
    // gets 10/s: 300 ± a few of about 15,000.
    let through = scrape.count - scrape.rate_limited;
    assert!((295..=325).contains(&through), "abuser admitted {through}");
    ledger_closes(&r);

    let r = run(&scenario(json!({"requests_per_second": 600, "burst": 600})));
    let browse = ep(&r, "browse");
    let refused = browse.rate_limited as f64 / browse.count as f64;
    assert!(
        (refused - 0.4).abs() < 0.02,
        "ordinary users refused {refused}"
    );
}

/// Same scenario, same seed: the same bytes, refusals included.
#[test]
fn rate_limiting_is_deterministic() {
    let v = limited(
        1500.0,
        20,
        json!({"requests_per_second": 40, "burst": 5, "key": "user_id"}),
    );
    let a = serde_json::to_string(&run(&v).without_engine()).unwrap();
    let b = serde_json::to_string(&run(&v).without_engine()).unwrap();
    assert_eq!(a, b);
}

// ---------------------------------------------------------------- sessions

/// 2,000 users (uniform) at 1000/s for 60 s on 4 pods with `balancer`
/// and `sessions`; `faults` as given.
fn sessions(balancer: Value, sessions: Value, faults: Value) -> Value {
    let mut lb = json!({"name": "lb", "target": "app",
                        "health_check": {"interval": "2s"}});
    for (k, v) in balancer.as_object().unwrap() {
        lb[k] = v.clone();
    }
    json!({
        "name": "sessions",
        "duration": "60s",
        "workloads": [{"name": "users", "target": "lb", "rate": [{"rps": 1000}],
                       "mix": {"page": 1},
                       "keys": {"user_id": {"uniform": {"n": 2000}}}}],
        "load_balancers": [lb],
        "services": [{"name": "app", "replicas": 4, "concurrency": 50,
                      "restart_delay": "5s",
                      "sessions": sessions,
                      "endpoints": {"page": [{"compute": {"constant": "5ms"}}]}}],
        "faults": faults
    })
}

fn session_result(r: &Results) -> &models::SessionResult {
    r.services[0].sessions.as_ref().expect("sessions")
}

/// Sticky (hash on the session key) balancing with no failure: no session
/// is lost; every user's first request creates one (2,000 users at 0.5/s
/// each over 60 s: each is seen, P(unseen) = e^−30).
#[test]
fn sticky_balancing_keeps_local_sessions() {
    let r = run(&sessions(
        json!({"policy": "hash", "hash_key": "user_id", "consistent": true}),
        json!({"store": "local", "key": "user_id"}),
        json!([]),
    ));
    let s = session_result(&r);
    assert_eq!((s.lost, s.created), (0, 2000), "{s:?}");
    assert_eq!(s.created + s.resumed, r.services[0].requests);
}

/// Round robin over 4 pods: a returning user finds the pod with its
/// session 1 time in 4, so 3/4 of the requests with a live session lose
/// it (~58,000 of them: binomial sd 0.002, tolerance 0.01), all to
/// routing.
#[test]
fn round_robin_loses_three_local_sessions_in_four() {
    let r = run(&sessions(
        json!({"policy": "round_robin"}),
        json!({"store": "local", "key": "user_id"}),
        json!([]),
    ));
    let s = session_result(&r);
    assert!((s.loss_rate - 0.75).abs() < 0.01, "{s:?}");
    assert_eq!((s.lost_with_pod, s.lost), (0, s.lost_to_routing));
}

/// A pod killed at 20 s behind a consistent-hash balancer: its users (about
/// a quarter of 2,000: its ring share, 160 points per pod, is 1/4 ± 8%)
/// lose their sessions once when the balancer moves them, and once more
/// when the restarted pod takes them back from the pod that served them
/// meanwhile. External sessions lose none and cost their round trip on
/// every request.
#[test]
fn a_pod_death_loses_its_local_sessions_and_no_external_ones() {
    let kill = json!([{"at": "20s", "kill_pods": {"service": "app", "count": 1}}]);
    let sticky = json!({"policy": "hash", "hash_key": "user_id", "consistent": true});
    let r = run(&sessions(
        sticky.clone(),
        json!({"store": "local", "key": "user_id"}),
        kill.clone(),
    ));
    let s = session_result(&r);
    assert!(
        (350..=650).contains(&s.lost_with_pod),
        "a quarter of the users: {s:?}"
    );
    assert!(
        (350..=650).contains(&s.lost_to_routing),
        "the same users moved back: {s:?}"
    );
    assert!(r.overall.aborted > 0, "requests sent to the dead pod fail");
    let lost = &r.time_series.services[0].sessions_lost_per_s;
    let before: f64 = lost[..19].iter().sum();
    assert_eq!(before, 0.0, "{lost:?}");
    ledger_closes(&r);

    let r = run(&sessions(
        sticky,
        json!({"store": "external", "key": "user_id",
               "latency": {"constant": "2ms"}}),
        kill,
    ));
    let s = session_result(&r);
    assert_eq!(s.lost, 0, "{s:?}");
    // 5 ms of work plus the 2 ms round trip, no queueing at this load.
    let mean = r.overall.latency.mean_ms;
    assert!((mean - 7.0).abs() < 0.05, "mean {mean} ms");
}

/// Clients that retry a 429 come back after their backoff: the limiter
/// still admits its rate (60,000 in 60 s, within the bucket of 50), the
/// retries are refused or admitted like first attempts, and users see a
/// 429 only when every attempt got one.
#[test]
fn retried_429s_pass_the_same_bucket() {
    let mut v = limited(
        2000.0,
        60,
        json!({"requests_per_second": 1000, "burst": 50}),
    );
    v["workloads"][0]["retry"] = json!({"max_attempts": 3, "retry_on": ["429"],
                                        "backoff": {"base_interval": "10ms"}});
    let r = run(&v);
    let e = &r.overall;
    let admitted = e.count - e.rate_limited;
    assert!((59_990..=60_050).contains(&admitted), "admitted {admitted}");
    assert!(e.retries > 0, "{e:?}");
    let u = e.user_visible.as_ref().expect("user-visible figures");
    assert_eq!(e.count, u.requests + e.retries);
    assert!(u.rate_limited < e.rate_limited, "{u:?}");
    ledger_closes(&r);
}
