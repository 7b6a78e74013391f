//! What an open of a device's files mended without refusing them, so that whoever
//! starts the device can say so: a write cut by a crash is expected after one, but
//! after a clean stop the same repair means the files were damaged or added to since.
//! None of these repairs loses a write a completed flush covered (those cases are
//! refused instead, [`crate::file::open`]); each note says what evidence is gone.

use std::path::Path;

use crate::shown::ShowName as _;

/// The repairs of one open ([`crate::Device::repairs`]); all zero for a device
/// created, or opened from files that needed none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repairs {
    /// Integrity mode: blocks marked written since the last flush that held other
    /// bytes than their checksums covered, summed again from what they hold
    /// ([`crate::Device::resummed_at_recovery`]).
    pub resummed_blocks: u64,
    /// Bytes of the metadata file past its last whole record, cut off (a torn tail:
    /// no completed flush covered them).
    pub torn_tail_bytes: u64,
    /// The superblock (`device.owm.super`) was not two whole copies of successive
    /// writes: one damaged or missing, bytes after them, or a valid copy of another
    /// write put back; the newest valid one was used, and the open rewrote both
    /// ([`crate::superblock::read_whole`]).
    pub superblock_copy_damaged: bool,
}

impl Repairs {
    /// One line a repair, each starting `note: DIR: `, for the device in `dir`;
    /// `stopped_cleanly`: whether the files were closed cleanly before this open (the
    /// caller knows: e.g. `owm serve`'s `serving.json`), which tells a write cut by a
    /// kill or crash from damage. Empty when nothing was repaired.
    pub fn notes(&self, dir: &Path, stopped_cleanly: bool) -> Vec<String> {
        let dir = dir.shown();
        let cause = if stopped_cleanly {
            "the device was stopped cleanly, so no write was cut: the file was damaged or \
             written to since"
        } else {
            "a write cut when the server was killed or crashed, or damage"
        };
        let mut notes = Vec::new();
        if self.torn_tail_bytes > 0 {
            notes.push(format!(
                "note: {dir}: device.owm held {} past its last whole record ({cause}); no \
                 completed flush covered them, so they were cut off",
                counted(self.torn_tail_bytes, "byte", "bytes"),
            ));
        }
        if self.superblock_copy_damaged {
            notes.push(format!(
                "note: {dir}: device.owm.super was not two whole copies of successive writes \
                 (one damaged or missing, bytes after them, or a copy of another write put \
                 back: {cause}); the newest valid copy was used, and both were written again"
            ));
        }
        if self.resummed_blocks > 0 {
            notes.push(format!(
                "note: {dir}: integrity mode: {} written since the last flush held other \
                 bytes than their checksums covered (a write cut between a block and its \
                 checksum: the server was killed or crashed) and were summed again from what \
                 they hold; damage to them before this start cannot be detected",
                counted(self.resummed_blocks, "block", "blocks"),
            ));
        }
        notes
    }
}

/// `n` and the unit in words: `1 byte`, `7 bytes`.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_a_repair_and_the_cause_by_how_the_device_stopped() {
        let dir = Path::new("/d");
        assert!(Repairs::default().notes(dir, true).is_empty());
        let all = Repairs {
            resummed_blocks: 1,
            torn_tail_bytes: 7,
            superblock_copy_damaged: true,
        };
        let clean = all.notes(dir, true);
        assert_eq!(clean.len(), 3);
        assert!(
            clean[0].contains("7 bytes past its last whole record"),
            "{clean:?}"
        );
        assert!(
            clean[..2].iter().all(|n| n.contains("stopped cleanly")),
            "{clean:?}"
        );
        assert!(clean[2].contains("1 block written"), "{clean:?}");
        let killed = all.notes(dir, false);
        assert!(
            killed[..2].iter().all(|n| n.contains("killed or crashed")),
            "{killed:?}"
        );
    }
}
