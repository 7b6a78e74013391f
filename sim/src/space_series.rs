//! Extra space over time: the LVM `Data%` view of a run. One point each time the
//! device's extra space or data-area use may have changed (a call that created or
//! dropped a table entry, a split, a retire, an abandon), recorded when the scenario
//! keeps its timeline (`keep_timeline`).

use serde::Serialize;

use crate::clock::Tick;

/// The device's extra space at one tick, after the calls of that tick so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SpacePoint {
    pub time_ticks: Tick,
    /// Extra space held: data-area slots in use, plus for write mirroring the second
    /// full image while VLUN A exists (blocks).
    pub extra_space_blocks: u64,
    /// Of those, the data-area slots in use (blocks; 0 under mirroring and `none`).
    pub data_area_used_blocks: u64,
}
