//! `cargo xtask bench fleet`: a fleet restarting after an outage, all of it
//! waiting for one database. N real gates (`--gates`, default 500) start
//! within one second, each with `--mesh none --wait-for <db>`, against one
//! server on loopback that refuses for 10 s, answers "starting up" for 5 s,
//! then answers ready (`server.rs`), and counts every connection per
//! 100 ms. Each gate's app is this executable's stand-in, which stamps its
//! start. For PostgreSQL and Redis, three schedules in the same run: the
//! gate's default, `--wait-for-backoff 100ms`, and a fixed 1 s poll without
//! jitter (what wait-for-it loops and linkerd-await 0.3 do: a loop of the
//! bench's own, not an option of the gate); for PostgreSQL also
//! `--wait-for-backoff 5s`. With `--baseline <gate>`, another build (an
//! earlier commit's) runs the default and the 5 s schedules against
//! PostgreSQL too, each right after this one's: before and after in one
//! run. Figures: `figures.rs`.

mod chart;
mod dns;
mod figures;
mod pods;
mod server;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use clap::Args;

use self::{
    figures::{Load, READY_AT_MS, REFUSING_MS, Spread, Waves, load, spread, waves},
    pods::{fixed_poll, gates},
    server::{PhasedServer, Protocol},
};
use crate::bench::process::now_ns;

/// `cargo xtask bench fleet` options.
#[derive(Debug, Args)]
pub struct FleetOptions {
    /// How many gates start together
    #[arg(long, default_value_t = 500)]
    gates: usize,
    /// Another gate binary (an earlier commit's), run beside this one with
    /// the gate's schedules against PostgreSQL: before and after in one run
    #[arg(long, value_name = "GATE")]
    baseline: Option<PathBuf>,
}

/// How long a fleet may take to start its apps before the run is cut.
pub(super) const LIMIT: Duration = Duration::from_secs(45);

/// The waiting schedules compared.
#[derive(Debug, Clone, Copy)]
enum Schedule {
    Default,
    /// What a large fleet would set (PostgreSQL only: the load is the
    /// schedule's, not the protocol's).
    Backoff5s,
    Backoff100ms,
    FixedPoll,
}

impl Schedule {
    /// The chart's colour of the schedule's line.
    fn colour(self) -> usize {
        match self {
            Schedule::Default => 0,
            Schedule::Backoff100ms => 1,
            Schedule::FixedPoll => 2,
            Schedule::Backoff5s => 3,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Schedule::Default => "gate, default (--wait-for-backoff 1s)",
            Schedule::Backoff5s => "gate, --wait-for-backoff 5s",
            Schedule::Backoff100ms => "gate, --wait-for-backoff 100ms",
            Schedule::FixedPoll => "fixed 1 s poll, no jitter (bench loop)",
        }
    }
}

/// One run's figures.
struct Run {
    protocol: Protocol,
    schedule: Schedule,
    /// Run by the `--baseline` gate.
    before: bool,
    refusing: Load,
    starting: Load,
    /// From 2 s to the server's ready instant: after the fleet's first checks.
    waves: Waves,
    apps: Option<Spread>,
    /// The gates' CPU (user+sys), all together; `None` for the bench loop.
    cpu_ms: Option<f64>,
    /// The most the gates held at once, all together (VmRSS, RssAnon).
    peak_kib: Option<(u64, u64)>,
    /// Connections per 100 ms at the server.
    counts: Vec<u64>,
    /// From the first gate's start to the last app's.
    wall_s: f64,
}

impl Run {
    fn label(&self) -> String {
        if self.before {
            format!("before: {}", self.schedule.label())
        } else {
            self.schedule.label().to_string()
        }
    }
}

