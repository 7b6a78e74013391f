//! Issue 13's cases 2 and 3: every file of a file device is bound to it. Swapped
//! images, another device's metadata or image, metadata of another geometry, resized,
//! stale and unlabelled files, and metadata of the first format are each refused with
//! a typed error naming the file that does not belong and why; nothing is served.

use std::path::Path;

use engine::file::{self, DevicePaths, Geometry};
use engine::{DeviceConfig, Error, Image, Mismatch, Variant, Vlun};

use crate::common::{read, scratch_dir};

const BS: usize = 512;
const N: u64 = 16;

fn geometry(area_slots: u64) -> Geometry {
    Geometry {
        block_size: BS,
        volume_blocks: N,
        area_slots,
    }
}

/// A closed device of `variant` in a new directory: 1 everywhere through A, split,
/// B0 = 4, flushed.
fn made(variant: Variant, g: Geometry) -> (tempfile::TempDir, DevicePaths) {
    let dir = scratch_dir();
    let paths = DevicePaths::in_dir(dir.path());
    let d = file::create(&paths, DeviceConfig::new(variant), g).unwrap();
    for b in 0..g.volume_blocks {
        d.write(Vlun::A, b, &vec![1; g.block_size]).unwrap();
    }
    d.split().unwrap();
    d.write(Vlun::B, 0, &vec![4; g.block_size]).unwrap();
    d.flush().unwrap();
    (dir, paths)
}

/// The bytes of each of the device's four files (`None` for one that is missing).
fn files(paths: &DevicePaths) -> Vec<Option<Vec<u8>>> {
    let sb = engine::superblock::path_of(&paths.meta);
    [&paths.meta, &sb, &paths.image_a, &paths.image_b]
        .iter()
        .map(|p| std::fs::read(p).ok())
        .collect()
}

