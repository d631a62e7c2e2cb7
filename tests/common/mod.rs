//! Shared test support: a scripted fake proxy admin server on loopback and
//! helpers that run the real `linkerd-await` binary as a bounded process.
//!
//! Each integration test file uses only part of this module.
#![allow(dead_code)]

pub mod pty;
use std::{
    ffi::OsStr,
    io::Read,
    net::{Ipv4Addr, TcpListener},
    os::unix::process::CommandExt,
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

/// Path of the binary under test.
pub const GATE: &str = env!("CARGO_BIN_EXE_linkerd-await");

/// Every test process is killed after this long, whatever it is doing.
pub const PROCESS_LIMIT: Duration = Duration::from_secs(20);

/// The scripted proxy admin server: the workspace's one simulated proxy.
// Each test file uses only part of it, as of this module.
#[allow(unused_imports)]
pub use sim_proxy::{FakeProxy, Reply, Request};

/// A port on loopback that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
    listener.local_addr().expect("local addr").port()
}

/// The gate as a command with a clean slate: none of our variables leak in
/// from the developer's environment.
pub fn gate() -> Command {
    let mut cmd = Command::new(GATE);
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("LINKERD")
            || key_text.ends_with("_PROXY")
            || key_text.ends_with("_proxy")
        {
            cmd.env_remove(&key);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Fast backoff, so tests spend their time on behaviour rather than sleeping.
pub fn gate_for(proxy: &FakeProxy) -> Command {
    let mut cmd = gate();
    cmd.args(["-p", &proxy.port().to_string()]);
    cmd
}

/// A running process that is killed (and reaped) when dropped, so a failing
/// assertion never leaves it behind.
pub struct Running {
    pub child: Child,
    pub started: Instant,
}

impl Running {
    pub fn spawn(cmd: &mut Command) -> Self {
        let child = cmd.spawn().expect("spawn");
        Running {
            child,
            started: Instant::now(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits at most `limit` for the exit; panics (after killing) if it does not come.
    pub fn wait_within(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("process did not exit within {limit:?}");
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Sends `sig` to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: plain kill(2) on our own child's PID.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({}, {sig})", self.pid());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a shell's `$?` shows for `status`: the exit code, or 128 + n for a
/// death by signal n.
pub fn shell_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|n| 128 + n))
        .expect("an exit code or a signal")
}

/// Runs to completion within `PROCESS_LIMIT`, capturing stdout and stderr.
pub fn output(cmd: &mut Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut running = Running::spawn(cmd);
    let mut stdout = running.child.stdout.take().expect("stdout");
    let mut stderr = running.child.stderr.take().expect("stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let status = running.wait_within(PROCESS_LIMIT);
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// Stderr as text, for log assertions.
pub fn stderr_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Collects everything a stream produces on a thread, so a test can wait for
/// a given piece of output, or for the end of the stream (the writer exited).
pub struct LineReader {
    bytes: Arc<Mutex<Vec<u8>>>,
    ended: Arc<AtomicBool>,
}

impl LineReader {
    pub fn start(mut reader: impl Read + Send + 'static) -> Self {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let ended = Arc::new(AtomicBool::new(false));
        let (sink, end) = (bytes.clone(), ended.clone());
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .expect("reader lock")
                        .extend_from_slice(&buf[..n]),
                }
            }
            end.store(true, Ordering::SeqCst);
        });
        LineReader { bytes, ended }
    }

    /// Everything so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().expect("reader lock")).into_owned()
    }

    /// Everything so far, once it contains `needle`; panics after `limit`.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                start.elapsed() < limit,
                "no {needle:?} within {limit:?}; got:\n{text}"
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Everything, once the writer closed the stream; panics after `limit`
    /// (after a process exits, its last output may still be in the pipe).
    pub fn finish(&self, limit: Duration) -> String {
        let start = Instant::now();
        while !self.ended.load(Ordering::SeqCst) {
            assert!(
                start.elapsed() < limit,
                "stream still open after {limit:?}; got:\n{}",
                self.text()
            );
            thread::sleep(Duration::from_millis(2));
        }
        self.text()
    }
}

/// Makes the process that runs `cmd` start with SIGPIPE and SIGUSR1 ignored
/// and SIGUSR2 blocked, as an unusual parent (a shell with traps, nohup) would.
pub fn unusual_signal_parent(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            libc::signal(libc::SIGUSR1, libc::SIG_IGN);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR2);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
}

/// The `Sig*` lines of a `/proc/<pid>/status` dump.
pub fn signal_lines(status: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(status)
        .lines()
        .filter(|l| l.starts_with("SigIgn") || l.starts_with("SigBlk") || l.starts_with("SigCgt"))
        .map(str::to_string)
        .collect()
}

/// A signal-set field (`ShdPnd`, `SigBlk`, `SigIgn`, ...) of `/proc/<pid>/status`.
pub fn status_mask(pid: i32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    u64::from_str_radix(value.trim(), 16).ok()
}

/// The bit of signal `sig` in a `/proc/<pid>/status` signal set.
pub fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// True when this machine lets us create PID namespaces (root, unshare present).
pub fn can_unshare_pid() -> bool {
    Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `unshare` prefix that makes the next command PID 1 of a new PID namespace.
pub fn as_pid1(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child"])
        .arg(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LINKERD") {
            cmd.env_remove(&key);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// A loopback port where connections are refused (a bound socket that does
/// not listen) until `listen`. Unlike `closed_port`, no other test can take
/// the port in the meantime, so "refused" is guaranteed.
pub struct RefusedPort {
    fd: std::os::fd::OwnedFd,
    pub port: u16,
}

impl RefusedPort {
    pub fn new() -> Self {
        use std::os::fd::FromRawFd;
        // SAFETY: socket calls on a fresh fd owned right away; every
        // out-parameter is a zeroed sockaddr_in of the size passed.
        unsafe {
            let raw = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(raw >= 0, "socket: {}", std::io::Error::last_os_error());
            let fd = std::os::fd::OwnedFd::from_raw_fd(raw);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = libc::bind(raw, (&raw const addr).cast(), len);
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            let mut bound: libc::sockaddr_in = std::mem::zeroed();
            let mut bound_len = len;
            let rc = libc::getsockname(raw, (&raw mut bound).cast(), &mut bound_len);
            assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
            RefusedPort {
                fd,
                port: u16::from_be(bound.sin_port),
            }
        }
    }

    /// Starts accepting on the port (e.g. for `FakeProxy::serve`).
    pub fn listen(self) -> TcpListener {
        use std::os::fd::AsRawFd;
        // SAFETY: listen(2) on a bound socket we own.
        let rc = unsafe { libc::listen(self.fd.as_raw_fd(), 128) };
        assert_eq!(rc, 0, "listen: {}", std::io::Error::last_os_error());
        TcpListener::from(self.fd)
    }
}
