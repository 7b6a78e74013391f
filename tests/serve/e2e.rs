//! The pull-backup life cycle of every variant through real clients: qemu-io writes on
//! `vlun-a` (old transactions), split, qemu-io and fio write `vlun-b`, qemu-img convert
//! and nbdcopy pull `vlun-a`, `owm device backup` pushes it, and qemu-img compare finds
//! all three equal to the expected image; retire; `vlun-b` holds every write; detach.

use std::process::Command;

use super::harness::{have, images_identical, qemu_io, run_ok, Server};

const BLOCKS: u64 = 512; // 2 MiB of 4 KiB blocks
const KIB: usize = 1024;

fn fill(img: &mut [u8], offset: usize, len: usize, byte: u8) {
    img[offset..offset + len].fill(byte);
}

fn life_cycle(variant: &str) {
    if !have(&["nbdkit", "qemu-io", "qemu-img", "nbdcopy", "fio"]) {
        return;
    }
    let s = Server::create(variant, BLOCKS);
    let size = BLOCKS as usize * 4 * KIB;
    let mut expect_a = vec![0u8; size];

    // Old transactions write VLUN A (one write not block-aligned: 512 B at 1 MiB + 512).
    let a = s.uri("vlun-a");
    qemu_io(
        &a,
        &[
            "write -P 0x11 0 256k".into(),
            format!("write -P 0x12 {} 512", 1024 * KIB + 512),
            "flush".into(),
        ],
    );
    fill(&mut expect_a, 0, 256 * KIB, 0x11);
    fill(&mut expect_a, 1024 * KIB + 512, 512, 0x12);
    qemu_io(&a, &["read -P 0x11 0 256k".into()]);

    // The backup request.
    s.device_ok(&["split"]);
    let status = s.device_ok(&["status", "--json"]);
    assert!(status.contains("\"phase\":\"split\""), "{status}");

    // New transactions write VLUN B: qemu-io, then fio (random 4 KiB writes, queue
    // depth 8, each block of its range once, every byte 0x44).
    let b = s.uri("vlun-b");
    let mut expect_b = expect_a.clone();
    qemu_io(&b, &["write -P 0x22 128k 256k".into(), "flush".into()]);
    fill(&mut expect_b, 128 * KIB, 256 * KIB, 0x22);
    run_ok(Command::new("fio").args([
        "--name=vlun-b",
        "--ioengine=nbd",
        &format!("--uri={b}"),
        "--rw=randwrite",
        "--bs=4k",
        "--iodepth=8",
        "--offset=1536k",
        "--size=256k",
        "--buffer_pattern=0x44",
        "--end_fsync=1",
    ]));
    fill(&mut expect_b, 1536 * KIB, 256 * KIB, 0x44);

    // VLUN A is unchanged by all of it: pull it with two tools, push it with the engine.
    let expected_a = s.path("expected-a.img");
    std::fs::write(&expected_a, &expect_a).unwrap();
    let pulled_qemu = s.path("pull-qemu-img.img");
    let pulled_nbdcopy = s.path("pull-nbdcopy.img");
    let pushed = s.path("backup.img");
    run_ok(
        Command::new("qemu-img")
            .args(["convert", "-f", "raw", "-O", "raw", &a])
            .arg(&pulled_qemu),
    );
    run_ok(Command::new("nbdcopy").arg(&a).arg(&pulled_nbdcopy));
    s.device_ok(&["backup", "--to", pushed.to_str().unwrap()]);
    for img in [&pulled_qemu, &pulled_nbdcopy, &pushed] {
        assert!(
            images_identical(&expected_a, img),
            "{variant}: {} differs from VLUN A's expected image",
            img.display()
        );
    }
    let status = s.device_ok(&["status", "--json"]);
    assert!(status.contains("\"archive_completed\":true"), "{status}");

    // Retire: VLUN A is gone, VLUN B has every write, the extra space is free; under
    // mirroring image A stays, kept for the next split's incremental resync.
    s.device_ok(&["retire"]);
    let status = s.device_ok(&["status", "--json"]);
    assert!(status.contains("\"phase\":\"retired\""), "{status}");
    assert!(status.contains("\"extra_space_blocks\":0"), "{status}");
    let kept = if variant == "mirroring" { BLOCKS } else { 0 };
    assert!(
        status.contains(&format!("\"kept_image_blocks\":{kept}")),
        "{variant}: {status}"
    );
    let o = Command::new("qemu-img")
        .args(["info", "-f", "raw", &a])
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "{variant}: vlun-a is still served after retire"
    );
    let expected_b = s.path("expected-b.img");
    std::fs::write(&expected_b, &expect_b).unwrap();
    let pulled_b = s.path("pull-b.img");
    run_ok(
        Command::new("qemu-img")
            .args(["convert", "-f", "raw", "-O", "raw", &b])
            .arg(&pulled_b),
    );
    assert!(
        images_identical(&expected_b, &pulled_b),
        "{variant}: VLUN B lost a write"
    );

    // Detach: B' holds VLUN B, and the server stops by itself.
    let b_prime = s.path("b-prime.img");
    s.device_ok(&["detach", "--to", b_prime.to_str().unwrap()]);
    assert!(
        images_identical(&expected_b, &b_prime),
        "{variant}: B' differs"
    );
    let mut s = s;
    let status = s.child.wait().unwrap();
    assert!(
        status.success(),
        "{variant}: server exit after detach: {status}"
    );
}

#[test]
fn mirroring_life_cycle_through_nbd() {
    life_cycle("mirroring");
}

#[test]
fn logging_life_cycle_through_nbd() {
    life_cycle("logging");
}

#[test]
fn cow_life_cycle_through_nbd() {
    life_cycle("cow");
}
