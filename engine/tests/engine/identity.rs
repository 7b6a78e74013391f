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