/// Opening `paths` as `variant` must fail naming `file` with a mismatch `is` accepts;
/// [`file::inspect`] must refuse it first with the same words, changing no file.
fn refused(paths: &DevicePaths, variant: Variant, file: &Path, is: impl Fn(&Mismatch) -> bool) {
    let before = files(paths);
    let inspected = file::inspect(paths, DeviceConfig::new(variant));
    assert!(files(paths) == before, "{variant}: inspect changed a file");
    let Err(inspected) = inspected else {
        panic!("{variant}: inspect accepted what open must refuse")
    };
    let opened = file::open(paths, DeviceConfig::new(variant));
    if let Err(e) = &opened {
        assert_eq!(inspected.to_string(), e.to_string(), "{variant}");
    }
    match opened {
        Err(e @ Error::Identity { .. }) => {
            let Error::Identity {
                file: named,
                mismatch,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(named, &file.display().to_string(), "{variant}: {e}");
            assert!(is(mismatch), "{variant}: {e}");
            assert!(e.to_string().contains("does not belong"), "{e}");
        }
        Err(e) => panic!("{variant}: expected an identity error, got {e}"),
        Ok(_) => panic!("{variant}: opened"),
    }
}

fn copy_meta(from: &DevicePaths, to: &DevicePaths) {
    std::fs::copy(&from.meta, &to.meta).unwrap();
    let sb = |p: &DevicePaths| engine::superblock::path_of(&p.meta);
    std::fs::copy(sb(from), sb(to)).unwrap();
}

/// Case 2: images A and B swapped — equal sizes (mirroring always, logging and
/// copy-on-write with a data area the volume's size) and unequal — say "swapped",
/// naming image A's path; swapped back, the device opens with its data.
#[test]
fn swapped_images_are_refused_as_swapped() {
    for area in [N, 8] {
        for variant in Variant::ALL {
            let (_dir, paths) = made(variant, geometry(area));
            let tmp = paths.image_a.with_extension("tmp");
            let swap = || {
                std::fs::rename(&paths.image_a, &tmp).unwrap();
                std::fs::rename(&paths.image_b, &paths.image_a).unwrap();
                std::fs::rename(&tmp, &paths.image_b).unwrap();
            };
            swap();
            refused(&paths, variant, &paths.image_a, |m| {
                *m == Mismatch::Swapped {
                    expected: Image::A,
                    found: Image::B,
                }
            });
            let text = file::open(&paths, DeviceConfig::new(variant))
                .err()
                .unwrap()
                .to_string();
            assert!(text.contains("swapped"), "{text}");
            swap();
            let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
            assert_eq!(read(&d, Vlun::A, 0), vec![1; BS], "{variant}");
            assert_eq!(read(&d, Vlun::B, 0), vec![4; BS], "{variant}");
        }
    }
}

/// Case 3: the metadata of another device of the same variant and geometry beside
/// this device's images, and metadata of a device of another geometry (1024-byte
/// blocks, 8 blocks): the metadata file is named as the one that does not belong.
/// An image of another device beside this one's metadata names that image.
#[test]
fn another_devices_metadata_or_image_is_refused() {
    for variant in Variant::ALL {
        let (_d1, one) = made(variant, geometry(8));
        let (_d2, two) = made(variant, geometry(8));
        let other_geometry = Geometry {
            block_size: 1024,
            volume_blocks: 8,
            area_slots: 8,
        };
        let (_d3, three) = made(variant, other_geometry);

        let (_d4, mixed) = made(variant, geometry(8));
        copy_meta(&two, &mixed);
        refused(&mixed, variant, &mixed.meta, |m| {
            matches!(m, Mismatch::Foreign { .. })
        });
        copy_meta(&three, &mixed);
        refused(&mixed, variant, &mixed.meta, |m| {
            matches!(m, Mismatch::Foreign { .. })
        });

        std::fs::copy(&two.image_b, &one.image_b).unwrap();
        refused(&one, variant, &one.image_b, |m| {
            matches!(m, Mismatch::Foreign { .. })
        });
    }
}

/// Stale files: an image, or the metadata, kept from before two opens and put back.
/// Resized: an image grown by a block. Unlabelled: a raw image of the right size.
/// Damaged label: an image of its own length whose label was zeroed.
#[test]
fn stale_resized_and_unlabelled_images_are_refused() {
    for variant in Variant::ALL {
        let (dir, paths) = made(variant, geometry(8));
        let kept = std::cell::Cell::new(0);
        let keep = |p: &Path| {
            kept.set(kept.get() + 1);
            let to = dir.path().join(format!("kept-{}", kept.get()));
            std::fs::copy(p, &to).unwrap();
            to
        };
        let old_a = keep(&paths.image_a);
        let old_meta = keep(&paths.meta);
        let old_super = keep(&engine::superblock::path_of(&paths.meta));
        for _ in 0..2 {
            let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
            d.write(Vlun::B, 1, &[5; BS]).unwrap();
            d.flush().unwrap();
        }
        let new_a = keep(&paths.image_a);
        std::fs::copy(&old_a, &paths.image_a).unwrap();
        refused(&paths, variant, &paths.image_a, |m| {
            matches!(
                m,
                Mismatch::Stale {
                    expected_generation: 2,
                    found_generation: 0
                }
            )
        });
        std::fs::copy(&new_a, &paths.image_a).unwrap();

        let new_meta = keep(&paths.meta);
        let new_super = keep(&engine::superblock::path_of(&paths.meta));
        std::fs::copy(&old_meta, &paths.meta).unwrap();
        std::fs::copy(&old_super, engine::superblock::path_of(&paths.meta)).unwrap();
        refused(&paths, variant, &paths.meta, |m| {
            matches!(m, Mismatch::Stale { .. })
        });
        std::fs::copy(&new_meta, &paths.meta).unwrap();
        std::fs::copy(&new_super, engine::superblock::path_of(&paths.meta)).unwrap();

        let kept_b = keep(&paths.image_b);
        let len = std::fs::metadata(&paths.image_b).unwrap().len();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&paths.image_b)
            .unwrap();
        f.set_len(len + BS as u64).unwrap();
        refused(&paths, variant, &paths.image_b, |m| {
            *m == Mismatch::Resized {
                expected_bytes: len,
                found_bytes: len + BS as u64,
            }
        });
        f.set_len(len - engine::identity::LABEL_BYTES).unwrap();
        refused(&paths, variant, &paths.image_b, |m| *m == Mismatch::NoLabel);
        let cut = file::open(&paths, DeviceConfig::new(variant))
            .err()
            .unwrap()
            .to_string();
        assert!(
            cut.contains("looks truncated") && cut.contains("label cut off"),
            "an image cut by its label says so: {cut}"
        );
        // Cut inside its label and grown back to its length (the label zeroed, or
        // overwritten in place): a damaged label, not a resize to the same length.
        f.set_len(len - 1).unwrap();
        f.set_len(len).unwrap();
        refused(&paths, variant, &paths.image_b, |m| {
            *m == Mismatch::DamagedLabel
        });
        let text = file::open(&paths, DeviceConfig::new(variant))
            .err()
            .unwrap()
            .to_string();
        assert!(
            text.contains("label") && !text.contains("resized"),
            "{text}"
        );
        drop(f);

        // The current files, put back, open with every flushed write.
        std::fs::copy(&kept_b, &paths.image_b).unwrap();
        let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
        assert_eq!(read(&d, Vlun::B, 1), vec![5; BS], "{variant}");
        assert_eq!(read(&d, Vlun::B, 0), vec![4; BS], "{variant}");
    }
}

