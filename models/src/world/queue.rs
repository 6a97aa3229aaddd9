//! Queues: publishing to a partition and consumers taking messages.

use sim_core::SimTime;

use super::{Ev, Job, NONE, Owner, World};

impl World<'_> {
    pub(super) fn publish(&mut self, j: u32, queue: usize, key: Option<usize>) {
        let now = self.now();
        let def = &self.m.queues[queue];
        let np = def.partitions as usize;
        let part = match key {
            Some(k) => (sim_core::stable_hash(self.key(j, k)) % np as u64) as usize,
            None => {
                let t = &mut self.topics[queue];
                t.rr = (t.rr + 1) % np;
                t.rr
            }
        };
        let stride = 1 + self.nkeys;
        let base = j as usize * self.nkeys;
        let t = &mut self.topics[queue];
        let p = &mut t.partitions[part];
        if (p.msgs.len() / stride) as u64 >= def.retention {
            p.msgs.drain(..stride);
            t.dropped += 1;
            t.lag -= 1;
        }
        p.msgs.push_back(now);
        p.msgs.extend(&self.job_keys[base..base + self.nkeys]);
        p.published += 1;
        t.published += 1;
        t.lag += 1;
        t.lag_tw.set(SimTime(now), t.lag as f64);
        t.lag_series.set(SimTime(now), t.lag as f64);
        let owner = t.owner[part];
        if owner != NONE && !t.consumers[owner as usize].busy {
            self.start_consumer(queue, owner as usize);
        }
    }

    /// An idle consumer takes the next message from its partitions, in turn.
    pub(super) fn start_consumer(&mut self, queue: usize, c: usize) {
        let now = self.now();
        let stride = 1 + self.nkeys;
        let t = &mut self.topics[queue];
        let cons = &mut t.consumers[c];
        let n = cons.partitions.len();
        for k in 0..n {
            let pi = cons.partitions[(cons.next + k) % n] as usize;
            if t.partitions[pi].msgs.is_empty() {
                continue;
            }
            cons.next = (cons.next + k + 1) % n;
            cons.busy = true;
            cons.busy_tw.set(SimTime(now), 1.0);
            let published = t.partitions[pi].msgs.pop_front().expect("non-empty");
            let program = self.m.queues[queue].program as u32;
            let j = self.alloc(Job {
                owner: Owner::Message {
                    queue: queue as u32,
                    consumer: c as u32,
                },
                program,
                pc: 0,
                born: published,
                wait_from: now,
                fanout: 0,
                measured: published >= self.warmup && published < self.measure_end,
                live: true,
                killed: false,
            });
            let base = j as usize * self.nkeys;
            let msgs = &mut self.topics[queue].partitions[pi].msgs;
            for (slot, v) in self.job_keys[base..base + self.nkeys]
                .iter_mut()
                .zip(msgs.drain(..stride - 1))
            {
                *slot = v;
            }
            self.q.push(SimTime(now), Ev::Resume(j));
            return;
        }
    }
}
