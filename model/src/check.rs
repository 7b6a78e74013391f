//! Running the checker: [`check`] explores a configuration with stateright and reports
//! each property, with a counterexample for every violated invariant: the shortest, or
//! said why it is not proven so.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stateright::{Checker, Expectation, Model};

use crate::config::{CheckConfig, Strategy};
use crate::coverage::Coverage;
use crate::protocol::{Action, OwmModel};
use crate::state::State;
use crate::trace::{self, Trace};
use crate::verdicts::PARTNERS;
use crate::ModelError;

/// States the search for the shortest counterexamples (after a breadth-first search on
/// several threads) may visit when no memory budget is given ([`MemoryBudget`]); past
/// it the checker's own path is reported as not proven shortest.
pub const SHORTEST_SEARCH_STATES_MAX: usize = 2_000_000;

/// A memory limit. The search for the shortest counterexamples fills at most
/// `bytes` at [`crate::estimate::SHORTEST_BYTES_PER_STATE`] bytes a state (it runs after the
/// main search has freed its states); a limit the user set (`bounds_search`) also stops
/// every search once the process holds more ([`held_bytes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryBudget {
    /// Bytes.
    pub bytes: f64,
    /// Where the limit comes from, in words: `--memory-max 0.5 GiB`, `the 21.3 GiB
    /// available`.
    pub what: String,
    /// True for the user's limit (`--memory-max`): a search stops (cut, like a state
    /// budget) once the process holds more. False for the machine's available memory,
    /// which bounds only the search for the shortest.
    pub bounds_search: bool,
}

/// What the process holds, in bytes, and how that was found: its resident memory
/// (Linux `VmRSS`), else `states` at `per_state` bytes each (an estimate).
pub fn held_bytes(states: usize, per_state: f64) -> (f64, String) {
    match crate::estimate::resident_bytes() {
        Some(b) => (b, format!("the process held {:.1} MiB", b / MIB)),
        None => {
            let b = states as f64 * per_state;
            (
                b,
                format!(
                    "{states} states held about {:.1} MiB at {per_state:.0} bytes a state \
                     (resident memory cannot be measured here)",
                    b / MIB
                ),
            )
        }
    }
}

const MIB: f64 = (1u64 << 20) as f64;

impl MemoryBudget {
    /// Why a search holding `states` states (at `per_state` bytes each) must stop for
    /// this limit: `--memory-max 0.01 GiB: the process held 12.3 MiB`; `None` when it
    /// fits or the limit bounds only the search for the shortest.
    pub fn passed(&self, states: usize, per_state: f64) -> Option<String> {
        if !self.bounds_search {
            return None;
        }
        let (held, how) = held_bytes(states, per_state);
        (held > self.bytes).then(|| format!("{}: {how}", self.what))
    }
}

/// What limits a check besides its configuration's own bounds.
#[derive(Clone, Copy)]
pub struct Limits<'a> {
    /// An interrupt: polled about every 50 ms (and once before the search); once it
    /// returns true the search explores no further state.
    pub stop: &'a dyn Fn() -> bool,
    /// When the configuration's `--timeout` began to run: the start of the command, so
    /// that the searches before this one (an estimate's) count in it.
    pub since: Instant,
    /// The memory limit ([`MemoryBudget`]).
    pub memory: Option<&'a MemoryBudget>,
}

fn never() -> bool {
    false
}

impl Limits<'static> {
    /// No interrupt, no memory limit, the timeout counted from now.
    pub fn none() -> Self {
        Limits {
            stop: &never,
            since: Instant::now(),
            memory: None,
        }
    }
}

/// What stopped a search before its own bounds did.
#[derive(Debug, Clone, PartialEq)]
pub enum Stopped {
    /// An interrupt (Ctrl-C).
    Interrupt,
    /// The user's memory limit, with what was held: `--memory-max 0.01 GiB (the
    /// process held 12.3 MiB)`.
    Memory(String),
}

/// A bound that cut a search ([`CheckReport::cuts`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Cut {
    /// `--depth D`: a state one step deeper was reached, not explored.
    Depth(usize),
    /// `--states-max N`: more than N states were generated.
    States(usize),
    /// `--timeout`: it ran out while the search ran.
    Timeout(Duration),
    /// The user's memory limit, with what was held (as [`Stopped::Memory`]).
    Memory(String),
    /// An interrupt (Ctrl-C).
    Interrupt,
}

impl std::fmt::Display for Cut {
    /// `depth 21`, `--states-max 1000`, `--timeout 100 s`, `--memory-max 0.01 GiB: the
    /// process held 12.3 MiB`, `an interrupt`: a budget by its flag, so that "cut by"
    /// never reads as a count of states cut.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cut::Depth(d) => write!(f, "depth {d}"),
            Cut::States(n) => write!(f, "--states-max {n}"),
            Cut::Timeout(t) => write!(f, "--timeout {} s", t.as_secs_f64()),
            Cut::Memory(why) => f.write_str(why),
            Cut::Interrupt => f.write_str("an interrupt"),
        }
    }
}

/// What became of one property.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// An `always` property held on every explored state.
    Held,
    /// An `always` property failed, with a trace to a violating state: the shortest
    /// one when `not_shortest` is `None`.
    Violated {
        trace: Box<Trace>,
        /// Numbered steps in patent terms.
        steps: Vec<String>,
        /// The oracle's words.
        detail: String,
        /// `None`: no shorter trace reaches a state violating the property (breadth
        /// first on one thread, or the search for the shortest completed). `Some`: why
        /// the trace is not proven shortest (depth first; several threads and that
        /// search cut by `--timeout`, the memory budget or an interrupt).
        not_shortest: Option<String>,
    },
    /// A `sometimes` property: an example state was reached.
    Reached,
    /// A `sometimes` property never held: its `always` partners hold vacuously.
    NotReached,
    /// An `always` property that no explored state violated, in a search cut (by a
    /// bound or an interrupt) before its witness was reached: the `sometimes` property
    /// (`witness`, [`PARTNERS`]) whose states are those the invariant judges, or would
    /// be judged vacuously without. Nothing it speaks of was reached within the bound,
    /// so it is not said to hold there.
    NotWitnessed {
        /// The witness's name: `run ended`.
        witness: &'static str,
    },
}

