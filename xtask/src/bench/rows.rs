//! The rows and lines the console and the Markdown renderings share.

use std::fmt::Write as _;

use crate::bench::{
    footprint::{CpuRun, ReadyPath, Size},
    measure::LagRun,
    report::{MIB, Machine, Results, fmt_kib, fmt_ms, fmt_opt, yes},
    stats::{Summary, median},
};

/// One row per nominal delay: (delay, trials, lag summary, poll gap median,
/// hand-off median, checks median, checks/s median).
pub fn per_delay(results: &Results, run: &LagRun) -> Vec<[String; 8]> {
    let stand_in = results.stand_in();
    let mut delays: Vec<u64> = run.trials.iter().map(|t| t.nominal_ms).collect();
    delays.sort_unstable();
    delays.dedup();
    delays
        .iter()
        .map(|&d| {
            let trials: Vec<_> = run.trials.iter().filter(|t| t.nominal_ms == d).collect();
            let lag: Vec<f64> = trials.iter().map(|t| t.lag_ms - stand_in).collect();
            let s = Summary::of(&lag);
            let m = |f: fn(&crate::bench::measure::LagTrial) -> f64| {
                median(&trials.iter().map(|t| f(t)).collect::<Vec<_>>())
            };
            [
                format!("{:.1} s", d as f64 / 1e3),
                trials.len().to_string(),
                fmt_opt(s.map(|s| s.median), fmt_ms),
                fmt_opt(s.map(|s| s.max), fmt_ms),
                fmt_opt(m(|t| t.poll_gap_ms), fmt_ms),
                fmt_opt(m(|t| t.handoff_ms), fmt_ms),
                fmt_opt(m(|t| t.checks as f64), |c| format!("{c:.0}")),
                fmt_opt(m(|t| t.checks_per_s()), |c| format!("{c:.1}")),
            ]
        })
        .collect()
}

pub const PER_DELAY_HEAD: [&str; 8] = [
    "T after start",
    "trials",
    "lag median",
    "lag max",
    "poll gap median",
    "hand-off median",
    "checks",
    "checks/s",
];

pub fn lag_line(results: &Results, run: &LagRun) -> String {
    let gate = Summary::of(&results.gate_lag(run));
    let raw = Summary::of(&run.trials.iter().map(|t| t.lag_ms).collect::<Vec<_>>());
    match (gate, raw) {
        (Some(g), Some(r)) => format!(
            "median {} · p90 {} · max {} (raw, stand-in start included: median {} · p90 {} · max {}); {} trials, {:.1} checks/s, {:.1} connection(s) per trial",
            fmt_ms(g.median),
            fmt_ms(g.p90),
            fmt_ms(g.max),
            fmt_ms(r.median),
            fmt_ms(r.p90),
            fmt_ms(r.max),
            run.trials.len(),
            Results::checks_rate(run).unwrap_or(f64::NAN),
            run.trials.iter().map(|t| t.connections).sum::<usize>() as f64
                / run.trials.len() as f64
        ),
        _ => "not run".to_string(),
    }
}

pub fn summary_line(samples: &[f64]) -> String {
    Summary::of(samples).map_or_else(
        || "n/a".to_string(),
        |s| {
            format!(
                "median {} (p10 {}, p90 {}, n={})",
                fmt_ms(s.median),
                fmt_ms(s.p10),
                fmt_ms(s.p90),
                s.n
            )
        },
    )
}

pub fn machine_line(m: &Machine) -> String {
    format!(
        "{} · {} CPUs · Linux {} · load {} · {} · gate at commit {}",
        m.cpu, m.nproc, m.kernel, m.loadavg, m.rustc, m.commit
    )
}

pub fn text_table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (cell, w) in cells.zip(&widths) {
            let pad = w - cell.chars().count();
            let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(&mut head.iter().copied());
    out += &line(
        &mut widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    );
    for row in rows {
        out += &line(&mut row.iter().map(String::as_str));
    }
    out
}

pub fn md_table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", head.join(" | "));
    out += &format!("|{}\n", " --- |".repeat(head.len()));
    for row in rows {
        out += &format!("| {} |\n", row.join(" | ").replace('\n', " "));
    }
    out
}

pub fn verdict_rows(results: &Results) -> Vec<Vec<String>> {
    results
        .verdicts()
        .into_iter()
        .map(|v| {
            vec![
                v.metric.to_string(),
                v.shown.clone(),
                v.budget_shown.clone(),
                v.stretch
                    .as_ref()
                    .map_or_else(|| "–".into(), |(_, s)| s.clone()),
                v.word().to_string(),
            ]
        })
        .collect()
}

pub const VERDICT_HEAD: [&str; 5] = ["metric", "measured", "budget", "stretch", "verdict"];
pub const MEMORY_HEAD: [&str; 7] = [
    "gate state",
    "VmHWM (peak RSS)",
    "RssAnon",
    "RssFile",
    "VmData",
    "threads",
    "sampled",
];

