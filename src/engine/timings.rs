//! Wall time per pipeline stage on stderr when `PHM_TIMINGS=1`, so a
//! whole run's time can be split by stage without a profiler
//! (docs/performance.md reads these). Off by default: no output changes.

use std::time::Instant;

/// Laps of one run: each [`Stopwatch::lap`] prints the time since the last.
pub struct Stopwatch {
    on: bool,
    last: Instant,
    started: Instant,
}

impl Stopwatch {
    /// Starts timing; prints only when `PHM_TIMINGS=1`.
    pub fn start() -> Self {
        let now = Instant::now();
        Stopwatch {
            on: std::env::var_os("PHM_TIMINGS").is_some_and(|v| v == "1"),
            last: now,
            started: now,
        }
    }

    /// Ends the stage `name`: prints its seconds and the run's so far.
    pub fn lap(&mut self, name: &str) {
        let now = Instant::now();
        if self.on {
            eprintln!(
                "phm timing: {name:<24} {:7.3} s  (total {:7.3} s)",
                (now - self.last).as_secs_f64(),
                (now - self.started).as_secs_f64()
            );
        }
        self.last = now;
    }
}
