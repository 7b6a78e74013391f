//! A minimal raw NBD client (fixed newstyle, `NBD_OPT_EXPORT_NAME`, simple replies),
//! to see the exact error a request gets and to misbehave on purpose (half a request).
//! Reference: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

const IHAVEOPT: u64 = 0x4948_4156_454F_5054;
const REQUEST_MAGIC: u32 = 0x2560_9513;
const SIMPLE_REPLY_MAGIC: u32 = 0x6744_6698;
pub const CMD_READ: u16 = 0;
pub const CMD_WRITE: u16 = 1;
pub const CMD_DISC: u16 = 2;
pub const CMD_FLUSH: u16 = 3;
pub const CMD_WRITE_ZEROES: u16 = 6;
/// `NBD_CMD_FLAG_FAST_ZERO`: fail at once (`ENOTSUP`) rather than zero slowly.
pub const FLAG_FAST_ZERO: u16 = 0x10;
/// `NBD_FLAG_SEND_FAST_ZERO`, a transmission flag.
pub const SEND_FAST_ZERO: u16 = 1 << 11;
pub const ENOTSUP: u32 = 95;
/// NBD errors (errno values on the wire).
pub const EPERM: u32 = 1;
pub const EIO: u32 = 5;
pub const ENOMEM: u32 = 12;
pub const EINVAL: u32 = 22;
pub const ENOSPC: u32 = 28;

/// One connection to one export.
pub struct Nbd {
    s: UnixStream,
    pub size: u64,
    pub flags: u16,
    handle: u64,
}

fn read_u16(s: &mut UnixStream) -> std::io::Result<u16> {
    let mut b = [0; 2];
    s.read_exact(&mut b)?;
    Ok(u16::from_be_bytes(b))
}
fn read_u32(s: &mut UnixStream) -> std::io::Result<u32> {
    let mut b = [0; 4];
    s.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}
