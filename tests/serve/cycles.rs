//! A served device backed up on a schedule (split, backup, retire, split again, …):
//! at every cycle, not only the first, a connection opened before the split is an old
//! transaction that finishes on that cycle's VLUN A, a connection opened after it is a
//! new one on VLUN B until the next split makes it old, and a connection of an earlier
//! cycle is refused (`EPERM`), its writes reaching neither an archive nor VLUN B.
//! Archives are compared byte for byte with the expected VLUN A, and VLUN B after each
//! retire with the expected live volume.

use super::client::{Nbd, EPERM};
use super::harness::{have, Server};

const BLOCKS: u64 = 16;
const BS: usize = 4096;

/// A connection and the cycle its transactions belong to (for the messages).
struct Conn {
    nbd: Nbd,
    what: String,
}

fn connect(s: &Server, export: &str, what: String) -> Conn {
    let nbd = Nbd::connect(&s.socket(), export)
        .unwrap_or_else(|e| panic!("{what}: export `{export}` refused: {e}"));
    Conn { nbd, what }
}

impl Conn {
    /// Writes block `block` full of `byte`: the reply's error.
    fn write(&mut self, block: u64, byte: u8) -> u32 {
        self.nbd
            .write(block * BS as u64, &[byte; BS])
            .expect("the server replies")
    }

    fn write_ok(&mut self, block: u64, byte: u8) {
        assert_eq!(
            self.write(block, byte),
            0,
            "{}: write of block {block}",
            self.what
        );
    }

    fn read(&mut self, block: u64) -> Result<Vec<u8>, u32> {
        self.nbd
            .read(block * BS as u64, BS as u32)
            .expect("the server replies")
    }

    /// Every request is refused: a write (nothing reaches any VLUN) and a read.
    fn refused(&mut self, block: u64, when: &str) {
        let what = self.what.clone();
        assert_eq!(
            self.nbd.write(block * BS as u64, &[0xEE; BS]).unwrap(),
            EPERM,
            "{what} {when}: a write must be refused"
        );
        assert_eq!(
            self.read(block),
            Err(EPERM),
            "{what} {when}: a read must be refused"
        );
    }
}

fn set(img: &mut [u8], block: u64, byte: u8) {
    img[block as usize * BS..(block as usize + 1) * BS].fill(byte);
}

/// The whole volume as `export` reads it now.
fn read_volume(s: &Server, export: &str) -> Vec<u8> {
    let mut c = Nbd::connect(&s.socket(), export).expect("export");
    c.read(0, (BLOCKS as usize * BS) as u32)
        .expect("the server replies")
        .expect("the volume reads")
}

/// The first byte of each block, for assertion messages.
fn firsts(img: &[u8]) -> Vec<u8> {
    img.chunks(BS).map(|b| b[0]).collect()
}

