//! `bench/results.json`: the results as data, for other tools and for
//! comparing runs. Field names are a format others read: keep them.

use serde::{Serialize, Serializer};

use crate::bench::{
    footprint,
    json_lag::Lag,
    report::Results,
    stats::{Summary, median},
};

/// Pretty-printed, with a final newline.
pub fn render(results: &Results) -> Result<String, String> {
    let mut text = serde_json::to_string_pretty(&Report::of(results))
        .map_err(|e| format!("cannot render the JSON results: {e}"))?;
    text.push('\n');
    Ok(text)
}

/// A measured number, rounded to four decimals (well below any resolution
/// measured here); JSON has no NaN or infinity, so a missing one is null.
#[derive(Debug, Clone, Copy)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            serializer.serialize_f64((self.0 * 1e4).round() / 1e4)
        } else {
            serializer.serialize_none()
        }
    }
}

#[derive(Serialize)]
struct Report<'a> {
    benchmark: &'static str,
    quick: bool,
    notes: &'a [String],
    machine: Machine<'a>,
    gate: &'a str,
    budgets: Vec<Budget>,
    stand_in_exec_ms: Option<Stats>,
    stand_in_exec_after_1s_idle_ms: Option<Stats>,
    detection_lag: Lag,
    detection_lag_fixed_1s_poll: Lag,
    ready_path: ReadyPath,
    memory: Vec<Memory<'a>>,
    cpu_5s_wait: Vec<Cpu>,
    size: Size<'a>,
    /// The aarch64 build, when it was made.
    size_arm64: Option<Size<'a>>,
    /// `--wait-for` with three targets, when measured.
    wait_for: Option<WaitFor<'a>>,
    took_s: Num,
}

#[derive(Serialize)]
struct Machine<'a> {
    date_utc: &'a str,
    nproc: usize,
    cpu: &'a str,
    kernel: &'a str,
    loadavg: &'a str,
    rustc: &'a str,
    commit: &'a str,
}

#[derive(Serialize)]
struct Budget {
    metric: &'static str,
    measured: Option<Num>,
    shown: String,
    budget: Num,
    stretch: Option<Num>,
    met: bool,
    verdict: &'static str,
}

/// A [`Summary`] of samples.
#[derive(Serialize)]
pub struct Stats {
    n: usize,
    min: Num,
    p10: Num,
    median: Num,
    p90: Num,
    max: Num,
}

#[derive(Serialize)]
struct ReadyPath {
    gate_ms: Option<Stats>,
    true_ms: Option<Stats>,
    paired_diff_ms: Option<Stats>,
    overhead_ms: Option<Num>,
    ratio: Option<Num>,
    gate_cpu_ms: Option<Stats>,
    true_cpu_ms: Option<Stats>,
    gate_minor_faults: Option<Stats>,
    true_minor_faults: Option<Stats>,
    checks: usize,
}

#[derive(Serialize)]
struct Memory<'a> {
    state: &'static str,
    vm_hwm_kib: u64,
    vm_rss_kib: u64,
    rss_anon_kib: u64,
    rss_file_kib: u64,
    vm_data_kib: u64,
    threads: u64,
    samples: usize,
    sampled_until_ms: Num,
    exit_code: i32,
    note: &'a str,
}

#[derive(Serialize)]
struct WaitFor<'a> {
    memory: Memory<'a>,
    every_kind: Option<Memory<'a>>,
    runs: Vec<WaitForRun>,
    tls: Option<Tls<'a>>,
}

/// One TLS target against one plaintext one.
#[derive(Serialize)]
struct Tls<'a> {
    waiting_https: Memory<'a>,
    waiting_http: Memory<'a>,
    /// CPU (user+sys) of a run to ready.
    cpu_https_ms: Option<Stats>,
    cpu_http_ms: Option<Stats>,
}

#[derive(Serialize)]
struct WaitForRun {
    label: &'static str,
    wait_for_backoff_ms: u64,
    /// App start − the last target's ready instant.
    lag_ms: Option<Stats>,
}

#[derive(Serialize)]
struct Cpu {
    user_ms: Num,
    sys_ms: Num,
    cpu_ms: Num,
    wall_ms: Num,
    checks: usize,
    connections: usize,
    minor_faults: u64,
}

#[derive(Serialize)]
struct Size<'a> {
    bytes: u64,
    #[serde(rename = "static")]
    static_linked: bool,
    static_pie: bool,
    stripped: bool,
    file: Option<&'a str>,
}

