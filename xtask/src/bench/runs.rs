//! Which measurements a run makes (`Plan`: a full run, or `--quick`), and
//! making them, in order, into one `Results`.

use std::path::Path;

use clap::ValueEnum;

use crate::bench::{
    Options, Section, footprint,
    measure::{self, Ctx},
    process::now_ns,
    report::{Machine, Results},
    stamps, stats, wait_for,
};

/// How much of everything to do.
pub struct Plan {
    pub delays_ms: Vec<u64>,
    pub lag_per_delay: usize,
    pub poll_per_delay: usize,
    pub ready_runs: usize,
    pub warmup: usize,
    pub stand_in_runs: usize,
    pub stand_in_idle_runs: usize,
    pub cpu_runs: usize,
    pub wait_for_trials: usize,
}

impl Plan {
    pub fn new(quick: bool) -> Plan {
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

pub fn measure_all(
    ctx: &Ctx,
    plan: &Plan,
    options: &Options,
    (gate, arm64): (&Path, Option<&Path>),
    machine: Machine,
    began: u64,
) -> Result<Results, String> {
    let step = |what: &str| eprintln!("bench: {what}");
    step("5. size");
    let size = footprint::size(gate)?;
    let size_arm64 = arm64.map(footprint::size).transpose()?;
    let (mut stand_in_ms, mut stand_in_idle_ms) = (Vec::new(), Vec::new());
    if options.runs(Section::Lag) || options.runs(Section::Poll) || options.runs(Section::WaitFor) {
        step("   stand-in app start cost");
        stand_in_ms = stamps::stand_in_cost(ctx, plan.stand_in_runs, 0)?;
        stand_in_idle_ms = stamps::stand_in_cost(ctx, plan.stand_in_idle_runs, 1000)?;
    }
    let mut ready = footprint::ReadyPath::default();
    if options.runs(Section::Ready) {
        step("2. ready-path overhead");
        ready = footprint::ready_path(ctx, plan.ready_runs, plan.warmup)?;
    }
    let mut memory = Vec::new();
    if options.runs(Section::Memory) {
        step("3. memory");
        memory.push(footprint::memory_waiting(ctx, false, 1000)?);
        memory.push(footprint::memory_waiting(ctx, true, 1000)?);
        let (running, through) = footprint::memory_supervising(ctx)?;
        memory.extend([running, through]);
    }
    let mut cpu = Vec::new();
    if options.runs(Section::Cpu) {
        step("4. CPU while waiting (5 s per run)");
        for _ in 0..plan.cpu_runs {
            cpu.push(footprint::cpu_waiting(ctx)?);
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
