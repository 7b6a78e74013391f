//! Verdicts a CI pipeline can trust: the exit-status contract every command keeps, and
//! the per-invariant verdicts it writes as JSON ([`json`]) and JUnit XML ([`junit`]).
//!
//! | exit | meaning |
//! | ---- | ------- |
//! | 0 | every claimed invariant was checked and held (a run whose simulated backup was given up or abandoned too: its copy's invariants are not claimed, [`Report::backups_lost`]) |
//! | 1 | an invariant was violated (with `--allow-violations`: 0) |
//! | 2 | bad input or usage: a file, a flag, an unwritable output directory |
//! | 3 | incomplete: a bound, a limit, a budget or an interrupt cut the work, or an invariant could not be judged, so no verdict is claimed |
//!
//! When several cases disagree the most informative wins: a violation (1) is a verdict
//! even when other cases are incomplete; incomplete (3) beats held (0).

pub mod json;
pub mod junit;

use engine::shown::ShowName as _;
use std::fmt;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

/// The process exit status of `run`, `sweep`, `check` and `merge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exit {
    /// 0: everything requested was checked and held.
    Held,
    /// 3: something was cut or not judged; no verdict is claimed.
    Incomplete,
    /// 1: an invariant was violated.
    Violated,
    /// 2: bad input or usage.
    BadInput,
}

impl Exit {
    /// The numeric status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Held => 0,
            Exit::Violated => 1,
            Exit::BadInput => 2,
            Exit::Incomplete => 3,
        }
    }

    /// The status of two results together: bad input, then a violation, then
    /// incomplete, then held.
    pub fn and(self, other: Exit) -> Exit {
        self.max(other)
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// An error that means "incomplete" (exit 3) rather than "bad input" (exit 2): a limit
/// reached, an interrupt. Attach it with `anyhow::Error::new(Incomplete(..))` or
/// `.context(Incomplete(..))`; `main` looks for it in the error's chain.
#[derive(Debug, Clone)]
pub struct Incomplete(pub String);

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Incomplete {}

/// An error that means "refused" (exit 1) rather than bad input: `owm device`'s
/// served device said no (out of order, an I/O error) or could not be reached (its
/// contract, `src/device_cmd.rs`).
#[derive(Debug, Clone)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The exit status of a failed command: 3 when an [`Incomplete`] is in the error's
/// chain (as an error or as context), 1 when a [`Refused`] is, else 2.
pub fn exit_of_error(e: &anyhow::Error) -> Exit {
    // A context is not an element of `chain()` (its element is the context's wrapper):
    // `downcast_ref` looks through every context layer.
    let holds = |is: fn(&(dyn std::error::Error + 'static)) -> bool| e.chain().any(is);
    if e.downcast_ref::<Incomplete>().is_some() || holds(|c| c.is::<Incomplete>()) {
        Exit::Incomplete
    } else if e.downcast_ref::<Refused>().is_some() || holds(|c| c.is::<Refused>()) {
        Exit::Violated
    } else {
        Exit::BadInput
    }
}

/// The error and its causes on one line (`context: cause: cause`), like `{:#}`, but a
/// cause whose text the line already holds is not repeated: an error that names its
/// source in its own text and also gives it as its source (a file error and its OS
/// error, `SimError::Engine` and the engine's error, the engine's error and its
/// store's) is printed once.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for c in e.chain() {
        let s = c.to_string();
        if text.is_empty() {
            text = s;
        } else if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
    }
    text
}

/// The verdict flags every checking command takes (`#[command(flatten)]`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VerdictArgs {
    /// Exit 0 even when an invariant is violated (for studying a broken
    /// configuration); unchecked or incomplete work still exits 3. The verdict word
    /// stays `violated` either way.
    #[arg(long)]
    pub allow_violations: bool,
    /// Write every verdict as JUnit XML (one test case per suite × invariant). FILE is
    /// written whole and renamed into place; a symbolic link is followed (the file it
    /// leads to is replaced, the link kept). Refused before any work (exit 2): a
    /// directory, device, pipe or socket, /dev/stdout or another link in /proc, the
    /// file this command's own output goes to, the owm executable.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    /// Write every verdict as JSON (command, version, seed, verdicts, reproduce line),
    /// as --junit writes its file (same refusals).
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}

