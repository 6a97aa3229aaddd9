//! How a request attempt ended, as whoever sent it sees it: answered,
//! timed out, or an error answer (503, 502, 429). Clients and service calls
//! both decide on it (retry, count, settle).

/// How an attempt ended, as its client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered in time; `latency` is the attempt's, ns.
    Ok {
        /// From sending the attempt to the answer, ns.
        latency: u64,
    },
    /// The client's timeout expired first.
    Timeout,
    /// The system answered with an error.
    Failed(Failure),
}

/// An error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Refused: a full queue, a balancer's connection limit, no ready pod
    /// (HTTP 503).
    Rejected,
    /// Failed in flight: its pod crashed, or a dependency failed (HTTP 502).
    Aborted,
    /// Refused by a rate limiter (HTTP 429).
    RateLimited,
    /// A call it made to another service timed out (HTTP 504); counted
    /// with timeouts, and retried as one.
    TimedOut,
}
