//! Binding every file of a file-backed device to that device: its identity, and the
//! label at the end of each image file that carries it.
//!
//! A device's identity is a random 16-byte id drawn at [`crate::file::create`]
//! (`getrandom`, as a UUID v4 is), its variant and geometry, whether it runs in
//! integrity mode, and a *generation* that every [`crate::file::open`] advances. The
//! metadata file's header records it; each image file ends with a label
//! ([`LABEL_BYTES`] bytes after its last block, the place mdadm's 1.0 superblock has,
//! so the blocks before it stay a plain raw image that `cmp`, `dd` and `qemu-img`
//! read) saying which device, which image (A or B) and which generation it belongs to.
//! The metadata file's superblock records the device id too ([`crate::superblock`]).
//! Opening compares them and refuses, as [`crate::Error::Identity`] naming the file
//! that does not belong and why ([`Mismatch`]): an image, the metadata file or its
//! superblock of another device, images A and B swapped, an image or metadata of
//! another geometry, a resized image, an image or metadata file from an earlier open
//! (stale), a file of another copy of this device (its directory copied and both
//! copies served apart, [`Mismatch::OtherCopy`]), or a file with no label (not an owm
//! image, or made by an older version).
//!
//! Two copies of one device directory (`cp -a`) carry the same device id and
//! generation, and each open of either advances the generation the same way; so every
//! open that may write the device also draws a random *nonce* ([`new_nonce`]), which
//! the metadata header, the superblock and both labels record with the generation. A
//! file written by an open of the other copy carries the other copy's nonce.
//!
//! Label layout (little-endian): magic `OWMIMAG2` | device id (16) | generation u64 |
//! variant u8 | image u8 (0 = A, 1 = B) | integrity u8 | 0 u8 | block size u32 |
//! volume blocks u64 | area slots u64 | image blocks u64 | nonce u64 | crc32 u32 of
//! the bytes before it; zero to [`LABEL_BYTES`]. A label of the first layout (magic
//! `OWMIMAG1`, no nonce) is read with nonce 0, the nonce of every file written before
//! nonces; the next open rewrites it in this layout.

use crate::shown::ShowName as _;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::store::StoreError;
use crate::{Geometry, Image, Variant};

/// Bytes of the label at the end of every image file (one 512-byte sector).
pub const LABEL_BYTES: u64 = 512;
const LABEL_MAGIC: &[u8; 8] = b"OWMIMAG2";
/// The magic of the first label layout (no nonce).
const LABEL_MAGIC_V1: &[u8; 8] = b"OWMIMAG1";
const LABEL_FIELDS_BYTES: usize = 8 + 16 + 8 + 4 + 4 + 8 + 8 + 8 + 8;
/// Bytes before the CRC in a label of the first layout.
const LABEL_FIELDS_BYTES_V1: usize = LABEL_FIELDS_BYTES - 8;

/// Who a device is: recorded in its metadata header and in each image's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Drawn at creation: random for a file device, all zero in memory.
    pub device_id: [u8; 16],
    /// Advanced by every open of a file device (0 at creation).
    pub generation: u64,
    /// Drawn at random by the creation and by every open of a file device that may
    /// write it ([`new_nonce`]; never 0); 0 in memory and in files written before
    /// nonces. Two copies of one device directory served apart draw different ones.
    pub nonce: u64,
    pub variant: Variant,
    pub geometry: Geometry,
    /// Whether every block carries a checksum ([`crate::DeviceConfig::integrity`]).
    pub integrity: bool,
}

impl Identity {
    /// The id as a UUID-style string (8-4-4-4-12 hex digits).
    pub fn id_text(&self) -> String {
        id_text(&self.device_id)
    }
}

/// A fresh random device id (the 122 random bits of a UUID v4, with its version and
/// variant bits set), from the operating system's generator.
///
/// # Errors
/// The generator's failure, as an I/O error.
pub fn new_device_id() -> std::io::Result<[u8; 16]> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| std::io::Error::other(e.to_string()))?;
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    Ok(id)
}

/// A fresh random nonce for an open ([`Identity::nonce`]), from the operating system's
/// generator; never 0 (the nonce of files written before nonces).
///
/// # Errors
/// The generator's failure, as an I/O error.
pub fn new_nonce() -> std::io::Result<u64> {
    loop {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        let n = u64::from_le_bytes(bytes);
        if n != 0 {
            return Ok(n);
        }
    }
}

/// `id` as a UUID-style string (8-4-4-4-12 hex digits).
pub(crate) fn id_text(id: &[u8; 16]) -> String {
    let h: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// What an image file's label says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub identity: Identity,
    /// Which image of the device the file is.
    pub image: Image,
    /// Blocks the store holds (data and, in integrity mode, checksum blocks).
    pub image_blocks: u64,
}