impl<'a> Memory<'a> {
    fn of(m: &'a footprint::Memory) -> Memory<'a> {
        Memory {
            state: m.label,
            vm_hwm_kib: m.peak.vm_hwm_kib,
            vm_rss_kib: m.peak.vm_rss_kib,
            rss_anon_kib: m.peak.rss_anon_kib,
            rss_file_kib: m.peak.rss_file_kib,
            vm_data_kib: m.peak.vm_data_kib,
            threads: m.peak.threads,
            samples: m.samples,
            sampled_until_ms: Num(m.sampled_after_ms),
            exit_code: m.exit_code,
            note: &m.note,
        }
    }
}

impl<'a> Size<'a> {
    fn of(size: &'a footprint::Size) -> Size<'a> {
        Size {
            bytes: size.bytes,
            static_linked: size.elf.static_linked,
            static_pie: size.elf.pie,
            stripped: size.elf.stripped,
            file: size.file_says.as_deref(),
        }
    }
}

pub fn stats(samples: &[f64]) -> Option<Stats> {
    Summary::of(samples).map(|s| Stats {
        n: s.n,
        min: Num(s.min),
        p10: Num(s.p10),
        median: Num(s.median),
        p90: Num(s.p90),
        max: Num(s.max),
    })
}

impl<'a> Report<'a> {
    fn of(results: &'a Results) -> Report<'a> {
        let m = &results.machine;
        let r = &results.ready;
        Report {
            benchmark: "linkerd-await",
            quick: results.quick,
            notes: &results.notes,
            machine: Machine {
                date_utc: &m.date_utc,
                nproc: m.nproc,
                cpu: &m.cpu,
                kernel: &m.kernel,
                loadavg: &m.loadavg,
                rustc: &m.rustc,
                commit: &m.commit,
            },
            gate: &results.gate_path,
            budgets: results
                .verdicts()
                .iter()
                .map(|v| Budget {
                    metric: v.metric,
                    measured: v.measured.map(Num),
                    shown: v.shown.clone(),
                    budget: Num(v.budget),
                    stretch: v.stretch.as_ref().map(|(s, _)| Num(*s)),
                    met: v.met(),
                    verdict: v.word(),
                })
                .collect(),
            stand_in_exec_ms: stats(&results.stand_in_ms),
            stand_in_exec_after_1s_idle_ms: stats(&results.stand_in_idle_ms),
            detection_lag: Lag::of(results, &results.lag),
            detection_lag_fixed_1s_poll: Lag::of(results, &results.poll_1s),
            ready_path: ReadyPath {
                gate_ms: stats(&r.gate_ms),
                true_ms: stats(&r.true_ms),
                paired_diff_ms: stats(&r.paired_diff_ms),
                overhead_ms: results.ready_overhead().map(Num),
                ratio: match (median(&r.gate_ms), median(&r.true_ms)) {
                    (Some(g), Some(t)) if t > 0.0 => Some(Num(g / t)),
                    _ => None,
                },
                gate_cpu_ms: stats(&r.gate_cpu_ms),
                true_cpu_ms: stats(&r.true_cpu_ms),
                gate_minor_faults: stats(&r.gate_minflt),
                true_minor_faults: stats(&r.true_minflt),
                checks: r.checks,
            },
            memory: results.memory.iter().map(Memory::of).collect(),
            cpu_5s_wait: results
                .cpu
                .iter()
                .map(|c| Cpu {
                    user_ms: Num(c.user_ms),
                    sys_ms: Num(c.sys_ms),
                    cpu_ms: Num(c.user_ms + c.sys_ms),
                    wall_ms: Num(c.wall_ms),
                    checks: c.checks,
                    connections: c.connections,
                    minor_faults: c.minflt,
                })
                .collect(),
            size: Size::of(&results.size),
            size_arm64: results.size_arm64.as_ref().map(Size::of),
            wait_for: results.wait_for.as_ref().map(|w| WaitFor {
                memory: Memory::of(&w.memory),
                every_kind: w.every_kind.as_ref().map(Memory::of),
                runs: w
                    .runs
                    .iter()
                    .map(|run| WaitForRun {
                        label: run.label,
                        wait_for_backoff_ms: run.cap_ms,
                        lag_ms: stats(&run.lag_ms),
                    })
                    .collect(),
                tls: w.tls.as_ref().map(|t| Tls {
                    waiting_https: Memory::of(&t.waiting_https),
                    waiting_http: Memory::of(&t.waiting_http),
                    cpu_https_ms: stats(&t.cpu_https_ms),
                    cpu_http_ms: stats(&t.cpu_http_ms),
                }),
            }),
            took_s: Num(results.took_s),
        }
    }
}