/// Stale metadata after ONE open: the metadata file and its superblock kept while the
/// device was closed, one open that wrote and flushed, then both put back. The images'
/// labels are one generation ahead of the kept metadata, which recorded no open to
/// that generation, so it is refused as stale, naming the metadata file (opened, it
/// would drop the flushed write's table entry). The current files open with it.
#[test]
fn metadata_kept_from_before_one_open_is_refused_as_stale() {
    for variant in Variant::ALL {
        let (dir, paths) = made(variant, geometry(8));
        let sb = engine::superblock::path_of(&paths.meta);
        let keep = |from: &Path, name: &str| {
            let to = dir.path().join(name);
            std::fs::copy(from, &to).unwrap();
            to
        };
        let (old_meta, old_super) = (keep(&paths.meta, "old-meta"), keep(&sb, "old-super"));
        let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
        d.write(Vlun::B, 3, &[9; BS]).unwrap();
        d.flush().unwrap();
        drop(d);
        let (new_meta, new_super) = (keep(&paths.meta, "new-meta"), keep(&sb, "new-super"));
        std::fs::copy(&old_meta, &paths.meta).unwrap();
        std::fs::copy(&old_super, &sb).unwrap();
        refused(&paths, variant, &paths.meta, |m| {
            *m == Mismatch::Stale {
                expected_generation: 1,
                found_generation: 0,
            }
        });
        // The metadata alone put back (the current superblock beside it): refused,
        // naming it (shorter than the length the superblock records, or stale).
        std::fs::copy(&new_super, &sb).unwrap();
        match file::open(&paths, DeviceConfig::new(variant)) {
            Err(Error::Meta(e)) => assert_eq!(e.path, paths.meta.display().to_string()),
            Err(Error::Identity { file, mismatch }) => {
                assert_eq!(file, paths.meta.display().to_string());
                assert!(matches!(mismatch, Mismatch::Stale { .. }), "{mismatch}");
            }
            Err(e) => panic!("{variant}: {e}"),
            Ok(_) => panic!("{variant}: opened"),
        }
        std::fs::copy(&new_meta, &paths.meta).unwrap();
        let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
        assert_eq!(read(&d, Vlun::B, 3), vec![9; BS], "{variant}");
        assert_eq!(read(&d, Vlun::A, 3), vec![1; BS], "{variant}");
    }
}

