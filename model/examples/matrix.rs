//! Prints the verdicts of a matrix of configurations (used to write the docs).
//! `--full`: every variant, with and without aborts (else mirroring, no aborts);
//! `--rmw split`: record writes as a block read and a later write back.
use engine::Variant;
use model::{check, CheckConfig, Discipline, Locks, Rmw};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--full");
    let rmw = match args.iter().position(|a| a == "--rmw") {
        Some(i) => args[i + 1].parse().expect("--rmw atomic|split"),
        None => Rmw::Atomic,
    };
    for variant in Variant::ALL {
        for (old, new) in [(1, 1), (2, 1), (1, 2), (2, 2)] {
            for rpb in [1, 2] {
                for locks in [Locks::Block, Locks::Record] {
                    for discipline in [Discipline::Conservative, Discipline::Incremental] {
                        for type_b in [false, true] {
                            for aborts in [false, true] {
                                if !full && (variant != Variant::WriteMirroring || aborts) {
                                    continue;
                                }
                                let cfg = CheckConfig {
                                    variant,
                                    old,
                                    new,
                                    records_per_block: rpb,
                                    locks,
                                    discipline,
                                    type_b,
                                    aborts,
                                    rmw,
                                    ..CheckConfig::default()
                                };
                                let r = check(&cfg).unwrap();
                                println!(
                                    "{} | states {} | {:.2}s | violated {:?} | unreached {:?}",
                                    cfg.model_flags(),
                                    r.unique_states,
                                    r.elapsed.as_secs_f64(),
                                    r.violated(),
                                    r.properties
                                        .iter()
                                        .filter(|p| p.outcome == model::Outcome::NotReached)
                                        .map(|p| p.name)
                                        .collect::<Vec<_>>()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
