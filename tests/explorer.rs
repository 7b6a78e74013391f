//! `owm check --serve`: stateright's Explorer on the model, driven by headless Chromium.
//! The test starts the server on a violating configuration (record locks, two records
//! per block), asks its JSON API to search the whole space and for the path to the
//! B-complete counterexample, loads the page for that path in Chromium, and checks the
//! rendered text: the state in the patent's terms and the violated invariant. It skips,
//! saying so, where Chromium is not installed (`.ci/run` installs it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::util::{owm, repo, stderr};

/// The violating configuration of `model/tests/expected/record-locks-shared-block.txt`,
/// searched on one thread (the counterexample the Explorer links is then always the
/// same one).
const VIOLATING: [&str; 14] = [
    "--threads",
    "1",
    "--variant",
    "cow",
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
];

/// Tries of a bounded poll, and the pause between two (the poll ends as soon as what it
/// waits for is there; the bound only stops a hung test).
const TRIES: u32 = 1200;
const PAUSE: Duration = Duration::from_millis(50);

/// A child process killed (and reaped) when dropped, so a failing assertion leaves no
/// server or browser behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    /// Waits, a bounded number of polls, for the process to end; its output.
    fn wait_output(mut self, what: &str) -> Output {
        for _ in 0..TRIES {
            if self.0.try_wait().expect("try_wait").is_some() {
                let mut out = Vec::new();
                let mut err = Vec::new();
                if let Some(mut s) = self.0.stdout.take() {
                    s.read_to_end(&mut out).unwrap();
                }
                if let Some(mut s) = self.0.stderr.take() {
                    s.read_to_end(&mut err).unwrap();
                }
                let status = self.0.wait().expect("reaped");
                return Output {
                    status,
                    stdout: out,
                    stderr: err,
                };
            }
            std::thread::sleep(PAUSE);
        }
        panic!("{what} did not end within {TRIES} polls");
    }
}

/// The Chromium binary, or `None` (and a message) where there is none.
fn chromium() -> Option<&'static str> {
    for name in ["chromium", "chromium-browser"] {
        let runs = Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if runs {
            return Some(name);
        }
    }
    eprintln!(
        "SKIPPED: the Explorer browser test needs Chromium (`apt-get install chromium`; .ci/run installs it)"
    );
    None
}

/// One HTTP/1.0 request; the response body. Panics on a status other than 200.
fn http(addr: &str, method: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the Explorer");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).expect("a response");
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{method} {path}: {head}"
    );
    body.to_string()
}

/// Starts `owm check --serve 127.0.0.1:0 <flags>` and returns it with the address it
/// printed, once that address accepts connections.
fn start_explorer(flags: &[&str]) -> (Killed, String) {
    let mut args = vec!["check", "--serve", "127.0.0.1:0"];
    args.extend(flags);
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_owm"))
            .args(&args)
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the owm binary runs"),
    );
    let mut out = BufReader::new(child.0.stdout.take().expect("piped"));
    let mut said = String::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "owm printed no URL:\n{said}"
        );
        said += &line;
        if let Some(url) = line.trim().strip_prefix("explorer: http://") {
            break url.trim_end_matches('/').to_string();
        }
    };
    assert!(
        said.contains("model: --variant cow --old 1 --new 1"),
        "{said}"
    );
    let up = (0..TRIES).any(|_| {
        let ok = TcpStream::connect(&addr).is_ok();
        if !ok {
            std::thread::sleep(PAUSE);
        }
        ok
    });
    assert!(up, "the Explorer never listened on {addr}");
    child.0.stdout = Some(out.into_inner());
    (child, addr)
}

/// The discovery path of `property` once the whole space was searched.
fn discovery(addr: &str, property: &str) -> String {
    http(addr, "POST", "/.runtocompletion");
    for _ in 0..TRIES {
        let status: serde_json::Value =
            serde_json::from_str(&http(addr, "GET", "/.status")).expect("status JSON");
        if status["done"] == true {
            // The configuration's pinned size (model/tests/model.rs).
            assert_eq!(status["unique_state_count"], 169, "{status}");
            let p = status["properties"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p[1] == property)
                .unwrap_or_else(|| panic!("{property} in {status}"));
            return p[2]
                .as_str()
                .unwrap_or_else(|| panic!("no counterexample to {property}: {status}"))
                .to_string();
        }
        std::thread::sleep(PAUSE);
    }
    panic!("the Explorer's search did not finish within {TRIES} polls");
}

#[test]
fn explorer_shows_a_counterexample_in_patent_terms_in_chromium() {
    let Some(browser) = chromium() else { return };
    let (server, addr) = start_explorer(&VIOLATING);
    let path = discovery(&addr, "B-complete");
    assert!(path.starts_with("0/"), "{path}");

    // The JSON API agrees before the browser looks: the last state of the path is
    // the violating one, told in patent terms.
    let (parent, _) = path.rsplit_once('/').unwrap();
    let steps = http(&addr, "GET", &format!("/.states/{parent}"));
    assert!(steps.contains("VIOLATED B-complete"), "{steps}");

    let profile = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/#/steps/{path}");
    let page = Killed(
        Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                // Virtual time waits for the page's fetches before the DOM is dumped.
                "--virtual-time-budget=20000",
                &format!("--user-data-dir={}", profile.path().display()),
                "--dump-dom",
                &url,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium runs"),
    )
    .wait_output("chromium --dump-dom");
    let dom = String::from_utf8_lossy(&page.stdout);
    assert!(page.status.success(), "chromium: {}", stderr(&page));
    for needle in [
        // stateright's page, on our model, with the search done.
        "Stateright Explorer",
        "OneWayMirror",
        "Counterexample found",
        // The path of actions, in patent terms.
        "backup request: split into VLUN A and VLUN B",
        "T1 (new, VLUN B) writes record 1",
        "VLUN A declared consistent",
        // The selected state: each transaction's stage, the VLUNs, the violation.
        "T0 old on VLUN A, transfer 1 from record 0 to record 2: committed",
        "T1 new on VLUN B, transfer 2 from record 1 to record 3: committed",
        "VLUN B: r0=99 (T0), r1=",
        "VLUN A as declared consistent:",
        "VIOLATED B-complete: B-complete violated",
    ] {
        assert!(
            dom.contains(needle),
            "`{needle}` not on the page {url}:\n{dom}"
        );
    }

    // Ctrl-C stops the server: exit 3, no verdict claimed.
    let pid = server.0.id() as libc::pid_t;
    // SAFETY: `pid` is our own child, still running (killed only on drop).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = server.wait_output("owm check --serve after SIGINT");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("explorer stopped"),
        "{}",
        stderr(&out)
    );
}

