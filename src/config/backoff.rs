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
    /// Draw each pause at random (the dependency checks: many pods
    /// restarting at once must not reach a database in lockstep), as
    /// [`Decorrelated`] does. The proxy's checks go to loopback and stay
    /// exact.
    pub jitter: bool,
}

impl Backoff {
    /// A `--wait-for` target's schedule: from [`DEPENDENCY_FIRST_STEP`],
    /// growing ~1.8-fold a step, up to `cap` (`--wait-for-backoff`, at
    /// least [`DEPENDENCY_MIN_CAP`]), jittered.
    pub fn dependencies(cap: Duration) -> Backoff {
        let max = cap.max(DEPENDENCY_MIN_CAP);
        Backoff {
            initial: DEPENDENCY_FIRST_STEP.min(max),
            max,
            factor: 2.0,
            jitter: true,
        }
    }

    /// The delays to sleep after each failed check, forever: backon's
    /// exponential policy, or, jittered, [`Decorrelated`] (backon's one
    /// jitter adds a random part to a fixed step, which is what keeps a
    /// fleet in step; see there).
    pub fn delays(&self) -> Box<dyn Iterator<Item = Duration> + Send + Sync> {
        let max = self.max.max(MIN_DELAY);
        let initial = self.initial.clamp(MIN_DELAY, max);
        if self.jitter {
            return Box::new(Decorrelated {
                bound: initial,
                max,
                growth: f64::from(self.factor) * 1.2,
                // Seeded per process: pods restarting together must not
                // draw the same "random" pauses.
                rng: fastrand::Rng::with_seed(crate::random::u64()),
            });
        }
        Box::new(
            backon::ExponentialBuilder::default()
                .with_factor(self.factor)
                .without_max_times()
                .with_min_delay(initial)
                .with_max_delay(max)
                .build(),
        )
    }
}

/// A dependency's pauses: "decorrelated jitter" (Marc Brooker, "Exponential
/// Backoff And Jitter", AWS Architecture Blog, 2015): each pause is drawn
/// below a bound that grows from the pause drawn *last*, not from a fixed
/// step. With fixed steps (each pause drawn from the upper half of 200 ms,
/// 400 ms, 800 ms, ..., the gate's schedule before), pods that started
/// together make their n-th check together, and under a cap of seconds a
/// fleet reaches the database in waves with silence between them (measured:
/// the quietest 500 ms at 0.2 of the 2.5 s around it, `cargo xtask bench
/// fleet`); here each pod's luck compounds, and the fleet drifts apart.
///
/// Two changes from the article's `min(cap, random(base, 3 × last))`, so
/// that one pod's lag does not grow: the pause is drawn from the upper half
/// of its bound, as before, so at the cap it stays within [cap/2, cap] (the
/// article's draw clips most pauses to exactly the cap: an app would start
/// later after its database turns ready); and the bound is `factor` × 1.2
/// of the last pause (2.4 for the dependencies), which grows it 1.8-fold a
/// check on average (a pause averages 3/4 of its bound). Twofold (8/3 of
/// the pause) made the app's start after its target's 2.6 % later at p90,
/// as larger pauses come sooner; at 2.4 every percentile is at or below
/// the doubling's, for ~2 % more checks while a fleet ramps up (none more
/// at the cap). Simulated over 200,000 ready instants, measured by `cargo
/// xtask bench` (docs/benchmarks.md). The bound never shrinks: a pause is
/// at least half of it, and 2.4 × ½ > 1.
struct Decorrelated {
    /// The most the next pause may be.
    bound: Duration,
    max: Duration,
    growth: f64,
    rng: fastrand::Rng,
}

impl Iterator for Decorrelated {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let bound = self.bound;
        // In [bound/2, bound]: the factor is in [0.5, 1], so no overflow.
        let pause = bound.mul_f64(0.5 + 0.5 * self.rng.f64()).max(MIN_DELAY);
        // A cap of years would overflow a product of seconds: the cap then.
        let next =
            Duration::try_from_secs_f64(pause.as_secs_f64() * self.growth).unwrap_or(self.max);
        self.bound = next.clamp(bound, self.max);
        Some(pause)
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
    fn at_the_cap_a_pause_stays_in_the_upper_half_and_pods_differ() {
        for cap in [100 * MS, 1000 * MS, 5000 * MS] {
            let runs: Vec<Vec<Duration>> = (0..3)
                .map(|_| Backoff::dependencies(cap).delays().take(60).collect())
                .collect();
            for run in &runs {
                // After 40 steps of at least 1.2 each, every pod is at the cap.
                for delay in &run[40..] {
                    assert!(*delay >= cap / 2 && *delay <= cap, "{delay:?} at {cap:?}");
                }
            }
            assert!(runs[0] != runs[1] || runs[1] != runs[2], "three equal runs");
        }
    }

    #[test]
    fn each_bound_grows_from_the_last_pause_drawn() {
        let backoff = Backoff::dependencies(30_000 * MS);
        for _ in 0..50 {
            let delays: Vec<Duration> = backoff.delays().take(12).collect();
            assert!(delays[0] >= 100 * MS && delays[0] <= 200 * MS, "{delays:?}");
            for pair in delays.windows(2) {
                let bound = pair[0].mul_f64(2.4).min(backoff.max);
                // The bound never shrinks, so the pause before's half is a floor too.
                assert!(pair[1] <= bound + MS, "{delays:?}");
                assert!(pair[1] + MS >= bound / 2, "{delays:?}");
            }
        }
    }

    /// Check instants of a fleet of 500 pods starting over one second,
    /// each pod's pauses from `delays(pod)`, counted per 500 ms up to 10 s.
    fn fleet(delays: impl Fn(u64) -> Vec<Duration>) -> Vec<u32> {
        let mut windows = vec![0u32; 20];
        for pod in 0..500u64 {
            let mut at = Duration::from_millis(pod * 2);
            for pause in delays(pod) {
                if let Some(count) = windows.get_mut(at.as_millis() as usize / 500) {
                    *count += 1;
                }
                at += pause;
            }
        }
        windows
    }

    /// The quietest 500 ms from 2 s to 10 s, against the 2.5 s around it.
    fn quietest(windows: &[u32]) -> f64 {
        (4..windows.len() - 2)
            .map(|i| {
                let around: u32 = windows[i - 2..=i + 2].iter().sum();
                f64::from(windows[i]) * 5.0 / f64::from(around.max(1))
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn a_fleet_under_a_cap_of_seconds_drifts_apart_instead_of_checking_in_waves() {
        let cap = 5000 * MS;
        // Seeded per pod, so the test is the same at every run.
        let decorrelated = fleet(|pod| {
            Decorrelated {
                bound: DEPENDENCY_FIRST_STEP,
                max: cap,
                growth: 2.4,
                rng: fastrand::Rng::with_seed(pod),
            }
            .take(20)
            .collect()
        });
        // The schedule before: each pause drawn from the upper half of a
        // fixed step, 200 ms doubling. Pods meet again at each step.
        let fixed_steps = fleet(|pod| {
            let mut rng = fastrand::Rng::with_seed(pod);
            (0..20)
                .map(|n| {
                    let step = (DEPENDENCY_FIRST_STEP * 2u32.pow(n.min(10))).min(cap);
                    step.mul_f64(0.5 + 0.5 * rng.f64())
                })
                .collect()
        });
        assert!(quietest(&fixed_steps) < 0.4, "{fixed_steps:?}");
        assert!(quietest(&decorrelated) > 0.5, "{decorrelated:?}");
    }
}
