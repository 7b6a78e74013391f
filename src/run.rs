//! `owm run`: every policy a scenario names, on one seed; a comparison table on
//! stdout, CSV tables and timing diagrams in the output directory.

use engine::shown::ShowName as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use engine::Variant;
use reports::diagram_rows::DiagramRows;
use reports::trace::{TracePart, TraceStream};
use reports::{figure, lines, space, tables, timing, NamedRun};
use sim::number_text::counted;
use sim::Policy;

use crate::progress::Progress;
use crate::verdict::{self, Exit, Incomplete, Report, VerdictArgs};
use crate::{interrupt, outdir, runfile};

/// The seed when neither the command line nor the file gives one: fixed, printed, never
/// drawn from the OS, so every run can be repeated.
pub const DEFAULT_SEED: u64 = 1;

/// Arguments of `owm run`.
pub struct RunArgs {
    pub scenario: PathBuf,
    pub seed: Option<u64>,
    pub out: Option<PathBuf>,
    /// No progress on stderr.
    pub quiet: bool,
    pub verdict: VerdictArgs,
}

/// The default output directory: `out/<file stem>`.
pub fn default_out(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    Path::new("out").join(stem)
}

/// `owm run`: checks the verdict files and the output directory, runs every policy,
/// writes the files into a staging directory that then replaces `--out` whole, and
/// returns the verdict's exit status.
///
/// On an error (exit 2: bad input, an engine error; exit 3: a limit reached) the
/// `--json` and `--junit` files still describe this run (`reproduce`: the command as
/// given, after a `cd` to its directory, as the other commands record an error): the
/// verdicts of the policies
/// that finished, the error as a failed case (suite: the policy it stopped, else the
/// scenario file; case `run`) and the exit status of both together
/// ([`VerdictArgs::finish_failed`]): 2 for bad input; else 1 when a finished policy
/// violated an invariant it claims, without `--allow-violations` (a violation outranks
/// a later limit or interrupt),
/// 3 otherwise. A file that cannot be written is removed, so no
/// verdict of an earlier run is left in its place. A run stopped incomplete (a limit,
/// an interrupt) in a later policy also prints, on stdout, the tables of the policies
/// that finished and a line naming the stopped policy and why, before its verdict line.
/// A refused `--json` or `--junit` path ([`VerdictArgs::preflight`]: one that collides
/// with `--out` or with the other, or cannot be written) is exit 2 before any work and
/// is not written; the other, when it passes on its own, records the refusal
/// ([`VerdictArgs::writable_only`]).
pub fn run(args: RunArgs) -> Result<Exit> {
    let mut at = Ran {
        report: Report::new(
            "run",
            format!(
                "owm run {}{}{}{}",
                crate::shell_word::absolute_word(&args.scenario),
                args.seed
                    .map(|s| format!(" --seed {s}"))
                    .unwrap_or_default(),
                args.out
                    .as_ref()
                    .map(|o| format!(" --out {}", crate::shell_word::absolute_word(o)))
                    .unwrap_or_default(),
                args.verdict.reproduce_suffix()
            ),
            args.verdict.allow_violations,
        ),
        runs: Vec::new(),
        policy: None,
        trace: None,
    };
    at.report.seed = args.seed;
    // A refused verdict path is not written (the verdicts would land where the refusal
    // says they must not: the other verdict file, an output of --out); the other one,
    // when it passes on its own, records the refusal.
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.scenario));
    let scenario: [verdict::Input; 1] = [("the scenario", &args.scenario)];
    if let Err(e) = args.verdict.preflight(Some(("--out", &out)), &scenario) {
        let suite = args.scenario.display().to_string();
        let writable = args.verdict.writable_only(Some(("--out", &out)), &scenario);
        at.report.reproduce = verdict::typed_command();
        writable.finish_failed(at.report, &suite, &e);
        return Err(e);
    }
    match run_all(&args, &mut at) {
        Ok(exit) => Ok(exit),
        Err(e) => {
            let mut report = at.report;
            // The command as given, every flag kept, as the other commands record it.
            report.reproduce = verdict::typed_command();
            for run in &at.runs {
                verdict::of_run(&mut report, &run.name, &run.result);
            }
            let suite = match at.policy {
                Some(p) => p.as_str().to_string(),
                None => args.scenario.display().to_string(),
            };
            // Never over an input, even one found only as the scenario loaded.
            let mut inputs = scenario.to_vec();
            if let Some(t) = &at.trace {
                inputs.push(("the scenario's trace (workload.path)", t));
            }
            let exit = args
                .verdict
                .clear_of(&inputs)
                .finish_failed(report, &suite, &e);
            if exit == verdict::exit_of_error(&e) {
                Err(e)
            } else {
                // A violation a finished policy proved outranks the limit's
                // "incomplete": the error is said, the exit status is the verdict's.
                tell!("error: {}", verdict::error_text(&e));
                Ok(exit)
            }
        }
    }
}

/// How far `owm run` got: its report (the reproduce line and seed once known), the
/// policies that finished, and the one running (`None` outside the policies).
struct Ran {
    report: Report,
    runs: Vec<NamedRun>,
    policy: Option<sim::Policy>,
    /// The trace file the scenario replays (`workload.path`), once loaded.
    trace: Option<std::path::PathBuf>,
}