pub fn memory_rows(results: &Results) -> Vec<Vec<String>> {
    results
        .memory
        .iter()
        .map(|m| {
            vec![
                m.label.to_string(),
                fmt_kib(m.peak.vm_hwm_kib),
                format!("{} KiB", m.peak.rss_anon_kib),
                format!("{} KiB", m.peak.rss_file_kib),
                format!("{} KiB", m.peak.vm_data_kib),
                m.peak.threads.to_string(),
                format!(
                    "{} samples up to {:.1} s; {}",
                    m.samples,
                    m.sampled_after_ms / 1e3,
                    m.note
                ),
            ]
        })
        .collect()
}

pub fn ready_lines(r: &ReadyPath) -> Vec<String> {
    let ratio = match (median(&r.gate_ms), median(&r.true_ms)) {
        (Some(g), Some(t)) if t > 0.0 => format!("{:.2}×", g / t),
        _ => "n/a".into(),
    };
    vec![
        format!("gate -- /bin/true: {}", summary_line(&r.gate_ms)),
        format!("/bin/true alone:   {}", summary_line(&r.true_ms)),
        format!(
            "paired difference: {}; ratio of medians {ratio}",
            summary_line(&r.paired_diff_ms)
        ),
        format!(
            "CPU (user+sys) per gate run: {}; per /bin/true run: {}",
            summary_line(&r.gate_cpu_ms),
            summary_line(&r.true_cpu_ms)
        ),
        format!(
            "minor page faults per gate run (app's included): median {}; per /bin/true run: median {}",
            fmt_opt(median(&r.gate_minflt), |f| format!("{f:.0}")),
            fmt_opt(median(&r.true_minflt), |f| format!("{f:.0}"))
        ),
        format!("readiness checks received by the proxy: {}", r.checks),
    ]
}

pub fn cpu_line(cpu: &[CpuRun]) -> String {
    if cpu.is_empty() {
        return "not run".to_string();
    }
    cpu.iter()
        .map(|c| {
            format!(
                "{} (user {}, sys {}) over {:.2} s: {} checks on {} connection(s), {:.0} µs and {:.1} page faults per check",
                fmt_ms(c.user_ms + c.sys_ms),
                fmt_ms(c.user_ms),
                fmt_ms(c.sys_ms),
                c.wall_ms / 1e3,
                c.checks,
                c.connections,
                (c.user_ms + c.sys_ms) * 1e3 / c.checks.max(1) as f64,
                c.minflt as f64 / c.checks.max(1) as f64
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn size_line(s: &Size) -> String {
    format!(
        "{} bytes ({:.3} MiB); static: {}{}, stripped: {}{}",
        s.bytes,
        s.bytes as f64 / MIB,
        yes(s.elf.static_linked),
        if s.elf.pie { " (static-pie)" } else { "" },
        yes(s.elf.stripped),
        s.file_says
            .as_ref()
            .map_or_else(String::new, |f| format!("; file(1): {f}"))
    )
}

pub fn method_notes(results: &Results) -> Vec<String> {
    vec![
        format!(
            "Detection lag = app start − T, where T is the instant the scripted loopback proxy turns /ready from 503 to 200 (T = the gate's first check at or after spawn + {{0.2, 0.5, 1, 2, 4}} s, plus a fraction of the gate's check interval as the proxy observes it (about 51 ms by default, 1 s for the fixed poll). A real proxy turns ready at a uniformly distributed phase of the gate's check schedule; the fractions are stratified over (0, 1) by a golden-ratio sequence, which samples that distribution evenly and keeps the sampling noise of the median low). The app is the benchmark binary in `--stamp` mode, which reads CLOCK_MONOTONIC as its first action. Its own exec-to-first-action cost, measured by exec'ing it from itself, is {} when exec'd at once and {} after 1 s idle (colder caches, as after a wait); the smaller, warm median is subtracted, so the gate's lag is if anything overstated. Poll gap = first 200 check − T; hand-off = app start − first 200 check (the gate's response handling, its exec and the app's start).",
            summary_line(&results.stand_in_ms),
            summary_line(&results.stand_in_idle_ms)
        ),
        "Checks per second = Σ checks / Σ seconds from gate spawn to app start over all trials.".to_string(),
        "Ready-path overhead = median wall time (spawn to reaped) of `linkerd-await -p PORT -- /bin/true` minus that of `/bin/true`, runs alternated ABBA after a warm-up, empty environment.".to_string(),
        "Memory = highest VmHWM and Threads in /proc/<pid>/status, sampled every 20 ms. CPU = ru_utime + ru_stime from wait4 for `-t 5s` against a proxy that never turns ready (exit 69).".to_string(),
        "--wait-for: the proxy is ready at once; three simulated PostgreSQL servers (sim-proxy's FakePostgres) answer 57P03 until 150, 300 and 450 ms after the gate's spawn, the last plus a golden-ratio fraction of the backoff cap, then an authentication request. Lag = the stand-in app's start − the last target's ready instant, stand-in cost subtracted. Memory: the same gate waiting for three targets that never turn ready (--wait-for-backoff 100ms, the least), sampled for 1.5 s.".to_string(),
        "The CPU verdict takes the larger of the runs; CPU time per check depends on what else the machine is doing (the load average at the start is given above).".to_string(),
        "Percentiles interpolate linearly between ranks. All traffic is on 127.0.0.1.".to_string(),
        format!(
            "Reproduce with `cargo xtask bench` (needs `rustup target add {}`; `--quick` for a short run, `--help` for options).",
            "x86_64-unknown-linux-musl"
        ),
    ]
}
