//! The "app" of the container tests: a tiny std-only program, built static
//! (`rustc --target <arch>-unknown-linux-musl`) into `FROM scratch` images, that
//! reports what an app in a pod sees. It is not part of the crate; the test
//! builds it with rustc directly.
//!
//! Usage: `app STEP...`, steps run in order:
//!   id                 print this process's PID, parent PID and start time
//!   proc PID           the same for another process, plus its command line
//!   get ADDR PATH      one HTTP GET to ADDR (e.g. 127.0.0.1:4191); exit 1 unless 2xx
//!   hosts              print the size of /etc/hosts
//!   sleep MS           sleep MS milliseconds
//!   on-term CODE       from now on, SIGTERM prints a line and exits CODE
//!   wait               block until a signal ends the process
//!   exit CODE          exit CODE
//!   pause              a pod sandbox: block until SIGTERM or SIGINT, then exit 0
//!
//! Each step prints one line to stdout, flushed at once, so the test can
//! follow `docker logs`.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    process::exit,
    sync::atomic::{AtomicI32, Ordering},
    time::Duration,
};

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

unsafe extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn _exit(code: i32) -> !;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

/// The exit code for SIGTERM, set by `on-term` (or `pause`).
static TERM_EXIT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: i32) {
    let line: &[u8] = if sig == SIGTERM {
        b"got SIGTERM\n"
    } else {
        b"got SIGINT\n"
    };
    // SAFETY: write(2) and _exit(2) are async-signal-safe.
    unsafe {
        write(1, line.as_ptr(), line.len());
        _exit(TERM_EXIT.load(Ordering::SeqCst));
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn fail(line: &str) -> ! {
    say(line);
    exit(1)
}

/// `pid=.. ppid=.. start=..` from /proc/<which>/stat (fields 1, 4 and 22).
fn stat(which: &str) -> String {
    let text = std::fs::read_to_string(format!("/proc/{which}/stat"))
        .unwrap_or_else(|e| fail(&format!("cannot read /proc/{which}/stat: {e}")));
    // The command name (field 2) is in parentheses and may contain spaces.
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let pid = text.split_whitespace().next().unwrap_or("?");
    let ppid = fields.get(1).unwrap_or(&"?");
    let start = fields.get(19).unwrap_or(&"?");
    format!("pid={pid} ppid={ppid} start={start}")
}

fn get(addr: &str, path: &str) {
    let addr: SocketAddr = addr
        .parse()
        .unwrap_or_else(|e| fail(&format!("bad address {addr}: {e}")));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .unwrap_or_else(|e| fail(&format!("GET {path}: cannot connect: {e}")));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
    if let Err(e) = stream.write_all(request.as_bytes()) {
        fail(&format!("GET {path}: cannot send: {e}"));
    }
    let mut response = Vec::new();
    let _ = stream.take(4096).read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next().unwrap_or("").to_string();
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status.starts_with('2') {
        say(&format!("GET {path}: {status_line}"));
    } else if status_line.is_empty() {
        fail(&format!("GET {path}: no response"));
    } else {
        fail(&format!("GET {path}: {status_line}"));
    }
}

fn number(value: Option<&String>, what: &str) -> i64 {
    value
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fail(&format!("{what}: expected a number")))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut steps = args.iter();
    while let Some(step) = steps.next() {
        match step.as_str() {
            "id" => {
                let cmdline = std::fs::read("/proc/self/cmdline").unwrap_or_default();
                let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
                say(&format!(
                    "app {} argv0={}",
                    stat("self"),
                    String::from_utf8_lossy(argv0)
                ));
            }
            "proc" => {
                let pid = steps.next().cloned().unwrap_or_default();
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let argv: Vec<String> = cmdline
                    .split(|b| *b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                say(&format!("proc {} cmdline={}", stat(&pid), argv.join(" ")));
            }
            "get" => {
                let addr = steps.next().cloned().unwrap_or_default();
                let path = steps.next().cloned().unwrap_or_else(|| "/".to_string());
                get(&addr, &path);
            }
            "hosts" => {
                let size = std::fs::metadata("/etc/hosts").map_or(0, |m| m.len());
                say(&format!("hosts-bytes={size}"));
            }
            "sleep" => {
                let ms = number(steps.next(), "sleep");
                std::thread::sleep(Duration::from_millis(ms.max(0) as u64));
                say(&format!("slept {ms}ms"));
            }
            "on-term" => {
                TERM_EXIT.store(number(steps.next(), "on-term") as i32, Ordering::SeqCst);
                // SAFETY: installs a handler that only calls async-signal-safe functions.
                unsafe { signal(SIGTERM, on_signal) };
                say("handling SIGTERM");
            }
            "wait" => {
                say("waiting for a signal");
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            "pause" => {
                TERM_EXIT.store(0, Ordering::SeqCst);
                // SAFETY: as for on-term. As PID 1 a signal without a handler is
                // dropped, so the sandbox needs these to stop on `docker stop`.
                unsafe {
                    signal(SIGTERM, on_signal);
                    signal(SIGINT, on_signal);
                }
                say("pod sandbox up");
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            "exit" => exit(number(steps.next(), "exit") as i32),
            other => fail(&format!("unknown step {other}")),
        }
    }
}