pub fn run(gate: &Path, me: &Path, tmp: &Path, options: &FleetOptions) -> Result<(), String> {
    let n = options.gates.max(1);
    let mut runs = Vec::new();
    for protocol in [Protocol::Postgres, Protocol::Redis] {
        for schedule in [
            Schedule::Default,
            Schedule::Backoff100ms,
            Schedule::FixedPoll,
            Schedule::Backoff5s,
        ] {
            if matches!(schedule, Schedule::Backoff5s) && protocol != Protocol::Postgres {
                continue;
            }
            // The baseline right after this build, for the schedules a
            // fleet would use (at 100 ms this machine is the bottleneck).
            let baseline = options.baseline.as_deref().filter(|_| {
                protocol == Protocol::Postgres
                    && matches!(schedule, Schedule::Default | Schedule::Backoff5s)
            });
            for (gate, before) in std::iter::once((gate, false)).chain(baseline.map(|b| (b, true)))
            {
                eprintln!(
                    "bench fleet: {n} × {}{} against {}",
                    if before { "before: " } else { "" },
                    schedule.label(),
                    protocol.scheme()
                );
                let mut run = fleet(gate, me, tmp, (protocol, schedule), n, None)?;
                run.before = before;
                runs.push(run);
            }
        }
    }
    let mut table = table(&runs, n);
    if let Some(baseline) = &options.baseline {
        table += &format!("\nbefore: {}\n", baseline.display());
    }
    match lookups(gate, me, tmp, n) {
        Ok(line) => table += &line,
        Err(e) => table += &format!("\nname lookups: not measured ({e})\n"),
    }
    print!("{table}");
    // The default fleet's figures are the ones the docs show.
    let dir = if n == 500 {
        crate::workspace().join("bench")
    } else {
        crate::workspace().join("target").join("bench")
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let labels: Vec<String> = runs.iter().map(Run::label).collect();
    let lines: Vec<chart::Line> = runs
        .iter()
        .zip(&labels)
        .filter(|(run, _)| run.protocol == Protocol::Postgres)
        .map(|(run, label)| chart::Line {
            label,
            counts: &run.counts,
            colour: run.schedule.colour(),
            dashed: run.before,
        })
        .collect();
    let title = format!("{n} gates waiting for one PostgreSQL: connections at the server");
    for (name, text) in [
        ("FLEET.md", table),
        ("fleet.svg", chart::connections(&title, &lines)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The same fleet (the default schedule, PostgreSQL) with the database
/// by name, as a pod names it, each gate's resolver a pod's (`dns.rs`):
/// lookups and queries per gate per second. Last, as this thread stays in
/// the private mount namespace.
fn lookups(gate: &Path, me: &Path, tmp: &Path, n: usize) -> Result<String, String> {
    let server = dns::CountingDns::start()?;
    dns::pod_resolver(tmp)?;
    eprintln!(
        "bench fleet: {n} × gate, default, against postgres://{}, through a pod's resolv.conf",
        dns::NAME
    );
    let schedule = (Protocol::Postgres, Schedule::Default);
    server.reset();
    let run = fleet(gate, me, tmp, schedule, n, Some(dns::NAME))?;
    let per_gate_s = (n as f64 * run.wall_s).max(f64::MIN_POSITIVE);
    let (lookups, queries) = (server.lookups() as f64, server.total() as f64);
    Ok(format!(
        "\nname lookups ({n} gates, default schedule, `postgres://{}` through a pod's \
         resolv.conf: ndots:5, three search domains; {:.1} s from the first start to the \
         last app): {:.2} lookups and {:.2} DNS queries per gate per second ({:.1} queries \
         a lookup); {:.0} queries a second at the resolver in all\n",
        dns::NAME,
        run.wall_s,
        lookups / per_gate_s,
        queries / per_gate_s,
        queries / lookups.max(1.0),
        queries / run.wall_s.max(f64::MIN_POSITIVE),
    ))
}

fn fleet(
    gate: &Path,
    me: &Path,
    tmp: &Path,
    (protocol, schedule): (Protocol, Schedule),
    n: usize,
    name: Option<&str>,
) -> Result<Run, String> {
    let started_ns = now_ns() + 50_000_000;
    let server = PhasedServer::start(protocol, started_ns)?;
    let url = match name {
        Some(name) => format!("{}://{name}:{}", protocol.scheme(), server.addr.port()),
        None => format!("{}://{}", protocol.scheme(), server.addr),
    };
    let ready_ns = started_ns + READY_AT_MS * 1_000_000;
    let dir = tmp.join(format!("fleet-{}", protocol.scheme()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // The fleet starts over one second, evenly.
    let start_of = |i: usize| started_ns + (i as u64 * 1_000_000_000) / n as u64;
    let (apps_ns, cpu_ms, peak_kib) = match schedule {
        Schedule::FixedPoll => (fixed_poll(protocol, server.addr, n, start_of)?, None, None),
        _ => {
            let backoff: &[&str] = match schedule {
                Schedule::Backoff100ms => &["--wait-for-backoff", "100ms"],
                Schedule::Backoff5s => &["--wait-for-backoff", "5s"],
                _ => &[],
            };
            let ran = gates(gate, me, &dir, &url, backoff, n, start_of)?;
            (ran.apps_ns, Some(ran.cpu_ms), Some(ran.peak_kib))
        }
    };
    if let Some(early) = apps_ns.iter().find(|&&at| at < ready_ns) {
        return Err(format!(
            "an app started {:.1} ms before the server was ready",
            (ready_ns - early) as f64 / 1e6
        ));
    }
    let after_ready: Vec<f64> = apps_ns
        .iter()
        .map(|&at| (at - ready_ns) as f64 / 1e6)
        .collect();
    let counts = server.counts();
    let last_ns = apps_ns.iter().copied().max().unwrap_or(started_ns);
    Ok(Run {
        wall_s: (last_ns.saturating_sub(started_ns)) as f64 / 1e9,
        protocol,
        schedule,
        before: false,
        refusing: load(&counts, 0, REFUSING_MS),
        waves: waves(&counts, 2_000, READY_AT_MS),
        starting: load(&counts, REFUSING_MS, READY_AT_MS),
        apps: spread(&after_ready),
        cpu_ms,
        peak_kib,
        counts,
    })
}

/// The table: one row per run.
fn table(runs: &[Run], n: usize) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "\nfleet of {n}: connections per second at the server (busiest 100 ms / mean), \
         waves from 2 s until ready (the quietest and the busiest 500 ms against the \
         2.5 s around them: 1 is even), app starts after the server turned ready\n\n"
    );
    let _ = writeln!(
        out,
        "| db | schedule | refusing (0–10 s): conn/s, peak/mean | starting (10–15 s): conn/s, peak/mean | waves (2–15 s): quietest – busiest 500 ms | per pod /s (refusing) | apps after ready: p50 / p99 / max | gates' CPU | gates' peak RSS / RssAnon |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for run in runs {
        let apps = run.apps.map_or("–".to_string(), |s| {
            format!("{:.0} / {:.0} / {:.0} ms", s.p50, s.p99, s.max)
        });
        let cpu = run
            .cpu_ms
            .map_or("–".to_string(), |ms| format!("{:.2} s", ms / 1e3));
        let peak = run.peak_kib.map_or("–".to_string(), |(rss, anon)| {
            format!(
                "{:.0} / {:.0} MiB",
                rss as f64 / 1024.0,
                anon as f64 / 1024.0
            )
        });
        let _ = writeln!(
            out,
            "| {} | {} | {:.0}, {:.1}× | {:.0}, {:.1}× | {:.2}–{:.2} | {:.2} | {apps} | {cpu} | {peak} |",
            run.protocol.scheme(),
            run.label(),
            run.refusing.per_s,
            run.refusing.peak_ratio(),
            run.starting.per_s,
            run.starting.peak_ratio(),
            run.waves.quietest,
            run.waves.busiest,
            run.refusing.per_s / n as f64,
        );
    }
    out
}
