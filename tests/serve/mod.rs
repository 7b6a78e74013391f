//! `owm serve` end to end, through real NBD clients (qemu-io, qemu-img, nbdcopy, fio)
//! and a minimal raw client for exact protocol errors. Each test skips, with a message,
//! when nbdkit or a client tool is not installed.

mod bench;
mod calibrate;
mod client;
mod copies;
mod create;
mod cycles;
mod e2e;
mod faults;
mod harness;
mod killed;
mod phases;
mod records;
mod stops;
mod timings;
mod ways_on;
