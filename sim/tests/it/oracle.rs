//! The oracle's invariants on small hand-built histories, the way the model checker
//! builds them: each invariant has a history that keeps it and one that breaks it
//! (so no check can pass vacuously), and the reported prefix is the smallest one.

use engine::Vlun;
use sim::history::{block_digest, stamp_of, write_record};
use sim::image::{Image, Initial};
use sim::{check_all, oracle, Event, History, Invariant, Layout};

const L: Layout = Layout {
    block_size: 32,
    volume_blocks: 2,
    record_size: 16,
};

/// Four records (two per block), all 100.
fn initial() -> Vec<u8> {
    let mut v = vec![0u8; L.image_bytes()];
    for r in 0..L.records() {
        write_record(&mut v[L.offset_in_image(r)..], 100, 0);
    }
    v
}

/// `image` with record `r` set to `value` by `txn`.
fn with(image: &[u8], r: u64, value: i64, txn: u32) -> Vec<u8> {
    let mut v = image.to_vec();
    write_record(&mut v[L.offset_in_image(r)..], value, stamp_of(txn));
    v
}

/// Whether `found` held, checked against `held`: a violation must be expected, sit at
/// event `at` and name each of `details`; `case` names the case in a failure.
fn held_iff(
    found: &Result<(), sim::Violation>,
    held: bool,
    at: usize,
    details: &[&str],
    case: &str,
) -> bool {
    match found {
        Ok(()) => assert!(held, "{case}: held"),
        Err(v) => {
            assert!(!held, "{case}: {v}");
            assert_eq!(v.event_index, at, "{case}: {v}");
            for d in details {
                assert!(v.detail.contains(d), "{case}: {v}");
            }
        }
    }
    found.is_ok()
}

/// `image` as a history holds it: its difference from [`initial`].
fn sp(image: &[u8]) -> Image {
    Image::diff(&L, &initial(), image)
}

fn block(image: &[u8], b: u64) -> u64 {
    let bs = L.block_size;
    block_digest(&image[b as usize * bs..(b as usize + 1) * bs])
}

/// txn 0 (OLD, on A) moves 10 from record 0 to record 2; txn 1 (NEW, on B) adds 5 to
/// record 1. The backup: split, A consistent, archive, retire, end.
/// Where the `Archive` event of `h` stands (`h` has one).
fn archive_at(h: &History) -> usize {
    h.events
        .iter()
        .position(|s| matches!(s.event, Event::Archive { .. }))
        .unwrap()
}

fn good() -> (History, Vec<u8>, Vec<u8>) {
    let init = initial();
    let a1 = with(&init, 0, 90, 0);
    let a2 = with(&a1, 2, 110, 0);
    let b = with(&a2, 1, 105, 1);
    let mut h = History::new(L, init.clone());
    h.gate_wait_limit_ticks = Some(100);
    h.push(
        0,
        Event::Begin {
            txn: 0,
            vlun: Vlun::A,
            gate_wait_ticks: 0,
        },
    );
    h.push(
        1,
        Event::ReadBlock {
            txn: 0,
            vlun: Vlun::A,
            block: 0,
            digest: block(&init, 0),
        },
    );
    h.push(
        1,
        Event::ReadRecord {
            txn: 0,
            record: 0,
            value: 100,
        },
    );
    h.push(
        2,
        Event::ReadBlock {
            txn: 0,
            vlun: Vlun::A,
            block: 1,
            digest: block(&init, 1),
        },
    );
    h.push(
        2,
        Event::ReadRecord {
            txn: 0,
            record: 2,
            value: 100,
        },
    );
    h.push(3, Event::Split);
    h.push(
        4,
        Event::WriteBlock {
            txn: 0,
            vlun: Vlun::A,
            block: 0,
            digest: block(&a1, 0),
        },
    );
    h.push(
        4,
        Event::WriteRecord {
            txn: 0,
            record: 0,
            value: 90,
        },
    );
    h.push(5, Event::BReady);
    h.push(
        5,
        Event::WriteBlock {
            txn: 0,
            vlun: Vlun::A,
            block: 1,
            digest: block(&a2, 1),
        },
    );
    h.push(
        5,
        Event::WriteRecord {
            txn: 0,
            record: 2,
            value: 110,
        },
    );
    h.push(
        6,
        Event::Commit {
            txn: 0,
            backup_wait_ticks_max: 0,
        },
    );
    h.push(6, Event::AConsistent { image: sp(&a2) });
    h.push(
        7,
        Event::Begin {
            txn: 1,
            vlun: Vlun::B,
            gate_wait_ticks: 3,
        },
    );
    h.push(
        8,
        Event::ReadBlock {
            txn: 1,
            vlun: Vlun::B,
            block: 0,
            digest: block(&a2, 0),
        },
    );
    h.push(
        8,
        Event::ReadRecord {
            txn: 1,
            record: 1,
            value: 100,
        },
    );
    h.push(
        9,
        Event::WriteBlock {
            txn: 1,
            vlun: Vlun::B,
            block: 0,
            digest: block(&b, 0),
        },
    );
    h.push(
        9,
        Event::WriteRecord {
            txn: 1,
            record: 1,
            value: 105,
        },
    );
    h.push(
        10,
        Event::Commit {
            txn: 1,
            backup_wait_ticks_max: 0,
        },
    );
    h.push(11, Event::Archive { image: sp(&a2) });
    h.push(
        11,
        Event::Retire {
            extra_space_blocks: 0,
        },
    );
    h.push(12, Event::End { live: sp(&b) });
    (h, a2, b)
}

