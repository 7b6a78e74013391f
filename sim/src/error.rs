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
    #[error(
        "stuck at tick {at}: {} never ended ({detail})",
        crate::number_text::counted(*unfinished, "attempt", "attempts")
    )]
    Stuck {
        at: Tick,
        unfinished: u64,
        detail: String,
    },
    /// The run would need more memory than `limits.memory_bytes_max` allows: refused
    /// before it starts. `estimate` lists the parts ([`crate::footprint`]) of the
    /// largest estimate among `policies`, the run's policies (as in the file); `part`
    /// is its largest part in words ([`crate::footprint::part_advice`]), of
    /// `part_bytes`, `advice` the ways to shrink it (empty: none but the bound), and
    /// `largest` that part, whose keys ([`crate::footprint::part_advice`]) come first
    /// among those that drive the estimate: where a file that leaves the bound at its
    /// default is refused.
    #[error(
        "scenario: key `limits.memory_bytes_max`: {}",
        too_large(*.estimate_bytes, *.bound_bytes, estimate, policies, part, *.part_bytes, advice)
    )]
    TooLarge {
        estimate_bytes: u64,
        bound_bytes: u64,
        estimate: String,
        policies: Vec<&'static str>,
        part: &'static str,
        part_bytes: u64,
        advice: String,
        largest: crate::footprint::Part,
    },
    /// More transaction attempts were in flight at once (arrived and not ended: waiting
    /// for admission, locks or the device, or working) than `limits.memory_bytes_max`
    /// leaves room for beside the rest of the run's estimate
    /// ([`crate::footprint::in_flight_max`]): the arrivals outran the device and the
    /// locks, and each attempt waiting holds its own memory. Stopped at tick `at`, when
    /// the `attempts`-th attempt in flight would have started (`bytes_each` each, as
    /// estimated, `room_bytes` of room), with no result.
    #[error(
        "limit reached at tick {at}: {attempts} transaction attempts in flight at once \
         (the arrivals outran the device and the locks: those waiting held about {} each, \
         and {} of room was left beside the rest of the run's estimate)",
        crate::footprint::human_bytes(*.bytes_each),
        crate::footprint::human_bytes(*.room_bytes)
    )]
    Backlog {
        at: Tick,
        attempts: u64,
        bytes_each: u64,
        room_bytes: u64,
    },
    /// The engine granted a call it must refuse (VLUN A retired with no complete
    /// archive of it).
    #[error("engine at tick {at}: {detail}")]
    Unsafe { at: Tick, detail: String },
    /// A crash under `faults.power_safe = false` (the engine's order without flush
    /// barriers) broke the device: its recovery failed, or it recovered into another
    /// phase than the one its calls had acknowledged (a split lost: a single volume
    /// again). What that mode is for; the run stops at the crash, nothing judged.
    #[error(
        "the crash at tick {at} broke the device (faults.power_safe = false: the engine's \
         order without flush barriers): {detail}; the run stops there, nothing judged"
    )]
    Broken { at: Tick, detail: String },
    /// A limit in `Scenario::limits` was reached: `key` is its dotted key
    /// (`limits.events_max`, `limits.time_ticks_max`, `limits.attempts_max`), `what`
    /// says what the run reached.
    #[error("limit reached: {what}")]
    Limit { key: &'static str, what: String },
    /// The progress callback asked the run to stop ([`crate::ProgressFn`]): stopped
    /// between two events at tick `at`, with no result.
    #[error("interrupted at tick {at}")]
    Interrupted { at: Tick },
}

/// The words of a [`SimError::TooLarge`] refusal without the key it names: the
/// estimate (`estimate_bytes`, its parts in `estimate`) for the run's `policies`
/// against the bound (`bound_bytes`), its largest `part` (`part_bytes`) and what to
/// change (`advice`, beside raising the bound). The two totals are in binary units
/// with two decimals, or, when those would read the same, in bytes too.
pub fn too_large(
    estimate_bytes: u64,
    bound_bytes: u64,
    estimate: &str,
    policies: &[&str],
    part: &str,
    part_bytes: u64,
    advice: &str,
) -> String {
    let named: Vec<String> = policies.iter().map(|p| format!("`{p}`")).collect();
    let under = match named.len() {
        0 => String::new(),
        1 => format!(" under policy {}", named[0]),
        _ => format!(
            " under policies {} (the largest of their estimates)",
            named.join(", ")
        ),
    };
    let h = crate::footprint::human_bytes;
    let (estimate_text, bound_text) = if h(estimate_bytes) == h(bound_bytes) {
        (
            format!("{} ({estimate_bytes} bytes)", h(estimate_bytes)),
            format!("{} ({bound_bytes} bytes)", h(bound_bytes)),
        )
    } else {
        (h(estimate_bytes), h(bound_bytes))
    };
    let or = if advice.is_empty() {
        String::new()
    } else {
        format!(", or {advice}")
    };
    format!(
        "the run would hold about {estimate_text}{under} ({estimate}), more than \
         limits.memory_bytes_max = {bound_text}; {} of it is {part}: raise \
         limits.memory_bytes_max{or}",
        h(part_bytes)
    )
}