impl VerdictArgs {
    /// The flags as they appear on a reproduce line (`--allow-violations` only: the
    /// file flags do not change the verdict).
    pub fn reproduce_suffix(&self) -> &'static str {
        if self.allow_violations {
            " --allow-violations"
        } else {
            ""
        }
    }

    /// Refuses, before any work, a `--junit` or `--json` path that cannot be written:
    /// an existing directory, or a parent that is missing, not a directory or not
    /// writable. So a bad path is exit 2 at once, never a finished run whose verdict is
    /// lost.
    /// Also refuses `--junit` and `--json` naming one file (the same path, or a link
    /// to the other): one would replace the other; and either colliding with the
    /// command's output directory `out` (`Some((flag, dir))`: `--out`, `--trace-dir`;
    /// [`crate::outdir::refuse_verdict_clash`]); or either naming one of the command's
    /// `inputs` ([`refuse_input`]: the scenario, the sweep file, the `--model` file, a
    /// shard directory's files). A refusal writes nothing.
    pub fn preflight(
        &self,
        out: Option<(&str, &std::path::Path)>,
        inputs: &[Input],
    ) -> anyhow::Result<()> {
        for (flag, p) in [("--junit", &self.junit), ("--json", &self.json)] {
            if let Some(p) = p {
                refuse_input(flag, p, inputs)?;
                if let Some((out_flag, dir)) = out {
                    crate::outdir::refuse_verdict_clash(out_flag, dir, flag, p)?;
                }
                writable_file(flag, p)?;
            }
        }
        if let (Some(junit), Some(json)) = (&self.junit, &self.json) {
            if same_file(junit, json) {
                anyhow::bail!(
                    "--junit {} and --json {} name the same file: the JSON would replace \
                     the JUnit XML; give two paths",
                    junit.shown(),
                    json.shown()
                );
            }
        }
        Ok(())
    }

    /// The verdict flags with only the files [`Self::preflight`] finds nothing against:
    /// each writable and clear of `out` on its own, and the two not one file (then
    /// neither). Where a refused command still writes its verdicts: a refused path is
    /// never written (it may be an output, or the other verdict file), and a path that
    /// passes still records the refusal, so a CI step reads no earlier pass there.
    pub fn writable_only(
        &self,
        out: Option<(&str, &std::path::Path)>,
        inputs: &[Input],
    ) -> VerdictArgs {
        let fine = |flag: &str, p: &Option<std::path::PathBuf>| {
            p.clone().filter(|p| {
                refuse_input(flag, p, inputs).is_ok()
                    && out.is_none_or(|(out_flag, dir)| {
                        crate::outdir::refuse_verdict_clash(out_flag, dir, flag, p).is_ok()
                    })
                    && writable_file(flag, p).is_ok()
            })
        };
        let (mut junit, mut json) = (fine("--junit", &self.junit), fine("--json", &self.json));
        if let (Some(a), Some(b)) = (&junit, &json) {
            if same_file(a, b) {
                (junit, json) = (None, None);
            }
        }
        VerdictArgs {
            allow_violations: self.allow_violations,
            junit,
            json,
        }
    }

    /// Refuses `--junit` or `--json` naming one of `inputs` ([`refuse_input`]), for an
    /// input found only as the command loads its files (a trace).
    pub fn refuse_inputs(&self, inputs: &[Input]) -> anyhow::Result<()> {
        for (flag, p) in [("--junit", &self.junit), ("--json", &self.json)] {
            if let Some(p) = p {
                refuse_input(flag, p, inputs)?;
            }
        }
        Ok(())
    }

    /// The verdict flags without the files that name one of `inputs` ([`refuse_input`]),
    /// for the verdicts of a command that failed after reading them: an input is never
    /// written over.
    pub fn clear_of(&self, inputs: &[Input]) -> VerdictArgs {
        let keep = |flag: &str, p: &Option<std::path::PathBuf>| {
            p.clone().filter(|p| refuse_input(flag, p, inputs).is_ok())
        };
        VerdictArgs {
            allow_violations: self.allow_violations,
            junit: keep("--junit", &self.junit),
            json: keep("--json", &self.json),
        }
    }

    /// `result` as it is, unless it is an error found before any case was judged (a
    /// refusal, a bad file, an output that cannot be written, a limit): then the
    /// requested verdict files record it, as [`Self::finish_failed`] does, as a failed
    /// case `run` of `suite`, with the command line as given for `reproduce`; a file
    /// [`Self::writable_only`] refuses (it names one of `inputs`, collides with `out`,
    /// cannot be written) is not written (removed when it is a regular file that cannot
    /// be written). So no earlier verdict is left at those paths for a CI step to read.
    pub fn record_error(
        &self,
        result: anyhow::Result<Exit>,
        command: &str,
        suite: &str,
        out: Option<(&str, &std::path::Path)>,
        inputs: &[Input],
    ) -> anyhow::Result<Exit> {
        self.record_merge_error(result, command, None, suite, out, inputs)
    }

    /// [`Self::record_error`] for `merge`, whose verdict files name `merged`, the
    /// command whose shards it was given ([`Report::merged`]).
    pub fn record_merge_error(
        &self,
        result: anyhow::Result<Exit>,
        command: &str,
        merged: Option<&'static str>,
        suite: &str,
        out: Option<(&str, &std::path::Path)>,
        inputs: &[Input],
    ) -> anyhow::Result<Exit> {
        let Err(e) = result else { return result };
        let mut report = Report::new(command, typed_command(), self.allow_violations);
        report.merged = merged;
        self.writable_only(out, inputs)
            .finish_failed(report, suite, &e);
        Err(e)
    }

    /// Writes the requested verdict files, prints the verdict line, and returns the
    /// exit status. When stdout could not be written (`> /dev/full`; a closed pipe is
    /// the reader's choice and changes nothing) the files are written again with that
    /// error as a failed case `run` of suite `stdout`, and the status is 2
    /// ([`Self::finish_failed`]), so they agree with the process's exit status.
    pub fn finish(&self, report: &Report) -> anyhow::Result<Exit> {
        if let Some(p) = &self.junit {
            junit::write(p, report)?;
            say!("wrote {}", p.shown());
        }
        if let Some(p) = &self.json {
            json::write(p, report)?;
            say!("wrote {}", p.shown());
        }
        say!("{}", report.summary_line());
        if let Some(lost) = crate::stdout_error() {
            // The report never reached its reader: exit 2, and the files say so, as
            // for any other error.
            let e = anyhow::anyhow!("{lost}");
            return Ok(self.finish_failed(report.clone(), STDOUT_SUITE, &e));
        }
        Ok(report.exit)
    }

    /// The verdict files of a command that ended in the error `e`: `report` (the cases
    /// established before it) with `e` as a [`Outcome::Failed`] case `run` of `suite`,
    /// written to each requested file, and the exit status of both together
    /// ([`Exit::and`] of the cases' status and `e`'s, [`exit_of_error`]): bad input
    /// (2) wins, then a violation a finished case proved (1), then incomplete (3).
    /// A file that cannot be written (the error may be about it) is removed when it is
    /// a regular file, so a CI step never reads an earlier run's verdict as this one's;
    /// that is said on stderr. A run stopped incomplete then prints its verdict line
    /// (`verdict: incomplete (...; exit 3)`, or `verdict: violated (...; exit 1)` when a
    /// finished case was violated), as [`Self::finish`] does; a refusal (exit 2) prints
    /// none, its error being said on stderr. Returns that exit status; never fails: the
    /// command's error is what it reports. When stdout could not be written either, the
    /// files are written again with that as a second failed case (suite `stdout`) and
    /// the status 2, as [`Self::finish`] does.
    pub fn finish_failed(&self, mut report: Report, suite: &str, e: &anyhow::Error) -> Exit {
        report.push(
            suite,
            "run",
            Outcome::Failed {
                reason: error_text(e),
            },
        );
        report.exit = report.exit.and(exit_of_error(e));
        report.exit_code = report.exit.code();
        self.write_or_remove(&report);
        if report.exit != Exit::BadInput {
            // A limit cut the work: the verdict line ends stdout, as when it completes.
            say!("{}", report.summary_line());
            if let Some(lost) = crate::stdout_error() {
                report.push(STDOUT_SUITE, "run", Outcome::Failed { reason: lost });
                report.exit = Exit::BadInput;
                report.exit_code = report.exit.code();
                self.write_or_remove(&report);
            }
        }
        report.exit
    }

    /// Writes `report` to each requested file; a file that cannot be written is removed
    /// when it is a regular file (said on stderr), so no earlier verdict is left there
    /// (through a symbolic link, the file it leads to; the link is kept). A path refused
    /// as it is written ([`refuse_special_file`]) is neither written nor removed.
    fn write_or_remove(&self, report: &Report) {
        let junit: Encode = junit::to_string;
        let json: Encode = json::to_string;
        let files = [
            ("--junit", &self.junit, junit),
            ("--json", &self.json, json),
        ];
        for (flag, path, text) in files {
            let Some(p) = path else { continue };
            if let Err(why) = refuse_special_file(flag, p) {
                tell!("{}: not written", error_text(&why));
                continue;
            }
            let written = text(report).and_then(|t| Ok(reports::write_atomic(p, t.as_bytes())?));
            match written {
                Ok(()) => say!("wrote {}", p.shown()),
                Err(why) => {
                    let file = engine::atomic::replaced_file(p);
                    let old = std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_file());
                    if old && std::fs::remove_file(&file).is_ok() {
                        tell!(
                            "{flag} {}: not written ({}); the earlier file there was removed",
                            p.shown(),
                            error_text(&why)
                        );
                    }
                }
            }
        }
    }
}

