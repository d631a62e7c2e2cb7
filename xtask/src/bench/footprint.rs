//! What the gate costs beside its lag: the ready path (the gate in front of
//! an app that is ready at once), memory while waiting and supervising, CPU
//! while waiting, and the binary's size. Each measurement runs the gate as a
//! real process against its own scripted proxy (`measure::Ctx`).

use std::{path::Path, process::Command, thread, time::Duration};

use crate::{
    bench::{
        measure::{Ctx, LIMIT, run},
        process::{ProcStatus, Spawned, children, ms_between, now_ns, proc_status},
        proxy::{NEVER, Proxy},
    },
    elf::{self, ElfFacts},
};

// ---------------------------------------------------------------- 2. ready path

#[derive(Default)]
pub struct ReadyPath {
    pub gate_ms: Vec<f64>,
    pub true_ms: Vec<f64>,
    /// Gate run minus the /bin/true run next to it.
    pub paired_diff_ms: Vec<f64>,
    pub gate_cpu_ms: Vec<f64>,
    pub true_cpu_ms: Vec<f64>,
    pub gate_minflt: Vec<f64>,
    pub true_minflt: Vec<f64>,
    pub checks: usize,
}

/// Alternates gate and plain runs (ABBA order, so neither always goes
/// first), after a warm-up that fills the page cache.
pub fn ready_path(ctx: &Ctx, runs: usize, warmup: usize) -> Result<ReadyPath, String> {
    let proxy = Proxy::start(0).map_err(|e| format!("proxy: {e}"))?;
    let mut out = ReadyPath {
        gate_ms: Vec::new(),
        true_ms: Vec::new(),
        paired_diff_ms: Vec::new(),
        gate_cpu_ms: Vec::new(),
        true_cpu_ms: Vec::new(),
        gate_minflt: Vec::new(),
        true_minflt: Vec::new(),
        checks: 0,
    };
    let run_gate = || {
        let mut cmd = ctx.gate(proxy.port(), &[]);
        cmd.arg("--").arg(&ctx.true_bin);
        run(&mut cmd, "ready path")
    };
    let run_true = || run(&mut ctx.bare(&ctx.true_bin), "/bin/true");
    for i in 0..warmup + runs {
        let (gate, plain) = if i % 2 == 0 {
            let g = run_gate()?;
            (g, run_true()?)
        } else {
            let t = run_true()?;
            (run_gate()?, t)
        };
        if gate.code != 0 {
            return Err(format!("ready path: the gate exited {}", gate.code));
        }
        if i < warmup {
            continue;
        }
        out.gate_ms.push(gate.wall_ms());
        out.true_ms.push(plain.wall_ms());
        out.paired_diff_ms.push(gate.wall_ms() - plain.wall_ms());
        out.gate_cpu_ms.push(gate.cpu_ms());
        out.true_cpu_ms.push(plain.cpu_ms());
        out.gate_minflt.push(gate.minflt as f64);
        out.true_minflt.push(plain.minflt as f64);
    }
    out.checks = proxy.count("GET", "/ready");
    Ok(out)
}

// ---------------------------------------------------------------- 3. memory

pub struct Memory {
    pub label: &'static str,
    /// Highest VmHWM and thread count seen; RSS split from the last sample.
    pub peak: ProcStatus,
    pub samples: usize,
    pub sampled_after_ms: f64,
    pub exit_code: i32,
    pub note: String,
}

fn sample_into(peak: &mut ProcStatus, s: ProcStatus) {
    peak.vm_hwm_kib = peak.vm_hwm_kib.max(s.vm_hwm_kib);
    peak.threads = peak.threads.max(s.threads);
    peak.vm_rss_kib = s.vm_rss_kib;
    peak.rss_anon_kib = s.rss_anon_kib;
    peak.rss_file_kib = s.rss_file_kib;
    peak.vm_data_kib = s.vm_data_kib;
}

