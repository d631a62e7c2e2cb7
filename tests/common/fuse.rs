//! A filesystem that hangs: a FUSE mount served by a thread of the test
//! that answers the kernel's start-up and never answers a lookup, as a
//! stuck NFS, CSI or FUSE mount never answers. A `stat` or `connect` of
//! any path under it blocks in the kernel until [`HungMount::release`].
//!
//! A thread blocked so cannot be killed (FUSE waits uninterruptibly for a
//! request its server has read), and a process ends only once all its
//! threads have: a gate that gave up on such a path has said so and
//! decided its exit code, but the kernel lets it go only once the mount
//! answers. Tests check the decision, then release the mount.
//!
//! Speaks the FUSE wire protocol itself (`linux/fuse.h`: a request header,
//! `FUSE_INIT`, `FUSE_GETATTR`, `FUSE_LOOKUP`), so no FUSE library or
//! package is needed; mounting needs root, so elsewhere the tests skip,
//! visibly, unless the run requires them (`LINKERD_AWAIT_REQUIRE_PID_NS=1`,
//! as CI sets).

use std::{
    ffi::CString,
    fs::File,
    io::{Read, Write},
    os::{fd::AsRawFd, unix::ffi::OsStrExt},
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::Duration,
};

use super::{poll, skipped, temp_dir};

const FUSE_LOOKUP: u32 = 1;
const FUSE_FORGET: u32 = 2;
const FUSE_GETATTR: u32 = 3;
const FUSE_INIT: u32 = 26;
const FUSE_INTERRUPT: u32 = 36;
const FUSE_BATCH_FORGET: u32 = 42;
/// `fuse_in_header`: len, opcode, unique, nodeid, uid, gid, pid, padding.
const IN_HEADER: usize = 40;

/// A mounted hanging filesystem; unmounted (lazily, so a process still
/// stuck in it does not block the test) when dropped.
pub struct HungMount {
    dir: tempfile::TempDir,
    lookups: Arc<AtomicUsize>,
    /// The lookups read and not answered, and whether to answer them now.
    held: Arc<Mutex<Held>>,
    /// The device, to answer from the test's thread.
    device: File,
}

#[derive(Default)]
struct Held {
    uniques: Vec<u64>,
    released: bool,
}

impl HungMount {
    /// Mounts it, or `None` (with a printed skip) where this cannot be done.
    pub fn start(test: &str) -> Option<Self> {
        // SAFETY: geteuid(2) has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let device = root
            .then(|| File::options().read(true).write(true).open("/dev/fuse"))
            .and_then(Result::ok);
        let Some(device) = device else {
            skipped(test, "needs root and /dev/fuse for a hanging mount");
            return None;
        };
        let dir = temp_dir();
        let target = CString::new(dir.path().as_os_str().as_bytes()).expect("no NUL");
        let options = CString::new(format!(
            "fd={},rootmode=40000,user_id=0,group_id=0,allow_other",
            device.as_raw_fd()
        ))
        .expect("no NUL");
        // SAFETY: every pointer is a valid NUL-terminated string that
        // outlives the call.
        let rc = unsafe {
            libc::mount(
                c"hung".as_ptr(),
                target.as_ptr(),
                c"fuse".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                options.as_ptr().cast(),
            )
        };
        assert_eq!(rc, 0, "mount fuse: {}", std::io::Error::last_os_error());
        let lookups = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(Mutex::new(Held::default()));
        let answering = device.try_clone().expect("dup /dev/fuse");
        let (seen, kept) = (lookups.clone(), held.clone());
        // Ends when the mount is gone (the read fails); nobody joins it.
        thread::spawn(move || serve(device, &seen, &kept));
        Some(HungMount {
            dir,
            lookups,
            held,
            device: answering,
        })
    }

    /// A path under the mount (that will never be found, nor not found).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Returns once something has asked the filesystem for a name: the
    /// caller is now stuck in it.
    pub fn wait_for_lookup(&self, limit: Duration) {
        poll(limit, || {
            (self.lookups.load(Ordering::SeqCst) > 0).then_some(())
        })
        .expect("nothing looked a name up in the hanging mount");
    }
}