/// [`run`]'s work; `at` follows its progress for the verdict files of an error.
fn run_all(args: &RunArgs, at: &mut Ran) -> Result<Exit> {
    let mut file = runfile::load_run_file(&args.scenario)?;
    if let sim::WorkloadConfig::Trace(c) = &file.scenario.workload {
        if !c.path.as_os_str().is_empty() {
            let trace = c.file_in(args.scenario.parent().unwrap_or(Path::new("")));
            at.trace = Some(trace.clone());
            let input = [("the scenario's trace (workload.path)", trace.as_path())];
            args.verdict.refuse_inputs(&input)?;
        }
    }
    let seed = args.seed.or(file.seed).unwrap_or(DEFAULT_SEED);
    let printing = Printing::of(&file.scenario);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.scenario));
    // As printed, and by absolute paths for the verdict files (read from anywhere).
    let command = |word: fn(&Path) -> String| {
        format!(
            "owm run {} --seed {seed} --out {}{}",
            word(&args.scenario),
            word(&out),
            args.verdict.reproduce_suffix()
        )
    };
    let reproduce = command(crate::shell_word::shell_word);
    let recorded = command(crate::shell_word::absolute_word);
    at.report.reproduce = recorded.clone();
    at.report.seed = Some(seed);
    let staging = outdir::prepare(&out, "--out")?;
    let mut report = Report::new("run", recorded, args.verdict.allow_violations);
    report.seed = Some(seed);
    let runs = &mut at.runs;
    // trace.csv as far as the policies finished have written it.
    let mut trace_part: Option<TracePart> = None;
    let mut attempts = Vec::with_capacity(file.policies.len());
    let requests = file.scenario.backup.request_times(
        file.scenario
            .workload
            .default_request_ticks(&file.scenario.device),
    );
    let progress = Progress::new("policies", file.policies.len() as u64, args.quiet);
    // The streamed rows of trace.csv are bounded as they are written: the estimate
    // checked before the run counts each transaction attempted once.
    let output_max = file.scenario.limits.output_bytes_max;
    // The way out of the bound that turning the timeline off offers, when it is on.
    let timeline_off = if file.scenario.keep_timeline {
        ", or set keep_timeline = false"
    } else {
        ""
    };
    let mut trace_bytes = 0u64;
    // Events of the policies finished: the running one's share of the ETA is its
    // events over their mean (no share during the first).
    let mut events_done = 0u64;
    for (k, &p) in file.policies.iter().enumerate() {
        // The policy's attempts in flight past the estimate's have the room the bound
        // leaves beside its phase of the run's estimate, which counts what the
        // policies before it keep: not the bound less its own, as though it ran alone.
        file.scenario.limits.in_flight_room_bytes =
            sim::footprint::run_room_bytes(&file.scenario, &file.policies, k);
        outdir::pause_point(&format!("policy {p}"));
        at.policy = Some(p);
        if interrupt::requested() {
            return interrupted(args, report, runs, (p, "before", &out), printing);
        }
        // Set when trace.csv's rows pass the output bound: the run stops.
        let over = std::cell::Cell::new(false);
        // Every few thousand events: the progress line, and Ctrl-C's safe point.
        let mut tick = |events: u64, now: sim::Tick| {
            let part = match k {
                0 => 0.0,
                _ => (events as f64 / (events_done as f64 / k as f64)).min(0.99),
            };
            progress.update_partial(
                k as u64,
                part,
                &format!("{p}: {events} events, t = {now} ticks"),
            );
            if interrupt::requested() || over.get() {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        };
        // The timeline goes to trace.csv and the diagram's window as the run goes.
        let mut stream = Streamed {
            trace: match trace_part.take() {
                None => TraceStream::new(&staging.path().join("trace.csv"), p.as_str())?,
                Some(before) => TraceStream::after(before, p.as_str()),
            },
            rows: DiagramRows::new(&requests),
            over: &over,
        };
        stream
            .trace
            .set_bytes_max(output_max.saturating_sub(trace_bytes));
        let ran = run_streamed(
            &args.scenario,
            &file.scenario,
            p,
            seed,
            Some(&mut tick),
            &mut stream,
        );
        if ran.is_ok() {
            // The rows held back to the end count too.
            stream.trace.end_of_run();
        }
        if let Some(e) = stream.trace.take_error() {
            // trace.csv could not be written (a full disk): the run stopped at its
            // next safe point, not at its end; the staging directory is removed when
            // dropped, `--out` is left as it was (exit 2, as any output not written).
            let at = stopped_at(&ran);
            drop(stream);
            progress.finish();
            // Stopped at a tick, or, when the run ended before its next safe point
            // came, at its end.
            let how = if at.is_empty() {
                String::new()
            } else {
                format!(" stopped{at}")
            };
            return Err(anyhow::Error::new(e).context(format!(
                "policy `{p}` with seed {seed}{how}: trace.csv could not be written; nothing \
                 written, {} left as it was",
                out.shown()
            )));
        }
        if stream.trace.passed_bytes_max() {
            // Stopped (or ended) with its trace.csv past the bound: the staging
            // directory is removed when dropped, `--out` is left as it was.
            let written = trace_bytes + stream.trace.bytes();
            let at = stopped_at(&ran);
            drop(stream);
            progress.finish();
            let message = format!(
                "policy `{p}` with seed {seed} stopped{at}: {written} bytes of trace.csv \
                 written by then, and its next row would pass limits.output_bytes_max = {} \
                 (the estimate before the run counts each transaction attempted once; \
                 deadlock victims retried under incremental locking write more); nothing \
                 written, {} left as it was; raise that key{}, or lower limits.attempts_max",
                sim::footprint::human_bytes(output_max),
                out.shown(),
                timeline_off
            );
            return Err(output_refusal(&args.scenario, &file.scenario, message));
        }
        let mut run = match ran {
            Err(e) if is_interrupt(&e) => {
                // The staging directory (with this policy's part of trace.csv) is
                // removed when dropped: `--out` is left as it was.
                drop(stream);
                progress.finish();
                return interrupted(args, report, runs, (p, "during", &out), printing);
            }
            Err(e) => {
                if verdict::exit_of_error(&e) == Exit::Incomplete {
                    // A limit stopped it: the policies before it finished and are
                    // in the verdict files, so their tables are printed too.
                    progress.finish();
                    print_finished(runs, printing);
                    say!("{}", stop_line(p, seed, &e, runs, &out));
                }
                return Err(e);
            }
            Ok(run) => run,
        };
        trace_bytes += stream.trace.bytes();
        events_done += run.result.events;
        trace_part = Some(stream.trace.finish(&run.result).map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "policy `{p}` with seed {seed}: trace.csv could not be written; nothing \
                 written, {} left as it was",
                out.shown()
            ))
        })?);
        let (kept, n) = stream.rows.finish();
        run.result.transactions = kept;
        attempts.push(n);
        runs.push(run);
        at.policy = None;
    }
    progress.finish();
    pair_with_none(runs);
    print_table(runs, printing);
    print_verdicts(runs);
    for run in runs.iter() {
        verdict::of_run(&mut report, &run.name, &run.result);
    }
    let trace_part = trace_part.ok_or_else(|| anyhow::anyhow!("a run of no policy"))?;
    let written = write_outputs(
        staging.path(),
        runs,
        trace_part,
        &attempts,
        &requests,
        file.scenario.keep_timeline,
    )
    .with_context(|| {
        format!(
            "the outputs could not be written, after every policy ran; nothing written, {} \
             left as it was",
            out.shown()
        )
    })?;
    // What is published is bounded too: the milestones, tables and pictures besides
    // the streamed rows.
    let total = written.iter().try_fold(0u64, |a, w| {
        std::fs::metadata(staging.path().join(w)).map(|m| a.saturating_add(m.len()))
    })?;
    if total > output_max {
        let message = format!(
            "the outputs came to {total} bytes, more than limits.output_bytes_max = {}; \
             nothing written, {} left as it was; raise that key{}",
            sim::footprint::human_bytes(output_max),
            out.shown(),
            timeline_off
        );
        return Err(output_refusal(&args.scenario, &file.scenario, message));
    }
    outdir::pause_point("commit");
    if interrupt::requested() {
        // Every policy ran (their tables and verdicts are above and in the report);
        // the outputs were being written: none is published.
        print_notes(runs, printing);
        let what = format!(
            "interrupted while writing the outputs, after every policy ran: nothing \
             written, {} left as it was",
            out.shown()
        );
        say!("{what}");
        report.push(
            "run",
            "outputs",
            verdict::Outcome::Failed {
                reason: format!(
                    "interrupted ({}) {}",
                    interrupt::signal_name(),
                    what.trim_start_matches("interrupted ")
                ),
            },
        );
        return args.verdict.finish(&report);
    }
    staging.commit()?;
    for w in written {
        say!("wrote {}", out.join(w).shown());
    }
    if interrupt::requested() {
        // Too late to stop: the outputs are published whole, the run is complete.
        say!(
            "interrupted after {} was published: the run had finished, its outputs are \
             complete; nothing was stopped",
            out.shown()
        );
    }
    print_notes(runs, printing);
    if !printing.history_kept {
        say!("invariants unchecked: the scenario sets keep_history = false");
    }
    say!("reproduce: {}", reproduce.shown());
    args.verdict.finish(&report)
}

