//! The measurements of one run (`Results`), and how numbers are written.
//! Their verdicts against the budgets: `verdicts.rs`; the two renderings,
//! console and Markdown: `render.rs` (with the rows both share, `rows.rs`);
//! the JSON form: `json.rs`.

use crate::bench::{
    footprint::{CpuRun, Memory, ReadyPath, Size},
    measure::LagRun,
    stats::{Summary, median},
    wait_for::WaitFor,
};

pub struct Machine {
    pub nproc: usize,
    pub cpu: String,
    pub kernel: String,
    pub date_utc: String,
    pub loadavg: String,
    pub rustc: String,
    pub commit: String,
}

pub struct Results {
    pub quick: bool,
    /// What makes this run differ from the standard one, if anything.
    pub notes: Vec<String>,
    pub machine: Machine,
    pub gate_path: String,
    /// Exec-to-first-action of the stand-in app, exec'd at once (warm)...
    pub stand_in_ms: Vec<f64>,
    /// ...and after 1 s of idling (caches as cold as after a wait).
    pub stand_in_idle_ms: Vec<f64>,
    pub lag: LagRun,
    pub poll_1s: LagRun,
    pub ready: ReadyPath,
    pub memory: Vec<Memory>,
    pub cpu: Vec<CpuRun>,
    pub size: Size,
    /// The same build for aarch64, when it was made.
    pub size_arm64: Option<Size>,
    /// `--wait-for` with three targets, when measured.
    pub wait_for: Option<WaitFor>,
    pub took_s: f64,
}

pub const MIB: f64 = 1024.0 * 1024.0;

pub fn fmt_ms(x: f64) -> String {
    // Three decimals below 1 ms, so a value next to the 0.8 ms budget is
    // never shown as equal to it while missing it.
    if x.abs() < 1.0 {
        format!("{x:.3} ms")
    } else if x.abs() < 10.0 {
        format!("{x:.2} ms")
    } else {
        format!("{x:.1} ms")
    }
}

pub fn fmt_kib(kib: u64) -> String {
    format!("{:.2} MiB ({kib} KiB)", kib as f64 / 1024.0)
}

pub fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

pub fn fmt_opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or_else(|| "n/a".to_string(), f)
}
impl Results {
    /// Median exec-to-first-action cost of the stand-in app, warm: the
    /// smaller of the two, so subtracting it never flatters the gate.
    pub fn stand_in(&self) -> f64 {
        median(&self.stand_in_ms).unwrap_or(0.0)
    }

    /// Lag with the stand-in's own start cost taken out: the gate's share.
    pub fn gate_lag(&self, run: &LagRun) -> Vec<f64> {
        let s = self.stand_in();
        run.trials.iter().map(|t| t.lag_ms - s).collect()
    }

    /// Σ checks / Σ seconds of waiting, over all trials of a run.
    pub fn checks_rate(run: &LagRun) -> Option<f64> {
        let checks: usize = run.trials.iter().map(|t| t.checks).sum();
        let secs: f64 = run.trials.iter().map(|t| t.wait_s).sum();
        (secs > 0.0).then(|| checks as f64 / secs)
    }

    pub fn waiting_memory(&self) -> Option<&Memory> {
        self.memory.iter().find(|m| m.label.contains("503"))
    }

    pub fn every_kind(&self) -> Option<&Memory> {
        self.wait_for.as_ref().and_then(|w| w.every_kind.as_ref())
    }

    pub fn supervising_memory(&self) -> Option<&Memory> {
        // The whole supervised life, shutdown request included.
        self.memory.iter().find(|m| m.label.contains("through"))
    }

    pub fn ready_overhead(&self) -> Option<f64> {
        Some(median(&self.ready.gate_ms)? - median(&self.ready.true_ms)?)
    }

    /// The p90 of the `--wait-for` lag at this `--wait-for-backoff`.
    pub fn wait_for_p90(&self, cap_ms: u64) -> Option<f64> {
        let run = self
            .wait_for
            .as_ref()?
            .runs
            .iter()
            .find(|r| r.cap_ms == cap_ms)?;
        Summary::of(&run.lag_ms).map(|s| s.p90)
    }
}