fn only(h: &History) -> Vec<Invariant> {
    check_all(h).into_iter().map(|v| v.invariant).collect()
}

#[test]
fn a_correct_history_keeps_every_invariant() {
    let (h, _, _) = good();
    assert_eq!(check_all(&h), vec![]);
    for i in Invariant::ALL {
        assert!(i.check(&h).is_ok(), "{i}");
    }
}

#[test]
fn names_are_the_design_names() {
    let names: Vec<&str> = Invariant::ALL.iter().map(|i| i.as_str()).collect();
    assert_eq!(
        names,
        [
            "A-consistent",
            "A-isolated",
            "B-complete",
            "no-torn-write",
            "bank-conserved",
            "non-disruption",
            "backup-faithful",
            "space-reclaimed",
            "b-prime-faithful"
        ]
    );
}

#[test]
fn a_consistent_catches_a_half_done_transaction_in_a() {
    let (mut h, a2, _) = good();
    let i = h
        .events
        .iter()
        .position(|s| matches!(s.event, Event::AConsistent { .. }))
        .unwrap();
    // Declared consistent after only the first of txn 0's two writes.
    let half = with(&initial(), 0, 90, 0);
    h.events[i].event = Event::AConsistent { image: sp(&half) };
    h.events[i + 8].event = Event::Archive { image: sp(&half) }; // keep backup-faithful
    let v = oracle::a_consistent(&h).unwrap_err();
    assert_eq!(v.invariant, Invariant::AConsistent);
    assert_eq!(v.event_index, i);
    assert!(v.detail.contains("record 2"), "{}", v.detail);
    let _ = a2;
    h.sum_conserved = true;
    assert!(only(&h).contains(&Invariant::BankConserved));
}

/// A cycle whose OLD attempt never ends (the record stops first) is still judged, at
/// the end of the record: VLUN A declared with half of an OLD transaction breaks
/// A-consistent, naming the attempt still active; the right image keeps it.
#[test]
fn a_consistent_judges_at_the_end_a_cycle_whose_old_attempt_never_ended() {
    let mut verdicts = Vec::new();
    for half_done in [false, true] {
        let (mut h, _, _) = good();
        // txn 5 begins before the split and never ends.
        h.events.insert(
            0,
            sim::Step {
                time: 0,
                event: Event::Begin {
                    txn: 5,
                    vlun: Vlun::A,
                    gate_wait_ticks: 0,
                },
            },
        );
        if half_done {
            let i = h
                .events
                .iter()
                .position(|s| matches!(s.event, Event::AConsistent { .. }))
                .unwrap();
            let half = sp(&with(&initial(), 0, 90, 0));
            h.events[i].event = Event::AConsistent {
                image: half.clone(),
            };
            let a = archive_at(&h);
            h.events[a].event = Event::Archive { image: half };
        }
        let found = oracle::a_consistent(&h);
        match &found {
            Ok(()) => assert!(!half_done, "held"),
            Err(v) => {
                assert!(half_done, "{v}");
                // A record of one backup cycle names no cycle.
                assert!(v.detail.starts_with("VLUN A image at event"), "{v}");
                assert!(v.detail.contains("record 2"), "{v}");
                assert!(v.detail.contains("still active"), "{v}");
                assert!(v.txns.contains(&5), "{v:?}");
            }
        }
        verdicts.push(found.is_ok());
    }
    assert_eq!(verdicts, [true, false], "both verdicts reached");
}

