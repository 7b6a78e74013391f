//! Random walks: for configurations too large to exhaust, [`walk`] follows `walks`
//! random paths through the same [`OwmModel`] from its initial state, judging every
//! state with the same properties as the exhaustive checker, and keeps, for each
//! violated invariant, a [`Trace`] that [`crate::replay`] re-executes.
//!
//! Walks are numbered 0, 1, … `walks - 1`, and walk `i` depends on nothing but the
//! model, the seed and `i`: its choices come from a ChaCha8 stream whose key is the
//! seed (little-endian, zero-padded to 32 bytes) and whose stream number is `i`; each
//! step takes action `⌊r · n / 2⁶⁴⌋` of the `n` enabled ones (in the model's action
//! order) for the stream's next 64-bit word `r` — uniform up to a bias below `n / 2⁶⁴`.
//! A walk stops at a terminal state (no action enabled) or at the depth bound. So the
//! results do not depend on the threads, and shard `K/N` (the walks `i` with
//! `i % N == K - 1`) does exactly its part of the unsharded run: [`WalkReport::merge`]
//! of the `N` shards gives the unsharded report (the first violating walk of each
//! invariant, the shallowest witness of each `sometimes`, the counts), except that
//! distinct states are only known per shard (a state several shards saw counts once
//! per shard, so the merged count is an upper bound).
//!
//! stateright's own simulation checker (`spawn_simulation`) is not used: it reseeds
//! each thread's walks from `StdRng`, whose output may change between `rand`
//! versions, numbers no walks (so it cannot shard or replay walk `i`), and reports
//! only the last discovery of each property.
//!
//! A random walk proves no invariant: "no violation found in N walks of depth ≤ D" is
//! all it can say when nothing was found.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stateright::{Expectation, Model};

use crate::config::CheckConfig;
use crate::coverage::{Coverage, KindCount, Witness};
use crate::protocol::{Action, OwmModel};
use crate::state::State;
use crate::trace::{self, Trace};
use crate::ModelError;

/// Distinct state fingerprints kept (8 bytes each plus the set's overhead, about
/// 256 MiB at most); beyond it the distinct count is a lower bound.
pub const DISTINCT_STATES_MAX: usize = 1 << 24;

/// Which walks to run: `walks` walks numbered from 0, of which this run does those in
/// shard `shard_k` of `shard_n` (1-based: the walks `i` with `i % shard_n == shard_k - 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkPlan {
    pub seed: u64,
    /// Walks in the whole (unsharded) run.
    pub walks: u64,
    pub shard_k: u64,
    pub shard_n: u64,
}

impl WalkPlan {
    /// All `walks` walks, unsharded.
    pub fn new(seed: u64, walks: u64) -> Self {
        WalkPlan {
            seed,
            walks,
            shard_k: 1,
            shard_n: 1,
        }
    }

    /// Rejects a zero walk count or a shard outside `1..=N`.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.walks == 0 {
            return Err(ModelError::Config("--walks must be at least 1".into()));
        }
        if self.shard_n == 0 || self.shard_k == 0 || self.shard_k > self.shard_n {
            return Err(ModelError::Config(format!(
                "shard {}/{} is not K/N with 1 <= K <= N",
                self.shard_k, self.shard_n
            )));
        }
        Ok(())
    }

    /// Walks in this shard.
    pub fn walks_in_shard(&self) -> u64 {
        let first = self.shard_k - 1;
        if self.walks <= first {
            0
        } else {
            (self.walks - first).div_ceil(self.shard_n)
        }
    }

    /// The global number of this shard's `j`-th walk.
    fn walk_index(&self, j: u64) -> u64 {
        self.shard_k - 1 + j * self.shard_n
    }
}

/// The first violation of an invariant: the walk that met it first (lowest number),
/// and the path to the first violating state of that walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub walk: u64,
    /// Depth of the violating state (the initial state is depth 1).
    pub depth: usize,
    pub trace: Trace,
    /// Numbered steps in patent terms (from the replay).
    pub steps: Vec<String>,
    /// The oracle's words.
    pub detail: String,
}

/// Where a `sometimes` property was first met: its shallowest depth, and the lowest
/// walk reaching it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    pub depth: usize,
    pub walk: u64,
}