/// Why a file does not belong to the device being opened ([`crate::Error::Identity`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The image file has no valid label and is the image's length less the label's
    /// [`LABEL_BYTES`]: truncated by its label, or not an image of an owm device, or one
    /// made by a version before labels (refused, never read as if it were one).
    NoLabel,
    /// The file has the device's image length but its label (its last
    /// [`LABEL_BYTES`] bytes) is not valid: overwritten or damaged in place.
    DamagedLabel,
    /// The file belongs to another device (ids as text).
    Foreign { expected: String, found: String },
    /// The file is this device's other image (image A and image B were swapped).
    Swapped { expected: Image, found: Image },
    /// The label's variant, geometry or integrity mode is not the metadata's.
    Layout { expected: String, found: String },
    /// The file's length is not the one its label and the metadata give.
    Resized {
        expected_bytes: u64,
        found_bytes: u64,
    },
    /// The file was last written at an earlier open than the rest of the device.
    Stale {
        expected_generation: u64,
        found_generation: u64,
    },
    /// The file was written at the device's generation (or at the one of an open the
    /// metadata recorded) by another open than this copy's: it comes from another copy
    /// of this device, whose directory was copied and served apart from this one.
    /// `later`: written at a later generation than the metadata's, so the files cannot
    /// tell that from this file being the newest and the others older ones put back.
    OtherCopy { generation: u64, later: bool },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::NoLabel => write!(
                f,
                "no owm image label at its end, and its length is the image's data alone \
                 (the device's image length less its {LABEL_BYTES}-byte label): it looks \
                 truncated, its label cut off (restore the image from a copy); else it is \
                 not an image of an owm device (a raw image of the volume), or was made by \
                 a version before image labels"
            ),
            Mismatch::DamagedLabel => write!(
                f,
                "its label (its last {LABEL_BYTES} bytes) is damaged or overwritten: the file \
                 has the device's image length but no valid label; restore the image from a copy"
            ),
            Mismatch::Foreign { expected, found } => {
                write!(f, "belongs to device {found}, not to device {expected}")
            }
            Mismatch::Swapped { expected, found } => write!(
                f,
                "holds {found} of this device, not {expected}: images A and B are swapped"
            ),
            Mismatch::Layout { expected, found } => {
                write!(f, "made for {found}, the device is {expected}")
            }
            Mismatch::Resized {
                expected_bytes,
                found_bytes,
            } => write!(
                f,
                "resized: {found_bytes} bytes, the device's image is {expected_bytes} bytes"
            ),
            Mismatch::Stale {
                expected_generation,
                found_generation,
            } => write!(
                f,
                "stale: last written at generation {found_generation}, the device is at generation {expected_generation}"
            ),
            Mismatch::OtherCopy { generation, later } => {
                write!(
                    f,
                    "it comes from another copy of this device: written at generation \
                     {generation} by an open of a copy served apart from this one (a copy of \
                     the device's directory), so its contents are not this copy's; keep each \
                     copy's four files together and put back this copy's own file"
                )?;
                if *later {
                    write!(
                        f,
                        ". Or this file is the newest and the device's other files are older \
                         ones put back (kept from before the open at generation {generation}): \
                         then restore those from where this one came, not this one from theirs, \
                         which would serve the older state"
                    )?;
                }
                Ok(())
            }
        }
    }
}

fn variant_code(v: Variant) -> u8 {
    Variant::ALL
        .iter()
        .position(|&x| x == v)
        .expect("a variant") as u8
}

fn encode(label: &Label) -> Vec<u8> {
    let id = &label.identity;
    let mut out = Vec::with_capacity(LABEL_BYTES as usize);
    out.extend_from_slice(LABEL_MAGIC);
    out.extend_from_slice(&id.device_id);
    out.extend_from_slice(&id.generation.to_le_bytes());
    out.push(variant_code(id.variant));
    out.push(u8::from(label.image == Image::B));
    out.push(u8::from(id.integrity));
    out.push(0);
    out.extend_from_slice(&(id.geometry.block_size as u32).to_le_bytes());
    out.extend_from_slice(&id.geometry.volume_blocks.to_le_bytes());
    out.extend_from_slice(&id.geometry.area_slots.to_le_bytes());
    out.extend_from_slice(&label.image_blocks.to_le_bytes());
    out.extend_from_slice(&id.nonce.to_le_bytes());
    debug_assert_eq!(out.len(), LABEL_FIELDS_BYTES);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.resize(LABEL_BYTES as usize, 0);
    out
}

