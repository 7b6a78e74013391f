//! `owm device split|status|backup|retire|abandon|detach|timings`: the life cycle of a device that
//! `owm serve` is serving, through its control socket (protocol in
//! `serve/src/control.rs`: one JSON line each way).
//!
//! Exit status: 0 when the server did it; 1 when it refused (the message names why,
//! e.g. `out-of-order: cannot retire VLUN A: no backup of it has completed`,
//! `archive-lost: cannot retire VLUN A: its recorded archive … cannot be found`, or
//! `busy: … another backup of this device, or an abandon of its VLUN A, is running`), could not be reached, or closed
//! the connection without replying (it stopped or crashed during the request)
//! ([`crate::verdict::Refused`]); 2 for bad usage (a `--to` that is a directory, a
//! device or a pipe, or one of the device's own files: the server's `bad-request`).
//! With `--json` the server's reply is printed as is, on success and on refusal; a
//! refusal made before the server answered is printed the same way: `bad-request` for a
//! `--to` refused here, `unreachable` for a socket that cannot be reached or is no
//! control socket, `no-reply` for a server that closed the connection without
//! replying (or left a `status` unanswered past its deadline), `interrupted` for a
//! client cancelled while it waited (SIGINT, SIGTERM: exit 130, 143).
//! A refusal carries the path it is about as `path` (`--to`, or the control socket
//! when it could not be reached or gave no reply), so a reader has the path itself
//! where the message shows it escaped.

use engine::shown::ShowName as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::verdict::Refused;

/// Arguments of `owm device`.
#[derive(clap::Args)]
pub struct DeviceArgs {
    #[command(subcommand)]
    pub op: DeviceOp,
    /// The device directory `owm serve` serves (its control socket is DIR/control.sock).
    #[arg(global = true, long, default_value = ".")]
    pub dir: PathBuf,
    /// The control socket, when `owm serve --control` put it elsewhere.
    #[arg(global = true, long)]
    pub control: Option<PathBuf>,
    /// Print the server's reply as one JSON object.
    #[arg(global = true, long)]
    pub json: bool,
}

#[derive(clap::Subcommand)]
pub enum DeviceOp {
    /// The backup request: VLUN B is created from VLUN A (the export `vlun-b` appears).
    Split,
    /// Phase, lookup-table entries, extra space in use, and whether an archive completed.
    Status,
    /// Stream VLUN A to an archive file (raw image); VLUN A is read-only from now on.
    Backup {
        /// The archive file to write (a raw image of VLUN A), replaced whole once the
        /// copy is complete (through a symbolic link, the file it leads to; the link is
        /// kept). A link into /proc (/dev/stdout) or this command's own output file is
        /// refused (exit 2).
        #[arg(long)]
        to: PathBuf,
    },
    /// Discard VLUN A and free the variant's extra space (after a completed backup whose
    /// archive file is still there, whole).
    Retire,
    /// Drop VLUN A without a recorded archive and free the extra space (after a backup
    /// that failed, a pull backup over NBD, or a lost archive): VLUN B stays live and
    /// the phase becomes `retired`.
    Abandon,
    /// Copy VLUN B to a new raw image file and end the device (the server stops).
    Detach {
        /// The raw image file B' to write (a copy of VLUN B), replaced whole once the
        /// copy is complete, as backup's --to is.
        #[arg(long)]
        to: PathBuf,
    },
    /// The wall time of the engine's barriers (each image's flushes, the journal
    /// sync's fdatasync and superblock write) and of the block writes it served, by the
    /// barriers each paid, since the previous `timings` (a new interval begins), µs.
    Timings {
        /// Every sample too, in the order taken.
        #[arg(long)]
        samples: bool,
    },
}

