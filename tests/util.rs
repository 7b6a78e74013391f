//! Running the binary and looking at what it wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (scenario files are relative to it).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The file names of every shipped scenario and sweep (`scenarios/*.toml`), sorted.
pub fn shipped_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    files
}

/// Runs `owm args...` from the repository root. An `owm check` given no `--trace-dir`
/// writes its traces into a directory of its own rather than the default `out/check`:
/// the tests run in parallel, and a second check into a trace directory in use is
/// refused (README, exit statuses), so a shared default would make them refuse each other.
pub fn owm(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_owm"));
    cmd.args(args).current_dir(repo());
    let own = (args.first() == Some(&"check")
        && !args
            .iter()
            .any(|a| *a == "--trace-dir" || *a == "--replay" || *a == "--serve"))
    .then(|| tempfile::tempdir().expect("a temporary directory"));
    if let Some(dir) = &own {
        cmd.arg("--trace-dir").arg(dir.path().join("traces"));
    }
    cmd.output().expect("the owm binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `text` with each wrapped legend's lines joined: a line that begins with one space
/// continues the line before it (`owm run`'s table legends are wrapped so).
pub fn unwrapped(text: &str) -> String {
    text.replace("\n ", " ")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit status (a signal is a test failure).
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("an exit status, not a signal")
}

/// Asserts success, showing the output when not.
pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "owm failed:\nstdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// Asserts a clean failure: non-zero exit, no panic, and `needles` in stderr.
pub fn fails_with(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success:\n{}",
        stdout(o)
    );
    assert!(!err.contains("panicked"), "panicked:\n{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks `{n}`:\n{err}");
    }
}

/// Asserts a `check --replay` that reproduced `invariant`: exit 1, no panic, and the
/// verdict line `verdict: violated (INVARIANT reproduced from FILE; exit 1)` ending stdout.
pub fn replayed(o: &Output, invariant: &str) {
    assert_eq!(code(o), 1, "{}{}", stdout(o), stderr(o));
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
    let out = stdout(o);
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("verdict: violated ({invariant} reproduced from "))
            && last.ends_with("; exit 1)"),
        "{out}"
    );
}

/// The names of the files in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The bytes of `dir/name`.
pub fn bytes(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// The entries of `dir` that are an owm staging directory left behind (their names say
/// `staging`), sorted.
pub fn staging_left(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.contains("staging"))
        .collect()
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test file");
    p.to_string_lossy().into_owned()
}

/// What [`run_with_verdict_files`] ran: the process and the paths it wrote to.
pub struct VerdictRun {
    pub o: Output,
    /// The `--out` directory (`summary.csv`, `trace.csv`, …).
    pub out: PathBuf,
    /// The `--json` verdict file.
    pub json: PathBuf,
    /// The `--junit` verdict file.
    pub xml: PathBuf,
}

/// `owm run` on `text` (written to `dir/name`) with `--out dir/o`, `--json dir/v.json`
/// and `--junit dir/v.xml` ([`owm_json`]).
pub fn run_with_verdict_files(dir: &Path, name: &str, text: &str) -> VerdictRun {
    let f = write(dir, name, text);
    let xml = dir.join("v.xml");
    let JsonRun { o, out, json } = owm_json("run", &f, dir, &["--junit", &s(&xml)]);
    VerdictRun { o, out, json, xml }
}

/// The arguments of `owm CMD FILE --out DIR/o --json DIR/v.json EXTRA…` (`CMD` is
/// `run` or `sweep`; `EXTRA` more flags: `--junit PATH`, `--seed N`…), then the
/// output directory and the JSON file. `DIR` is made when missing.
pub fn json_args(
    cmd: &str,
    file: &str,
    dir: &Path,
    extra: &[&str],
) -> (Vec<String>, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let (out, json) = (dir.join("o"), dir.join("v.json"));
    let mut args: Vec<String> = [cmd, file, "--out", &s(&out), "--json", &s(&json)]
        .map(String::from)
        .into();
    args.extend(extra.iter().map(|a| a.to_string()));
    (args, out, json)
}