fn decode(bytes: &[u8]) -> Option<Label> {
    let fields_bytes = match bytes.get(..8)? {
        m if m == LABEL_MAGIC => LABEL_FIELDS_BYTES,
        m if m == LABEL_MAGIC_V1 => LABEL_FIELDS_BYTES_V1,
        _ => return None,
    };
    let fields = bytes.get(..fields_bytes)?;
    let crc = bytes.get(fields_bytes..fields_bytes + 4)?;
    if crc32fast::hash(fields).to_le_bytes() != crc {
        return None;
    }
    let u64_at = |at: usize| u64::from_le_bytes(fields[at..at + 8].try_into().expect("8"));
    let device_id: [u8; 16] = fields[8..24].try_into().expect("16");
    let variant = *Variant::ALL.get(usize::from(fields[32]))?;
    let image = match fields[33] {
        0 => Image::A,
        1 => Image::B,
        _ => return None,
    };
    let integrity = match fields[34] {
        0 => false,
        1 => true,
        _ => return None,
    };
    let block_size = u32::from_le_bytes(fields[36..40].try_into().expect("4")) as usize;
    Some(Label {
        identity: Identity {
            device_id,
            generation: u64_at(24),
            nonce: if fields_bytes == LABEL_FIELDS_BYTES {
                u64_at(64)
            } else {
                0
            },
            variant,
            geometry: Geometry {
                block_size,
                volume_blocks: u64_at(40),
                area_slots: u64_at(48),
            },
            integrity,
        },
        image,
        image_blocks: u64_at(56),
    })
}

fn io_error(path: &Path, op: &'static str, source: std::io::Error) -> StoreError {
    StoreError::Io {
        store: path.shown().to_string(),
        op,
        block: None,
        source,
    }
}

/// Writes `label` after the image's `label.image_blocks` blocks of `file`, and syncs.
pub(crate) fn write_label(file: &File, path: &Path, label: &Label) -> Result<(), StoreError> {
    let at = label.image_blocks * label.identity.geometry.block_size as u64;
    file.write_all_at(&encode(label), at)
        .map_err(|e| io_error(path, "write label", e))?;
    file.sync_data()
        .map_err(|e| io_error(path, "sync label", e))
}

/// The label at the end of `file` (whatever its length), with the file's length;
/// `None` if there is no valid one.
pub(crate) fn read_label(file: &File, path: &Path) -> Result<(Option<Label>, u64), StoreError> {
    let len = file
        .metadata()
        .map_err(|e| io_error(path, "stat", e))?
        .len();
    if len < LABEL_BYTES {
        return Ok((None, len));
    }
    let mut bytes = vec![0u8; LABEL_BYTES as usize];
    file.read_exact_at(&mut bytes, len - LABEL_BYTES)
        .map_err(|e| io_error(path, "read label", e))?;
    Ok((decode(&bytes), len))
}

/// The layout fields of an identity, as text for [`Mismatch::Layout`].
fn layout_text(id: &Identity) -> String {
    let g = id.geometry;
    format!(
        "{} with {} blocks of {} bytes, {} data-area slots, integrity {}",
        id.variant,
        g.volume_blocks,
        g.block_size,
        g.area_slots,
        if id.integrity { "on" } else { "off" }
    )
}

/// Checks the label found in image `image`'s file against the identity the metadata
/// records and the store size it implies (`image_blocks`), in the order that names
/// the most telling reason: no label, another device, the other image, another
/// layout, another length, another generation (a label at `opening`, the generation
/// and nonce an open cut short recorded in the metadata before it relabelled the
/// images, is accepted too), another copy (the generation, another nonce).
pub(crate) fn check_label(
    found: Option<&Label>,
    file_len: u64,
    image: Image,
    expected: &Identity,
    opening: Option<(u64, u64)>,
    image_blocks: u64,
) -> Result<(), Mismatch> {
    let expected_bytes = image_blocks * expected.geometry.block_size as u64 + LABEL_BYTES;
    let Some(label) = found else {
        // Cut or grown, the label is no longer at the end: say so; a raw image of the
        // device's size without one is unlabelled.
        if file_len + LABEL_BYTES == expected_bytes {
            return Err(Mismatch::NoLabel);
        }
        if file_len == expected_bytes {
            return Err(Mismatch::DamagedLabel);
        }
        return Err(Mismatch::Resized {
            expected_bytes,
            found_bytes: file_len,
        });
    };
    let id = &label.identity;
    if id.device_id != expected.device_id {
        return Err(Mismatch::Foreign {
            expected: expected.id_text(),
            found: id.id_text(),
        });
    }
    if label.image != image {
        return Err(Mismatch::Swapped {
            expected: image,
            found: label.image,
        });
    }
    let layout = |i: &Identity| (i.variant, i.geometry, i.integrity);
    if layout(id) != layout(expected) || label.image_blocks != image_blocks {
        return Err(Mismatch::Layout {
            expected: layout_text(expected),
            found: layout_text(id),
        });
    }
    if file_len != expected_bytes {
        return Err(Mismatch::Resized {
            expected_bytes,
            found_bytes: file_len,
        });
    }
    if !accepted_mark(expected, opening, id.generation, id.nonce) {
        if other_copy_mark(expected, opening, id.generation, id.nonce) {
            return Err(Mismatch::OtherCopy {
                generation: id.generation,
                later: id.generation > expected.generation,
            });
        }
        return Err(Mismatch::Stale {
            expected_generation: expected.generation,
            found_generation: id.generation,
        });
    }
    Ok(())
}