pub fn device(args: &DeviceArgs) -> Result<()> {
    let socket = args
        .control
        .clone()
        .unwrap_or_else(|| args.dir.join("control.sock"));
    let abs = |p: &Path| {
        std::path::absolute(p)
            .with_context(|| format!("{}: cannot make the path absolute", p.shown()))
    };
    // A refusal made here, before the server is asked: under `--json` it is printed
    // as the server's would be (`{"ok":false,"kind":…,"error":…}`), with the `path`
    // it is about ([`with_path`]).
    let refuse_here = |kind: &str, error: String, path: &Path| {
        if args.json {
            let reply = json!({"ok": false, "kind": kind, "error": error});
            say!("{}", with_path(reply, path));
        }
        format!("{kind}: {error}")
    };
    if let DeviceOp::Backup { to } | DeviceOp::Detach { to } = &args.op {
        // The request carries the path as JSON text: one that is not UTF-8 (itself,
        // or the working directory it is made absolute against) cannot be sent.
        if abs(to)?.to_str().is_none() {
            return Err(anyhow::anyhow!(refuse_here(
                "bad-request",
                format!(
                    "--to {}: the path (made absolute) is not UTF-8, and the request to the \
                     server carries it as UTF-8 text: name a file whose path is UTF-8",
                    to.shown()
                ),
                to,
            )));
        }
        // Only what is no regular file here: the server refuses the rest (its own
        // files first, then any other device's), naming which.
        engine::atomic::regular_or_absent(to).map_err(|e| {
            anyhow::anyhow!(refuse_here(
                "bad-request",
                format!("--to {}: {e}", to.shown()),
                to,
            ))
        })?;
    }
    let request = match &args.op {
        DeviceOp::Split => json!({"op": "split"}),
        DeviceOp::Status => json!({"op": "status"}),
        DeviceOp::Backup { to } => json!({"op": "backup", "to": abs(to)?}),
        DeviceOp::Retire => json!({"op": "retire"}),
        DeviceOp::Abandon => json!({"op": "abandon"}),
        DeviceOp::Detach { to } => json!({"op": "detach", "to": abs(to)?}),
        DeviceOp::Timings { samples } => json!({"op": "timings", "samples": samples}),
    };
    let op = request["op"].as_str().unwrap_or_default();
    let to = match &args.op {
        DeviceOp::Backup { to } | DeviceOp::Detach { to } => Some(to.as_path()),
        _ => None,
    };
    // SIGINT or SIGTERM while the request waits for its reply: said as a refusal is
    // (a JSON object under --json), and the process ends 130 or 143.
    let (json_out, at, what) = (args.json, socket.clone(), op.to_string());
    crate::interrupt::on_first(move |signal| {
        let error = format!(
            "{signal}: stopped waiting for the reply to `{what}`; whether the server carried \
             it out is unknown: `owm device status` says"
        );
        if json_out {
            let reply = json!({"ok": false, "kind": "interrupted", "error": error});
            say!("{}", with_path(reply, &at));
        }
        tell!("error: {}: interrupted: {error}", at.shown());
        let code = if signal == "SIGTERM" { 143 } else { 130 };
        std::process::exit(code);
    })
    .with_context(|| "cannot watch for SIGINT and SIGTERM")?;
    // A status is answered at once by a live server: one that keeps it waiting is
    // stopped or hung. The other requests run as long as their work does.
    let deadline = matches!(args.op, DeviceOp::Status)
        .then(|| std::time::Duration::from_millis(status_reply_ms()));
    let reply = call(&socket, &request, deadline).map_err(|e| {
        Refused(match e {
            CallError::Refused(text) => refuse_here("unreachable", text, &socket),
            CallError::NoReply => refuse_here("no-reply", no_reply(&socket, op, to), &socket),
            CallError::NotTaken => refuse_here("no-reply", not_taken(&socket, op), &socket),
            CallError::NotControl(text) => refuse_here("unreachable", text, &socket),
            CallError::Late => refuse_here(
                "no-reply",
                format!(
                    "{}: no reply to `status` within {:.1} s: a live server answers it at \
                     once; the server is stopped (SIGSTOP) or hung",
                    socket.shown(),
                    deadline.unwrap_or_default().as_secs_f64()
                ),
                &socket,
            ),
        })
    })?;
    if args.json {
        // A refusal of a copy is about its `--to`.
        match (to, reply.get("ok") == Some(&Value::Bool(true))) {
            (Some(to), false) => say!("{}", with_path(reply.clone(), to)),
            _ => say!("{reply}"),
        }
    }
    if reply.get("ok") != Some(&Value::Bool(true)) {
        let kind = reply.get("kind").and_then(Value::as_str).unwrap_or("error");
        let msg = reply.get("error").and_then(Value::as_str).unwrap_or("");
        let text = format!("{}: {kind}: {msg}", socket.shown());
        if kind == "bad-request" {
            // The request itself was bad (a `to` the server will not write): exit 2.
            anyhow::bail!(text);
        }
        return Err(Refused(text).into());
    }
    if !args.json {
        print_human(&reply);
    }
    Ok(())
}