/// VLUN A declared consistent before its split (a quiesced volume) is judged once
/// the split comes, against the transactions committed before it: an image without
/// a commit made before the declaration breaks A-consistent, the image with it
/// keeps it.
#[test]
fn a_consistent_judges_an_image_declared_before_the_split_after_it() {
    let init = initial();
    let a1 = with(&init, 0, 90, 0);
    let mut verdicts = Vec::new();
    for declared in [a1.clone(), init.clone()] {
        let mut h = History::new(L, init.clone());
        for e in [
            Event::Begin {
                txn: 0,
                vlun: Vlun::A,
                gate_wait_ticks: 0,
            },
            Event::ReadRecord {
                txn: 0,
                record: 0,
                value: 100,
            },
            Event::WriteBlock {
                txn: 0,
                vlun: Vlun::A,
                block: 0,
                digest: block(&a1, 0),
            },
            Event::WriteRecord {
                txn: 0,
                record: 0,
                value: 90,
            },
            Event::Commit {
                txn: 0,
                backup_wait_ticks_max: 0,
            },
            Event::AConsistent {
                image: sp(&declared),
            },
            Event::Split,
            Event::Archive {
                image: sp(&declared),
            },
            Event::Retire {
                extra_space_blocks: 0,
            },
            Event::End { live: sp(&a1) },
        ] {
            h.push(1, e);
        }
        let found = oracle::a_consistent(&h);
        if declared == a1 {
            // The image declared before the split is the one its archive must equal.
            assert_eq!(check_all(&h), vec![]);
        }
        match &found {
            Ok(()) => assert_eq!(declared, a1, "held"),
            Err(v) => {
                assert_eq!(declared, init, "{v}");
                assert!(v.detail.contains("record 0"), "{v}");
            }
        }
        verdicts.push(found.is_ok());
    }
    assert_eq!(verdicts, [true, false], "both verdicts reached");
}

/// An aborted attempt's writes are in no replay: an OLD attempt that writes a record
/// and aborts after the split leaves VLUN A and the live volume as they were (every
/// invariant held); the same attempt committed is missing from both (A-consistent
/// and B-complete violated).
#[test]
fn an_aborted_attempt_s_writes_are_in_no_replay() {
    let mut verdicts = Vec::new();
    for commit in [false, true] {
        let (mut h, _, _) = good();
        h.events.insert(
            0,
            sim::Step {
                time: 0,
                event: Event::Begin {
                    txn: 4,
                    vlun: Vlun::A,
                    gate_wait_ticks: 0,
                },
            },
        );
        h.events.insert(
            1,
            sim::Step {
                time: 0,
                event: Event::WriteRecord {
                    txn: 4,
                    record: 3,
                    value: 1,
                },
            },
        );
        let split = h
            .events
            .iter()
            .position(|s| matches!(s.event, Event::Split))
            .unwrap();
        let end = if commit {
            Event::Commit {
                txn: 4,
                backup_wait_ticks_max: 0,
            }
        } else {
            Event::Abort {
                txn: 4,
                backup_wait_ticks_max: 0,
            }
        };
        h.events.insert(
            split + 1,
            sim::Step {
                time: 3,
                event: end,
            },
        );
        let found = only(&h);
        if commit {
            assert_eq!(found, vec![Invariant::AConsistent, Invariant::BComplete]);
        } else {
            assert_eq!(found, vec![]);
        }
        verdicts.push(found.is_empty());
    }
    assert_eq!(verdicts, [true, false], "both verdicts reached");
}

/// Where the `AConsistent` event of `h` stands (`h` has one).
fn declared_at(h: &History) -> usize {
    h.events
        .iter()
        .position(|s| matches!(s.event, Event::AConsistent { .. }))
        .unwrap()
}

/// The image VLUN A is declared consistent with must hold no content only VLUN B was
/// written with: a NEW attempt's write through B found in it breaks A-isolated at the
/// declaration, unless integrity mode refused that block while the image was read
/// (then not judged, and held in part).
#[test]
fn a_isolated_catches_a_new_write_in_the_image_declared_consistent() {
    let mut verdicts = Vec::new();
    for (leaks, refused) in [
        (false, None),
        (true, None),
        (true, Some(1)),
        (true, Some(0)),
    ] {
        let (mut h, a2, _) = good();
        let at = declared_at(&h);
        // NEW txn 6 sets record 3 (block 1) through VLUN B before the declaration.
        let x = with(&a2, 3, 1, 6);
        let mut events = vec![
            Event::Begin {
                txn: 6,
                vlun: Vlun::B,
                gate_wait_ticks: 0,
            },
            Event::WriteBlock {
                txn: 6,
                vlun: Vlun::B,
                block: 1,
                digest: block(&x, 1),
            },
            Event::WriteRecord {
                txn: 6,
                record: 3,
                value: 1,
            },
            Event::Commit {
                txn: 6,
                backup_wait_ticks_max: 0,
            },
        ];
        if let Some(block) = refused {
            events.push(Event::Unreadable {
                vlun: Vlun::A,
                block,
            });
        }
        let declared = if leaks { &x } else { &a2 };
        events.push(Event::AConsistent {
            image: sp(declared),
        });
        let declared_index = at + events.len() - 1;
        h.events.splice(
            at..=at,
            events.into_iter().map(|event| sim::Step { time: 6, event }),
        );
        let case = format!("leaks {leaks}, refused {refused:?}");
        let found = oracle::a_isolated(&h);
        let held = !leaks || refused == Some(1);
        verdicts.push(held_iff(
            &found,
            held,
            declared_index,
            &["image block 1"],
            &case,
        ));
    }
    assert_eq!(
        verdicts,
        [true, false, true, false],
        "every verdict reached"
    );
}

