//! Device and archive profiles: named sets of sourced defaults for `[device]` and
//! `[archive]` (`profile = "hdd-7200"`, `profile = "1gbe"`). A profile only changes
//! defaults: every key the file gives explicitly overrides the profile's value.
//! 1 tick = 1 µs. The source of every figure is in `scenarios/README.md` ("Profiles");
//! the figures that are assumptions say so there and here.

use serde::{Deserialize, Serialize};

use crate::archive::ArchiveConfig;
use crate::clock::Tick;
use crate::device_model::DeviceModelConfig;

/// A storage device whose published figures set `[device]`'s defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceProfile {
    /// A 7,200 rpm disk with its volatile write cache off (write-through: a write is
    /// acknowledged once on the platter), after the HGST Ultrastar 7K4000
    /// specification: a positioning of average seek 8.2 ms (read and write) + average
    /// rotational latency 4.16 ms (half of 8.33 ms per revolution) per block read or
    /// write, and each block's transfer at a 7,200 rpm disk's sustained media rate
    /// ([`HDD_TRANSFER_BYTES_PER_S`]), so a run of contiguous blocks read in one call
    /// positions once; one actuator (1 channel); a flush finds no cached data (0.1 ms,
    /// an assumption); a journal sync is a positioned write to the journal's area
    /// (12.36 ms).
    #[serde(rename = "hdd-7200")]
    Hdd7200,
    /// A SATA SSD after the Samsung 870 EVO datasheet: QD1 4 KiB random read 13,000
    /// IOPS (77 µs), random write 36,000 IOPS (28 µs); 8 channels (its QD32 read IOPS,
    /// 98,000, over its QD1 IOPS: 7.5); 2 write slots (its QD32 write IOPS, 88,000,
    /// × 28 µs = 2.5 writes in flight, rounded down: 71,429 sustained write IOPS);
    /// flush 1 ms (no power-loss protection: the order measured on consumer drives,
    /// an assumption for this one); sequential read 560 MB/s, a read continuing a run
    /// ([`SATA_SSD_SEQUENTIAL_READ_BYTES_PER_S`]).
    SataSsd,
    /// A datacenter NVMe SSD with power-loss protection after the Intel SSD DC P4500
    /// 2 TB specification: random 4 KiB read latency 85 µs, write 20 µs; 490,000 read
    /// IOPS × 85 µs ≈ 42 requests in flight (42 channels, Little's law); 38,000
    /// random write IOPS × 20 µs = 0.76 writes in flight (1 write slot: 50,000
    /// sustained write IOPS); flush 50 µs (within the 12-58 µs measured on datacenter
    /// NVMe drives with power-loss protection); sequential read 3.2 GB/s, a read
    /// continuing a run ([`NVME_SSD_SEQUENTIAL_READ_BYTES_PER_S`]).
    NvmeSsd,
}

impl DeviceProfile {
    /// The profile's defaults (the keys it does not set keep the plain defaults).
    pub fn config(self) -> DeviceModelConfig {
        let base = DeviceModelConfig::default();
        match self {
            DeviceProfile::Hdd7200 => DeviceModelConfig {
                read_latency_ticks: HDD_POSITIONING_TICKS,
                write_latency_ticks: HDD_POSITIONING_TICKS,
                flush_latency_ticks: 100,
                journal_sync_latency_ticks: Some(HDD_POSITIONING_TICKS),
                channels: 1,
                transfer_bytes_per_s: HDD_TRANSFER_BYTES_PER_S,
                ..base
            },
            DeviceProfile::SataSsd => DeviceModelConfig {
                read_latency_ticks: 77,
                write_latency_ticks: 28,
                flush_latency_ticks: 1_000,
                channels: 8,
                write_channels: Some(2),
                sequential_read_bytes_per_s: SATA_SSD_SEQUENTIAL_READ_BYTES_PER_S,
                ..base
            },
            DeviceProfile::NvmeSsd => DeviceModelConfig {
                read_latency_ticks: 85,
                write_latency_ticks: 20,
                flush_latency_ticks: 50,
                channels: 42,
                write_channels: Some(1),
                sequential_read_bytes_per_s: NVME_SSD_SEQUENTIAL_READ_BYTES_PER_S,
                ..base
            },
        }
    }
}

/// One random block access on the 7,200 rpm disk: average seek 8.2 ms + average
/// rotational latency 4.16 ms.
pub const HDD_POSITIONING_TICKS: Tick = 8_200 + 4_160;

