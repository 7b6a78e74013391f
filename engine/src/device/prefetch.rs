//! [`Device::prefetch`]: a caller that knows which block it will read or write next
//! hints it, so the tables that call will probe are in the cache when it runs.

use super::Device;
use crate::store::BlockStore;
use crate::{Variant, Vlun};

impl<S: BlockStore> Device<S> {
    /// A hint that `block` of `vlun` will be read or written soon: the image the
    /// variant's routing reads that block from when it has no entry (both images for a
    /// mirrored VLUN A write) and, while a table exists, the entry index's line for it,
    /// are asked into the processor's caches ([`BlockStore::prefetch_block`]). No
    /// effect on content, phase, costs or counters; a block past the volume is
    /// ignored. Never blocks on a group lock.
    #[inline]
    pub fn prefetch(&self, vlun: Vlun, block: u64) {
        if block >= self.volume_blocks {
            return;
        }
        match (self.variant, vlun) {
            (Variant::WriteMirroring, Vlun::A) => {
                self.image_a.prefetch_block(block);
                self.image_b.prefetch_block(block);
            }
            (Variant::WriteMirroring, Vlun::B) | (Variant::CopyOnWrite, _) => {
                self.image_b.prefetch_block(block)
            }
            (Variant::WriteLogging, _) => self.image_a.prefetch_block(block),
        }
        self.entries.prefetch(block);
    }
}
