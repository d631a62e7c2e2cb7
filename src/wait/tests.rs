//! The wait loop on tokio's paused clock, with scripted checks and signals.

use std::{cell::RefCell, collections::VecDeque, time::Duration};

use tokio::time::{Instant, sleep};

use super::{
    checks::{Check, NotReady},
    progress::Reports,
    until::{Listener, Pending, Stop, Waited, until, until_ready},
};
use crate::{config::backoff::Backoff, report::error::Error, signals::Sig};

const MS: Duration = Duration::from_millis(1);

/// Scripted checks: each takes `took` and answers `ready` or 503; it
/// records the instant (since the test's start) at which it began.
struct Script {
    name: &'static str,
    start: Instant,
    answers: RefCell<VecDeque<(Duration, bool)>>,
    began: RefCell<Vec<Duration>>,
}

impl Script {
    fn new(answers: impl IntoIterator<Item = (Duration, bool)>) -> Self {
        Script {
            name: "script",
            start: Instant::now(),
            answers: RefCell::new(answers.into_iter().collect()),
            began: RefCell::default(),
        }
    }

    /// Never ready; every check answers at once.
    fn never_ready() -> Self {
        Self::new(std::iter::empty())
    }

    fn began_ms(&self) -> Vec<u128> {
        self.began
            .borrow()
            .iter()
            .map(Duration::as_millis)
            .collect()
    }
}

impl Check for Script {
    async fn check(&self) -> Result<(), NotReady> {
        self.began.borrow_mut().push(self.start.elapsed());
        let (took, ready) = self
            .answers
            .borrow_mut()
            .pop_front()
            .unwrap_or((Duration::ZERO, false));
        sleep(took).await;
        if ready {
            Ok(())
        } else {
            Err(NotReady::Status(reqwest::StatusCode::SERVICE_UNAVAILABLE))
        }
    }

    fn describe(&self) -> String {
        self.name.to_string()
    }
}

const QUIET: Listener<'static> = Listener {
    ready: &|_, _, _| {},
    progress: &|_, _| {},
};

/// One scripted target waited for with the default backoff and `timeout`.
async fn wait(script: &Script, timeout: Option<Duration>, stop: &SignalAt) -> Waited {
    let deadline = timeout.map(|t| Instant::now() + t);
    until_ready(
        std::slice::from_ref(script),
        &default_backoff(),
        (Instant::now(), deadline),
        stop,
        &QUIET,
    )
    .await
    .unwrap()
}

/// A termination signal at a fixed instant, or never.
struct SignalAt(Option<Instant>);

impl Stop for SignalAt {
    async fn next(&self) -> Result<Sig, Error> {
        until(self.0).await;
        Ok(Sig::TERM)
    }
}

const NO_SIGNAL: SignalAt = SignalAt(None);

fn default_backoff() -> Backoff {
    Backoff {
        initial: 5 * MS,
        max: 50 * MS,
        factor: 2.0,
        jitter: false,
    }
}

