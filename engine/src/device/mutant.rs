//! The test-only mutants of the crash-point test: each drops one barrier of the
//! write order (ARCHITECTURE.md, "Write order"); the crash test must catch every one.
//! Per thread, so parallel tests do not see them.

use std::cell::Cell;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mutant {
    None,
    /// Copy-on-write overwrites image B before the preserved copy and its entry are
    /// durable (no image-A flush, no journal sync).
    CowCopyNotDurable,
    /// Write logging journals a new entry before its slot is durable.
    LogSlotNotDurable,
    /// A freed slot is reused before the removal that freed it is durable.
    SlotReusedBeforeRemoveDurable,
    /// Mirroring writes through VLUN A with no dirty mark.
    MirrorWithoutIntent,
    /// Integrity mode writes a block with no unsummed mark.
    IntegrityWithoutMark,
}

thread_local! {
    static ON: Cell<Mutant> = const { Cell::new(Mutant::None) };
}

/// Whether mutant `m` is on.
pub(crate) fn on(m: Mutant) -> bool {
    ON.with(|c| c.get() == m)
}

pub(crate) fn set(m: Mutant) {
    ON.with(|c| c.set(m));
}
