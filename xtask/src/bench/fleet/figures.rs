//! What one fleet run's counts say: connections per second at the server
//! in each of its phases, the busiest 100 ms of each phase against its mean
//! (a synchronized wave shows as a high ratio), the quietest and the busiest
//! 500 ms against the time around them (a fleet in step leaves gaps between
//! its waves), and how long after the server turned ready the apps started.

use crate::bench::stats::percentile;

/// The server's counting unit.
pub const BUCKET_MS: u64 = 100;

/// The server's phases, from the first gate's start: refusing, then
/// "starting up", then ready.
pub const REFUSING_MS: u64 = 10_000;
pub const STARTING_MS: u64 = 5_000;
pub const READY_AT_MS: u64 = REFUSING_MS + STARTING_MS;

/// One phase's load at the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    pub connections: u64,
    /// Mean connections per second over the phase.
    pub per_s: f64,
    /// The busiest 100 ms of the phase, as a rate per second.
    pub peak_per_s: f64,
}

impl Load {
    /// Peak over mean: 1 is an even load; a wave of every gate at once in
    /// one bucket of a phase of n buckets approaches n.
    pub fn peak_ratio(&self) -> f64 {
        if self.per_s > 0.0 {
            self.peak_per_s / self.per_s
        } else {
            0.0
        }
    }
}

/// The load in `[from_ms, to_ms)` of the per-100 ms `buckets`.
pub fn load(buckets: &[u64], from_ms: u64, to_ms: u64) -> Load {
    let first = (from_ms / BUCKET_MS) as usize;
    let last = (to_ms.div_ceil(BUCKET_MS) as usize).min(buckets.len());
    let phase = buckets.get(first..last).unwrap_or_default();
    let connections: u64 = phase.iter().sum();
    let seconds = (to_ms.saturating_sub(from_ms)) as f64 / 1e3;
    let per_bucket = 1e3 / BUCKET_MS as f64;
    Load {
        connections,
        per_s: if seconds > 0.0 {
            connections as f64 / seconds
        } else {
            0.0
        },
        peak_per_s: phase.iter().copied().max().unwrap_or(0) as f64 * per_bucket,
    }
}

/// Waves: each 500 ms against the mean of the 2.5 s around it (itself and
/// two on either side), the quietest and the busiest of them. An even load
/// stays near 1 (a load that rises or falls smoothly too); a fleet whose
/// pods check at the same instants shows gaps (near 0) between its waves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Waves {
    pub quietest: f64,
    pub busiest: f64,
}

/// Buckets in a window (500 ms), and windows in the time around one (2.5 s).
const WINDOW: usize = 5;
const AROUND: usize = 5;

/// The waves of the 500 ms windows in `[from_ms, to_ms)` whose 2.5 s lie
/// there too.
pub fn waves(buckets: &[u64], from_ms: u64, to_ms: u64) -> Waves {
    let first = (from_ms / BUCKET_MS) as usize;
    let last = ((to_ms / BUCKET_MS) as usize).min(buckets.len());
    let windows: Vec<u64> = buckets
        .get(first..last.max(first))
        .unwrap_or_default()
        .chunks_exact(WINDOW)
        .map(|w| w.iter().sum())
        .collect();
    let ratios: Vec<f64> = windows
        .windows(AROUND)
        .filter_map(|around| {
            let mean = around.iter().sum::<u64>() as f64 / AROUND as f64;
            (mean > 0.0).then(|| around[AROUND / 2] as f64 / mean)
        })
        .collect();
    Waves {
        quietest: ratios
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .min(1.0),
        busiest: ratios.iter().copied().fold(0.0, f64::max).max(1.0),
    }
}

/// The spread of the apps' starts after the server turned ready, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub started: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

pub fn spread(after_ready_ms: &[f64]) -> Option<Spread> {
    let mut sorted: Vec<f64> = after_ready_ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let max = *sorted.last()?;
    Some(Spread {
        started: sorted.len(),
        p50: percentile(&sorted, 50.0),
        p99: percentile(&sorted, 99.0),
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_s_rate_and_its_busiest_bucket_are_read_from_the_counts() {
        // 2 s of refusals: 10 connections in every 100 ms, but one wave of 60.
        let mut buckets = vec![10; 20];
        buckets[7] = 60;
        let refusing = load(&buckets, 0, 2_000);
        assert_eq!(refusing.connections, 250);
        assert_eq!(refusing.per_s, 125.0);
        assert_eq!(refusing.peak_per_s, 600.0);
        assert!((refusing.peak_ratio() - 4.8).abs() < 1e-9);
        // A phase past the counts is empty, not a panic.
        assert_eq!(load(&buckets, 5_000, 6_000).connections, 0);
        assert_eq!(load(&[], 0, 1_000).peak_ratio(), 0.0);
        // Half a bucket at the end counts its bucket.
        assert_eq!(load(&buckets, 1_900, 1_950).connections, 10);
    }

    #[test]
    fn waves_are_windows_against_the_time_around_them() {
        // 3 s even, then a fleet in step: every 1.5 s, 500 ms of 30 a bucket
        // and 1 s of silence.
        let mut buckets = vec![10; 30];
        for _ in 0..4 {
            buckets.extend([30; 5]);
            buckets.extend([0; 10]);
        }
        let even = waves(&buckets, 0, 3_000);
        assert_eq!((even.quietest, even.busiest), (1.0, 1.0));
        let stepping = waves(&buckets, 3_000, 9_000);
        assert_eq!(stepping.quietest, 0.0);
        assert!(stepping.busiest > 2.0, "{stepping:?}");
        // A smooth fall is no wave.
        let falling: Vec<u64> = (0..100).map(|i| 200 - i).collect();
        let smooth = waves(&falling, 0, 10_000);
        assert!(smooth.quietest > 0.9 && smooth.busiest < 1.1, "{smooth:?}");
        // Too short a phase for one window and its 2.5 s: even, no panic.
        assert_eq!(waves(&buckets, 0, 1_000).quietest, 1.0);
        assert_eq!(waves(&[], 0, 10_000).busiest, 1.0);
    }

    #[test]
    fn the_spread_of_app_starts_is_read_in_order() {
        let spread = spread(&[30.0, 10.0, 20.0]).expect("three starts");
        assert_eq!((spread.started, spread.p50, spread.max), (3, 20.0, 30.0));
        assert!(super::spread(&[]).is_none());
    }
}
