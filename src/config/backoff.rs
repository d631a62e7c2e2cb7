//! The backoff policy between failed readiness checks: a plain value, read
//! from the flags by `config` and followed by the wait loop (`wait`), so it
//! lives below both.

use std::time::Duration;

use backon::BackoffBuilder;

/// The smallest pause or bound the gate uses. A zero delay would turn the
/// wait into a busy loop; old manifests with `-b 0` get this instead.
pub const MIN_DELAY: Duration = Duration::from_millis(1);

/// Exponential backoff between failed checks: `initial`, times `factor`, capped at `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub factor: f32,
}

impl Backoff {
    /// The delays to sleep after each failed check, forever (backon's
    /// exponential policy, not a hand-rolled loop).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max.max(MIN_DELAY);
        backon::ExponentialBuilder::default()
            .with_min_delay(self.initial.clamp(MIN_DELAY, max))
            .with_max_delay(max)
            .with_factor(self.factor)
            .without_max_times()
            .build()
    }
}