/// The result of [`walk`] (or of [`WalkReport::merge`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WalkReport {
    pub config: CheckConfig,
    pub plan: WalkPlan,
    /// Walks this report was asked to run (a shard's share, or all of them).
    pub walks_planned: u64,
    /// Walks run to their end (a budget or an interrupt may stop the run early).
    pub walks_done: u64,
    /// States visited, with repeats (every state of every walk, initial included).
    pub states_visited: u64,
    /// Depth of the deepest walk (states on it).
    pub deepest: usize,
    /// Walks that ended in a terminal state (no action enabled), at the depth bound or
    /// before it; the others stopped at the bound with an action still enabled.
    pub walks_terminal: u64,
    /// Distinct states seen (by state fingerprint).
    pub distinct_states: u64,
    /// True when the fingerprint set was full ([`DISTINCT_STATES_MAX`]): then
    /// `distinct_states` is a lower bound.
    pub distinct_capped: bool,
    /// Shards summed into `distinct_states` (1: an exact count; more: an upper bound).
    pub distinct_shards: u64,
    /// Per violated `always` property (by name), its first violation.
    pub violations: BTreeMap<String, Found>,
    /// Per `sometimes` property reached (by name), where.
    pub reached: BTreeMap<String, Reached>,
    /// Why the run stopped before `walks_planned` (`None`: it did not).
    pub stopped: Option<String>,
    /// Per action kind (every kind of [`crate::ActionKind::ALL`], in that order): how
    /// often it was enabled in a visited state and taken to one, summed over the walks
    /// (a state visited twice counts twice).
    pub actions: Vec<KindCount>,
    /// The walks' time; `None` for a merge of shards, whose files record no time (it
    /// depends on the machine).
    pub elapsed: Option<Duration>,
}

/// One walk's findings.
struct WalkResult {
    walk: u64,
    depth: usize,
    terminal: bool,
    /// (property index, depth, actions to the first violating state)
    violations: Vec<(usize, usize, Vec<Action>)>,
    /// (property index, depth of the first state where it held)
    reached: Vec<(usize, usize)>,
}

fn fingerprint(s: &State) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// The generator of walk `walk` under `seed`.
fn walk_rng(seed: u64, walk: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(walk);
    rng
}

