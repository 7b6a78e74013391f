//! Bad input from the world — short or misaligned images, corrupt, truncated or foreign
//! metadata, a device opened as the wrong variant — is a typed error whose message
//! names the file (and the byte offset where one is at fault), never a panic.

use std::fs::OpenOptions;

use engine::file::{self, DevicePaths, Geometry};
use engine::meta::{self, MetaRecord, MAGIC};
use engine::{
    Device, DeviceConfig, Error, FileStore, Image, MemStore, Phase, StoreError, Variant, Vlun,
};
use proptest::prelude::*;

use crate::common::pattern;

const BS: usize = 512;
const N: u64 = 16;

fn geometry() -> Geometry {
    Geometry {
        block_size: BS,
        volume_blocks: N,
        area_slots: N,
    }
}

/// A split file device in a fresh directory with `b_writes` blocks written through B
/// (each appends an `Insert` record for logging and copy-on-write), then closed.
fn made(variant: Variant, b_writes: u64) -> (tempfile::TempDir, DevicePaths) {
    let dir = crate::common::scratch_dir();
    let paths = DevicePaths::in_dir(dir.path());
    let d = file::create(&paths, DeviceConfig::new(variant), geometry()).unwrap();
    d.write(Vlun::A, 0, &pattern(BS, 0, 1)).unwrap();
    d.split().unwrap();
    for b in 0..b_writes {
        d.write(Vlun::B, b, &pattern(BS, b, 2)).unwrap();
    }
    (dir, paths)
}

fn open(paths: &DevicePaths, variant: Variant) -> engine::Result<Device<FileStore>> {
    file::open(paths, DeviceConfig::new(variant))
}

