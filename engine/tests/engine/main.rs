//! The engine's behaviour tests, one binary (modules per concern) so they build once.
//!
//! - `io_cost`: physical I/O per logical call per variant, and the space each keeps.
//! - `crash_disk`: the simulated disk and journal keep the durability model.
//! - `archive`: `backup_a` writes VLUN A byte for byte, as a plain raw image.
//! - `bad_input`: short, misaligned and corrupt files give typed errors, never panics.
//! - `faults`: injected store errors lose no acknowledged write, across a reopen.
//! - `sparse_table`: a 1 TiB volume's lookup table and entry index hold only the
//!   entries that exist and behave as a small volume's dense ones.
//! - `stress`: the concurrent front tears, loses and misroutes nothing.
//! - `lifecycle`: calls out of phase are `Error::IllegalState` and change nothing.
//! - `reopen`: reopening a file device restores table, phase and space exactly.
//! - `identity`: swapped, foreign, resized, stale and unlabelled files are refused,
//!   naming the file (issue 13's cases 2 and 3).
//! - `integrity`: misdirected and rotted blocks are errors in integrity mode (case 6).
//! - `sparse`: the sparse store reads and writes as the dense one from the same
//!   initial content, and holds only the blocks written.
//! - `trust`: no retire without a complete archive, one open per device, one
//!   block-size rule (issue 13's cases 1, 5, 8).
//! - `wrappers`: `Box`, `FaultyStore` and `CrashStore` answer every store method as
//!   the store they wrap.

mod archive;
mod bad_input;
mod crash_disk;
mod faults;
mod identity;
mod integrity;
mod io_cost;
mod lifecycle;
mod prefix;
mod reopen;
mod sparse;
mod sparse_table;
mod stress;
mod trust;
mod wrappers;

/// Shared helpers.
pub mod common {
    use engine::file::{DevicePaths, Geometry};
    use engine::{BlockStore, Device, Vlun};

    /// A block whose every byte says which block and which write it is.
    pub fn pattern(block_size: usize, block: u64, x: u8) -> Vec<u8> {
        (0..block_size)
            .map(|i| x ^ (i as u8).wrapping_mul(31) ^ ((block as u8) << 4))
            .collect()
    }

    /// Reads `block` of `vlun`, panicking (a test failure) on error.
    pub fn read<S: BlockStore>(d: &Device<S>, vlun: Vlun, block: u64) -> Vec<u8> {
        let mut buf = vec![0u8; d.block_size()];
        d.read(vlun, block, &mut buf)
            .unwrap_or_else(|e| panic!("read {vlun} block {block}: {e}"));
        buf
    }

    /// A scratch directory for file devices: in `/dev/shm` where it exists, because the
    /// metadata compaction on every reopen fsyncs, and on a disk shared with other
    /// builds those fsyncs, not the engine, would dominate the test time. What the
    /// tests check (contents, journal decoding, replay) does not depend on the medium.
    pub fn scratch_dir() -> tempfile::TempDir {
        let shm = std::path::Path::new("/dev/shm");
        if shm.is_dir() {
            if let Ok(dir) = tempfile::tempdir_in(shm) {
                return dir;
            }
        }
        tempfile::tempdir().unwrap()
    }

    /// A scratch directory, the paths of a file device in it, and a geometry of
    /// `volume_blocks` blocks of `block_size` bytes with a data area as large as the
    /// volume (it never fills). Keep the directory alive as long as the device.
    pub fn file_device_parts(
        block_size: usize,
        volume_blocks: u64,
    ) -> (tempfile::TempDir, DevicePaths, Geometry) {
        let dir = scratch_dir();
        let paths = DevicePaths::in_dir(dir.path());
        let g = Geometry {
            block_size,
            volume_blocks,
            area_slots: volume_blocks,
        };
        (dir, paths, g)
    }

    /// A small deterministic generator (xorshift64*), fixed seed: no OS randomness.
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n
        }
    }
}