/// `⌊r · n / 2⁶⁴⌋`: an index below `n` from one 64-bit word.
fn pick(rng: &mut ChaCha8Rng, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// Runs walk `walk` of `seed`; puts the fingerprints of its states, in the order
/// visited, in `fingerprints`.
fn one_walk(
    model: &OwmModel,
    seed: u64,
    walk: u64,
    depth_max: Option<usize>,
    fingerprints: &mut Vec<u64>,
) -> WalkResult {
    let props = model.properties();
    let mut rng = walk_rng(seed, walk);
    let mut state = model
        .init_states()
        .pop()
        .expect("the model has one initial state");
    let mut path: Vec<Action> = Vec::new();
    let mut actions = Vec::new();
    let mut found = vec![false; props.len()];
    let mut result = WalkResult {
        walk,
        depth: 0,
        terminal: false,
        violations: Vec::new(),
        reached: Vec::new(),
    };
    fingerprints.clear();
    loop {
        let depth = path.len() + 1;
        result.depth = depth;
        fingerprints.push(fingerprint(&state));
        for (i, p) in props.iter().enumerate() {
            if found[i] {
                continue;
            }
            let holds = (p.condition)(model, &state);
            match p.expectation {
                Expectation::Always if !holds => {
                    found[i] = true;
                    result.violations.push((i, depth, path.clone()));
                }
                Expectation::Sometimes if holds => {
                    found[i] = true;
                    result.reached.push((i, depth));
                }
                _ => {}
            }
        }
        actions.clear();
        if depth_max.is_some_and(|d| depth >= d) {
            // A state at the bound with no action enabled ends the walk as a terminal
            // state anywhere does: counted terminal, its actions asked (so counted
            // explored, as every terminal walk's last state is).
            model.enabled_actions(&state, &mut actions);
            if actions.is_empty() {
                model.actions(&state, &mut actions);
                result.terminal = true;
            }
            break;
        }
        model.actions(&state, &mut actions);
        if actions.is_empty() {
            result.terminal = true;
            break;
        }
        let a = actions[pick(&mut rng, actions.len())];
        state = model.apply(&state, a, None);
        path.push(a);
    }
    result
}

/// What walks add up to, kept per thread and joined at the end: constant memory per
/// property, whatever the number of walks.
#[derive(Default)]
struct Tally {
    walks: u64,
    states: u64,
    deepest: usize,
    terminal: u64,
    /// Per property index: the lowest walk violating it, its depth and path.
    first: BTreeMap<usize, (u64, usize, Vec<Action>)>,
    /// Per property index: the shallowest witness (then the lowest walk).
    reached: BTreeMap<usize, Reached>,
}

impl Tally {
    fn violation(&mut self, i: usize, walk: u64, depth: usize, path: Vec<Action>) {
        if self.first.get(&i).is_none_or(|(w, _, _)| walk < *w) {
            self.first.insert(i, (walk, depth, path));
        }
    }

    fn witness(&mut self, i: usize, here: Reached) {
        let e = self.reached.entry(i).or_insert(here);
        if (here.depth, here.walk) < (e.depth, e.walk) {
            *e = here;
        }
    }

    fn add(&mut self, r: WalkResult) {
        self.walks += 1;
        self.states += r.depth as u64;
        self.deepest = self.deepest.max(r.depth);
        self.terminal += u64::from(r.terminal);
        for (i, depth, path) in r.violations {
            self.violation(i, r.walk, depth, path);
        }
        for (i, depth) in r.reached {
            self.witness(
                i,
                Reached {
                    depth,
                    walk: r.walk,
                },
            );
        }
    }
}

/// What the threads share while walking.
struct Shared {
    next: AtomicU64,
    /// States of the walks finished, in any order (the budget's early stop).
    states: AtomicU64,
    stopped: Mutex<Option<String>>,
    kept: Mutex<Kept>,
}

/// A walk finished by a thread, waiting for the walks before it.
struct Finished {
    result: WalkResult,
    fingerprints: Vec<u64>,
    /// Per action kind, enabled and taken during the walk.
    actions: Vec<KindCount>,
}

/// The walks kept, added up in walk order (so the report does not depend on which
/// thread ran which walk, nor on when it finished): walk `j` is kept when the walks
/// before it visited fewer states than the budget, the rule one thread follows by
/// checking the budget before each walk. Walks run past it on other threads meanwhile
/// are dropped whole (their states, fingerprints and action counts).
struct Kept {
    /// The next walk (of this shard) to add.
    next: u64,
    /// Finished walks after `next`, by their number in the shard.
    waiting: BTreeMap<u64, Finished>,
    tally: Tally,
    seen: HashSet<u64>,
    /// A fingerprint did not fit in `seen` ([`DISTINCT_STATES_MAX`]).
    capped: bool,
    actions: Vec<KindCount>,
    /// The walks kept reached the state budget: no later walk is kept.
    full: bool,
}

impl Kept {
    /// Takes walk `j`'s results, then adds every walk now next in order.
    fn finish(&mut self, j: u64, walk: Finished, states_max: Option<usize>) {
        self.waiting.insert(j, walk);
        while let Some(w) = self.waiting.remove(&self.next) {
            self.next += 1;
            if self.full {
                continue;
            }
            for fp in w.fingerprints {
                if self.seen.len() < DISTINCT_STATES_MAX {
                    self.seen.insert(fp);
                } else if !self.seen.contains(&fp) {
                    self.capped = true;
                }
            }
            for (sum, k) in self.actions.iter_mut().zip(w.actions) {
                sum.enabled += k.enabled;
                sum.taken += k.taken;
            }
            self.tally.add(w.result);
            self.full = states_max.is_some_and(|n| self.tally.states >= n as u64);
        }
    }
}

/// Per action kind, what `now` counted past `before`.
fn actions_since(before: &[KindCount], now: Vec<KindCount>) -> Vec<KindCount> {
    now.into_iter()
        .zip(before)
        .map(|(n, b)| KindCount {
            kind: n.kind,
            enabled: n.enabled - b.enabled,
            taken: n.taken - b.taken,
        })
        .collect()
}

/// Runs the walks of `plan` over `cfg`'s model on `cfg.threads` threads, within
/// `cfg.depth` (states per walk, the initial state being depth 1), `cfg.states_max`
/// (states visited: the walks kept are those begun before the walks before them
/// reached it, whatever the threads) and `cfg.timeout`; `stop` is polled between walks
/// (an interrupt). Errors: an invalid configuration or plan; a trace that does not
/// replay (a fault of the model, never of the input).
pub fn walk(
    cfg: &CheckConfig,
    plan: &WalkPlan,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<WalkReport, ModelError> {
    walk_since(cfg, plan, stop, Instant::now())
}

/// [`walk`], its `cfg.timeout` counted from `since` (the start of the command, so that
/// the searches of an estimate before the walks count in it).
pub fn walk_since(
    cfg: &CheckConfig,
    plan: &WalkPlan,
    stop: &(dyn Fn() -> bool + Sync),
    since: Instant,
) -> Result<WalkReport, ModelError> {
    cfg.validate()?;
    plan.validate()?;
    let model = OwmModel::new(cfg);
    let start = Instant::now();
    let planned = plan.walks_in_shard();
    let no_actions = model.coverage.snapshot().actions;
    let shared = Shared {
        next: AtomicU64::new(0),
        states: AtomicU64::new(0),
        stopped: Mutex::new(None),
        kept: Mutex::new(Kept {
            next: 0,
            waiting: BTreeMap::new(),
            tally: Tally::default(),
            seen: HashSet::new(),
            capped: false,
            actions: no_actions,
            full: false,
        }),
    };
    let threads = cfg.threads.max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (model, shared) = (&model, &shared);
            scope.spawn(move || {
                // The thread's own counters: each walk's action counts are its own.
                let model = OwmModel {
                    coverage: Arc::default(),
                    ..model.clone()
                };
                let mut counted = model.coverage.snapshot().actions;
                loop {
                    let why = if stop() {
                        Some("an interrupt")
                    } else if cfg.timeout.is_some_and(|t| since.elapsed() >= t) {
                        Some("the timeout")
                    } else if cfg
                        .states_max
                        .is_some_and(|n| shared.states.load(Ordering::Relaxed) >= n as u64)
                    {
                        Some("the state budget")
                    } else {
                        None
                    };
                    if let Some(why) = why {
                        let mut s = shared.stopped.lock().expect("not poisoned");
                        s.get_or_insert_with(|| why.to_string());
                        break;
                    }
                    let j = shared.next.fetch_add(1, Ordering::Relaxed);
                    if j >= planned {
                        break;
                    }
                    let mut fingerprints = Vec::new();
                    let r = one_walk(
                        &model,
                        plan.seed,
                        plan.walk_index(j),
                        cfg.depth,
                        &mut fingerprints,
                    );
                    shared.states.fetch_add(r.depth as u64, Ordering::Relaxed);
                    let now = model.coverage.snapshot().actions;
                    let actions = actions_since(&counted, now.clone());
                    counted = now;
                    let done = Finished {
                        result: r,
                        fingerprints,
                        actions,
                    };
                    let mut kept = shared.kept.lock().expect("not poisoned");
                    kept.finish(j, done, cfg.states_max);
                }
            });
        }
    });
    let kept = shared.kept.into_inner().expect("not poisoned");
    let (tally, distinct, capped) = (kept.tally, kept.seen.len(), kept.capped);
    let stopped = shared.stopped.into_inner().expect("not poisoned");
    let props = model.properties();
    // The first violation of each invariant is that of the lowest-numbered walk, the
    // witness of each `sometimes` the shallowest (then lowest walk): independent of the
    // order the threads finished in.
    let mut report = WalkReport {
        config: cfg.clone(),
        plan: *plan,
        walks_planned: planned,
        walks_done: tally.walks,
        states_visited: tally.states,
        deepest: tally.deepest,
        walks_terminal: tally.terminal,
        distinct_states: distinct as u64,
        distinct_capped: capped,
        distinct_shards: 1,
        violations: BTreeMap::new(),
        reached: tally
            .reached
            .into_iter()
            .map(|(i, r)| (props[i].name.to_string(), r))
            .collect(),
        stopped: (tally.walks < planned).then(|| {
            if kept.full {
                "the state budget".to_string()
            } else {
                stopped.unwrap_or_default()
            }
        }),
        actions: kept.actions,
        elapsed: Some(start.elapsed()),
    };
    for (i, (walk, depth, actions)) in tally.first {
        let trace = Trace {
            config: cfg.clone(),
            violates: props[i].name.to_string(),
            actions,
        };
        report
            .violations
            .insert(props[i].name.to_string(), found(walk, depth, trace)?);
    }
    Ok(report)
}