impl HungMount {
    /// Answers every held lookup (EIO) and every later one (ENOENT): what
    /// was stuck in the mount returns, and a process that was waiting for
    /// its threads can end.
    pub fn release(&self) {
        let mut held = self.held.lock().expect("held lock");
        held.released = true;
        let mut device = &self.device;
        for unique in held.uniques.drain(..) {
            let _ = reply(&mut device, unique, -libc::EIO, &[]);
        }
    }
}

/// Releases the mount when dropped: declared after the process that is
/// stuck in it, it is dropped first, so a test that fails never leaves
/// that process's clean-up (kill, then wait) waiting for the mount.
pub struct ReleaseOnDrop<'a>(pub &'a HungMount);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl Drop for HungMount {
    fn drop(&mut self) {
        self.release();
        let target = CString::new(self.dir.path().as_os_str().as_bytes()).expect("no NUL");
        // SAFETY: a valid NUL-terminated path. MNT_DETACH: a process still
        // stuck in the mount must not keep the test waiting.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Answers the kernel: INIT and the root's attributes; every lookup is
/// counted and held, never answered, until released.
fn serve(mut device: File, lookups: &AtomicUsize, held: &Mutex<Held>) {
    // The kernel wants room for a whole write request (max_write + header).
    let mut buf = vec![0u8; 128 * 1024 + 4096];
    while let Ok(n) = device.read(&mut buf) {
        let Some(header) = buf.get(..IN_HEADER.min(n)).filter(|h| h.len() == IN_HEADER) else {
            continue;
        };
        let opcode = u32::from_ne_bytes(header[4..8].try_into().expect("4 bytes"));
        let unique = u64::from_ne_bytes(header[8..16].try_into().expect("8 bytes"));
        let body = match opcode {
            FUSE_INIT => init_reply(),
            FUSE_GETATTR => root_attributes(),
            FUSE_LOOKUP => {
                lookups.fetch_add(1, Ordering::SeqCst);
                let mut held = held.lock().expect("held lock");
                if held.released {
                    let _ = reply(&mut device, unique, -libc::ENOENT, &[]);
                } else {
                    held.uniques.push(unique);
                }
                continue;
            }
            // No reply is expected to these.
            FUSE_FORGET | FUSE_BATCH_FORGET | FUSE_INTERRUPT => continue,
            _ => {
                let _ = reply(&mut device, unique, -libc::ENOSYS, &[]);
                continue;
            }
        };
        let _ = reply(&mut device, unique, 0, &body);
    }
}

fn reply(mut device: impl Write, unique: u64, error: i32, body: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(16 + body.len());
    out.extend_from_slice(&(16 + body.len() as u32).to_ne_bytes());
    out.extend_from_slice(&error.to_ne_bytes());
    out.extend_from_slice(&unique.to_ne_bytes());
    out.extend_from_slice(body);
    device.write_all(&out)
}

/// `fuse_init_out` for protocol 7.31: major, minor, max_readahead, flags,
/// max_background, congestion_threshold, max_write, time_gran, max_pages,
/// map_alignment, flags2, unused[7].
fn init_reply() -> Vec<u8> {
    let mut out = Vec::new();
    for word in [7u32, 31, 128 * 1024, 0] {
        out.extend_from_slice(&word.to_ne_bytes());
    }
    out.extend_from_slice(&16u16.to_ne_bytes());
    out.extend_from_slice(&12u16.to_ne_bytes());
    out.extend_from_slice(&(128 * 1024u32).to_ne_bytes());
    out.extend_from_slice(&1u32.to_ne_bytes());
    out.extend_from_slice(&32u16.to_ne_bytes());
    out.extend_from_slice(&0u16.to_ne_bytes());
    out.extend_from_slice(&[0u8; 4 + 7 * 4]);
    out
}

/// `fuse_attr_out` for the root directory: attr_valid (s, ns), a dummy,
/// then `fuse_attr` (ino, size, blocks, [amc]time, [amc]timensec, mode,
/// nlink, uid, gid, rdev, blksize, flags).
fn root_attributes() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&1u64.to_ne_bytes());
    out.extend_from_slice(&[0u8; 8]);
    for word in [1u64, 0, 0, 0, 0, 0] {
        out.extend_from_slice(&word.to_ne_bytes());
    }
    for word in [0u32, 0, 0, libc::S_IFDIR | 0o755, 2, 0, 0, 0, 4096, 0] {
        out.extend_from_slice(&word.to_ne_bytes());
    }
    out
}
