//! All of the simulator's integration tests, in one binary (faster to build).
mod it;
