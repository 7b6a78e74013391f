//! What `summary.csv`'s two lookup-table counts count: `table_updates` the entries the
//! users' calls created or dropped over the whole run; `cycle_table_updates` those
//! created or dropped from a cycle's request until its retire completed, by the users'
//! calls and by the backup itself (the retire drops every entry left). Every entry a
//! cycle creates is dropped once within it, by a VLUN A write that supersedes it or by
//! the retire, so a cycle's count is twice the entries its users created
//! (`window_log_entries` under logging, `window_cow_copies` under cow).

use crate::util::*;

#[test]
fn a_cycle_counts_each_entry_created_and_its_drop() {
    let tmp = tempfile::tempdir().unwrap();
    for (file, cycles) in [("bank.toml", 1), ("fig4-5.toml", 1), ("schedule.toml", 3)] {
        let out = tmp.path().join(file);
        ok(&owm(&[
            "run",
            &format!("scenarios/{file}"),
            "--out",
            &s(&out),
        ]));
        let rows = csv_rows(&out, "summary.csv");
        for p in ["logging", "cow"] {
            let mine: Vec<_> = rows.iter().filter(|r| r["policy"] == p).collect();
            assert_eq!(mine.len(), cycles, "{file} {p}");
            let run = num(mine[0], "table_updates") as u64;
            let mut created = 0;
            for r in &mine {
                assert!(!r["retire_at_ticks"].is_empty(), "{file} {p}: retired");
                // The run's count is the same in every cycle row.
                assert_eq!(num(r, "table_updates") as u64, run, "{file} {p}");
                let inserts =
                    num(r, "window_log_entries") as u64 + num(r, "window_cow_copies") as u64;
                assert!(inserts > 0, "{file} {p}");
                assert_eq!(
                    num(r, "cycle_table_updates") as u64,
                    2 * inserts,
                    "{file} {p} {}",
                    r["cycle"]
                );
                created += inserts;
            }
            // The run's count is the users' only: their inserts, and their drops of an
            // entry a VLUN A write superseded.
            assert!(run >= created, "{file} {p}: {run} < {created}");
            if file == "bank.toml" {
                // No VLUN A write superseded an entry: the users' updates are the
                // inserts, one per block first written while VLUN A was live (the
                // extra space peak), and the cycle's count is twice the run's.
                assert_eq!(run, created, "{file} {p}");
                assert_eq!(
                    num(mine[0], "extra_space_blocks_peak") as u64,
                    run,
                    "{file} {p}"
                );
                assert_eq!(
                    num(mine[0], "cycle_table_updates") as u64,
                    2 * run,
                    "{file} {p}"
                );
            }
        }
        // A mirror keeps no table.
        for r in rows
            .iter()
            .filter(|r| ["quiesce", "mirroring"].contains(&r["policy"].as_str()))
        {
            assert_eq!(
                (
                    r["table_updates"].as_str(),
                    r["cycle_table_updates"].as_str()
                ),
                ("0", "0"),
                "{file}"
            );
        }
    }
}