/// A violation found in walk `walk` at `depth`, confirmed by replaying its trace.
pub fn found(walk: u64, depth: usize, trace: Trace) -> Result<Found, ModelError> {
    let replayed = trace::replay(&trace)?;
    Ok(Found {
        walk,
        depth,
        trace,
        steps: replayed.steps,
        detail: replayed.violation.to_string(),
    })
}

/// Every property of `cfg`'s model in order: its name, and true for an `always`
/// (false: a `sometimes`).
pub fn properties(cfg: &CheckConfig) -> Vec<(&'static str, bool)> {
    OwmModel::new(cfg)
        .properties()
        .iter()
        .map(|p| (p.name, p.expectation == Expectation::Always))
        .collect()
}

/// What stopped the shards that stopped (`(why, shard)` in shard order), in one
/// phrase: `the timeout (in shard 1/2)`, every shard a reason stopped named with it
/// (`the timeout (in shards 1/2 and 2/2)`), different reasons each with their own;
/// `None` when none stopped.
fn stops_words(stops: &[(String, String)]) -> Option<String> {
    let (first, _) = stops.first()?;
    let names = |of: &[&(String, String)]| {
        let nums: Vec<&str> = of
            .iter()
            .map(|(_, n)| n.trim_start_matches("shard "))
            .collect();
        match nums.as_slice() {
            [one] => format!("shard {one}"),
            [head @ .., last] => format!("shards {} and {last}", head.join(", ")),
            [] => String::new(),
        }
    };
    if stops.iter().all(|(why, _)| why == first) {
        let all: Vec<&(String, String)> = stops.iter().collect();
        return Some(format!("{first} (in {})", names(&all)));
    }
    let mut whys: Vec<&str> = Vec::new();
    for (why, _) in stops {
        if !whys.contains(&why.as_str()) {
            whys.push(why);
        }
    }
    let parts: Vec<String> = whys
        .iter()
        .map(|why| {
            let of: Vec<&(String, String)> = stops.iter().filter(|(w, _)| w == why).collect();
            format!("{why} (in {})", names(&of))
        })
        .collect();
    Some(parts.join("; "))
}

