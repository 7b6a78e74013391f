//! The memory this machine has available to a new process: what `owm run` and
//! `owm sweep` compare their estimates with, beside `limits.memory_bytes_max`, so that a
//! bound set above the machine does not lead to the kernel's out-of-memory killer.

/// The memory available to a new process and where the figure came from:
/// `OWM_MEMORY_AVAILABLE_BYTES` when set to a number of bytes above 0 (what a test, or a
/// machine whose `/proc` does not tell, gives), else Linux's `MemAvailable`
/// (`/proc/meminfo`; also when the variable holds no such number, which is said on
/// stderr); `None` when neither is known.
pub fn available_bytes() -> Option<(u64, &'static str)> {
    // Read once: a sweep asks twice (its refusal, then its --jobs), and a note on a
    // bad value is said once.
    static AVAILABLE: std::sync::OnceLock<Option<(u64, &'static str)>> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(read_available)
}

/// [`available_bytes`], read from the environment and the machine.
fn read_available() -> Option<(u64, &'static str)> {
    const KEY: &str = "OWM_MEMORY_AVAILABLE_BYTES";
    let machine = || model::estimate::available_bytes().map(|b| (b as u64, "MemAvailable"));
    match std::env::var(KEY) {
        Ok(v) => match v.trim().parse() {
            // No machine has nothing available: a 0 is a slip, not a figure.
            Ok(0) => {
                eprintln!("note: {KEY}={v:?} is 0 bytes: ignored, the machine's MemAvailable used");
                machine()
            }
            Ok(n) => Some((n, KEY)),
            // Said, and the machine's figure kept: a typo must not turn the check off.
            Err(e) => {
                let what = match e.kind() {
                    std::num::IntErrorKind::PosOverflow => "is past 2^64 - 1 bytes",
                    _ => "is not a whole number of bytes",
                };
                eprintln!("note: {KEY}={v:?} {what}: ignored, the machine's MemAvailable used");
                machine()
            }
        },
        Err(_) => machine(),
    }
}

/// The words of a refusal by the machine's memory, after "the run would hold about X
/// (…)": more than the `available` bytes the machine has (figure from `source`, as
/// [`available_bytes`] gives it), so the kernel would kill it, though
/// `limits.memory_bytes_max` (`bound_text`, as the message shows it) allows it.
pub fn past_the_machine(available: u64, source: &str, bound_text: &str) -> String {
    format!(
        "more than the {} of memory this machine has available ({source}): it would be \
         killed for want of memory before it ended (limits.memory_bytes_max = {bound_text} \
         allows it)",
        sim::footprint::human_bytes(available)
    )
}
