//! The engine's sessions, kept in one vector in the order they were added and found by id
//! through an index. Every tick visits them all: in insertion order their states, allocated
//! one after another, are walked roughly in address order, which the caches and prefetcher
//! reward; a hash map's bucket order is random. (At 1,000 sessions the per-tick working set
//! is several megabytes, so the walk is bound by memory, not by arithmetic.)

use std::collections::HashMap;

pub(super) struct Slots<T> {
    list: Vec<(u64, T)>,
    index: HashMap<u64, usize>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            list: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T> Slots<T> {
    pub(super) fn insert(&mut self, id: u64, value: T) {
        match self.index.get(&id) {
            Some(&i) => self.list[i].1 = value,
            None => {
                self.index.insert(id, self.list.len());
                self.list.push((id, value));
            }
        }
    }

    pub(super) fn remove(&mut self, id: &u64) -> Option<T> {
        let i = self.index.remove(id)?;
        let (_, value) = self.list.swap_remove(i);
        if let Some((moved, _)) = self.list.get(i) {
            self.index.insert(*moved, i);
        }
        Some(value)
    }

    pub(super) fn get(&self, id: &u64) -> Option<&T> {
        self.index.get(id).map(|&i| &self.list[i].1)
    }

    pub(super) fn get_mut(&mut self, id: &u64) -> Option<&mut T> {
        self.index.get(id).map(|&i| &mut self.list[i].1)
    }

    pub(super) fn contains_key(&self, id: &u64) -> bool {
        self.index.contains_key(id)
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.list.iter_mut().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_keeps_every_other_id_reachable() {
        let mut s = Slots::default();
        for id in 0..5u64 {
            s.insert(id, id * 10);
        }
        assert_eq!(s.remove(&1), Some(10));
        assert_eq!(s.remove(&1), None);
        assert_eq!(s.remove(&4), Some(40));
        for id in [0u64, 2, 3] {
            assert_eq!(s.get(&id), Some(&(id * 10)));
        }
        s.insert(2, 99);
        assert_eq!(s.get_mut(&2), Some(&mut 99));
        assert!(!s.contains_key(&4));
        assert_eq!(s.values_mut().count(), 3);
    }
}
