//! The exit-status contract of `sweep` and `merge`, their JUnit and JSON verdicts, failed
//! grid points, every refusal of `merge`, and the bound on the lists of ids their
//! messages carry.

use std::path::Path;

use crate::util::*;

/// The bank workload under incremental 2PL with record locks (`run::BROKEN_BANK`) on
/// two seeds, under crash-consistent and cow: 4 grid points x 9 invariants. cow breaks
/// B-complete, which it claims; crash-consistent breaks A-consistent, which it does not.
pub fn violating_sweep() -> String {
    let mut text = String::from(
        "policies = [\"crash-consistent\", \"cow\"]\nseeds = [1, 2]\nmetrics = [\"violations\"]\n\n\
         [[axis]]\nkey = \"workload.transactions\"\nvalues = [300]\n",
    );
    let scenario = crate::run::BROKEN_BANK
        .replace("policies = [\"crash-consistent\", \"cow\"]\n", "")
        .replace("[workload]", "[scenario.workload]")
        .replace("[geometry]", "[scenario.geometry]")
        .replace("[locking]", "[scenario.locking]");
    text.push_str(&scenario);
    text
}

/// A violating sweep exits 1, prints every claimed violation with its grid point, and
/// its JUnit file (parsed with roxmltree) counts one failure per violated point x
/// claimed invariant, all under cow; crash-consistent's A-consistent is skipped as not
/// claimed. The JSON verdict agrees.
#[test]
fn a_violating_sweep_exits_1_and_its_junit_counts_the_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "bank.toml", &violating_sweep());
    let junit = tmp.path().join("junit.xml");
    let JsonRun { o, json, .. } = owm_json("sweep", &f, tmp.path(), &["--junit", &s(&junit)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(
        text.contains("violation at point 2 (workload.transactions=300, cow, seed 1)"),
        "{text}"
    );
    assert!(!text.contains("violation at point 0"), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4 * 9);
    let with = |tag: &str| -> Vec<&roxmltree::Node> {
        cases
            .iter()
            .filter(|c| c.children().any(|k| k.has_tag_name(tag)))
            .collect()
    };
    let failed = with("failure");
    assert!(!failed.is_empty());
    assert!(failed
        .iter()
        .all(|c| c.attribute("classname").unwrap().contains("cow")));
    let skipped = with("skipped");
    assert!(skipped.iter().any(|c| c
        .attribute("classname")
        .unwrap()
        .contains("crash-consistent")
        && c.attribute("name") == Some("A-consistent")));
    assert!(skipped.iter().all(|c| c
        .children()
        .find(|k| k.has_tag_name("skipped"))
        .and_then(|k| k.attribute("message"))
        .unwrap()
        .starts_with("not claimed by ")));
    let root = doc.root_element();
    assert_eq!(
        root.attribute("failures"),
        Some(failed.len().to_string().as_str())
    );
    // The JSON verdict agrees: as many violated cases.
    let v = read_json(&json);
    let violated = json_cases(&v)
        .iter()
        .filter(|c| c["verdict"] == "violated")
        .count();
    assert_eq!(violated, failed.len());
    assert_eq!(v["seeds"], serde_json::json!([1, 2]));
    // Allowed: exit 0, same files.
    let o = owm(&[
        "sweep",
        &f,
        "--out",
        &s(&tmp.path().join("o")),
        "--allow-violations",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// Each grid point's suite names the command that reruns that point alone, in its
/// JUnit properties, its failures' text and the JSON's `suite_reproduce`; run, the
/// command of every violated point exits 1 and gives that point's `sweep.csv` row, and
/// nothing else. JUnit classnames hold no `.` (Jenkins would split them into packages),
/// the suites' names keep theirs.
#[test]
fn a_violated_points_command_reruns_that_point_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "bank.toml", &violating_sweep());
    let junit = tmp.path().join("junit.xml");
    let JsonRun { o, json, out } = owm_json("sweep", &f, tmp.path(), &["--junit", &s(&junit)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let whole = String::from_utf8(bytes(&out, "sweep.csv")).unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let v = read_json(&json);
    let by_suite = v["suite_reproduce"].as_object().unwrap();
    let mut rerun = 0;
    for suite in doc.descendants().filter(|n| n.has_tag_name("testsuite")) {
        let name = suite.attribute("name").unwrap();
        assert!(name.contains("workload.transactions=300"), "{name}");
        let property = suite
            .descendants()
            .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("reproduce"))
            .unwrap_or_else(|| panic!("{name}: no reproduce property"));
        let command = property.attribute("value").unwrap();
        assert_eq!(by_suite[name], command, "{name}");
        for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
            assert!(!case.attribute("classname").unwrap().contains('.'));
        }
        let Some(failure) = suite.descendants().find(|n| n.has_tag_name("failure")) else {
            continue;
        };
        assert!(
            failure
                .text()
                .unwrap()
                .ends_with(&format!("reproduce: {command}")),
            "{:?}",
            failure.text()
        );
        // `owm sweep FILE --shard K/N --out point-I`, its output moved into the tempdir.
        let words = shlex::split(command).unwrap();
        assert_eq!(&words[..2], ["owm", "sweep"], "{command}");
        let index: usize = words[6].strip_prefix("point-").unwrap().parse().unwrap();
        let out = tmp.path().join(&words[6]);
        let mut args: Vec<String> = words[1..5].to_vec();
        args.extend(["--out".into(), s(&out), "--quiet".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = owm(&args);
        assert_eq!(o.status.code(), Some(1), "{command}: {}", stderr(&o));
        let point = String::from_utf8(bytes(&out, "sweep.csv")).unwrap();
        let rows: Vec<&str> = point.lines().skip(1).collect();
        assert_eq!(rows.len(), 1, "{point}");
        assert_eq!(whole.lines().nth(index + 1), Some(rows[0]), "{command}");
        rerun += 1;
    }
    assert!(rerun >= 1, "no violated point");
}

/// A grid point that hits a limit is reported (in the output, the CSV row with empty
/// metrics, the verdict) and the other points still run; the sweep exits 3.
#[test]
fn a_failed_point_is_reported_and_the_grid_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "limits.toml", &failing_sweep());
    let out = tmp.path().join("o");
    let o = owm(&["sweep", &f, "--out", &s(&out)]);
    assert_eq!(o.status.code(), Some(3), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("failed: point 0 (limits.events_max=25"),
        "{}",
        stdout(&o)
    );
    let csv = String::from_utf8(bytes(&out, "sweep.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[0].starts_with("0,25,cow,1,,"), "{csv}");
    assert!(rows[1].starts_with("1,200000000,cow,1,20,"), "{csv}");
}

/// [`SWEEP`] with one grid point (index 0) that hits its event limit while it runs (25
/// events: more than its 20 transactions' arrivals, so not refused before it starts).
pub fn failing_sweep() -> String {
    SWEEP
        .replace(
            "policies = [\"mirroring\", \"cow\"]\nseeds = [1, 2]",
            "policies = [\"cow\"]",
        )
        .replace(
            "key = \"workload.write_fraction\"\nvalues = [0.2, 0.8]",
            "key = \"limits.events_max\"\nvalues = [25, 200000000]",
        )
}

/// A clean sweep: 2 write fractions x 2 OWM variants x 2 seeds.
pub const SWEEP: &str = r#"
policies = ["mirroring", "cow"]
seeds = [1, 2]
metrics = ["committed"]

[[axis]]
key = "workload.write_fraction"
values = [0.2, 0.8]

[scenario.workload]
kind = "generated"
records = 64
transactions = 20
"#;

fn shards(tmp: &Path) -> (String, String, String) {
    let f = write(tmp, "s.toml", SWEEP);
    let p1 = s(&tmp.join("p1"));
    let p2 = s(&tmp.join("p2"));
    ok(&owm(&["sweep", &f, "--shard", "1/2", "--out", &p1]));
    ok(&owm(&["sweep", &f, "--shard", "2/2", "--out", &p2]));
    (f, p1, p2)
}

fn edit(dir: &str, file: &str, from: &str, to: &str) {
    let p = Path::new(dir).join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{file} lacks {from}:\n{text}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

/// Every merge refusal names the shard K/N (and the grid index where there is one) and
/// exits 2: an edited metric, axis value, policy or seed (the rows' digest), an edited
/// sweep file or shard.toml, rows that do not match their grid points even with a
/// matching digest, a missing or duplicated shard, and `--out` equal to an input or
/// inside one.
#[test]
fn merge_refuses_edited_missing_duplicated_or_overwritten_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let (_f, p1, p2) = shards(tmp.path());
    let out = s(&tmp.path().join("m"));
    ok(&owm(&["merge", &p1, &p2, "--out", &out]));
    let refuse = |args: &[&str], needles: &[&str]| {
        let o = owm(args);
        fails_with(&o, needles);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    };
    refuse(
        &["merge", &p1, &p2, "--out", &p1],
        &["--out", "one of the input shards"],
    );
    // Inside one (not there yet, or there): the merged files would land in a shard.
    let inner = s(&std::path::Path::new(&p1).join("inner"));
    let inside = ["merge", &p1, &p2, "--out", &inner];
    refuse(&inside, &["--out", "is inside the input shard"]);
    assert!(
        !std::path::Path::new(&inner).exists(),
        "nothing made in the shard"
    );
    std::fs::create_dir(&inner).unwrap();
    refuse(&inside, &["--out", "is inside the input shard"]);
    std::fs::remove_dir(&inner).unwrap();
    refuse(
        &["merge", &p1, "--out", &out],
        &["shard 2/2 is missing", "grid index 1"],
    );
    refuse(
        &["merge", &p1, &p2, &p2, "--out", &out],
        &["shard 2/2", "given twice"],
    );
    // Edits of the rows: a metric value, an axis value, a policy, a seed.
    for (from, to) in [
        (",mirroring,1,20,", ",mirroring,1,21,"),
        ("0,0.2,", "0,0.3,"),
        (",mirroring,1,", ",cow,1,"),
        (",mirroring,1,", ",mirroring,7,"),
    ] {
        let (_f, q1, q2) = shards(&tmp.path().join(format!("e{}", to.len())).tap_mkdir());
        edit(&q1, "sweep.csv", from, to);
        refuse(
            &["merge", &q1, &q2, "--out", &out],
            &["shard 1/2", "sweep.csv does not match the digest"],
        );
    }
    // The sweep file and shard.toml.
    let (_f, q1, q2) = shards(&tmp.path().join("sf").tap_mkdir());
    edit(&q2, "sweep.toml", "records = 64", "records = 65");
    refuse(
        &["merge", &q1, &q2, "--out", &out],
        &["shard 2/2", "sweep.toml does not match"],
    );
    let (_f, q1, q2) = shards(&tmp.path().join("st").tap_mkdir());
    edit(&q2, "shard.toml", "shard = \"2/2\"", "shard = \"1/2\"");
    refuse(
        &["merge", &q1, &q2, "--out", &out],
        &["shard 1/2", "given twice"],
    );
    // A row moved to another grid index, with its digest recomputed: the grid check
    // catches it and names the index.
    let (_f, q1, q2) = shards(&tmp.path().join("gi").tap_mkdir());
    edit(&q1, "sweep.csv", "\n2,0.2,", "\n6,0.2,");
    let csv = std::fs::read(Path::new(&q1).join("sweep.csv")).unwrap();
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&csv)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let marker = std::fs::read_to_string(Path::new(&q1).join("shard.toml")).unwrap();
    let line = marker
        .lines()
        .find(|l| l.starts_with("rows_sha256"))
        .unwrap()
        .to_string();
    std::fs::write(
        Path::new(&q1).join("shard.toml"),
        marker.replace(&line, &format!("rows_sha256 = \"{digest}\"")),
    )
    .unwrap();
    refuse(
        &["merge", &q1, &q2, "--out", &out],
        &["shard 1/2", "grid index 6"],
    );
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

/// SIGINT during a run: it stops before the next policy, writes nothing, leaves the
/// earlier output as it was, says so, and exits 3.
#[test]
fn sigint_stops_a_run_with_exit_3_and_keeps_the_old_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(&owm(&["run", "scenarios/fig3.toml", "--out", &s(&out)]));
    let before: Vec<Vec<u8>> = names(&out).iter().map(|n| bytes(&out, n)).collect();
    let o = interrupt_at(
        &[
            "run",
            "scenarios/fig3.toml",
            "--seed",
            "2",
            "--out",
            &s(&out),
        ],
        "policy quiesce",
    );
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("interrupted before policy quiesce"),
        "{}",
        stdout(&o)
    );
    let after: Vec<Vec<u8>> = names(&out).iter().map(|n| bytes(&out, n)).collect();
    assert!(before == after, "the earlier output is untouched");
}

/// SIGINT between policies writes verdict files like a run stopped by a limit: the
/// verdicts of every policy that finished (as many cases as the uninterrupted run has
/// for them, the same verdicts), and the interrupt as a failed case `run` of the policy
/// it stopped, in the JSON (`failed`) and in JUnit (an `<error>`), with exit 3.
#[test]
fn an_interrupted_run_keeps_the_finished_policies_verdicts_and_names_the_interrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let (junit, whole_junit) = (tmp.path().join("v.xml"), tmp.path().join("w.xml"));
    let fig3 = "scenarios/fig3.toml";
    let whole_dir = tmp.path().join("whole");
    let whole = owm_json(
        "run",
        fig3,
        &whole_dir,
        &["--seed", "2", "--junit", &s(&whole_junit)],
    );
    ok(&whole.o);
    let cut = tmp.path().join("cut");
    let (args, _, json) = json_args("run", fig3, &cut, &["--seed", "2", "--junit", &s(&junit)]);
    let o = interrupt_at(&args, "policy quiesce");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let (v, w) = (read_json(&json), whole.verdict());
    assert_eq!(
        (v["exit"].as_str(), v["exit_code"].as_u64()),
        (Some("incomplete"), Some(3))
    );
    let cases = json_cases(&v);
    // The policies before quiesce finished: each of their cases as the whole run's.
    let finished: Vec<&serde_json::Value> = cases.iter().filter(|c| c["name"] != "run").collect();
    assert!(!finished.is_empty(), "no finished policy's verdicts: {v}");
    for c in &finished {
        assert_ne!(c["suite"], "quiesce", "{c}");
        let suite = c["suite"].as_str().unwrap();
        assert_eq!(
            *c,
            json_case(&w, suite, c["name"].as_str().unwrap()),
            "{suite}"
        );
    }
    let suites: std::collections::BTreeSet<&str> = finished
        .iter()
        .map(|c| c["suite"].as_str().unwrap())
        .collect();
    let whole_cases = json_cases(&w)
        .iter()
        .filter(|c| suites.contains(c["suite"].as_str().unwrap()))
        .count();
    assert_eq!(finished.len(), whole_cases);
    // Stdout prints the finished policies' tables, as the verdict files hold them,
    // before the line naming the interrupt.
    let text = stdout(&o);
    let mut names: Vec<String> = finished
        .iter()
        .map(|c| c["suite"].as_str().unwrap().to_string())
        .collect();
    names.dedup();
    let (rows, columns) = printed_policies(&text);
    assert_eq!((&rows, &columns), (&names, &names), "{text}");
    let said = text
        .find("interrupted before policy quiesce")
        .expect("the stop");
    assert!(text.find("invariant ").is_some_and(|t| t < said), "{text}");
    let run = json_case(&v, "quiesce", "run");
    assert_eq!(run["verdict"], "failed", "{run}");
    assert!(
        run["reason"].as_str().unwrap().contains("interrupted"),
        "{run}"
    );
    assert_eq!(cases.len(), finished.len() + 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!("tests=\"{}\"", cases.len())) && xml.contains("errors=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains("<error") && xml.contains("interrupted"),
        "{xml}"
    );
    assert!(stdout(&o).contains("exit 3"), "{}", stdout(&o));
}

/// SIGINT inside the only policy of a long run (no policy boundary to stop at): the
/// simulator stops at its next progress point, nothing is written, the earlier output
/// stays as it was, no staging directory is left, and the run exits 3. The signal is
/// sent once the run has printed its first progress line (every 4,096 events with
/// `OWM_PROGRESS_INTERVAL_MS=0`), far from its end.
#[test]
fn sigint_inside_the_last_policy_stops_the_run_with_exit_3() {
    use std::io::{BufRead, Read};
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(&owm(&["run", "scenarios/fig3.toml", "--out", &s(&out)]));
    let before: Vec<Vec<u8>> = names(&out).iter().map(|n| bytes(&out, n)).collect();
    // About 10^6 events: hundreds of progress points.
    let f = write(
        tmp.path(),
        "long.toml",
        "policies = [\"cow\"]\nkeep_timeline = false\nkeep_history = false\n\
         [workload]\nkind = \"generated\"\nrecords = 65536\ntransactions = 200000\n\
         arrivals = { mode = \"open\", interarrival_ticks_mean = 300 }\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(["run", &f, "--out", &s(&out)])
        .current_dir(repo())
        .env("OWM_PROGRESS_INTERVAL_MS", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the owm binary runs");
    let mut err = std::io::BufReader::new(child.stderr.take().expect("piped"));
    let mut said = String::new();
    loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "no progress line:\n{said}"
        );
        said.push_str(&line);
        if line.starts_with("progress: 0/1 policies (cow: ") {
            break;
        }
    }
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    err.read_to_string(&mut said).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}\n{said}", stdout(&o));
    assert!(said.contains("interrupted: stopping"), "{said}");
    assert!(
        stdout(&o).contains("interrupted during policy cow: nothing written"),
        "{}",
        stdout(&o)
    );
    // Stopped early: far fewer progress points than the run has (the whole run's are
    // the events / 4,096, more than 200).
    let points = said.matches("progress: 0/1 policies").count();
    assert!(
        points < 200,
        "{points} progress points: the run went on\n{said}"
    );
    let after: Vec<Vec<u8>> = names(&out).iter().map(|n| bytes(&out, n)).collect();
    assert!(before == after, "the earlier output is untouched");
    let left = staging_left(tmp.path());
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

/// SIGINT once every policy has run, while the outputs are written (paused just before
/// they are published): the run stops there, publishes nothing, leaves the earlier
/// output as it was, says so and exits 3. SIGINT once the outputs are published (paused
/// inside the replacement of the earlier output) stops nothing: the run says it had
/// finished and exits 0 with the whole output.
#[test]
fn sigint_while_publishing_stops_or_says_the_run_had_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let fig3 = "scenarios/fig3.toml";
    ok(&owm(&["run", fig3, "--out", &s(&out)]));
    let before: Vec<Vec<u8>> = names(&out).iter().map(|n| bytes(&out, n)).collect();
    let args = ["run", fig3, "--seed", "2", "--out", &s(&out)];
    let o = interrupt_at(&args, "commit");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(
            "interrupted while writing the outputs, after every policy ran: nothing written"
        ),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("wrote "), "{}", stdout(&o));
    assert!(stdout(&o).contains("verdict: incomplete"), "{}", stdout(&o));
    let after: Vec<Vec<u8>> = names(&out).iter().map(|n| bytes(&out, n)).collect();
    assert!(before == after, "the earlier output is untouched");
    assert!(staging_left(tmp.path()).is_empty());

    let o = interrupt_at(&args, "replace");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("the run had finished, its outputs are complete; nothing was stopped"),
        "{}",
        stdout(&o)
    );
    let whole = tmp.path().join("whole");
    ok(&owm(&["run", fig3, "--seed", "2", "--out", &s(&whole)]));
    assert_eq!(names(&out), names(&whole));
    assert!(staging_left(tmp.path()).is_empty());
}

