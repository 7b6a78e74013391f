//! The simulator's typed errors: bad scenarios, engine failures, exceeded limits.

use crate::clock::Tick;

/// Everything a run can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario is not usable: `key` is the dotted key at fault
    /// (`workload.write_fraction`), `message` what is wrong with its value.
    #[error("scenario: key `{key}`: {message}")]
    Config { key: String, message: String },
    /// The engine refused a call.
    #[error("engine at tick {at}: {source}")]
    Engine {
        at: Tick,
        #[source]
        source: engine::Error,
    },
    /// Nothing left to happen, yet some attempts never ended: a wait nobody will end
    /// (a bug, or a configuration that cannot make progress).
    #[error("stuck at tick {at}: {unfinished} attempts never ended ({detail})")]
    Stuck {
        at: Tick,
        unfinished: u64,
        detail: String,
    },
    /// A limit in `Scenario::limits` was reached.
    #[error("limit reached: {0}")]
    Limit(String),
}
