//! An interactive bash on a new pseudo-terminal, driven like a user at a
//! keyboard: the tests type bytes and wait for what the screen shows.
//!
//! bash runs as the leader of its own session with the pty as its
//! controlling terminal, so it does job control exactly as in a terminal
//! window: each command line is a job in its own process group, Ctrl-C and
//! Ctrl-Z go to the foreground group, `fg` hands the terminal over.
//!
//! Plain libc rather than `nix::pty::openpty`: both fds are opened
//! close-on-exec at once, so a process that another test forks at the same
//! moment cannot inherit them (an inherited slave would keep the terminal
//! open after this session ended; an inherited master would read its screen).

use std::{
    fs::File,
    io::{Read, Write},
    os::{
        fd::{AsRawFd, FromRawFd, OwnedFd},
        unix::process::CommandExt,
    },
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use super::procfs::session_members;

/// The prompt bash prints when it is ready for the next command line. Typed
/// text never contains it, so seeing it means bash itself printed it.
pub const PROMPT: &str = "pty$ ";

/// Where the interactive shell is.
const BASH: &str = "/bin/bash";

/// An interactive `bash` on its own pseudo-terminal. Dropping it kills every
/// process of its session, stopped or not.
pub struct Shell {
    /// The terminal's master side: what we type goes in here.
    keyboard: File,
    bash: Child,
    /// bash's PID, which is also its session ID (it is the session leader).
    session: i32,
    screen: Arc<Mutex<Vec<u8>>>,
    /// How far `wait_for` has read: each wait looks only at newer output.
    seen: usize,
}

impl Shell {
    /// Starts `bash --norc --noprofile --noediting -i` on a new pty with
    /// `PROMPT` and a minimal environment (none of the gate's `LINKERD*`
    /// variables, no proxy variables), and waits for its first prompt.
    /// `None` (the caller skips) when bash is not installed.
    ///
    /// `--noediting`: no readline, so the terminal stays in canonical mode
    /// with echo, the screen holds plain text without redraws or escape
    /// sequences, and each read by bash takes exactly one typed line (what is
    /// typed after it waits in the terminal for the next reader).
    pub fn start() -> Option<Shell> {
        if !Path::new(BASH).exists() {
            return None;
        }
        let (master, slave) = open_pty();
        let mut cmd = Command::new(BASH);
        cmd.args(["--norc", "--noprofile", "--noediting", "-i"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PS1", PROMPT)
            .env("PS2", "")
            .env("TERM", "dumb")
            .env("LC_ALL", "C")
            .env("HISTFILE", "/dev/null")
            .stdin(Stdio::from(slave.try_clone().expect("dup pty slave")))
            .stdout(Stdio::from(slave.try_clone().expect("dup pty slave")))
            .stderr(Stdio::from(slave));
        // SAFETY: runs in the forked child after stdio is in place, and makes
        // only async-signal-safe calls.
        unsafe {
            cmd.pre_exec(|| {
                // A new session without a terminal, then the pty (now fd 0) as
                // its controlling terminal, as a terminal emulator does; the
                // terminal's foreground group becomes bash's.
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        super::usual_signal_state();
        let bash = cmd.spawn().expect("start bash on the pty");
        // `cmd` holds the last copies of the slave in this process: close
        // them, so the master reads EIO once the session is gone.
        drop(cmd);
        let session = bash.id() as i32;

        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = screen.clone();
        let mut reader = master.try_clone().expect("dup pty master");
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO when no process has the terminal open any more.
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => sink
                        .lock()
                        .expect("screen lock")
                        .extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });

        let mut shell = Shell {
            keyboard: master,
            bash,
            session,
            screen,
            seen: 0,
        };
        shell.prompt(Duration::from_secs(10));
        Some(shell)
    }

    /// Types `bytes` (control characters included: `b"\x03"` is Ctrl-C).
    pub fn send(&mut self, bytes: &[u8]) {
        self.keyboard
            .write_all(bytes)
            .expect("type on the terminal");
        self.keyboard.flush().expect("flush the terminal");
    }

    /// Types `text` and Enter.
    pub fn line(&mut self, text: &str) {
        self.send(format!("{text}\n").as_bytes());
    }

    /// Everything the terminal has shown so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().expect("screen lock")).into_owned()
    }

    /// Waits until `needle` shows up after what earlier waits consumed, and
    /// returns the new output up to and including it (later waits start after
    /// it). Panics with the whole screen after `limit`.
    #[track_caller]
    pub fn wait_for(&mut self, needle: &str, limit: Duration) -> String {
        self.wait_for_any(&[needle], limit).1
    }

    /// Like `wait_for`, for whichever of `needles` shows up first; returns
    /// its index and the new output up to and including it.
    #[track_caller]
    pub fn wait_for_any(&mut self, needles: &[&str], limit: Duration) -> (usize, String) {
        let start = Instant::now();
        loop {
            let found = {
                let screen = self.screen.lock().expect("screen lock");
                let fresh = &screen[self.seen.min(screen.len())..];
                needles
                    .iter()
                    .enumerate()
                    .filter_map(|(i, needle)| {
                        let at = find(fresh, needle.as_bytes())?;
                        Some((at, i, String::from_utf8_lossy(&fresh[..at + needle.len()])))
                    })
                    .min_by_key(|&(at, i, _)| (at, i))
                    .map(|(at, i, text)| (at + needles[i].len(), i, text.into_owned()))
            };
            if let Some((consumed, index, text)) = found {
                self.seen += consumed;
                return (index, text);
            }
            assert!(
                start.elapsed() < limit,
                "none of {needles:?} on the terminal within {limit:?}; the screen:\n{}",
                self.screen()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for bash's next prompt (see `wait_for`).
    #[track_caller]
    pub fn prompt(&mut self, limit: Duration) -> String {
        self.wait_for(PROMPT, limit)
    }

    /// The session's ID (bash's PID).
    pub fn session(&self) -> i32 {
        self.session
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        // Every process of the session, bash's jobs and the apps they
        // started included, whether running or stopped (SIGKILL ends both).
        // Repeated, because a process may fork while we look.
        for _ in 0..100 {
            let left = session_members(self.session);
            if left.is_empty() {
                break;
            }
            for pid in left {
                // SAFETY: kill(2); these are processes of the session we started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            thread::sleep(Duration::from_millis(5));
        }
        let _ = self.bash.kill();
        let _ = self.bash.wait();
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A new pseudo-terminal (master, slave), both close-on-exec, 200×50 so
/// nothing the tests type wraps.
fn open_pty() -> (File, OwnedFd) {
    // SAFETY: plain libc calls on fds we own right away; `ptsname_r` writes
    // a NUL-terminated name into the buffer whose size we pass.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(
            master >= 0,
            "posix_openpt: {}",
            std::io::Error::last_os_error()
        );
        let master = File::from_raw_fd(master);
        assert_eq!(libc::grantpt(master.as_raw_fd()), 0, "grantpt");
        assert_eq!(libc::unlockpt(master.as_raw_fd()), 0, "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(
            libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
        let size = libc::winsize {
            ws_row: 50,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        assert_eq!(
            libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size),
            0,
            "TIOCSWINSZ: {}",
            std::io::Error::last_os_error()
        );
        let slave = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        assert!(
            slave >= 0,
            "open the pty slave: {}",
            std::io::Error::last_os_error()
        );
        (master, OwnedFd::from_raw_fd(slave))
    }
}