/// The command line as given (`owm sweep s.toml --out o --json v.json`), each word
/// quoted for a shell where it needs to be, after a `cd` to the working directory it
/// was given in (`cd /home/me/w && owm sweep s.toml …`): which of its words are paths
/// is not known, so it runs from any directory so.
pub(crate) fn typed_command() -> String {
    let mut words = Vec::new();
    if let Ok(dir) = std::env::current_dir() {
        words.push(format!("cd {} &&", crate::shell_word::shell_word(&dir)));
    }
    words.push("owm".to_string());
    words.extend(
        std::env::args_os()
            .skip(1)
            .map(|a| crate::shell_word::shell_word(std::path::Path::new(&a))),
    );
    words.join(" ")
}

/// The suite of the failed case that records a stdout that could not be written.
pub const STDOUT_SUITE: &str = "stdout";

/// A file or directory a command reads, and its name in a refusal: (`"the scenario"`,
/// `S.toml`).
pub type Input<'a> = (&'a str, &'a std::path::Path);

/// Refuses a verdict file (`flag` `path`: `--json`, `--junit`) that names one of the
/// command's `inputs`, whatever the spelling (`./`, `..`, a symbolic link to it): the
/// file itself, or, for an input that is a directory (a shard of `owm merge`), the
/// directory or any file under it. Written whole over it, the verdicts would destroy
/// the input (a scenario that no longer runs, a shard that no longer merges).
///
/// Errors: the collision, naming the flag, both paths, and what the input is.
pub fn refuse_input(flag: &str, path: &std::path::Path, inputs: &[Input]) -> anyhow::Result<()> {
    for &(what, input) in inputs {
        let (f, i) = (path.shown(), input.shown());
        if same_file(path, input) {
            anyhow::bail!(
                "{flag} {f} is {what} {i}, which this command reads: the verdict file would \
                 overwrite it; give another file"
            );
        }
        let under = input.is_dir()
            && matches!(
                (crate::outdir::resolved(path), std::fs::canonicalize(input)),
                (Some(v), Ok(d)) if v.starts_with(&d) && v != d
            );
        if under {
            anyhow::bail!(
                "{flag} {f} is inside {what} {i}, which this command reads: the verdict file \
                 would overwrite its files; give a file outside it"
            );
        }
    }
    Ok(())
}

/// A report's text in one of the verdict files' formats.
type Encode = fn(&Report) -> anyhow::Result<String>;

/// Refuses a `path` that exists and is not a regular file (a directory, a device such
/// as `/dev/null`, a pipe, a socket, through any symbolic link), that is or leads to a link in
/// `/proc` (`/dev/stdout`, `/proc/self/fd/1`), that is the file this command's own
/// standard input, output or error is open on, or its running executable, or that is
/// an owm device's own file (an image a live server holds, any device's image,
/// metadata or superblock: [`engine::atomic::replaceable`]): owm writes a file whole,
/// into a temporary file renamed over the file the path leads to (a symbolic link is
/// followed and kept). `flag` names the option.
pub fn refuse_special_file(flag: &str, path: &std::path::Path) -> anyhow::Result<()> {
    engine::atomic::replaceable(path).map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.shown()))
}

/// Whether `a` and `b` name one file: the files writes of them replace, resolved
/// alike whether they exist or not ([`crate::outdir::resolved`]: links followed, also
/// to a file that does not exist yet, `..` and the directories' links), are one path.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    use crate::outdir::resolved;
    matches!((resolved(a), resolved(b)), (Some(x), Some(y)) if x == y)
}

/// Whether `path` can be created or replaced as a file: not a directory, nor a device,
/// pipe or socket ([`refuse_special_file`]), and its
/// parent an existing directory where a file can be created (tried: a temporary file
/// is made and removed). `flag` names the option in the error.
pub fn writable_file(flag: &str, path: &std::path::Path) -> anyhow::Result<()> {
    refuse_special_file(flag, path)?;
    // The file a write replaces: through a link, the file it leads to, whose directory
    // must exist (said with the link's target).
    let target = engine::atomic::write_target(path)
        .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.shown()))?;
    let shown = if target == path {
        path.shown().to_string()
    } else {
        format!("{} (leads to {})", path.shown(), target.shown())
    };
    let parent = engine::atomic::directory_of(&target);
    if !parent.is_dir() {
        let why = match std::fs::metadata(parent) {
            Ok(_) => "is not a directory".to_string(),
            Err(e) => crate::config::absence(&e),
        };
        anyhow::bail!("{flag} {shown}: its directory {} {why}", parent.shown());
    }
    if let Err(e) = tempfile::tempfile_in(parent).map_err(engine::atomic::plain) {
        anyhow::bail!(
            "{flag} {shown}: its directory {} is not writable: {e}",
            parent.shown()
        );
    }
    Ok(())
}