/// The `faults under POLICY: …` line of a run's costs `c`: its crashes (with the
/// transactions they aborted and the unflushed writes torn or lost), injected read and
/// write errors, latency spikes, and its misdirected writes, rotted blocks and what
/// integrity mode detected; `None` when no fault happened.
fn faults_line(policy: &str, c: &sim::Costs) -> Option<String> {
    let mut parts = Vec::new();
    if c.crashes > 0 {
        parts.push(format!(
            "{} ({}; unflushed writes: {} torn, {} lost)",
            counted(c.crashes, "crash", "crashes"),
            counted(
                c.crash_aborts,
                "transaction aborted",
                "transactions aborted"
            ),
            c.torn_writes,
            c.lost_writes
        ));
    }
    if c.read_errors > 0 {
        parts.push(counted(c.read_errors, "read error", "read errors"));
    }
    if c.write_errors > 0 {
        parts.push(format!(
            "{} ({})",
            counted(c.write_errors, "write error", "write errors"),
            counted(
                c.write_error_aborts,
                "transaction aborted",
                "transactions aborted"
            )
        ));
    }
    if c.latency_spikes > 0 {
        parts.push(counted(c.latency_spikes, "latency spike", "latency spikes"));
    }
    let mut line = parts.join(", ");
    if c.misdirected_writes + c.corrupted_blocks + c.integrity_detections > 0 {
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(&format!(
            "{}, {}; integrity: {}, {} of the checked images unreadable{}",
            counted(
                c.misdirected_writes,
                "misdirected write",
                "misdirected writes"
            ),
            counted(c.corrupted_blocks, "rotted block", "rotted blocks"),
            counted(c.integrity_detections, "detection", "detections"),
            counted(c.unreadable_blocks, "block", "blocks"),
            match (c.backup_given_up, c.resyncs_lost > 0) {
                (false, _) => "",
                (true, true) => "; backup given up at the split, no copy taken",
                (true, false) => "; backup given up, VLUN A kept",
            }
        ));
    }
    (!line.is_empty()).then(|| format!("faults under {policy}: {line}"))
}

/// The lines after the tables about each run in `runs`: faults injected, archive
/// passes failed and copied again, a backup given up or abandoned ([`lost_backup_lines`]),
/// a backup taken after missed quiesce deadlines, each violation, claimed or not.
fn print_notes(runs: &[NamedRun], printing: Printing) {
    if let Some((ios, skipped)) = printing.trace_lines.filter(|&(_, skipped)| skipped > 0) {
        say!(
            "the trace: {} replayed, {} skipped (syncs, trims, discards, zero-length I/Os \
             and other events carry no data to replay)",
            counted(ios, "I/O", "I/Os"),
            counted(skipped, "line", "lines")
        );
    }
    for run in runs.iter() {
        let c = &run.result.costs;
        if let Some(line) = faults_line(&run.name, c) {
            say!("{line}");
        }
        if c.backup_failures > 0 {
            say!(
                "archive under {}: {} failed and copied again from the first extent, {} \
                 refused by the engine",
                run.name,
                counted(c.backup_failures, "pass", "passes"),
                counted(c.retires_refused, "retire", "retires")
            );
        }
        for line in lost_backup_lines(&run.name, &run.result) {
            say!("{line}");
        }
        if let Some(why) = crate::verdict::retried_why(&run.result) {
            say!(
                "backup under {}: {why}: req→A ok counts the attempts that missed it and \
                 their back-offs (quiesce_timeouts, quiesce_attempts in summary.csv)",
                run.name
            );
        }
        if let Some(line) = data_area_full_line(&run.name, &run.result) {
            say!("{line}");
        }
        if let Some(line) = window_bound_line(run, printing.setup_window_ticks) {
            say!("{line}");
        }
        let none = runs.iter().find(|r| r.result.policy == sim::Policy::None);
        if let Some(line) =
            none.and_then(|none| below_none_line(run, &none.result, printing.closed))
        {
            say!("{line}");
        }
        for v in run.result.claimed_violations() {
            say!("violation under {}: {}", run.name, run.result.said(v));
        }
        for v in run.result.unclaimed_violations() {
            say!(
                "not claimed by {} (observed, not judged): {}",
                run.name,
                run.result.said(v)
            );
        }
    }
}

/// What a run stopped in a later policy prints of the policies that finished before
/// it (`runs`): the cost table, the verdict table and the lines under them, as a run
/// that completes prints them; nothing when none finished. `printing` carries what
/// they take from the scenario (without `keep_history` the violations are
/// `unchecked`).
fn print_finished(runs: &[NamedRun], printing: Printing) {
    if runs.is_empty() {
        return;
    }
    print_table(runs, printing);
    print_verdicts(runs);
    print_notes(runs, printing);
}

