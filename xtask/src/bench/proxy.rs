//! The benchmark's script for the simulated proxy (the `sim-proxy` crate's
//! server, on loopback, std threads and sockets only, so its timing is under
//! the benchmark's control).
//!
//! `GET /ready` answers 503 until the flip instant, then 200. `POST /shutdown`
//! answers 200. Every readiness check is recorded with its CLOCK_MONOTONIC
//! arrival time (when its head was complete, i.e. when the answer is decided),
//! the clock the stand-in app's stamp is read from.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use sim_proxy::{FakeProxy, Reply, Request};

use crate::bench::process::now_ns;

/// Never ready.
pub const NEVER: u64 = u64::MAX;

/// One readiness check and its answer.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub at_ns: u64,
    pub status: u16,
}

/// When `/ready` turns from 503 to 200.
#[derive(Debug, Clone, Copy)]
enum Flip {
    /// At this CLOCK_MONOTONIC instant.
    At(u64),
    /// A `fraction` of the gate's current check interval after the first
    /// check that arrives at or after `not_before`: T then has a chosen phase
    /// within the gate's own schedule, whatever its period. `hint` stands in
    /// for the interval if that check is the very first.
    Phase {
        not_before: u64,
        fraction: f64,
        hint: u64,
    },
}

struct State {
    flip: Flip,
    /// Every readiness check so far, in arrival order.
    checks: Vec<Check>,
}

pub struct Proxy {
    server: FakeProxy,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    /// Listens on 127.0.0.1 on an ephemeral port; `ready_at_ns` may be `0`
    /// (ready now) or `NEVER`.
    pub fn start(ready_at_ns: u64) -> std::io::Result<Proxy> {
        let state = Arc::new(Mutex::new(State {
            flip: Flip::At(ready_at_ns),
            checks: Vec::new(),
        }));
        let script_state = state.clone();
        let server = FakeProxy::try_start(move |request: &Request, _| {
            let at_ns = now_ns();
            let status = match (request.method.as_str(), request.path.as_str()) {
                ("GET", "/ready") => {
                    let mut state = script_state.lock().unwrap_or_else(PoisonError::into_inner);
                    state.check(at_ns)
                }
                ("POST", "/shutdown") => 200,
                _ => 404,
            };
            Reply::Status(status)
        })?;
        Ok(Proxy { server, state })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Ready `fraction` (0..1) of a check interval after the first check
    /// at or after `not_before_ns`.
    pub fn flip_at_phase(&self, not_before_ns: u64, fraction: f64, hint_ns: u64) {
        self.state().flip = Flip::Phase {
            not_before: not_before_ns,
            fraction,
            hint: hint_ns,
        };
    }

    /// The instant `/ready` turned (or turns) ready, once it is known.
    pub fn flip_instant(&self) -> Option<u64> {
        match self.state().flip {
            Flip::At(at) if at != NEVER => Some(at),
            _ => None,
        }
    }

    /// Readiness checks so far, with their answers.
    pub fn checks(&self) -> Vec<Check> {
        self.state().checks.clone()
    }

    pub fn count(&self, method: &str, path: &str) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Distinct connections that carried requests.
    pub fn connections(&self) -> usize {
        let mut seen: Vec<usize> = self
            .server
            .requests()
            .iter()
            .map(|r| r.connection)
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// Waits until `n` readiness checks arrived; false after `limit`.
    pub fn wait_for_checks(&self, n: usize, limit: Duration) -> bool {
        self.server.wait_until(limit, |requests| {
            requests
                .iter()
                .filter(|r| r.method == "GET" && r.path == "/ready")
                .count()
                >= n
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Records a check arriving at `at_ns` and returns its status. The first
    /// check past `not_before` fixes a phase flip (and is itself answered 503).
    fn check(&mut self, at_ns: u64) -> u16 {
        let previous = self.checks.last().map(|c| c.at_ns);
        let ready_at = match self.flip {
            Flip::At(t) => t,
            Flip::Phase {
                not_before,
                fraction,
                hint,
            } if at_ns >= not_before => {
                // The interval that just ended is the one the next check
                // will (about) repeat: the backoff has reached its cap.
                let interval = previous.map_or(hint, |p| at_ns.saturating_sub(p));
                let offset = ((interval as f64 * fraction) as u64).max(1);
                self.flip = Flip::At(at_ns + offset);
                at_ns + offset
            }
            Flip::Phase { .. } => NEVER,
        };
        let status = if at_ns >= ready_at { 200 } else { 503 };
        self.checks.push(Check { at_ns, status });
        status
    }
}