/// SIGINT (Ctrl-C) and SIGTERM (a job cancelled) each stop the Explorer with exit 3,
/// and its last word names the signal that did.
#[test]
fn explorer_stopped_by_a_signal_names_it() {
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let (server, _) = start_explorer(&VIOLATING);
        let pid = server.0.id() as libc::pid_t;
        // SAFETY: `pid` is our own child, still running (killed only on drop).
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let out = server.wait_output(&format!("owm check --serve after {name}"));
        assert_eq!(out.status.code(), Some(3), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "explorer stopped ({name}): no verdict claimed; exit 3"
            )),
            "{name}: {}",
            stderr(&out)
        );
    }
}

/// The random walks' flags beside `--serve` are refused (exit 2) as the flags of what
/// the Explorer does not do, never silently ignored; the address is taken, so a flag
/// let through would fail later for another reason, not serve.
#[test]
fn explorer_refuses_the_walk_flags() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for flag in [
        &["--simulate"][..],
        &["--seed", "3"][..],
        &["--walks", "5"][..],
        &["--shard", "1/2"][..],
    ] {
        let mut args = vec!["check", "--serve", &addr];
        args.extend(flag);
        let o = owm(&args);
        assert_eq!(o.status.code(), Some(2), "{flag:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "the argument '--serve <ADDR>' cannot be used with '{}",
                flag[0]
            )),
            "{flag:?}: {}",
            stderr(&o)
        );
        assert!(
            o.stdout.is_empty(),
            "{flag:?}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn explorer_on_an_address_in_use_is_bad_input() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut args = vec!["check", "--serve", &addr];
    args.extend(VIOLATING);
    let o = owm(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot listen"), "{}", stderr(&o));
    let o = owm(&["check", "--serve", "not-an-address"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// `--depth D`: a state at depth D (the initial state is depth 1) has no actions, in
/// the Explorer's steps and in its search, which finishes short of the whole space.
#[test]
fn explorer_stops_at_the_depth_bound() {
    let mut flags = VIOLATING.to_vec();
    flags.extend(["--depth", "3"]);
    let (_server, addr) = start_explorer(&flags);
    // Depth 2 (one step taken): actions enabled; depth 3: none.
    let at_2 = http(&addr, "GET", "/.states/0/0");
    assert!(at_2.trim() != "[]" && at_2.contains("action"), "{at_2}");
    let at_3 = http(&addr, "GET", "/.states/0/0/0");
    assert_eq!(at_3.trim(), "[]", "a state at the bound has no actions");
    http(&addr, "POST", "/.runtocompletion");
    for _ in 0..TRIES {
        let status: serde_json::Value =
            serde_json::from_str(&http(&addr, "GET", "/.status")).expect("status JSON");
        if status["done"] == true {
            let unique = status["unique_state_count"].as_u64().unwrap();
            // More than the initial state and its successors, less than the whole
            // space (169 states: `discovery`).
            assert!(unique > 2 && unique < 169, "{status}");
            assert_eq!(status["max_depth"], 3, "{status}");
            return;
        }
        std::thread::sleep(PAUSE);
    }
    panic!("the bounded search did not finish within {TRIES} polls");
}

/// `--states-max` and `--timeout` cannot bound stateright's Explorer: refused, naming
/// the flag, before anything is served (exit 2); the refusal suggests `--depth`, the
/// bound the Explorer honours, only when it is not given already.
#[test]
fn explorer_refuses_a_state_or_time_budget() {
    for (budget, depth) in [
        (["--states-max", "100"], None),
        (["--timeout", "5"], None),
        (["--states-max", "100"], Some("5")),
        (["--timeout", "5"], Some("5")),
    ] {
        let mut args = vec!["check", "--serve", "127.0.0.1:0"];
        args.extend(VIOLATING);
        args.extend(budget);
        if let Some(d) = depth {
            args.extend(["--depth", d]);
        }
        let o = owm(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("error: {} cannot bound the Explorer", budget[0])),
            "{err}"
        );
        // A flag the Explorer cannot honour is not a model setting.
        assert!(!err.contains("invalid model configuration"), "{err}");
        let instead = match depth {
            None => format!("; bound it by --depth, or drop {}", budget[0]),
            Some(d) => format!("; drop {} (--depth {d} bounds it)", budget[0]),
        };
        assert!(err.contains(&instead), "{err}");
        assert_eq!(
            err.contains("bound it by --depth"),
            depth.is_none(),
            "{err}"
        );
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("explorer: http://"),
            "refused before serving"
        );
    }
}