/// The line of a run whose policy `p` (seed `seed`) stopped incomplete (`e`: a limit
/// reached, its key and what was reached; a run that cannot progress, where it stuck),
/// the policies that finished before it (`runs`, the tables above), and that `out` was
/// left as it was.
fn stop_line(
    p: sim::Policy,
    seed: u64,
    e: &anyhow::Error,
    runs: &[NamedRun],
    out: &Path,
) -> String {
    let why = match e.chain().find_map(|c| c.downcast_ref::<sim::SimError>()) {
        Some(s @ sim::SimError::Limit { key, .. }) => format!("by `{key}` ({s})"),
        Some(s) => format!("({s})"),
        None => format!(
            "({})",
            verdict::error_text(e).lines().next().unwrap_or_default()
        ),
    };
    let finished = match runs.len() {
        0 => " before any policy finished".to_string(),
        n => format!(
            "; the tables above hold the {} that finished before it: {}",
            if n == 1 { "policy" } else { "policies" },
            runs.iter()
                .map(|r| format!("`{}`", r.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "policy {p} with seed {seed} stopped {why}{finished}; nothing written, {} left as it was",
        out.shown()
    )
}

/// A run stopped by Ctrl-C before or during policy `p`: prints
/// the tables of the policies that finished (`runs`, [`print_finished`]), says
/// it was interrupted `when` (`before` or `during`) policy `p` with `out` left as it
/// was, and ends as a run stopped by a limit does: the verdict files hold the
/// verdicts of the policies that finished and the interrupt as a failed case `run` of
/// suite `p`, and the exit status is 3 (incomplete).
fn interrupted(
    args: &RunArgs,
    mut report: Report,
    runs: &[NamedRun],
    (p, when, out): (sim::Policy, &str, &Path),
    printing: Printing,
) -> Result<Exit> {
    let what = format!(
        "interrupted {when} policy {p}: nothing written, {} left as it was",
        out.shown()
    );
    print_finished(runs, printing);
    say!("{what}");
    for run in runs {
        verdict::of_run(&mut report, &run.name, &run.result);
    }
    report.push(
        p.as_str(),
        "run",
        verdict::Outcome::Failed {
            reason: format!(
                "interrupted ({}) {}",
                interrupt::signal_name(),
                what.trim_start_matches("interrupted ")
            ),
        },
    );
    args.verdict.finish(&report)
}

/// The lines `owm run` prints for a policy whose backup was given up or abandoned,
/// one per way (given up first, then abandoned, when a schedule lost cycles both
/// ways): what happened, when (each cycle's), why, and the invariants the run therefore does
/// not claim, or, when other cycles of a schedule reached their state, that those are
/// judged on the other cycles' copies; none when every backup completed. Several cycles lost are counted and
/// their reason given per cycle: `3 backups given up under quiesce at 70000, 170000,
/// 270000 ticks (each after missing its quiesce deadline once)`, not the run's total
/// of missed deadlines, which reads as one backup retried.
pub fn lost_backup_lines(name: &str, r: &sim::RunResult) -> Vec<String> {
    let begun_lost = |lost: &sim::LostBackup| match lost {
        // Only requests that never began: their own line says what they were behind.
        sim::LostBackup::GivenUp => r
            .cycle_marks()
            .any(|m| m.given_up.is_some() && !m.not_begun),
        sim::LostBackup::Abandoned => true,
    };
    let mut lines: Vec<String> = r
        .backups_lost()
        .into_iter()
        .filter(begun_lost)
        .map(|lost| lost_backup_line(name, r, lost))
        .collect();
    lines.extend(not_begun_line(name, r));
    lines
}

/// The line of the scheduled requests of a policy `name` that never began a cycle
/// ([`sim::Marks::not_begun`]): when each was asked for, and why it was not served;
/// `None` when every request began.
fn not_begun_line(name: &str, r: &sim::RunResult) -> Option<String> {
    let queued: Vec<&sim::CycleResult> = r.cycles.iter().filter(|c| c.marks.not_begun).collect();
    let text = |xs: Vec<String>| sim::oracle::list_text(&xs);
    let numbers = text(queued.iter().map(|c| c.cycle.to_string()).collect());
    let asked = text(
        queued
            .iter()
            .filter_map(|c| c.marks.request)
            .map(|t| t.to_string())
            .collect(),
    );
    // The cycle they queued behind: the last that began, which never ended.
    let behind = r.cycles.iter().rev().find(|c| !c.marks.not_begun);
    let why = match behind.map(|c| (c.cycle, &c.marks)) {
        Some((k, m)) if m.given_up.is_some() => {
            format!("the backup of cycle {k}, given up with its VLUN A kept")
        }
        Some((k, m)) if m.archive_copy.is_some() && m.retire.is_none() => format!(
            "cycle {k}, archived but never retired (its retire stopped at a block failing \
             its checksum, VLUN A kept)"
        ),
        Some((k, _)) => format!("cycle {k}, which never ended"),
        None => "a cycle that never ended".to_string(),
    };
    match queued.len() {
        0 => None,
        n => Some(format!(
            "{} under {name} ({} {numbers}, requested at {asked} ticks) never began: queued \
             behind {why} (the device cannot split again while that VLUN A stands); given up \
             at the run's end, no copy taken",
            if n == 1 {
                "1 scheduled backup".to_string()
            } else {
                format!("{n} scheduled backups")
            },
            if n == 1 { "cycle" } else { "cycles" },
        )),
    }
}

/// [`lost_backup_lines`]' line for the cycles lost one way (`lost`).
fn lost_backup_line(name: &str, r: &sim::RunResult, lost: sim::LostBackup) -> String {
    let lost_marks: Vec<&sim::Marks> = r
        .cycle_marks()
        .filter(|m| match lost {
            // A request that never began has its own line ([`not_begun_line`]).
            sim::LostBackup::GivenUp => m.given_up.is_some() && !m.not_begun,
            sim::LostBackup::Abandoned => m.abandoned.is_some(),
        })
        .collect();
    let times: Vec<String> = lost_marks
        .iter()
        .filter_map(|m| match lost {
            sim::LostBackup::GivenUp => m.given_up,
            sim::LostBackup::Abandoned => m.abandoned,
        })
        .map(|t| t.to_string())
        .collect();
    let why = match lost_marks.as_slice() {
        // Several cycles given up at their quiesce deadlines, each after the same
        // number of misses (the first attempt and `quiesce_retries_max` retries).
        [first, rest @ ..]
            if !rest.is_empty()
                && lost == sim::LostBackup::GivenUp
                && !first.quiesce_timeouts.is_empty()
                && rest
                    .iter()
                    .all(|m| m.quiesce_timeouts.len() == first.quiesce_timeouts.len()) =>
        {
            match first.quiesce_timeouts.len() {
                1 => "each after missing its quiesce deadline once".to_string(),
                n => format!("each after missing its quiesce deadline {n} times"),
            }
        }
        _ => verdict::lost_why(r, lost),
    };
    // The invariants the verdicts report with the lost backup's reason.
    let dropped: Vec<&str> = r
        .judgements()
        .iter()
        .filter(|j| j.lost.is_some() && lost.drops(j.invariant))
        .map(|j| j.invariant.as_str())
        .collect();
    let what = match lost {
        sim::LostBackup::GivenUp if r.costs.quiesce_timeouts > 0 || r.costs.resyncs_lost > 0 => {
            "no copy taken"
        }
        sim::LostBackup::GivenUp => "VLUN A kept, no archive",
        sim::LostBackup::Abandoned => "VLUN A dropped with no archive",
    };
    // A quiesce given up held users at its gate all the same: the line says what they
    // waited in the cycles given up (`adm` counts them among its attempts).
    let held = r
        .cycles
        .iter()
        .filter(|c| !c.marks.not_begun && c.marks.given_up.is_some())
        .map(|c| c.window.waits.gate)
        .fold((0u64, 0u64), |(n, t), g| (n + g.count, t + g.ticks_sum));
    let what = match lost {
        sim::LostBackup::GivenUp if r.costs.quiesce_timeouts > 0 && held.0 > 0 => format!(
            "{what}, though its gate held users: {} for {} ticks in all (`gate wt`, and \
             `adm`)",
            counted(held.0, "wait", "waits"),
            held.1
        ),
        _ => what.to_string(),
    };
    let backups = match lost_marks.len() {
        0 | 1 => "backup".to_string(),
        n => format!("{n} backups"),
    };
    // Claimed on the other cycles' copies when some other cycle reached their state.
    let claims = if dropped.is_empty() {
        let judged: Vec<&str> = sim::Invariant::ALL
            .into_iter()
            .filter(|&i| lost.drops(i) && r.policy.claims(i))
            .map(|i| i.as_str())
            .collect();
        format!("{} judged on the other cycles' copies", judged.join(", "))
    } else {
        format!("not claimed: {}", dropped.join(", "))
    };
    format!(
        "{backups} {} under {name} at {} ticks ({why}): {what}; {claims}",
        lost,
        if times.is_empty() {
            "-".to_string()
        } else {
            sim::oracle::list_text(&times)
        },
    )
}

/// The line of a policy `name` whose attempts a full data area aborted
/// (`backup.on_data_area_full = "break-guest-write"`, `data_area_full_aborts` > 0):
/// how many, the data area's size in blocks, and that they rolled back and are out of
/// the response figures (which are over committed transactions, so the policy's mean
/// may sit below `none`'s); `None` when the data area aborted nothing.
pub fn data_area_full_line(name: &str, r: &sim::RunResult) -> Option<String> {
    let c = &r.costs;
    let n = c.data_area_full_aborts;
    if n == 0 {
        return None;
    }
    let area = c.data_area_blocks.map_or(String::new(), |b| {
        format!(" ({})", counted(b, "block", "blocks"))
    });
    Some(format!(
        "{n} {} aborted under {name}: the data area{area} was full (on_data_area_full = \"break-guest-write\"); {} rolled back, not retried, and {} not in the response figures (rsp, p99: committed transactions only, so the mean can sit below none's; see `committed`, `aborted`)",
        if n == 1 { "attempt" } else { "attempts" },
        if n == 1 { "it" } else { "they" },
        if n == 1 { "is" } else { "are" },
    ))
}

/// The line of a run whose non-disruption held against a setup window longer than
/// its default ([`sim::SETUP_WINDOW_TICKS_DEFAULT`]) with a wait the backup caused
/// longer than that default: `held` means no single wait passed the scenario's own
/// bound, and a longer window lets longer waits pass, so the line gives the bound and
/// the longest such wait (the `window_*_wait_ticks_max` columns, over the cycles).
/// `None` otherwise: at the default window or with no wait past it, and when
/// non-disruption is not held and claimed.
fn window_bound_line(run: &NamedRun, setup_window_ticks: u64) -> Option<String> {
    if setup_window_ticks <= sim::SETUP_WINDOW_TICKS_DEFAULT {
        return None;
    }
    let held = run.result.judgements().iter().any(|j| {
        j.invariant == sim::Invariant::NonDisruption
            && j.claimed
            && j.observed == sim::Observed::Held
    });
    if !held {
        return None;
    }
    let longest = run
        .result
        .cycles
        .iter()
        .filter(|c| !c.marks.not_begun)
        .map(|c| c.window.waits.judged_ticks_max())
        .max()
        .unwrap_or(0);
    (longest > sim::SETUP_WINDOW_TICKS_DEFAULT).then(|| {
        format!(
            "non-disruption under {} held against backup.setup_window_ticks = \
             {setup_window_ticks}: the longest single wait the backup caused was {longest} \
             ticks, past the default window's {}; the bound is the scenario's, a longer \
             window lets longer waits pass, and what the backup cost the users is rsp and \
             win rsp against none's",
            run.name,
            sim::SETUP_WINDOW_TICKS_DEFAULT
        )
    })
}

/// The line of a backup policy's run whose users' response on this seed is below
/// `none`'s (the same load and seed, no backup) in the mean or the p99, and why: the
/// two runs committed different transactions (injected write errors and crashes abort
/// other transactions under each policy, which writes more or less: the figures are
/// over different sets), or the same ones served in another order by the lock and
/// device queues (and, on a closed loop, arriving at other times); neither a saving
/// (scenarios/README.md, "Saturation is not the only place the anomaly shows"), so a
/// reader of one run's table is told to compare over seeds, paired. `None` when
/// neither is below, for `none` itself, with no committed transaction on either
/// side, and when a full data area aborted transactions ([`data_area_full_line`]
/// says why those figures can sit below).
fn below_none_line(run: &NamedRun, none: &sim::RunResult, closed: bool) -> Option<String> {
    let r = &run.result;
    let (mine, base) = (&r.costs.response_time, &none.costs.response_time);
    if r.policy == sim::Policy::None
        || r.costs.data_area_full_aborts > 0
        || mine.count == 0
        || base.count == 0
    {
        return None;
    }
    // Exact means compared: sum / count against sum / count.
    let mean_below =
        mine.ticks_sum * u128::from(base.count) < base.ticks_sum * u128::from(mine.count);
    let p99_below = mine.ticks_p99 < base.ticks_p99;
    let mut below = Vec::new();
    if mean_below {
        below.push(format!(
            "mean {:.1} against {:.1} ticks",
            mine.ticks_mean, base.ticks_mean
        ));
    }
    if p99_below {
        below.push(format!(
            "p99 {} against {} ticks",
            mine.ticks_p99, base.ticks_p99
        ));
    }
    if below.is_empty() {
        return None;
    }
    // Aborts drawn per physical write or at a crash fall on other transactions under
    // each policy: the committed sets differ, whatever their counts.
    let faulted = |c: &sim::Costs| c.write_error_aborts + c.crash_aborts;
    let why = if faulted(&r.costs) > 0 || faulted(&none.costs) > 0 || mine.count != base.count {
        format!(
            "the two runs committed different transactions ({} under {}, {} under none; \
             aborted by injected write errors or crashes: {} and {}), so the figures are \
             over different sets",
            mine.count,
            run.name,
            base.count,
            faulted(&r.costs),
            faulted(&none.costs)
        )
    } else if closed {
        "the transactions served in another order by the lock and device queues, on a \
         closed loop arriving at other times"
            .to_string()
    } else {
        "the transactions served in another order by the lock and device queues".to_string()
    };
    Some(format!(
        "response under {} below none's on this seed ({}): {why}, not a saving \
         (scenarios/README.md, \"Saturation is not the only place the anomaly shows\"); \
         compare policies over many seeds, paired: `owm sweep` with `baseline = \"none\"`",
        run.name,
        below.join(", ")
    ))
}

/// Where `owm run` sends a policy's timeline as the run goes: `trace.csv`'s stream
/// and the timing diagram's window; `over` is set once the stream passes its bound
/// or cannot be written (the run's progress callback then stops the run).
struct Streamed<'a> {
    trace: TraceStream,
    rows: DiagramRows,
    over: &'a std::cell::Cell<bool>,
}

impl sim::TimelineSink for Streamed<'_> {
    fn attempt(&mut self, t: &sim::TxnTimeline) {
        self.trace.attempt(t);
        self.rows.attempt(t);
        if self.trace.passed_bytes_max() || self.trace.failed() {
            self.over.set(true);
        }
    }
}

/// ` at tick T` when `ran` is a run its progress callback stopped at virtual tick T
/// (`SimError::Interrupted`), else empty: the words a stop's message puts after
/// "stopped".
fn stopped_at<T>(ran: &Result<T>) -> String {
    match ran {
        Err(e) => match e.downcast_ref::<sim::SimError>() {
            Some(sim::SimError::Interrupted { at }) => format!(" at tick {at}"),
            _ => String::new(),
        },
        Ok(_) => String::new(),
    }
}

/// The error of a run stopped by `limits.output_bytes_max` as it wrote (exit 2): at
/// that key's line in the file at `path`, or at the key that drives it when the file
/// leaves it at its default ([`crate::config::refusal_at`]).
fn output_refusal(path: &Path, scenario: &sim::Scenario, message: String) -> anyhow::Error {
    match crate::config::read(path) {
        Ok(src) => anyhow::Error::new(crate::config::refusal_at(
            path,
            &src,
            "",
            scenario,
            "limits.output_bytes_max",
            message,
            &[],
        )),
        Err(_) => anyhow::anyhow!("{}: key `limits.output_bytes_max`: {message}", path.shown()),
    }
}

/// True when `e` is a run stopped by its progress callback (Ctrl-C).
fn is_interrupt(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<sim::SimError>(),
        Some(sim::SimError::Interrupted { .. })
    )
}

