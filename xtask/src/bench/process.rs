//! Clock, process runs bounded in time, and `/proc` readings.
//!
//! Children are reaped with `wait4` so the kernel hands over their CPU time
//! (rusage) with their status. A single watchdog thread kills any child that
//! outlives its limit, so a hung gate can never hang the benchmark, and it
//! costs one wake-up per 50 ms rather than a thread per run.

use std::{
    io,
    process::{Child, Command},
    sync::{Mutex, Once},
    thread,
    time::Duration,
};

/// CLOCK_MONOTONIC in nanoseconds: one clock shared by every process on the
/// machine, so the proxy's flip instant and the app's start stamp compare.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC
    // always exists on Linux.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn ms_between(from_ns: u64, to_ns: u64) -> f64 {
    (to_ns as f64 - from_ns as f64) / 1e6
}

/// How a run ended.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    pub started_ns: u64,
    pub ended_ns: u64,
    /// Exit code, or 128 + signal as a shell reports it.
    pub code: i32,
    pub user_ms: f64,
    pub sys_ms: f64,
    /// Minor page faults (ru_minflt): every page the process touched first.
    pub minflt: u64,
}

impl Finished {
    pub fn wall_ms(&self) -> f64 {
        ms_between(self.started_ns, self.ended_ns)
    }

    pub fn cpu_ms(&self) -> f64 {
        self.user_ms + self.sys_ms
    }
}

/// A running child that is killed and reaped if dropped unwaited.
pub struct Spawned {
    child: Option<Child>,
    pub pid: i32,
    pub started_ns: u64,
    limit: Duration,
}

/// Overdue children: (pid, kill-at in CLOCK_MONOTONIC ns).
static WATCHED: Mutex<Vec<(i32, u64)>> = Mutex::new(Vec::new());
static WATCHDOG: Once = Once::new();

fn watch(pid: i32, deadline_ns: u64) {
    WATCHDOG.call_once(|| {
        thread::spawn(|| {
            loop {
                thread::sleep(Duration::from_millis(50));
                let now = now_ns();
                if let Ok(watched) = WATCHED.lock() {
                    for &(pid, deadline) in watched.iter() {
                        if now > deadline {
                            // SAFETY: kill(2) on a child that is not reaped yet
                            // (entries leave the list before the reap).
                            unsafe {
                                libc::kill(pid, libc::SIGKILL);
                            }
                        }
                    }
                }
            }
        });
    });
    if let Ok(mut watched) = WATCHED.lock() {
        watched.push((pid, deadline_ns));
    }
}

fn unwatch(pid: i32) {
    if let Ok(mut watched) = WATCHED.lock() {
        watched.retain(|&(p, _)| p != pid);
    }
}

impl Spawned {
    /// Starts `cmd`; it is SIGKILLed if still running after `limit`.
    pub fn start(cmd: &mut Command, limit: Duration) -> io::Result<Spawned> {
        let started_ns = now_ns();
        let child = cmd.spawn()?;
        let pid = child.id() as i32;
        watch(pid, started_ns + limit.as_nanos() as u64);
        Ok(Spawned {
            child: Some(child),
            pid,
            started_ns,
            limit,
        })
    }

    /// Blocks until the child exits (at the latest at its limit, by SIGKILL).
    pub fn wait(mut self) -> io::Result<Finished> {
        let finished = self.reap();
        // std's handle must not wait again: the status is already ours.
        self.child.take();
        let finished = finished?;
        if finished.code == 128 + libc::SIGKILL
            && ms_between(self.started_ns, finished.ended_ns) >= self.limit.as_secs_f64() * 1e3
        {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("killed after the {:?} limit", self.limit),
            ));
        }
        Ok(finished)
    }

    /// Sends `sig`, then waits.
    pub fn stop(self, sig: i32) -> io::Result<Finished> {
        // SAFETY: kill(2) on our own unreaped child.
        unsafe {
            libc::kill(self.pid, sig);
        }
        self.wait()
    }

    fn reap(&mut self) -> io::Result<Finished> {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: wait4 on our own child with pointers to locals.
            let rc = unsafe { libc::wait4(self.pid, &mut status, 0, &mut usage) };
            let ended_ns = now_ns();
            if rc == self.pid {
                unwatch(self.pid);
                let code = if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else if libc::WIFSIGNALED(status) {
                    128 + libc::WTERMSIG(status)
                } else {
                    -1
                };
                let ms = |tv: libc::timeval| tv.tv_sec as f64 * 1e3 + tv.tv_usec as f64 / 1e3;
                return Ok(Finished {
                    started_ns: self.started_ns,
                    ended_ns,
                    code,
                    user_ms: ms(usage.ru_utime),
                    sys_ms: ms(usage.ru_stime),
                    minflt: usage.ru_minflt as u64,
                });
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                unwatch(self.pid);
                return Err(err);
            }
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if self.child.take().is_some() {
            // SAFETY: kill(2) on our own unreaped child, then reap it.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
            }
            let _ = self.reap();
        }
    }
}

/// The fields of `/proc/<pid>/status` the benchmark reports, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStatus {
    pub vm_hwm_kib: u64,
    pub vm_rss_kib: u64,
    pub rss_anon_kib: u64,
    pub rss_file_kib: u64,
    pub vm_data_kib: u64,
    pub threads: u64,
}

/// `None` once the process is gone or a zombie (a zombie has no memory lines).
pub fn proc_status(pid: i32) -> Option<ProcStatus> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    Some(ProcStatus {
        vm_hwm_kib: field("VmHWM")?,
        vm_rss_kib: field("VmRSS")?,
        rss_anon_kib: field("RssAnon").unwrap_or(0),
        rss_file_kib: field("RssFile").unwrap_or(0),
        vm_data_kib: field("VmData").unwrap_or(0),
        threads: field("Threads").unwrap_or(0),
    })
}

/// Direct children of `pid` (its main thread's view, which is the gate's only thread).
pub fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}
