//! The loop: every target of a group checked on its own backoff, all at
//! once, until all are ready, the deadline, or a termination signal,
//! whichever comes first; the progress lines on their own schedule.
//!
//! Invariant: a signal or the deadline ends the wait at that instant,
//! whatever a check is doing; a target's pauses never wait for another's.

use std::{
    cell::RefCell,
    future::{Future, poll_fn},
    pin::{Pin, pin},
    task::Poll,
    time::Duration,
};

use tokio::time::{Instant, sleep, sleep_until};
use tracing::debug;

use super::{
    checks::{Check, NotReady},
    progress::Reports,
};
use crate::{
    config::backoff::Backoff,
    report::error::Error,
    signals::{Event, Sig, Signals},
};

/// The source of signals that end the wait.
pub trait Stop {
    fn next(&self) -> impl Future<Output = Result<Sig, Error>>;
}

impl Stop for Signals {
    async fn next(&self) -> Result<Sig, Error> {
        loop {
            // While waiting only termination signals are read (signals/policy.rs).
            if let Event::Terminate(sig) = self.recv().await? {
                return Ok(sig);
            }
        }
    }
}

/// How the wait ended.
#[derive(Debug, PartialEq)]
pub enum Waited {
    /// Every target is ready; `checks` counts them all.
    Ready {
        elapsed: Duration,
        checks: u64,
    },
    /// The deadline passed with these targets not ready.
    TimedOut {
        elapsed: Duration,
        pending: Vec<Pending>,
    },
    Signalled(Sig),
}

/// A target not ready (yet), as progress lines and timeouts show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub target: String,
    pub checks: u64,
    /// The last finished check's reason, or what an unfinished one was
    /// doing when cut off; `None` if nothing is known yet.
    pub last: Option<NotReady>,
}

/// What the caller hears while the loop runs.
pub struct Listener<'a> {
    /// A target turned ready `elapsed` after the wait began, at this many checks.
    pub ready: &'a dyn Fn(&str, Duration, u64),
    /// A progress line is due, `elapsed` after the wait began: these targets are still pending.
    pub progress: &'a dyn Fn(Duration, &[Pending]),
}

/// What the loop knows of one target between its checks.
#[derive(Default)]
struct State {
    checks: u64,
    last: Option<NotReady>,
    /// When the check under way began.
    since: Option<Instant>,
    ready: bool,
}

/// Waits until every one of `targets` is ready, each checked on its own
/// `backoff` schedule (its own jitter), all under one `deadline`. Every
/// time it reports (ready after, progress, how it ended) counts from
/// `epoch`, the start of the whole wait, as the deadline does: one clock
/// for every line. Only the schedule of the progress lines starts with
/// this group.
pub async fn until_ready<C: Check>(
    targets: &[C],
    backoff: &Backoff,
    (epoch, deadline): (Instant, Option<Instant>),
    stop: &impl Stop,
    listener: &Listener<'_>,
) -> Result<Waited, Error> {
    let start = Instant::now();
    let states: Vec<RefCell<State>> = targets.iter().map(|_| RefCell::default()).collect();
    let pending = || -> Vec<Pending> {
        targets
            .iter()
            .zip(&states)
            .filter(|(_, state)| !state.borrow().ready)
            .map(|(target, state)| {
                let state = state.borrow();
                let cut_off = state
                    .since
                    .and_then(|since| target.cut_off(since.elapsed()));
                Pending {
                    target: target.describe(),
                    checks: state.checks,
                    last: cut_off.or_else(|| state.last.clone()),
                }
            })
            .collect()
    };
    let total = || states.iter().map(|s| s.borrow().checks).sum();

    let mut all = pin!(all(targets
        .iter()
        .zip(&states)
        .map(|(target, state)| pace(target, backoff, state, epoch, listener))
        .collect()));
    let mut reports = Reports::new();
    loop {
        // Each check, and each pause after it, races the deadline and
        // signals, so a hung target or a `docker stop` never has to wait.
        tokio::select! {
            biased;
            sig = stop.next() => return Ok(Waited::Signalled(sig?)),
            () = until(deadline) => {
                return Ok(Waited::TimedOut { elapsed: epoch.elapsed(), pending: pending() });
            }
            () = &mut all => return Ok(Waited::Ready { elapsed: epoch.elapsed(), checks: total() }),
            () = sleep_until(start + reports.next()) => {
                if reports.due(start.elapsed()) {
                    (listener.progress)(epoch.elapsed(), &pending());
                }
            }
        }
    }
}

/// One target's checks and pauses, until it is ready.
async fn pace<C: Check>(
    target: &C,
    backoff: &Backoff,
    state: &RefCell<State>,
    epoch: Instant,
    listener: &Listener<'_>,
) {
    let mut delays = backoff.delays();
    loop {
        {
            let mut state = state.borrow_mut();
            state.checks += 1;
            state.since = Some(Instant::now());
        }
        let result = target.check().await;
        let checks = {
            let mut state = state.borrow_mut();
            state.since = None;
            match result {
                Ok(()) => state.ready = true,
                Err(reason) => {
                    debug!(check = state.checks, %reason, "{} not ready", target.describe());
                    state.last = Some(reason);
                }
            }
            state.ready.then_some(state.checks)
        };
        if let Some(checks) = checks {
            (listener.ready)(&target.describe(), epoch.elapsed(), checks);
            return;
        }
        sleep(delays.next().unwrap_or(backoff.max)).await;
    }
}

/// Completes when every future has: a join for a handful of futures of one
/// type, polled in turn on each wake-up (no boxing of the checks, no task
/// per target on the one-thread runtime).
async fn all<F: Future<Output = ()>>(futures: Vec<F>) {
    let mut futures: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    poll_fn(|cx| {
        for slot in &mut futures {
            if slot
                .as_mut()
                .is_some_and(|f| f.as_mut().poll(cx).is_ready())
            {
                *slot = None;
            }
        }
        if futures.iter().all(Option::is_none) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

/// Completes at the deadline, or never.
pub async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