/// What [`owm_json`] ran: the process, its `--out` directory and its `--json` file.
pub struct JsonRun {
    pub o: Output,
    pub out: PathBuf,
    pub json: PathBuf,
}

impl JsonRun {
    /// The `--json` verdict it wrote, parsed.
    pub fn verdict(&self) -> serde_json::Value {
        read_json(&self.json)
    }
}

/// Runs `owm` with [`json_args`]: `CMD FILE --out DIR/o --json DIR/v.json EXTRA…`.
pub fn owm_json(cmd: &str, file: &str, dir: &Path, extra: &[&str]) -> JsonRun {
    let (args, out, json) = json_args(cmd, file, dir, extra);
    let o = owm(&args.iter().map(String::as_str).collect::<Vec<_>>());
    JsonRun { o, out, json }
}

/// A CSV output `dir/name` (`summary.csv`, `stats.csv`…) as (header, rows of cells),
/// quoted cells (a verdict with a comma: `not claimed (abandoned, violated 1)`) read
/// as one.
pub fn csv_table(dir: &Path, name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = bytes(dir, name);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_slice());
    let mut lines = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect::<Vec<_>>());
    (lines.next().unwrap(), lines.collect())
}

/// The index of column `name` in `header`.
pub fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no {name} in {header:?}"))
}

/// A CSV output `dir/name` as one map (column → cell) per row, in file order.
pub fn csv_rows(dir: &Path, name: &str) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = csv_table(dir, name);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

/// Cell `col` of `row` as a number.
pub fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?}", row[col]))
}

/// The row of `owm run`'s printed tables whose first column is `first` (a policy or
/// an invariant): the line starting with `first` and a space. Panics with the whole
/// text when there is none.
pub fn table_row<'a>(text: &'a str, first: &str) -> &'a str {
    let head = format!("{first} ");
    text.lines()
        .find(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no {first} row:\n{text}"))
}

/// The policies `owm run` printed tables for in `text` (its stdout): the first cell of
/// each row of the cost table (between its `policy` header and its `(times in ticks`
/// note), and the columns of the verdict table's `invariant` header. Both are empty
/// when no table was printed.
pub fn printed_policies(text: &str) -> (Vec<String>, Vec<String>) {
    let rows = text
        .lines()
        .skip_while(|l| !l.starts_with("policy ") || !l.contains("committed"))
        .skip(1)
        .take_while(|l| !l.starts_with("(times in ticks"))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect();
    let columns = text
        .lines()
        .find(|l| l.starts_with("invariant "))
        .map(|l| l.split_whitespace().skip(1).map(String::from).collect())
        .unwrap_or_default();
    (rows, columns)
}

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A running `owm` paused at a test hook point (`OWM_PAUSE_AT`), with its stderr.
pub struct Paused {
    pub child: std::process::Child,
    pub stderr: std::io::BufReader<std::process::ChildStderr>,
    /// The stderr lines read so far.
    pub said: String,
}

impl Paused {
    /// Reads stderr until a line contains `needle` (the process must say it).
    pub fn wait_for(&mut self, needle: &str) {
        use std::io::BufRead;
        loop {
            let mut line = String::new();
            assert!(
                self.stderr.read_line(&mut line).unwrap() > 0,
                "owm never said `{needle}`; said:\n{}",
                self.said
            );
            self.said.push_str(&line);
            if line.contains(needle) {
                return;
            }
        }
    }
}

/// Spawns `owm args` from the repository root with `OWM_PAUSE_AT=point` and returns
/// once it has paused there (it waits for its stdin to close).
pub fn spawn_paused<A: AsRef<std::ffi::OsStr>>(args: &[A], point: &str) -> Paused {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(args)
        .current_dir(repo())
        .env("OWM_PAUSE_AT", point)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the owm binary runs");
    let stderr = std::io::BufReader::new(child.stderr.take().expect("piped"));
    let mut p = Paused {
        child,
        stderr,
        said: String::new(),
    };
    p.wait_for(&format!("paused at {point}"));
    p
}