/// One property's result.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyReport {
    pub name: &'static str,
    /// `always` or `sometimes`.
    pub kind: &'static str,
    pub outcome: Outcome,
}

/// The result of [`check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub config: CheckConfig,
    pub properties: Vec<PropertyReport>,
    /// Distinct states reached (stateright's `unique_state_count`): the states
    /// explored and those reached but never explored ([`CheckReport::cut_states`]).
    pub unique_states: usize,
    /// Distinct states explored: every property judged on each and its actions taken.
    pub explored_states: usize,
    /// States generated, with repeats.
    pub generated_states: usize,
    /// The depth of the deepest state explored (the initial state is depth 1); 0 when
    /// the search was cut before it explored the initial state.
    pub max_depth: usize,
    /// Time from the start of the search to the end of its last thread.
    pub elapsed: Duration,
    /// Distinct states reached but never explored (nor judged): generated one step
    /// beyond the depth bound, or still queued when a state or time budget or an
    /// interrupt stopped the search. 0 means the search was complete, whatever bounds
    /// were set.
    pub cut_states: usize,
    /// What stopped the search besides its bounds: an interrupt (the `stop` of
    /// [`Limits`]) or the memory limit; `None` when only the bounds cut it, or nothing.
    pub stopped: Option<Stopped>,
    /// True when `--timeout` ran out while the search ran (or before it began): the
    /// timeout cut it. False when it was not set or never ran out.
    pub timed_out: bool,
    /// True when the search reached a state one step beyond `--depth` (reached, not
    /// explored): the depth bound cut it. False without `--depth`.
    pub beyond_depth: bool,
    /// Per action kind, enabled and taken; the depth of each `sometimes` witness.
    pub coverage: Coverage,
}

/// Progress while checking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// States reached: by the search, or (`shortest`) by the search for the shortest
    /// counterexamples that follows it.
    pub unique_states: usize,
    pub elapsed: Duration,
    /// True while searching for the shortest counterexamples (after a breadth-first
    /// search on several threads found violations).
    pub shortest: bool,
}

impl Progress {
    /// Unique states per second so far.
    pub fn states_per_sec(&self) -> f64 {
        rate(self.unique_states, self.elapsed)
    }
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

impl CheckReport {
    /// Explored states per second: 0 when nothing was explored, whatever was
    /// reached.
    pub fn states_per_sec(&self) -> f64 {
        rate(self.explored_states, self.elapsed)
    }

    /// True when nothing was cut: the verdicts cover the whole space. A search that
    /// generated more than its `--states-max` is never complete, even when its threads
    /// happened to explore every state before the bound's check stopped them
    /// ([`CheckReport::past_states_max`]): whether a search is complete is then a
    /// function of the configuration, the same on every run and any number of threads.
    pub fn complete(&self) -> bool {
        self.cut_states == 0 && !self.past_states_max()
    }

    /// True when `--states-max N` is set and the search generated more than N states
    /// (repeats counted). The whole space's generated count is fixed by the
    /// configuration (each unique state is explored once, its successors generated
    /// once), so without `--depth` (whose cut depends on the order the threads meet
    /// states) this is the same on every run: the space generates more than N, or the
    /// search never passes N and the bound never stops it.
    pub fn past_states_max(&self) -> bool {
        self.config
            .states_max
            .is_some_and(|n| self.generated_states > n)
    }

    /// What a cut search left out: `13 states cut`; a search past `--states-max`
    /// whose threads explored every state before the bound's check stopped them, `more
    /// than 11000 states generated` (another run would be cut).
    pub fn cut_words(&self) -> String {
        match (self.cut_states, self.config.states_max) {
            (0, Some(n)) if self.past_states_max() => {
                format!("more than {} generated", states(n as u64))
            }
            (cut, _) => format!("{} cut", states(cut as u64)),
        }
    }

    /// The bounds that cut the search, in the order depth, states, timeout, memory,
    /// interrupt: only those that fired, never one merely set (`--timeout 100` on a
    /// search of 5 ms is not among them). Empty for a complete search.
    pub fn cuts(&self) -> Vec<Cut> {
        let mut cuts = Vec::new();
        if self.complete() {
            return cuts;
        }
        let states_cut = self.past_states_max();
        let stopped = self.stopped.is_some();
        if let Some(d) = self.config.depth {
            // stateright's own record of the deepest state popped can miss one when
            // threads race to raise it: a cut no other bound explains is the depth's.
            if self.beyond_depth || (!states_cut && !self.timed_out && !stopped) {
                cuts.push(Cut::Depth(d));
            }
        }
        if let (Some(n), true) = (self.config.states_max, states_cut) {
            cuts.push(Cut::States(n));
        }
        if let (Some(t), true) = (self.config.timeout, self.timed_out) {
            cuts.push(Cut::Timeout(t));
        }
        match &self.stopped {
            Some(Stopped::Memory(why)) => cuts.push(Cut::Memory(why.clone())),
            Some(Stopped::Interrupt) => cuts.push(Cut::Interrupt),
            None => {}
        }
        cuts
    }

