//! The event queue: a priority queue keyed by `(time, sequence number)`.
//!
//! Ordering guarantee: events fire in increasing time; events scheduled for
//! the same instant fire in the order they were scheduled (first in, first
//! out), because each push takes the next value of an insertion counter.
//! The order therefore never depends on the queue's internal layout, and
//! two runs that schedule the same events in the same order pop them in the
//! same order.
//!
//! Layout (for speed; the order is exactly that of a binary heap on
//! `(time, seq)`):
//!
//! - events for a later instant go to a 4-ary min-heap on `(time, seq)`:
//!   half as deep as a binary heap, its four children side by side in
//!   memory, a key compared as one 128-bit number. Nodes hold the event
//!   itself: the simulator's events are 16 bytes (`Copy`), so a node is 32
//!   bytes, and keeping the events apart in a slab measured slower (the
//!   slot bookkeeping costs more than the bytes it saves moving). The
//!   heap's memory is that of the most events ever pending at once;
//! - events for the current instant (`at <= now`, common: a job resumed
//!   at once) go to a first-in first-out list and never touch the heap.
//!   They pop after the heap's events for the same instant: those were
//!   scheduled while the clock was still earlier, so they have smaller
//!   sequence numbers. The clock only moves on once that list is empty.

use std::collections::VecDeque;

use crate::time::SimTime;

/// Children per heap node.
const ARITY: usize = 4;

/// A heap node: the key and the event.
#[derive(Debug, Clone, Copy)]
struct Node<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> Node<E> {
    /// The key `(time, seq)` as one number, compared without branches.
    #[inline(always)]
    fn key(&self) -> u128 {
        (u128::from(self.time.0) << 64) | u128::from(self.seq)
    }
}

/// Scheduling an event before the current time is refused, not silently
/// reordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot schedule an event at {at} before the current time {now}")]
pub struct ScheduleInPast {
    /// The requested instant.
    pub at: SimTime,
    /// The queue's current time.
    pub now: SimTime,
}

