//! Flush and compaction: making acknowledged writes survive a power loss, and keeping
//! the journal bounded.

use super::{Device, JOURNAL_APPENDS_MAX};
use crate::cost::IoCost;
use crate::error::Result;
use crate::meta::MetaRecord;
use crate::store::BlockStore;
use crate::sync;
use crate::Variant;

impl<S: BlockStore> Device<S> {
    /// Makes every acknowledged write durable: both images, then the metadata.
    ///
    /// Acknowledged writes survive the process ending (their data and journal records
    /// are in the operating system's hands when `write` returns); they survive a power
    /// loss once `flush` returns.
    ///
    /// Past [`JOURNAL_APPENDS_MAX`] appended records, the journal is also compacted
    /// (which waits, like a phase change, for the calls in flight).
    ///
    /// Mirroring marks the blocks it writes through VLUN A dirty, and integrity mode
    /// every block before its first write since a flush unsummed; a flush cleans them:
    /// a `FlushMark` (taken with no call in flight, so every write it covers has
    /// completed), the image flushes, then `Clean`.
    pub fn flush(&self) -> Result<()> {
        let _one_at_a_time = sync::lock(&self.flush_lock);
        let mut cost = IoCost::default();
        let result = self.flush_all(&mut cost);
        self.counters.charge(&cost);
        let long = result?;
        if long {
            self.compact_metadata()?;
        }
        Ok(())
    }

    fn flush_all(&self, cost: &mut IoCost) -> Result<bool> {
        let marks = self.variant == Variant::WriteMirroring || self.sums.is_some();
        let marked = marks && {
            let _no_call_in_flight = self.exclude_calls();
            let mut m = sync::lock(&self.meta);
            if m.dirty_new.is_empty() && m.unsummed_new.is_empty() {
                false
            } else {
                m.log(MetaRecord::FlushMark)?;
                m.marks_flushing();
                true
            }
        };
        cost.flushes += 2;
        self.image_a.flush()?;
        self.image_b.flush()?;
        let mut m = sync::lock(&self.meta);
        if marked || !m.dirty_flushing.is_empty() || !m.unsummed_flushing.is_empty() {
            m.log(MetaRecord::Clean)?;
            m.marks_clean();
        }
        m.unsynced = true; // sync even with nothing appended: the contract is a sync
        m.sync(cost)?;
        Ok(m.appended > JOURNAL_APPENDS_MAX)
    }

    /// The metadata as a compact record list: header, phase, table.
    pub(crate) fn snapshot_records(&self) -> Vec<MetaRecord> {
        let phase = self.phase();
        let m = sync::lock(&self.meta);
        m.snapshot(&self.identity(), phase)
    }

    /// Rewrites the journal as a snapshot (a no-op without a journal).
    ///
    /// Takes every group-1 lock, so no call is in flight: a reserved entry
    /// whose data is not yet written never reaches the snapshot, and no record
    /// appended between the snapshot and the rewrite is lost.
    pub fn compact_metadata(&self) -> Result<()> {
        let _no_call_in_flight = self.exclude_calls();
        let phase = self.phase.get();
        let mut m = sync::lock(&self.meta);
        let records = m.snapshot(&self.identity(), phase);
        m.journal_op(|j| j.compact(&records))?;
        m.appended = 0;
        Ok(())
    }
}
