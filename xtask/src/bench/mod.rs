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
mod fleet;
mod footprint;
mod json;
mod json_lag;
mod machine;
mod measure;
mod process;
mod proxy;
mod render;
mod report;
mod rows;
mod runs;
mod stamps;
mod stats;
mod tls;
mod verdicts;
mod wait_for;

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Args, Subcommand, ValueEnum};

use crate::bench::{measure::Ctx, process::now_ns};

const MUSL: &str = "x86_64-unknown-linux-musl";
/// Only its size is measured (the budgets are the same for both arches).
const MUSL_ARM64: &str = "aarch64-unknown-linux-musl";

/// `cargo xtask bench` options. Experiments (`--gate`, `--gate-arg`, `--only`)
/// write under target/bench/ unless `--json`/`--markdown` say otherwise.
#[derive(Debug, Args)]
pub struct Options {
    #[command(subcommand)]
    mode: Option<Mode>,
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
    /// Trials of each --wait-for lag setting [default: 10; --quick: 3]
    #[arg(long, value_name = "N")]
    wait_for_trials: Option<usize>,
}

/// Benchmarks other than the gate's own figures.
#[derive(Debug, Subcommand)]
enum Mode {
    /// A fleet of gates restarting together, all waiting for one database
    /// that refuses, then starts up, then is ready (issue 30): the load the
    /// database sees and when the apps start
    Fleet(fleet::FleetOptions),
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
        !self.quick
            && self.gate.is_none()
            && self.gate_args.is_empty()
            && self.only.is_none()
            && self.wait_for_trials.is_none()
    }

    fn runs(&self, section: Section) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.contains(&section))
    }
}

/// The stand-in app modes (`--stamp FILE [T0]`, `--stamp-exec FILE IDLE_MS`)
/// of this executable, which the measurements start as the gate's app; `None`
/// for any other command line.
pub fn stand_in_app(args: &[OsString]) -> Option<ExitCode> {
    let code = match args.first().and_then(|a| a.to_str()) {
        Some("--stamp") if args.len() >= 2 => stamps::stamp_main(&args[1], args.get(2)),
        Some("--stamp-exec") if args.len() >= 2 => {
            let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
            let idle_ms = args
                .get(2)
                .and_then(|a| a.to_str()?.parse().ok())
                .unwrap_or(0);
            stamps::stamp_exec_main(&me, &args[1], idle_ms)
        }
        _ => return None,
    };
    Some(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

pub fn run(options: Options) -> Result<(), String> {
    if let Some(Mode::Fleet(fleet)) = &options.mode {
        return run_fleet(&options, fleet);
    }
    let began = now_ns();
    let mut plan = runs::Plan::new(options.quick);
    if let Some(trials) = options.wait_for_trials {
        plan.wait_for_trials = trials.max(1);
    }
    let manifest = crate::workspace();
    let gate = match &options.gate {
        Some(path) => path.clone(),
        None => machine::build_gate(manifest, MUSL)?,
    };
    // The arm64 binary's size, next to the measured one's; not when measuring
    // another binary (`--gate`), and only a note when the target is missing.
    let arm64 = match &options.gate {
        Some(_) => None,
        None => machine::build_gate(manifest, MUSL_ARM64)
            .inspect_err(|e| eprintln!("bench: the arm64 size is not measured: {e}"))
            .ok(),
    };
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find this benchmark's executable: {e}"))?;
    let tmp = std::env::temp_dir().join(format!("linkerd-await-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let ctx = Ctx::new(gate.clone(), me, tmp.clone(), options.gate_args.clone())?;
    let machine = machine::machine(manifest);
    eprintln!("bench: measuring {}", gate.display());
    eprintln!(
        "bench: machine: {} · {} CPUs · Linux {}",
        machine.cpu, machine.nproc, machine.kernel
    );

    let result = runs::measure_all(
        &ctx,
        &plan,
        &options,
        (&gate, arm64.as_deref()),
        machine,
        began,
    );
    let _ = std::fs::remove_dir_all(&tmp);
    let results = result?;

    print!("{}", render::console(&results));
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
    write(&md_path, &render::markdown(&results))?;
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

/// `cargo xtask bench fleet`: the gate users get (or `--gate`), this
/// executable as every gate's app, a scratch dir for their stamps.
fn run_fleet(options: &Options, fleet: &fleet::FleetOptions) -> Result<(), String> {
    let gate = match &options.gate {
        Some(path) => path.clone(),
        None => machine::build_gate(crate::workspace(), MUSL)?,
    };
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find this benchmark's executable: {e}"))?;
    let tmp = std::env::temp_dir().join(format!("linkerd-await-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let result = fleet::run(&gate, &me, &tmp, fleet);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
