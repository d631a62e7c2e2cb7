//! When the "still waiting" lines come, and how they count checks.
//!
//! Invariant: at most one line per doubling gap, capped at 30 s: a pod that
//! waits for minutes logs a few lines, never one per check.

use std::time::Duration;

/// When the "still waiting" lines come: after 1 s, then after gaps that
/// double up to 30 s (at 1, 3, 7, 15, 31, 61, 91 s, ...): frequent enough to
/// show a slow start, rare enough not to flood the logs of a pod that waits
/// for minutes.
#[derive(Debug)]
pub(super) struct Reports {
    next: Duration,
    gap: Duration,
}

const FIRST_REPORT: Duration = Duration::from_secs(1);
const MAX_REPORT_GAP: Duration = Duration::from_secs(30);

impl Reports {
    pub(super) fn new() -> Self {
        Reports {
            next: FIRST_REPORT,
            gap: FIRST_REPORT,
        }
    }

    /// When the next line is due, counted from the start of the wait.
    pub(super) fn next(&self) -> Duration {
        self.next
    }

    /// True when a line is due at `elapsed`; schedules the next one.
    pub(super) fn due(&mut self, elapsed: Duration) -> bool {
        if elapsed < self.next {
            return false;
        }
        self.gap = (self.gap * 2).min(MAX_REPORT_GAP);
        self.next = elapsed + self.gap;
        true
    }
}

/// "1 check", "14 checks".
pub(super) fn checks(n: u64) -> String {
    if n == 1 {
        "1 check".to_string()
    } else {
        format!("{n} checks")
    }
}
