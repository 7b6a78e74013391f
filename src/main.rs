//! `owm`: the command-line face of the one-way mirror.

use anyhow::Result;
use clap::{Parser, Subcommand};
use engine::{Device, Variant, Vlun};

#[derive(Parser)]
#[command(
    name = "owm",
    version,
    about = "One-way data mirror: transaction-consistent backup while every user keeps working"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Take every variant through one backup cycle (split, writes on both VLUNs,
    /// backup of A, retire) and print what each physical operation cost.
    Demo {
        /// Blocks in the volume.
        #[arg(long, default_value_t = 1024)]
        blocks: u64,
        /// Bytes per block (a multiple of 8).
        #[arg(long, default_value_t = 512)]
        block_size: usize,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Demo { blocks, block_size } => demo(blocks, block_size),
    }
}

fn demo(blocks: u64, block_size: usize) -> Result<()> {
    println!(
        "{:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8}",
        "variant", "A reads", "A writes", "B reads", "B writes", "table", "extra peak", "wr/write"
    );
    for variant in Variant::ALL {
        let dev = Device::in_memory(variant, block_size, blocks)?;
        let data = vec![0xA5u8; block_size];
        for b in 0..blocks {
            dev.write(Vlun::A, b, &data)?;
        }
        dev.split()?;
        for b in (0..blocks).step_by(2) {
            dev.write(Vlun::B, b, &data)?;
        }
        for b in (0..blocks).step_by(3) {
            dev.write(Vlun::A, b, &data)?;
        }
        dev.backup_a(&mut std::io::sink())?;
        dev.retire_a()?;
        let c = dev.counters();
        println!(
            "{:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8.2}",
            variant.as_str(),
            c.image_a_reads,
            c.image_a_writes,
            c.image_b_reads,
            c.image_b_writes,
            c.table_inserts + c.table_removes,
            c.extra_space_peak,
            c.writes_per_logical_write()
        );
    }
    Ok(())
}
