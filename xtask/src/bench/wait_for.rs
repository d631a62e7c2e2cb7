//! Section 6, `--wait-for`: three PostgreSQL targets (the `sim-proxy` crate's
//! `FakePostgres`, answering 57P03 until its instant) behind a proxy that
//! is ready at once. Measures the app's start after the *last* target turns
//! ready, at the default `--wait-for-backoff` (1 s) and at 100 ms (the least), and the
//! gate's memory while it waits for all three.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use sim_proxy::FakePostgres;

use crate::bench::{
    footprint::{Memory, sample_until},
    measure::Ctx,
    process::{ProcStatus, Spawned, ms_between, now_ns},
    proxy::Proxy,
    stamps::read_stamp,
    stats::Summary,
    tls::{self, TlsCost},
};

/// When the three targets turn ready after the gate's spawn; the last one
/// also gets a fraction of its backoff step (stratified, as for the proxy).
const READY_AFTER_MS: [u64; 3] = [150, 300, 450];
pub(super) const LIMIT: Duration = Duration::from_secs(30);

pub struct LagRun {
    pub label: &'static str,
    /// The `--wait-for-backoff` of this run, in ms.
    pub cap_ms: u64,
    /// App start − the last target's ready instant, stand-in cost subtracted.
    pub lag_ms: Vec<f64>,
}

pub struct WaitFor {
    pub memory: Memory,
    /// Waiting for one target of every kind; `None` for a gate (measured
    /// with `--gate`) that does not know them all.
    pub every_kind: Option<Memory>,
    pub runs: Vec<LagRun>,
    /// One TLS target against one plaintext one; `None` for a gate that
    /// has no `--ca-file`.
    pub tls: Option<TlsCost>,
}

/// Runs both lag settings (`trials` each) and the memory sample.
pub fn measure(ctx: &Ctx, trials: usize, stand_in_ms: f64) -> Result<WaitFor, String> {
    let never = Instant::now() + Duration::from_secs(3600);
    let postgres = targets(&[never; 3])?;
    let three = memory(
        ctx,
        "waiting for 3 --wait-for targets (57P03)",
        wait_for_args(&postgres),
        "proxy ready; targets checked through no proxy, on loopback",
    )?;
    let closing = Closing::start()?;
    let every_kind = if knows_every_kind(&ctx.gate, closing.port) {
        Some(memory(
            ctx,
            "waiting for one --wait-for target of each kind",
            every_kind_args(closing.port),
            "proxy ready; each network target a loopback port that accepts and closes \
             (tcp:// is ready at once), dns:// short of addresses, paths missing",
        )?)
    } else {
        None
    };
    let runs = [
        ("default (--wait-for-backoff 1s)", 1000),
        // The least cap the gate accepts.
        ("--wait-for-backoff 100ms", 100),
    ]
    .into_iter()
    .map(|(label, cap_ms)| lag(ctx, label, cap_ms, trials, stand_in_ms))
    .collect::<Result<_, _>>()?;
    let tls = if speaks_tls(&ctx.gate) {
        Some(tls::measure(ctx, trials)?)
    } else {
        None
    };
    Ok(WaitFor {
        memory: three,
        every_kind,
        runs,
        tls,
    })
}

fn targets(ready: &[Instant]) -> Result<Vec<FakePostgres>, String> {
    ready
        .iter()
        .map(|at| FakePostgres::start(*at).map_err(|e| format!("fake PostgreSQL: {e}")))
        .collect()
}

fn wait_for_args(targets: &[FakePostgres]) -> Vec<String> {
    targets
        .iter()
        .flat_map(|t| ["--wait-for".to_string(), format!("postgres://{}", t.addr())])
        .collect()
}

fn lag(
    ctx: &Ctx,
    label: &'static str,
    cap_ms: u64,
    trials: usize,
    stand_in_ms: f64,
) -> Result<LagRun, String> {
    const GOLDEN: f64 = 0.618_033_988_749_895;
    let stamp = ctx.tmp.join("wait-for-stamp");
    let proxy = Proxy::start(0).map_err(|e| format!("proxy: {e}"))?;
    let mut lag_ms = Vec::new();
    for j in 0..trials {
        let fraction = ((j + 1) as f64 * GOLDEN).fract();
        let (base, base_ns) = (Instant::now(), now_ns());
        let mut after = READY_AFTER_MS.map(Duration::from_millis);
        after[2] += Duration::from_millis(cap_ms).mul_f64(fraction);
        let last_ns = base_ns + after[2].as_nanos() as u64;
        let targets = targets(&after.map(|d| base + d))?;
        let _ = std::fs::remove_file(&stamp);
        let cap = format!("{cap_ms}ms");
        let mut args = vec!["--wait-for-backoff".to_string(), cap];
        args.extend(wait_for_args(&targets));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = ctx.gate(proxy.port(), &args);
        cmd.arg("--").arg(&ctx.me).arg("--stamp").arg(&stamp);
        ctx.capture_stderr(&mut cmd)?;
        let finished = Spawned::start(&mut cmd, LIMIT)
            .and_then(Spawned::wait)
            .map_err(|e| format!("gate: {e}"))?;
        ctx.expect_code(label, &finished, 0)?;
        let app_ns = *read_stamp(&stamp)?
            .first()
            .ok_or("empty stamp from the stand-in app")?;
        if app_ns < last_ns {
            return Err(format!(
                "{label}: the app started before the last target was ready"
            ));
        }
        lag_ms.push(ms_between(last_ns, app_ns) - stand_in_ms);
    }
    Ok(LagRun {
        label,
        cap_ms,
        lag_ms,
    })
}

