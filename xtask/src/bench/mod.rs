//! Benchmark of the startup gate against the budgets of issue 5.
//!
//! ```text
//! cargo xtask bench [--quick] [--json PATH] [--markdown PATH]
//! ```
//!
//! Builds the binary users get (release, stripped, static musl), then
//! measures it as a real process against a scripted proxy on loopback:
//! detection lag, ready-path overhead, memory, CPU while waiting, size.
//! Prints a table and writes `bench/results.json`, `bench/RESULTS.md` and
//! the chart of the lag distributions, `bench/lag.svg`
//! (a `--quick` run writes under `target/bench/` instead, so it never
//! overwrites the committed full results).

mod chart;
mod json;
mod measure;
mod process;
mod proxy;
mod report;
mod stats;
mod wait_for;

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    time::{SystemTime, UNIX_EPOCH},
};

use clap::{Args, ValueEnum};

use crate::bench::{
    measure::Ctx,
    process::now_ns,
    report::{Machine, Results},
};

const MUSL: &str = "x86_64-unknown-linux-musl";
/// Only its size is measured (the budgets are the same for both arches).
const MUSL_ARM64: &str = "aarch64-unknown-linux-musl";

/// `cargo xtask bench` options. Experiments (`--gate`, `--gate-arg`, `--only`)
/// write under target/bench/ unless `--json`/`--markdown` say otherwise.
#[derive(Debug, Args)]
pub struct Options {
    /// Short run (well under a minute)
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON results [default: bench/results.json]
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Where to write the Markdown report [default: bench/RESULTS.md]
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,
    /// Measure this binary instead of building the musl release binary
    #[arg(long, value_name = "PATH")]
    gate: Option<PathBuf>,
    /// Add ARG to every gate command line (repeatable), e.g. --gate-arg=--backoff=40ms
    #[arg(long = "gate-arg", value_name = "ARG", allow_hyphen_values = true)]
    gate_args: Vec<OsString>,
    /// Run only these sections (size always runs)
    #[arg(long, value_name = "LIST", value_enum, value_delimiter = ',')]
    only: Option<Vec<Section>>,
}

/// The parts of the benchmark that `--only` can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    Lag,
    Poll,
    Ready,
    Memory,
    Cpu,
    WaitFor,
}

impl Options {
    /// The run whose results the repository keeps: full, default settings,
    /// the binary built here.
    fn official(&self) -> bool {
        !self.quick && self.gate.is_none() && self.gate_args.is_empty() && self.only.is_none()
    }

    fn runs(&self, section: Section) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.contains(&section))
    }
}

/// How much of everything to do.
struct Plan {
    delays_ms: Vec<u64>,
    lag_per_delay: usize,
    poll_per_delay: usize,
    ready_runs: usize,
    warmup: usize,
    stand_in_runs: usize,
    stand_in_idle_runs: usize,
    cpu_runs: usize,
    wait_for_trials: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                delays_ms: vec![200, 500, 1000, 2000],
                lag_per_delay: 2,
                poll_per_delay: 1,
                ready_runs: 60,
                warmup: 5,
                stand_in_runs: 15,
                stand_in_idle_runs: 3,
                cpu_runs: 1,
                wait_for_trials: 3,
            }
        } else {
            Plan {
                delays_ms: vec![200, 500, 1000, 2000, 4000],
                lag_per_delay: 8,
                poll_per_delay: 3,
                ready_runs: 200,
                warmup: 10,
                stand_in_runs: 40,
                stand_in_idle_runs: 8,
                cpu_runs: 2,
                wait_for_trials: 10,
            }
        }
    }
}