    /// What stopped the search, naming only the bounds that fired ([`CheckReport::cuts`]):
    /// `depth 21`, `1000 states`, `100 s`, `an interrupt` or the memory limit
    /// (`--memory-max 0.01 GiB: the process held 12.3 MiB`), joined by commas when
    /// several did.
    pub fn cut_by(&self) -> String {
        let cuts = self.cuts();
        if cuts.is_empty() {
            return "nothing".into();
        }
        cuts.iter()
            .map(Cut::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What the verdicts of a cut search cover: `depth 21` when only the depth bound
    /// cut it (every state within that depth was judged, whatever other bounds were set
    /// and did not fire), else `the 1500 states explored (cut by --states-max 1000)`: a state
    /// or time budget, the memory limit or an interrupt leaves states of any depth
    /// unjudged.
    pub fn scope(&self) -> String {
        match self.cuts().as_slice() {
            [Cut::Depth(d)] => format!("depth {d}"),
            _ => format!(
                "the {} explored (cut by {})",
                states(self.explored_states as u64),
                self.cut_by()
            ),
        }
    }

    /// " within depth 21" when the search was cut ([`CheckReport::scope`]), "" when
    /// complete.
    fn within(&self) -> String {
        if self.complete() {
            String::new()
        } else {
            format!(" within {}", self.scope())
        }
    }

    /// True when every `always` held and every `sometimes` was reached (within the
    /// bounds: see [`CheckReport::complete`]).
    pub fn ok(&self) -> bool {
        self.properties
            .iter()
            .all(|p| matches!(p.outcome, Outcome::Held | Outcome::Reached))
    }

    /// The names of the violated invariants.
    pub fn violated(&self) -> Vec<&'static str> {
        self.properties
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Violated { .. }))
            .map(|p| p.name)
            .collect()
    }

    /// Each violated invariant's name and its trace (write each with
    /// [`Trace::to_text`], e.g. to `owm-check-<name>.trace`, for [`crate::replay`]).
    pub fn counterexamples(&self) -> Vec<(&'static str, &Trace)> {
        self.properties
            .iter()
            .filter_map(|p| match &p.outcome {
                Outcome::Violated { trace, .. } => Some((p.name, &**trace)),
                _ => None,
            })
            .collect()
    }