/// Spawns `owm args` with `OWM_PAUSE_AT=point`, waits until it pauses there, sends it
/// SIGINT, lets it go on, and returns its output.
pub fn interrupt_at<A: AsRef<std::ffi::OsStr>>(args: &[A], point: &str) -> std::process::Output {
    signal_at(args, point, libc::SIGINT)
}

/// [`interrupt_at`] with the signal `signal` (SIGINT, SIGTERM) instead of SIGINT.
pub fn signal_at<A: AsRef<std::ffi::OsStr>>(
    args: &[A],
    point: &str,
    signal: i32,
) -> std::process::Output {
    use std::io::Read;
    let mut p = spawn_paused(args, point);
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(p.child.id() as i32, signal) }, 0);
    // The handler runs on its own thread: wait until it says it saw the signal.
    p.wait_for("interrupted: stopping");
    drop(p.child.stdin.take()); // ends the pause
    let mut rest = String::new();
    p.stderr.read_to_string(&mut rest).unwrap();
    let mut o = p.child.wait_with_output().unwrap();
    o.stderr = format!("{}{rest}", p.said).into_bytes();
    o
}

/// Runs `owm args...` from the repository root with extra environment variables.
pub fn owm_env(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(repo())
        .output()
        .expect("the owm binary runs")
}

/// `owm run` of a file holding `text`, written in a new temporary directory `tmp` with
/// `--out tmp/o`: (the directory, the file's path, the command's output).
pub fn run_file(text: &str) -> (tempfile::TempDir, String, std::process::Output) {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "bad.toml", text);
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    (tmp, f, o)
}

/// Each `(file text, line, dotted key, words)`: `owm run` of that text refuses it with
/// exit 2, naming the file and line, the key, and the words.
pub fn refused_at_their_keys(cases: &[(&str, usize, &str, &str)]) {
    for &(text, line, key, why) in cases {
        let (_tmp, f, o) = run_file(text);
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}:"), &format!("key `{key}`"), why]);
    }
}

/// A `--json` verdict file (or any JSON file), parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The cases of a `--json` verdict.
pub fn json_cases(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["cases"].as_array().expect("a verdict's `cases` array")
}

/// The case of a `--json` verdict for `suite` (a policy, a grid point) and invariant `name`.
pub fn json_case<'a>(v: &'a serde_json::Value, suite: &str, name: &str) -> &'a serde_json::Value {
    json_cases(v)
        .iter()
        .find(|c| c["suite"] == suite && c["name"] == name)
        .unwrap_or_else(|| panic!("no case {suite} / {name} in {v}"))
}

/// Violating `owm check` configurations (each found breadth first, exit 1), as model
/// flags after `check`: `tests/check.rs` searches each, `tests/exits.rs` the first.
pub const CHECK_VIOLATING: &[&[&str]] = &[
    &["--discipline", "incremental", "--old", "1", "--new", "2"],
    &[
        "--old",
        "1",
        "--new",
        "1",
        "--discipline",
        "incremental",
        "--type-b",
        "off",
    ],
    &[
        "--old",
        "1",
        "--new",
        "1",
        "--records-per-block",
        "2",
        "--locks",
        "record",
        "--aborts",
        "off",
    ],
    &[
        "--old",
        "2",
        "--new",
        "2",
        "--amounts",
        "equal",
        "--transfers",
        "same",
        "--discipline",
        "incremental",
        "--aborts",
        "off",
    ],
    &[
        "--blocks",
        "3",
        "--transactions",
        "old:0:2:4,new:2:1:7",
        "--discipline",
        "incremental",
    ],
];