impl WalkReport {
    /// Joins the reports of the `N` shards of one run (same model, seed, walks and
    /// depth; each shard once) into the report the unsharded run gives, but for the
    /// distinct states (summed: an upper bound) and the time (summed). Errors name the
    /// shard that does not fit.
    pub fn merge(mut parts: Vec<WalkReport>) -> Result<WalkReport, ModelError> {
        let bad = |m: String| Err(ModelError::Config(m));
        parts.sort_by_key(|p| p.plan.shard_k);
        let Some(first) = parts.first() else {
            return bad("no shards to merge".into());
        };
        let (cfg, plan) = (first.config.clone(), first.plan);
        let name = |p: &WalkReport| format!("shard {}/{}", p.plan.shard_k, p.plan.shard_n);
        for p in &parts {
            if p.config.model_flags() != cfg.model_flags() {
                return bad(format!(
                    "{}: model `{}` differs from `{}`",
                    name(p),
                    p.config.model_flags(),
                    cfg.model_flags()
                ));
            }
            if p.config.depth != cfg.depth {
                let words = |d: Option<usize>| {
                    d.map_or_else(|| "no depth bound".to_string(), |d| format!("depth ≤ {d}"))
                };
                return bad(format!(
                    "{}: {}, but shard {}/{} has {}",
                    name(p),
                    words(p.config.depth),
                    plan.shard_k,
                    plan.shard_n,
                    words(cfg.depth)
                ));
            }
            if (p.plan.seed, p.plan.walks, p.plan.shard_n) != (plan.seed, plan.walks, plan.shard_n)
            {
                return bad(format!(
                    "{}: seed {}, {} walks, {} shards differ from shard {}/{}'s seed {}, {} walks",
                    name(p),
                    p.plan.seed,
                    p.plan.walks,
                    p.plan.shard_n,
                    plan.shard_k,
                    plan.shard_n,
                    plan.seed,
                    plan.walks
                ));
            }
        }
        for w in parts.windows(2) {
            if w[0].plan.shard_k == w[1].plan.shard_k {
                return bad(format!("{} given twice", name(&w[1])));
            }
        }
        if let Some(k) = (1..=plan.shard_n).find(|&k| !parts.iter().any(|p| p.plan.shard_k == k)) {
            return bad(format!(
                "shard {k}/{} is missing: give all {} shards",
                plan.shard_n, plan.shard_n
            ));
        }
        let mut out = WalkReport {
            config: cfg,
            plan: WalkPlan::new(plan.seed, plan.walks),
            walks_planned: plan.walks,
            walks_done: 0,
            states_visited: 0,
            deepest: 0,
            walks_terminal: 0,
            distinct_states: 0,
            distinct_capped: false,
            distinct_shards: 0,
            violations: BTreeMap::new(),
            reached: BTreeMap::new(),
            stopped: None,
            actions: Coverage::default().actions,
            elapsed: None,
        };
        // Each shard's stop and the shard it was in, said together after the loop.
        let mut stops: Vec<(String, String)> = Vec::new();
        for p in parts {
            out.walks_done += p.walks_done;
            out.states_visited += p.states_visited;
            out.deepest = out.deepest.max(p.deepest);
            out.walks_terminal += p.walks_terminal;
            out.distinct_states += p.distinct_states;
            out.distinct_capped |= p.distinct_capped;
            out.distinct_shards += p.distinct_shards;
            let mut sum = Coverage {
                actions: std::mem::take(&mut out.actions),
                witnesses: Vec::new(),
            };
            sum.merge(&Coverage {
                actions: p.actions.clone(),
                witnesses: Vec::new(),
            });
            out.actions = sum.actions;
            if let Some(why) = &p.stopped {
                stops.push((why.clone(), name(&p)));
            }
            for (k, f) in p.violations {
                if out.violations.get(&k).is_none_or(|g| f.walk < g.walk) {
                    out.violations.insert(k, f);
                }
            }
            for (k, r) in p.reached {
                let e = out.reached.entry(k).or_insert(r);
                if (r.depth, r.walk) < (e.depth, e.walk) {
                    *e = r;
                }
            }
        }
        out.stopped = stops_words(&stops);
        Ok(out)
    }

    /// True when every planned walk was run.
    pub fn complete(&self) -> bool {
        self.walks_done == self.walks_planned
    }

    /// "N walks of depth ≤ D" (or "N walks" with no depth bound): what a clean run covered.
    pub fn covered(&self) -> String {
        match self.config.depth {
            Some(d) => format!(
                "{} of depth ≤ {d}",
                sim::number_text::counted(self.walks_done, "walk", "walks")
            ),
            None => sim::number_text::counted(self.walks_done, "walk", "walks"),
        }
    }

    /// The distinct-state count in words: exact, a lower bound (the set was full) or an
    /// upper bound (summed over shards).
    pub fn distinct_words(&self) -> String {
        let n = self.distinct_states;
        match (self.distinct_capped, self.distinct_shards) {
            (true, _) => format!(
                "at least {n} distinct states (the fingerprint set is capped at {DISTINCT_STATES_MAX})"
            ),
            (false, 1) => format!("{n} distinct states"),
            (false, s) => format!(
                "at most {n} distinct states (summed over {s} shards; a state several saw counts once per shard)"
            ),
        }
    }