/// The verdicts of one simulator run, one case per invariant: held, violated (with the
/// count and the first violation) or unchecked (no history) for the invariants the
/// policy claims; `not claimed` with what was observed for the others
/// (`sim::Policy::claims`, `sim::Judgement`), or [`Outcome::NotReached`] in place of
/// the observation when the run never reached the state the invariant speaks of
/// (`sim::Judgement::not_reached`: no backup, a backup given up or abandoned before
/// its archive, no copy to B'), never a `held` of a copy never made.
pub fn of_run(report: &mut Report, suite: &str, r: &sim::RunResult) {
    // One entry per suite, each way its backups were lost in it (a schedule can lose
    // one cycle at its quiesce deadline and abandon another).
    let lost: Vec<String> = r
        .backups_lost()
        .into_iter()
        .map(|how| format!("backup {how}: {}", lost_why(r, how)))
        .collect();
    if !lost.is_empty() {
        report
            .backups_lost
            .push(format!("{suite}: {}", lost.join("; ")));
        report.backup_cycles_lost += r.backup_cycles_lost();
    }
    if let Some(why) = retried_why(r) {
        report.backups_retried.push(format!("{suite}: {why}"));
    }
    let by_cycle = r.reasons_by_cycle();
    for j in r.judgements() {
        let why = j.reason();
        let not_reached = j.not_reached();
        let observed = match j.observed {
            sim::Observed::Held => Outcome::Held,
            sim::Observed::Violated { count, first } => Outcome::Violated {
                count,
                detail: r.said(&first),
                trace: None,
            },
            sim::Observed::Unchecked => Outcome::Unchecked {
                reason: "keep_history = false: the run kept no history to judge".into(),
            },
            partly @ sim::Observed::HeldPartly { .. } => Outcome::Unchecked {
                reason: format!(
                    "{partly}: integrity mode refused those blocks of the judged images, \
                     which were not judged"
                ),
            },
        };
        // A state never reached judged nothing: its observed verdict is not reported.
        let observed = match not_reached {
            Some(reason) => Outcome::NotReached {
                reason: reason.into(),
            },
            None => observed,
        };
        let outcome = match (j.lost, why) {
            _ if j.claimed => observed,
            (Some(lost), _) => Outcome::NotClaimed {
                policy: format!("{} (backup {lost}: {})", r.policy, lost_why(r, lost)),
                observed: Box::new(observed),
            },
            (None, Some(why)) => Outcome::NotClaimed {
                policy: format!("{} ({why})", r.policy),
                observed: Box::new(observed),
            },
            (None, None) => Outcome::NotClaimed {
                policy: r.policy.to_string(),
                observed: Box::new(observed),
            },
        };
        report.push(suite, j.invariant.as_str(), outcome);
        if let Some(sim::Observed::Violated { count, first }) = &j.waits_not_claimed {
            if let Some(case) = report.cases.last_mut() {
                case.not_claimed_part = Some(Box::new(Outcome::Violated {
                    count: *count,
                    detail: r.said(first),
                    trace: None,
                }));
            }
        }
        if let Some((_, parts)) = by_cycle.iter().find(|(i, _)| *i == j.invariant) {
            if let Some(case) = report.cases.last_mut() {
                case.reason_by_cycle = Some(parts.clone());
            }
        }
    }
}

/// Why a run's backup made no archive, in words: `quiesce deadline missed 3 times`,
/// `data area full` (under `break-snapshot`), [`ROLLBACK_ABANDON`] (under
/// `break-guest-write`, whose abandons are a rollback's), `the resync of image A met an
/// unreadable block`, `an archive pass met an unreadable block`.
pub fn lost_why(r: &sim::RunResult, lost: sim::LostBackup) -> String {
    match lost {
        sim::LostBackup::Abandoned if r.cycle_marks().any(|m| m.abandoned_for_rollback) => {
            ROLLBACK_ABANDON.into()
        }
        sim::LostBackup::Abandoned => "data area full".into(),
        // The misses of the cycles given up, not those of a cycle whose retry then
        // made its copy; of a schedule, per cycle.
        sim::LostBackup::GivenUp if lost_quiesce_timeouts(r) > 0 => lost_quiesce_words(r),
        sim::LostBackup::GivenUp if r.costs.resyncs_lost > 0 => {
            "the resync of image A met an unreadable block".into()
        }
        sim::LostBackup::GivenUp if r.costs.backup_given_up => {
            "an archive pass met an unreadable block".into()
        }
        // Only requests that never began, behind a VLUN A never retired.
        sim::LostBackup::GivenUp => {
            "requests never began: queued behind a VLUN A never retired (a retire stopped \
             at a block failing its checksum)"
                .into()
        }
    }
}

/// The quiesce deadlines missed by the cycles given up (every cycle's milestones, or
/// the one backup's).
/// The backups of a run that took only after missing their quiesce deadline (a cycle
/// not given up whose attempts timed out before one held), in words: `quiesce
/// deadline missed 3 times before the backup took`; of a schedule, per cycle:
/// `quiesce deadline missed before the backup took in 2 cycles (cycle 3: 1 time,
/// cycle 5: 2 times)`. `None` when every backup took at its first attempt or was
/// lost.
pub fn retried_why(r: &sim::RunResult) -> Option<String> {
    let times = |n: usize| format!("{n} time{}", if n == 1 { "" } else { "s" });
    let taken = |m: &sim::Marks| m.given_up.is_none() && !m.not_begun;
    // A run of one backup: its misses alone.
    if r.cycles.len() <= 1 {
        let m = r.cycle_marks().next()?;
        return (taken(m) && !m.quiesce_timeouts.is_empty()).then(|| {
            format!(
                "quiesce deadline missed {} before the backup took",
                times(m.quiesce_timeouts.len())
            )
        });
    }
    let retried: Vec<String> = r
        .cycles
        .iter()
        .filter(|c| taken(&c.marks) && !c.marks.quiesce_timeouts.is_empty())
        .map(|c| {
            format!(
                "cycle {}: {}",
                c.cycle,
                times(c.marks.quiesce_timeouts.len())
            )
        })
        .collect();
    match retried.len() {
        0 => None,
        n => Some(format!(
            "quiesce deadline missed before the backup took in {} ({})",
            sim::number_text::counted(n as u64, "cycle", "cycles"),
            retried.join(", ")
        )),
    }
}

