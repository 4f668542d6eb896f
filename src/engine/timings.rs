//! Wall time per pipeline stage on stderr when `PHM_TIMINGS=1`, so a
//! whole run's time can be split by stage without a profiler
//! (docs/performance.md reads these). Off by default: no output changes.

use std::time::Instant;

/// Laps of one run: each [`Stopwatch::lap`] prints the time since the last.
pub struct Stopwatch {
    on: bool,
    last: Instant,
    started: Instant,
    last_cpu: f64,
}

/// User plus system CPU seconds of the whole process so far: a stage whose
/// CPU time is well under twice its wall time (on 2 cores) left a core idle.
fn process_cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

impl Stopwatch {
    /// Starts timing; prints only when `PHM_TIMINGS=1`.
    pub fn start() -> Self {
        let now = Instant::now();
        Stopwatch {
            on: std::env::var_os("PHM_TIMINGS").is_some_and(|v| v == "1"),
            last: now,
            started: now,
            last_cpu: process_cpu_seconds(),
        }
    }

    /// Ends the stage `name`: prints its seconds and the run's so far.
    pub fn lap(&mut self, name: &str) {
        let now = Instant::now();
        if self.on {
            let cpu = process_cpu_seconds();
            eprintln!(
                "phm timing: {name:<24} {:7.3} s  cpu {:7.3} s  (total {:7.3} s)",
                (now - self.last).as_secs_f64(),
                cpu - self.last_cpu,
                (now - self.started).as_secs_f64()
            );
            self.last_cpu = cpu;
        }
        self.last = now;
    }
}
