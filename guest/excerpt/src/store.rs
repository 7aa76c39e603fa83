//! Where lines wait once they have left the ring, until the end of the log says which are sent.
//!
//! The store holds up to the largest budget's worth of lines, so it is most of the builder's
//! memory: each line is a compact [`Stored`] record (its text and what choosing and writing
//! need, nothing else), boxed in a slab, and an [`Order`] of priorities points into the slab
//! so that the lowest-priority, oldest line is dropped first without per-line tree nodes.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt::Write;

use crate::{LAST_LINES, Reason, Unit};

/// A line, or a run of lines alike but for numbers, once its priority is settled.
#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) seq: u64,
    pub(crate) first: u64,
    pub(crate) last: u64,
    /// Byte offset of the first line in the log.
    pub(crate) offset: u64,
    /// Bytes of the log this record covers.
    pub(crate) bytes: u64,
    /// Bytes cut from the middle of long lines.
    pub(crate) cut: u64,
    /// The line whose priority this one has (itself, or the error it is context of).
    pub(crate) anchor: u64,
    /// The shown text, ending in `\n`.
    pub(crate) text: Box<str>,
    /// Bytes of the log it shows verbatim (its first line, less any cut middle: at most a
    /// held line, so 32 bits are plenty).
    pub(crate) verbatim: u32,
    /// Which run of stack frames this frame belongs to (0 for other lines).
    pub(crate) run: u32,
    pub(crate) weight: u32,
    pub(crate) reason: Reason,
}

impl From<Unit> for Stored {
    fn from(u: Unit) -> Stored {
        Stored {
            seq: u.seq,
            first: u.first,
            last: u.last,
            offset: u.offset,
            bytes: u.bytes,
            cut: u.cut,
            anchor: u.anchor,
            text: u.text.into_boxed_str(),
            verbatim: u32::try_from(u.verbatim).unwrap_or(u32::MAX),
            run: u32::try_from(u.run).unwrap_or(u32::MAX),
            weight: u.weight,
            reason: u.reason,
        }
    }
}

impl Stored {
    /// Lines of the run shown only as its `[×N]`.
    pub(crate) fn repeats(&self) -> u64 {
        self.last - self.first
    }

    /// Gives this line the priority `weight` for `reason`, anchored on itself.
    pub(crate) fn raise(&mut self, weight: u32, reason: Reason) {
        crate::raise(
            (&mut self.weight, &mut self.reason, &mut self.anchor),
            (weight, reason, self.seq),
        );
    }

    /// The order in which lines are kept (highest first) and dropped (lowest first).
    pub(crate) fn rank(&self) -> (u32, u64, u64) {
        (self.weight, self.anchor, self.seq)
    }

    /// Appends the text as shown: the line, and `[×N]` when it stands for a run.
    pub(crate) fn push_shown(&self, out: &mut String) {
        let repeats = self.repeats();
        if repeats == 0 {
            out.push_str(&self.text);
            return;
        }
        let line = self.text.strip_suffix('\n').unwrap_or(&self.text);
        let _ = writeln!(out, "{line} [×{}]", repeats + 1);
    }

    /// The length of [`Stored::push_shown`]'s text.
    pub(crate) fn shown_len(&self) -> usize {
        let repeats = self.repeats();
        if repeats == 0 {
            self.text.len()
        } else {
            self.text.len() + 6 + digits(repeats + 1)
        }
    }
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Lines kept aside, bounded by the largest budget: the lowest-priority, oldest go first.
///
/// A line's priority no longer changes once it is here, so the store is a slab of lines plus
/// an [`Order`] of priorities that points into it: no per-line tree nodes.
#[derive(Default)]
pub(crate) struct Store {
    /// Boxed: the slab grows by doubling, and moving pointers (not records) keeps that growth
    /// from needing room for the records twice over.
    pub(crate) slots: Vec<Option<Box<Stored>>>,
    free: Vec<usize>,
    order: Order,
    /// Shown bytes of the lines kept.
    pub(crate) bytes: usize,
    /// Lines kept.
    pub(crate) len: usize,
    cap: usize,
    /// At most this many lines are kept, so that a log of very short lines stays within
    /// memory too (each line costs its bookkeeping as well as its text).
    max_units: usize,
}

/// The bookkeeping bytes one stored line is reckoned to cost beside its text.
pub(crate) const UNIT_COST: usize = 32;

impl Store {
    pub(crate) fn new(cap: usize) -> Store {
        Store {
            cap,
            max_units: (cap / UNIT_COST).max(LAST_LINES * 4),
            ..Store::default()
        }
    }

