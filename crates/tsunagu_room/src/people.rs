//! What the room keeps to hold its decisions about people for the meetup —
//! a removal, a quiet, a kept place — against someone who restarts, deletes
//! their settings or patches their client: never who they are, only where
//! they come from (an installation's random number, the transport's opaque
//! address key) and how their name looks. Every list is bounded; all of it
//! lives in memory and is forgotten with the room.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tsunagu_protocol::{EventKind, Hello, nickname_key};

use crate::limits::EventLimiter;

/// How the room tells people apart without knowing them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Who {
    /// The installation's random number from `Hello.device` (0: none).
    pub device: u64,
    /// The transport's opaque key for the address the connection came from
    /// (0: unknown). A hospital's NAT gives a whole ward one.
    pub address: u64,
    /// The name as it is compared ([`nickname_key`]).
    pub name_key: String,
}

impl Who {
    /// Who sent `hello` from `address`.
    pub fn of(hello: &Hello, address: u64) -> Who {
        Who { device: hello.device, address, name_key: nickname_key(&hello.nickname) }
    }

    /// The same installation (both sent a number, the same one).
    pub fn same_device(&self, other: &Who) -> bool {
        self.device != 0 && self.device == other.device
    }

    /// The same address (both known, the same one).
    pub fn same_address(&self, other: &Who) -> bool {
        self.address != 0 && self.address == other.address
    }

    /// Whether a decision about `self` holds for `other`: the same
    /// installation, or the same name from the same address (a restart with
    /// a fresh settings file). A new name from a new installation at the same
    /// address is not caught here: after a removal it waits for staff, who
    /// are told it comes from the same network ([`crate::Room::wait_if_needed`]).
    pub fn matches(&self, other: &Who) -> bool {
        self.same_device(other) || (self.same_address(other) && self.name_key == other.name_key)
    }
}

/// A bounded list, oldest first: past `limit` the oldest entry goes.
#[derive(Clone, Debug)]
pub struct Bounded<T> {
    items: VecDeque<T>,
    limit: usize,
}

impl<T> Bounded<T> {
    /// An empty list that holds at most `limit`.
    pub fn new(limit: usize) -> Self {
        Bounded { items: VecDeque::new(), limit }
    }

    /// Add `item`; returns the oldest one if it had to go.
    pub fn push(&mut self, item: T) -> Option<T> {
        let dropped = if self.items.len() >= self.limit { self.items.pop_front() } else { None };
        self.items.push_back(item);
        dropped
    }

    /// Keep only what `keep` says; returns how many went.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) -> usize {
        let before = self.items.len();
        self.items.retain(keep);
        before - self.items.len()
    }

    /// The entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.items.clear();
    }
}

/// How many times one person's allowance an address gets: a ward behind one
/// NAT chats together, one machine with many connections does not get a
/// connection's allowance each.
pub const ADDRESS_ALLOWANCE: f64 = 4.0;

/// Event allowances per installation and per address, not per connection:
/// rejoining or opening more connections refills nothing. Kept while the
/// room lives (bounded: idle allowances, which would be full again anyway,
/// are forgotten first).
#[derive(Default)]
pub struct Allowances {
    by_device: HashMap<u64, EventLimiter>,
    by_address: HashMap<u64, EventLimiter>,
}

/// Most allowances kept per kind of key before idle ones are forgotten.
const ALLOWANCES_KEPT: usize = 512;
/// An allowance unused this long is full again: forgetting it changes nothing.
const IDLE_ALLOWANCE: Duration = Duration::from_secs(30);

impl Allowances {
    /// Whether `who` may send one more event of `kind` now (counted if so).
    /// The connection's own `member` allowance is asked first; then the
    /// installation's, then the address's (several people's worth).
    pub fn allow(&mut self, member: &mut EventLimiter, who: &Who, kind: EventKind, now: Duration) -> bool {
        for map in [&mut self.by_device, &mut self.by_address] {
            if map.len() > ALLOWANCES_KEPT {
                map.retain(|_, limiter| now.saturating_sub(limiter.last_used()) < IDLE_ALLOWANCE);
            }
        }
        // Each is asked only if the ones before allowed it, so a refusal
        // spends nothing anywhere else.
        member.allow(kind, now, 1.0)
            && (who.device == 0 || self.by_device.entry(who.device).or_default().allow(kind, now, 1.0))
            && (who.address == 0 || self.by_address.entry(who.address).or_default().allow(kind, now, ADDRESS_ALLOWANCE))
    }

    /// Forget every allowance (the room forgets its people).
    pub fn clear(&mut self) {
        self.by_device.clear();
        self.by_address.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(device: u64, address: u64, name: &str) -> Who {
        Who { device, address, name_key: nickname_key(name) }
    }

    #[test]
    fn a_decision_follows_the_installation_or_the_name_from_the_same_address() {
        let removed = who(7, 100, "ゆうた");
        assert!(removed.matches(&who(7, 200, "べつのなまえ")), "same installation, another network and name");
        assert!(removed.matches(&who(8, 100, "ユウタ")), "a fresh settings file, same address, the same name");
        assert!(!removed.matches(&who(8, 100, "さくら")), "another child on the ward's network");
        assert!(!removed.matches(&who(8, 200, "ゆうた")), "a child with that name at another hospital");
        assert!(!who(0, 0, "a").matches(&who(0, 0, "a")), "unknowns never match each other");
    }

    #[test]
    fn a_bounded_list_forgets_the_oldest() {
        let mut list = Bounded::new(2);
        assert_eq!(list.push(1), None);
        assert_eq!(list.push(2), None);
        assert_eq!(list.push(3), Some(1));
        assert_eq!(list.iter().copied().collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn allowances_are_per_installation_and_address_not_per_connection() {
        let mut allowances = Allowances::default();
        let now = Duration::from_secs(1);
        let burst = crate::limits::limit(EventKind::Chat).burst as usize;
        // Ten connections of one installation share its allowance.
        let same = who(5, 9, "a");
        let allowed = (0..10).filter(|_| allowances.allow(&mut EventLimiter::default(), &same, EventKind::Chat, now)).count();
        assert_eq!(allowed, burst);
        // Ten "installations" from one address share several people's worth.
        let allowed = (0..40u64).filter(|n| allowances.allow(&mut EventLimiter::default(), &who(100 + n, 10, "b"), EventKind::Chat, now)).count();
        assert_eq!(allowed, burst * ADDRESS_ALLOWANCE as usize);
    }
}
