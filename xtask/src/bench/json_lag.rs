//! A detection-lag run as `bench/results.json` writes it, every trial
//! included.

use serde::Serialize;

use crate::bench::{
    json::{Num, Stats, stats},
    measure::LagRun,
    report::Results,
};

#[derive(Serialize)]
pub struct Lag {
    label: &'static str,
    gate_args: Vec<&'static str>,
    expected_check_interval_ms: u64,
    lag_ms: Option<Stats>,
    raw_lag_ms: Option<Stats>,
    checks_per_s: Option<Num>,
    connections: usize,
    trials: Vec<Trial>,
}

#[derive(Serialize)]
struct Trial {
    nominal_ms: u64,
    flip_ms: Num,
    raw_lag_ms: Num,
    poll_gap_ms: Num,
    handoff_ms: Num,
    checks: usize,
    connections: usize,
    wait_s: Num,
    checks_per_s: Num,
    detected_at_ns: u64,
    app_at_ns: u64,
}

impl Lag {
    pub fn of(results: &Results, run: &LagRun) -> Lag {
        Lag {
            label: run.label,
            gate_args: run.args.clone(),
            expected_check_interval_ms: run.period_ms,
            lag_ms: stats(&results.gate_lag(run)),
            raw_lag_ms: stats(&run.trials.iter().map(|t| t.lag_ms).collect::<Vec<_>>()),
            checks_per_s: Results::checks_rate(run).map(Num),
            connections: run.trials.iter().map(|t| t.connections).sum(),
            trials: run
                .trials
                .iter()
                .map(|t| Trial {
                    nominal_ms: t.nominal_ms,
                    flip_ms: Num(t.flip_ms),
                    raw_lag_ms: Num(t.lag_ms),
                    poll_gap_ms: Num(t.poll_gap_ms),
                    handoff_ms: Num(t.handoff_ms),
                    checks: t.checks,
                    connections: t.connections,
                    wait_s: Num(t.wait_s),
                    checks_per_s: Num(t.checks_per_s()),
                    detected_at_ns: t.detected_ns,
                    app_at_ns: t.app_ns,
                })
                .collect(),
        }
    }
}