    /// The outcome of the property `name`.
    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.outcome)
    }

    /// "held" / "VIOLATED" / "reached" / "NOT REACHED" for `name`; a search that was
    /// cut says "held within depth 21" (never a bare "held") and "not reached within …",
    /// and of an invariant whose witness it did not reach `not reached within depth 18
    /// (its witness "run ended" was never reached)`.
    ///
    /// In a complete search an invariant whose witness was never reached holds only
    /// vacuously, and says so: `held vacuously (its witness "run ended" was NOT
    /// REACHED)`.
    pub fn verdict(&self, name: &str) -> String {
        match self.outcome(name) {
            Some(Outcome::Held) if self.complete() => match self.unreached_witness(name) {
                Some(witness) => {
                    format!("held vacuously (its witness \"{witness}\" was NOT REACHED)")
                }
                None => "held".into(),
            },
            Some(Outcome::Held) => format!("held{}", self.within()),
            Some(Outcome::NotWitnessed { witness }) => format!(
                "not reached{} (its witness \"{witness}\" was never reached)",
                self.within()
            ),
            Some(Outcome::Violated { .. }) => "VIOLATED".into(),
            Some(Outcome::Reached) => "reached".into(),
            Some(Outcome::NotReached) if self.complete() => "NOT REACHED".into(),
            Some(Outcome::NotReached) => format!("not reached{}", self.within()),
            None => "unknown".into(),
        }
    }

    /// The witness ([`PARTNERS`]) of the invariant `name` when that witness was never
    /// reached; `None` when it was, or `name` has none.
    pub fn unreached_witness(&self, name: &str) -> Option<&'static str> {
        let &(_, witness) = PARTNERS.iter().find(|(a, _)| *a == name)?;
        (self.outcome(witness) == Some(&Outcome::NotReached)).then_some(witness)
    }

    /// The line saying what the search covered. `--states-max N` is a soft bound: the
    /// search stops at the first check, after every 1,500 states a search thread
    /// explores (stateright's unit of work, breadth and depth first alike), that finds
    /// more than N states generated (with repeats), so on one thread it explores at
    /// least 1,500 states (or every reachable one) whatever N. The line then says so
    /// with the states generated and explored. A search that generated more than N
    /// is incomplete even when its threads explored every state before that check
    /// ([`CheckReport::complete`]), and the line says so.
    pub fn coverage_line(&self) -> String {
        // The soft bound is explained where it is in play: a complete search under it,
        // or one it cut; not after a cut it had no part in (an interrupt, a timeout).
        let states_in_play = self.complete() || self.past_states_max();
        let soft = match self.config.states_max {
            Some(n) if states_in_play => format!(
                "; --states-max {n} stops the search at the first check, after every 1,500 \
                 states a search thread explores, that finds more than {n} states \
                 generated, not at exactly {n}: {} generated, {} explored",
                self.generated_states, self.explored_states
            ),
            _ => String::new(),
        };
        match (self.complete(), self.config.bounds()) {
            (true, None) => "complete: every reachable state was explored".into(),
            (true, Some(b)) => format!("complete: the bounds ({b}) cut nothing{soft}"),
            (false, _) if self.cut_states == 0 => format!(
                "INCOMPLETE: {} generated, more than --states-max {}: the bound may cut this \
                 search on another run (this run's threads explored every state before its \
                 check stopped them); verdicts hold only within the states explored{soft}",
                states(self.generated_states as u64),
                self.config.states_max.unwrap_or_default()
            ),
            (false, _) => format!(
                "INCOMPLETE: {} reached but not explored (cut by {}); verdicts hold only within it{soft}",
                states(self.cut_states as u64),
                self.cut_by()
            ),
        }
    }

    /// Which witness each `sometimes` depth is: breadth first on one thread the
    /// shallowest; depth first, or breadth first on several threads, the first the
    /// search met, which need not be the shallowest. The flags that give the shallowest
    /// are those of this search's `reproduce` line to change ([`CheckConfig::search_flags`]
    /// writes `--dfs` with `--symmetry on`, which searches only depth first), none
    /// already as they should be.
    pub fn witness_depths(&self) -> String {
        let cfg = &self.config;
        match cfg.strategy {
            Strategy::Bfs if cfg.threads == 1 => "the shallowest".into(),
            Strategy::Bfs => format!(
                "the first found by {} threads, not the shallowest: --threads 1 gives it",
                cfg.threads
            ),
            Strategy::Dfs => {
                let mut change = Vec::new();
                if cfg.symmetry {
                    change.push("--symmetry off");
                }
                change.push("no --dfs");
                if cfg.threads != 1 {
                    change.push("--threads 1");
                }
                let how = if cfg.symmetry {
                    "depth first (symmetry reduction searches only depth first)"
                } else {
                    "depth first"
                };
                format!(
                    "the first found {how}, not the shallowest: breadth first on one thread \
                     ({}) gives it",
                    change.join(", ")
                )
            }
        }
    }

    /// The report as `owm check` prints it.
    pub fn render(&self) -> String {
        let mut out = format!("model: {}\n", self.config.model_flags());
        let reached = if self.cut_states > 0 {
            format!(", reached {} more not explored", self.cut_states)
        } else {
            String::new()
        };
        let past = match self.config.states_max {
            Some(n) if self.past_states_max() => format!(", more than --states-max {n}"),
            _ => String::new(),
        };
        // The initial state is depth 1: a search cut before it was explored has no depth.
        let depth = match self.max_depth {
            0 => "no depth: not even the initial state, depth 1, was explored".to_string(),
            d => format!("depth {d}"),
        };
        let _ = writeln!(
            out,
            "explored {} unique states{reached} ({} generated{past}, {depth}) in {:.3} s: {:.0} states/s",
            self.explored_states,
            self.generated_states,
            self.elapsed.as_secs_f64(),
            self.states_per_sec()
        );
        let _ = writeln!(out, "{}", self.coverage_line());
        for p in &self.properties {
            // The verdict of an invariant whose witness was not reached names it.
            let partner = match p.outcome {
                Outcome::NotWitnessed { .. } => None,
                _ => PARTNERS.iter().find(|(a, _)| *a == p.name),
            }
            .map_or(String::new(), |(_, s)| format!("  (witness: {s})"));
            let _ = writeln!(
                out,
                "  {:9} {:36} {}{}",
                p.kind,
                p.name,
                self.verdict(p.name),
                partner
            );
        }
        out += &self.coverage.render(&self.witness_depths());
        for p in &self.properties {
            if let Outcome::Violated {
                steps,
                detail,
                not_shortest,
                ..
            } = &p.outcome
            {
                let n = steps.len();
                let which = match not_shortest {
                    None => format!("shortest trace ({n} steps)"),
                    Some(why) => format!("a trace ({n} steps; not proven shortest: {why})"),
                };
                let _ = writeln!(out, "\n{} violated; {which}:", p.name);
                for s in steps {
                    let _ = writeln!(out, "{s}");
                }
                let _ = writeln!(out, "oracle: {detail}");
            }
        }
        out
    }
}

/// Checks `cfg`.
pub fn check(cfg: &CheckConfig) -> Result<CheckReport, ModelError> {
    check_with_progress(cfg, None, &Limits::none())
}

