//! The fleet's pods: real gates, each started at its instant and run to
//! its app's start (their CPU and memory all together), or the bench's
//! own fixed-interval loop, one thread per pod.

use std::{
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use super::{LIMIT, server::Protocol};
use crate::bench::{
    process::{Spawned, now_ns, proc_status},
    stamps::read_stamp,
};

/// What a fleet of gates did.
pub struct Gates {
    /// When each app started.
    pub apps_ns: Vec<u64>,
    /// Their CPU (user+sys), all together.
    pub cpu_ms: f64,
    /// The most memory they held at once, all together (VmRSS, RssAnon).
    pub peak_kib: (u64, u64),
}

/// The gates, each started at its instant, each run to its app's start.
pub fn gates(
    gate: &Path,
    me: &Path,
    dir: &Path,
    url: &str,
    backoff: &[&str],
    n: usize,
    start_of: impl Fn(usize) -> u64,
) -> Result<Gates, String> {
    let pids = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (pids, done) = (pids.clone(), done.clone());
        thread::spawn(move || sample_memory(&pids, &done))
    };
    let mut waits = Vec::with_capacity(n);
    for i in 0..n {
        sleep_until(start_of(i));
        let stamp = dir.join(i.to_string());
        let mut cmd = std::process::Command::new(gate);
        cmd.args(["--mesh", "none", "--timeout", "40s", "--wait-for", url])
            .args(backoff)
            .arg("--")
            .arg(me)
            .arg("--stamp")
            .arg(&stamp)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let spawned = Spawned::start(&mut cmd, LIMIT).map_err(|e| format!("gate {i}: {e}"))?;
        if let Ok(mut pids) = pids.lock() {
            pids.push(spawned.pid);
        }
        waits.push(thread::spawn(move || (spawned.wait(), stamp)));
    }
    let mut apps = Vec::with_capacity(n);
    let mut cpu_ms = 0.0;
    for wait in waits {
        let (finished, stamp) = wait.join().map_err(|_| "a gate's waiter panicked")?;
        let finished = finished.map_err(|e| format!("gate: {e}"))?;
        if finished.code != 0 {
            return Err(format!("a gate exited {}", finished.code));
        }
        cpu_ms += finished.cpu_ms();
        apps.push(*read_stamp(&stamp)?.first().ok_or("an empty stamp")?);
    }
    done.store(true, Ordering::SeqCst);
    let peak_kib = sampler.join().unwrap_or((0, 0));
    Ok(Gates {
        apps_ns: apps,
        cpu_ms,
        peak_kib,
    })
}

/// The most memory the gates held at once, summed over them every 100 ms:
/// (VmRSS, RssAnon) in KiB.
fn sample_memory(pids: &Mutex<Vec<i32>>, done: &AtomicBool) -> (u64, u64) {
    let mut peak = (0, 0);
    while !done.load(Ordering::SeqCst) {
        let live = pids.lock().map(|p| p.clone()).unwrap_or_default();
        let (rss, anon) = live
            .iter()
            .filter_map(|&pid| proc_status(pid))
            .fold((0, 0), |(r, a), s| (r + s.vm_rss_kib, a + s.rss_anon_kib));
        peak = (peak.0.max(rss), peak.1.max(anon));
        thread::sleep(Duration::from_millis(100));
    }
    peak
}

/// The bench's own loop, one thread per pod: connect, ask, and if not
/// ready, sleep 1 s and again; when each saw ready.
pub fn fixed_poll(
    protocol: Protocol,
    addr: std::net::SocketAddr,
    n: usize,
    start_of: impl Fn(usize) -> u64,
) -> Result<Vec<u64>, String> {
    let deadline = now_ns() + LIMIT.as_nanos() as u64;
    let pods: Vec<_> = (0..n)
        .map(|i| {
            let at = start_of(i);
            thread::spawn(move || {
                sleep_until(at);
                while now_ns() < deadline {
                    if ask(protocol, addr) {
                        return Some(now_ns());
                    }
                    thread::sleep(Duration::from_secs(1));
                }
                None
            })
        })
        .collect();
    pods.into_iter()
        .map(|pod| {
            pod.join()
                .ok()
                .flatten()
                .ok_or_else(|| "a polling pod never saw the server ready".to_string())
        })
        .collect()
}

/// One first exchange; whether its answer is the ready one.
fn ask(protocol: Protocol, addr: std::net::SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 256];
    match stream
        .write_all(&protocol.request())
        .map(|()| stream.read(&mut reply))
    {
        Ok(Ok(got)) => protocol.is_ready(&reply[..got]),
        _ => false,
    }
}

pub fn sleep_until(at_ns: u64) {
    let now = now_ns();
    if at_ns > now {
        thread::sleep(Duration::from_nanos(at_ns - now));
    }
}
