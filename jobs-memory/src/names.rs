//! Interned kind and queue names.
//!
//! A store holds a handful of distinct kind and queue names but up to
//! millions of jobs, so each job refers to its names by a small number and
//! each name is stored once. Names are never forgotten: their number is
//! bounded by the kinds and queues a program uses.

use std::sync::Arc;

/// The number of an interned name.
pub(crate) type NameId = u32;

/// A table of distinct names.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Hashed with foldhash: looked up on every fetch, where SipHash took
    /// 350 instructions of a one-job claim.
    ids: foldhash::HashMap<Arc<str>, NameId>,
    names: Vec<Arc<str>>,
    /// The name interned last: batches mostly repeat one kind and queue,
    /// and a fetch mostly asks for the names just stored, so comparing
    /// with it first saves hashing.
    last: NameId,
}

impl Names {
    /// The number of `name`, adding it if it is new.
    pub(crate) fn intern(&mut self, name: &str) -> NameId {
        if self.is_last(name) {
            return self.last;
        }
        if let Some(&id) = self.ids.get(name) {
            self.last = id;
            return id;
        }
        // Four billion distinct names would exhaust memory long before the
        // counter, so saturating here is unreachable in practice.
        let id = NameId::try_from(self.names.len()).unwrap_or(NameId::MAX);
        let name: Arc<str> = Arc::from(name);
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        self.last = id;
        id
    }

    /// The number of `name`, if it was ever interned.
    pub(crate) fn get(&self, name: &str) -> Option<NameId> {
        if self.is_last(name) {
            return Some(self.last);
        }
        self.ids.get(name).copied()
    }

    /// Whether `name` is the name interned last.
    fn is_last(&self, name: &str) -> bool {
        self.names
            .get(self.last as usize)
            .is_some_and(|last| **last == *name)
    }

    /// The name with number `id`.
    ///
    /// Ids only come from [`intern`](Self::intern) on this table, so the
    /// fallback (an empty name) is never observed.
    pub(crate) fn name(&self, id: NameId) -> &Arc<str> {
        static EMPTY: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from(""));
        self.names.get(id as usize).unwrap_or(&EMPTY)
    }

    /// How many names are interned; their ids are `0..len`.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_twice_gives_the_same_id() {
        let mut names = Names::default();
        let a = names.intern("default");
        let b = names.intern("critical");
        assert_ne!(a, b);
        assert_eq!(names.intern("default"), a);
        // the last interned name, then one only the table knows
        assert_eq!(names.get("default"), Some(a));
        assert_eq!(names.get("critical"), Some(b));
        assert_eq!(names.get("unknown"), None);
        assert_eq!(Names::default().get("default"), None);
        assert_eq!(&**names.name(b), "critical");
        assert_eq!(names.len(), 2);
    }
}