/// Checks `cfg`, calling `progress` about every half second while exploring. The
/// `limits` are polled about every 50 ms (and once before the search): once the
/// interrupt comes, or the process holds more than the user's memory limit, the search
/// explores no further state, judges the states it had queued, and reports what it
/// covered ([`CheckReport::stopped`]). `cfg.timeout` counts from `limits.since`: a
/// search begun once it has run out explores nothing.
///
/// Breadth first on several threads, the first violating state a thread meets need
/// not be the nearest: once that search ends, one thread searches breadth first for
/// the shortest trace to each violated property, within what is left of
/// `cfg.timeout`, within `limits.memory` (else [`SHORTEST_SEARCH_STATES_MAX`] states)
/// and until the interrupt; cut, or after a stopped search (not run), the violation
/// keeps the checker's trace, marked not proven shortest ([`Outcome::Violated`]).
pub fn check_with_progress(
    cfg: &CheckConfig,
    progress: Option<&mut dyn FnMut(Progress)>,
    limits: &Limits<'_>,
) -> Result<CheckReport, ModelError> {
    cfg.validate()?;
    let mut model = OwmModel::new(cfg);
    if cfg.threads == 1 || cfg.strategy == Strategy::Dfs {
        // One thread breadth first visits states in the order of the shortest-path
        // search below (first-in first-out, successors in action order, each state
        // reached first by its first path): the first violating state it judges is the
        // one that search would find, so its discovery is the shortest trace and no
        // second search is needed. Depth first (chosen to save memory, which a second,
        // breadth-first search would spend) reports the first violating state it met.
        model.first_violation = Some(Arc::default());
    }
    let mut search = model.for_search();
    search.shares_parts = cfg.strategy == Strategy::Bfs;
    let mut builder = search.checker().threads(cfg.threads);
    if let Some(d) = cfg.depth {
        // stateright skips a state popped at its target depth before judging it: one
        // more judges (and explores) every state at depth `d`, as random walks do, and
        // leaves those one step beyond reached, not judged.
        builder = builder.target_max_depth(d.saturating_add(1));
    }
    if let Some(n) = cfg.states_max {
        // stateright stops a thread once N or more were generated; one more stops it
        // only past N, so a space that generates at most N is never cut by the bound,
        // on any run ([`CheckReport::complete`]).
        builder = builder.target_state_count(n.saturating_add(1));
    }
    // What is left of the timeout, counted from `limits.since`. It is not given to
    // stateright, which looks at its timeout only when a thread runs out of queued
    // states (never, on one thread): the poll in `finish` stops every search at the
    // deadline, on any number of threads, breadth or depth first, as it stops one for
    // an interrupt or the memory limit.
    let left = cfg
        .timeout
        .map(|t| t.saturating_sub(limits.since.elapsed()));
    if cfg.symmetry {
        // Depth first only (`CheckConfig::validate`): stateright's breadth-first
        // search takes no symmetry.
        builder = builder.symmetry();
    }
    let per_state = crate::estimate::bytes_per_state(cfg.strategy);
    let mut stopped = stop_now(limits, 0, per_state);
    // A timeout already run out (by the searches before this one) cuts it before it
    // begins.
    let mut timed_out = left == Some(Duration::ZERO);
    if stopped.is_some() || timed_out {
        model.stop.store(true, Ordering::Relaxed);
    }
    let start = Instant::now();
    match cfg.strategy {
        Strategy::Bfs => finish(
            &model,
            builder.spawn_bfs(),
            start,
            progress,
            limits,
            &mut stopped,
            &mut timed_out,
        ),
        Strategy::Dfs => finish(
            &model,
            builder.spawn_dfs(),
            start,
            progress,
            limits,
            &mut stopped,
            &mut timed_out,
        ),
    }
}

/// Why a search holding `states` must stop now: the interrupt came, or the process
/// holds more than the user's memory limit.
fn stop_now(limits: &Limits<'_>, states: usize, per_state: f64) -> Option<Stopped> {
    if (limits.stop)() {
        return Some(Stopped::Interrupt);
    }
    limits
        .memory
        .and_then(|m| m.passed(states, per_state))
        .map(Stopped::Memory)
}

fn finish<C: Checker<OwmModel>>(
    model: &OwmModel,
    mut checker: C,
    start: Instant,
    mut progress: Option<&mut dyn FnMut(Progress)>,
    limits: &Limits<'_>,
    stopped: &mut Option<Stopped>,
    timed_out: &mut bool,
) -> Result<CheckReport, ModelError> {
    // The search threads are joined on a thread of their own, which takes the time the
    // moment the last one ends: the rate is the search's, not a poll's.
    let handles = checker.handles();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let joiner = std::thread::spawn(move || {
        let panicked = handles
            .into_iter()
            .map(|h| h.join().is_err())
            .fold(false, |any, p| any | p);
        let elapsed = start.elapsed();
        let _ = done_tx.send(());
        (panicked, elapsed)
    });
    // Progress and the limits are polled (stateright offers no other signal); progress
    // never affects results or the measured time.
    let per_state = crate::estimate::bytes_per_state(model.cfg.strategy);
    let mut reported = Instant::now();
    let deadline = model.cfg.timeout.map(|t| limits.since + t);
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        done_rx.recv_timeout(Duration::from_millis(50))
    {
        if !*timed_out && deadline.is_some_and(|at| Instant::now() >= at) {
            // The report names the timeout among the bounds that cut the search
            // ([`CheckReport::cuts`]) only when it ran out while the search ran.
            *timed_out = true;
            model.stop.store(true, Ordering::Relaxed);
        }
        if reported.elapsed() >= Duration::from_millis(500) {
            reported = Instant::now();
            if let Some(p) = progress.as_mut() {
                p(Progress {
                    unique_states: checker.unique_state_count(),
                    elapsed: start.elapsed(),
                    shortest: false,
                });
            }
        }
        if stopped.is_none() {
            *stopped = stop_now(limits, checker.unique_state_count(), per_state);
            if stopped.is_some() {
                model.stop.store(true, Ordering::Relaxed);
            }
        }
    }
    let (panicked, elapsed) = joiner
        .join()
        .map_err(|_| ModelError::Checker("the joining thread panicked".into()))?;
    if panicked {
        return Err(ModelError::Checker("a checker thread panicked".into()));
    }
    // Read before `discoveries`, which replays paths through the model (and so needs
    // its actions back).
    model.stop.store(false, Ordering::Relaxed);
    let stopped = stopped.take();
    let expanded = model.expanded.load(Ordering::Relaxed);
    let mut coverage = model.coverage.snapshot();
    let unique_states = checker.unique_state_count();
    let discoveries = checker.discoveries();
    let props = model.properties();
    coverage.witnesses = crate::coverage::witnesses(&props, &discoveries);
    let violated: Vec<usize> = props
        .iter()
        .enumerate()
        .filter(|(_, p)| p.expectation == Expectation::Always && discoveries.contains_key(p.name))
        .map(|(i, _)| i)
        .collect();
    let generated_states = checker.state_count();
    let checker_depth = checker.max_depth();
    // The search's states are freed before any search for the shortest traces.
    drop(checker);
    let mut shortest = HashMap::new();
    // Why a violation's trace is not proven shortest, when it is not.
    let unproven: Option<String> = match model.cfg.strategy {
        Strategy::Dfs => Some("depth first reports the first violation it met".into()),
        // One thread breadth first: the first violating state judged is the nearest.
        Strategy::Bfs if model.first_violation.is_some() => None,
        Strategy::Bfs => {
            let threads = format!(
                "found by {} threads, which need not meet the nearest violation first",
                model.cfg.threads
            );
            if let Some(s) = &stopped {
                Some(match s {
                    Stopped::Interrupt => format!(
                        "{threads}, and the interrupted check did not search for the shortest"
                    ),
                    Stopped::Memory(why) => format!(
                        "{threads}, and the check did not search for the shortest \
                         (stopped by {why})"
                    ),
                })
            } else if violated.is_empty() {
                None
            } else {
                let budget = ShortestBudget::new(&model.cfg, limits);
                let (found, cut) =
                    shortest_counterexamples(model, &violated, &budget, &mut progress);
                shortest = found;
                // A shorter trace may exist: breadth first on one thread meets the
                // nearest violation first and needs no second search.
                Some(match cut {
                    Some(why) => format!(
                        "{threads}, and the search for the shortest {why}: a shorter trace \
                         may exist; --threads 1 gives the shortest"
                    ),
                    None => format!("{threads}, and the search for the shortest did not meet it"),
                })
            }
        }
    };
    let mut properties = Vec::new();
    for (i, p) in props.iter().enumerate() {
        let found = discoveries.get(p.name);
        let (kind, outcome) = match p.expectation {
            Expectation::Always => match found {
                None => ("always", Outcome::Held),
                Some(path) => {
                    let (actions, not_shortest) = match shortest.remove(&i) {
                        Some(actions) => (actions, None),
                        None => (path.clone().into_actions(), unproven.clone()),
                    };
                    (
                        "always",
                        violated_outcome(model, p.name, actions, not_shortest)?,
                    )
                }
            },
            Expectation::Sometimes => (
                "sometimes",
                if found.is_some() {
                    Outcome::Reached
                } else {
                    Outcome::NotReached
                },
            ),
            Expectation::Eventually => unreachable!("the model has no eventually properties"),
        };
        properties.push(PropertyReport {
            name: p.name,
            kind,
            outcome,
        });
    }
    let cut_states = unique_states.saturating_sub(expanded);
    let past_states_max = model.cfg.states_max.is_some_and(|n| generated_states > n);
    if cut_states > 0 || past_states_max {
        not_witnessed(&mut properties);
    }
    Ok(CheckReport {
        config: model.cfg.clone(),
        properties,
        unique_states,
        explored_states: expanded.min(unique_states),
        generated_states,
        // stateright counts the depth of states popped one step beyond the bound,
        // which are not explored, and of an initial state popped after an interrupt.
        max_depth: match expanded.min(unique_states) {
            0 => 0,
            _ => model
                .cfg
                .depth
                .map_or(checker_depth, |d| checker_depth.min(d)),
        },
        elapsed,
        cut_states,
        stopped,
        timed_out: *timed_out,
        beyond_depth: model.cfg.depth.is_some_and(|d| checker_depth > d),
        coverage,
    })
}