/// Metadata of the first format (no identity) is refused with a message that says
/// so, never read as this format.
#[test]
fn metadata_of_the_first_format_is_refused() {
    let (_dir, paths) = made(Variant::CopyOnWrite, geometry(8));
    let mut bytes = std::fs::read(&paths.meta).unwrap();
    bytes[..8].copy_from_slice(engine::meta::MAGIC_V1);
    std::fs::write(&paths.meta, &bytes).unwrap();
    match file::open(&paths, DeviceConfig::new(Variant::CopyOnWrite)) {
        Err(Error::Meta(e)) => {
            assert_eq!(e.path, paths.meta.display().to_string());
            assert!(e.reason.contains("older owm"), "{e}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
}

/// Two devices never share an id; each open advances the generation.
#[test]
fn ids_are_drawn_per_device_and_opens_advance_the_generation() {
    let (_d1, one) = made(Variant::WriteLogging, geometry(8));
    let (_d2, two) = made(Variant::WriteLogging, geometry(8));
    let config = DeviceConfig::new(Variant::WriteLogging);
    let a = file::open(&one, config.clone()).unwrap().identity();
    let b = file::open(&two, config.clone()).unwrap().identity();
    assert_ne!(a.device_id, b.device_id);
    assert_eq!(a.generation, 1);
    let again = file::open(&one, config).unwrap().identity();
    assert_eq!((again.device_id, again.generation), (a.device_id, 2));
}

/// The device id of the device in `paths`, as text.
fn id_of(paths: &DevicePaths, variant: Variant) -> String {
    file::inspect(paths, DeviceConfig::new(variant))
        .unwrap()
        .id_text()
}

/// [`refused`] with the exact words: `file: does not belong to this device: belongs
/// to device FOUND, not to device EXPECTED`.
fn refused_as_foreign(
    paths: &DevicePaths,
    variant: Variant,
    file: &Path,
    found: &str,
    expected: &str,
) {
    refused(paths, variant, file, |m| {
        *m == Mismatch::Foreign {
            expected: expected.to_string(),
            found: found.to_string(),
        }
    });
    let text = file::open(paths, DeviceConfig::new(variant))
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        text,
        format!(
            "{}: does not belong to this device: belongs to device {found}, not to device \
             {expected}",
            file.display()
        ),
        "{variant}"
    );
}

/// Refused by [`file::inspect`] and [`file::open`] with the same error, changing no
/// file; the error's text is returned.
fn refused_text(paths: &DevicePaths, variant: Variant) -> String {
    let before = files(paths);
    let Err(inspected) = file::inspect(paths, DeviceConfig::new(variant)) else {
        panic!("{variant}: inspect accepted it")
    };
    assert!(files(paths) == before, "{variant}: inspect changed a file");
    let Err(opened) = file::open(paths, DeviceConfig::new(variant)) else {
        panic!("{variant}: opened")
    };
    assert!(
        files(paths) == before,
        "{variant}: a refused open changed a file"
    );
    assert_eq!(inspected.to_string(), opened.to_string(), "{variant}");
    opened.to_string()
}

/// The superblock of another device beside this one's journal and images, of the same
/// geometry and of another one, recording a shorter durable length (a new device's)
/// or a longer one: refused, naming `device.owm.super` and both ids, before its length
/// is trusted (the shorter one would let a cut of this journal through; the longer one
/// would call this whole journal cut). The metadata file alone of another device is
/// refused the same way, naming `device.owm`, never as cut. Put back, every file its
/// own, the device opens with its data.
#[test]
fn another_devices_superblock_or_journal_is_refused_naming_it() {
    let other_geometry = Geometry {
        block_size: 1024,
        volume_blocks: 8,
        area_slots: 8,
    };
    for variant in Variant::ALL {
        let (_d1, ours) = made(variant, geometry(8));
        let our_id = id_of(&ours, variant);
        let fresh = |g: Geometry| {
            let dir = scratch_dir();
            let paths = DevicePaths::in_dir(dir.path());
            drop(file::create(&paths, DeviceConfig::new(variant), g).unwrap());
            (dir, paths)
        };
        let (_d2, same) = fresh(geometry(8));
        let (_d3, other) = fresh(other_geometry);
        // Another device whose superblock records more than this journal holds.
        let (_d4, longer) = fresh(geometry(8));
        let theirs_all = [&same, &other, &longer].map(|p| (p, id_of(p, variant)));
        let longer_sb = engine::superblock::read(&longer.meta).unwrap();
        let longer_gen = longer_sb.generation.unwrap();
        let copy = engine::superblock::Superblock::current(
            100,
            longer_sb.device_id,
            longer_gen,
            longer_sb.nonce,
            1 << 20,
        );
        engine::superblock::write(&longer.meta, &copy).unwrap();
        let sb = |p: &DevicePaths| engine::superblock::path_of(&p.meta);
        let len = |p: &Path| std::fs::metadata(p).unwrap().len();
        let durable = |p: &DevicePaths| engine::superblock::read(&p.meta).unwrap().durable_len;
        assert!(durable(&same) < len(&ours.meta), "{variant}");
        assert!(durable(&longer) > len(&ours.meta), "{variant}");
        let kept = scratch_dir();
        let keep = |p: &Path| {
            let to = kept.path().join(p.file_name().unwrap());
            std::fs::copy(p, &to).unwrap();
            to
        };
        let (our_meta, our_sb) = (keep(&ours.meta), keep(&sb(&ours)));
        for (theirs, their_id) in &theirs_all {
            std::fs::copy(sb(theirs), sb(&ours)).unwrap();
            refused_as_foreign(&ours, variant, &sb(&ours), their_id, &our_id);
            std::fs::copy(&our_sb, sb(&ours)).unwrap();

            if theirs.meta == longer.meta {
                continue; // its journal is the one of `same`'s kind
            }
            std::fs::copy(&theirs.meta, &ours.meta).unwrap();
            refused_as_foreign(&ours, variant, &ours.meta, their_id, &our_id);
            let text = refused_text(&ours, variant);
            assert!(!text.contains("cut"), "{variant}: {text}");
            std::fs::copy(&our_meta, &ours.meta).unwrap();
        }
        let d = file::open(&ours, DeviceConfig::new(variant)).unwrap();
        assert_eq!(d.identity().id_text(), our_id);
        assert_eq!(read(&d, Vlun::A, 1), vec![1; BS], "{variant}");
        assert_eq!(read(&d, Vlun::B, 0), vec![4; BS], "{variant}");
    }
}

/// Files of two devices two against two, other than this device's images beside
/// another's metadata pair (image B and the superblock of another device; image A and
/// the superblock), or two files that name devices (both images unlabelled, the
/// superblock another device's): which device is this one cannot be told, so each
/// file is named with its device, and nothing is changed.
#[test]
fn files_of_two_devices_that_cannot_be_told_apart_are_named_each() {
    let variant = Variant::CopyOnWrite;
    let (_d1, ours) = made(variant, geometry(8));
    let (_d2, theirs) = made(variant, geometry(8));
    let (our_id, their_id) = (id_of(&ours, variant), id_of(&theirs, variant));
    let sb = |p: &DevicePaths| engine::superblock::path_of(&p.meta);
    let name = |p: &Path| p.display().to_string();
    let kept = scratch_dir();
    let keep = |p: &Path| {
        let to = kept.path().join(p.file_name().unwrap());
        std::fs::copy(p, &to).unwrap();
        to
    };
    let (our_sb, our_a, our_b) = (keep(&sb(&ours)), keep(&ours.image_a), keep(&ours.image_b));
    std::fs::copy(sb(&theirs), sb(&ours)).unwrap();
    for (image, their_image, our_image, kept_image) in [
        (&ours.image_b, &theirs.image_b, &ours.image_a, &our_b),
        (&ours.image_a, &theirs.image_a, &ours.image_b, &our_a),
    ] {
        std::fs::copy(their_image, image).unwrap();
        let text = refused_text(&ours, variant);
        assert_eq!(
            text,
            format!(
                "the device's files belong to different devices ({} and {} to device \
                 {our_id}; {} and {} to device {their_id}): which of them are this \
                 device's cannot be told; put the four files of one device together",
                name(&ours.meta),
                name(our_image),
                name(&sb(&ours)),
                name(image),
            )
        );
        std::fs::copy(kept_image, image).unwrap();
    }
    // Both images unlabelled: the journal and the superblock alone name devices.
    for image in [&ours.image_a, &ours.image_b] {
        let f = std::fs::OpenOptions::new().write(true).open(image).unwrap();
        let len = f.metadata().unwrap().len();
        f.set_len(len - engine::identity::LABEL_BYTES).unwrap();
    }
    let text = refused_text(&ours, variant);
    assert_eq!(
        text,
        format!(
            "the device's files belong to different devices ({} to device {our_id}; {} to \
             device {their_id}): which of them are this device's cannot be told; put the \
             four files of one device together",
            name(&ours.meta),
            name(&sb(&ours)),
        )
    );
    // Its own superblock back: the images are refused as unlabelled.
    std::fs::copy(&our_sb, sb(&ours)).unwrap();
    refused(&ours, variant, &ours.image_a, |m| *m == Mismatch::NoLabel);
    std::fs::copy(&our_a, &ours.image_a).unwrap();
    std::fs::copy(&our_b, &ours.image_b).unwrap();
    let d = file::open(&ours, DeviceConfig::new(variant)).unwrap();
    assert_eq!(read(&d, Vlun::B, 0), vec![4; BS]);
}

/// A superblock of the first format (two 20-byte copies `seq | durable_len | crc32`,
/// no device id), as an older version wrote it beside this journal: refused as made
/// by an older version, naming it, by inspect and open alike, changing no file.
#[test]
fn a_superblock_of_the_older_format_is_refused_as_older() {
    let variant = Variant::WriteLogging;
    let (_dir, paths) = made(variant, geometry(8));
    let sb = engine::superblock::path_of(&paths.meta);
    let len = std::fs::metadata(&paths.meta).unwrap().len();
    let mut old = Vec::new();
    for seq in [4u64, 5] {
        let mut copy = seq.to_le_bytes().to_vec();
        copy.extend_from_slice(&len.to_le_bytes());
        let crc = crc32fast::hash(&copy);
        copy.extend_from_slice(&crc.to_le_bytes());
        old.extend_from_slice(&copy);
    }
    std::fs::write(&sb, &old).unwrap();
    let text = refused_text(&paths, variant);
    assert!(
        text.starts_with(&format!(
            "{}: made by an older version of owm (superblock format 1, which names no device)",
            sb.display()
        )),
        "{text}"
    );
    assert!(!text.contains("damaged"), "{text}");
    match file::open(&paths, DeviceConfig::new(variant)) {
        Err(Error::Meta(e)) => assert_eq!(e.path, sb.display().to_string()),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
}

/// Every superblock write records the device id: at creation, at each flush, and
/// through the compaction of each open (its length-0 record and the one after it).
#[test]
fn the_superblock_names_its_device_through_flushes_and_opens() {
    for variant in Variant::ALL {
        let (_dir, paths) = made(variant, geometry(8));
        let named = || engine::superblock::read(&paths.meta).unwrap().device_id;
        let id = file::inspect(&paths, DeviceConfig::new(variant))
            .unwrap()
            .device_id;
        assert_eq!(named(), id, "{variant}: after create and flush");
        let before = engine::superblock::read(&paths.meta).unwrap().seq;
        for _ in 0..2 {
            let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
            assert_eq!(named(), id, "{variant}: after the open's compaction");
            d.write(Vlun::B, 2, &[6; BS]).unwrap();
            d.flush().unwrap();
            assert_eq!(named(), id, "{variant}: after a flush");
        }
        let after = engine::superblock::read(&paths.meta).unwrap().seq;
        assert!(after > before + 2, "{variant}: {before} -> {after}");
        let sb = std::fs::read(engine::superblock::path_of(&paths.meta)).unwrap();
        assert_eq!(sb.len() as u64, 2 * engine::superblock::COPY_BYTES);
        for copy in sb.chunks(engine::superblock::COPY_BYTES as usize) {
            assert_eq!(&copy[..8], engine::superblock::MAGIC, "{variant}");
            assert_eq!(&copy[8..24], &id[..], "{variant}: both copies name it");
        }
    }
}