/// The image declared consistent first in a cycle is the one A-consistent judges
/// (once its OLD attempts have ended): a wrong image declared first breaks it even
/// when a right one follows, and a right one declared first keeps it whatever
/// follows.
#[test]
fn a_consistent_judges_the_first_image_declared_in_the_cycle() {
    let (_, a2, _) = good();
    let half = with(&initial(), 0, 90, 0);
    let mut verdicts = Vec::new();
    for (first, second) in [(&half, &a2), (&a2, &half)] {
        let (mut h, _, _) = good();
        // OLD txn 5, read-only, still active at both declarations.
        h.events.insert(
            0,
            sim::Step {
                time: 0,
                event: Event::Begin {
                    txn: 5,
                    vlun: Vlun::A,
                    gate_wait_ticks: 0,
                },
            },
        );
        let at = declared_at(&h);
        h.events[at].event = Event::AConsistent { image: sp(first) };
        for (k, event) in [
            Event::AConsistent { image: sp(second) },
            Event::Abort {
                txn: 5,
                backup_wait_ticks_max: 0,
            },
        ]
        .into_iter()
        .enumerate()
        {
            h.events.insert(at + 1 + k, sim::Step { time: 6, event });
        }
        let archive = archive_at(&h);
        h.events[archive].event = Event::Archive { image: sp(second) };
        let found = oracle::a_consistent(&h);
        match &found {
            Ok(()) => assert_eq!(first, &a2, "held"),
            Err(v) => {
                assert_eq!(first, &half, "{v}");
                // Found once txn 5 ended.
                assert_eq!(v.event_index, at + 2, "{v}");
                assert!(v.detail.contains(&format!("image at event {at}")), "{v}");
            }
        }
        verdicts.push(found.is_ok());
    }
    assert_eq!(verdicts, [false, true], "both verdicts reached");
}

#[test]
fn a_isolated_catches_a_new_write_seen_through_a() {
    let (mut h, _, b) = good();
    h.push(
        13,
        Event::ReadBlock {
            txn: 0,
            vlun: Vlun::A,
            block: 0,
            digest: block(&b, 0),
        },
    );
    let v = oracle::a_isolated(&h).unwrap_err();
    assert_eq!(v.event_index, h.events.len() - 1);
    // And a NEW transaction writing through A.
    let (mut h2, _, _) = good();
    h2.push(
        13,
        Event::WriteBlock {
            txn: 1,
            vlun: Vlun::A,
            block: 1,
            digest: 7,
        },
    );
    assert_eq!(
        oracle::a_isolated(&h2).unwrap_err().event_index,
        h2.events.len() - 1
    );
}

/// A write through VLUN A logged after its attempt ended is that attempt's: an OLD
/// attempt's (begun before the split) keeps A-isolated, a NEW one's breaks it at
/// that write.
#[test]
fn a_write_through_a_logged_after_its_attempt_ended_is_judged_as_that_attempt_s() {
    let mut verdicts = Vec::new();
    for (txn, new) in [(0, false), (1, true)] {
        let (mut h, a2, _) = good();
        let end = h.events.pop().unwrap();
        h.push(
            12,
            Event::WriteBlock {
                txn,
                vlun: Vlun::A,
                block: 1,
                digest: block(&a2, 1),
            },
        );
        let write = h.events.len() - 1;
        h.events.push(end);
        let found = oracle::a_isolated(&h);
        verdicts.push(held_iff(&found, !new, write, &[], &format!("txn {txn}")));
    }
    assert_eq!(verdicts, [true, false], "both verdicts reached");
}