/// Every scheme the gate checks, each once: the network ones at `port`.
fn every_kind_args(port: u16) -> Vec<String> {
    let mut targets: Vec<String> = ["tcp"]
        .into_iter()
        .chain(sim_proxy::PROTOCOL_SCHEMES)
        .map(|scheme| format!("{scheme}://127.0.0.1:{port}"))
        .collect();
    targets.extend([
        "dns://localhost?min=9".to_string(),
        "file:///nonexistent/linkerd-await-bench".to_string(),
        "unix:///nonexistent/linkerd-await-bench.sock".to_string(),
    ]);
    targets
        .into_iter()
        .flat_map(|target| ["--wait-for".to_string(), target])
        .collect()
}

/// Whether `gate` accepts every kind of target (an older binary measured
/// with `--gate` refuses the schemes it predates: a usage error, exit 2).
fn knows_every_kind(gate: &Path, port: u16) -> bool {
    std::process::Command::new(gate)
        .args(["--mesh", "none", "--timeout", "1ms"])
        .args(every_kind_args(port))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.code() != Some(2))
}

/// A loopback port that accepts every connection and closes it at once:
/// through a mesh, what a target that is down looks like.
struct Closing {
    port: u16,
}

impl Closing {
    fn start() -> Result<Closing, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        // Lives as long as the benchmark process: each accepted stream is
        // dropped, which closes it.
        std::thread::spawn(move || listener.incoming().for_each(drop));
        Ok(Closing { port })
    }
}

/// The gate waiting for targets that never turn ready (and checking them
/// as often as the gate allows: at the least cap, 100 ms), sampled for 1.5 s.
pub(super) fn memory(
    ctx: &Ctx,
    label: &'static str,
    targets: Vec<String>,
    note: &str,
) -> Result<Memory, String> {
    let proxy = Proxy::start(0).map_err(|e| format!("proxy: {e}"))?;
    let mut args = vec!["--wait-for-backoff".to_string(), "100ms".to_string()];
    args.extend(targets);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = ctx.gate(proxy.port(), &args);
    cmd.arg("--").arg(&ctx.true_bin);
    ctx.capture_stderr(&mut cmd)?;
    let spawned = Spawned::start(&mut cmd, LIMIT).map_err(|e| format!("gate: {e}"))?;
    let mut peak = ProcStatus::default();
    let mut samples = 0;
    let until = spawned.started_ns + 1_500_000_000;
    if !sample_until(spawned.pid, until, &mut peak, &mut samples) || samples == 0 {
        return Err(format!("{label}: the gate stopped waiting on its own"));
    }
    let sampled_after_ms = ms_between(spawned.started_ns, now_ns());
    let finished = spawned
        .stop(libc::SIGTERM)
        .map_err(|e| format!("gate: {e}"))?;
    ctx.expect_code(label, &finished, 128 + libc::SIGTERM)?;
    Ok(Memory {
        label,
        peak,
        samples,
        sampled_after_ms,
        exit_code: finished.code,
        note: note.to_string(),
    })
}

/// One line per run: `median 23 ms, p90 41 ms, max 48 ms (cap 50 ms, 10 trials)`.
pub fn lines(w: &WaitFor) -> Vec<String> {
    w.runs
        .iter()
        .map(|run| match Summary::of(&run.lag_ms) {
            Some(s) => format!(
                "{}: app start − last target ready: median {:.1} ms, p90 {:.1} ms, max {:.1} ms ({} trials; one step is at most {} ms)",
                run.label, s.median, s.p90, s.max, s.n, run.cap_ms
            ),
            None => format!("{}: no trials", run.label),
        })
        .collect()
}

/// Whether `gate` checks TLS targets (it has `--ca-file`).
fn speaks_tls(gate: &Path) -> bool {
    std::process::Command::new(gate)
        .arg("--help")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("--ca-file"))
}

/// Whether `path` names a gate that knows `--wait-for` (an older binary
/// measured with `--gate` does not: the section is skipped).
pub fn supported(gate: &Path) -> bool {
    std::process::Command::new(gate)
        .arg("--help")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("--wait-for"))
}
