//! The backup schedule: when each backup cycle is requested.
//!
//! A cycle is the patent's whole backup, request → split → A consistent → archive →
//! retire (\[0049\]); after the retire the engine may split again over the live volume
//! (`engine::Device::split`), so a device can be backed up nightly. The `[backup]`
//! keys give the request times in one of three exclusive ways:
//!
//! - `request_at_ticks = t` (or nothing: the workload's own time): one cycle;
//! - `schedule_at_ticks = [t1, t2, …]`: one cycle per time, strictly ascending;
//! - `period_ticks = p` with `cycles = n`: n cycles at `first + k·p`, `first` being
//!   `request_at_ticks` or the workload's time.
//!
//! A request that comes while the previous cycle has not yet retired VLUN A (its
//! archive is still being copied, or its old transactions are still running) is
//! **queued**, not refused: its cycle starts when the previous retire completes, and
//! the delay is reported per cycle (`CycleResult::request_deferred_ticks`). A
//! schedule is data, so whether a request will overlap is only known as the run goes.

use crate::clock::Tick;
use crate::error::SimError;
use crate::scenario::{BackupConfig, FIELD_TICKS_MAX};

/// The most cycles a schedule may ask for.
pub const CYCLES_MAX: u32 = 10_000;

fn bad(key: &str, message: String) -> SimError {
    SimError::Config {
        key: key.to_string(),
        message,
    }
}

impl BackupConfig {
    /// The request time of every cycle, ascending; `default_ticks` is the workload's
    /// own request time. Assumes `validate` passed.
    pub fn request_times(&self, default_ticks: Tick) -> Vec<Tick> {
        if !self.schedule_at_ticks.is_empty() {
            return self.schedule_at_ticks.clone();
        }
        let first = self.request_at_ticks.unwrap_or(default_ticks);
        match (self.period_ticks, self.cycles) {
            (Some(p), Some(n)) => (0..u64::from(n)).map(|k| first + k * p).collect(),
            _ => vec![first],
        }
    }

    /// How many cycles the schedule asks for.
    pub fn cycle_count(&self) -> u32 {
        if !self.schedule_at_ticks.is_empty() {
            return self.schedule_at_ticks.len() as u32;
        }
        match (self.period_ticks, self.cycles) {
            (Some(_), Some(n)) => n,
            _ => 1,
        }
    }
}

/// Reads `backup.schedule_at_ticks`, refusing an empty list: a schedule of no request
/// under a backup policy is a mistake, not a run without backup (that is the `none`
/// policy); leave the key out for one cycle.
pub(crate) fn non_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Tick>, D::Error> {
    use serde::de::Error;
    let times = <Vec<Tick> as serde::Deserialize>::deserialize(d)?;
    if times.is_empty() {
        return Err(D::Error::custom(
            "an empty schedule asks for no backup: give at least one request time, or \
             remove the key for one cycle at `request_at_ticks` (for no backup at all, run \
             the `none` policy)",
        ));
    }
    Ok(times)
}