/// A content written through VLUN B in the cycle is no leak through VLUN A when it
/// was written through VLUN A too: a NEW attempt writing through B the very content
/// an OLD one wrote through A leaves a read of it through A isolated; a content only
/// B was written with breaks A-isolated at the read.
#[test]
fn a_content_written_through_both_vluns_is_vlun_a_s_own() {
    let mut verdicts = Vec::new();
    for via_a_too in [true, false] {
        let (mut h, a2, b) = good();
        let content = if via_a_too {
            block(&a2, 0)
        } else {
            block(&b, 0)
        };
        let end = h.events.pop().unwrap();
        h.push(
            12,
            Event::WriteBlock {
                txn: 1,
                vlun: Vlun::B,
                block: 0,
                digest: content,
            },
        );
        h.push(
            13,
            Event::ReadBlock {
                txn: 0,
                vlun: Vlun::A,
                block: 0,
                digest: content,
            },
        );
        let read = h.events.len() - 1;
        h.events.push(end);
        let found = oracle::a_isolated(&h);
        verdicts.push(held_iff(&found, via_a_too, read, &[], "via A too"));
    }
    assert_eq!(verdicts, [true, false], "both verdicts reached");
}

/// A content written through VLUN B twice in the cycle is still only B's (a read of
/// it through A leaks); one written through B in an earlier cycle was VLUN A's own
/// at this cycle's split (a read of it through A, after it is written through B
/// again, does not).
#[test]
fn a_content_is_vlun_a_s_own_once_a_later_split_took_it() {
    let mut verdicts = Vec::new();
    for again_after_split in [false, true] {
        let (mut h, _, b) = good();
        let content = block(&b, 0);
        let end = h.events.pop().unwrap();
        if again_after_split {
            h.push(12, Event::Split);
        }
        h.push(
            13,
            Event::Begin {
                txn: 7,
                vlun: Vlun::B,
                gate_wait_ticks: 0,
            },
        );
        h.push(
            13,
            Event::WriteBlock {
                txn: 7,
                vlun: Vlun::B,
                block: 0,
                digest: content,
            },
        );
        h.push(
            14,
            Event::ReadBlock {
                txn: 0,
                vlun: Vlun::A,
                block: 0,
                digest: content,
            },
        );
        let read = h.events.len() - 1;
        h.events.push(end);
        let found = oracle::a_isolated(&h);
        verdicts.push(held_iff(
            &found,
            again_after_split,
            read,
            &[],
            "again after split",
        ));
    }
    assert_eq!(verdicts, [false, true], "both verdicts reached");
}

#[test]
fn b_complete_catches_a_lost_update() {
    let (mut h, a2, _) = good();
    // The live volume lost txn 1's update of record 1.
    let last = h.events.len() - 1;
    h.events[last].event = Event::End { live: sp(&a2) };
    let v = oracle::b_complete(&h).unwrap_err();
    assert_eq!(v.event_index, last);
    assert!(v.detail.contains("record 1"), "{}", v.detail);
}

#[test]
fn b_complete_catches_a_stale_read_made_durable() {
    let (mut h, _, _) = good();
    // txn 2 (NEW) reads record 0 as 100 after txn 0 committed 90, and writes 95.
    let init = initial();
    let end = h.events.pop().unwrap();
    h.push(
        12,
        Event::Begin {
            txn: 2,
            vlun: Vlun::B,
            gate_wait_ticks: 0,
        },
    );
    h.push(
        12,
        Event::ReadRecord {
            txn: 2,
            record: 0,
            value: 100,
        },
    );
    h.push(
        12,
        Event::WriteRecord {
            txn: 2,
            record: 0,
            value: 95,
        },
    );
    h.push(
        12,
        Event::Commit {
            txn: 2,
            backup_wait_ticks_max: 0,
        },
    );
    let commit = h.events.len() - 1;
    h.events.push(end);
    let _ = init;
    let v = oracle::b_complete(&h).unwrap_err();
    assert_eq!(v.event_index, commit);
    assert!(v.detail.contains("txn 2"), "{}", v.detail);
}

/// An attempt that reads a record it wrote itself must see its own write (its other
/// writes do not stand for it): one that reads back the value before its write has
/// read what no serial order gives, a B-complete violation at its commit.
#[test]
fn b_complete_catches_a_read_that_misses_the_attempt_s_own_write() {
    let mut verdicts = Vec::new();
    for (read, held) in [(50, true), (100, false)] {
        let (mut h, _, b) = good();
        h.events.pop();
        h.push(
            12,
            Event::Begin {
                txn: 2,
                vlun: Vlun::B,
                gate_wait_ticks: 0,
            },
        );
        for e in [
            Event::WriteRecord {
                txn: 2,
                record: 2,
                value: 70,
            },
            Event::WriteRecord {
                txn: 2,
                record: 3,
                value: 50,
            },
            Event::ReadRecord {
                txn: 2,
                record: 3,
                value: read,
            },
        ] {
            h.push(12, e);
        }
        h.push(
            13,
            Event::Commit {
                txn: 2,
                backup_wait_ticks_max: 0,
            },
        );
        let commit = h.events.len() - 1;
        let end = with(&with(&b, 2, 70, 2), 3, 50, 2);
        h.push(14, Event::End { live: sp(&end) });
        let found = oracle::b_complete(&h);
        verdicts.push(held_iff(
            &found,
            held,
            commit,
            &["txn 2"],
            &format!("read {read}"),
        ));
    }
    assert_eq!(verdicts, [true, false], "both verdicts reached");
}

