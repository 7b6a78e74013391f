//! End-to-end tests of the `owm` binary: one test binary, one module per concern.

mod util;

mod atomic;
mod check;
mod copy_bounds;
mod costs;
mod defaulted_keys;
mod detach;
mod detach_mirror_mutant;
mod digests;
mod end_ticks;
mod errors;
mod exits;
mod explorer;
mod extreme_values;
mod flush_barriers;
mod hygiene;
mod inert_keys;
mod integrity;
mod lost_backup;
mod merge_verdicts;
mod outdir;
mod overflow;
mod plots;
mod profiles;
mod run;
mod serve;
mod sweep;
mod sweep_stats;
mod table_updates;
mod trace_waits;
mod traces;
mod unreached;
mod verdicts;
mod walks;
mod window;