fn set_len(path: &std::path::Path, len: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// The metadata error `r` must be, with its message naming the file.
fn meta_error(r: engine::Result<Device<FileStore>>, paths: &DevicePaths) -> meta::MetaError {
    match r {
        Err(Error::Meta(e)) => {
            let shown = e.to_string();
            assert!(
                shown.contains(&paths.meta.display().to_string()),
                "message does not name the file: {shown}"
            );
            if let Some(o) = e.offset {
                assert!(shown.contains(&format!("byte {o}")), "no offset: {shown}");
            }
            e
        }
        Err(other) => panic!("expected a metadata error, got {other}"),
        Ok(_) => panic!("expected a metadata error, the device opened"),
    }
}

#[test]
fn short_image_is_a_typed_error_naming_the_file() {
    for variant in Variant::ALL {
        let (_dir, paths) = made(variant, 3);
        let image = if variant == Variant::CopyOnWrite {
            &paths.image_b // the volume lives on image B
        } else {
            &paths.image_a
        };
        let len = std::fs::metadata(image).unwrap().len();
        set_len(image, (N - 2) * BS as u64);
        match open(&paths, variant) {
            Err(e @ Error::Identity { .. }) => {
                let shown = e.to_string();
                assert!(shown.contains(&image.display().to_string()), "{shown}");
                assert!(
                    shown.contains(&format!("resized: {} bytes", (N - 2) * BS as u64)),
                    "{shown}"
                );
                assert!(shown.contains(&format!("image is {len} bytes")), "{shown}");
            }
            other => panic!("{variant}: expected Identity, got {:?}", other.err()),
        }
    }
}

#[test]
fn misaligned_image_is_a_typed_error_naming_the_file() {
    for variant in Variant::ALL {
        let (_dir, paths) = made(variant, 3);
        let len = std::fs::metadata(&paths.image_b).unwrap().len();
        set_len(&paths.image_b, len + 100);
        match open(&paths, variant) {
            Err(Error::Identity {
                file,
                mismatch:
                    engine::Mismatch::Resized {
                        expected_bytes,
                        found_bytes,
                    },
            }) => {
                assert_eq!(file, paths.image_b.display().to_string());
                assert_eq!((expected_bytes, found_bytes), (len, len + 100));
            }
            other => panic!("{variant}: expected Resized, got {:?}", other.err()),
        }
    }
    // The store alone says the same, and a missing image names its path.
    let dir = crate::common::scratch_dir();
    let path = dir.path().join("odd.img");
    std::fs::write(&path, vec![0u8; BS + 1]).unwrap();
    let e = FileStore::open(&path, BS, None).unwrap_err();
    assert!(matches!(e, StoreError::Misaligned { len, .. } if len == BS as u64 + 1));
    let e = FileStore::open(dir.path().join("absent.img"), BS, None).unwrap_err();
    assert!(e.to_string().contains("absent.img"), "{e}");
    let e = MemStore::from_bytes(BS, &[0u8; 513]).unwrap_err();
    assert!(matches!(e, StoreError::Misaligned { .. }));
}

#[test]
fn flipped_byte_in_the_journal_is_corruption_at_its_frame() {
    for variant in [Variant::WriteLogging, Variant::CopyOnWrite] {
        let (_dir, paths) = made(variant, 10);
        let mut bytes = std::fs::read(&paths.meta).unwrap();
        // A payload byte of the frame holding the file's middle byte (a flip of its
        // length field is a frame running past the end instead).
        let half = bytes.len() / 2;
        let mut frame = MAGIC.len();
        loop {
            let len = u32::from_le_bytes(bytes[frame..frame + 4].try_into().unwrap()) as usize;
            if frame + 8 + len > half {
                break;
            }
            frame += 8 + len;
        }
        let mid = half.max(frame + 8);
        bytes[mid] ^= 0x10;
        std::fs::write(&paths.meta, &bytes).unwrap();
        let e = meta_error(open(&paths, variant), &paths);
        let at = e.offset.expect("an offset");
        // The error points at the start of the frame holding the flipped byte.
        assert_eq!(at, frame as u64, "{e}");
        assert!(e.reason.contains("checksum"), "{e}");
    }
    // Mirroring journals only its phases: a flip in the header is caught too.
    let (_dir, paths) = made(Variant::WriteMirroring, 3);
    let mut bytes = std::fs::read(&paths.meta).unwrap();
    bytes[MAGIC.len() + 12] ^= 1;
    std::fs::write(&paths.meta, &bytes).unwrap();
    let e = meta_error(open(&paths, Variant::WriteMirroring), &paths);
    assert_eq!(e.offset, Some(MAGIC.len() as u64), "{e}");
}

#[test]
fn append_cut_short_is_dropped_but_a_cut_snapshot_is_corruption() {
    for variant in [Variant::WriteLogging, Variant::CopyOnWrite] {
        // A torn append (the last, unacknowledged record cut mid-way) is dropped:
        // the device reopens with the table as it was before that write.
        let dir = crate::common::scratch_dir();
        let paths = DevicePaths::in_dir(dir.path());
        // No journal syncs inside writes (process-crash safe), so the last append is
        // not one a sync made durable: the superblock does not cover it.
        let mut config = DeviceConfig::new(variant);
        config.durability = engine::Durability::ProcessCrashSafe;
        let d = file::create(&paths, config, geometry()).unwrap();
        d.split().unwrap();
        for b in 0..5 {
            d.write(Vlun::B, b, &pattern(BS, b, 3)).unwrap();
        }
        let table_before_last = d.table();
        d.write(Vlun::B, 9, &pattern(BS, 9, 3)).unwrap();
        drop(d);
        let len = std::fs::metadata(&paths.meta).unwrap().len();
        set_len(&paths.meta, len - 7);
        let d = open(&paths, variant).unwrap();
        assert_eq!(d.table(), table_before_last, "{variant}");
        assert_eq!(d.phase(), Phase::Split);
        // Reopening compacted the journal into one large table snapshot; cutting that
        // snapshot in the middle is not a torn append but corruption.
        drop(d);
        let len = std::fs::metadata(&paths.meta).unwrap().len();
        set_len(&paths.meta, len - 40);
        let e = meta_error(open(&paths, variant), &paths);
        assert!(
            e.reason.contains("past the end") || e.reason.contains("cut or damaged after"),
            "{e}"
        );
    }
}

#[test]
fn foreign_empty_missing_or_wrong_variant_metadata_are_typed_errors() {
    let (_dir, paths) = made(Variant::WriteLogging, 3);
    let good = std::fs::read(&paths.meta).unwrap();

    // Wrong variant: the journal says logging.
    let e = meta_error(open(&paths, Variant::CopyOnWrite), &paths);
    assert!(e.reason.contains("made for logging, not cow"), "{e}");
    assert_eq!(
        std::fs::read(&paths.meta).unwrap(),
        good,
        "a refused open wrote"
    );

    // Wrong magic.
    let mut bytes = good.clone();
    bytes[0] = b'X';
    std::fs::write(&paths.meta, &bytes).unwrap();
    let e = meta_error(open(&paths, Variant::WriteLogging), &paths);
    assert_eq!(e.offset, Some(0));
    assert!(e.reason.contains("magic"), "{e}");

    // Garbage of any length, and an empty file.
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&paths.meta, &garbage).unwrap();
    meta_error(open(&paths, Variant::WriteLogging), &paths);
    std::fs::write(&paths.meta, b"").unwrap();
    meta_error(open(&paths, Variant::WriteLogging), &paths);

    // The magic and then garbage: corruption at the first frame.
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&garbage);
    std::fs::write(&paths.meta, &bytes).unwrap();
    let e = meta_error(open(&paths, Variant::WriteLogging), &paths);
    assert_eq!(e.offset, Some(MAGIC.len() as u64));

    // No metadata file at all.
    std::fs::remove_file(&paths.meta).unwrap();
    let e = meta_error(open(&paths, Variant::WriteLogging), &paths);
    assert_eq!(e.offset, None);
}