/// A read of a value another attempt wrote and never committed (a dirty read) made
/// durable breaks B-complete at the reader's commit, naming the reader, the record's
/// writer in commit order and the block's last writer (the culprit), once each.
#[test]
fn b_complete_names_the_culprit_of_a_dirty_read() {
    let (mut h, a2, _) = good();
    let end = h.events.pop().unwrap();
    let dirty = block(&with(&a2, 0, 77, 3), 0);
    for e in [
        Event::Begin {
            txn: 3,
            vlun: Vlun::B,
            gate_wait_ticks: 0,
        },
        Event::WriteBlock {
            txn: 3,
            vlun: Vlun::B,
            block: 0,
            digest: dirty,
        },
        Event::WriteRecord {
            txn: 3,
            record: 0,
            value: 77,
        },
        Event::Begin {
            txn: 2,
            vlun: Vlun::B,
            gate_wait_ticks: 0,
        },
        Event::ReadBlock {
            txn: 2,
            vlun: Vlun::B,
            block: 0,
            digest: dirty,
        },
        Event::ReadRecord {
            txn: 2,
            record: 0,
            value: 77,
        },
        Event::WriteRecord {
            txn: 2,
            record: 3,
            value: 77,
        },
        Event::Abort {
            txn: 3,
            backup_wait_ticks_max: 0,
        },
        Event::Commit {
            txn: 2,
            backup_wait_ticks_max: 0,
        },
    ] {
        h.push(12, e);
    }
    let commit = h.events.len() - 1;
    h.events.push(end);
    let v = oracle::b_complete(&h).unwrap_err();
    assert_eq!(v.event_index, commit, "{v}");
    assert!(v.detail.contains("written by txn 0"), "{v}");
    assert_eq!(v.txns, vec![2, 0, 3], "{v:?}");
}

#[test]
fn no_torn_write_catches_content_nobody_wrote() {
    let (mut h, _, _) = good();
    h.push(
        13,
        Event::ReadBlock {
            txn: 1,
            vlun: Vlun::B,
            block: 1,
            digest: 0x1234,
        },
    );
    assert_eq!(
        oracle::no_torn_write(&h).unwrap_err().event_index,
        h.events.len() - 1
    );
}

#[test]
fn non_disruption_catches_a_long_gate_wait_and_ignores_it_without_a_limit() {
    let (mut h, _, _) = good();
    h.push(
        13,
        Event::Begin {
            txn: 3,
            vlun: Vlun::B,
            gate_wait_ticks: 101,
        },
    );
    assert_eq!(
        oracle::non_disruption(&h).unwrap_err().event_index,
        h.events.len() - 1
    );
    h.gate_wait_limit_ticks = None;
    assert!(oracle::non_disruption(&h).is_ok());
    // A wait of exactly the limit keeps it.
    let (mut at_limit, _, _) = good();
    at_limit.push(
        13,
        Event::Begin {
            txn: 3,
            vlun: Vlun::B,
            gate_wait_ticks: 100,
        },
    );
    assert!(oracle::non_disruption(&at_limit).is_ok());
}

/// A transaction that passed the gate at once but waited for the backup elsewhere
/// (a device call behind the archive's reads, a flush) longer than the limit disrupts
/// the users as much as a gate wait: the attempt's end names it.
#[test]
fn non_disruption_catches_a_long_backup_wait_with_no_gate_wait() {
    let (mut h, _, _) = good();
    let limit = h.gate_wait_limit_ticks.expect("good() has a limit");
    assert!(oracle::non_disruption(&h).is_ok());
    h.push(
        13,
        Event::Begin {
            txn: 3,
            vlun: Vlun::B,
            gate_wait_ticks: 0,
        },
    );
    h.push(
        14,
        Event::Abort {
            txn: 3,
            backup_wait_ticks_max: limit,
        },
    );
    assert!(oracle::non_disruption(&h).is_ok(), "at the limit: held");
    h.push(
        15,
        Event::Begin {
            txn: 4,
            vlun: Vlun::B,
            gate_wait_ticks: 0,
        },
    );
    h.push(
        16,
        Event::Commit {
            txn: 4,
            backup_wait_ticks_max: limit + 1,
        },
    );
    let v = oracle::non_disruption(&h).unwrap_err();
    assert_eq!(v.event_index, h.events.len() - 1);
    assert!(v.detail.contains("txn 4 waited"), "{}", v.detail);
}

