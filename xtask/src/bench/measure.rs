//! The measurements. Each one starts its own scripted proxy, runs the gate as
//! a real process, and checks the gate's exit code so that a broken run is
//! reported as an error instead of as a number. Here: what they share (`Ctx`,
//! the stand-in app: `stamps.rs`) and the detection lag; the ready path, memory,
//! CPU and size: `footprint.rs`.

use std::{
    ffi::OsString,
    fs::File,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use crate::bench::{
    process::{Finished, Spawned, ms_between, now_ns},
    proxy::{NEVER, Proxy},
    stamps::read_stamp,
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
pub(super) const LIMIT: Duration = Duration::from_secs(30);

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
    pub(super) fn bare(&self, program: &Path) -> Command {
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

pub(super) fn run(cmd: &mut Command, what: &str) -> Result<Finished, String> {
    Spawned::start(cmd, LIMIT)
        .and_then(Spawned::wait)
        .map_err(|e| format!("{what}: {e}"))
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
