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

fn interval() -> Duration {
    let ms = std::env::var("OWM_PROGRESS_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(INTERVAL_MS_DEFAULT);
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
                let eta = if done == 0 {
                    "-".to_string()
                } else {
                    let per = elapsed.as_secs_f64() / done as f64;
                    secs(Duration::from_secs_f64(
                        per * self.total.saturating_sub(done) as f64,
                    ))
                };
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