    /// Every property of the model in order: its name, and true for an `always`
    /// (false: a `sometimes`).
    pub fn properties(&self) -> Vec<(&'static str, bool)> {
        properties(&self.config)
    }

    /// The `sometimes` witness of the invariant `name` ([`crate::PARTNERS`]) when no
    /// walk reached it: `Some("run ended")`; `None` when one did (or `name` has none).
    pub fn unwitnessed(&self, name: &str) -> Option<&'static str> {
        crate::PARTNERS
            .iter()
            .find(|(a, _)| *a == name)
            .map(|&(_, w)| w)
            .filter(|w| !self.reached.contains_key(*w))
    }

    /// The verdict of property `name` in words: an invariant no walk violated reads `no
    /// violation found in 200 walks`, and when no walk reached its witness adds so
    /// (`(its witness "run ended" was never reached)`).
    pub fn verdict(&self, name: &str, expectation: Expectation) -> String {
        match expectation {
            Expectation::Always => match self.violations.get(name) {
                Some(f) => format!("VIOLATED (walk {}, depth {})", f.walk, f.depth),
                None => {
                    let witness = self.unwitnessed(name).map_or(String::new(), |w| {
                        format!(" (its witness \"{w}\" was never reached)")
                    });
                    format!("no violation found in {}{witness}", self.covered())
                }
            },
            _ => match self.reached.get(name) {
                Some(r) => format!("reached (depth {}, walk {})", r.depth, r.walk),
                None => format!("not reached in {}", self.covered()),
            },
        }
    }

    /// The coverage of the walks: per action kind, and each `sometimes` property's
    /// shallowest witness (depth as [`Reached::depth`]; `None`: not reached).
    pub fn coverage(&self) -> Coverage {
        let model = OwmModel::new(&self.config);
        Coverage {
            actions: self.actions.clone(),
            witnesses: model
                .properties()
                .iter()
                .filter(|p| p.expectation == Expectation::Sometimes)
                .map(|p| Witness {
                    name: p.name.to_string(),
                    depth: self.reached.get(p.name).map(|r| r.depth),
                })
                .collect(),
        }
    }

    /// The report as `owm check --simulate` prints it.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!("model: {}\n", self.config.model_flags());
        let shard = if self.plan.shard_n > 1 {
            format!(", shard {}/{}", self.plan.shard_k, self.plan.shard_n)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "random walks: {} of {} done (seed {}{shard}), {} states visited, {}, deepest walk {} states, {} ended in a terminal state; {}",
            self.walks_done,
            self.walks_planned,
            self.plan.seed,
            self.states_visited,
            self.distinct_words(),
            self.deepest,
            self.walks_terminal,
            self.elapsed.map_or_else(
                || "merged from the shards, whose files record no time".to_string(),
                |t| format!("{:.3} s", t.as_secs_f64())
            )
        );
        match &self.stopped {
            Some(why) => {
                let _ = writeln!(
                    out,
                    "INCOMPLETE: {why} stopped the run after {} of {} walks",
                    self.walks_done, self.walks_planned
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "random walks give no proof: an invariant these walks did not violate may be violated on another path"
                );
            }
        }
        let model = OwmModel::new(&self.config);
        for p in model.properties() {
            let kind = match p.expectation {
                Expectation::Always => "always",
                _ => "sometimes",
            };
            let _ = writeln!(
                out,
                "  {:9} {:36} {}",
                kind,
                p.name,
                self.verdict(p.name, p.expectation)
            );
        }
        for (name, f) in &self.violations {
            let _ = writeln!(
                out,
                "\n{name} violated in walk {} (the first walk that did; the trace ends at its first violating state):",
                f.walk
            );
            for s in &f.steps {
                let _ = writeln!(out, "{s}");
            }
            let _ = writeln!(out, "oracle: {}", f.detail);
        }
        out += &self.coverage().render("the shallowest a walk reached");
        out
    }
}

#[cfg(test)]
mod tests {
    /// The shards that stopped are named together: one, all for one reason, or each
    /// reason with its own.
    #[test]
    fn the_stopped_shards_are_named_together() {
        let t = |k: u32| ("the timeout".to_string(), format!("shard {k}/3"));
        let i = |k: u32| ("an interrupt".to_string(), format!("shard {k}/3"));
        assert_eq!(super::stops_words(&[]), None);
        assert_eq!(
            super::stops_words(&[t(2)]).as_deref(),
            Some("the timeout (in shard 2/3)")
        );
        assert_eq!(
            super::stops_words(&[t(1), t(2), t(3)]).as_deref(),
            Some("the timeout (in shards 1/3, 2/3 and 3/3)")
        );
        assert_eq!(
            super::stops_words(&[t(1), i(2), t(3)]).as_deref(),
            Some("the timeout (in shards 1/3 and 3/3); an interrupt (in shard 2/3)")
        );
    }