/// The 7,200 rpm disk's sustained media transfer rate, bytes per second: 140 MB/s, the
/// "sustained data transfer rate (MB/s max)" of Seagate's Constellation ES, a 7,200
/// rpm enterprise SATA drive (Constellation ES Serial ATA Product Manual, Rev. D,
/// §3.4; one MB = 10^6 bytes). The figure is the fastest (outer) zone's: inner zones
/// transfer about half as fast, so a copy across the whole disk is somewhat slower
/// than priced. A 16 KiB block takes 118 ticks (117.03 µs rounded up), under 1 % of a
/// positioning; a 64-block extent of them read as one run 7,490 (7,489.8 µs, its bytes
/// rounded up once).
pub const HDD_TRANSFER_BYTES_PER_S: u64 = 140_000_000;

/// The SATA SSD's sequential read rate, bytes per second: 560 MB/s, Samsung's "sequential
/// read up to 560 MB/s" for the 870 EVO (one MB = 10^6 bytes).
pub const SATA_SSD_SEQUENTIAL_READ_BYTES_PER_S: u64 = 560_000_000;

/// The NVMe SSD's sequential read rate, bytes per second: 3.2 GB/s, the "sequential read
/// rate" of the Intel SSD DC P4500 2.0 TB (Lenovo ThinkSystem P4500 product guide,
/// Table 2; one GB = 10^9 bytes). A 4 KiB block: 1.28 µs, against 85 µs a random read.
pub const NVME_SSD_SEQUENTIAL_READ_BYTES_PER_S: u64 = 3_200_000_000;

/// An archive target whose published figures set `[archive]`'s defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchiveProfile {
    /// A second local 7,200 rpm disk written sequentially: 171 MB/s sustained (an
    /// assumption of the order of the Ultrastar 7K4000's sustained rate), no per-extent
    /// latency.
    LocalDisk,
    /// A remote target over 1 Gb/s Ethernet: 117.7 MB/s of TCP payload
    /// ([`ethernet_payload_bytes_per_s`]), 200 µs per extent (a LAN round trip, an
    /// assumption).
    #[serde(rename = "1gbe")]
    Gbe1,
    /// The same over 10 Gb/s Ethernet: 1,176.9 MB/s, 50 µs per extent (an assumption).
    #[serde(rename = "10gbe")]
    Gbe10,
    /// An LTO-8 tape drive streaming: 360 MB/s native (LTO-8 specification); no
    /// per-extent latency (the drive buffers while it streams; loading and positioning
    /// the cartridge are not charged).
    #[serde(rename = "lto-8")]
    Lto8,
}

/// TCP payload bytes a second over Ethernet at `bits_per_s` on the wire: 1,448 bytes of
/// payload (a 1,500-byte MTU less 52 bytes of IP and TCP headers with timestamps) per
/// 1,538 bytes on the wire (with preamble, Ethernet header, FCS and inter-frame gap),
/// rounded down: 117,685,305 at 1 Gb/s.
pub const fn ethernet_payload_bytes_per_s(bits_per_s: u64) -> u64 {
    bits_per_s / 8 * 1448 / 1538
}

impl ArchiveProfile {
    /// The profile's defaults (the keys it does not set keep the plain defaults).
    pub fn config(self) -> ArchiveConfig {
        let base = ArchiveConfig::default();
        let (latency_ticks, bandwidth_bytes_per_s) = match self {
            ArchiveProfile::LocalDisk => (0, 171_000_000),
            ArchiveProfile::Gbe1 => (200, ethernet_payload_bytes_per_s(1_000_000_000)),
            ArchiveProfile::Gbe10 => (50, ethernet_payload_bytes_per_s(10_000_000_000)),
            ArchiveProfile::Lto8 => (0, 360_000_000),
        };
        ArchiveConfig {
            latency_ticks,
            bandwidth_bytes_per_s,
            ..base
        }
    }
}

/// `[device]` as a file gives it: every key optional, so that the ones given override
/// the profile's defaults and the others take them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceModelFile {
    profile: Option<DeviceProfile>,
    read_latency_ticks: Option<Tick>,
    write_latency_ticks: Option<Tick>,
    table_update_latency_ticks: Option<Tick>,
    table_lookup_latency_ticks: Option<Tick>,
    flush_latency_ticks: Option<Tick>,
    journal_sync_latency_ticks: Option<Tick>,
    journaled: Option<bool>,
    integrity: Option<bool>,
    journal_lane: Option<bool>,
    channels: Option<u32>,
    write_channels: Option<u32>,
    jitter_ticks_max: Option<Tick>,
    transfer_bytes_per_s: Option<u64>,
    sequential_read_bytes_per_s: Option<u64>,
}