    pub(crate) fn insert(&mut self, unit: Unit) {
        let unit = Stored::from(unit);
        let (len, (weight, anchor, seq)) = (unit.shown_len(), unit.rank());
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(Box::new(unit));
                i
            }
            None => {
                self.slots.push(Some(Box::new(unit)));
                self.slots.len() - 1
            }
        };
        self.bytes += len;
        self.len += 1;
        self.order.push(weight, (anchor, seq, slot));
        while self.bytes > self.cap || self.len > self.max_units {
            let Some(slot) = self.order.pop() else {
                break;
            };
            if let Some(u) = self.slots.get_mut(slot).and_then(Option::take) {
                self.bytes -= u.shown_len();
                self.len -= 1;
                self.free.push(slot);
            }
        }
    }

    /// The lines still kept, by sequence number, in the slab's own memory: the store can
    /// hold most of the guest's memory, so it is sorted where it lies, never copied.
    pub(crate) fn into_kept(self) -> Kept {
        let mut slots = self.slots;
        slots.retain(Option::is_some);
        slots.sort_unstable_by_key(|u| u.as_ref().map_or(u64::MAX, |u| u.seq));
        Kept(slots)
    }
}

/// The lines known at the end, by sequence number (every slot holds one).
pub(crate) struct Kept(Vec<Option<Box<Stored>>>);

impl Kept {
    fn find(&self, seq: u64) -> Result<usize, usize> {
        self.0
            .binary_search_by_key(&seq, |u| u.as_ref().map_or(u64::MAX, |u| u.seq))
    }

    pub(crate) fn get(&self, seq: u64) -> Option<&Stored> {
        self.find(seq).ok().and_then(|i| self.0[i].as_deref())
    }

    /// Adds the newest lines (after every kept one).
    pub(crate) fn extend(&mut self, newest: impl IntoIterator<Item = Unit>) {
        self.0
            .extend(newest.into_iter().map(|u| Some(Box::new(Stored::from(u)))));
    }

    /// The unit of `unit.seq`, put back in its place if it had been dropped (always `Some`).
    pub(crate) fn entry(&mut self, unit: Unit) -> Option<&mut Stored> {
        let i = match self.find(unit.seq) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, Some(Box::new(Stored::from(unit))));
                i
            }
        };
        self.0[i].as_deref_mut()
    }

    /// The units of sequence numbers `from..=to`.
    pub(crate) fn range_mut(&mut self, from: u64, to: u64) -> impl Iterator<Item = &mut Stored> {
        let start = self
            .0
            .partition_point(|u| u.as_ref().is_some_and(|u| u.seq < from));
        let end = self
            .0
            .partition_point(|u| u.as_ref().is_some_and(|u| u.seq <= to));
        self.0[start..end.max(start)]
            .iter_mut()
            .flatten()
            .map(|u| &mut **u)
    }

    pub(crate) fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut Stored> {
        self.0.iter_mut().flatten().map(|u| &mut **u)
    }

    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = &Stored> {
        self.0.iter().flatten().map(|u| &**u)
    }
}

/// The stored lines' priorities, lowest first: one [`Tier`] per weight (there are few).
#[derive(Default)]
pub(crate) struct Order {
    /// By weight, lowest first.
    tiers: Vec<Tier>,
}

/// A stored line's place in its tier: (anchor, sequence number, slot in the store).
pub(crate) type Key = (u64, u64, usize);

impl Order {
    pub(crate) fn push(&mut self, weight: u32, key: Key) {
        let i = match self.tiers.binary_search_by_key(&weight, |t| t.weight) {
            Ok(i) => i,
            Err(i) => {
                self.tiers.insert(
                    i,
                    Tier {
                        weight,
                        ..Tier::default()
                    },
                );
                i
            }
        };
        self.tiers[i].push(key);
    }

    /// Takes the lowest priority and says where its line is.
    pub(crate) fn pop(&mut self) -> Option<usize> {
        self.tiers.iter_mut().find_map(|t| t.pop().map(|k| k.2))
    }
}

/// The lines of one weight, by (anchor, sequence). They nearly always arrive in that order,
/// so they queue; the few that do not wait in a heap beside the queue.
#[derive(Default)]
pub(crate) struct Tier {
    weight: u32,
    sorted: VecDeque<Key>,
    late: BinaryHeap<Reverse<Key>>,
}

impl Tier {
    pub(crate) fn push(&mut self, key: Key) {
        if self.sorted.back().is_none_or(|&b| b <= key) {
            self.sorted.push_back(key);
        } else {
            self.late.push(Reverse(key));
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Key> {
        match (self.sorted.front(), self.late.peek()) {
            (Some(a), Some(Reverse(b))) if b < a => self.late.pop().map(|r| r.0),
            (Some(_), _) => self.sorted.pop_front(),
            (None, _) => self.late.pop().map(|r| r.0),
        }
    }
}