/// SIGINT while a sweep's outputs are written, every point done: nothing is published,
/// every point is kept, exit 3; `--resume` runs no point again and writes the bytes of
/// an uninterrupted sweep.
#[test]
fn sigint_while_a_sweep_publishes_keeps_every_point() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.toml", SWEEP);
    let whole = tmp.path().join("whole");
    ok(&owm(&["sweep", &f, "--out", &s(&whole)]));
    let out = tmp.path().join("o");
    let o = interrupt_at(&["sweep", &f, "--out", &s(&out)], "commit");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(
        stdout(&o)
            .contains("interrupted while writing the outputs: 8 of 8 grid points done and kept"),
        "{}",
        stdout(&o)
    );
    assert!(!out.exists(), "nothing published");
    let o = owm(&["sweep", &f, "--out", &s(&out), "--resume"]);
    ok(&o);
    assert!(
        stdout(&o).contains("resuming: 8 grid points kept"),
        "{}",
        stdout(&o)
    );
    for n in names(&whole) {
        assert!(bytes(&out, &n) == bytes(&whole, &n), "{n} differs");
    }
}

/// SIGINT during a sweep keeps the finished grid points; `--resume` runs only the rest
/// and writes exactly the bytes of an uninterrupted sweep.
#[test]
fn an_interrupted_sweep_resumes_to_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.toml", SWEEP);
    let whole = tmp.path().join("whole");
    let w = owm(&["sweep", &f, "--out", &s(&whole)]);
    ok(&w);
    let out = tmp.path().join("o");
    // One job: with several, another thread may finish point 6 while point 5 is paused.
    let o = interrupt_at(&["sweep", &f, "--out", &s(&out), "--jobs", "1"], "point 5");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("5 of 8 grid points done and kept"),
        "{}",
        stdout(&o)
    );
    // The verdict line counts the cases of the points done (every point has as many:
    // its policy's invariants), not none, and one failed case for each point not run.
    let cases = |o: &std::process::Output| -> usize {
        let out = stdout(o);
        let line = out
            .lines()
            .find(|l| l.starts_with("verdict: "))
            .unwrap_or_default();
        let n = line.split(" (").nth(1).and_then(|r| r.split(' ').next());
        n.and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no case count: {out}"))
    };
    assert_eq!((cases(&o) - 3) * 8, cases(&w) * 5, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("verdict: incomplete ("),
        "{}",
        stdout(&o)
    );
    assert!(!out.exists(), "nothing written on an interrupt");
    let o = owm(&["sweep", &f, "--out", &s(&out), "--resume"]);
    ok(&o);
    assert!(
        stdout(&o).contains("resuming: 5 grid points kept"),
        "{}",
        stdout(&o)
    );
    assert_eq!(names(&out), names(&whole));
    for n in names(&whole) {
        assert!(bytes(&out, &n) == bytes(&whole, &n), "{n} differs");
    }
    assert!(
        !names(tmp.path()).iter().any(|n| n.ends_with(".points")),
        "the kept points are removed once the sweep completes"
    );
}

