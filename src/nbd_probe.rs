//! Whether a server listens on a Unix socket, asked as an NBD client that leaves at
//! once: the server's greeting read, then `NBD_OPT_ABORT` sent and its reply read
//! (the NBD protocol's fixed newstyle handshake, "Option types":
//! <https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md>). A client
//! that connected and closed at once would leave the live server's log an error
//! (nbdkit: "write: sending newstyle handshake: Broken pipe"); one that aborts is a
//! client that said goodbye.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// `IHAVEOPT`: the magic of a newstyle greeting and of every option a client sends.
const IHAVEOPT: u64 = 0x4948_4156_454F_5054;
/// The server's handshake flag `NBD_FLAG_FIXED_NEWSTYLE` and the client's echo.
const FIXED_NEWSTYLE: u16 = 1;
/// The server's handshake flag `NBD_FLAG_NO_ZEROES` and the client's echo.
const NO_ZEROES: u16 = 2;
/// The option ending the handshake with no export.
const OPT_ABORT: u32 = 2;
/// Bytes of an option reply's header (magic, option, type, length) with no data.
const OPTION_REPLY_BYTES: usize = 8 + 4 + 4 + 4;
/// The longest a probe waits on a server that accepted but does not answer as an
/// NBD server does (another program's socket): it listens either way.
const PROBE_WAIT: Duration = Duration::from_secs(2);

/// Connects to `socket`: `Ok` when a server accepted (it listens), the connect's
/// error otherwise (`ConnectionRefused` for a socket nobody listens on, `NotFound`
/// for no file). A server that accepted is then left as an NBD client leaves before
/// choosing an export, as far as it answers as one (best effort: what it answers
/// changes nothing of the result, and no step waits longer than 2 s).
pub fn listens(socket: &Path) -> std::io::Result<()> {
    let stream = UnixStream::connect(socket)?;
    let _ = abort_handshake(stream);
    Ok(())
}

fn abort_handshake(mut s: UnixStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(PROBE_WAIT))?;
    s.set_write_timeout(Some(PROBE_WAIT))?;
    let mut greeting = [0u8; 18];
    s.read_exact(&mut greeting)?;
    if &greeting[..8] != b"NBDMAGIC" || greeting[8..16] != IHAVEOPT.to_be_bytes() {
        return Ok(());
    }
    let server_flags = u16::from_be_bytes([greeting[16], greeting[17]]);
    let client_flags = u32::from(server_flags & (FIXED_NEWSTYLE | NO_ZEROES));
    let mut out = Vec::with_capacity(20);
    out.extend_from_slice(&client_flags.to_be_bytes());
    out.extend_from_slice(&IHAVEOPT.to_be_bytes());
    out.extend_from_slice(&OPT_ABORT.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    s.write_all(&out)?;
    if server_flags & FIXED_NEWSTYLE != 0 {
        // The server acknowledges the abort, then closes: read it, so that its reply
        // is not written to a closed connection.
        let mut reply = [0u8; OPTION_REPLY_BYTES];
        s.read_exact(&mut reply)?;
    }
    Ok(())
}
