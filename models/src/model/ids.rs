//! Typed indices of the resolved model's components and of the jobs of a
//! run. Each is a `u32` newtype that indexes a `Vec` or a slice directly
//! (`services[id]`), so a service id cannot index the caches.

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The id of position `i`.
            #[inline]
            pub fn new(i: usize) -> Self {
                $name(i as u32)
            }

            /// Its position.
            #[inline]
            pub fn ix(self) -> usize {
                self.0 as usize
            }
        }

        impl<T> std::ops::Index<$name> for [T] {
            type Output = T;
            #[inline]
            fn index(&self, i: $name) -> &T {
                &self[i.ix()]
            }
        }

        impl<T> std::ops::IndexMut<$name> for [T] {
            #[inline]
            fn index_mut(&mut self, i: $name) -> &mut T {
                &mut self[i.ix()]
            }
        }

        impl<T> std::ops::Index<$name> for Vec<T> {
            type Output = T;
            #[inline]
            fn index(&self, i: $name) -> &T {
                &self[i.ix()]
            }
        }

        impl<T> std::ops::IndexMut<$name> for Vec<T> {
            #[inline]
            fn index_mut(&mut self, i: $name) -> &mut T {
                &mut self[i.ix()]
            }
        }
    )*};
}

ids! {
    /// A workload (a client kind's entry).
    WorkloadId;
    /// A load balancer.
    LbId;
    /// A service.
    ServiceId;
    /// An endpoint of a service, numbered across all services.
    EndpointId;
    /// A cache.
    CacheId;
    /// A CDN edge.
    CdnId;
    /// A database.
    DbId;
    /// A queue.
    QueueId;
    /// A compiled program (an endpoint's or a queue's work).
    ProgramId;
    /// A job of a run: a request or a message attempt, a slot in the job slab.
    JobId;
}

/// Index of an interned key name.
pub type KeyId = usize;