/// Runs one policy of a sweep file (the scenario under `[scenario]`); a simulator
/// error names the file, and a limit reached its key and line. The timeline is not
/// kept (a sweep's row needs none): the run holds what `owm run` holds, as the
/// memory estimate counts ([`sim::footprint`]).
pub fn run_one(
    path: &Path,
    scenario: &sim::Scenario,
    p: sim::Policy,
    seed: u64,
    progress: Option<sim::ProgressFn<'_>>,
) -> Result<NamedRun> {
    run_policy(
        path,
        "scenario.",
        scenario,
        p,
        seed,
        progress,
        Some(&mut Discard),
    )
}

/// A timeline sink that keeps nothing.
struct Discard;

impl sim::TimelineSink for Discard {
    fn attempt(&mut self, _: &sim::TxnTimeline) {}
}

/// [`run_one`], its timeline handed to `sink` as the run goes (not held in the
/// result).
fn run_streamed(
    path: &Path,
    scenario: &sim::Scenario,
    p: sim::Policy,
    seed: u64,
    progress: Option<sim::ProgressFn<'_>>,
    sink: &mut dyn sim::TimelineSink,
) -> Result<NamedRun> {
    run_policy(path, "", scenario, p, seed, progress, Some(sink))
}

/// Runs policy `p` of the scenario read from `path` (its keys below `prefix`).
fn run_policy(
    path: &Path,
    prefix: &str,
    scenario: &sim::Scenario,
    p: sim::Policy,
    seed: u64,
    progress: Option<sim::ProgressFn<'_>>,
    sink: Option<&mut dyn sim::TimelineSink>,
) -> Result<NamedRun> {
    let ran = match sink {
        Some(sink) => sim::run_with_sink(scenario, p, seed, progress, sink),
        None => sim::run_with_progress(scenario, p, seed, progress),
    };
    let result = ran
        .map_err(|e| {
            let what = format!("{}: policy {p} with seed {seed}", path.shown());
            match e {
                // A limit cut the work: no verdict; the key to raise, at its line.
                // The simulator's error stays in the chain (`owm run`'s stop line
                // reads it); its text is already in the limit's.
                sim::SimError::Limit { key, .. } => {
                    let text = limit_text(path, prefix, p, seed, key, &e);
                    anyhow::Error::new(e).context(Incomplete(text))
                }
                // More attempts in flight than the memory bound has room for: a
                // bound the run's own load passed, as one passed before it starts.
                sim::SimError::Backlog { .. } => {
                    let text = backlog_text(path, prefix, scenario, p, seed, &e);
                    anyhow::Error::new(e).context(text)
                }
                // A run that cannot progress cut the work: no verdict.
                sim::SimError::Stuck { .. } => anyhow::Error::new(e).context(Incomplete(what)),
                // A crash without the engine's barriers broke the device (what
                // `faults.power_safe = false` shows): the run stopped there, so no
                // verdict (exit 3), and not bad input.
                sim::SimError::Broken { .. } => anyhow::Error::new(e).context(Incomplete(what)),
                e => anyhow::Error::new(e).context(what),
            }
        })?
        .result;
    Ok(NamedRun {
        name: p.as_str().to_string(),
        result,
    })
}