/// In a cut search, each `always` property that held but whose witness ([`PARTNERS`])
/// was not reached becomes [`Outcome::NotWitnessed`]: the bound kept the search from
/// every state it speaks of, so "held within the bound" would be vacuous.
fn not_witnessed(properties: &mut [PropertyReport]) {
    let reached: Vec<&'static str> = properties
        .iter()
        .filter(|p| p.outcome == Outcome::Reached)
        .map(|p| p.name)
        .collect();
    for p in properties.iter_mut() {
        if p.outcome != Outcome::Held {
            continue;
        }
        if let Some(&(_, witness)) = PARTNERS.iter().find(|(a, _)| *a == p.name) {
            if !reached.contains(&witness) {
                p.outcome = Outcome::NotWitnessed { witness };
            }
        }
    }
}

fn violated_outcome(
    model: &OwmModel,
    name: &'static str,
    actions: Vec<Action>,
    not_shortest: Option<String>,
) -> Result<Outcome, ModelError> {
    let trace = Trace {
        config: model.cfg.clone(),
        violates: name.to_string(),
        actions,
    };
    let replayed = trace::replay(&trace)?;
    Ok(Outcome::Violated {
        trace: Box::new(trace),
        steps: replayed.steps,
        detail: replayed.violation.to_string(),
        not_shortest,
    })
}

fn fingerprint(s: &State) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// What bounds the search for the shortest counterexamples: what is left of the
/// check's `--timeout`, a number of states (from the memory budget), the memory the
/// process holds (the user's limit) and an interrupt.
struct ShortestBudget<'a> {
    /// When `--timeout` runs out, measured from the start of the command, and the flag.
    deadline: Option<(Instant, Duration)>,
    /// States it may reach, and why that many.
    states_max: usize,
    states_why: String,
    limits: Limits<'a>,
}

impl<'a> ShortestBudget<'a> {
    fn new(cfg: &CheckConfig, limits: &Limits<'a>) -> Self {
        let (states_max, states_why) = match limits.memory {
            Some(m) => {
                let per_state = crate::estimate::SHORTEST_BYTES_PER_STATE;
                (
                    (m.bytes / per_state) as usize,
                    format!("what {} holds at {per_state:.0} bytes a state", m.what),
                )
            }
            None => (SHORTEST_SEARCH_STATES_MAX, "its cap".into()),
        };
        ShortestBudget {
            deadline: cfg.timeout.map(|t| (limits.since + t, t)),
            states_max,
            states_why,
            limits: *limits,
        }
    }