/// A crash-consistent backup taken with about 150 OLD transactions still active, and
/// 14 quiesce backups given up: the lists of transactions and of times in the messages
/// (stdout, `--json`, `--junit`) name the first 10 and count the rest (`… and N
/// more`), so no line runs to thousands of ids.
#[test]
fn long_lists_of_ids_in_messages_are_bounded_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let workload = "[workload]\nkind = \"generated\"\nrecords = 4096\ntransactions = 3000\n\
                    compute_ticks_min = 2000\ncompute_ticks_max = 4000\n\
                    arrivals = { mode = \"open\", interarrival_ticks_mean = 1 }\n";
    let f = write(
        tmp.path(),
        "many.toml",
        &format!(
            "policies = [\"crash-consistent\"]\n{workload}[backup]\nrequest_at_ticks = 1000\n"
        ),
    );
    let junit = tmp.path().join("v.xml");
    let JsonRun { o, json, .. } = owm_json("run", &f, tmp.path(), &["--junit", &s(&junit)]);
    ok(&o);
    let out = stdout(&o);
    let note = "OLD txns still active when A was declared consistent: [";
    let line = out
        .lines()
        .find(|l| l.contains(note))
        .unwrap_or_else(|| panic!("no list of OLD transactions:\n{out}"));
    let list = line.split(note).nth(1).unwrap();
    let list = &list[..list.find(']').expect("the list's end")];
    let (ids, more) = list.split_once(", … and ").expect("a counted tail");
    assert_eq!(ids.split(", ").count(), 10, "{line}");
    assert!(ids.split(", ").all(|t| t.parse::<u64>().is_ok()), "{line}");
    let more: u64 = more.trim_end_matches(" more").parse().unwrap();
    assert!(more > 100, "{line}");
    assert!(out.lines().all(|l| l.chars().count() < 1000), "{out}");
    // The machine-readable verdicts carry the same bounded text.
    let v = read_json(&json);
    let detail = json_case(&v, "crash-consistent", "A-consistent")["observed"]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(line.ends_with(&detail), "{line}\n{detail}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.len() < 20_000, "{xml}");
    // A list of times: 14 cycles given up at their quiesce deadlines.
    let f = write(
        tmp.path(),
        "lost.toml",
        &format!(
            "policies = [\"quiesce\"]\n{workload}[backup]\nrequest_at_ticks = 100\n\
             period_ticks = 100\ncycles = 14\nquiesce_deadline_ticks = 1\n\
             quiesce_retries_max = 0\n"
        ),
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("l"))]);
    ok(&o);
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("14 backups given up under quiesce at "))
        .unwrap_or_else(|| panic!("no lost backup line:\n{out}"));
    assert!(
        line.contains(", … and 4 more ticks (each after missing its quiesce deadline once)"),
        "{line}"
    );
    let times = line
        .trim_start_matches("14 backups given up under quiesce at ")
        .split(", … and")
        .next()
        .unwrap();
    assert_eq!(times.split(", ").count(), 10, "{line}");
}