/// The words of a limit reached by policy `p` (`e`, a [`sim::SimError::Limit`] of dotted
/// key `limit`): the file, the line and dotted key to change (below `prefix`), what
/// stopped.
fn limit_text(
    path: &Path,
    prefix: &str,
    p: sim::Policy,
    seed: u64,
    limit: &str,
    e: &sim::SimError,
) -> String {
    let key = format!("{prefix}{limit}");
    let message =
        format!("policy {p} with seed {seed} stopped: {e}; raise `{key}` or shrink the run");
    let error = match crate::config::read(path) {
        Ok(src) => crate::config::FileError::key(path, &src, &key, message),
        Err(_) => crate::config::FileError::whole(path, format!("key `{key}`: {message}")),
    };
    error.to_string()
}

/// The words of a run of policy `p` stopped by [`sim::SimError::Backlog`] (`e`): at
/// `limits.memory_bytes_max`'s line in the file at `path` (keys below `prefix`), or at
/// the key that drives it when the file leaves it at its default.
fn backlog_text(
    path: &Path,
    prefix: &str,
    scenario: &sim::Scenario,
    p: sim::Policy,
    seed: u64,
    e: &sim::SimError,
) -> String {
    let message = format!(
        "policy {p} with seed {seed} stopped: {e}; raise \
         `{prefix}limits.memory_bytes_max`, or let the device and the locks keep up with \
         the arrivals (arrivals further apart, fewer transactions, more channels)"
    );
    match crate::config::read(path) {
        Ok(src) => crate::config::refusal_at(
            path,
            &src,
            prefix,
            scenario,
            "limits.memory_bytes_max",
            message,
            &[],
        )
        .to_string(),
        Err(_) => format!(
            "{}: key `{prefix}limits.memory_bytes_max`: {message}",
            path.shown()
        ),
    }
}

/// Gives each backup window of `runs` `none`'s response over the same span, when
/// `none` ran ([`sim::window::pair_with_none`], which frees what `none` kept for it).
fn pair_with_none(runs: &mut [NamedRun]) {
    let mut all: Vec<&mut sim::RunResult> = runs.iter_mut().map(|r| &mut r.result).collect();
    sim::window::pair_with_none(&mut all);
}

/// What the printed tables and notes take from the scenario.
#[derive(Debug, Clone, Copy)]
struct Printing {
    /// `keep_history`: verdicts judged, or `unchecked`.
    history_kept: bool,
    /// Arrivals follow responses: the window legend says `none`'s span holds others.
    closed: bool,
    /// `backup.setup_window_ticks`, non-disruption's bound.
    setup_window_ticks: u64,
    /// A trace's I/Os replayed and lines skipped (no data to replay), when a trace is
    /// replayed.
    trace_lines: Option<(u64, u64)>,
}

impl Printing {
    fn of(s: &sim::Scenario) -> Self {
        Printing {
            history_kept: s.keep_history,
            closed: s.workload.closed_loop(),
            setup_window_ticks: s.backup.setup_window_ticks,
            trace_lines: match &s.workload {
                sim::WorkloadConfig::Trace(c) => c.loaded.as_ref().map(|m| (m.ios, m.skipped)),
                _ => None,
            },
        }
    }
}