    use super::*;

    fn cfg(flags: &str) -> CheckConfig {
        let mut c = CheckConfig::from_model_flags(flags).expect("flags");
        c.threads = 1;
        c
    }

    #[test]
    fn shards_partition_the_walks() {
        let plan = |k, n| WalkPlan {
            seed: 1,
            walks: 10,
            shard_k: k,
            shard_n: n,
        };
        assert_eq!(plan(1, 1).walks_in_shard(), 10);
        assert_eq!(
            (1..=3).map(|k| plan(k, 3).walks_in_shard()).sum::<u64>(),
            10
        );
        assert_eq!(plan(3, 3).walks_in_shard(), 3);
        assert_eq!(plan(3, 3).walk_index(2), 8);
        assert_eq!(plan(12, 12).walks_in_shard(), 0);
        assert!(plan(4, 3).validate().is_err());
        assert!(WalkPlan::new(1, 0).validate().is_err());
    }

    /// The same seed gives the same walks, on one thread or two; another seed others.
    #[test]
    fn walks_are_determined_by_the_seed() {
        let c = cfg("--locks record --records-per-block 2 --old 1 --new 1");
        let never = || false;
        let a = walk(&c, &WalkPlan::new(5, 60), &never).unwrap();
        let b = walk(
            &CheckConfig {
                threads: 2,
                ..c.clone()
            },
            &WalkPlan::new(5, 60),
            &never,
        )
        .unwrap();
        assert!(!a.violations.is_empty(), "{}", a.render());
        // The traces name the model only (threads are not part of a trace file).
        let found = |r: &WalkReport| -> Vec<(u64, usize, String)> {
            r.violations
                .values()
                .map(|f| (f.walk, f.depth, f.trace.to_text()))
                .collect()
        };
        assert_eq!(found(&a), found(&b));
        assert_eq!(
            (&a.reached, a.distinct_states, a.states_visited),
            (&b.reached, b.distinct_states, b.states_visited)
        );
        let other = walk(&c, &WalkPlan::new(6, 60), &never).unwrap();
        assert_ne!(a.states_visited, other.states_visited);
    }

    /// Each violation's trace replays to the invariant it names; each `sometimes` of the
    /// default configuration is reached by a few walks that run to their end.
    #[test]
    fn traces_replay_and_witnesses_are_reached() {
        let c = cfg("--locks record --records-per-block 2 --old 1 --new 1");
        let r = walk(&c, &WalkPlan::new(1, 100), &|| false).unwrap();
        assert!(r.violations.contains_key("B-complete"), "{}", r.render());
        for f in r.violations.values() {
            assert!(trace::replay(&f.trace).is_ok());
            assert_eq!(f.trace.actions.len() + 1, f.depth);
        }
        let ok = walk(&cfg(""), &WalkPlan::new(1, 50), &|| false).unwrap();
        assert!(ok.violations.is_empty(), "{}", ok.render());
        assert_eq!(ok.reached.len(), 6, "{}", ok.render());
        assert_eq!(ok.walks_terminal, 50);
        assert!(ok.distinct_states > 50 && ok.distinct_states < ok.states_visited);
    }

    /// A walk under a depth bound is the prefix of the same walk without one: it is
    /// terminal exactly when the unbounded walk ends within the bound (a walk whose
    /// last state is terminal counts so even at the bound), whatever the bound around
    /// the space's depth; the report's counts and action totals agree.
    #[test]
    fn a_walk_ending_at_the_depth_bound_on_a_terminal_state_is_terminal() {
        for flags in [
            "--old 1 --new 1 --records-per-block 2 --locks record --aborts off",
            "--old 1 --new 1",
        ] {
            let unbounded = cfg(flags);
            let model = OwmModel::new(&unbounded);
            let mut fps = Vec::new();
            let ends: Vec<usize> = (0..40)
                .map(|w| {
                    let r = one_walk(&model, 5, w, None, &mut fps);
                    assert!(r.terminal);
                    r.depth
                })
                .collect();
            let deepest = *ends.iter().max().unwrap();
            for d in deepest.saturating_sub(3).max(1)..=deepest + 2 {
                let mut bounded = unbounded.clone();
                bounded.depth = Some(d);
                for (w, &end) in ends.iter().enumerate() {
                    let r = one_walk(&model, 5, w as u64, Some(d), &mut fps);
                    assert_eq!(r.depth, end.min(d), "{flags}: walk {w}, depth {d}");
                    assert_eq!(r.terminal, end <= d, "{flags}: walk {w}, depth {d}");
                }
                let rep = walk(&bounded, &WalkPlan::new(5, 40), &|| false).unwrap();
                let terminal = ends.iter().filter(|&&e| e <= d).count() as u64;
                assert_eq!(rep.walks_terminal, terminal, "{flags}: depth {d}");
                // Taken steps: every state but the first of a terminal walk, every
                // state but the first and the last of a walk the bound stopped.
                let taken: u64 = rep.actions.iter().map(|a| a.taken).sum();
                let steps: u64 = ends
                    .iter()
                    .map(|&e| if e <= d { e as u64 - 1 } else { d as u64 - 2 })
                    .sum();
                assert_eq!(taken, steps, "{flags}: depth {d}");
            }
        }
    }