/// A refusal `reply` (`{"ok":false,"kind":…,"error":…}`) with the path it is about
/// (`--to` of a backup or detach, the control socket when the server could not be
/// reached or gave no reply) as `path`: the absolute path as it is (the `error` text
/// shows its control characters as `\xHH`; the JSON string holds them as they are),
/// or, when it is not UTF-8, the one shell word that names it
/// ([`crate::shell_word::json_path`]). A `path` the reply has already is kept.
fn with_path(mut reply: Value, path: &Path) -> Value {
    if let Some(o) = reply.as_object_mut() {
        o.entry("path")
            .or_insert_with(|| Value::String(crate::shell_word::json_path(path)));
    }
    reply
}

/// Why a request got no reply.
enum CallError {
    /// The socket could not be reached, written or read, or the reply is not JSON.
    Refused(String),
    /// The server closed the connection without a byte of reply.
    NoReply,
    /// The server closed the connection before the request could be sent: it never
    /// had it.
    NotTaken,
    /// The socket answered, but not as a control socket does (an NBD server's
    /// greeting, or other bytes that are not a JSON line).
    NotControl(String),
    /// No reply within the deadline [`call`] was given.
    Late,
}

/// How long `owm device status` waits for its reply: `OWM_STATUS_REPLY_MS`
/// milliseconds when set to a whole number above 0, else 10,000.
fn status_reply_ms() -> u64 {
    std::env::var("OWM_STATUS_REPLY_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .unwrap_or(10_000)
}

/// Sends one request and reads the one-line reply, waiting at most `deadline` for it
/// when one is given ([`CallError::Late`]).
fn call(
    socket: &Path,
    request: &Value,
    deadline: Option<std::time::Duration>,
) -> Result<Value, CallError> {
    let stream = UnixStream::connect(socket).map_err(|e| {
        CallError::Refused(format!(
            "{}: cannot reach the control socket (is `owm serve` running?): {e}",
            socket.shown()
        ))
    })?;
    if let Some(d) = deadline {
        stream
            .set_read_timeout(Some(d))
            .map_err(|e| CallError::Refused(format!("{}: {e}", socket.shown())))?;
    }
    exchange(&stream, socket, request)
}

/// [`call`] over a connected `stream` to `socket`: the request written as one line,
/// then the one-line reply read. A write the peer refused because it closed the
/// connection (a broken pipe, a reset) is [`CallError::NotTaken`]; a close with no
/// byte of reply, [`CallError::NoReply`].
fn exchange<S: Read + Write>(
    mut stream: S,
    socket: &Path,
    request: &Value,
) -> Result<Value, CallError> {
    let refused = CallError::Refused;
    if let Err(e) = writeln!(stream, "{request}") {
        return Err(match e.kind() {
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => {
                // What the peer sent before it closed tells a socket of another kind
                // (an NBD server greets first) from a control server that stopped.
                let mut sent = Vec::new();
                let _ = stream.read_to_end(&mut sent);
                match not_control(socket, &sent) {
                    Some(text) => CallError::NotControl(text),
                    None => CallError::NotTaken,
                }
            }
            _ => refused(format!("{}: write: {e}", socket.shown())),
        });
    }
    let mut line = Vec::new();
    let mut reader = BufReader::new(stream);
    match reader.read_until(b'\n', &mut line) {
        Ok(0) => return Err(CallError::NoReply),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && line.is_empty() => {
            return Err(CallError::NoReply)
        }
        // The read timeout a deadline sets ([`call`]) passed with no reply.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            return Err(CallError::Late)
        }
        Err(e) if line.is_empty() => return Err(refused(format!("{}: read: {e}", socket.shown()))),
        Err(_) => {}
    }
    serde_json::from_slice(&line).map_err(|e| {
        not_control(socket, &line).map_or_else(
            || {
                refused(format!(
                    "{}: not a JSON reply: {:?}: {e}",
                    socket.shown(),
                    String::from_utf8_lossy(&line)
                ))
            },
            CallError::NotControl,
        )
    })
}

