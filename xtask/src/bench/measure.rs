//! The measurements. Each one starts its own scripted proxy, runs the gate as
//! a real process, and checks the gate's exit code so that a broken run is
//! reported as an error instead of as a number.

use std::{
    ffi::OsString,
    fs::File,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::Duration,
};

use crate::{
    bench::{
        process::{Finished, ProcStatus, Spawned, children, ms_between, now_ns, proc_status},
        proxy::{NEVER, Proxy},
    },
    elf::{self, ElfFacts},
};

/// Everything a measurement needs to start processes.
pub struct Ctx {
    pub gate: PathBuf,
    /// This benchmark's own executable, used as the stand-in app (`--stamp`).
    pub me: PathBuf,
    pub tmp: PathBuf,
    pub true_bin: PathBuf,
    pub sleep_bin: PathBuf,
    path_env: OsString,
    /// Added to every gate run (`--gate-arg`, for what-if experiments).
    pub extra_args: Vec<OsString>,
}

/// How long any single process may run before the watchdog kills it.
const LIMIT: Duration = Duration::from_secs(30);

impl Ctx {
    pub fn new(
        gate: PathBuf,
        me: PathBuf,
        tmp: PathBuf,
        extra_args: Vec<OsString>,
    ) -> Result<Ctx, String> {
        let find = |name: &str| {
            ["/bin", "/usr/bin"]
                .iter()
                .map(|dir| Path::new(dir).join(name))
                .find(|p| p.exists())
                .ok_or_else(|| format!("cannot find {name} in /bin or /usr/bin"))
        };
        Ok(Ctx {
            gate,
            me,
            tmp,
            true_bin: find("true")?,
            sleep_bin: find("sleep")?,
            path_env: std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            extra_args,
        })
    }