#[test]
fn backup_faithful_and_space_reclaimed() {
    let (mut h, _, b) = good();
    let i = archive_at(&h);
    h.events[i].event = Event::Archive { image: sp(&b) };
    assert_eq!(oracle::backup_faithful(&h).unwrap_err().event_index, i);
    let (mut h2, _, _) = good();
    let j = h2
        .events
        .iter()
        .position(|s| matches!(s.event, Event::Retire { .. }))
        .unwrap();
    h2.events[j].event = Event::Retire {
        extra_space_blocks: 3,
    };
    assert_eq!(only(&h2), vec![Invariant::SpaceReclaimed]);
}

/// A backup given up in the oracle's vocabulary: quiesce's timeouts and retries judge
/// nothing by themselves; after a `GiveUp` no archive may be claimed in the cycle.
#[test]
fn an_archive_claimed_after_a_give_up_is_a_backup_faithful_violation() {
    let (good_h, _, _) = good();
    let archive = archive_at(&good_h);
    let mut quiet = good_h.clone();
    for (k, e) in [
        Event::QuiesceTimeout { attempt: 1 },
        Event::QuiesceRetry { attempt: 2 },
    ]
    .into_iter()
    .enumerate()
    {
        quiet.events.insert(1 + k, sim::Step { time: 0, event: e });
    }
    assert_eq!(check_all(&quiet), vec![]);
    let mut given_up = good_h.clone();
    given_up.events.insert(
        archive,
        sim::Step {
            time: 10,
            event: Event::GiveUp,
        },
    );
    let v = oracle::backup_faithful(&given_up).unwrap_err();
    assert_eq!(v.event_index, archive + 1, "{v}");
    assert_eq!(only(&given_up), vec![Invariant::BackupFaithful]);
}

/// An abandoned backup in the oracle's vocabulary: VLUN A retired with no archive is
/// a backup-faithful violation at the retire unless an `Abandon` reported it first;
/// an abandoned backup that still claims an archive is one too; a split starts a new
/// backup, whose retire needs its own archive.
#[test]
fn a_retire_without_archive_is_flagged_unless_the_backup_was_abandoned() {
    let (good_h, _, _) = good();
    let archive = archive_at(&good_h);
    // Silently dropped: the archive removed, the retire kept.
    let mut silent = good_h.clone();
    silent.events.remove(archive);
    let v = oracle::backup_faithful(&silent).unwrap_err();
    assert_eq!(v.event_index, archive, "{v}");
    assert!(v.detail.contains("no archive"), "{v}");
    assert_eq!(only(&silent), vec![Invariant::BackupFaithful]);
    // Correctly abandoned: the same history with the abandonment reported.
    let mut abandoned = silent.clone();
    abandoned.events[archive].event = Event::Abandon;
    abandoned.events.insert(
        archive + 1,
        sim::Step {
            time: 11,
            event: Event::Retire {
                extra_space_blocks: 0,
            },
        },
    );
    assert_eq!(check_all(&abandoned), vec![]);
    // Abandoned, yet an archive is claimed afterwards.
    let mut claims = abandoned.clone();
    claims.events.insert(
        archive + 1,
        sim::Step {
            time: 11,
            event: good_h.events[archive].event.clone(),
        },
    );
    let v = oracle::backup_faithful(&claims).unwrap_err();
    assert_eq!(v.event_index, archive + 1, "{v}");
    // A second cycle: its split forgets the first cycle's archive and abandonment.
    for first in [good_h.clone(), abandoned.clone()] {
        let mut two = first;
        let end = two.events.pop().unwrap();
        two.push(12, Event::Split);
        two.push(
            13,
            Event::Retire {
                extra_space_blocks: 0,
            },
        );
        two.events.push(end);
        let v = oracle::backup_faithful(&two).unwrap_err();
        assert_eq!(v.event_index, two.events.len() - 2, "{v}");
    }
}

