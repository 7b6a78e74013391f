//! # owm model: model checking the one-way mirror
//!
//! [`check`] explores every interleaving of a small configuration of the protocol —
//! old transactions on VLUN A, new ones on VLUN B, the split, the end of the old
//! transactions, the backup of A and its retirement — with stateright, over the real
//! engine ([`engine::Device`] on in-memory images), and judges each state with the
//! simulator's oracle ([`sim::oracle`]), the same named functions the simulator uses.
//! A violated invariant comes back as a [`Trace`] (the shortest, or said not to be
//! proven so: [`Outcome::Violated`]), told in the patent's terms and saved as a text
//! file that [`replay`] re-executes against the engine.
//!
//! The engine's own locks are checked separately with loom
//! (`engine/tests/loom_device.rs`, run by `.ci/loom`).
//!
//! ```
//! let report = model::check(&model::CheckConfig::default()).unwrap();
//! assert!(report.ok(), "{}", report.render());
//! ```

mod check;
pub mod config;
pub mod coverage;
pub mod estimate;
pub mod events;
pub mod explorer;
mod narrate;
pub mod program;
pub mod protocol;
pub mod state;
pub mod trace;
pub mod verdicts;
pub mod walk;

pub use check::{
    check, check_with_progress, held_bytes, states, CheckReport, Cut, Limits, MemoryBudget,
    Outcome, Progress, PropertyReport, Stopped, SHORTEST_SEARCH_STATES_MAX,
};
pub use config::{CheckConfig, Discipline, Locks, Rmw, Strategy};
pub use coverage::{ActionKind, Coverage, KindCount, Witness};
pub use estimate::{estimate, estimate_within, Estimate, Sizing};
pub use program::Op;
pub use protocol::{Action, OwmModel};
pub use state::State;
pub use trace::{render, render_replayed, replay, replay_file, Replayed, Trace, TraceLines};
pub use verdicts::{INVARIANTS, PARTNERS};
pub use walk::{walk, walk_since, WalkPlan, WalkReport};

/// What can go wrong outside the model's own findings.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The configuration cannot be modelled.
    #[error("invalid model configuration: {0}")]
    Config(String),
    /// A trace file or flag string does not parse.
    #[error("cannot parse: {0}")]
    Parse(String),
    /// A trace does not replay (a step is impossible, or the violation does not recur).
    #[error("replay failed: {0}")]
    Replay(String),
    /// The checker itself failed.
    #[error("checker failed: {0}")]
    Checker(String),
    /// A line of a file (1-based) at fault, and why.
    #[error("line {line}: {source}")]
    Line {
        line: usize,
        #[source]
        source: Box<ModelError>,
    },
}

impl ModelError {
    /// `e` located at `line` of a file.
    pub fn at(line: usize, e: ModelError) -> Self {
        ModelError::Line {
            line,
            source: Box::new(e),
        }
    }
}