/// The quiesce deadlines missed by the cycles given up, in words: `quiesce deadline
/// missed 3 times` (one backup); of a schedule, per cycle: `quiesce deadline missed 3
/// times in each of cycles 1, 2, 3`, `quiesce deadline missed 3 times in cycle 1, 1
/// time in cycle 4`, never their sum, which reads as one backup retried.
fn lost_quiesce_words(r: &sim::RunResult) -> String {
    let times = |n: usize| format!("{n} time{}", if n == 1 { "" } else { "s" });
    let lost: Vec<(u32, usize)> = r
        .cycles
        .iter()
        .filter(|c| c.marks.given_up.is_some() && !c.marks.quiesce_timeouts.is_empty())
        .map(|c| (c.cycle, c.marks.quiesce_timeouts.len()))
        .collect();
    if r.cycles.len() <= 1 {
        return format!(
            "quiesce deadline missed {}",
            times(lost_quiesce_timeouts(r) as usize)
        );
    }
    let list = |xs: Vec<String>| sim::oracle::list_text(&xs);
    match lost.as_slice() {
        [(k, n)] => format!("quiesce deadline missed {} in cycle {k}", times(*n)),
        [(_, n), rest @ ..] if rest.iter().all(|(_, m)| m == n) => format!(
            "quiesce deadline missed {} in each of cycles {}",
            times(*n),
            list(lost.iter().map(|(k, _)| k.to_string()).collect())
        ),
        _ => format!(
            "quiesce deadline missed {}",
            lost.iter()
                .map(|(k, n)| format!("{} in cycle {k}", times(*n)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn lost_quiesce_timeouts(r: &sim::RunResult) -> u64 {
    r.cycle_marks()
        .filter(|m| m.given_up.is_some())
        .map(|m| m.quiesce_timeouts.len() as u64)
        .sum()
}

/// Why a backup under `on_data_area_full = "break-guest-write"` was abandoned: that
/// setting refuses the users' writes, but a rollback's write of a before-image that
/// needs a slot cannot be refused (the aborted write would stay on VLUN B).
pub const ROLLBACK_ABANDON: &str =
    "data area full: a rollback needed a slot, which break-guest-write cannot refuse";

/// What was established about one invariant (or property) in one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Outcome {
    /// Checked over everything and held.
    Held,
    /// Held over the part explored; `cut` states or steps were left unexplored at the
    /// bound (held within depth N). Exit 3, even when `cut` is 0: a search past its
    /// `--states-max` whose threads explored every state before the bound's check
    /// stopped them is cut on other runs of the same command.
    HeldWithin { bound: String, cut: u64 },
    /// Violated `count` times; `detail` is the first violation. `check` (exhaustive)
    /// adds its trace's length and whether it is proven the shortest.
    Violated {
        count: u64,
        detail: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trace: Option<Box<TraceLength>>,
    },
    /// Not judged (history off, a run that ended early, an interrupt).
    Unchecked { reason: String },
    /// The case itself failed to run (a limit hit, an engine error).
    Failed { reason: String },
    /// The policy does not promise this invariant (`sim::Policy::claims`), or the run
    /// does not (a backup lost or a state never reached: `policy` then says why,
    /// `cow (backup abandoned: data area full)`, `none (no backup)`): what was
    /// observed is reported, and counts neither as a pass nor as a failure.
    /// `observed` is [`Outcome::NotReached`] when the state it would judge never
    /// existed.
    NotClaimed {
        policy: String,
        observed: Box<Outcome>,
    },
    /// The state the invariant speaks of was never reached, so nothing was judged;
    /// `reason` names what was missing (`sim::Unreached`'s words: `no backup`, `no
    /// split`, `A never consistent`, `no archive`, `no retire`, `no copy to B'`; of
    /// `owm check` cut by a bound, `its witness "run ended" was never reached within
    /// depth 18 (13 states cut)`). JSON: `{"verdict": "not-reached", "reason": "no
    /// archive"}`. A cut check exits 3 by its other cases ([`Report::cut`]).
    NotReached { reason: String },
}

impl Outcome {
    /// The exit status this outcome alone calls for.
    pub fn exit(&self, allow_violations: bool) -> Exit {
        match self {
            Outcome::Held => Exit::Held,
            Outcome::HeldWithin { .. } => Exit::Incomplete,
            Outcome::Violated { .. } if allow_violations => Exit::Held,
            Outcome::Violated { .. } => Exit::Violated,
            Outcome::Unchecked { .. } | Outcome::Failed { .. } => Exit::Incomplete,
            Outcome::NotClaimed { .. } | Outcome::NotReached { .. } => Exit::Held,
        }
    }

    /// The verdict in words, as tables print it (`sim::Judgement`'s words): held,
    /// held within ..., violated 2, unchecked, failed, not claimed (violated 2), not
    /// claimed (not reached: no archive).
    pub fn word(&self) -> String {
        match self {
            Outcome::Held => "held".into(),
            Outcome::HeldWithin { bound, cut } => format!("held within {bound} ({cut} cut)"),
            Outcome::Violated { count, .. } => format!("violated {count}"),
            Outcome::Unchecked { .. } => "unchecked".into(),
            Outcome::Failed { .. } => "failed".into(),
            Outcome::NotClaimed { observed, .. } => format!("not claimed ({})", observed.word()),
            Outcome::NotReached { reason } => format!("not reached: {reason}"),
        }
    }
}

/// The trace `owm check` wrote for a violation: its length and whether a shorter one
/// could exist, its file and the command that replays it. JSON: `"trace": {"steps":
/// 18, "shortest": true, "file": "/w/out/check/b-complete.trace", "replay": "owm check
/// --replay /w/out/check/b-complete.trace"}`, or with `"shortest": false` and
/// `"not_shortest"` saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceLength {
    /// Steps from the initial state to the violating state.
    pub steps: u64,
    /// True: no shorter trace (within the depth bound) reaches a state violating the
    /// invariant: breadth first on one thread, or the search for the shortest that
    /// follows one on several threads completed.
    pub shortest: bool,
    /// Why the trace is not proven shortest: depth first, or the search for the
    /// shortest cut (`--timeout`, the memory budget, an interrupt) or not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_shortest: Option<String>,
    /// The trace file `owm check` wrote, by its absolute path
    /// (`/w/out/check/b-complete.trace`); a path that is not UTF-8 as the shell word
    /// `replay` ends with (`crate::shell_word::json_path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The command that replays it (`owm check --replay out/check/b-complete.trace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
}

/// One test case: an invariant in a suite (a policy of a run, a grid point of a sweep,
/// the configuration of a check).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// The suite: `cow`, `grid point 3 (workload.records=10, cow, seed 1)`, `check`.
    pub suite: String,
    /// The invariant or property: `b-complete`.
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// A run's case not claimed for a reason no one backup cycle's row gives: what the
    /// cycles' rows say instead (`sim::RunResult::reasons_by_cycle`: `cycle 1 no
    /// split; cycle 2 request after the last transaction`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_by_cycle: Option<String>,
    /// A case claimed in part (quiesce's non-disruption, claimed of the writes its full
    /// data area refused once it refused one): what was observed of the part it does
    /// not claim, its waits past the setup window (`{"verdict": "violated", "count":
    /// 1, "detail": …}`), when one was; absent otherwise
    /// (`sim::Judgement::waits_not_claimed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_claimed_part: Option<Box<Outcome>>,
}

/// What an exhaustive `owm check` covered, in states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchStates {
    /// Distinct states explored: every property judged on each, its actions taken.
    pub explored: u64,
    /// Distinct states reached but not explored (nor judged): cut by a bound or an
    /// interrupt. 0: the search was complete.
    pub reached_not_explored: u64,
    /// Transitions generated, repeats included.
    pub generated: u64,
    /// The depth of the deepest state explored (the initial state is depth 1).
    pub depth: u64,
}

/// What random walks (`owm check --simulate`, and `owm merge` of their shards) sampled
/// of the space: their verdicts prove nothing, and this says how much they saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkSample {
    /// Walks asked for (a shard's share, or all of them).
    pub walks_planned: u64,
    /// Walks run to their end: fewer than planned when `stopped` says why.
    pub walks_done: u64,
    /// Walks that ended in a terminal state; the others stopped at `depth_max`.
    pub walks_terminal: u64,
    /// The depth bound (`--depth`), states on a walk; `None`: none.
    pub depth_max: Option<u64>,
    /// States on the deepest walk.
    pub deepest: u64,
    /// States visited over all walks, repeats included.
    pub states_visited: u64,
    /// Distinct states seen, as `distinct` says: `exact`; `at least` (the fingerprint
    /// set was full); `at most` (summed over merged shards, which may share states).
    pub distinct_states: u64,
    pub distinct: String,
    /// What stopped the run before every planned walk was done (`the timeout`,
    /// `--states-max`, an interrupt); `None`: nothing did.
    pub stopped: Option<String>,
}