/// b-prime-faithful: a B' equal to VLUN B when the copy ended keeps it; one that
/// differs in a record breaks it at the `BPrime` event, naming the record; a
/// difference only in a block integrity mode refused while VLUN B was read (an
/// `Unreadable` just before) is not judged, and the invariant held on part of the
/// volume only.
#[test]
fn b_prime_faithful_compares_b_prime_with_vlun_b_but_refused_blocks() {
    let (_, a2, b) = good();
    // b and a2 differ in record 1, in block 0.
    let cases = [
        (b.clone(), None, true),
        (a2.clone(), None, false),
        (a2.clone(), Some(0), true),
        (a2.clone(), Some(1), false),
    ];
    for (b_prime, refused, held) in cases {
        let (mut h, _, _) = good();
        let end = h.events.pop().unwrap();
        if let Some(block) = refused {
            h.push(
                12,
                Event::Unreadable {
                    vlun: Vlun::B,
                    block,
                },
            );
        }
        h.push(
            12,
            Event::BPrime {
                b_prime: sp(&b_prime),
                live: sp(&b),
            },
        );
        let at = h.events.len() - 1;
        h.events.push(end);
        let case = format!("refused {refused:?}, held {held}");
        held_iff(
            &oracle::b_prime_faithful(&h),
            held,
            at,
            &["record 1"],
            &case,
        );
        let mut judge = sim::judge::Judge::of(&h, None);
        for s in &h.events {
            judge.push(&s.event);
        }
        let (_, coverage) = judge.finish_with_coverage();
        let c = coverage[Invariant::ALL
            .iter()
            .position(|&i| i == Invariant::BPrimeFaithful)
            .unwrap()];
        let refused_n = u64::from(refused.is_some());
        assert_eq!(
            (c.blocks, c.judged, c.unreadable),
            (L.volume_blocks, L.volume_blocks - refused_n, refused_n),
            "{case}"
        );
        assert_eq!(c.is_partial(), refused.is_some(), "{case}");
    }
}

#[test]
fn bank_conserved_only_when_the_workload_conserves() {
    let (mut h, _, _) = good();
    let last = h.events.len() - 1;
    h.events[last].event = Event::End {
        live: sp(&with(&initial(), 3, 1, 9)),
    };
    h.sum_conserved = true;
    assert!(oracle::bank_conserved(&h).is_err());
    h.sum_conserved = false;
    assert!(oracle::bank_conserved(&h).is_ok());
}

/// A malformed record (e.g. a hand-edited counterexample file) is reported, never a
/// panic.
#[test]
fn malformed_histories_do_not_panic() {
    let (mut h, _, _) = good();
    h.push(
        13,
        Event::Begin {
            txn: 9,
            vlun: Vlun::B,
            gate_wait_ticks: 0,
        },
    );
    h.push(
        13,
        Event::WriteRecord {
            txn: 9,
            record: 999,
            value: 1,
        },
    );
    h.push(
        13,
        Event::Commit {
            txn: 9,
            backup_wait_ticks_max: 0,
        },
    );
    assert!(oracle::b_complete(&h)
        .unwrap_err()
        .detail
        .contains("past the volume"));
    let (mut h2, _, _) = good();
    h2.initial = Initial::Bytes(initial()[..5].to_vec());
    h2.sum_conserved = true;
    let found = check_all(&h2);
    assert!(!found.is_empty());
}

/// A record whose content differs from the expected one is described by the stamp it
/// carries (`under the stamp of txn N`), never as `written by` that transaction: the
/// stamp is data read back, and a rotted or stray write can carry the stamp of a
/// transaction that never wrote the record, or never ran. Only the initial value under
/// the initial stamp is said to be the initial image's, and what the oracle expects is
/// said to be written by its writer (that is the oracle's own record).
#[test]
fn a_differing_record_is_described_by_its_stamp_not_as_written_by_its_transaction() {
    let init = initial();
    let unreadable = std::collections::BTreeSet::new();
    let describe = |expected: &[u8], actual: &[u8]| -> String {
        let (init_img, exp, act) = (Initial::Bytes(init.clone()), sp(expected), sp(actual));
        oracle::diff_images(&L, &init_img, &exp, &act, &unreadable)
            .expect("the images differ")
            .0
    };
    // A stray stamp of txn 41 (no txn 41 wrote record 1), and one of a txn that wrote
    // this very record as the oracle expects but left another value.
    let expected = with(&init, 1, 95, 1);
    for (actual, stamp) in [
        (with(&init, 1, 95, 41), "txn 41"),
        (with(&init, 1, 7, 1), "txn 1"),
    ] {
        let text = describe(&expected, &actual);
        assert!(
            text.contains(&format!("under the stamp of {stamp}")),
            "{text}"
        );
        assert!(!text.contains(&format!("written by {stamp},")), "{text}");
        assert!(text.contains("expected 95 written by txn 1"), "{text}");
    }
    // The initial content where a transaction's write was expected: the initial image's.
    let text = describe(&expected, &init);
    assert!(
        text.contains("holds 100 written by the initial image"),
        "{text}"
    );
    // A value under the initial stamp that is not the initial value: nobody's.
    let mut rotted = init.clone();
    write_record(&mut rotted[L.offset_in_image(1)..], 3, 0);
    let text = describe(&expected, &rotted);
    assert!(text.contains("3, which no transaction wrote"), "{text}");
}
