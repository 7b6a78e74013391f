//! Progress on stderr for long work (a sweep's grid points, the policies of a long
//! `owm run`): an indicatif bar when stderr is a terminal; otherwise (a batch job, a CI
//! log) one line every few seconds: done / total, elapsed, ETA. `--quiet` silences
//! both. `OWM_PROGRESS_INTERVAL_MS` sets the line interval (default 5,000 ms; 0: a line
//! at every update, which the tests use).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Milliseconds between two progress lines when stderr is not a terminal.
pub const INTERVAL_MS_DEFAULT: u64 = 5_000;

enum Sink {
    Quiet,
    Bar(ProgressBar),
    Lines {
        interval: Duration,
        last: Mutex<Instant>,
    },
}

/// Progress of `total` units of work named `unit` ("points", "policies").
pub struct Progress {
    sink: Sink,
    unit: &'static str,
    total: u64,
    start: Instant,
}

/// The line interval: `OWM_PROGRESS_INTERVAL_MS` when set to a whole number of
/// milliseconds, else the default; a value set but not such a number is said once on
/// stderr (`note: OWM_PROGRESS_INTERVAL_MS=abc: …`), never taken silently.
fn interval() -> Duration {
    let ms = match std::env::var_os("OWM_PROGRESS_INTERVAL_MS") {
        None => INTERVAL_MS_DEFAULT,
        Some(v) => match v.to_str().and_then(|s| s.trim().parse::<u64>().ok()) {
            Some(ms) => ms,
            None => {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    use engine::shown::ShowName as _;
                    tell!(
                        "note: OWM_PROGRESS_INTERVAL_MS={}: not a whole number of \
                         milliseconds (0 to {}); progress lines every {INTERVAL_MS_DEFAULT} ms",
                        std::path::Path::new(&v).shown(),
                        u64::MAX
                    );
                });
                INTERVAL_MS_DEFAULT
            }
        },
    };
    Duration::from_millis(ms)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// What is left of `total` units after `done` and `part` (0 to 1) of the next took
/// `elapsed`, at the same pace; "-" before anything is known.
fn eta(elapsed: Duration, done: u64, part: f64, total: u64) -> String {
    let part = if part.is_finite() {
        part.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let finished = done as f64 + part;
    if finished <= 0.0 {
        return "-".to_string();
    }
    let left = (total as f64 - finished).max(0.0);
    secs(Duration::from_secs_f64(
        elapsed.as_secs_f64() / finished * left,
    ))
}

impl Progress {
    /// Progress over `total` units; silent when `quiet`.
    pub fn new(unit: &'static str, total: u64, quiet: bool) -> Self {
        let sink = if quiet {
            Sink::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let template = format!(
                "{{bar:40}} {{pos}}/{{len}} {unit}, {{elapsed}} elapsed, ETA {{eta}} {{msg}}"
            );
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            Sink::Bar(bar)
        } else {
            Sink::Lines {
                interval: interval(),
                last: Mutex::new(Instant::now()),
            }
        };
        Progress {
            sink,
            unit,
            total,
            start: Instant::now(),
        }
    }

    /// `done` of the total units are finished; `detail` says what runs now (may be
    /// empty). A line is printed when the interval has passed since the last line (or
    /// the start: a short run prints none).
    pub fn update(&self, done: u64, detail: &str) {
        self.update_partial(done, 0.0, detail);
    }

    /// [`Self::update`] with `part` (0 to 1) of the unit after `done` finished too, as
    /// far as it is known: the ETA counts it (the bar and the line show `done`).
    pub fn update_partial(&self, done: u64, part: f64, detail: &str) {
        match &self.sink {
            Sink::Quiet => {}
            Sink::Bar(bar) => {
                bar.set_position(done);
                bar.set_message(detail.to_string());
            }
            Sink::Lines { interval, last } => {
                let now = Instant::now();
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                if now.duration_since(*last) < *interval {
                    return;
                }
                *last = now;
                let elapsed = now.duration_since(self.start);
                let eta = eta(elapsed, done, part, self.total);
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                };
                tell!(
                    "progress: {done}/{} {}{detail}, {} elapsed, ETA {eta}",
                    self.total,
                    self.unit,
                    secs(elapsed)
                );
            }
        }
    }

    /// Removes the bar (lines stay in the log).
    pub fn finish(&self) {
        if let Sink::Bar(bar) = &self.sink {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ETA counts the part of the running unit: at 3 s for one unit of two and
    /// half of the next, 1 s is left; nothing known, no ETA.
    #[test]
    fn the_eta_counts_the_running_unit() {
        let s = Duration::from_secs(3);
        assert_eq!(eta(s, 1, 0.5, 2), "1.0s");
        assert_eq!(eta(s, 1, 0.0, 2), "3.0s");
        assert_eq!(eta(s, 0, 0.75, 1), "1.0s");
        assert_eq!(eta(s, 0, 0.0, 2), "-");
        assert_eq!(eta(s, 1, f64::NAN, 2), "3.0s");
        assert_eq!(eta(s, 2, 0.0, 2), "0.0s");
    }
}