/// Everything a command established: the JSON summary's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `run`, `sweep`, `check`, `merge`.
    pub command: String,
    /// The owm version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The seed, when one seed was used.
    pub seed: Option<u64>,
    /// The seeds of a sweep (empty otherwise).
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// A command line that reproduces this result.
    pub reproduce: String,
    /// Whether violations were allowed (`--allow-violations`).
    pub allow_violations: bool,
    /// The exit status the command returned, with its number.
    pub exit: Exit,
    pub exit_code: u8,
    pub cases: Vec<Case>,
    /// `check`: per action kind how often it was enabled and taken, and the depth of
    /// each `sometimes` witness (absent for the other commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<model::Coverage>,
    /// `check` (exhaustive): the states the search explored and those it reached but
    /// did not explore (absent for the other commands and for random walks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<SearchStates>,
    /// `check --simulate` and a `merge` of its shards: what the walks sampled (absent
    /// for the other commands and for an exhaustive check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walks: Option<WalkSample>,
    /// `run`, `sweep`, `merge`: the suites whose backup was given up or abandoned (always
    /// present; empty when none was), each with
    /// why (`quiesce: backup given up: quiesce deadline missed 3 times`; both ways,
    /// given up first and `; `-separated, when a schedule lost cycles both ways). Their
    /// copy's invariants are `not-claimed`; the exit status does not change (a
    /// failed backup is a result of the simulated policy, not a broken claim).
    #[serde(default)]
    pub backups_lost: Vec<String>,
    /// `run`, `sweep`, `merge`: the backup cycles given up or abandoned (always present;
    /// 0 when none was) over all the suites of
    /// `backups_lost` (`sim::RunResult::backup_cycles_lost`): a suite whose schedule
    /// asked for several backups may lose several, so this is at least
    /// `backups_lost.len()`.
    #[serde(default)]
    pub backup_cycles_lost: u64,
    /// `run`, `sweep`, `merge`: the suites whose backup took only after missing its
    /// quiesce deadline, each with the misses ([`retried_why`]: `quiesce: quiesce
    /// deadline missed 3 times before the backup took`); always present (empty when
    /// none). The copy is whole and judged; its request → A consistent counts the
    /// retries.
    #[serde(default)]
    pub backups_retried: Vec<String>,
    /// `sweep`, `merge`: per grid point's suite (`point 3 (…, cow, seed 1)`), the
    /// command that runs that point alone (`owm sweep /abs/sw.toml --shard 4/12 --out
    /// point-3`: the shard of as many slices as points that holds it only). Empty for
    /// the other commands (their `reproduce` reruns every suite) and when the sweep
    /// file's absolute path is not UTF-8. Written in grid order (`point 0`, `point 1`,
    /// …, `point 10`: [`in_grid_order`]), as `cases[]` and the JUnit suites are.
    #[serde(
        default,
        skip_serializing_if = "std::collections::BTreeMap::is_empty",
        serialize_with = "in_grid_order"
    )]
    pub suite_reproduce: std::collections::BTreeMap<String, String>,
    /// `merge`: the command whose shards were merged (`sweep`, or `check` for random
    /// walks), which names the JUnit file's test suites as the unsharded run's (`owm
    /// check`); not in the JSON, whose `command` is `merge`. `None` reads as `sweep`.
    #[serde(skip)]
    pub merged: Option<&'static str>,
}

/// Writes `map` with its keys in natural order ([`natural_cmp`]): a sweep's suites
/// `point 0 (…)`, `point 1 (…)`, …, `point 10 (…)` in grid order, where the map's own
/// order would put `point 10` before `point 2`.
fn in_grid_order<S: serde::Serializer>(
    map: &std::collections::BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut entries: Vec<(&String, &String)> = map.iter().collect();
    entries.sort_by(|a, b| natural_cmp(a.0, b.0));
    let mut out = serializer.serialize_map(Some(entries.len()))?;
    for (k, v) in entries {
        out.serialize_entry(k, v)?;
    }
    out.end()
}

/// `a` against `b` with each run of ASCII digits compared as the whole number it
/// writes (`point 2` before `point 10`), everything else character by character; equal
/// numbers written with other leading zeros, and ties, by their text.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a, b);
    loop {
        let (Some(cx), Some(cy)) = (x.chars().next(), y.chars().next()) else {
            return x.len().cmp(&y.len()).then_with(|| a.cmp(b));
        };
        if cx.is_ascii_digit() && cy.is_ascii_digit() {
            let run = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (nx, ny) = (run(x), run(y));
            let (dx, dy) = (
                x[..nx].trim_start_matches('0'),
                y[..ny].trim_start_matches('0'),
            );
            let by_value = dx.len().cmp(&dy.len()).then_with(|| dx.cmp(dy));
            if by_value != Ordering::Equal {
                return by_value;
            }
            x = &x[nx..];
            y = &y[ny..];
        } else {
            if cx != cy {
                return cx.cmp(&cy);
            }
            x = &x[cx.len_utf8()..];
            y = &y[cy.len_utf8()..];
        }
    }
}

impl Report {
    /// A report with no cases yet.
    pub fn new(command: &str, reproduce: String, allow_violations: bool) -> Self {
        Report {
            command: command.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            seed: None,
            seeds: Vec::new(),
            reproduce,
            allow_violations,
            exit: Exit::Held,
            exit_code: 0,
            cases: Vec::new(),
            coverage: None,
            states: None,
            walks: None,
            backups_lost: Vec::new(),
            backup_cycles_lost: 0,
            backups_retried: Vec::new(),
            suite_reproduce: Default::default(),
            merged: None,
        }
    }

    /// The command a JUnit file names its test suites after (`owm sweep`): this
    /// report's, or for a merge the command whose shards it merged, so a merge's file
    /// is the unsharded run's, byte for byte.
    pub fn junit_command(&self) -> &str {
        match self.command.as_str() {
            "merge" => self.merged.unwrap_or("sweep"),
            c => c,
        }
    }