/// The stand-in app modes (`--stamp FILE [T0]`, `--stamp-exec FILE IDLE_MS`)
/// of this executable, which the measurements start as the gate's app; `None`
/// for any other command line.
pub fn stand_in_app(args: &[OsString]) -> Option<ExitCode> {
    let code = match args.first().and_then(|a| a.to_str()) {
        Some("--stamp") if args.len() >= 2 => measure::stamp_main(&args[1], args.get(2)),
        Some("--stamp-exec") if args.len() >= 2 => {
            let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
            let idle_ms = args
                .get(2)
                .and_then(|a| a.to_str()?.parse().ok())
                .unwrap_or(0);
            measure::stamp_exec_main(&me, &args[1], idle_ms)
        }
        _ => return None,
    };
    Some(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

pub fn run(options: Options) -> Result<(), String> {
    let began = now_ns();
    let plan = Plan::new(options.quick);
    let manifest = crate::workspace();
    let gate = match &options.gate {
        Some(path) => path.clone(),
        None => build_gate(manifest, MUSL)?,
    };
    // The arm64 binary's size, next to the measured one's; not when measuring
    // another binary (`--gate`), and only a note when the target is missing.
    let arm64 = match &options.gate {
        Some(_) => None,
        None => build_gate(manifest, MUSL_ARM64)
            .inspect_err(|e| eprintln!("bench: the arm64 size is not measured: {e}"))
            .ok(),
    };
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find this benchmark's executable: {e}"))?;
    let tmp = std::env::temp_dir().join(format!("linkerd-await-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let ctx = Ctx::new(gate.clone(), me, tmp.clone(), options.gate_args.clone())?;
    let machine = machine(manifest);
    eprintln!("bench: measuring {}", gate.display());
    eprintln!(
        "bench: machine: {} · {} CPUs · Linux {}",
        machine.cpu, machine.nproc, machine.kernel
    );

    let result = measure_all(
        &ctx,
        &plan,
        &options,
        (&gate, arm64.as_deref()),
        machine,
        began,
    );
    let _ = std::fs::remove_dir_all(&tmp);
    let results = result?;

    print!("{}", report::console(&results));
    let (out_dir, suffix) = if options.official() {
        (manifest.join("bench"), "")
    } else if options.gate.is_none() && options.gate_args.is_empty() && options.only.is_none() {
        (manifest.join("target").join("bench"), "-quick")
    } else {
        (manifest.join("target").join("bench"), "-experiment")
    };
    let json_path = options
        .json
        .unwrap_or_else(|| out_dir.join(format!("results{suffix}.json")));
    let md_path = options
        .markdown
        .unwrap_or_else(|| out_dir.join(format!("RESULTS{suffix}.md")));
    write(&json_path, &json::render(&results)?)?;
    write(&md_path, &report::markdown(&results))?;
    println!("wrote {} and {}", json_path.display(), md_path.display());
    // The chart of the lag distributions, beside the report, when both
    // were measured (docs/benchmarks.md shows bench/lag.svg).
    if let Some(svg) = chart::lag_cdf(&results.lag, &results.poll_1s) {
        let svg_path = md_path.with_file_name(format!("lag{suffix}.svg"));
        write(&svg_path, &svg)?;
        println!("wrote {}", svg_path.display());
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn measure_all(
    ctx: &Ctx,
    plan: &Plan,
    options: &Options,
    (gate, arm64): (&Path, Option<&Path>),
    machine: Machine,
    began: u64,
) -> Result<Results, String> {
    let step = |what: &str| eprintln!("bench: {what}");
    step("5. size");
    let size = measure::size(gate)?;
    let size_arm64 = arm64.map(measure::size).transpose()?;
    let (mut stand_in_ms, mut stand_in_idle_ms) = (Vec::new(), Vec::new());
    if options.runs(Section::Lag) || options.runs(Section::Poll) || options.runs(Section::WaitFor) {
        step("   stand-in app start cost");
        stand_in_ms = measure::stand_in_cost(ctx, plan.stand_in_runs, 0)?;
        stand_in_idle_ms = measure::stand_in_cost(ctx, plan.stand_in_idle_runs, 1000)?;
    }
    let mut ready = measure::ReadyPath::default();
    if options.runs(Section::Ready) {
        step("2. ready-path overhead");
        ready = measure::ready_path(ctx, plan.ready_runs, plan.warmup)?;
    }
    let mut memory = Vec::new();
    if options.runs(Section::Memory) {
        step("3. memory");
        memory.push(measure::memory_waiting(ctx, false, 1000)?);
        memory.push(measure::memory_waiting(ctx, true, 1000)?);
        let (running, through) = measure::memory_supervising(ctx)?;
        memory.extend([running, through]);
    }
    let mut cpu = Vec::new();
    if options.runs(Section::Cpu) {
        step("4. CPU while waiting (5 s per run)");
        for _ in 0..plan.cpu_runs {
            cpu.push(measure::cpu_waiting(ctx)?);
        }
    }
    let mut lag = measure::LagRun::empty("default settings", vec![], 50);
    if options.runs(Section::Lag) {
        step(&format!(
            "1. detection lag, default settings ({} trials)",
            plan.delays_ms.len() * plan.lag_per_delay
        ));
        lag = measure::detection_lag(ctx, lag, &plan.delays_ms, plan.lag_per_delay)?;
    }
    // Context: the original linkerd-await's constant 1 s delay between checks.
    let mut poll_1s = measure::LagRun::empty(
        "fixed 1 s poll (as the original linkerd-await)",
        vec![
            "--backoff",
            "1s",
            "--backoff-initial",
            "1s",
            "--backoff-factor",
            "1",
        ],
        1000,
    );
    if options.runs(Section::Poll) {
        step(&format!(
            "1b. detection lag, fixed 1 s poll for context ({} trials)",
            plan.delays_ms.len() * plan.poll_per_delay
        ));
        poll_1s = measure::detection_lag(ctx, poll_1s, &plan.delays_ms, plan.poll_per_delay)?;
    }
    let mut wait_for = None;
    if options.runs(Section::WaitFor) && wait_for::supported(gate) {
        step(&format!(
            "6. --wait-for: three targets ({} trials per setting)",
            plan.wait_for_trials
        ));
        let stand_in = stats::median(&stand_in_ms).unwrap_or(0.0);
        wait_for = Some(wait_for::measure(ctx, plan.wait_for_trials, stand_in)?);
    }
    let mut notes = Vec::new();
    if let Some(only) = &options.only {
        let names: Vec<String> = only
            .iter()
            .filter_map(|s| Some(s.to_possible_value()?.get_name().to_string()))
            .collect();
        notes.push(format!("partial run: only {}", names.join(",")));
    }
    if !options.gate_args.is_empty() {
        let args: Vec<_> = options
            .gate_args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect();
        notes.push(format!(
            "experiment: every gate run had the extra arguments `{}`, so these are not the default settings",
            args.join(" ")
        ));
    }
    if options.gate.is_some() {
        notes.push(
            "experiment: a given binary was measured instead of the one built here".to_string(),
        );
    }
    Ok(Results {
        quick: options.quick,
        notes,
        machine,
        gate_path: gate.display().to_string(),
        stand_in_ms,
        stand_in_idle_ms,
        lag,
        poll_1s,
        ready,
        memory,
        cpu,
        size,
        size_arm64,
        wait_for,
        took_s: (now_ns() - began) as f64 / 1e9,
    })
}

/// Builds the musl release binary with the project's own profile.
fn build_gate(manifest: &Path, triple: &str) -> Result<PathBuf, String> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(manifest)
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib").join(triple).exists() {
        return Err(format!(
            "the {triple} target is not installed; it is needed to build the static binary users get.\n\
             Install it with:  rustup target add {triple}"
        ));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench: building the static release binary ({triple})");
    let output = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            triple,
            "--package",
            "linkerd-await",
            "--bin",
            "linkerd-await",
        ])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(manifest)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        return Err(format!("the release build failed ({})", output.status));
    }
    // cargo names the artifact in its JSON messages, wherever the target dir is.
    let built = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from));
    built
        .filter(|p| p.exists())
        .ok_or_else(|| "cargo build did not report the linkerd-await executable".to_string())
}

fn machine(manifest: &Path) -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_string())
        .unwrap_or_else(|| "unknown CPU".to_string());
    let stdout = |cmd: &mut Command| {
        cmd.output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = stdout(
        Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(manifest),
    );
    let dirty = stdout(
        Command::new("git")
            .args([
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "src",
                "Cargo.toml",
                "Cargo.lock",
            ])
            .current_dir(manifest),
    )
    .is_some_and(|s| !s.is_empty());
    Machine {
        nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        date_utc: date_utc(),
        loadavg: read("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        rustc: stdout(Command::new("rustc").arg("--version").current_dir(manifest))
            .unwrap_or_else(|| "rustc unknown".to_string()),
        commit: match commit {
            Some(c) if dirty => format!("{c} (with uncommitted changes to src/ or Cargo.*)"),
            Some(c) => c,
            None => "unknown".to_string(),
        },
    }
}

/// `YYYY-MM-DD HH:MM UTC`, from the civil-from-days algorithm (H. Hinnant),
/// to avoid a date crate for one line.
fn date_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