/// The message for a socket that answered `sent`, if that is an NBD server's greeting
/// (`NBDMAGIC`): a `--control` naming the NBD socket. `None` otherwise.
fn not_control(socket: &Path, sent: &[u8]) -> Option<String> {
    sent.starts_with(b"NBDMAGIC").then(|| {
        format!(
            "{}: not the control socket of `owm serve`: an NBD server's socket (it sent \
             the NBD greeting); --control names the control socket (DIR/control.sock \
             unless `owm serve --control` put it elsewhere)",
            socket.shown()
        )
    })
}

/// The message for a request `op` the server closed without replying to; for a copy
/// to `to` (backup, detach), what became of it.
fn no_reply(socket: &Path, op: &str, to: Option<&Path>) -> String {
    let mut text = format!(
        "{}: the server closed the control connection without replying: it stopped or \
         crashed during `{op}` (see whether `owm serve` still runs, and `owm device \
         status`)",
        socket.shown()
    );
    if let Some(to) = to {
        let name = to
            .file_name()
            .map(|n| {
                engine::atomic::temporary_stem(&n.to_string_lossy())
                    .shown()
                    .to_string()
            })
            .unwrap_or_default();
        text.push_str(&format!(
            "; {} was not written unless the server stopped after the copy completed: \
             a copy cut short is never renamed to it, and its temporary file beside it \
             (.{name}.XXXXXX.tmp) is removed by the next backup or detach to it",
            to.shown()
        ));
    }
    text
}

/// The message for a request `op` the server closed the connection before taking.
fn not_taken(socket: &Path, op: &str) -> String {
    format!(
        "{}: the server closed the control connection before taking the request: it \
         stopped or crashed, and `{op}` was not made (see whether `owm serve` still runs, \
         and `owm device status`)",
        socket.shown()
    )
}

fn print_human(reply: &Value) {
    for line in human_lines(reply) {
        say!("{line}");
    }
}

/// A reply as `key: value` lines (the `ok` key left out), in the reply's key order: a
/// string as it is, null, an empty array or object `none`, an array of scalars joined
/// by `, `, an object of scalars as its `name value` pairs joined by `, ` (`archive:
/// path /b/a.img, bytes 16777216`); a deeper object as one line per member, named by
/// its dotted key (`barriers.image_a_flush: count 3, latency_us_mean 41.2, …`), and an array
/// of such values one per item, numbered (`writes #1.image_flushes: 1`), so no reply
/// prints as JSON.
fn human_lines(reply: &Value) -> Vec<String> {
    let Some(obj) = reply.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "ok") {
        human_value(k, v, &mut out);
    }
    out
}

/// A scalar in words: a string as a name shows it (`engine::shown`), null `none`, a whole number or boolean as
/// written, a fraction with one decimal (`latency_us_mean 279.5`: µs to a tenth; `--json`
/// keeps every digit).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.as_str().shown().to_string()),
        Value::Null => Some("none".to_string()),
        Value::Number(n) if n.is_f64() => n.as_f64().map(|f| format!("{f:.1}")),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        _ => None,
    }
}

