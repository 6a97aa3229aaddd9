//! The registry of component kinds: the one place that lists them all
//! (with the results document's root, `doc/results.rs`, and the root
//! structs `Scenario`, `Model` and `World`).
//!
//! A kind's events are its own enum; the world's event type carries each
//! kind's in one variant. Adding a kind is one line in [`Ev`] and one
//! `kind_events!` line here, plus one field in each root struct.

use crate::kernel::cx::Event;
use crate::kinds::{balancer, cache, call, cdn, client, database, queue, service};
use crate::model::ids::JobId;

/// Every scheduled event of a run. Each variant carries only indices and
/// small numbers (it is `Copy`); matched exhaustively by the world.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// A job's delay elapsed (compute, a cache round trip, a publish's
    /// acknowledgement) or a worker took it: its program goes on.
    Resume(JobId),
    /// The warm-up ends: statistics restart.
    Warmup,
    /// The observation window ends: component figures are taken now.
    WindowEnd,
    /// A scheduled fault starts.
    Fault(u32),
    /// A scheduled fault's window (`for`) ends.
    FaultEnd(u32),
    /// A client's event (arrivals, timeouts, retries).
    Client(client::Ev),
    /// A balancer's event (dispatch after its latency, health checks).
    Balancer(balancer::Ev),
    /// A service's event (pods coming and going, the autoscaler).
    Service(service::Ev),
    /// A cache's event (lock timeouts, node failures).
    Cache(cache::Ev),
    /// A CDN edge's event (a hit reaching its client).
    Cdn(cdn::Ev),
    /// A database's event (statements ending, shard failures).
    Database(database::Ev),
    /// A queue's event (consumers, retries, rebalances).
    Queue(queue::Ev),
    /// A service call's event (arrivals after the round trip, timeouts,
    /// retries).
    Call(call::Ev),
}

impl Event for Ev {
    #[inline]
    fn resume(job: JobId) -> Ev {
        Ev::Resume(job)
    }
}

/// `impl From<kind::Ev> for Ev` for every kind, so that a kind schedules
/// its own events with `cx.at(t, kind::Ev::...)`.
macro_rules! kind_events {
    ($($variant:ident: $kind:ident),* $(,)?) => {$(
        impl From<$kind::Ev> for Ev {
            #[inline]
            fn from(e: $kind::Ev) -> Ev {
                Ev::$variant(e)
            }
        }
    )*};
}

kind_events! {
    Client: client,
    Balancer: balancer,
    Service: service,
    Cache: cache,
    Cdn: cdn,
    Database: database,
    Queue: queue,
    Call: call,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event fits in 16 bytes (the queue's heap entries stay 32 bytes):
    /// the kinds' events nest without growing it.
    #[test]
    fn an_event_is_small() {
        assert!(
            std::mem::size_of::<Ev>() <= 16,
            "{}",
            std::mem::size_of::<Ev>()
        );
    }
}