/// Checks the schedule keys: exclusive forms, ascending times, at most
/// [`CYCLES_MAX`] cycles, every time at most [`FIELD_TICKS_MAX`] (a periodic
/// schedule's from its first request: `request_at_ticks`, else `default_request`, the
/// workload's own, in ticks). Errors name the `backup.*` key at fault.
pub(crate) fn validate(b: &BackupConfig, default_request: Tick) -> Result<(), SimError> {
    if !b.schedule_at_ticks.is_empty() {
        for (key, given) in [
            ("backup.request_at_ticks", b.request_at_ticks.is_some()),
            ("backup.period_ticks", b.period_ticks.is_some()),
            ("backup.cycles", b.cycles.is_some()),
        ] {
            if given {
                return Err(bad(
                    key,
                    "cannot be combined with backup.schedule_at_ticks (one way to give the \
                     request times)"
                        .to_string(),
                ));
            }
        }
        let key = "backup.schedule_at_ticks";
        if b.schedule_at_ticks.len() > CYCLES_MAX as usize {
            return Err(bad(
                key,
                format!(
                    "{} requests, at most {CYCLES_MAX}",
                    b.schedule_at_ticks.len()
                ),
            ));
        }
        if let Some(w) = b.schedule_at_ticks.windows(2).find(|w| w[0] >= w[1]) {
            return Err(bad(
                key,
                format!(
                    "request times must be strictly ascending: {} then {}",
                    w[0], w[1]
                ),
            ));
        }
        if let Some(&t) = b.schedule_at_ticks.iter().find(|&&t| t > FIELD_TICKS_MAX) {
            return Err(bad(key, format!("{t} exceeds {FIELD_TICKS_MAX} ticks")));
        }
        return Ok(());
    }
    match (b.period_ticks, b.cycles) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(bad(
            "backup.cycles",
            "needs backup.period_ticks (the time between two requests)".to_string(),
        )),
        (Some(_), None) => Err(bad(
            "backup.period_ticks",
            "needs backup.cycles (how many requests)".to_string(),
        )),
        (Some(p), Some(n)) => {
            if p == 0 || p > FIELD_TICKS_MAX {
                return Err(bad(
                    "backup.period_ticks",
                    format!("{p} is out of range 1..={FIELD_TICKS_MAX}"),
                ));
            }
            if n == 0 || n > CYCLES_MAX {
                return Err(bad(
                    "backup.cycles",
                    format!("{n} is out of range 1..={CYCLES_MAX}"),
                ));
            }
            let first = b.request_at_ticks.unwrap_or(default_request);
            let spread = u64::from(n - 1) * p;
            let last = spread.saturating_add(first);
            if last > FIELD_TICKS_MAX {
                // Refused at the larger share of the last request's time, with its
                // largest: the first request, else the spread of the others, at the
                // period (cycles, at most CYCLES_MAX, spread less than the first
                // request must be to pass the largest tick with them).
                let why = format!(
                    "the last of {n} requests {p} ticks apart from tick {first} would come \
                     at {last} ticks, past {FIELD_TICKS_MAX}"
                );
                let (key, value, largest) = if first >= spread {
                    ("backup.request_at_ticks", first, FIELD_TICKS_MAX - spread)
                } else {
                    let room = FIELD_TICKS_MAX - first.min(FIELD_TICKS_MAX);
                    ("backup.period_ticks", p, room / u64::from(n - 1))
                };
                return Err(bad(
                    key,
                    format!("{value} is out of range: must be at most {largest} ({why})"),
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(b: &BackupConfig) -> String {
        match validate(b, 0) {
            Err(SimError::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn the_three_forms_give_their_times() {
        let mut b = BackupConfig::default();
        assert_eq!(b.request_times(350), vec![350]);
        b.request_at_ticks = Some(100);
        assert_eq!(b.request_times(350), vec![100]);
        b.period_ticks = Some(1000);
        b.cycles = Some(3);
        validate(&b, 0).unwrap();
        assert_eq!(b.request_times(350), vec![100, 1100, 2100]);
        assert_eq!(b.cycle_count(), 3);
        let b = BackupConfig {
            schedule_at_ticks: vec![5, 9, 40],
            ..BackupConfig::default()
        };
        validate(&b, 0).unwrap();
        assert_eq!((b.request_times(350), b.cycle_count()), (vec![5, 9, 40], 3));
    }

    #[test]
    fn bad_schedules_name_their_key() {
        let list = |ts: Vec<Tick>| BackupConfig {
            schedule_at_ticks: ts,
            ..BackupConfig::default()
        };
        assert_eq!(key_of(&list(vec![5, 5])), "backup.schedule_at_ticks");
        assert_eq!(key_of(&list(vec![9, 5])), "backup.schedule_at_ticks");
        assert_eq!(
            key_of(&list(vec![1, FIELD_TICKS_MAX + 1])),
            "backup.schedule_at_ticks"
        );
        let mut b = list(vec![1]);
        b.request_at_ticks = Some(3);
        assert_eq!(key_of(&b), "backup.request_at_ticks");
        let mut b = list(vec![1]);
        b.cycles = Some(3);
        assert_eq!(key_of(&b), "backup.cycles");
        let period = |p: Option<Tick>, n: Option<u32>| BackupConfig {
            period_ticks: p,
            cycles: n,
            ..BackupConfig::default()
        };
        assert_eq!(key_of(&period(None, Some(2))), "backup.cycles");
        assert_eq!(key_of(&period(Some(2), None)), "backup.period_ticks");
        assert_eq!(key_of(&period(Some(0), Some(2))), "backup.period_ticks");
        assert_eq!(key_of(&period(Some(5), Some(0))), "backup.cycles");
        assert_eq!(
            key_of(&period(Some(5), Some(CYCLES_MAX + 1))),
            "backup.cycles"
        );
        // The last request past the largest tick: at the larger share, with its
        // largest, which passes.
        assert_eq!(
            key_of(&period(Some(FIELD_TICKS_MAX), Some(3))),
            "backup.period_ticks"
        );
        assert!(validate(&period(Some(FIELD_TICKS_MAX / 2), Some(3)), 0).is_ok());
        // With no `request_at_ticks`, from the workload's own request: a period that
        // fits from tick 0 is refused from tick 15,000, the largest that fits passes.
        let from = |p: u64| validate(&period(Some(p), Some(10_000)), 15_000);
        let fits = (FIELD_TICKS_MAX - 15_000) / 9_999;
        assert!(validate(&period(Some(fits + 1), Some(10_000)), 0).is_ok());
        assert!(matches!(
            from(fits + 1),
            Err(SimError::Config { ref key, .. }) if key == "backup.period_ticks"
        ));
        assert!(from(fits).is_ok());
        assert_eq!(
            key_of(&period(Some(FIELD_TICKS_MAX / 2 + 1), Some(3))),
            "backup.period_ticks"
        );
        // The first request the larger share: at it.
        let mut b = period(Some(1000), Some(10_000));
        b.request_at_ticks = Some(FIELD_TICKS_MAX - 5_000_000);
        assert_eq!(key_of(&b), "backup.request_at_ticks");
        b.request_at_ticks = Some(FIELD_TICKS_MAX - 9_999_000);
        assert!(validate(&b, 0).is_ok());
        let mut b = period(Some(100), Some(10_000));
        b.request_at_ticks = Some(FIELD_TICKS_MAX - 500_000);
        assert_eq!(key_of(&b), "backup.request_at_ticks");
        b.request_at_ticks = Some(1000);
        b.period_ticks = Some(FIELD_TICKS_MAX / 5_000);
        assert_eq!(key_of(&b), "backup.period_ticks");
    }
}