    /// A command with an empty environment (PATH only): no `LINKERD_*`
    /// variable or proxy setting of the caller leaks in, and every run execs
    /// with the same tiny environment.
    fn bare(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", &self.path_env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    /// The gate against `port`, with `args` before the `--`.
    pub fn gate(&self, port: u16, args: &[&str]) -> Command {
        let mut cmd = self.bare(&self.gate);
        cmd.arg("-p")
            .arg(port.to_string())
            .args(args)
            .args(&self.extra_args);
        cmd
    }

    fn stderr_path(&self) -> PathBuf {
        self.tmp.join("gate.stderr")
    }

    /// Sends stderr to a file, so a failed run can show the gate's log.
    pub fn capture_stderr(&self, cmd: &mut Command) -> Result<(), String> {
        let file = File::create(self.stderr_path()).map_err(|e| format!("temp file: {e}"))?;
        cmd.stderr(Stdio::from(file));
        Ok(())
    }

    pub fn expect_code(&self, what: &str, finished: &Finished, code: i32) -> Result<(), String> {
        if finished.code == code {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.stderr_path()).unwrap_or_default();
        Err(format!(
            "{what}: the gate exited {} (expected {code}); its stderr:\n{log}",
            finished.code
        ))
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<Finished, String> {
    Spawned::start(cmd, LIMIT)
        .and_then(Spawned::wait)
        .map_err(|e| format!("{what}: {e}"))
}

// ---------------------------------------------------------------- stand-in app

/// `xtask --stamp FILE [T0]`: the stand-in app. Its first action is to read
/// the clock; it writes that (and T0 if given) to FILE.
pub fn stamp_main(file: &OsString, t0: Option<&OsString>) -> i32 {
    let now = now_ns();
    let text = match t0 {
        Some(t0) => format!("{now} {}\n", t0.to_string_lossy()),
        None => format!("{now}\n"),
    };
    match std::fs::write(file, text) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// `xtask --stamp-exec FILE`: reads the clock, then execs `xtask --stamp FILE
/// T0`, so the stamp difference is exactly what the stand-in costs between an
/// exec and its first action (loader, libc and Rust runtime start-up).
pub fn stamp_exec_main(me: &Path, file: &OsString, idle_ms: u64) -> i32 {
    use std::os::unix::process::CommandExt;
    thread::sleep(Duration::from_millis(idle_ms));
    let t0 = now_ns();
    let err = Command::new(me)
        .arg("--stamp")
        .arg(file)
        .arg(t0.to_string())
        .exec();
    eprintln!("xtask --stamp-exec: cannot exec {}: {err}", me.display());
    1
}

pub fn read_stamp(path: &Path) -> Result<Vec<u64>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("the stand-in app left no stamp in {}: {e}", path.display()))?;
    text.split_whitespace()
        .map(|n| n.parse().map_err(|_| format!("bad stamp {text:?}")))
        .collect()
}

/// Exec-to-first-action cost of the stand-in app, in ms, when its exec
/// follows `idle_ms` of sleep (an exec after idling finds colder caches, as
/// the gate's exec does after a wait).
pub fn stand_in_cost(ctx: &Ctx, runs: usize, idle_ms: u64) -> Result<Vec<f64>, String> {
    let file = ctx.tmp.join("exec-stamp");
    let mut costs = Vec::with_capacity(runs);
    for _ in 0..runs {
        let _ = std::fs::remove_file(&file);
        let mut cmd = ctx.bare(&ctx.me);
        cmd.arg("--stamp-exec").arg(&file).arg(idle_ms.to_string());
        let finished = run(&mut cmd, "stand-in app")?;
        if finished.code != 0 {
            return Err(format!("stand-in app exited {}", finished.code));
        }
        match read_stamp(&file)?.as_slice() {
            [t1, t0] => costs.push(ms_between(*t0, *t1)),
            other => return Err(format!("bad exec stamp {other:?}")),
        }
    }
    Ok(costs)
}

// ---------------------------------------------------------------- 1. detection lag

#[derive(Debug, Clone)]
pub struct LagTrial {
    pub nominal_ms: u64,
    /// Flip instant T after the gate was spawned (≥ nominal delay).
    pub flip_ms: f64,
    /// App start − T.
    pub lag_ms: f64,
    /// First 200 check − T: the part the backoff schedule decides.
    pub poll_gap_ms: f64,
    /// App start − first 200 check: response, gate hand-off, exec, app start.
    pub handoff_ms: f64,
    pub checks: usize,
    /// TCP connections those checks used.
    pub connections: usize,
    /// App start − gate spawn.
    pub wait_s: f64,
    /// CLOCK_MONOTONIC instants of the first 200 check and of the app's
    /// start, to line up with other traces.
    pub detected_ns: u64,
    pub app_ns: u64,
}

impl LagTrial {
    pub fn checks_per_s(&self) -> f64 {
        self.checks as f64 / self.wait_s
    }
}

pub struct LagRun {
    pub label: &'static str,
    pub args: Vec<&'static str>,
    /// The poll period expected with these settings (used only if the flip
    /// comes at the very first check).
    pub period_ms: u64,
    pub trials: Vec<LagTrial>,
}

impl LagRun {
    pub fn empty(label: &'static str, args: Vec<&'static str>, period_ms: u64) -> LagRun {
        LagRun {
            label,
            args,
            period_ms,
            trials: Vec::new(),
        }
    }
}

/// Trials rotate through `delays_ms`. The proxy turns ready at T = the
/// first check at or after spawn + delay, plus a fraction of the gate's
/// check interval (as observed by the proxy). A real proxy's T is
/// independent of the gate's schedule, so its phase within a check interval
/// is uniform; the fractions are stratified by a golden-ratio sequence,
/// which estimates the same distribution with far less sampling noise than
/// random instants would. (Fixed instants would not sample the phase evenly:
/// the schedule drifts by the check time and 1 ms timer ticks.)
///
/// `settings` names the run, its gate arguments and expected period; the
/// returned run holds its trials.
pub fn detection_lag(
    ctx: &Ctx,
    settings: LagRun,
    delays_ms: &[u64],
    per_delay: usize,
) -> Result<LagRun, String> {
    let LagRun {
        label,
        args,
        period_ms,
        ..
    } = settings;
    const GOLDEN: f64 = 0.618_033_988_749_895;
    let stamp = ctx.tmp.join("app-stamp");
    let mut trials = Vec::new();
    for j in 0..delays_ms.len() * per_delay {
        let nominal_ms = delays_ms[j % delays_ms.len()];
        let fraction = ((j + 1) as f64 * GOLDEN).fract();
        let proxy = Proxy::start(NEVER).map_err(|e| format!("proxy: {e}"))?;
        let _ = std::fs::remove_file(&stamp);
        let mut cmd = ctx.gate(proxy.port(), &args);
        cmd.arg("--").arg(&ctx.me).arg("--stamp").arg(&stamp);
        ctx.capture_stderr(&mut cmd)?;

        proxy.flip_at_phase(
            now_ns() + nominal_ms * 1_000_000,
            fraction,
            period_ms * 1_000_000,
        );
        let finished = Spawned::start(&mut cmd, LIMIT)
            .and_then(Spawned::wait)
            .map_err(|e| format!("gate: {e}"))?;
        ctx.expect_code(label, &finished, 0)?;
        let flip_at = proxy
            .flip_instant()
            .ok_or("the proxy never turned ready, yet the gate started the app")?;

        let app_at = *read_stamp(&stamp)?
            .first()
            .ok_or("empty stamp from the stand-in app")?;
        let checks = proxy.checks();
        let detected_at = checks
            .iter()
            .find(|r| r.status == 200)
            .map(|r| r.at_ns)
            .ok_or("the gate started the app without a 200 from the proxy")?;
        trials.push(LagTrial {
            nominal_ms,
            flip_ms: ms_between(finished.started_ns, flip_at),
            lag_ms: ms_between(flip_at, app_at),
            poll_gap_ms: ms_between(flip_at, detected_at),
            handoff_ms: ms_between(detected_at, app_at),
            checks: checks.len(),
            connections: proxy.connections(),
            wait_s: ms_between(finished.started_ns, app_at) / 1e3,
            detected_ns: detected_at,
            app_ns: app_at,
        });
    }
    Ok(LagRun {
        label,
        args,
        period_ms,
        trials,
    })
}

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