/// A deterministic future-event list.
#[derive(Debug, Clone)]
pub struct EventQueue<E> {
    /// Events after `now`: a 4-ary min-heap on `(time, seq)`.
    heap: Vec<Node<E>>,
    /// Events at `now`, in the order they were scheduled.
    fifo: VecDeque<E>,
    next_seq: u64,
    now: SimTime,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: Vec::new(),
            fifo: VecDeque::new(),
            next_seq: 0,
            now: SimTime::ZERO,
            popped: 0,
        }
    }

    /// The time of the last popped event (zero before the first pop).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`. Fails if `at` is before [`now`](Self::now).
    pub fn schedule(&mut self, at: SimTime, event: E) -> Result<(), ScheduleInPast> {
        if at < self.now {
            return Err(ScheduleInPast { at, now: self.now });
        }
        self.push(at, event);
        Ok(())
    }

    /// Schedules `event` at `max(at, now)`. Use where the caller computed
    /// `at` from the current time and so cannot be in the past.
    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        if at <= self.now {
            self.fifo.push_back(event);
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.sift_up(Node {
            time: at,
            seq,
            event,
        });
    }

    /// Removes and returns the earliest event, advancing the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        // Heap events at `now` were scheduled before any of the list's.
        let heap_first = self.heap.first().is_some_and(|n| n.time == self.now);
        if !heap_first && let Some(event) = self.fifo.pop_front() {
            self.popped += 1;
            return Some((self.now, event));
        }
        let node = self.pop_node()?;
        self.now = node.time;
        self.popped += 1;
        Some((node.time, node.event))
    }

    /// The time of the earliest pending event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if self.fifo.is_empty() {
            self.heap.first().map(|n| n.time)
        } else {
            Some(self.now)
        }
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.fifo.len()
    }

    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.fifo.is_empty()
    }

    /// Number of events popped so far.
    pub fn events_processed(&self) -> u64 {
        self.popped
    }

    /// Adds `node` to the heap: a hole climbs from the new leaf while its
    /// parent fires after `node`.
    #[inline]
    fn sift_up(&mut self, node: Node<E>) {
        let key = node.key();
        let mut i = self.heap.len();
        self.heap.push(node);
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if key >= self.heap[parent].key() {
                break;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }

    /// Removes the heap's root: the last leaf fills the hole, which sinks
    /// while one of its children fires before it.
    #[inline]
    fn pop_node(&mut self) -> Option<Node<E>> {
        let n = self.heap.len();
        if n <= 1 {
            return self.heap.pop();
        }
        let top = self.heap.swap_remove(0);
        let n = n - 1;
        let key = self.heap[0].key();
        let mut i = 0;
        loop {
            let first = i * ARITY + 1;
            let best = if first + ARITY <= n {
                // Four children: a branch-free tournament.
                let kids = &self.heap[first..first + ARITY];
                let a = usize::from(kids[1].key() < kids[0].key());
                let b = 2 + usize::from(kids[3].key() < kids[2].key());
                first + if kids[b].key() < kids[a].key() { b } else { a }
            } else if first < n {
                let mut best = first;
                for k in first + 1..n {
                    if self.heap[k].key() < self.heap[best].key() {
                        best = k;
                    }
                }
                best
            } else {
                break;
            };
            if self.heap[best].key() >= key {
                break;
            }
            self.heap.swap(i, best);
            i = best;
        }
        Some(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn ties_are_fifo() {
        let mut q = EventQueue::new();
        for i in 0..100 {
            q.push(SimTime(5), i);
        }
        let got: Vec<i32> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn scheduling_in_the_past_is_an_error() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), ());
        q.pop();
        assert_eq!(
            q.schedule(SimTime(3), ()),
            Err(ScheduleInPast {
                at: SimTime(3),
                now: SimTime(10)
            })
        );
        assert!(q.schedule(SimTime(10), ()).is_ok());
    }

    /// An event scheduled at the current instant fires after the events
    /// scheduled earlier for that same instant, and before later ones.
    #[test]
    fn an_event_for_now_follows_those_scheduled_earlier_for_now() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), "a");
        q.push(SimTime(10), "b");
        q.push(SimTime(11), "later");
        assert_eq!(q.pop(), Some((SimTime(10), "a")));
        q.push(SimTime(10), "now");
        q.push(SimTime(3), "past, so now");
        assert_eq!(q.peek_time(), Some(SimTime(10)));
        assert_eq!(q.len(), 4);
        let got: Vec<(u64, &str)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
        assert_eq!(
            got,
            [(10, "b"), (10, "now"), (10, "past, so now"), (11, "later")]
        );
    }

    /// Memory follows the events pending, not the events ever scheduled:
    /// 100,000 holds on 100 pending events keep the heap at 100 nodes.
    #[test]
    fn memory_is_bounded_by_the_events_pending_at_once() {
        let mut q = EventQueue::new();
        for i in 0..100u64 {
            q.push(SimTime(1 + i * 7 % 100), i);
        }
        for i in 0..100_000u64 {
            let (t, _) = q.pop().expect("pending");
            q.push(t + crate::time::SimDuration(1 + i * 7919 % 1000), i);
        }
        assert_eq!(q.len(), 100);
        assert!(q.heap.capacity() <= 128, "{}", q.heap.capacity());
        assert!(q.fifo.capacity() <= 128, "{}", q.fifo.capacity());
    }

    /// One step of a random workout.
    #[derive(Debug, Clone)]
    enum Op {
        /// Schedule at `now + delta` (a delta of 0 is the current instant).
        Push(u64),
        /// Schedule at `now - back` (clamped to now).
        PushPast(u64),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..4).prop_map(Op::Push),
            1 => (1u64..4).prop_map(Op::PushPast),
            4 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// Pops come out sorted by (time, insertion order), whatever the input.
        #[test]
        fn pops_in_time_then_insertion_order(times in proptest::collection::vec(0u64..50, 0..300)) {
            let mut q = EventQueue::new();
            for (i, t) in times.iter().enumerate() {
                q.push(SimTime(*t), i);
            }
            let mut expected: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
            expected.sort();
            let got: Vec<(u64, usize)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
            prop_assert_eq!(got, expected);
        }

        /// Any interleaving of pushes (many at the current instant or in
        /// the past) and pops gives the same pops, times, lengths and clock
        /// as a plain binary heap on (time, insertion counter).
        #[test]
        fn matches_a_binary_heap_on_time_and_insertion_order(ops in proptest::collection::vec(op(), 0..400)) {
            let mut q = EventQueue::new();
            let mut model: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::new();
            let mut model_now = 0u64;
            for (id, op) in (0u64..).zip(&ops) {
                match *op {
                    Op::Push(delta) => {
                        q.push(SimTime(model_now + delta), id);
                        model.push(Reverse((model_now + delta, id)));
                    }
                    Op::PushPast(back) => {
                        q.push(SimTime(model_now.saturating_sub(back)), id);
                        model.push(Reverse((model_now, id)));
                    }
                    Op::Pop => {
                        let want = model.pop().map(|Reverse(k)| k);
                        if let Some((t, _)) = want {
                            model_now = t;
                        }
                        prop_assert_eq!(q.pop().map(|(t, e)| (t.0, e)), want);
                    }
                }
                prop_assert_eq!(q.peek_time().map(|t| t.0), model.peek().map(|Reverse((t, _))| *t));
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.is_empty(), model.is_empty());
                prop_assert_eq!(q.now().0, model_now);
            }
            let rest: Vec<(u64, u64)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
            let want: Vec<(u64, u64)> = std::iter::from_fn(|| model.pop().map(|Reverse(k)| k)).collect();
            prop_assert_eq!(rest, want);
        }
    }
}