fn print_table(runs: &[NamedRun], printing: Printing) {
    let Printing {
        history_kept,
        closed,
        ..
    } = printing;
    use tables::Metric as M;
    let cols = [
        ("committed", M::Committed),
        ("aborted", M::Aborted),
        ("adm mean", M::AdmissionDelayTicksMean),
        ("adm p99", M::AdmissionDelayTicksP99),
        ("adm max", M::AdmissionDelayTicksMax),
        ("rsp mean", M::ResponseTicksMean),
        ("rsp p99", M::ResponseTicksP99),
        ("req→A ok", M::RequestToAConsistentTicks),
        ("unavail", M::UnavailableTicks),
        ("wr/lw", M::PhysicalWritesPerLogicalWrite),
        ("extra pk", M::ExtraSpaceBlocksPeak),
        ("lock waits", M::LockWaits),
        ("violations", M::Violations),
    ];
    print_rows(runs, history_kept, &cols);
    say_legend("(times in ticks, 1 tick = 1 µs; committed = transactions committed; aborted = attempts aborted: the transactions that ended so and every deadlock victim, which is retried (deadlock_aborts in summary.csv), so it can exceed the transactions; response figures count the committed transactions only, a retried one from its first arrival; adm = admission delay (ticks held at the gate, 0 if not held) of every attempt admitted at or after the first split, deadlock retries included, and of every attempt the gate held before it (a quiesce attempt that missed its deadline); rsp = response time of the committed transactions over the whole run, `none`'s with no backup: what a backup costs the users; req→A ok = request to A consistent, `abandoned` / `given up` when the backup made no archive; unavail = ticks the admission gate was closed, no transaction able to begin, summed over the cycles; wr/lw = physical writes per logical write; extra pk = the extra space's peak (mirror copy, log area or COW area), in blocks; lock waits = how many times an attempt waited for an application lock (type (b) locks included), a count, not ticks (the ticks waited: lock_wait_ticks_sum in summary.csv); violations = violations of the invariants the policy claims; - = nothing to measure: no transaction admitted after a split or held at the gate, no logical write)");
    print_baseline_copies(runs);
    if runs.iter().all(|r| r.result.cycles.is_empty()) {
        return;
    }
    let paired = runs.iter().any(|r| r.result.policy == Policy::None);
    let mut window = vec![
        ("win rsp", M::WindowResponseTicksMean),
        ("win p99", M::WindowResponseTicksP99),
    ];
    if paired {
        window.extend([
            ("none rsp", M::NoneWindowResponseTicksMean),
            ("none p99", M::NoneWindowResponseTicksP99),
        ]);
    }
    window.extend([
        ("pre rsp", M::BeforeResponseTicksMean),
        ("pre p99", M::BeforeResponseTicksP99),
        ("win wr/lw", M::WindowPhysicalWritesPerLogicalWrite),
        ("pre wr/lw", M::BeforePhysicalWritesPerLogicalWrite),
        ("win fl/lw", M::WindowFlushesPerLogicalWrite),
        ("gate wt", M::WindowGateWaitTicksSum),
        ("type-b wt", M::WindowTypeBWaitTicksSum),
        ("queue wt", M::WindowDeviceQueueWaitTicksSum),
        ("flush wt", M::WindowFlushWaitTicksSum),
        ("ovfl wt", M::WindowOverflowWaitTicksSum),
        ("copy wt", M::WindowCopyWaitTicksSum),
        ("lock wt", M::WindowLockHolderWaitTicksSum),
    ]);
    print_rows(runs, history_kept, &window);
    let none_cols = match (paired, closed) {
        (false, _) => "",
        (true, false) => "; none rsp/p99 = `none`'s over the same span: the same arrivals with no backup, so win rsp against none rsp is what the backup cost inside its window, whatever the load did meanwhile (each of the committed ones only: where a full data area aborted attempts, win rsp counts fewer)",
        // A closed loop's arrivals follow its responses: `none`'s span holds others.
        (true, true) => "; none rsp/p99 = `none`'s over the same span with no backup, but not over the same arrivals: on this closed load each client's next arrival follows its last response, so `none`'s run has other transactions in the span (summary.csv: none_window_committed against window_committed) and win rsp against none rsp is not the backup's cost alone: it can even sit below (each of the committed ones only: where a full data area aborted attempts, win rsp counts fewer)",
    };
    // Said where it happened: a run whose full data area refused no write keeps the
    // legend it had.
    let refused = if runs
        .iter()
        .any(|r| r.result.costs.data_area_full_aborts > 0)
    {
        ", and an attempt lost to a full data area violates it at once (its write failed)"
    } else {
        ""
    };
    say_legend(&format!("(the backup window, from a cycle's start, its request (or, queued behind the cycle before, that cycle's end), to its end, its retire (or VLUN B ready, when that comes later; with [detach], B' complete), against the time before it since the previous cycle's end: win/pre rsp = mean and p99 response of the committed transactions arriving in it / before it (aborted ones are not in them: `aborted` above){none_cols}; wr/lw, fl/lw = physical writes, flushes per logical write, - with none in the span; the waits at the backup's own points, summed, by cause: admission gate, type (b) locks, device queue while backup I/O held the channel or journal lane, engine flush barriers, attempts lost to a full data area, and the backup's share of the users' own calls (a copy-on-write copy, a log slot, a mirror's second write, table updates) with the queueing behind it, and the waits for an application lock whose holder the backup slowed (lock wt: each lock wait's share blamed through its holders' own backup-caused waits, at most the wait); non-disruption judges each single wait of the first four causes against the setup window{refused}; `none` has no backup window: its response is the headline table's rsp)"));
}

/// Columns of a table legend's lines (a terminal's width and a little more).
const LEGEND_COLUMNS: usize = 100;

/// Prints a table's legend wrapped at [`LEGEND_COLUMNS`] on spaces (a word longer than
/// that alone on its line), each line after the first indented by one space.
fn say_legend(text: &str) {
    for line in wrap(text, LEGEND_COLUMNS) {
        say!("{line}");
    }
}

/// `text`'s words greedily in lines of at most `columns` characters (a longer word
/// alone on its line), each line after the first indented by one space.
fn wrap(text: &str, columns: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let width = line.chars().count();
        if width > 0 && width + 1 + word.chars().count() > columns {
            lines.push(std::mem::replace(&mut line, " ".to_string()));
        }
        if !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.trim().is_empty() {
        lines.push(line);
    }
    lines
}

/// One line naming the point-in-time copy each baseline policy (quiesce,
/// crash-consistent) of `runs` took, from the engine it ran on
/// (`backup.baseline_variant`; `summary.csv`'s `engine_variant`); none without one.
fn print_baseline_copies(runs: &[NamedRun]) {
    let named: Vec<String> = runs
        .iter()
        .filter(|r| matches!(r.result.policy, Policy::Quiesce | Policy::CrashConsistent))
        .filter_map(|r| {
            let copy = match r.result.engine_variant? {
                Variant::WriteMirroring => "a split mirror kept standing before the request",
                Variant::WriteLogging => "a write-logging snapshot taken at the copy",
                Variant::CopyOnWrite => "a copy-on-write snapshot taken at the copy",
            };
            Some(format!("{} on {copy}", r.name))
        })
        .collect();
    if !named.is_empty() {
        say_legend(&format!(
            "(point-in-time copy, `backup.baseline_variant`: {})",
            named.join("; ")
        ));
    }
}

/// One table row per run (per cycle with several), one column per metric.
fn print_rows(runs: &[NamedRun], history_kept: bool, cols: &[(&str, tables::Metric)]) {
    use tables::Metric as M;
    let name_w = runs.iter().map(|r| r.name.len()).max().unwrap_or(6).max(6);
    // With backups on a schedule, one row per cycle ("mirroring #2"): its request →
    // A consistent window; the other columns are the run's.
    type Row<'a> = (
        String,
        &'a sim::RunResult,
        std::borrow::Cow<'a, sim::RunResult>,
    );
    let rows: Vec<Row<'_>> = runs
        .iter()
        .flat_map(|run| {
            let r = &run.result;
            if r.cycles.len() <= 1 {
                vec![(run.name.clone(), r, std::borrow::Cow::Borrowed(r))]
            } else {
                r.cycles
                    .iter()
                    .map(|c| {
                        let name = format!("{} #{}", run.name, c.cycle);
                        (name, r, std::borrow::Cow::Owned(tables::cycle_view(r, c)))
                    })
                    .collect()
            }
        })
        .collect();
    let name_w = rows
        .iter()
        .map(|r| r.0.len())
        .max()
        .unwrap_or(6)
        .max(name_w);
    let mut line = format!("{:<name_w$}", "policy");
    for (h, _) in cols {
        line.push_str(&format!(" {h:>10}"));
    }
    say!("{line}");
    for (name, run, result) in &rows {
        let mut line = format!("{name:<name_w$}");
        for &(_, metric) in cols {
            let lost = match (result.marks.abandoned, result.marks.given_up) {
                (Some(_), _) => Some("abandoned"),
                (None, Some(_)) => Some("given up"),
                (None, None) => None,
            };
            let v = match (metric, lost) {
                (M::Violations, _) if !history_kept => "unchecked".to_string(),
                // No copy was archived: no request → A consistent figure to read as a
                // backup's.
                (M::RequestToAConsistentTicks, Some(lost)) => lost.to_string(),
                _ => metric.cycle_value(run, result),
            };
            line.push_str(&format!(" {:>10}", if v.is_empty() { "-" } else { &v }));
        }
        say!("{line}");
    }
}

