//! The names the patent gives the device's parts: its three variants, its two
//! virtual volumes (what hosts see), its two storage images (the physical stores), the
//! phases of its life, and its geometry.

use serde::{Deserialize, Serialize};

/// How the one-way mirror keeps VLUN A and VLUN B apart after the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Fig 9-13: two full images; A writes go to both, B writes to image B only.
    #[serde(alias = "mirroring")]
    WriteMirroring,
    /// Fig 14-20: one copy of common data on image A; B's differences logged in image
    /// B's data area, found through image B's lookup table.
    #[serde(alias = "logging")]
    WriteLogging,
    /// Fig 21-27: one copy of common data on image B; blocks B overwrites are first
    /// preserved in image A's data area, found through image A's lookup table.
    #[serde(alias = "cow")]
    CopyOnWrite,
}

impl Variant {
    /// Every variant, in the patent's order.
    pub const ALL: [Variant; 3] = [
        Variant::WriteMirroring,
        Variant::WriteLogging,
        Variant::CopyOnWrite,
    ];

    /// Short name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::WriteMirroring => "mirroring",
            Variant::WriteLogging => "logging",
            Variant::CopyOnWrite => "cow",
        }
    }

    /// Which image holds the lookup table and data area, if the variant has one.
    pub fn table_image(self) -> Option<Image> {
        match self {
            Variant::WriteMirroring => None,
            Variant::WriteLogging => Some(Image::B),
            Variant::CopyOnWrite => Some(Image::A),
        }
    }

    /// Blocks each image must hold for a volume of `volume_blocks` blocks with a data
    /// area of `area_slots` slots: `(image A, image B)`.
    pub fn image_blocks(self, volume_blocks: u64, area_slots: u64) -> (u64, u64) {
        match self {
            Variant::WriteMirroring => (volume_blocks, volume_blocks),
            Variant::WriteLogging => (volume_blocks, area_slots),
            Variant::CopyOnWrite => (area_slots, volume_blocks),
        }
    }

    /// Whether `image` holds the data area's slots (write logging's image B,
    /// copy-on-write's image A), not volume blocks at their own addresses.
    pub fn area_image(self, image: Image) -> bool {
        matches!(
            (self, image),
            (Variant::WriteLogging, Image::B) | (Variant::CopyOnWrite, Image::A)
        )
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mirroring" | "write-mirroring" => Ok(Variant::WriteMirroring),
            "logging" | "write-logging" => Ok(Variant::WriteLogging),
            "cow" | "copy-on-write" => Ok(Variant::CopyOnWrite),
            other => Err(format!(
                "unknown variant `{other}` (expected mirroring, logging or cow)"
            )),
        }
    }
}

/// One of the two virtual volumes the device presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Vlun {
    /// The original volume: before the split, the only one; after it, used only by the
    /// transactions that were active at the split, and finally archived.
    A,
    /// The volume created at the split: new transactions use it, and it goes on as the
    /// live volume after A is retired.
    B,
}

impl std::fmt::Display for Vlun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Vlun::A => "VLUN A",
            Vlun::B => "VLUN B",
        })
    }
}

/// One of the two storage images: the physical stores under the VLUNs (the patent's
/// "storage image A" and "storage image B", \[0058\]). Hosts address a [`Vlun`]; the
/// device routes each call to one image or both (DESIGN.md §2, "Routing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Image {
    /// Storage image A: the volume (mirroring, write logging) or copy-on-write's area
    /// of preserved blocks.
    A,
    /// Storage image B: the mirror (mirroring), write logging's log area, or the
    /// volume (copy-on-write).
    B,
}

impl std::fmt::Display for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Image::A => "image A",
            Image::B => "image B",
        })
    }
}

/// The geometry of a device: block size, volume size, data-area size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Bytes per block.
    pub block_size: usize,
    /// Blocks in each VLUN.
    pub volume_blocks: u64,
    /// Data-area slots for write logging and copy-on-write (ignored by mirroring).
    pub area_slots: u64,
}

/// Where the device is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Before the backup request: one volume, reached as VLUN A.
    Single,
    /// After the split: VLUN A (old transactions) and VLUN B (new ones) both live.
    Split,
    /// VLUN A was declared consistent and archived; it is read-only now.
    BackedUp,
    /// VLUN A is gone and its extra space freed; VLUN B is the live volume.
    Retired,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Single => "single volume",
            Phase::Split => "split",
            Phase::BackedUp => "backed up",
            Phase::Retired => "retired",
        })
    }
}