    /// The command that reproduces `suite`: its own ([`Report::suite_reproduce`]) or
    /// the whole command's.
    pub fn reproduce_of(&self, suite: &str) -> &str {
        self.suite_reproduce
            .get(suite)
            .map_or(self.reproduce.as_str(), String::as_str)
    }

    /// Adds a case and folds its outcome into the exit status.
    pub fn push(&mut self, suite: impl Into<String>, name: impl Into<String>, outcome: Outcome) {
        self.exit = self.exit.and(outcome.exit(self.allow_violations));
        self.exit_code = self.exit.code();
        self.cases.push(Case {
            suite: suite.into(),
            name: name.into(),
            outcome,
            reason_by_cycle: None,
            not_claimed_part: None,
        });
    }

    /// Marks the whole report incomplete (an interrupt, a cut grid).
    pub fn cut(&mut self) {
        self.exit = self.exit.and(Exit::Incomplete);
        self.exit_code = self.exit.code();
    }

    /// Cases whose outcome is a violation.
    pub fn violations(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Violated { .. }))
            .count()
    }

    /// Cases of invariants their policy does not claim.
    pub fn not_claimed(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::NotClaimed { .. }))
            .count()
    }

    /// Cases whose state was never reached ([`Outcome::NotReached`], not under a
    /// [`Outcome::NotClaimed`]).
    pub fn not_reached(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::NotReached { .. }))
            .count()
    }

    /// Cases neither held nor violated (unchecked or failed or cut at a bound).
    pub fn incomplete(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| c.outcome.exit(true) == Exit::Incomplete)
            .count()
    }

    /// The verdict line's count of lost backups, `None` when there is none: `9 backup
    /// cycles given up or abandoned (in 4 policies)` — cycles
    /// ([`Report::backup_cycles_lost`]), then the suites they were in
    /// ([`Report::backups_lost`]: policies of a run, grid points of a sweep).
    pub fn lost_line(&self) -> Option<String> {
        let suites = self.backups_lost.len();
        if suites == 0 {
            return None;
        }
        let cycles = self.backup_cycles_lost.max(suites as u64);
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let in_what = match self.command.as_str() {
            "sweep" | "merge" => plural(suites as u64, "grid point", "grid points"),
            _ => plural(suites as u64, "policy", "policies"),
        };
        Some(format!(
            "{} given up or abandoned (in {in_what})",
            plural(cycles, "backup cycle", "backup cycles")
        ))
    }

    /// The line `owm sweep` and `owm merge` print when some grid points' backups took
    /// only after missing their quiesce deadline ([`Report::backups_retried`]; `owm
    /// run` prints a line per policy): how many, and the first three in grid order;
    /// `None` when there is none, or for another command.
    pub fn retried_note(&self) -> Option<String> {
        let n = self.backups_retried.len();
        if n == 0 || !matches!(self.command.as_str(), "sweep" | "merge") {
            return None;
        }
        Some(format!(
            "quiesce deadline missed before the backup took at {} (each copy whole and \
             judged; `req→A ok` counts the retries): {}",
            sim::number_text::counted(n as u64, "grid point", "grid points"),
            sim::oracle::list_text_max(&self.backups_retried, 3)
        ))
    }

    /// The last line a command prints: the verdict in words with the exit status,
    /// `verdict: WORD (N cases: V violated, I unchecked or incomplete[, R not reached]
    /// [, C not claimed][; lost backups][; detail]; exit E)`, WORD one of [`Word`]. A
    /// violation `--allow-violations` let pass is `violated` with exit 0 (3 when work
    /// was also left unchecked or incomplete) and says so in the parenthesis; a shard given none of the grid's points is `empty` (0 cases,
    /// `nothing to judge`): exit 0, but nothing is claimed held.
    pub fn summary_line(&self) -> String {
        let (word, detail) = self.word_and_detail();
        let mut text = format!(
            "{}: {} violated, {} unchecked or incomplete",
            sim::number_text::counted(self.cases.len() as u64, "case", "cases"),
            self.violations(),
            self.incomplete()
        );
        if let n @ 1.. = self.not_reached() {
            text.push_str(&format!(", {n} not reached"));
        }
        if let n @ 1.. = self.not_claimed() {
            text.push_str(&format!(", {n} not claimed"));
        }
        if let Some(lost) = self.lost_line() {
            text.push_str("; ");
            text.push_str(&lost);
        }
        if let Some(detail) = detail {
            text.push_str("; ");
            text.push_str(detail);
        }
        verdict_line(word, &text, self.exit)
    }

    /// The verdict line's first word ([`Report::summary_line`]), the JSON's `verdict`:
    /// `violated` for any violation, also one `--allow-violations` let pass (exit 0, or
    /// 3 when other work was left unchecked or incomplete), `empty` for a shard given
    /// none of the grid's points (exit 0, nothing claimed), `incomplete` for exit 3
    /// without a violation and for exit 2 (no verdict is claimed).
    pub fn word(&self) -> Word {
        self.word_and_detail().0
    }

    fn word_and_detail(&self) -> (Word, Option<&'static str>) {
        match self.exit {
            Exit::Held if self.violations() > 0 => {
                (Word::Violated, Some("allowed by --allow-violations"))
            }
            // A shard given none of the grid's points: nothing held, nothing failed.
            Exit::Held if self.cases.is_empty() => (Word::Empty, Some("nothing to judge")),
            Exit::Held => (Word::Held, None),
            Exit::Violated => (Word::Violated, None),
            // A violation `--allow-violations` let pass, beside work left unchecked or
            // incomplete (exit 3): still `violated`, whatever the exit status.
            Exit::Incomplete if self.violations() > 0 => {
                (Word::Violated, Some("allowed by --allow-violations"))
            }
            // Bad input prints no verdict line (its error is on stderr); were it
            // printed, no verdict is claimed.
            Exit::Incomplete | Exit::BadInput => (Word::Incomplete, None),
        }
    }
}

/// The first word of every verdict line a command prints (README, "Exit status and
/// machine-readable verdicts"); what else there is to say goes in its parenthesis.
/// The JSON's `verdict` field holds it, in the same words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Word {
    /// Everything claimed was checked and held (exit 0).
    Held,
    /// An invariant was violated (exit 1, or under `--allow-violations` 0, or 3 when
    /// other work was left unchecked or incomplete).
    Violated,
    /// A bound, limit or interrupt cut the work, or a case could not be judged (exit 3).
    Incomplete,
    /// Nothing was given to judge (exit 0, nothing claimed): a sweep shard with none of
    /// the grid's points.
    Empty,
}