/// The lines of `v` under the name `key` ([`human_lines`]).
fn human_value(key: &str, v: &Value, out: &mut Vec<String>) {
    if let Some(s) = scalar_text(v) {
        out.push(format!("{key}: {s}"));
        return;
    }
    match v {
        Value::Array(a) if a.is_empty() => out.push(format!("{key}: none")),
        Value::Object(o) if o.is_empty() => out.push(format!("{key}: none")),
        Value::Array(a) if a.iter().all(|x| scalar_text(x).is_some()) => {
            let items: Vec<String> = a.iter().filter_map(scalar_text).collect();
            out.push(format!("{key}: {}", items.join(", ")));
        }
        Value::Object(o) if o.values().all(|x| scalar_text(x).is_some()) => {
            let pairs: Vec<String> = o
                .iter()
                .map(|(n, x)| format!("{n} {}", scalar_text(x).unwrap_or_default()))
                .collect();
            out.push(format!("{key}: {}", pairs.join(", ")));
        }
        Value::Object(o) => {
            for (n, x) in o {
                human_value(&format!("{key}.{n}"), x, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                human_value(&format!("{key} #{}", i + 1), x, out);
            }
        }
        _ => out.push(format!("{key}: {v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value of a status reply reads as words, in the reply's key order: an
    /// archive's fields as pairs, not as JSON; nulls and empty lists as none; `ok` left
    /// out.
    #[test]
    fn a_reply_reads_as_key_value_lines() {
        let reply = json!({
            "ok": true,
            "phase": "backed up",
            "archive": {"bytes": 16777216, "path": "/b/a.img"},
            "archive_problem": null,
            "removed": [],
            "exports": ["vlun-a", "vlun-b"],
            "table_entries": 4,
            "nested": {"a": [1]},
            "latency_us_mean": 279.452_666_666_666_63,
        });
        assert_eq!(
            human_lines(&reply),
            [
                "archive: bytes 16777216, path /b/a.img",
                "archive_problem: none",
                "exports: vlun-a, vlun-b",
                "latency_us_mean: 279.5",
                "nested.a: 1",
                "phase: backed up",
                "removed: none",
                "table_entries: 4",
            ]
        );
    }

    /// A `timings` reply (barriers by name, writes by the barriers each paid, their
    /// latencies nested) reads as `key: value` lines, none of them JSON.
    #[test]
    fn a_timings_reply_reads_as_key_value_lines() {
        let reply = json!({
            "ok": true,
            "barriers": {
                "image_a_flush": {"count": 0, "latency_us_mean": 0.0},
                "journal_sync": {"count": 2, "latency_us_mean": 40.5, "samples_us": [40.0, 41.0]},
            },
            "writes": [
                {"image_flushes": 1, "journal_syncs": 0, "latency": {"count": 3, "latency_us_p50": 9.5}},
            ],
        });
        let lines = human_lines(&reply);
        assert_eq!(
            lines,
            [
                "barriers.image_a_flush: count 0, latency_us_mean 0.0",
                "barriers.journal_sync.count: 2",
                "barriers.journal_sync.latency_us_mean: 40.5",
                "barriers.journal_sync.samples_us: 40.0, 41.0",
                "writes #1.image_flushes: 1",
                "writes #1.journal_syncs: 0",
                "writes #1.latency: count 3, latency_us_p50 9.5",
            ]
        );
        assert!(lines.iter().all(|l| !l.contains('{') && !l.contains('"')));
    }

    /// A connection whose writes fail with `write` and whose reads give `reply`.
    struct Peer {
        write: Option<std::io::ErrorKind>,
        reply: &'static [u8],
    }

    impl Read for Peer {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.reply.read(buf)
        }
    }

    impl Write for Peer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match self.write {
                Some(kind) => Err(kind.into()),
                None => Ok(buf.len()),
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A server gone before the request was written never had it; one gone before
    /// it replied may have; any other failure of the write is named as such.
    #[test]
    fn a_request_the_server_never_took_is_told_from_one_it_did_not_answer() {
        use std::io::ErrorKind::{BrokenPipe, ConnectionReset, PermissionDenied};
        let socket = Path::new("/d/control.sock");
        let request = json!({"op": "split"});
        let exchanged = |write, reply| exchange(Peer { write, reply }, socket, &request);
        for kind in [BrokenPipe, ConnectionReset] {
            assert!(matches!(
                exchanged(Some(kind), b""),
                Err(CallError::NotTaken)
            ));
        }
        assert!(matches!(
            exchanged(Some(PermissionDenied), b""),
            Err(CallError::Refused(t)) if t.starts_with("/d/control.sock: write: ")
        ));
        assert!(matches!(exchanged(None, b""), Err(CallError::NoReply)));
        assert!(matches!(
            exchanged(None, b"{\"ok\": true}\n"),
            Ok(v) if v["ok"] == json!(true)
        ));
        // An NBD server greets before it reads, then closes on a request it cannot
        // parse: named as no control socket, whether the write failed or not.
        for write in [Some(BrokenPipe), None] {
            assert!(matches!(
                exchanged(write, b"NBDMAGICIHAVEOPT\0\x03"),
                Err(CallError::NotControl(t)) if t.contains("an NBD server's socket")
            ));
        }
        assert!(matches!(
            exchanged(None, b"hello\n"),
            Err(CallError::Refused(t)) if t.contains("not a JSON reply: \"hello\\n\"")
        ));
        let text = not_taken(socket, "split");
        assert!(
            text.contains("before taking the request") && text.contains("`split` was not made")
        );
    }
}