    /// The depth bound stops every walk there; the state budget stops the run early.
    #[test]
    fn bounds_cut_walks_and_runs() {
        let mut c = cfg("");
        c.depth = Some(5);
        let r = walk(&c, &WalkPlan::new(1, 20), &|| false).unwrap();
        assert_eq!((r.deepest, r.walks_terminal, r.walks_done), (5, 0, 20));
        assert!(r.reached.is_empty() || r.reached.values().all(|x| x.depth <= 5));
        c.depth = None;
        c.states_max = Some(10);
        let r = walk(&c, &WalkPlan::new(1, 20), &|| false).unwrap();
        assert!(r.walks_done < 20 && !r.complete(), "{}", r.render());
        assert_eq!(r.stopped.as_deref(), Some("the state budget"));
        let r = walk(&cfg(""), &WalkPlan::new(1, 20), &|| true).unwrap();
        assert_eq!(
            (r.walks_done, r.stopped.as_deref()),
            (0, Some("an interrupt"))
        );
    }

    /// A state budget keeps the same walks on any number of threads (those begun before
    /// the walks before them reached it), so the counts, the distinct states, the action
    /// counts and the violations found are the one-thread run's; a budget that cuts the
    /// run somewhere inside (not before the first walk, not after the last).
    #[test]
    fn a_state_budget_keeps_the_same_walks_on_any_number_of_threads() {
        let c = cfg("--locks record --records-per-block 2 --old 1 --new 1");
        let whole = walk(&c, &WalkPlan::new(9, 200), &|| false).unwrap();
        for states_max in [1, whole.states_visited / 3, whole.states_visited * 2 / 3] {
            let budget = CheckConfig {
                states_max: Some(states_max as usize),
                ..c.clone()
            };
            let one = walk(&budget, &WalkPlan::new(9, 200), &|| false).unwrap();
            assert!(
                one.walks_done >= 1 && one.walks_done < 200,
                "{states_max}: {}",
                one.render()
            );
            assert!(one.states_visited >= states_max);
            assert_eq!(one.stopped.as_deref(), Some("the state budget"));
            for threads in [2, 3] {
                // Several runs: which thread runs which walk, and when, varies.
                for _ in 0..4 {
                    let many = walk(
                        &CheckConfig {
                            threads,
                            ..budget.clone()
                        },
                        &WalkPlan::new(9, 200),
                        &|| false,
                    )
                    .unwrap();
                    let counts = |r: &WalkReport| {
                        (
                            r.walks_done,
                            r.states_visited,
                            r.deepest,
                            r.walks_terminal,
                            r.distinct_states,
                            r.actions.clone(),
                            r.reached.clone(),
                            r.stopped.clone(),
                        )
                    };
                    assert_eq!(
                        counts(&many),
                        counts(&one),
                        "{threads} threads, {states_max}"
                    );
                    // The traces name the model only (not the threads).
                    let found = |r: &WalkReport| -> Vec<(u64, usize, String)> {
                        r.violations
                            .values()
                            .map(|f| (f.walk, f.depth, f.trace.to_text()))
                            .collect()
                    };
                    assert_eq!(found(&many), found(&one));
                }
            }
        }
    }

    /// Three shards merged give the unsharded report.
    #[test]
    fn merged_shards_equal_the_unsharded_run() {
        let c = cfg("--locks record --records-per-block 2 --old 1 --new 1");
        let whole = walk(&c, &WalkPlan::new(3, 40), &|| false).unwrap();
        let parts: Vec<WalkReport> = (1..=3)
            .map(|k| {
                let plan = WalkPlan {
                    shard_k: k,
                    shard_n: 3,
                    ..WalkPlan::new(3, 40)
                };
                walk(&c, &plan, &|| false).unwrap()
            })
            .collect();
        let merged = WalkReport::merge(parts.clone()).unwrap();
        assert!(!whole.violations.is_empty());
        assert_eq!(merged.violations, whole.violations);
        assert_eq!(merged.reached, whole.reached);
        assert_eq!(
            (merged.walks_done, merged.states_visited, merged.deepest),
            (whole.walks_done, whole.states_visited, whole.deepest)
        );
        assert!(merged.distinct_states >= whole.distinct_states);
        assert!(WalkReport::merge(parts[..2].to_vec()).is_err());
        assert!(WalkReport::merge(vec![parts[0].clone(), parts[0].clone()]).is_err());
    }
}
