mod common;
mod configurations;
mod determinism;
mod oracle;
mod policies;
mod scenario_files;
mod swarm;