/// A usage error the flag parser refuses (a value out of its range, not a number, an
/// unknown name, flags that conflict, an unknown flag) still rewrites the `--json` and
/// `--junit` files its arguments name with the error as a failed case `run` and
/// `exit_code` 2, so a workspace that held a passing verdict never shows it beside a
/// process that exited 2; a verdict path that is also the command's input (the
/// scenario) is not written over.
#[test]
fn a_usage_error_rewrites_the_verdict_files_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    let (json, xml, traces) = (
        s(&tmp.path().join("v.json")),
        s(&tmp.path().join("v.xml")),
        s(&tmp.path().join("t")),
    );
    let base = [
        "check",
        "--threads",
        "1",
        "--trace-dir",
        &traces,
        "--json",
        &json,
        "--junit",
        &xml,
    ];
    for bad in [
        &["--old", "abc"][..],
        &["--threads", "0"],
        &["--timeout", "0"],
        &["--variant", "foo"],
        &["--simulate", "--dfs"],
        &["--bogus"],
    ] {
        let held = owm(&base);
        assert_eq!(code(&held), 0, "{}", stderr(&held));
        assert_eq!(read_json(Path::new(&json))["exit_code"], 0);
        let o = owm(&[&base[..], bad].concat());
        assert_eq!(code(&o), 2, "{bad:?}: {}", stderr(&o));
        let v = read_json(Path::new(&json));
        assert_eq!(v["exit_code"], 2, "{bad:?}: {v}");
        let cases = json_cases(&v);
        assert_eq!(cases.len(), 1, "{bad:?}: {v}");
        assert_eq!(cases[0]["verdict"], "failed", "{v}");
        let first = stderr(&o).lines().next().unwrap_or_default().to_string();
        let reason = cases[0]["reason"].as_str().unwrap();
        assert!(
            first.contains(reason.split(':').next().unwrap()),
            "{bad:?}: {reason} / {first}"
        );
        let junit = std::fs::read_to_string(&xml).unwrap();
        assert!(junit.contains("<testcase name=\"run\""), "{junit}");
        assert!(!junit.contains("failures=\"0\" errors=\"0\""), "{junit}");
    }
    let sweep_json = s(&tmp.path().join("w.json"));
    std::fs::write(&sweep_json, "{}").unwrap();
    let o = owm(&[
        "sweep",
        "scenarios/sweep-space.toml",
        "--jobs",
        "0",
        "--json",
        &sweep_json,
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(read_json(Path::new(&sweep_json))["exit_code"], 2);
    // The scenario named as the JSON file too is the run's input: left as it was.
    let scenario = write(tmp.path(), "s.toml", "policies = [\"cow\"]\n");
    let o = owm(&["run", &scenario, "--json", &scenario, "--bogus"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&scenario).unwrap(),
        "policies = [\"cow\"]\n"
    );
}
