//! The gate as a bounded process: a clean command line, a wrapper that kills
//! and reaps it when a test fails, and readers that let a test wait for what
//! it prints instead of sleeping.

use std::{
    io::Read,
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::{
        Arc, Mutex, Once,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use super::{FakeProxy, PROCESS_LIMIT, gate_bin, procfs};

/// Bound for events that take milliseconds on an idle machine (a line, a
/// request, an exit): generous because tests run in parallel on 2 cores.
pub const LIMIT: Duration = Duration::from_secs(10);

/// The tests run as a login shell's children do: SIGHUP, SIGINT and SIGQUIT
/// at their default dispositions, set once in this test process, whose
/// children inherit them. Started in the background by a non-interactive
/// shell (`cargo test &`) a test process inherits SIGINT and SIGQUIT ignored
/// (POSIX: an asynchronous list ignores them), under `nohup` SIGHUP, and the
/// gate and its app keep what they are given: a test of a death by SIGQUIT
/// would see none. A test of an unusual parent sets its own (`parents`).
pub fn usual_signal_state() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        for sig in [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
            // SAFETY: signal(2) with SIG_DFL changes only this process's
            // disposition of `sig`; no handler of ours is replaced.
            unsafe { libc::signal(sig, libc::SIG_DFL) };
        }
    });
}

/// The gate as a command with a clean slate.
pub fn gate() -> Command {
    usual_signal_state();
    let mut cmd = Command::new(gate_bin());
    clean_slate(&mut cmd);
    cmd
}

/// None of our variables (nor a forward proxy's) leak into `cmd` from the
/// developer's environment, and its stdin is empty. For every command that
/// runs the gate, directly or through `unshare`.
pub fn clean_slate(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("LINKERD")
            || key_text.ends_with("_PROXY")
            || key_text.ends_with("_proxy")
        {
            cmd.env_remove(&key);
        }
    }
    cmd.stdin(Stdio::null())
}

/// The gate pointed at `proxy`'s admin port (`-p PORT`).
pub fn gate_for(proxy: &FakeProxy) -> Command {
    let mut cmd = gate();
    cmd.args(["-p", &proxy.port().to_string()]);
    cmd
}

/// `cmd -- sh -c SCRIPT sh ARGS...`: the app is a shell script; `$1`... are `args`.
pub fn app(cmd: &mut Command, script: &str, args: &[&str]) {
    cmd.args(["--", "sh", "-c", script, "sh"]).args(args);
}

/// A running process that is killed (and reaped) when dropped, so a failing
/// assertion never leaves it behind.
pub struct Running {
    pub child: Child,
    pub started: Instant,
}

impl Running {
    pub fn spawn(cmd: &mut Command) -> Self {
        usual_signal_state();
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
        send_signal(self.pid(), sig);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// kill(2), asserting it worked.
pub fn send_signal(pid: i32, sig: i32) {
    // SAFETY: plain kill(2) on a PID this test started (directly, or through
    // the gate or `unshare`); it touches no memory of ours.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

/// A running gate (or `unshare` around it) with its stdout and stderr
/// collected as they come.
pub struct Gate {
    pub running: Running,
    /// The gate's PID as this test sees it (not `unshare`'s when run as PID 1).
    pub pid: i32,
    pub out: LineReader,
    pub err: LineReader,
}

impl Gate {
    pub fn spawn(cmd: &mut Command) -> Self {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut running = Running::spawn(cmd);
        let out = LineReader::start(running.child.stdout.take().expect("stdout"));
        let err = LineReader::start(running.child.stderr.take().expect("stderr"));
        let pid = running.pid();
        Gate {
            running,
            pid,
            out,
            err,
        }
    }

    /// The gate as PID 1 of a new PID namespace (`cmd` from `pidns::as_pid1`);
    /// `pid` is found through `unshare`.
    pub fn spawn_as_pid1(cmd: &mut Command) -> Self {
        let mut gate = Gate::spawn(cmd);
        gate.pid = poll(LIMIT, || {
            procfs::children_of(gate.running.pid())
                .into_iter()
                .map(|(pid, _)| pid)
                .find(|&pid| procfs::comm(pid).as_deref() == Some("linkerd-await"))
        })
        .unwrap_or_else(|| panic!("no gate under unshare; stderr:\n{}", gate.err.text()));
        gate
    }

    /// Sends `sig` to the gate itself.
    pub fn signal(&self, sig: i32) {
        send_signal(self.pid, sig);
    }

    /// Returns once the gate is in its wait loop: it has logged that it waits
    /// and the proxy has seen a check.
    pub fn until_waiting(&self, proxy: &FakeProxy) {
        self.err
            .wait_for("waiting for the proxy", Duration::from_secs(5));
        proxy.wait_for_requests(1, Duration::from_secs(5));
    }

    /// What a shell's `$?` shows once the gate ended (128 + n when it died
    /// by signal n); panics if it does not end within `limit`.
    pub fn code_within(&mut self, limit: Duration) -> i32 {
        shell_code(self.running.wait_within(limit))
    }

    /// Everything on stdout so far, once it contains `needle` (within `LIMIT`).
    pub fn wait_out(&self, needle: &str) -> String {
        self.out.wait_for(needle, LIMIT)
    }

    /// Exit status, all of stdout and all of stderr, once the process exited
    /// (within `limit`) and its output streams ended.
    pub fn finish_within(&mut self, limit: Duration) -> (ExitStatus, String, String) {
        let status = self.running.wait_within(limit);
        (status, self.out.finish(LIMIT), self.err.finish(LIMIT))
    }

    /// Like `finish_within(LIMIT)`, with the status as a shell's `$?`.
    pub fn finish(&mut self) -> (i32, String, String) {
        let (status, out, err) = self.finish_within(LIMIT);
        (shell_code(status), out, err)
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
    output_with_pid(cmd).1
}

/// Like `output`, with the PID the process had.
pub fn output_with_pid(cmd: &mut Command) -> (i32, Output) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut running = Running::spawn(cmd);
    let out = read_all(running.child.stdout.take().expect("stdout"));
    let err = read_all(running.child.stderr.take().expect("stderr"));
    let status = running.wait_within(PROCESS_LIMIT);
    let output = Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    (running.pid(), output)
}

/// Reads `reader` to its end on a thread (so a full pipe never blocks the writer).
pub fn read_all(mut reader: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = reader.read_to_end(&mut buf);
        buf
    })
}

/// Stdout as text.
pub fn stdout_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr as text, for log assertions.
pub fn stderr_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls `f` every 2 ms until it returns `Some`, for at most `limit`.
pub fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(value) = f() {
            return Some(value);
        }
        if start.elapsed() > limit {
            return None;
        }
        thread::sleep(Duration::from_millis(2));
    }
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

/// Runs `cmd` with a termination log of its own; returns its output and
/// the message it left there (empty if none).
pub fn output_and_message(mut cmd: Command) -> (Output, String) {
    let dir = super::temp_dir();
    let log = dir.path().join("termination-log");
    cmd.arg("--termination-log").arg(&log);
    let out = output(&mut cmd);
    let message = std::fs::read_to_string(&log).unwrap_or_default();
    (out, message)
}