/// Samples `pid` every 20 ms until `until_ns`; false if it vanished.
pub fn sample_until(pid: i32, until_ns: u64, peak: &mut ProcStatus, samples: &mut usize) -> bool {
    while now_ns() < until_ns {
        match proc_status(pid) {
            Some(s) => {
                sample_into(peak, s);
                *samples += 1;
            }
            None => return false,
        }
        thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The gate waiting for a proxy that answers 503 (or, with `refused`, for a
/// port nobody listens on), sampled for `for_ms` after its spawn.
pub fn memory_waiting(ctx: &Ctx, refused: bool, for_ms: u64) -> Result<Memory, String> {
    let proxy = Proxy::start(NEVER).map_err(|e| format!("proxy: {e}"))?;
    let port = if refused {
        sim_proxy::closed_port().map_err(|e| format!("closed port: {e}"))?
    } else {
        proxy.port()
    };
    let mut cmd = ctx.gate(port, &[]);
    cmd.arg("--").arg(&ctx.true_bin);
    ctx.capture_stderr(&mut cmd)?;
    let spawned = Spawned::start(&mut cmd, LIMIT).map_err(|e| format!("gate: {e}"))?;
    if !refused && !proxy.wait_for_checks(1, Duration::from_secs(5)) {
        return Err("memory: the gate made no readiness check within 5 s".to_string());
    }
    let mut peak = ProcStatus::default();
    let mut samples = 0;
    let until = spawned.started_ns + for_ms * 1_000_000;
    if !sample_until(spawned.pid, until, &mut peak, &mut samples) || samples == 0 {
        return Err("memory: the gate stopped waiting on its own".to_string());
    }
    let sampled_after_ms = ms_between(spawned.started_ns, now_ns());
    let finished = spawned
        .stop(libc::SIGTERM)
        .map_err(|e| format!("gate: {e}"))?;
    ctx.expect_code(
        "memory (SIGTERM while waiting)",
        &finished,
        128 + libc::SIGTERM,
    )?;
    Ok(Memory {
        label: if refused {
            "waiting (connection refused)"
        } else {
            "waiting (proxy answers 503)"
        },
        peak,
        samples,
        sampled_after_ms,
        exit_code: finished.code,
        note: format!(
            "{} checks on {} connection(s)",
            proxy.count("GET", "/ready"),
            proxy.connections()
        ),
    })
}

/// `--shutdown` mode supervising `sleep 3`: sampled while the child runs,
/// then up to the gate's exit (the shutdown request included).
pub fn memory_supervising(ctx: &Ctx) -> Result<(Memory, Memory), String> {
    let proxy = Proxy::start(0).map_err(|e| format!("proxy: {e}"))?;
    let mut cmd = ctx.gate(proxy.port(), &["--shutdown"]);
    cmd.arg("--").arg(&ctx.sleep_bin).arg("3");
    ctx.capture_stderr(&mut cmd)?;
    let spawned = Spawned::start(&mut cmd, LIMIT).map_err(|e| format!("gate: {e}"))?;
    let pid = spawned.pid;
    let deadline = now_ns() + 2_000_000_000;
    while children(pid).is_empty() {
        if now_ns() > deadline {
            return Err("supervise: no child appeared within 2 s".to_string());
        }
        thread::sleep(Duration::from_millis(2));
    }
    let mut running = ProcStatus::default();
    let mut samples = 0;
    while !children(pid).is_empty() {
        match proc_status(pid) {
            Some(s) => {
                sample_into(&mut running, s);
                samples += 1;
            }
            None => break,
        }
        thread::sleep(Duration::from_millis(20));
    }
    let sampled_after_ms = ms_between(spawned.started_ns, now_ns());
    // The child is gone: keep sampling through the shutdown request until
    // the gate itself exits (a zombie has no memory lines).
    let mut to_exit = running;
    let mut exit_samples = samples;
    sample_until(
        pid,
        now_ns() + 10_000_000_000,
        &mut to_exit,
        &mut exit_samples,
    );
    let finished = spawned.wait().map_err(|e| format!("gate: {e}"))?;
    ctx.expect_code("supervise", &finished, 0)?;
    let shutdowns = proxy.count("POST", "/shutdown");
    if shutdowns == 0 {
        return Err("supervise: the gate never asked the proxy to shut down".to_string());
    }
    let while_running = Memory {
        label: "supervising `sleep 3` (--shutdown)",
        peak: running,
        samples,
        sampled_after_ms,
        exit_code: finished.code,
        note: "sampled while the child ran".to_string(),
    };
    let through_exit = Memory {
        label: "supervising, through shutdown to exit",
        peak: to_exit,
        samples: exit_samples,
        sampled_after_ms: finished.wall_ms(),
        exit_code: finished.code,
        note: format!("{shutdowns} POST /shutdown"),
    };
    Ok((while_running, through_exit))
}

// ---------------------------------------------------------------- 4. CPU

pub struct CpuRun {
    pub user_ms: f64,
    pub sys_ms: f64,
    pub wall_ms: f64,
    pub checks: usize,
    pub connections: usize,
    pub minflt: u64,
}

/// `-t 5s` against a proxy that never turns ready: exits 69 after 5 s; its
/// CPU time comes from wait4's rusage.
pub fn cpu_waiting(ctx: &Ctx) -> Result<CpuRun, String> {
    let proxy = Proxy::start(NEVER).map_err(|e| format!("proxy: {e}"))?;
    let mut cmd = ctx.gate(proxy.port(), &["-t", "5s"]);
    cmd.arg("--").arg(&ctx.true_bin);
    ctx.capture_stderr(&mut cmd)?;
    let finished = run(&mut cmd, "cpu")?;
    ctx.expect_code("cpu (5 s timeout)", &finished, 69)?;
    Ok(CpuRun {
        user_ms: finished.user_ms,
        sys_ms: finished.sys_ms,
        wall_ms: finished.wall_ms(),
        checks: proxy.count("GET", "/ready"),
        connections: proxy.connections(),
        minflt: finished.minflt,
    })
}

// ---------------------------------------------------------------- 5. size

pub struct Size {
    pub bytes: u64,
    pub elf: ElfFacts,
    /// `file(1)`'s description, when it is installed.
    pub file_says: Option<String>,
}

pub fn size(gate: &Path) -> Result<Size, String> {
    let bytes = std::fs::metadata(gate)
        .map_err(|e| format!("{}: {e}", gate.display()))?
        .len();
    let elf = elf::inspect(gate)?;
    let file_says = Command::new("file")
        .arg("-b")
        .arg(gate)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    Ok(Size {
        bytes,
        elf,
        file_says,
    })
}