/// Whether a file written at `generation` with `nonce` is this copy's latest: the
/// metadata header's (`expected`), or an open the metadata recorded (`opening`,
/// generation and nonce).
pub(crate) fn accepted_mark(
    expected: &Identity,
    opening: Option<(u64, u64)>,
    generation: u64,
    nonce: u64,
) -> bool {
    (generation == expected.generation && nonce == expected.nonce)
        || opening == Some((generation, nonce))
}

/// Whether a file written at `generation` with `nonce` was written at the header's
/// generation or the recorded open's by another open than this copy's: a file of
/// another copy of this device.
pub(crate) fn other_copy_mark(
    expected: &Identity,
    opening: Option<(u64, u64)>,
    generation: u64,
    nonce: u64,
) -> bool {
    !accepted_mark(expected, opening, generation, nonce)
        && (generation == expected.generation || opening.is_some_and(|(g, _)| g == generation))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label() -> Label {
        Label {
            identity: Identity {
                device_id: [7; 16],
                generation: 3,
                nonce: 0x5eed_0fc0_b1e5,
                variant: Variant::CopyOnWrite,
                geometry: Geometry {
                    block_size: 512,
                    volume_blocks: 16,
                    area_slots: 8,
                },
                integrity: true,
            },
            image: Image::B,
            image_blocks: 17,
        }
    }

    #[test]
    fn a_label_round_trips_and_any_flipped_byte_is_no_label() {
        let l = label();
        let bytes = encode(&l);
        assert_eq!(bytes.len() as u64, LABEL_BYTES);
        assert_eq!(decode(&bytes), Some(l));
        for i in 0..LABEL_FIELDS_BYTES + 4 {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert_eq!(decode(&b), None, "byte {i}");
        }
    }

    /// A label of the first layout (no nonce) reads back with nonce 0; a flipped byte
    /// of it is no label.
    #[test]
    fn a_label_of_the_first_layout_reads_with_nonce_0() {
        let mut l = label();
        let mut bytes = encode(&l);
        bytes[..8].copy_from_slice(LABEL_MAGIC_V1);
        let crc = crc32fast::hash(&bytes[..LABEL_FIELDS_BYTES_V1]);
        bytes[LABEL_FIELDS_BYTES_V1..LABEL_FIELDS_BYTES_V1 + 4].copy_from_slice(&crc.to_le_bytes());
        bytes[LABEL_FIELDS_BYTES_V1 + 4..].fill(0);
        l.identity.nonce = 0;
        assert_eq!(decode(&bytes), Some(l));
        let mut b = bytes.clone();
        b[30] ^= 1;
        assert_eq!(decode(&b), None);
    }

    /// A label at the metadata's generation with another nonce is of another copy; at
    /// an earlier generation, stale; at the recorded open's, accepted with its nonce
    /// only.
    #[test]
    fn a_label_of_another_open_at_the_same_generation_is_another_copys() {
        let l = label();
        let len = l.image_blocks * 512 + LABEL_BYTES;
        let mut expected = l.identity;
        check_label(Some(&l), len, Image::B, &expected, None, 17).unwrap();
        expected.nonce ^= 1;
        assert_eq!(
            check_label(Some(&l), len, Image::B, &expected, None, 17),
            Err(Mismatch::OtherCopy {
                generation: 3,
                later: false
            })
        );
        expected.generation = 2;
        assert_eq!(
            check_label(
                Some(&l),
                len,
                Image::B,
                &expected,
                Some((3, l.identity.nonce)),
                17
            ),
            Ok(())
        );
        assert_eq!(
            check_label(Some(&l), len, Image::B, &expected, Some((3, 9)), 17),
            Err(Mismatch::OtherCopy {
                generation: 3,
                later: true
            })
        );
        expected.generation = 4;
        assert!(matches!(
            check_label(Some(&l), len, Image::B, &expected, None, 17),
            Err(Mismatch::Stale { .. })
        ));
    }

    #[test]
    fn id_text_is_uuid_shaped_and_ids_are_v4() {
        let id = new_device_id().unwrap();
        let t = id_text(&id);
        assert_eq!(t.len(), 36);
        assert_eq!(&t[14..15], "4", "{t}");
        assert_ne!(new_device_id().unwrap(), id);
    }
}
