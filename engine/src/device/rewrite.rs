//! Rewriting the images' contents in place, for tools that reason about what the
//! blocks name rather than what the hosts wrote: a model checker's symmetry reduction
//! renames the transactions a block's records name ([`Device::rewrite_contents`]).

use super::Device;
use crate::block_buffer::block_buffer;
use crate::error::{Error, Result};
use crate::store::BlockStore;

impl<S: BlockStore> Device<S> {
    /// Passes every block of both images (`block_size` bytes: the volume's blocks,
    /// then the data area's) through `f`, which may change it in place, and stores
    /// the result, with every VLUN call kept out meanwhile (all group-1 locks). The
    /// phase, the table and the counters are unchanged, and no cost is counted: no
    /// host wrote. Errors: [`Error::Geometry`] in integrity mode (the checksums would
    /// no longer match), [`Error::Store`] when a store fails.
    pub fn rewrite_contents(&self, mut f: impl FnMut(&mut [u8])) -> Result<()> {
        if self.sums.is_some() {
            return Err(Error::Geometry {
                variant: self.variant,
                reason: "contents cannot be rewritten in integrity mode".into(),
            });
        }
        let mut buf = block_buffer(self.block_size, "rewrite the images' blocks")?;
        let _excluded = self.exclude_calls();
        for image in [&self.image_a, &self.image_b] {
            for b in 0..image.block_count() {
                image.read_block(b, &mut buf)?;
                f(&mut buf);
                image.write_block(b, &buf)?;
            }
        }
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{Device, DeviceConfig, Variant, Vlun};

    #[test]
    fn every_block_is_rewritten_and_integrity_mode_is_refused() {
        let dev = Device::in_memory_with(DeviceConfig::new(Variant::CopyOnWrite), 16, 2, 2)
            .expect("device");
        dev.write(Vlun::A, 1, &[7; 16]).expect("write");
        dev.split().expect("split");
        dev.write(Vlun::B, 1, &[9; 16]).expect("write");
        dev.rewrite_contents(|b| b.iter_mut().for_each(|x| *x = x.wrapping_add(1)))
            .expect("rewrite");
        let mut buf = [0u8; 16];
        for (vlun, block, want) in [(Vlun::A, 1, 8), (Vlun::B, 1, 10), (Vlun::A, 0, 1)] {
            dev.read(vlun, block, &mut buf).expect("read");
            assert_eq!(buf, [want; 16], "{vlun:?} block {block}");
        }
        let mut dc = DeviceConfig::new(Variant::CopyOnWrite);
        dc.integrity = true;
        let checked = Device::in_memory_with(dc, 16, 2, 2).expect("device");
        assert!(checked.rewrite_contents(|_| {}).is_err());
    }
}