impl Word {
    /// Every word, in the README's order.
    pub const ALL: [Word; 4] = [Word::Held, Word::Violated, Word::Incomplete, Word::Empty];

    /// The word as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Word::Held => "held",
            Word::Violated => "violated",
            Word::Incomplete => "incomplete",
            Word::Empty => "empty",
        }
    }
}

/// The one verdict line format, on stdout: `verdict: WORD (DETAIL; exit N)`.
pub fn verdict_line(word: Word, detail: &str, exit: Exit) -> String {
    format!(
        "verdict: {} ({detail}; exit {})",
        word.as_str(),
        exit.code()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--junit` and `--json` naming one file, written the same, by another spelling of
    /// its directory, or through a link to it, are refused before any work; two files
    /// are not.
    #[test]
    fn junit_and_json_naming_one_file_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("v.xml"), "old").unwrap();
        std::os::unix::fs::symlink(d.join("v.xml"), d.join("link.json")).unwrap();
        let args = |junit: std::path::PathBuf, json: std::path::PathBuf| VerdictArgs {
            junit: Some(junit),
            json: Some(json),
            ..VerdictArgs::default()
        };
        for (junit, json) in [
            (d.join("v.xml"), d.join("v.xml")),
            (d.join("new"), d.join("sub/../new")),
            (d.join("v.xml"), d.join("link.json")),
        ] {
            let e = args(junit.clone(), json.clone())
                .preflight(None, &[])
                .unwrap_err();
            assert!(
                e.to_string().contains("name the same file"),
                "{junit:?} {json:?}: {e}"
            );
        }
        args(d.join("v.xml"), d.join("v.json"))
            .preflight(None, &[])
            .unwrap();
        args(d.join("sub/v"), d.join("v"))
            .preflight(None, &[])
            .unwrap();
    }

    /// Each cause once: a simulator error about an engine error that names its store's
    /// OS error, each of them also given as the source of the one above.
    #[test]
    fn an_engine_error_prints_each_cause_once() {
        let os = std::io::Error::other("No space left on device");
        let store = engine::StoreError::Io {
            store: "image-a.img".into(),
            op: "write",
            block: Some(7),
            source: os,
        };
        let backup = engine::Error::BackupRead {
            blocks_done: 3,
            block: 7,
            source: Box::new(engine::Error::Store(store)),
        };
        let e = anyhow::Error::new(sim::SimError::Engine {
            at: 42,
            source: backup,
        })
        .context("x.toml: policy cow with seed 1");
        let text = error_text(&e);
        assert_eq!(e.chain().count(), 5, "{:#}", e);
        for part in [
            "engine at tick 42",
            "reading block 7",
            "image-a.img",
            "No space left",
        ] {
            assert_eq!(text.matches(part).count(), 1, "{part} in {text}");
        }
        assert!(text.starts_with("x.toml: policy cow with seed 1: engine at tick 42: "));
    }

    #[test]
    fn the_most_informative_status_wins() {
        use Exit::*;
        assert_eq!(Held.and(Incomplete), Incomplete);
        assert_eq!(Incomplete.and(Violated), Violated);
        assert_eq!(Violated.and(BadInput), BadInput);
        assert_eq!(Held.and(Held), Held);
        assert_eq!(
            [Held, Violated, BadInput, Incomplete].map(Exit::code),
            [0, 1, 2, 3]
        );
    }

    /// The marker is found as the error, as its source and as a context on another
    /// error (a run that cannot progress, a limit: the simulator's error under it).
    #[test]
    fn an_incomplete_or_refused_marker_anywhere_sets_the_status() {
        let io = || anyhow::Error::new(std::io::Error::other("stuck at tick 5"));
        let cases = [
            (io().context(Incomplete("x".into())), Exit::Incomplete),
            (
                anyhow::Error::new(Incomplete("x".into())).context("grid point 3"),
                Exit::Incomplete,
            ),
            (io().context(Refused("r".into())), Exit::Violated),
            (io().context("grid point 3"), Exit::BadInput),
        ];
        for (e, want) in cases {
            assert_eq!(exit_of_error(&e), want, "{e:#}");
        }
    }

    #[test]
    fn outcomes_map_to_statuses() {
        let v = Outcome::Violated {
            count: 2,
            detail: "x".into(),
            trace: None,
        };
        assert_eq!(v.exit(false), Exit::Violated);
        assert_eq!(v.exit(true), Exit::Held);
        let cut = |cut| Outcome::HeldWithin {
            bound: "depth 21".into(),
            cut,
        };
        assert_eq!(cut(0).exit(false), Exit::Incomplete);
        assert_eq!(cut(5).exit(false), Exit::Incomplete);
        let u = Outcome::Unchecked { reason: "r".into() };
        assert_eq!(u.exit(true), Exit::Incomplete);
        let mut r = Report::new("run", "owm run x".into(), false);
        r.push("cow", "b-complete", Outcome::Held);
        assert_eq!(r.exit, Exit::Held);
        r.push("cow", "a-consistent", u);
        assert_eq!((r.exit, r.exit_code), (Exit::Incomplete, 3));
        r.push("quiesce", "a-consistent", v);
        assert_eq!((r.exit, r.exit_code), (Exit::Violated, 1));
        assert!(r.summary_line().contains("exit 1"), "{}", r.summary_line());
    }

    #[test]
    fn an_unclaimed_invariant_is_reported_never_judged() {
        let broken = Outcome::NotClaimed {
            policy: "crash-consistent".into(),
            observed: Box::new(Outcome::Violated {
                count: 2,
                detail: "x".into(),
                trace: None,
            }),
        };
        assert_eq!(broken.exit(false), Exit::Held);
        assert_eq!(broken.word(), "not claimed (violated 2)");
        let mut r = Report::new("run", "owm run x".into(), false);
        r.push("crash-consistent", "A-consistent", broken);
        r.push("crash-consistent", "B-complete", Outcome::Held);
        assert_eq!(
            (r.exit, r.violations(), r.not_claimed()),
            (Exit::Held, 0, 1)
        );
        assert!(
            r.summary_line().contains("1 not claimed; exit 0"),
            "{}",
            r.summary_line()
        );
    }

    /// One case is "1 case", any other count "N cases".
    #[test]
    fn the_verdict_line_counts_cases_in_words() {
        let mut r = Report::new("run", "owm run x".into(), false);
        r.push("cow", "A-consistent", Outcome::Held);
        assert!(
            r.summary_line().contains(" (1 case: 0 violated"),
            "{}",
            r.summary_line()
        );
        r.push("cow", "B-complete", Outcome::Held);
        assert!(
            r.summary_line().contains(" (2 cases: 0 violated"),
            "{}",
            r.summary_line()
        );
    }
}
