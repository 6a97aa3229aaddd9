//! Jobs: requests and queue messages in flight, in a slab whose free
//! slots are reused.

/// "No index" in a job's fields.
pub const NONE: u32 = u32::MAX;

/// Whom a job works for.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// A request of a workload.
    Request {
        /// Its workload.
        workload: u32,
        /// Its endpoint.
        ep: u32,
        /// The service that executes it.
        service: u32,
        /// The pod it runs on (`NONE` before dispatch).
        pod: u32,
        /// The balancer it passed (`NONE`: none, or left).
        lb: u32,
    },
    /// A queue message's attempt, run by a consumer.
    Message {
        /// The queue.
        queue: u32,
        /// The consumer.
        consumer: u32,
    },
}

/// A request or a message attempt in flight.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// Whom it works for.
    pub owner: Owner,
    /// The program it runs.
    pub program: u32,
    /// The next instruction.
    pub pc: u32,
    /// When it was born, ns.
    pub born: u64,
    /// When it began to wait for a worker, ns.
    pub wait_from: u64,
    /// Database statements of the job still running: 1 for a read or
    /// write, one per shard for a scatter; the program continues at 0.
    pub fanout: u32,
    /// Counted in the statistics (born in the measured period).
    pub measured: bool,
    /// Its slot is in use.
    pub live: bool,
    /// Its pod crashed: already counted as failed; released at its next
    /// event without running further.
    pub killed: bool,
    /// The client call it is an attempt of: `NONE` for requests without
    /// client state, `SETTLED` once the client has its outcome (a
    /// timed-out attempt the system still works on).
    pub call: u32,
}