/// `cycles` backup cycles of `variant`. At cycle k (1-based), with fills of its own:
/// - `old` (opened before split k, on the live volume: the default export, `vlun`,
///   `vlun-b` in turn) writes block 0, split k, then writes block 1: archive k holds
///   both, as does VLUN B after the retire; once the backup started its write is
///   refused, and once VLUN A is retired every request of it;
/// - `carried` (opened after split k-1, a new connection of cycle k-1) wrote VLUN B
///   through cycle k-1's retire, writes block 2 before split k and block 3 after it:
///   it is an old transaction of cycle k;
/// - `new` (opened after split k) writes block 4 on VLUN B before the backup, block 5
///   after the retire, and is carried into cycle k+1;
/// - `pull` (`vlun-a` opened after split k) reads VLUN A read-only until the retire;
/// - every connection of an earlier cycle is refused, before and after the backup.
///
/// At cycle 1 a `vlun-a` connection opened before the split is an old transaction too
/// (block 6), and stale from cycle 2 on.
fn scheduled(variant: &str, cycles: u8) {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create_logged(variant, BLOCKS);
    let mut live = vec![0u8; BLOCKS as usize * BS];
    let mut stale: Vec<Conn> = Vec::new();
    let mut carried: Option<Conn> = None;
    for k in 1..=cycles {
        let export = ["", "vlun", "vlun-b"][usize::from(k - 1) % 3];
        let export = if k == 1 && export == "vlun-b" {
            ""
        } else {
            export
        };
        let mut old = connect(&s, export, format!("{variant} cycle {k}: old `{export}`"));
        let mut old_a =
            (k == 1).then(|| connect(&s, "vlun-a", format!("{variant} cycle {k}: old `vlun-a`")));
        let (t, c, n1, n2) = (0x10 + k, 0x20 + k, 0x30 + k, 0x40 + k);

        // Before the split: the live volume.
        old.write_ok(0, t);
        set(&mut live, 0, t);
        if let Some(c_conn) = carried.as_mut() {
            c_conn.write_ok(2, c);
            set(&mut live, 2, c);
        }
        for st in &mut stale {
            st.refused(7, &format!("before split {k}"));
        }

        s.device_ok(&["split"]);
        let mut expect_a = live.clone();

        // The old transactions finish on VLUN A.
        old.write_ok(1, t);
        set(&mut expect_a, 1, t);
        set(&mut live, 1, t);
        if let Some(c_conn) = carried.as_mut() {
            c_conn.write_ok(3, c);
            set(&mut expect_a, 3, c);
            set(&mut live, 3, c);
        }
        if let Some(a) = old_a.as_mut() {
            a.write_ok(6, 0x66);
            set(&mut expect_a, 6, 0x66);
            set(&mut live, 6, 0x66);
        }
        assert_eq!(
            old.read(0),
            Ok(vec![t; BS]),
            "{variant} cycle {k}: the old transaction reads VLUN A"
        );

        // New transactions write VLUN B.
        let new_export = if k % 2 == 1 { "vlun-b" } else { "" };
        let mut new = connect(
            &s,
            new_export,
            format!("{variant} cycle {k}: new `{new_export}`"),
        );
        new.write_ok(4, n1);
        set(&mut live, 4, n1);
        assert_eq!(new.read(1), Ok(vec![t; BS]), "{variant} cycle {k}: VLUN B");
        let mut pull = connect(&s, "vlun-a", format!("{variant} cycle {k}: pull `vlun-a`"));
        assert!(pull.nbd.read_only(), "{}: read-only", pull.what);
        assert_eq!(
            pull.read(4),
            Ok(expect_a[4 * BS..5 * BS].to_vec()),
            "{variant} cycle {k}: VLUN A does not see VLUN B's write"
        );
        for st in &mut stale {
            st.refused(7, &format!("after split {k}"));
        }

        // The backup: archive k is VLUN A at the split plus the old transactions.
        let archive = s.path(&format!("a{k}.img"));
        s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
        let got = std::fs::read(&archive).unwrap();
        assert!(
            got == expect_a,
            "{variant} cycle {k}: archive {} differs: first bytes by block {:02x?}, \
             expected {:02x?}",
            archive.display(),
            firsts(&got),
            firsts(&expect_a)
        );
        assert_eq!(
            old.write(1, 0xEE),
            EPERM,
            "{variant} cycle {k}: VLUN A is frozen once the backup started"
        );
        for st in &mut stale {
            st.refused(7, &format!("after backup {k}"));
        }

        s.device_ok(&["retire"]);
        old.refused(1, &format!("after retire {k}"));
        if let Some(c_conn) = carried.as_mut() {
            c_conn.refused(3, &format!("after retire {k}"));
        }
        if let Some(a) = old_a.as_mut() {
            a.refused(6, &format!("after retire {k}"));
        }
        pull.refused(4, &format!("after retire {k}"));
        new.write_ok(5, n2);
        set(&mut live, 5, n2);
        for st in &mut stale {
            st.refused(7, &format!("after retire {k}"));
        }
        let got = read_volume(&s, "");
        assert!(
            got == live,
            "{variant} cycle {k}: VLUN B after the retire: first bytes by block \
             {:02x?}, expected {:02x?}",
            firsts(&got),
            firsts(&live)
        );

        stale.push(old);
        stale.extend(old_a);
        stale.extend(carried.take());
        stale.push(pull);
        carried = Some(new);
    }
    // The stale connections wrote nothing anywhere, and were told why.
    assert!(read_volume(&s, "") == live, "{variant}: VLUN B at the end");
    let log = s.log();
    for why in [
        "opened before the split of the current backup cycle (an old transaction on \
         VLUN A), and that VLUN A was retired",
        "opened before an earlier backup cycle",
        "this connection's VLUN A (read-only, of the backup cycle it was opened in) was \
         retired",
    ] {
        assert!(
            log.contains(why),
            "{variant}: the server's log lacks `{why}`:\n{log}"
        );
    }
}

#[test]
fn mirroring_two_cycles() {
    scheduled("mirroring", 2);
}

#[test]
fn mirroring_three_cycles() {
    scheduled("mirroring", 3);
}

#[test]
fn logging_two_cycles() {
    scheduled("logging", 2);
}

#[test]
fn logging_three_cycles() {
    scheduled("logging", 3);
}

#[test]
fn cow_two_cycles() {
    scheduled("cow", 2);
}

#[test]
fn cow_three_cycles() {
    scheduled("cow", 3);
}