fn read_u64(s: &mut UnixStream) -> std::io::Result<u64> {
    let mut b = [0; 8];
    s.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

/// Whether an NBD server answers on `socket`: its fixed-newstyle greeting read whole
/// (`NBDMAGIC`, `IHAVEOPT`), asked as a client that leaves before choosing an export
/// (`NBD_OPT_ABORT`, its acknowledgement read), so the server logs no error for it. A
/// socket that only accepts (`owm serve`'s own probe of the path, bound and removed
/// before nbdkit starts) is not taken for the server.
pub fn listens(socket: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(socket) else {
        return false;
    };
    let mut greeting = [0u8; 18];
    if s.read_exact(&mut greeting).is_err() || &greeting[..16] != b"NBDMAGICIHAVEOPT" {
        return false;
    }
    let flags = u32::from(u16::from_be_bytes([greeting[16], greeting[17]]) & 3);
    let mut out = flags.to_be_bytes().to_vec();
    out.extend_from_slice(&IHAVEOPT.to_be_bytes());
    out.extend_from_slice(&2u32.to_be_bytes()); // NBD_OPT_ABORT
    out.extend_from_slice(&0u32.to_be_bytes());
    let mut ack = [0u8; 20];
    let _ = s.write_all(&out).and_then(|()| s.read_exact(&mut ack));
    true
}

impl Nbd {
    /// Connects and selects `export`; `Err` when the server refuses it (it closes the
    /// connection, as the protocol says for `NBD_OPT_EXPORT_NAME`).
    pub fn connect(socket: &Path, export: &str) -> std::io::Result<Nbd> {
        let mut s = UnixStream::connect(socket)?;
        let mut magic = [0u8; 16];
        s.read_exact(&mut magic)?;
        assert_eq!(&magic, b"NBDMAGICIHAVEOPT", "fixed newstyle handshake");
        let server_flags = read_u16(&mut s)?;
        assert!(server_flags & 1 == 1, "NBD_FLAG_FIXED_NEWSTYLE");
        let no_zeroes = server_flags & 2 == 2;
        let client_flags: u32 = 1 | if no_zeroes { 2 } else { 0 };
        s.write_all(&client_flags.to_be_bytes())?;
        let mut opt = Vec::new();
        opt.extend_from_slice(&IHAVEOPT.to_be_bytes());
        opt.extend_from_slice(&1u32.to_be_bytes()); // NBD_OPT_EXPORT_NAME
        opt.extend_from_slice(&(export.len() as u32).to_be_bytes());
        opt.extend_from_slice(export.as_bytes());
        s.write_all(&opt)?;
        let size = read_u64(&mut s)?;
        let flags = read_u16(&mut s)?;
        if !no_zeroes {
            let mut z = [0u8; 124];
            s.read_exact(&mut z)?;
        }
        Ok(Nbd {
            s,
            size,
            flags,
            handle: 0,
        })
    }

    /// Whether the export says it is read-only (`NBD_FLAG_READ_ONLY`).
    pub fn read_only(&self) -> bool {
        self.flags & 2 == 2
    }

    fn header(&mut self, cmd: u16, offset: u64, len: u32) -> Vec<u8> {
        self.header_with(0, cmd, offset, len)
    }

    fn header_with(&mut self, flags: u16, cmd: u16, offset: u64, len: u32) -> Vec<u8> {
        self.handle += 1;
        let mut h = Vec::with_capacity(28);
        h.extend_from_slice(&REQUEST_MAGIC.to_be_bytes());
        h.extend_from_slice(&flags.to_be_bytes());
        h.extend_from_slice(&cmd.to_be_bytes());
        h.extend_from_slice(&self.handle.to_be_bytes());
        h.extend_from_slice(&offset.to_be_bytes());
        h.extend_from_slice(&len.to_be_bytes());
        h
    }

    /// The reply's error (0 = success).
    fn reply(&mut self) -> std::io::Result<u32> {
        assert_eq!(read_u32(&mut self.s)?, SIMPLE_REPLY_MAGIC);
        let error = read_u32(&mut self.s)?;
        assert_eq!(read_u64(&mut self.s)?, self.handle, "reply to our request");
        Ok(error)
    }

    pub fn write(&mut self, offset: u64, data: &[u8]) -> std::io::Result<u32> {
        let mut req = self.header(CMD_WRITE, offset, data.len() as u32);
        req.extend_from_slice(data);
        self.s.write_all(&req)?;
        self.reply()
    }

    /// Reads `len` bytes: `Ok(Ok(data))`, or `Ok(Err(error))` when the server refused.
    pub fn read(&mut self, offset: u64, len: u32) -> std::io::Result<Result<Vec<u8>, u32>> {
        let req = self.header(CMD_READ, offset, len);
        self.s.write_all(&req)?;
        let error = self.reply()?;
        if error != 0 {
            return Ok(Err(error));
        }
        let mut buf = vec![0u8; len as usize];
        self.s.read_exact(&mut buf)?;
        Ok(Ok(buf))
    }

    /// `NBD_CMD_WRITE_ZEROES` of `len` bytes at `offset` with the request `flags`.
    pub fn zero(&mut self, offset: u64, len: u32, flags: u16) -> std::io::Result<u32> {
        let req = self.header_with(flags, CMD_WRITE_ZEROES, offset, len);
        self.s.write_all(&req)?;
        self.reply()
    }

    pub fn flush(&mut self) -> std::io::Result<u32> {
        let req = self.header(CMD_FLUSH, 0, 0);
        self.s.write_all(&req)?;
        self.reply()
    }

    /// A write request whose payload stops after `sent` of `len` bytes, then the
    /// connection closes: a client that dies mid-request.
    pub fn die_mid_write(mut self, offset: u64, len: u32, sent: usize) {
        let mut req = self.header(CMD_WRITE, offset, len);
        req.extend(std::iter::repeat_n(0xEEu8, sent));
        let _ = self.s.write_all(&req);
        let _ = self.s.shutdown(std::net::Shutdown::Both);
    }

    /// A clean `NBD_CMD_DISC`.
    pub fn disconnect(mut self) {
        let req = self.header(CMD_DISC, 0, 0);
        let _ = self.s.write_all(&req);
    }
}