    /// Why the search must stop now, having reached `states` states; `None` to go on.
    fn spent(&self, states: usize) -> Option<String> {
        if let Some((at, t)) = self.deadline {
            if Instant::now() >= at {
                return Some(format!(
                    "ran out of --timeout {} s after {states} states",
                    t.as_secs_f64()
                ));
            }
        }
        match stop_now(
            &self.limits,
            states,
            crate::estimate::SHORTEST_BYTES_PER_STATE,
        ) {
            Some(Stopped::Interrupt) => Some(format!("was interrupted after {states} states")),
            Some(Stopped::Memory(why)) => Some(format!("stopped at {states} states: {why}")),
            None => None,
        }
    }
}

/// Breadth-first search, single-threaded and in action order, for the shortest path
/// to a state violating each property in `targets` (indices into the model's
/// properties), judging the states within the check's depth bound. On several threads
/// stateright's discovery is the first violating state some thread met, not always the
/// nearest; this search's is, and it is deterministic. It stops early when `budget`
/// is spent; the second value then says how (`ran out of --timeout 5 s after 1200
/// states`), and the targets not yet found are missing from the first.
fn shortest_counterexamples(
    model: &OwmModel,
    targets: &[usize],
    budget: &ShortestBudget<'_>,
    progress: &mut Option<&mut dyn FnMut(Progress)>,
) -> (HashMap<usize, Vec<Action>>, Option<String>) {
    let mut found = HashMap::new();
    if targets.is_empty() {
        return (found, None);
    }
    if let Some(why) = budget.spent(0) {
        return (found, Some(why));
    }
    let depth = model.cfg.depth;
    // States keep no record of their path: the verdicts are judged from the state.
    let model = &model.for_search();
    let props = model.properties();
    let start = Instant::now();
    let mut polled = start;
    // Nodes: (parent, action); the path to a node is read back through its parents.
    let mut nodes: Vec<(usize, Option<Action>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut queue = VecDeque::new();
    for s in model.init_states() {
        if seen.insert(fingerprint(&s)) {
            nodes.push((usize::MAX, None));
            queue.push_back((s, nodes.len() - 1, 0usize));
        }
    }
    let path_to = |nodes: &Vec<(usize, Option<Action>)>, mut i: usize| {
        let mut out = Vec::new();
        while let Some(a) = nodes[i].1 {
            out.push(a);
            i = nodes[i].0;
        }
        out.reverse();
        out
    };
    let mut actions = Vec::new();
    let mut popped = 0usize;
    while let Some((s, node, d)) = queue.pop_front() {
        popped += 1;
        if popped.is_multiple_of(1024) {
            if let Some(why) = budget.spent(nodes.len()) {
                return (found, Some(why));
            }
            if polled.elapsed() >= Duration::from_millis(500) {
                polled = Instant::now();
                if let Some(p) = progress.as_mut() {
                    p(Progress {
                        unique_states: nodes.len(),
                        elapsed: start.elapsed(),
                        shortest: true,
                    });
                }
            }
        }
        // The initial state is depth 1; states beyond the bound are not judged.
        if depth.is_some_and(|max| d + 1 > max) {
            continue;
        }
        for &t in targets {
            if !found.contains_key(&t) && !(props[t].condition)(model, &s) {
                found.insert(t, path_to(&nodes, node));
            }
        }
        if found.len() == targets.len() {
            break;
        }
        actions.clear();
        model.actions(&s, &mut actions);
        for &a in &actions {
            let next = model.apply(&s, a, None);
            if seen.insert(fingerprint(&next)) {
                if nodes.len() >= budget.states_max {
                    let why = format!("stopped at {} states, {}", nodes.len(), budget.states_why);
                    return (found, Some(why));
                }
                nodes.push((node, Some(a)));
                queue.push_back((next, nodes.len() - 1, d + 1));
            }
        }
    }
    (found, None)
}

/// `n` states in words: "1 state", "0 states", "6789 states".
pub fn states(n: u64) -> String {
    if n == 1 {
        "1 state".to_string()
    } else {
        format!("{n} states")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration violating B-complete and bank-conserved, on two threads.
    fn violating() -> CheckConfig {
        let flags = "--variant cow --old 1 --new 1 --records-per-block 2 --locks record \
                     --aborts off";
        CheckConfig {
            threads: 2,
            ..CheckConfig::from_model_flags(flags).unwrap()
        }
    }

    fn not_shortest(r: &CheckReport, name: &str) -> Option<String> {
        match r.outcome(name) {
            Some(Outcome::Violated { not_shortest, .. }) => not_shortest.clone(),
            other => panic!("{name}: {other:?}"),
        }
    }

    /// A memory budget too small for the search for the shortest traces leaves the
    /// checker's trace, said to be not proven shortest and why; one that holds the
    /// space gives the shortest, as one thread does.
    #[test]
    fn a_memory_budget_bounds_the_search_for_the_shortest() {
        let cfg = violating();
        let budget = |states: f64| MemoryBudget {
            bytes: states * crate::estimate::SHORTEST_BYTES_PER_STATE,
            what: "--memory-max x GiB".into(),
            bounds_search: false,
        };
        let small = budget(10.0);
        let limits = |memory| Limits {
            memory: Some(memory),
            ..Limits::none()
        };
        let r = check_with_progress(&cfg, None, &limits(&small)).unwrap();
        assert_eq!(r.violated(), ["B-complete", "bank-conserved"]);
        for name in r.violated() {
            let why = not_shortest(&r, name).unwrap();
            for part in [
                "found by 2 threads",
                "stopped at 10 states",
                "--memory-max x GiB",
                "a shorter trace may exist; --threads 1 gives the shortest",
            ] {
                assert!(why.contains(part), "{part}: {why}");
            }
        }
        assert!(
            r.render().contains("violated; a trace (")
                && r.render()
                    .contains("not proven shortest: found by 2 threads"),
            "{}",
            r.render()
        );
        let large = budget(1e6);
        let r = check_with_progress(&cfg, None, &limits(&large)).unwrap();
        let one = check(&CheckConfig { threads: 1, ..cfg }).unwrap();
        for name in r.violated() {
            assert_eq!(not_shortest(&r, name), None, "{name}");
            assert_eq!(not_shortest(&one, name), None, "{name}");
            let len = |r: &CheckReport| {
                r.counterexamples()
                    .into_iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, t)| t.actions.len())
            };
            assert_eq!(len(&r), len(&one), "{name}");
        }
        let (_, trace) = r.counterexamples()[0];
        let label = format!("violated; shortest trace ({} steps):", trace.actions.len());
        assert!(r.render().contains(&label), "{label}\n{}", r.render());
    }

    /// A search interrupted before its first state explores none and says so: no
    /// depth, never "depth 0" (the initial state is depth 1); one cut at `--depth 1`
    /// explores the initial state alone, at depth 1.
    #[test]
    fn a_search_cut_before_the_initial_state_has_no_depth() {
        fn always() -> bool {
            true
        }
        let cfg = CheckConfig {
            threads: 1,
            ..violating()
        };
        let stopped = Limits {
            stop: &always,
            since: Instant::now(),
            memory: None,
        };
        let r = check_with_progress(&cfg, None, &stopped).unwrap();
        assert_eq!((r.explored_states, r.max_depth), (0, 0));
        let text = r.render();
        assert!(
            text.contains("no depth: not even the initial state, depth 1, was explored")
                && !text.contains("depth 0"),
            "{text}"
        );
        let r = check(&CheckConfig {
            depth: Some(1),
            ..cfg
        })
        .unwrap();
        assert_eq!((r.explored_states, r.max_depth), (1, 1));
        assert!(
            r.render().contains(" generated, depth 1)"),
            "{}",
            r.render()
        );
    }

    /// Only the bounds that fired are named: a depth bound that cut with a timeout and
    /// a states bound set but unfired reads `depth 6`; a timeout run out before the
    /// search began is named alone, whatever depth bound was set.
    #[test]
    fn only_the_bounds_that_fired_are_named() {
        let cfg = CheckConfig {
            threads: 1,
            depth: Some(6),
            ..violating()
        };
        let depth_only = check(&cfg).unwrap();
        assert_eq!(depth_only.cuts(), [Cut::Depth(6)]);
        let set = CheckConfig {
            timeout: Some(Duration::from_secs(1000)),
            states_max: Some(1_000_000),
            ..cfg.clone()
        };
        let r = check(&set).unwrap();
        assert_eq!(r.cuts(), [Cut::Depth(6)]);
        assert_eq!(
            (r.scope(), r.cut_by()),
            ("depth 6".into(), "depth 6".into())
        );
        // The verdicts and the coverage line are those of the depth bound alone.
        for p in &r.properties {
            assert_eq!(r.verdict(p.name), depth_only.verdict(p.name), "{}", p.name);
        }
        assert_eq!(r.coverage_line(), depth_only.coverage_line());

        let timeout = Duration::from_millis(250);
        let spent = Limits {
            since: Instant::now().checked_sub(timeout).unwrap(),
            ..Limits::none()
        };
        let r = check_with_progress(
            &CheckConfig {
                timeout: Some(timeout),
                ..cfg
            },
            None,
            &spent,
        )
        .unwrap();
        assert_eq!(r.cuts(), [Cut::Timeout(timeout)]);
        assert_eq!(r.scope(), "the 0 states explored (cut by --timeout 0.25 s)");
    }

    /// The search for the shortest stops, saying so, once `--timeout` has run out
    /// (measured from the start of the check) or an interrupt came; depth first no
    /// such search runs and the trace says it is the first met.
    #[test]
    fn a_timeout_or_an_interrupt_stops_the_search_for_the_shortest() {
        let cfg = violating();
        let model = OwmModel::new(&cfg);
        let targets: Vec<usize> = (0..model.properties().len())
            .filter(|&i| model.properties()[i].expectation == Expectation::Always)
            .collect();
        fn never() -> bool {
            false
        }
        fn always() -> bool {
            true
        }
        let on = |stop: &'static dyn Fn() -> bool, since| Limits {
            stop,
            since,
            memory: None,
        };
        let timeout = Duration::from_millis(250);
        let past = Instant::now().checked_sub(timeout).unwrap();
        let spent = ShortestBudget {
            deadline: Some((past, timeout)),
            ..ShortestBudget::new(&cfg, &on(&never, past))
        };
        let (found, why) = shortest_counterexamples(&model, &targets, &spent, &mut None);
        assert!(found.is_empty());
        assert_eq!(
            why.as_deref(),
            Some("ran out of --timeout 0.25 s after 0 states")
        );
        let stopped = ShortestBudget::new(&cfg, &on(&always, Instant::now()));
        let (found, why) = shortest_counterexamples(&model, &targets, &stopped, &mut None);
        assert!(found.is_empty());
        assert_eq!(why.as_deref(), Some("was interrupted after 0 states"));
        // A budget with time left and room for the space finds a trace for each
        // violated property, and says nothing was cut.
        let open = ShortestBudget::new(&cfg, &on(&never, Instant::now()));
        let (found, why) = shortest_counterexamples(&model, &targets, &open, &mut None);
        assert_eq!((found.len(), why), (2, None));

        let dfs = check(&CheckConfig {
            strategy: Strategy::Dfs,
            ..cfg
        })
        .unwrap();
        let why = not_shortest(&dfs, "B-complete").unwrap();
        assert!(why.contains("depth first"), "{why}");
    }
}