/// A server started again mid-cycle (its connections gone) routes new connections by
/// the device's phase: after the split the default export is VLUN B and `vlun-a` the
/// read-only VLUN A; a connection opened then becomes an old transaction at the next
/// split, whose archive holds its whole transaction.
#[test]
fn restarted_mid_cycle_routes_new_connections() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", BLOCKS);
    let mut live = vec![0u8; BLOCKS as usize * BS];
    let mut c = connect(&s, "", "before split 1".into());
    c.write_ok(0, 0x11);
    set(&mut live, 0, 0x11);
    drop(c);
    s.device_ok(&["split"]);
    let expect_a1 = live.clone();
    assert!(s.terminate().success());
    s.restart();

    let mut b = connect(&s, "", "after the restart".into());
    b.write_ok(2, 0x22);
    set(&mut live, 2, 0x22);
    let mut pull = connect(&s, "vlun-a", "pull after the restart".into());
    assert!(pull.nbd.read_only());
    assert_eq!(pull.read(2), Ok(vec![0; BS]), "VLUN A after the restart");
    let a1 = s.path("a1.img");
    s.device_ok(&["backup", "--to", a1.to_str().unwrap()]);
    assert!(std::fs::read(&a1).unwrap() == expect_a1, "archive 1");
    s.device_ok(&["retire"]);
    pull.refused(2, "after retire 1");

    // Cycle 2: the connection opened after the restart is an old transaction.
    b.write_ok(3, 0x33);
    set(&mut live, 3, 0x33);
    s.device_ok(&["split"]);
    b.write_ok(4, 0x33);
    set(&mut live, 4, 0x33);
    let a2 = s.path("a2.img");
    s.device_ok(&["backup", "--to", a2.to_str().unwrap()]);
    let got = std::fs::read(&a2).unwrap();
    assert!(
        got == live,
        "archive 2: {:02x?}, expected {:02x?}",
        firsts(&got),
        firsts(&live)
    );
    s.device_ok(&["retire"]);
    b.refused(4, "after retire 2");
    assert!(read_volume(&s, "") == live, "VLUN B after retire 2");
}

/// Two-block requests on one connection, without pause, across the second cycle's split
/// and backup: every write acknowledged before the backup is in archive 2 (the request
/// cut by the backup's start at most left its first block there), whether it was served
/// before the split (VLUN B, frozen into VLUN A) or after it (VLUN A).
fn racing_the_second_split(variant: &str) {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::Arc;
    let s = Server::create_logged(variant, BLOCKS);
    s.device_ok(&["split"]);
    let a1 = s.path("a1.img");
    s.device_ok(&["backup", "--to", a1.to_str().unwrap()]);
    s.device_ok(&["retire"]);

    let mut c = Nbd::connect(&s.socket(), "").expect("default export");
    let acked = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        std::thread::spawn(move || {
            for v in 1u32.. {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let data: Vec<u8> = v.to_le_bytes().repeat(2 * BS / 4);
                match c.write(0, &data).expect("the server replies") {
                    0 => acked.store(v, Ordering::Release),
                    e => {
                        assert_eq!(e, EPERM, "a write refused other than by the backup");
                        break;
                    }
                }
            }
        })
    };
    // Started once the writer is writing, and backed up once it has had a write
    // acknowledged after the split.
    while acked.load(Ordering::Acquire) == 0 {
        std::thread::yield_now();
    }
    s.device_ok(&["split"]);
    let at_split = acked.load(Ordering::Acquire);
    while acked.load(Ordering::Acquire) <= at_split + 1 {
        std::thread::yield_now();
    }
    let a2 = s.path("a2.img");
    s.device_ok(&["backup", "--to", a2.to_str().unwrap()]);
    stop.store(true, Ordering::Release);
    writer.join().expect("the writer");
    let last = acked.load(Ordering::Acquire);

    let got = std::fs::read(&a2).unwrap();
    let word =
        |block: usize| u32::from_le_bytes(got[block * BS..block * BS + 4].try_into().unwrap());
    for block in 0..2 {
        let w = word(block);
        assert!(
            got[block * BS..(block + 1) * BS] == w.to_le_bytes().repeat(BS / 4),
            "{variant}: archive 2's block {block} is torn"
        );
    }
    assert_eq!(
        word(1),
        last,
        "{variant}: archive 2 lacks writes acknowledged before its backup (split at \
         write {at_split})"
    );
    assert!(
        word(0) == last || word(0) == last + 1,
        "{variant}: archive 2's block 0 holds write {} (last acknowledged {last})",
        word(0)
    );
    assert!(
        got[2 * BS..].iter().all(|&b| b == 0),
        "{variant}: archive 2"
    );
}

#[test]
fn writes_racing_the_second_split_are_in_its_archive() {
    if !have(&["nbdkit"]) {
        return;
    }
    for variant in ["mirroring", "logging", "cow"] {
        racing_the_second_split(variant);
    }
}
