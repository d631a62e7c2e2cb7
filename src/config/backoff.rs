//! The backoff policy between failed checks: a plain value, read from the
//! flags by `config` and followed by the wait loop (`wait`), so it lives
//! below both.

use std::time::Duration;

use backon::BackoffBuilder;

/// The smallest pause or bound the gate uses. A zero delay would turn the
/// wait into a busy loop; old manifests with `-b 0` get this instead.
pub const MIN_DELAY: Duration = Duration::from_millis(1);

/// The first step of a `--wait-for` target's schedule. A dependency is
/// another server, often shared by a whole fleet restarting at once, not
/// the loopback proxy: its schedule is its own, not `--backoff-initial`
/// and `--backoff-factor` (tuned for loopback, `1` even meaning a constant
/// 50 ms), so a pod opens one connection in its first 100 ms, not five.
pub const DEPENDENCY_FIRST_STEP: Duration = Duration::from_millis(200);

/// The least `--wait-for-backoff`: with each pause drawn from the upper
/// half of its step, no dependency is checked more than 20 times a second.
pub const DEPENDENCY_MIN_CAP: Duration = Duration::from_millis(100);

/// Exponential backoff between failed checks: `initial`, times `factor`, capped at `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub factor: f32,
    /// Spread each delay over its upper half (the dependency checks: many
    /// pods restarting at once must not reach a database in lockstep). The
    /// proxy's checks go to loopback and stay exact.
    pub jitter: bool,
}

impl Backoff {
    /// A `--wait-for` target's schedule: from [`DEPENDENCY_FIRST_STEP`],
    /// doubling, up to `cap` (`--wait-for-backoff`, at least
    /// [`DEPENDENCY_MIN_CAP`]), jittered.
    pub fn dependencies(cap: Duration) -> Backoff {
        let max = cap.max(DEPENDENCY_MIN_CAP);
        Backoff {
            initial: DEPENDENCY_FIRST_STEP.min(max),
            max,
            factor: 2.0,
            jitter: true,
        }
    }

    /// The delays to sleep after each failed check, forever (backon's
    /// exponential policy, not a hand-rolled loop).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max.max(MIN_DELAY);
        let initial = self.initial.clamp(MIN_DELAY, max);
        let builder = backon::ExponentialBuilder::default()
            .with_factor(self.factor)
            .without_max_times();
        let builder = if self.jitter {
            // backon adds a random part of up to the delay itself; from
            // half the delays that makes each one fall between half the
            // delay and the delay, so --wait-for-backoff stays the cap.
            // Seeded here: without its `std` feature backon's seed is a
            // constant, and every pod would draw the same "random" delays.
            builder
                .with_min_delay((initial / 2).max(MIN_DELAY))
                .with_max_delay((max / 2).max(MIN_DELAY))
                .with_jitter()
                .with_jitter_seed(crate::random::u64())
        } else {
            builder.with_min_delay(initial).with_max_delay(max)
        };
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_dependency_is_never_checked_more_often_than_its_floor_allows() {
        for cap in [100 * MS, 150 * MS, 1000 * MS, 30_000 * MS] {
            let delays: Vec<Duration> = Backoff::dependencies(cap).delays().take(40).collect();
            for delay in &delays {
                assert!(
                    *delay >= DEPENDENCY_MIN_CAP / 2 && *delay <= cap,
                    "{delay:?} at {cap:?}"
                );
            }
            // In the first 60 ms a pod makes one check (then pauses ≥ 100 ms).
            if cap >= DEPENDENCY_FIRST_STEP {
                assert!(delays[0] >= DEPENDENCY_FIRST_STEP / 2, "{delays:?}");
            }
        }
    }

    #[test]
    fn jittered_delays_stay_within_the_upper_half_of_each_step_and_differ() {
        let backoff = Backoff {
            initial: 100 * MS,
            max: 1000 * MS,
            factor: 2.0,
            jitter: true,
        };
        let exact = Backoff {
            jitter: false,
            ..backoff
        };
        let runs: Vec<Vec<Duration>> = (0..3)
            .map(|_| backoff.delays().take(20).collect())
            .collect();
        for run in &runs {
            for (delay, step) in run.iter().zip(exact.delays()) {
                assert!(
                    *delay >= step / 2 && *delay <= step,
                    "{delay:?} for {step:?}"
                );
            }
        }
        assert!(
            runs[0] != runs[1] || runs[1] != runs[2],
            "three equal runs: {runs:?}"
        );
    }
}
