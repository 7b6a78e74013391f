//! The simulated disk's durability model (ARCHITECTURE.md §2), one statement per test:
//! flushed writes survive, unflushed ones meet the caller's fate, the write in flight
//! tears at sector granularity, the journal keeps a prefix of its unsynced appends, and
//! the same choices give the same result (no randomness of its own).

use engine::meta::Journal;
use engine::meta::{decode, MetaRecord, MEM_JOURNAL_NAME};
use engine::{BlockStore, CrashStore, CrashSwitch, Fate, MemJournal, MemStore};

const BS: usize = 32;

fn disk() -> CrashStore<MemStore> {
    CrashStore::new(MemStore::new(BS, 4).unwrap(), 8)
}

fn read(s: &impl BlockStore, b: u64) -> Vec<u8> {
    let mut buf = vec![0u8; BS];
    s.read_block(b, &mut buf).unwrap();
    buf
}

#[test]
fn flushed_writes_survive_and_unflushed_ones_meet_their_fate() {
    let d = disk();
    d.write_block(0, &[1; BS]).unwrap();
    d.flush().unwrap();
    d.write_block(0, &[2; BS]).unwrap();
    d.write_block(1, &[3; BS]).unwrap();
    assert_eq!(read(&d, 0), [2; BS], "reads see the cache");
    assert_eq!(read(d.durable(), 0), [1; BS], "the medium does not yet");
    // Keep the write to block 1, lose the one to block 0.
    d.crash(|w| if w.block == 1 { Fate::Kept } else { Fate::Lost })
        .unwrap();
    assert_eq!(read(&d, 0), [1; BS]);
    assert_eq!(read(&d, 1), [3; BS]);
    assert!(d.pending().is_empty());
}

#[test]
fn the_write_in_flight_fails_and_may_tear_at_sector_granularity() {
    let d = disk();
    let switch = CrashSwitch::after(1);
    d.set_switch(Some(switch.clone()));
    d.write_block(0, &[1; BS]).unwrap();
    assert!(d.write_block(1, &[2; BS]).is_err(), "operation 1 is cut");
    assert!(d.write_block(2, &[3; BS]).is_err(), "the machine is down");
    assert!(switch.tripped());
    let pending = d.pending();
    assert_eq!(pending.len(), 2);
    assert!(pending[1].in_flight && !pending[0].in_flight);
    // Sectors 0 and 2 of the in-flight write land, 1 and 3 do not.
    d.crash(|w| {
        if w.in_flight {
            Fate::Torn(vec![true, false, true, false])
        } else {
            Fate::Lost
        }
    })
    .unwrap();
    let got = read(&d, 1);
    assert_eq!(&got[..8], &[2; 8]);
    assert_eq!(&got[8..16], &[0; 8]);
    assert_eq!(&got[16..24], &[2; 8]);
    assert_eq!(read(&d, 0), [0; BS]);
    d.write_block(3, &[4; BS]).unwrap(); // restarted, disarmed
}

#[test]
fn the_journal_keeps_a_prefix_of_its_unsynced_appends() {
    let j = MemJournal::new();
    let mut w = j.clone();
    w.compact(&[MetaRecord::Clear]).unwrap();
    w.append(&MetaRecord::Remove { block: 1 }).unwrap();
    w.sync().unwrap();
    w.append(&MetaRecord::Remove { block: 2 }).unwrap();
    w.append(&MetaRecord::Remove { block: 3 }).unwrap();
    let frame = MetaRecord::Remove { block: 2 }.encode().len();
    // Keep the first unsynced frame and half of the second: a torn append, dropped.
    j.crash(|len| {
        assert_eq!(len, 2 * frame);
        frame + frame / 2
    });
    let d = decode(MEM_JOURNAL_NAME, &j.durable_bytes()).unwrap();
    let records: Vec<_> = d.records.into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        records,
        [
            MetaRecord::Clear,
            MetaRecord::Remove { block: 1 },
            MetaRecord::Remove { block: 2 }
        ]
    );
    assert!(d.valid_len < j.durable_bytes().len() as u64);
}

#[test]
fn the_same_choices_give_the_same_disk() {
    let run = |seed: u64| {
        let d = disk();
        for b in 0..4 {
            d.write_block(b, &[b as u8 + 1; BS]).unwrap();
        }
        let mut x = seed;
        d.crash(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if x >> 63 == 1 {
                Fate::Kept
            } else {
                Fate::Lost
            }
        })
        .unwrap();
        d.into_durable().to_bytes()
    };
    for seed in 0..8 {
        assert_eq!(run(seed), run(seed));
    }
}

/// Recovery refuses, with typed errors, a journal for another variant, images of
/// another geometry, and bytes that are not a journal.
#[test]
fn recover_refuses_a_journal_that_does_not_fit() {
    use engine::{Device, DeviceConfig, Error, Variant};
    let journal = MemJournal::new();
    let d = Device::with_journal(
        DeviceConfig::new(Variant::CopyOnWrite),
        MemStore::new(BS, 4).unwrap(),
        MemStore::new(BS, 4).unwrap(),
        journal.clone(),
    )
    .unwrap();
    d.split().unwrap();
    drop(d);
    let fresh = |n| MemStore::new(BS, n).unwrap();
    let config = |v| DeviceConfig::new(v);
    let wrong_variant = Device::recover(
        config(Variant::WriteLogging),
        fresh(4),
        fresh(4),
        journal.clone(),
    );
    assert!(matches!(wrong_variant, Err(Error::Meta(_))));
    let wrong_size = Device::recover(
        config(Variant::CopyOnWrite),
        fresh(4),
        fresh(5),
        journal.clone(),
    );
    assert!(matches!(wrong_size, Err(Error::Meta(_))));
    let garbage = Device::recover(
        config(Variant::CopyOnWrite),
        fresh(4),
        fresh(4),
        MemJournal::from_bytes(b"not a journal".to_vec()),
    );
    assert!(matches!(garbage, Err(Error::Meta(_))));
    let ok = Device::recover(config(Variant::CopyOnWrite), fresh(4), fresh(4), journal).unwrap();
    assert_eq!(ok.phase(), engine::Phase::Split);
}
