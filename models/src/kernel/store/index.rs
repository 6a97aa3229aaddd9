//! The key index of the stores: an open-addressing table (linear probing,
//! backward-shift deletion, at most half full) from a key to the slot of
//! its node, 8 bytes a slot.
//!
//! A slot holds the node's slot and the top 32 bits of the key's hash (the
//! table position is the top bits of the hash, so the table regrows and
//! deletes without reading a node); a lookup compares the full key (read
//! from the node) only when those bits match. The table is only ever
//! probed, never iterated, so its layout cannot reach results.

/// An empty table slot.
const EMPTY: Slot = Slot {
    node: u32::MAX,
    tag: 0,
};

#[derive(Clone, Copy, Debug)]
struct Slot {
    /// The node's slot; `u32::MAX`: empty.
    node: u32,
    /// The top 32 bits of the key's hash.
    tag: u32,
}

/// The top 32 bits of `key`'s hash (a folded 128-bit multiply).
#[inline]
fn tag(key: u64) -> u32 {
    let m = u128::from(key) * 0x9E37_79B9_7F4A_7C15_u128;
    (((m as u64) ^ ((m >> 64) as u64)) >> 32) as u32
}

/// Keys to node slots.
#[derive(Debug, Clone)]
pub struct KeyIndex {
    slots: Vec<Slot>,
    /// `slots.len() - 1` (a power of two, at least 2).
    mask: usize,
    /// A tag shifted right by this is its home position.
    shift: u32,
    len: usize,
}

impl KeyIndex {
    /// An empty index with room for `n` keys before it grows.
    pub fn with_capacity(n: usize) -> Self {
        let size = (n.max(1) * 2).next_power_of_two().max(2);
        KeyIndex {
            slots: vec![EMPTY; size],
            mask: size - 1,
            shift: 32 - size.trailing_zeros(),
            len: 0,
        }
    }

    /// Keys held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        // A 1-slot shift of 32 would overflow: sizes are at least 2.
        (tag >> self.shift) as usize
    }

    /// The node slot of `key`, whose node's key `key_of` reads.
    #[inline]
    pub fn get(&self, key: u64, key_of: impl Fn(u32) -> u64) -> Option<u32> {
        let t = tag(key);
        let mut i = self.home(t);
        loop {
            let s = self.slots[i];
            if s.node == u32::MAX {
                return None;
            }
            if s.tag == t && key_of(s.node) == key {
                return Some(s.node);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Indexes `key` (absent) at node slot `node`.
    #[inline]
    pub fn insert(&mut self, key: u64, node: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.place(Slot {
            node,
            tag: tag(key),
        });
        self.len += 1;
    }

    /// Puts `s` in the first empty slot from its home.
    #[inline]
    fn place(&mut self, s: Slot) {
        let mut i = self.home(s.tag);
        while self.slots[i].node != u32::MAX {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = s;
    }

    /// Twice the slots, every key placed again.
    #[cold]
    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        self.mask = size - 1;
        self.shift -= 1;
        for s in old {
            if s.node != u32::MAX {
                self.place(s);
            }
        }
    }

    /// Removes `key`, indexed at node slot `node`.
    #[inline]
    pub fn remove(&mut self, key: u64, node: u32) {
        let mut hole = self.home(tag(key));
        while self.slots[hole].node != node {
            debug_assert!(self.slots[hole].node != u32::MAX, "key not indexed");
            hole = (hole + 1) & self.mask;
        }
        // Backward shift: each later key of the run that may sit at the
        // hole (its home is not between the hole and it) moves there.
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let s = self.slots[j];
            if s.node == u32::MAX {
                break;
            }
            let home = self.home(s.tag);
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(hole) & self.mask) {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Against a std map on a random trace of inserts and removals, with
    /// dense, strided and scattered keys and growth from a tiny table.
    #[test]
    fn matches_a_map() {
        for keys in [
            (|x: u64| x % 300) as fn(u64) -> u64,
            |x| (x % 300) << 20,
            |x| sim_core::stable_hash(x % 300),
        ] {
            let mut ix = KeyIndex::with_capacity(1);
            let mut nodes: Vec<u64> = Vec::new();
            let mut map: HashMap<u64, u32> = HashMap::new();
            let mut x = 7u64;
            for _ in 0..20_000 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let k = keys(x >> 33);
                let got = ix.get(k, |n| nodes[n as usize]);
                assert_eq!(got, map.get(&k).copied());
                match got {
                    Some(n) if x & (1 << 20) != 0 => {
                        ix.remove(k, n);
                        map.remove(&k);
                    }
                    Some(_) => {}
                    None => {
                        nodes.push(k);
                        let n = (nodes.len() - 1) as u32;
                        ix.insert(k, n);
                        map.insert(k, n);
                    }
                }
                assert_eq!(ix.len(), map.len());
            }
        }
    }
}