/// The verdict table: one row per invariant, one column per policy; an invariant the
/// policy does not claim says so, with what was observed (`not claimed (violated 2)`),
/// and one about a backup the run never reached or lost says why (`not claimed (no
/// backup)`, `not claimed (abandoned)`: `sim::Judgement::reason`). Then, per policy
/// and invariant whose run-level reason is no one cycle's own
/// (`sim::RunResult::reasons_by_cycle`), a line of what the cycles' rows say: `A-isolated
/// under quiesce: not claimed (no transaction during the backup): cycle 1 no split;
/// cycle 2 request after the last transaction`.
fn print_verdicts(runs: &[NamedRun]) {
    let cells: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            r.result
                .judgements()
                .iter()
                .map(|j| j.to_string())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = runs
        .iter()
        .zip(&cells)
        .map(|(r, c)| {
            c.iter()
                .map(String::len)
                .chain([r.name.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let name_w = sim::Invariant::ALL
        .iter()
        .map(|i| i.as_str().len())
        .max()
        .unwrap_or(9);
    let mut line = format!("{:<name_w$}", "invariant");
    for (r, w) in runs.iter().zip(&widths) {
        line.push_str(&format!("  {:<w$}", r.name));
    }
    say!("{}", line.trim_end());
    for (k, inv) in sim::Invariant::ALL.iter().enumerate() {
        let mut line = format!("{:<name_w$}", inv.as_str());
        for (c, w) in cells.iter().zip(&widths) {
            line.push_str(&format!("  {:<w$}", c[k]));
        }
        say!("{}", line.trim_end());
    }
    // A run-level reason no cycle's row gives: what the rows say instead.
    for r in runs {
        let run = r.result.judgements();
        for (inv, parts) in r.result.reasons_by_cycle() {
            let Some(j) = run.iter().find(|j| j.invariant == inv) else {
                continue;
            };
            say!("{inv} under {}: {j}: {parts}", r.name);
        }
    }
}

/// Writes `summary.csv`, `trace.csv` (`trace`: every policy's rows and milestones
/// streamed into the temporary file beside `out/trace.csv`, made durable and renamed), the extra space over time (`extra_space.csv`, its plot
/// `extra_space.{png,svg}` and, when a policy has a data area,
/// `data_area_used.{png,svg}`: all when the timeline is kept), and the timing
/// diagrams (each run's `transactions` the window its [`DiagramRows`] kept, of
/// `attempts` in all): one PNG and SVG per policy, and `timing.{png,svg}` with every
/// policy stacked on one time scale; `requests` are the ticks the scenario requests its
/// backups at, which `none`'s diagram centres on as the others centre on theirs;
/// `timeline`: whether the scenario kept the timeline (without it each diagram's title
/// says why it draws no transaction).
/// Returns the paths written (below `out`); stops between two pictures once Ctrl-C
/// was received ([`interrupt::requested`]: the caller publishes nothing then).
pub fn write_outputs(
    out: &Path,
    runs: &[NamedRun],
    trace: TracePart,
    attempts: &[usize],
    requests: &[u64],
    timeline: bool,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let p = out.join("summary.csv");
    tables::write_summary(&p, runs)?;
    written.push(p);
    let p = out.join("trace.csv");
    trace.persist()?;
    written.push(p);
    if runs.iter().any(|r| !r.result.extra_space.is_empty()) {
        let p = out.join("extra_space.csv");
        space::write_space_csv(&p, runs)?;
        written.push(p);
        let plots = [
            ("extra_space", Some(space::space_plot(runs))),
            ("data_area_used", space::data_area_plot(runs)),
        ];
        for (stem, plot) in plots {
            let Some(plot) = plot else { continue };
            if interrupt::requested() {
                return Ok(written);
            }
            let svg = out.join(format!("{stem}.svg"));
            reports::write_atomic(&svg, lines::render_svg(&plot)?.as_bytes())?;
            written.push(svg);
            let png = out.join(format!("{stem}.png"));
            reports::write_atomic(&png, &lines::render_png(&plot)?)?;
            written.push(png);
        }
    }
    let diagrams: Vec<timing::Diagram> = runs
        .iter()
        .zip(attempts)
        .map(|(run, &n)| figure::diagram_of(run, n, requests, timeline))
        .collect();
    let range = timing::shared_spans(&diagrams);
    for (run, d) in runs.iter().zip(&diagrams) {
        if interrupt::requested() {
            return Ok(written);
        }
        let one = std::slice::from_ref(d);
        written.extend(write_picture(
            out,
            &format!("timing-{}", run.name),
            one,
            &range,
        )?);
    }
    written.extend(write_picture(out, "timing", &diagrams, &range)?);
    Ok(written
        .into_iter()
        .map(|p| p.strip_prefix(out).map(Path::to_path_buf).unwrap_or(p))
        .collect())
}

fn write_picture(
    out: &Path,
    stem: &str,
    d: &[timing::Diagram],
    range: &[(u64, u64)],
) -> Result<Vec<PathBuf>> {
    let svg = out.join(format!("{stem}.svg"));
    reports::write_atomic(&svg, timing::render_svg(d, range)?.as_bytes())?;
    let png = out.join(format!("{stem}.png"));
    reports::write_atomic(&png, &timing::render_png(d, range)?)?;
    Ok(vec![svg, png])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines keep every word in order, none is longer than the columns but a
    /// word that alone is, and each after the first is indented by one space.
    #[test]
    fn a_legend_wraps_on_spaces_keeping_every_word() {
        let mut r = 0x2545_f491_4f6c_dd1du64;
        for case in 0..300 {
            let words: Vec<String> = (0..case % 60)
                .map(|_| {
                    r ^= r << 13;
                    r ^= r >> 7;
                    r ^= r << 17;
                    "wµ".repeat((r % 20) as usize + 1)
                })
                .collect();
            let text = words.join(" ");
            let columns = 20 + case % 90;
            let lines = wrap(&text, columns);
            let back: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
            assert_eq!(back, words, "{columns}: {lines:?}");
            for (i, l) in lines.iter().enumerate() {
                assert_eq!(l.starts_with(' '), i > 0, "{l:?}");
                let n = l.chars().count();
                assert!(
                    n <= columns || l.split_whitespace().count() == 1,
                    "{n} > {columns}: {l:?}"
                );
            }
        }
    }
}