#[test]
fn bad_calls_are_typed_errors() {
    let d = Device::in_memory(Variant::CopyOnWrite, BS, N).unwrap();
    let e = d.write(Vlun::A, N, &vec![0; BS]).unwrap_err();
    assert!(
        matches!(e, Error::OutOfRange { block, .. } if block == N),
        "{e}"
    );
    let e = d.write(Vlun::A, 1, &[0; 7]).unwrap_err();
    assert!(matches!(e, Error::BufferSize { len: 7, .. }), "{e}");
    let e = Device::new(
        DeviceConfig::new(Variant::WriteMirroring),
        MemStore::new(BS, N).unwrap(),
        MemStore::new(BS, N + 1).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Geometry { .. }), "{e}");
    assert!(MemStore::new(12, 1).is_err());
}

// ---- no input makes decode or replay panic ----

/// The header of a write-logging journal of 8 volume blocks of 512 bytes and 4 data
/// area slots.
fn logging_header(integrity: bool) -> MetaRecord {
    MetaRecord::Header {
        variant: Variant::WriteLogging,
        block_size: 512,
        volume_blocks: 8,
        area_slots: 4,
        device_id: [9; 16],
        generation: 2,
        integrity,
        nonce: 0x0123_4567_89ab_cdef,
    }
}

/// A valid journal covering every record kind.
fn valid_journal() -> Vec<u8> {
    let records = [
        logging_header(false),
        MetaRecord::Phase(Phase::Split),
        MetaRecord::Insert { block: 3, slot: 0 },
        MetaRecord::Insert { block: 5, slot: 1 },
        MetaRecord::Remove { block: 3 },
        MetaRecord::Insert { block: 7, slot: 0 },
        MetaRecord::Table {
            next_fresh: 2,
            peak: 2,
            free: vec![],
            entries: vec![(5, 1), (7, 0)],
        },
        MetaRecord::Phase(Phase::BackedUp),
        MetaRecord::Phase(Phase::Retired),
        MetaRecord::Remove { block: 5 },
        MetaRecord::Clear,
    ];
    let mut bytes = MAGIC.to_vec();
    for r in &records {
        bytes.extend_from_slice(&r.encode());
    }
    bytes
}