impl From<DeviceModelFile> for DeviceModelConfig {
    fn from(f: DeviceModelFile) -> Self {
        let d = f
            .profile
            .map_or_else(DeviceModelConfig::default, |p| p.config());
        DeviceModelConfig {
            profile: f.profile,
            read_latency_ticks: f.read_latency_ticks.unwrap_or(d.read_latency_ticks),
            write_latency_ticks: f.write_latency_ticks.unwrap_or(d.write_latency_ticks),
            table_update_latency_ticks: f
                .table_update_latency_ticks
                .unwrap_or(d.table_update_latency_ticks),
            table_lookup_latency_ticks: f
                .table_lookup_latency_ticks
                .unwrap_or(d.table_lookup_latency_ticks),
            flush_latency_ticks: f.flush_latency_ticks.unwrap_or(d.flush_latency_ticks),
            journal_sync_latency_ticks: f
                .journal_sync_latency_ticks
                .or(d.journal_sync_latency_ticks),
            journaled: f.journaled.unwrap_or(d.journaled),
            integrity: f.integrity.unwrap_or(d.integrity),
            journal_lane: f.journal_lane.unwrap_or(d.journal_lane),
            channels: f.channels.unwrap_or(d.channels),
            write_channels: f.write_channels.or(d.write_channels),
            jitter_ticks_max: f.jitter_ticks_max.unwrap_or(d.jitter_ticks_max),
            transfer_bytes_per_s: f.transfer_bytes_per_s.unwrap_or(d.transfer_bytes_per_s),
            sequential_read_bytes_per_s: f
                .sequential_read_bytes_per_s
                .unwrap_or(d.sequential_read_bytes_per_s),
        }
    }
}

/// `[archive]` as a file gives it (see [`DeviceModelFile`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArchiveFile {
    profile: Option<ArchiveProfile>,
    latency_ticks: Option<Tick>,
    bandwidth_bytes_per_s: Option<u64>,
    rate_limit_bytes_per_s: Option<u64>,
    extent_blocks: Option<u64>,
    sparse: Option<bool>,
    skip_block_for_mutant_test: Option<u64>,
    drop_mirrored_writes_for_mutant_test: Option<bool>,
}

