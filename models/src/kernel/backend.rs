//! What a balancer sees of the pods behind it. Services implement it for
//! their pods; balancers pick among them without knowing the service.

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