/// Decodes and, if that works, replays: either may fail, neither may panic.
fn decode_and_replay(bytes: &[u8]) -> Result<(), String> {
    let decoded = meta::decode("fuzz.owm", bytes).map_err(|e| e.to_string())?;
    assert!(decoded.valid_len as usize <= bytes.len());
    let restored = file::replay("fuzz.owm", &decoded.records).map_err(|e| e.to_string())?;
    if let Some(t) = &restored.table {
        assert!(t.in_use() <= t.capacity());
        assert!(t
            .entries()
            .all(|(b, s)| b < t.volume_blocks() && u64::from(s) < t.capacity()));
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Delete(usize, usize),
    DuplicateRange(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0..400usize;
    prop_oneof![
        (at.clone(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (at.clone(), any::<u8>()).prop_map(|(i, x)| Mutation::Set(i, x)),
        at.clone().prop_map(Mutation::Truncate),
        (at.clone(), any::<u8>()).prop_map(|(i, x)| Mutation::Insert(i, x)),
        (at.clone(), 1..30usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (at, 1..40usize).prop_map(|(i, n)| Mutation::DuplicateRange(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    let at = |i: usize| if len == 0 { 0 } else { i % len };
    match *m {
        Mutation::Flip(i, x) if len > 0 => bytes[at(i)] ^= x,
        Mutation::Set(i, x) if len > 0 => bytes[at(i)] = x,
        Mutation::Truncate(i) => bytes.truncate(at(i)),
        Mutation::Insert(i, x) => bytes.insert(at(i), x),
        Mutation::Delete(i, n) if len > 0 => {
            let s = at(i);
            bytes.drain(s..(s + n).min(len));
        }
        Mutation::DuplicateRange(i, n) if len > 0 => {
            let s = at(i);
            let piece = bytes[s..(s + n).min(len)].to_vec();
            bytes.splice(s..s, piece);
        }
        _ => {}
    }
}

fn record() -> impl Strategy<Value = MetaRecord> {
    let phase = prop_oneof![
        Just(Phase::Single),
        Just(Phase::Split),
        Just(Phase::BackedUp),
        Just(Phase::Retired)
    ];
    let small = 0..12u64;
    let slot = 0..12u32;
    prop_oneof![
        (0..3usize, 0..1024u32, 0..12u64, 0..12u64).prop_map(|(v, bs, n, a)| {
            MetaRecord::Header {
                variant: Variant::ALL[v],
                block_size: bs,
                volume_blocks: n,
                area_slots: a,
                device_id: [v as u8; 16],
                generation: n,
                integrity: a % 2 == 0,
                nonce: a.wrapping_mul(0x9e37_79b9),
            }
        }),
        phase.prop_map(MetaRecord::Phase),
        (small.clone(), slot.clone()).prop_map(|(block, slot)| MetaRecord::Insert { block, slot }),
        small.clone().prop_map(|block| MetaRecord::Remove { block }),
        Just(MetaRecord::Clear),
        small.clone().prop_map(|block| MetaRecord::Dirty { block }),
        small
            .clone()
            .prop_map(|block| MetaRecord::Diverged { block }),
        (any::<bool>(), small.clone(), small.clone()).prop_map(|(b, block, logical)| {
            MetaRecord::Unsummed {
                image: if b { Image::B } else { Image::A },
                block,
                logical,
            }
        }),
        Just(MetaRecord::FlushMark),
        Just(MetaRecord::Clean),
        (
            0..14u32,
            0..14u32,
            prop::collection::vec(slot.clone(), 0..6),
            prop::collection::vec((small, slot), 0..6)
        )
            .prop_map(|(next_fresh, peak, free, entries)| MetaRecord::Table {
                next_fresh,
                peak,
                free,
                entries,
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(magic in any::<bool>(), tail in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = if magic { MAGIC.to_vec() } else { Vec::new() };
        bytes.extend_from_slice(&tail);
        let _ = decode_and_replay(&bytes);
    }

    #[test]
    fn mutated_journals_never_panic(mutations in prop::collection::vec(mutation(), 1..4)) {
        let mut bytes = valid_journal();
        prop_assert!(decode_and_replay(&bytes).is_ok(), "the unmutated journal must replay");
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let _ = decode_and_replay(&bytes);
    }

    /// Well-framed records (valid checksums) in any order: decode gives back exactly
    /// what was encoded, and replay accepts or refuses without panicking.
    #[test]
    fn framed_records_round_trip_and_replay_never_panics(
        records in prop::collection::vec(record(), 0..12)
    ) {
        let mut bytes = MAGIC.to_vec();
        for r in &records {
            bytes.extend_from_slice(&r.encode());
        }
        let decoded = meta::decode("fuzz.owm", &bytes).unwrap();
        let back: Vec<MetaRecord> = decoded.records.into_iter().map(|(_, r)| r).collect();
        prop_assert_eq!(&back, &records);
        prop_assert_eq!(decoded.valid_len, bytes.len() as u64);
        let _ = decode_and_replay(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The whole open path on disk, with a mutated journal: a device or a typed error.
    #[test]
    fn open_with_a_mutated_journal_never_panics(
        v in 0..3usize,
        mutations in prop::collection::vec(mutation(), 1..3),
    ) {
        let variant = Variant::ALL[v];
        let (_dir, paths) = made(variant, 6);
        let mut bytes = std::fs::read(&paths.meta).unwrap();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        std::fs::write(&paths.meta, &bytes).unwrap();
        if let Ok(d) = open(&paths, variant) {
            let mut buf = vec![0u8; BS];
            for b in 0..N {
                for vlun in [Vlun::A, Vlun::B] {
                    let _ = d.read(vlun, b, &mut buf);
                }
            }
        }
    }
}

/// A frame of `payload` with a valid checksum.
fn framed(payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_le_bytes();
    let mut h = crc32fast::Hasher::new();
    h.update(&len);
    h.update(payload);
    let mut out = len.to_vec();
    out.extend_from_slice(&h.finalize().to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A well-framed record of a type no version writes is named as such, with its byte
/// offset; a known type with a payload of another shape names the type.
#[test]
fn a_record_of_unknown_type_is_named_with_its_byte() {
    let valid = valid_journal();
    let mut payload = vec![0u8; 13];
    for (tag, want) in [
        (14u8, "unknown record type 14"),
        (0xff, "unknown record type 255"),
        (9, "12 unexpected bytes after a record of type 9 (clean)"),
    ] {
        payload[0] = tag;
        let mut bytes = valid.clone();
        let at = bytes.len();
        bytes.extend_from_slice(&framed(&payload));
        // Not the last frame, nor within an append's reach of the end: not torn.
        bytes.extend_from_slice(&MetaRecord::Clear.encode().repeat(9));
        let e = meta::decode("fuzz.owm", &bytes).unwrap_err();
        assert_eq!(e.offset, Some(at as u64), "{e}");
        assert_eq!(
            e.to_string(),
            format!("fuzz.owm: byte {at}: {want}"),
            "type {tag}"
        );
    }
}

/// An unsummed mark is replayed only where it can be: on an integrity device, within
/// its image's data blocks (write logging's image B holds only the data area), naming
/// a volume block, and that block itself on a volume image (image A here); anywhere
/// else it is corruption at its byte.
#[test]
fn an_unsummed_mark_out_of_place_is_refused_at_its_byte() {
    let mark = |image, block, logical| MetaRecord::Unsummed {
        image,
        block,
        logical,
    };
    for (integrity, record, ok) in [
        (true, mark(Image::A, 7, 7), true),
        (true, mark(Image::B, 3, 6), true),
        (true, mark(Image::A, 8, 0), false),
        (true, mark(Image::B, 4, 0), false),
        (true, mark(Image::B, 0, 8), false),
        (true, mark(Image::A, 5, 6), false),
        (false, mark(Image::A, 0, 0), false),
    ] {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&logging_header(integrity).encode());
        let at = bytes.len() as u64;
        bytes.extend_from_slice(&record.encode());
        let decoded = meta::decode("m.owm", &bytes).unwrap();
        let replayed = file::replay("m.owm", &decoded.records);
        match replayed {
            Ok(s) => {
                assert!(ok, "{record:?} on integrity {integrity} accepted");
                let MetaRecord::Unsummed {
                    image,
                    block,
                    logical,
                } = record
                else {
                    unreachable!()
                };
                assert_eq!(s.unsummed.get(&(image, block)), Some(&logical));
            }
            Err(e) => {
                assert!(!ok, "{record:?}: {e}");
                assert_eq!(e.offset, Some(at), "{e}");
                assert!(e.to_string().contains("unsummed mark"), "{e}");
            }
        }
    }
}