impl From<ArchiveFile> for ArchiveConfig {
    fn from(f: ArchiveFile) -> Self {
        let d = f
            .profile
            .map_or_else(ArchiveConfig::default, |p| p.config());
        ArchiveConfig {
            profile: f.profile,
            latency_ticks: f.latency_ticks.unwrap_or(d.latency_ticks),
            bandwidth_bytes_per_s: f.bandwidth_bytes_per_s.unwrap_or(d.bandwidth_bytes_per_s),
            rate_limit_bytes_per_s: f.rate_limit_bytes_per_s.unwrap_or(d.rate_limit_bytes_per_s),
            extent_blocks: f.extent_blocks.unwrap_or(d.extent_blocks),
            sparse: f.sparse.unwrap_or(d.sparse),
            skip_block_for_mutant_test: f.skip_block_for_mutant_test,
            drop_mirrored_writes_for_mutant_test: f
                .drop_mirrored_writes_for_mutant_test
                .unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(src: &str) -> DeviceModelConfig {
        toml::from_str(src).expect("parses")
    }

    fn archive(src: &str) -> ArchiveConfig {
        toml::from_str(src).expect("parses")
    }

    #[test]
    fn a_device_profile_sets_its_values_and_explicit_keys_override_them() {
        let hdd = device("profile = \"hdd-7200\"");
        assert_eq!(hdd.read_latency_ticks, 12_360);
        assert_eq!(hdd.write_latency_ticks, 12_360);
        assert_eq!(hdd.journal_sync_latency(), 12_360);
        assert_eq!(hdd.channels, 1);
        assert_eq!(hdd.profile, Some(DeviceProfile::Hdd7200));
        // Keys the profile does not set keep the plain defaults.
        let plain = DeviceModelConfig::default();
        assert_eq!(hdd.jitter_ticks_max, plain.jitter_ticks_max);
        assert_eq!(
            hdd.table_update_latency_ticks,
            plain.table_update_latency_ticks
        );

        let raid = device("profile = \"hdd-7200\"\nchannels = 3\nread_latency_ticks = 7");
        assert_eq!((raid.channels, raid.read_latency_ticks), (3, 7));
        assert_eq!(raid.write_latency_ticks, 12_360);
        // The disk's media rate, overridable like every key; 0 turns it off.
        assert_eq!(hdd.transfer_bytes_per_s, HDD_TRANSFER_BYTES_PER_S);
        assert_eq!(raid.transfer_bytes_per_s, HDD_TRANSFER_BYTES_PER_S);
        let flat = device("profile = \"hdd-7200\"\ntransfer_bytes_per_s = 0");
        assert_eq!(
            (flat.transfer_bytes_per_s, flat.read_latency_ticks),
            (0, 12_360)
        );
        assert_eq!(plain.transfer_bytes_per_s, 0);

        let ssd = device("profile = \"sata-ssd\"");
        assert_eq!((ssd.read_latency_ticks, ssd.write_latency_ticks), (77, 28));
        assert_eq!((ssd.flush_latency_ticks, ssd.channels), (1_000, 8));
        assert_eq!(ssd.transfer_bytes_per_s, 0);
        // The SSDs' published sequential read rates; overridable, 0 turns it off.
        assert_eq!(
            ssd.sequential_read_bytes_per_s,
            SATA_SSD_SEQUENTIAL_READ_BYTES_PER_S
        );
        assert_eq!(plain.sequential_read_bytes_per_s, 0);
        assert_eq!(hdd.sequential_read_bytes_per_s, 0);
        let off = device("profile = \"nvme-ssd\"\nsequential_read_bytes_per_s = 0");
        assert_eq!(
            (off.sequential_read_bytes_per_s, off.read_latency_ticks),
            (0, 85)
        );
        assert_eq!(
            device("profile = \"nvme-ssd\"").sequential_read_bytes_per_s,
            NVME_SSD_SEQUENTIAL_READ_BYTES_PER_S
        );
        let nvme = device("profile = \"nvme-ssd\"\nflush_latency_ticks = 9");
        assert_eq!(
            (nvme.read_latency_ticks, nvme.write_latency_ticks),
            (85, 20)
        );
        assert_eq!((nvme.flush_latency_ticks, nvme.channels), (9, 42));
        assert_eq!(
            (ssd.write_channels, nvme.write_channels),
            (Some(2), Some(1))
        );
        // A profile's write slots are overridable; without one, writes take channels.
        let nvme = device("profile = \"nvme-ssd\"\nwrite_channels = 3");
        assert_eq!((nvme.write_slots(), nvme.channels), (3, 42));
        assert_eq!((hdd.write_channels, hdd.write_slots()), (None, 1));
        assert_eq!(raid.write_slots(), 3);

        // No profile: the plain defaults, and nothing new in a serialised copy.
        assert_eq!(device(""), plain);
        let text = toml::to_string(&plain).expect("serialises");
        assert!(!text.contains("profile"), "{text}");
    }

    #[test]
    fn an_archive_profile_sets_its_values_and_explicit_keys_override_them() {
        let gbe = archive("profile = \"1gbe\"");
        assert_eq!(
            (gbe.bandwidth_bytes_per_s, gbe.latency_ticks),
            (117_685_305, 200)
        );
        // 10^9 / 8 × 1,448 / 1,538 = 117,685,305.6, as scenarios/README.md derives it.
        assert_eq!(ethernet_payload_bytes_per_s(1_000_000_000), 117_685_305);
        assert_eq!(gbe.extent_blocks, ArchiveConfig::default().extent_blocks);
        let tape = archive("profile = \"lto-8\"\nrate_limit_bytes_per_s = 1000");
        assert_eq!(tape.bandwidth_bytes_per_s, 360_000_000);
        assert_eq!(tape.effective_bytes_per_s(), 1000);
        let ten = archive("profile = \"10gbe\"\nlatency_ticks = 1");
        assert_eq!(
            (ten.bandwidth_bytes_per_s, ten.latency_ticks),
            (1_176_853_055, 1)
        );
        let disk = archive("profile = \"local-disk\"");
        assert_eq!(disk.bandwidth_bytes_per_s, 171_000_000);
        assert_eq!(archive(""), ArchiveConfig::default());
    }

    #[test]
    fn a_serialised_profile_reads_back_to_the_same_values() {
        let mut d = device("profile = \"sata-ssd\"\nchannels = 2");
        d.read_latency_ticks = 5;
        let back: DeviceModelConfig =
            toml::from_str(&toml::to_string(&d).expect("serialises")).expect("parses");
        assert_eq!(back, d);
        let a = archive("profile = \"lto-8\"\nextent_blocks = 3");
        let back: ArchiveConfig =
            toml::from_str(&toml::to_string(&a).expect("serialises")).expect("parses");
        assert_eq!(back, a);
    }

    #[test]
    fn unknown_profile_names_are_refused() {
        let e = toml::from_str::<DeviceModelConfig>("profile = \"floppy\"").unwrap_err();
        assert!(e.message().contains("hdd-7200"), "{e}");
        assert!(e.span().is_some());
        let e = toml::from_str::<ArchiveConfig>("profile = \"carrier-pigeon\"").unwrap_err();
        assert!(e.message().contains("lto-8"), "{e}");
        let e = toml::from_str::<DeviceModelConfig>("chanels = 3").unwrap_err();
        assert!(e.message().contains("chanels"), "{e}");
    }
}