#[tokio::test(start_paused = true)]
async fn checks_follow_the_exponential_backoff_up_to_its_cap() {
    let mut answers = vec![(Duration::ZERO, false); 7];
    answers.push((Duration::ZERO, true));
    let script = Script::new(answers);
    let waited = wait(&script, None, &NO_SIGNAL).await;
    // Pauses of 5, 10, 20, 40, then 50 ms (the cap) between checks.
    assert_eq!(script.began_ms(), [0, 5, 15, 35, 75, 125, 175, 225]);
    assert_eq!(
        waited,
        Waited::Ready {
            elapsed: 225 * MS,
            checks: 8
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_check_does_not_add_to_the_pause() {
    let script = Script::new([(300 * MS, false), (Duration::ZERO, true)]);
    let waited = wait(&script, None, &NO_SIGNAL).await;
    assert_eq!(script.began_ms(), [0, 305]);
    assert!(matches!(waited, Waited::Ready { checks: 2, .. }));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_the_wait_at_the_deadline_with_the_last_reason() {
    let script = Script::never_ready();
    let waited = wait(&script, Some(1000 * MS), &NO_SIGNAL).await;
    match waited {
        Waited::TimedOut { elapsed, pending } => {
            assert_eq!(elapsed, 1000 * MS);
            assert_eq!(
                pending,
                [Pending {
                    target: "script".to_string(),
                    // 0, 5, 15, 35, 75, then every 50 ms up to 975.
                    checks: 5 + 18,
                    last: Some(NotReady::Status(reqwest::StatusCode::SERVICE_UNAVAILABLE)),
                }]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn the_deadline_cuts_a_hung_check_short() {
    let script = Script::new([(Duration::from_secs(3600), true)]);
    let waited = wait(&script, Some(200 * MS), &NO_SIGNAL).await;
    assert_eq!(
        waited,
        Waited::TimedOut {
            elapsed: 200 * MS,
            pending: vec![Pending {
                target: "script".to_string(),
                checks: 1,
                last: None
            }]
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_signal_at_any_point_ends_the_wait_at_once() {
    // At the start, during a check, during a pause, and just as a check
    // would begin: the wait ends at that instant, never later.
    for at_ms in [0u64, 3, 7, 15, 20, 74, 500] {
        let start = Instant::now();
        let script = Script::new(std::iter::repeat_n((4 * MS, false), 100));
        let signal = SignalAt(Some(start + Duration::from_millis(at_ms)));
        let waited = wait(&script, Some(1000 * MS), &signal).await;
        assert_eq!(waited, Waited::Signalled(Sig::TERM), "signal at {at_ms} ms");
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(at_ms),
            "signal at {at_ms} ms"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_signal_wins_over_readiness_and_the_deadline_at_the_same_instant() {
    let start = Instant::now();
    let script = Script::never_ready();
    let signal = SignalAt(Some(start + 100 * MS));
    let waited = wait(&script, Some(100 * MS), &signal).await;
    assert_eq!(waited, Waited::Signalled(Sig::TERM));
}

#[test]
fn still_waiting_lines_come_at_1_3_7_15_31_then_every_30_seconds() {
    let mut reports = Reports::new();
    let due: Vec<u64> = (0..=200u64)
        .filter(|&s| reports.due(Duration::from_secs(s)))
        .collect();
    assert_eq!(due, [1, 3, 7, 15, 31, 61, 91, 121, 151, 181]);
}

fn named(name: &'static str, answers: impl IntoIterator<Item = (Duration, bool)>) -> Script {
    Script {
        name,
        ..Script::new(answers)
    }
}

#[tokio::test(start_paused = true)]
async fn targets_are_checked_at_once_each_on_its_own_schedule() {
    let fast = named("fast", [(Duration::ZERO, false), (Duration::ZERO, true)]);
    let slow = named(
        "slow",
        [(100 * MS, false), (100 * MS, false), (100 * MS, true)],
    );
    let ready = RefCell::new(Vec::new());
    let listener = Listener {
        ready: &|name, elapsed, checks| {
            ready
                .borrow_mut()
                .push((name.to_string(), elapsed.as_millis(), checks));
        },
        progress: &|_, _| {},
    };
    let targets = [fast, slow];
    let waited = until_ready(
        &targets,
        &default_backoff(),
        (Instant::now(), None),
        &NO_SIGNAL,
        &listener,
    )
    .await
    .unwrap();
    // A slow target's checks never hold up another's.
    assert_eq!(targets[0].began_ms(), [0, 5]);
    assert_eq!(targets[1].began_ms(), [0, 105, 215]);
    assert_eq!(
        ready.into_inner(),
        [("fast".to_string(), 5, 2), ("slow".to_string(), 315, 3)]
    );
    assert_eq!(
        waited,
        Waited::Ready {
            elapsed: 315 * MS,
            checks: 5
        }
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_names_only_the_targets_not_ready_and_progress_lists_them() {
    let targets = [
        named("ready", [(Duration::ZERO, true)]),
        named("never", std::iter::empty()),
    ];
    let lines = RefCell::new(Vec::new());
    let listener = Listener {
        ready: &|_, _, _| {},
        progress: &|elapsed, pending| {
            let names: Vec<String> = pending.iter().map(|p| p.target.clone()).collect();
            lines.borrow_mut().push((elapsed.as_secs(), names));
        },
    };
    let deadline = Some(Instant::now() + Duration::from_millis(3500));
    let waited = until_ready(
        &targets,
        &default_backoff(),
        (Instant::now(), deadline),
        &NO_SIGNAL,
        &listener,
    )
    .await
    .unwrap();
    let Waited::TimedOut { pending, .. } = waited else {
        panic!("{waited:?}");
    };
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].target, "never");
    let never = vec!["never".to_string()];
    assert_eq!(lines.into_inner(), [(1, never.clone()), (3, never)]);
}
