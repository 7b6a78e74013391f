//! The control socket: the device's life cycle (split, backup, retire, abandon, detach) and its
//! status, for scripts (`owm device …`).
//!
//! Protocol: a Unix stream socket; the client sends one JSON object on one line, e.g.
//! `{"op":"backup","to":"/abs/archive.img"}`, and reads one JSON object on one line:
//! `{"ok":true,…}` or `{"ok":false,"kind":"out-of-order","error":"…"}`. Ops: `status`,
//! `split`, `backup` (`to`), `retire`, `abandon`, `detach` (`to`), `timings` (`samples`: true for
//! every sample; the wall times since the previous `timings`, [`Host::timings`]). Paths
//! are absolute (the server runs in `/`). The replies of `backup` and `detach` list in
//! `stale_removed` the temporary files of `to` a killed backup or detach had left,
//! removed before the copy.

use engine::shown::ShowName as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::host::{ControlError, Host};

/// Longest request line read (a path and an op).
const REQUEST_BYTES_MAX: u64 = 64 * 1024;

/// Listens on `path` (a stale socket there is replaced; any other file is left, and the
/// bind then fails: never a file taken for a socket) and serves each client on its
/// own thread, for as long as the process lives.
pub fn spawn(host: &'static Host, path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
    let listener = UnixListener::bind(path)?;
    std::thread::Builder::new()
        .name("owm-control".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = std::thread::Builder::new()
                    .name("owm-control-client".into())
                    .spawn(move || serve_client(host, stream));
            }
        })?;
    Ok(())
}

fn serve_client(host: &'static Host, stream: UnixStream) {
    let mut line = String::new();
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half).take(REQUEST_BYTES_MAX);
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let reply = match handle(host, &line) {
        Ok(v) => v,
        Err(e) => match &e.path {
            Some(path) => json!({
                "ok": false, "kind": e.kind, "error": e.message,
                "path": path.to_string_lossy(),
            }),
            None => json!({"ok": false, "kind": e.kind, "error": e.message}),
        },
    };
    let mut out = &stream;
    let _ = writeln!(out, "{reply}");
    if reply.get("op").and_then(Value::as_str) == Some("detach") && reply["ok"] == json!(true) {
        // The device is gone: the server has nothing left to serve.
        nbdkit::shutdown();
    }
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError {
        kind: "bad-request",
        path: None,
        message: message.into(),
    }
}

fn path_arg(req: &Value, op: &str) -> Result<PathBuf, ControlError> {
    let to = req
        .get("to")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("`{op}` needs a `to` path")))?;
    let to = PathBuf::from(to);
    if !to.is_absolute() {
        return Err(bad(format!(
            "`to` must be an absolute path: {}",
            to.shown()
        )));
    }
    Ok(to)
}

/// Paths as JSON strings.
fn paths(p: &[PathBuf]) -> Vec<String> {
    p.iter().map(|p| p.display().to_string()).collect()
}

fn handle(host: &Host, line: &str) -> Result<Value, ControlError> {
    let req: Value =
        serde_json::from_str(line.trim()).map_err(|e| bad(format!("not a JSON request: {e}")))?;
    let op = req
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("the request has no `op`"))?;
    match op {
        "status" => host.status(),
        "timings" => host.timings(req.get("samples") == Some(&Value::Bool(true))),
        "split" => host.split().map(|()| json!({"ok": true, "op": op})),
        "backup" => {
            let to = path_arg(&req, op)?;
            let (a, stale) = host.backup(&to)?;
            Ok(json!({
                "ok": true,
                "op": op,
                "archive": a.path.display().to_string(),
                "bytes": a.bytes,
                "stale_removed": paths(&stale),
            }))
        }
        "retire" => host.retire().map(|()| json!({"ok": true, "op": op})),
        "abandon" => host.abandon().map(|()| json!({"ok": true, "op": op})),
        "detach" => {
            let to = path_arg(&req, op)?;
            let stale = host.detach(&to)?;
            Ok(json!({
                "ok": true,
                "op": op,
                "image": to.display().to_string(),
                "stale_removed": paths(&stale),
            }))
        }
        other => Err(bad(format!(
            "unknown op `{other}` (status, split, backup, retire, abandon, detach, timings)"
        ))),
    }
}
