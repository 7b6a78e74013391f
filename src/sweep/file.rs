//! The sweep file: its keys, and loading it into a [`Sweep`] whose every grid point's
//! scenario is built and checked (by the simulator's validator) before anything runs.
//! Errors name the file, the line and the key (for a value an axis gives: that axis's
//! `key = ...` line).

use engine::shown::ShowName as _;
use std::path::Path;

use reports::tables;
use serde::Deserialize;
use sim::number_text::counted;
use sim::Scenario;

use super::grid::Sweep;
use crate::config::{self, FileError};
use crate::locate::Keys;
use crate::runfile;
use sim::Policy;

/// Grid points at most: a typo in a sweep file should not start a week-long run.
pub const POINTS_MAX: usize = 1_000_000;

/// One swept parameter: a dotted key of the scenario and the values it takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    pub key: String,
    pub values: Vec<toml::Value>,
    /// The plots' x scale when this axis is x (default: log when the values span two
    /// decades or more, else linear; values that are not numbers are categories).
    #[serde(default)]
    pub scale: Option<Scale>,
}

/// `scale = "linear" | "log"` of an `[[axis]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Linear,
    Log,
}

fn default_seeds() -> Vec<u64> {
    vec![crate::run::DEFAULT_SEED]
}

fn default_metrics() -> Vec<String> {
    vec![
        "admission_delay_ticks_mean".into(),
        "admission_delay_ticks_p99".into(),
    ]
}

/// The sweep file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// Plot titles start with it (default: the file stem).
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default = "runfile::default_policies")]
    pub policies: Vec<Policy>,
    /// A list, `"A..=B"`, or `{ count = N, first = S }`.
    #[serde(
        default = "default_seeds",
        deserialize_with = "sim::seeds::deserialize"
    )]
    pub seeds: Vec<u64>,
    /// The policy the others are compared with, seed by seed (`stats.csv`'s diff
    /// columns and the `…--vs-<baseline>` plots).
    #[serde(default)]
    pub baseline: Option<Policy>,
    /// The axis on the plots' x axis (default the first axis).
    #[serde(default)]
    pub x: Option<String>,
    /// Metric columns to plot ([`tables::sweep_metrics`]: the numeric columns of
    /// summary.csv).
    #[serde(default = "default_metrics")]
    pub metrics: Vec<String>,
    #[serde(default)]
    pub axis: Vec<AxisSpec>,
    /// The base scenario; typed here so its errors carry lines.
    #[serde(default)]
    #[allow(dead_code)]
    scenario: Scenario,
}

/// An axis value as the sweep's rows, labels and messages show it: a float by
/// [`sim::number_text::float_text`] (`0.5`, `1e300`).
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => sim::number_text::float_text(*f),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Sets `value` at dotted `key` in `table`, creating tables on the way.
fn set_path(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().ok_or("empty key")?;
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` is not a table"))?;
    }
    t.insert(last.to_string(), value);
    Ok(())
}

/// The sweep file `src` read once more with its base workload's `kind` supplied by
/// a `workload.kind` axis (its first value), when `[scenario.workload]` names none and
/// an axis sweeps it: the base's other keys are then judged as that workload's, not
/// the default one's. `None` when no axis sets the kind, the base names one, or the
/// file does not read so either.
fn with_kind_from_axis(src: &str) -> Option<SweepFile> {
    use serde::Deserialize as _;
    let mut raw: toml::Table = toml::from_str(src).ok()?;
    let kind = raw
        .get("axis")?
        .as_array()?
        .iter()
        .find(|a| a.get("key").and_then(|k| k.as_str()) == Some("workload.kind"))?
        .get("values")?
        .as_array()?
        .first()?
        .clone();
    let workload = raw
        .get_mut("scenario")?
        .as_table_mut()?
        .get_mut("workload")?
        .as_table_mut()?;
    if workload.contains_key("kind") {
        return None;
    }
    workload.insert("kind".into(), kind);
    SweepFile::deserialize(toml::Value::Table(raw)).ok()
}

pub fn load(path: &Path, src: &str) -> Result<Sweep, FileError> {
    let parsed = toml::from_str(src).or_else(|e| with_kind_from_axis(src).ok_or(e));
    let spec: SweepFile = parsed.map_err(|e| {
        let mut err = config::scenario_error::<SweepFile>(path, src, src, "scenario.", &e);
        // A key of the sweep file itself that it does not know (not an unknown key
        // inside a known one's value, such as `seeds = { count = 2, extra = 3 }`).
        let k = err.key.clone().unwrap_or_default();
        let top_level = !k.is_empty() && !k.contains('.');
        if top_level && err.message.starts_with(&format!("unknown field `{k}`")) {
            err.message.push_str(&format!(
                " (a sweep file gives its scenario under [scenario]; if `{k}` belongs to a \
                 run file, run it with `owm run {}`)",
                path.shown()
            ));
        }
        let top = config::top_level_keys::<SweepFile>();
        if let Some(words) = config::after_table_words(src, &err, &top, "sweep file") {
            err.message.push_str(&words);
        }
        err
    })?;
    let raw: toml::Table = toml::from_str(src).map_err(|e| FileError::toml(path, src, &e))?;
    let mut base = match raw.get("scenario") {
        Some(toml::Value::Table(t)) => t.clone(),
        _ => toml::Table::new(),
    };
    default_workload_kind(&mut base, &spec.axis);
    if let (false, Some(stem)) = (base.contains_key("name"), runfile::stem_name(path)) {
        // Named by the file's stem, as a run file without `name` is.
        base.insert("name".into(), toml::Value::String(stem));
    }
    if let Some(why) = runfile::policies_fault(&spec.policies) {
        return Err(FileError::key(path, src, "policies", why));
    }
    if spec.seeds.is_empty() {
        return Err(FileError::key(
            path,
            src,
            "seeds",
            "is empty; give at least one seed",
        ));
    }
    if spec.metrics.is_empty() {
        // Leaving the key out plots the default metrics; an empty list would plot
        // nothing and keep no statistics: a slip, not a wish.
        return Err(FileError::key(
            path,
            src,
            "metrics",
            "is empty: the sweep would plot nothing and stats.csv would hold no metric; \
             name at least one metric, or leave the key out for the default ones",
        ));
    }
    if let Some(b) = spec.baseline {
        if !spec.policies.contains(&b) {
            return Err(FileError::key(
                path,
                src,
                "baseline",
                format!("`{}` is not one of the sweep's policies", b.as_str()),
            ));
        }
        if spec.policies.iter().all(|&p| p == b) {
            // Every diff_ column would be empty and no --vs- plot drawn: a slip.
            return Err(FileError::key(
                path,
                src,
                "baseline",
                format!(
                    "`{}` is the sweep's only policy: nothing to pair with it (the diff_ \
                     columns and --vs- plots compare the other policies with it); add a \
                     policy to `policies`, or leave `baseline` out",
                    b.as_str()
                ),
            ));
        }
    }
    // An error at metric `j`'s own line (a list over several lines names the one).
    let metric_error = |j: usize, message: String| {
        let keys = Keys::of(src);
        let line = metric_span(src, j)
            .map(|s| keys.line_of(s.start))
            .or_else(|| keys.line("metrics"));
        FileError {
            path: path.to_path_buf(),
            line,
            key: Some("metrics".into()),
            message,
            snippet: line.and_then(|l| keys.line_text(l)),
        }
    };
    for (j, m) in spec.metrics.iter().enumerate() {
        if let Err(e) = tables::sweep_metric(m) {
            return Err(metric_error(j, e));
        }
        if let Some(k) = spec.metrics[..j].iter().position(|n| n == m) {
            return Err(metric_error(
                j,
                format!(
                    "lists `{m}` twice (metrics {} and {}): stats.csv would hold two \
                     groups of one name; give each metric once",
                    k + 1,
                    j + 1
                ),
            ));
        }
    }
    // One key inside another (`workload.arrivals` and
    // `workload.arrivals.interarrival_ticks_mean`) is one setting swept twice: the later
    // axis would overwrite part of the earlier one's value, and each row would name a
    // value that never ran.
    let nested = |outer: &str, inner: &str| {
        outer == inner
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('.'))
    };
    for (i, a) in spec.axis.iter().enumerate() {
        if let Some(j) = spec.axis[..i]
            .iter()
            .position(|b| nested(&b.key, &a.key) || nested(&a.key, &b.key))
        {
            return Err(FileError::key(
                path,
                src,
                &format!("axis.{i}.key"),
                format!(
                    "`{}` is swept twice (also by `axis.{j}`{}{}); give each key one \
                     [[axis]], and no axis a key inside another's",
                    a.key,
                    Keys::of(src)
                        .line(&format!("axis.{j}.key"))
                        .map(|l| format!(" at line {l}"))
                        .unwrap_or_default(),
                    if spec.axis[j].key == a.key {
                        String::new()
                    } else {
                        format!(
                            ", whose key `{}` is one setting with it: the later axis would \
                             overwrite part of the earlier one's value",
                            spec.axis[j].key
                        )
                    },
                ),
            ));
        }
        if a.values.is_empty() {
            return Err(FileError::key(
                path,
                src,
                &format!("axis.{i}.values"),
                format!("axis `{}` has no values", a.key),
            ));
        }
        let read: Vec<Option<Scenario>> =
            a.values.iter().map(|v| read_as(&base, &a.key, v)).collect();
        // The values seen, by a key two equal values share (their text as a number
        // reads it, or the scenario they make): each value compared with the few
        // before it under its keys, not with all of them.
        let mut seen: std::collections::HashMap<ValueKey, Vec<usize>> = Default::default();
        for (j, v) in a.values.iter().enumerate() {
            let same = |k: usize| {
                same_value(&a.values[k], v)
                    || matches!((&read[k], &read[j]), (Some(x), Some(y)) if x == y)
            };
            let keys = value_keys(v, read[j].as_ref());
            let earlier = keys
                .iter()
                .flat_map(|key| seen.get(key).into_iter().flatten())
                .copied()
                .filter(|&k| same(k))
                .min();
            for key in keys {
                seen.entry(key).or_default().push(j);
            }
            if let Some(k) = earlier {
                let (first, second) = (written(src, i, k, &a.values[k]), written(src, i, j, v));
                let forms = if first == second {
                    String::new()
                } else {
                    format!(
                        ", written `{first}` and `{second}`, which the scenario reads as one value"
                    )
                };
                return Err(value_error(
                    path,
                    src,
                    i,
                    j,
                    format!(
                        "axis `{}` takes {} twice (values {} and {}{forms}): the grid would \
                         run its points twice and stats.csv would hold two groups of one \
                         name; give each value once",
                        a.key,
                        value_text(&a.values[k]),
                        k + 1,
                        j + 1
                    ),
                ));
            }
        }
        if let Some(scale) = a.scale {
            let name = match scale {
                Scale::Linear => "linear",
                Scale::Log => "log",
            };
            for (j, v) in a.values.iter().enumerate() {
                let why = match number(v) {
                    None => format!(
                        "is not a number: a {name} x axis needs numbers (values that are \
                         not are drawn as named categories, evenly spaced); remove `scale`"
                    ),
                    Some(x) if scale == Scale::Log && !(x > 0.0 && x.is_finite()) => {
                        "is not above 0: a log x axis needs every value above 0; give \
                         positive values, or scale = \"linear\""
                            .to_string()
                    }
                    Some(_) => continue,
                };
                return Err(value_error(
                    path,
                    src,
                    i,
                    j,
                    format!(
                        "axis `{}` has scale = \"{name}\", and its value {} {why}",
                        a.key,
                        value_text(v)
                    ),
                ));
            }
        }
    }
    // Every value the scenario reads as a plain one (a choice's table form
    // `{ "nvme-ssd" = {} }`) is kept in that plain form from here on: the rows, the
    // labels and the messages spell one value one way.
    let mut spec = spec;
    for a in &mut spec.axis {
        for v in &mut a.values {
            if let Some(c) = canonical(&base, &a.key, v) {
                *v = c;
            }
        }
    }
    // A misspelled axis key is reported at its own `key` line, with the closest key,
    // before `x` is checked against the axes' keys: `x` names the key as intended.
    if let Some((i, msg)) = unknown_axis_key(&base, &spec.axis) {
        let a = &spec.axis[i];
        return Err(axis_error(
            path,
            src,
            &spec.axis,
            &a.key,
            &a.values[0],
            &msg,
        ));
    }
    if let Some(why) = spec.title.as_deref().and_then(title_refused) {
        return Err(FileError::key(path, src, "title", why));
    }
    if let Some(x) = &spec.x {
        if !spec.axis.iter().any(|a| &a.key == x) {
            return Err(FileError::key(path, src, "x", not_an_axis(x, &spec.axis)));
        }
    }
    // The grid's size, counted before it is built.
    let mut points = spec.policies.len().saturating_mul(spec.seeds.len());
    for (i, a) in spec.axis.iter().enumerate() {
        points = points.saturating_mul(a.values.len());
        if points > POINTS_MAX {
            // At the values of the axis that takes the grid past the bound.
            return Err(FileError::key(
                path,
                src,
                &format!("axis.{i}.values"),
                format!(
                    "the grid has {points} points or more with the axes up to this one's {} \
                     ({}, {}), more than owm sweep runs ({POINTS_MAX}): give fewer values, \
                     seeds or policies, or split the grid into several sweep files",
                    counted(a.values.len() as u64, "value", "values"),
                    counted(spec.policies.len() as u64, "policy", "policies"),
                    counted(spec.seeds.len() as u64, "seed", "seeds")
                ),
            ));
        }
    }
    // The cartesian product of the axes, first axis outermost.
    let mut combos: Vec<Vec<toml::Value>> = vec![Vec::new()];
    for a in &spec.axis {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                a.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    let axes: Vec<String> = spec.axis.iter().map(|a| a.key.clone()).collect();
    // The keys with no effect at every point so far (None before the first point).
    let mut inert: Option<Vec<sim::Inert>> = None;
    let mut built = Vec::with_capacity(combos.len());
    let mut reads = super::traces::Reads::default();
    // A base key's refusal, and the axis values of every grid point it refuses.
    let mut refused: Option<(FileError, Vec<Vec<toml::Value>>)> = None;
    for values in combos {
        let mut t = base.clone();
        for (a, v) in spec.axis.iter().zip(&values) {
            set_path(&mut t, &a.key, v.clone())
                .map_err(|m| axis_error(path, src, &spec.axis, &a.key, v, &m))?;
        }
        let mut s: Scenario = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| {
                if let Some((a, v, names)) = axis_names(&base, &spec.axis, &values) {
                    let msg = format!("expected {names} (a string)");
                    return axis_error(path, src, &spec.axis, &a, &v, &msg);
                }
                let (a, v, msg) = axis_at_fault(&base, &spec.axis, &values, e.message());
                let probe = config::ScenarioProbe {
                    table: base.clone(),
                    policies: spec.policies.clone(),
                    points: true,
                };
                let msg = config::with_key_range(&config::toml_words(msg.trim()), &probe, &a);
                let msg = config::with_unit(&msg, &a);
                axis_error(path, src, &spec.axis, &a, &v, &msg)
            })?;
        // A refusal of a key an axis sets is reported at that axis's value; one of a
        // base key (a limit the point passes) is gathered over the grid first, so it
        // names every axis value that makes it so ([`refused_points`]).
        let at_axis = |e: FileError| -> std::result::Result<FileError, FileError> {
            let key = e.key.as_deref().and_then(|k| k.strip_prefix("scenario."));
            let at = spec.axis.iter().position(|a| Some(a.key.as_str()) == key);
            match (at, key) {
                (Some(i), Some(key)) => Err(axis_error(
                    path, src, &spec.axis, key, &values[i], &e.message,
                )),
                _ if !spec.axis.is_empty() => Ok(e),
                _ => Err(e),
            }
        };
        reads.before(path, &s);
        let checked = config::load_trace(path, src, "scenario.", &mut s)
            .and_then(|()| config::check_points(path, src, "scenario.", &s, &spec.policies, &axes));
        match checked.map_err(at_axis) {
            Ok(()) => {}
            Err(Err(e)) => return Err(e),
            Err(Ok(e)) => {
                match &mut refused {
                    None => refused = Some((e, vec![values.clone()])),
                    Some((first, at)) if first.key == e.key && first.message == e.message => {
                        at.push(values.clone())
                    }
                    Some(_) => {}
                }
                continue;
            }
        }
        let here = s.inert_keys(&spec.policies);
        inert = Some(match inert {
            None => here,
            Some(so_far) => so_far
                .into_iter()
                .filter(|i| here.iter().any(|h| h.key == i.key))
                .collect(),
        });
        built.push((values, s));
    }
    if let Some((mut e, at)) = refused {
        e.message.push_str(&refused_points(&spec.axis, &at));
        return Err(e);
    }
    let mut inert = inert.unwrap_or_default();
    inert.push(sim::Inert {
        key: "limits.output_bytes_max",
        why: "has no effect in a sweep: `owm sweep` writes no trace.csv and no \
              extra_space.csv (its tables hold a row per grid point); `owm run` reads it"
            .to_string(),
    });
    config::refuse_inert(path, src, "scenario.", &inert, &axes)?;
    let (traces, combo_traces) = reads.finish(path, src)?;
    // The stem's bytes that are not UTF-8 as `\xHH`; its control characters are kept
    // (the CSV files quote them) and shown `\xHH` where the plots draw it.
    let title = spec.title.clone().unwrap_or_else(|| {
        use std::os::unix::ffi::OsStrExt;
        path.file_stem()
            .map(|s| engine::shown::escaped(s.as_bytes(), |_| true).into_owned())
            .unwrap_or_default()
    });
    Ok(Sweep {
        title,
        spec,
        combos: built,
        traces,
        combo_traces,
    })
}

/// The first axis whose key the scenario does not know (its first value, set alone on
/// `base`, is refused as an `unknown field`), by index, with serde's message in the
/// file's terms ([`config::toml_words`]). `None` when every axis's key is known (or
/// refused for another reason, or `base` alone is refused: reported when the grid is
/// built).
fn unknown_axis_key(base: &toml::Table, axes: &[AxisSpec]) -> Option<(usize, String)> {
    Scenario::deserialize(toml::Value::Table(base.clone())).ok()?;
    axes.iter().enumerate().find_map(|(i, a)| {
        let mut t = base.clone();
        set_path(&mut t, &a.key, a.values.first()?.clone()).ok()?;
        let e = Scenario::deserialize(toml::Value::Table(t)).err()?;
        let msg = config::toml_words(e.message().trim());
        msg.starts_with("unknown field").then_some((i, msg))
    })
}

/// Why `x` names no axis (`` `X` is not the key of an [[axis]] ``), with the axis key
/// closest to it when it is close (Jaro-Winkler similarity 0.8 or more, as a
/// misspelled key's "did you mean") and the axes' keys.
fn not_an_axis(x: &str, axes: &[AxisSpec]) -> String {
    let best = axes
        .iter()
        .map(|a| (a.key.as_str(), strsim::jaro_winkler(x, &a.key)))
        .fold(None, |b: Option<(&str, f64)>, (k, s)| match b {
            Some((_, t)) if t >= s => b,
            _ => Some((k, s)),
        });
    let guess = match best {
        Some((k, s)) if s >= 0.8 => format!(" (did you mean `{k}`?)"),
        _ => String::new(),
    };
    let keys: Vec<String> = axes.iter().map(|a| format!("`{}`", a.key)).collect();
    let known = if keys.is_empty() {
        "the file has no [[axis]]".to_string()
    } else {
        format!("the axes' keys: {}", keys.join(", "))
    };
    format!("`{x}` is not the key of an [[axis]]{guess}; {known}")
}

/// The axis (key, value) a scenario's deserialisation error `message` is about, and the
/// error to report: when `base` alone deserialises, the first axis whose value alone, set on it, fails to
/// deserialise (its own error: an `unknown variant` message names no key), else the
/// one whose last key part `message` names in backquotes (`unknown field `nope``),
/// else the first.
fn axis_at_fault(
    base: &toml::Table,
    axes: &[AxisSpec],
    values: &[toml::Value],
    message: &str,
) -> (String, toml::Value, String) {
    let base_ok = Scenario::deserialize(toml::Value::Table(base.clone())).is_ok();
    let alone = axes
        .iter()
        .zip(values)
        .filter(|_| base_ok)
        .find_map(|(a, v)| {
            let mut t = base.clone();
            set_path(&mut t, &a.key, v.clone()).ok()?;
            let e = Scenario::deserialize(toml::Value::Table(t)).err()?;
            Some((a.key.clone(), v.clone(), e.message().to_string()))
        });
    if let Some(found) = alone {
        return found;
    }
    let named = axes.iter().position(|a| {
        let last = a.key.rsplit('.').next().unwrap_or(&a.key);
        message.contains(&format!("`{last}`"))
    });
    let i = named.unwrap_or(0);
    match (axes.get(i), values.get(i)) {
        (Some(a), Some(v)) => (a.key.clone(), v.clone(), message.to_string()),
        _ => (
            "scenario".into(),
            toml::Value::Boolean(true),
            message.to_string(),
        ),
    }
}

/// The axis of a named choice (`device.profile`, `backup.on_data_area_full`) given a
/// value that is not a name, with the names it takes: the point is built again with
/// each non-string value in turn replaced by a name no choice has, and serde's answer
/// lists the names (`one of `hdd-7200`, `sata-ssd`, `nvme-ssd``). `None` when no axis
/// is such a choice.
fn axis_names(
    base: &toml::Table,
    axes: &[AxisSpec],
    values: &[toml::Value],
) -> Option<(String, toml::Value, String)> {
    const NO_NAME: &str = "\u{1}";
    for (i, (a, v)) in axes.iter().zip(values).enumerate() {
        if v.is_str() {
            continue;
        }
        let mut t = base.clone();
        for (j, (b, w)) in axes.iter().zip(values).enumerate() {
            let w = if i == j {
                toml::Value::String(NO_NAME.into())
            } else {
                w.clone()
            };
            set_path(&mut t, &b.key, w).ok()?;
        }
        let Err(e) = Scenario::deserialize(toml::Value::Table(t)) else {
            continue;
        };
        let prefix = format!("unknown variant `{NO_NAME}`, expected ");
        if let Some(names) = e.message().strip_prefix(&prefix) {
            return Some((a.key.clone(), v.clone(), names.to_string()));
        }
    }
    None
}

/// An axis that sets a `workload.*` key of a sweep whose `[scenario.workload]` names no
/// `kind` sets it on the default workload: the kind is written into `base`, so the
/// key is judged as that workload's (`unknown field` for a key it lacks) rather than
/// as a workload table missing its `kind`.
fn default_workload_kind(base: &mut toml::Table, axes: &[AxisSpec]) {
    if !axes.iter().any(|a| a.key.starts_with("workload.")) {
        return;
    }
    let kind = Scenario::default().workload.kind();
    // A `workload` that is not a table: the scenario's own error names it.
    if let toml::Value::Table(w) = base
        .entry("workload")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
    {
        w.entry("kind")
            .or_insert_with(|| toml::Value::String(kind.to_string()));
    }
}

/// Why a sweep's `title` is refused, if it is: empty (every plot title would start
/// with `: `), or refused as a scenario's name is ([`sim::PrintedNameFault`]): it
/// starts every plot title, as a name does.
fn title_refused(title: &str) -> Option<String> {
    if title.trim().is_empty() {
        return Some(
            "is empty: every plot title starts with it; give one, or leave `title` out for \
             the file's stem"
                .to_string(),
        );
    }
    sim::PrintedNameFault::of(title)
        .map(|fault| format!("{fault}: it starts every plot title; {}", fault.remedy()))
}

/// The words that say at which grid points a base key is refused, from the axis values
/// of each point refused (`at`, in grid order, at least one): ` (at the grid points
/// with workload.transactions = 3000, any workload.write_fraction)`. An axis whose
/// every value is among them with the others' is "any"; an axis with several of its
/// values among them lists them (`workload.records = 262144, 524288`); when the points
/// are not every combination of those values, the first point is named and how many
/// more there are.
fn refused_points(axes: &[AxisSpec], at: &[Vec<toml::Value>]) -> String {
    let mut per_axis: Vec<Vec<&toml::Value>> = vec![Vec::new(); axes.len()];
    for values in at {
        for (i, v) in values.iter().enumerate() {
            if !per_axis[i].contains(&v) {
                per_axis[i].push(v);
            }
        }
    }
    let combinations: usize = per_axis.iter().map(Vec::len).product();
    if combinations != at.len() {
        let first: Vec<String> = axes
            .iter()
            .zip(&at[0])
            .map(|(a, v)| format!("{} = {}", a.key, value_text(v)))
            .collect();
        return format!(
            " (at the grid points with {}, and {} more)",
            first.join(", "),
            counted(
                at.len() as u64 - 1,
                "combination of axis values",
                "combinations of axis values"
            )
        );
    }
    // The values that make it so first, then the axes whose every value does.
    let (mut set, mut any) = (Vec::new(), Vec::new());
    for (a, vs) in axes.iter().zip(&per_axis) {
        if vs.len() == a.values.len() && a.values.len() > 1 {
            any.push(format!("any {}", a.key));
        } else {
            let vs: Vec<String> = vs.iter().map(|v| value_text(v)).collect();
            set.push(format!("{} = {}", a.key, vs.join(", ")));
        }
    }
    if set.is_empty() {
        return " (at every grid point)".to_string();
    }
    set.extend(any);
    format!(" (at the grid points with {})", set.join(", "))
}

/// An error about the grid points where axis `key` takes value `v`, at the line of that
/// value in the axis's `values` (the `values` line when the array is on one line), key
/// `key`, the message starting "with value V:". An error about the key itself (an
/// `unknown field`, whatever the value) is at the axis's `key = ...` line, names the
/// axis by its key path (`axis.1.key`, entries counted from 0 as in every key path)
/// and no value, and says it as a run file's unknown key
/// does ([`crate::config::unknown_field_words`]: the closest known key first, "did you
/// mean" when it is close).
pub(super) fn axis_error(
    path: &Path,
    src: &str,
    axes: &[AxisSpec],
    key: &str,
    v: &toml::Value,
    msg: &str,
) -> FileError {
    let at = axes.iter().position(|a| a.key == key).unwrap_or(0);
    let found = axes
        .get(at)
        .and_then(|a| a.values.iter().position(|w| w == v));
    let j = found.unwrap_or(0);
    // The value as the file writes it (`"40"`, `1e3`), where it is one line there;
    // else as read.
    let written = found
        .and_then(|j| value_span(src, at, j))
        .and_then(|span| src.get(span))
        .filter(|text| !text.contains('\n'))
        .map_or_else(|| value_text(v), str::to_string);
    // The field serde calls unknown: a part of the axis's own key (a key the
    // scenario lacks, whatever the value), or a key of the base scenario that this
    // value makes unknown (`accounts` once `workload.kind` is `fig3`).
    let field = msg
        .strip_prefix("unknown field `")
        .and_then(|r| r.split_once('`'))
        .map(|(f, _)| f.to_string());
    let own = field
        .as_deref()
        .is_none_or(|f| key.split('.').any(|part| part == f));
    let unknown = (msg.starts_with("unknown field") && own)
        .then(|| crate::config::unknown_field_words(msg, &[]).unwrap_or_else(|| msg.to_string()));
    let message = match (&unknown, &field) {
        (Some(words), _) => format!("`axis.{at}.key`: {words}"),
        (None, Some(f)) => {
            // The base key, in the table holding the axis's key.
            let table = key.rsplit_once('.').map_or("", |(t, _)| t);
            let base = match table {
                "" => format!("scenario.{f}"),
                t => format!("scenario.{t}.{f}"),
            };
            let line = Keys::of(src)
                .sets(&base)
                .map(|(_, l)| format!(" at line {l}"))
                .unwrap_or_default();
            format!(
                "with value {}: the base scenario's `{}`{line} does not apply to it \
                 ({msg}); remove it from [scenario], or sweep only values that take it",
                written,
                base.trim_start_matches("scenario.")
            )
        }
        (None, None) => {
            match missing_table(src, key).filter(|_| msg.starts_with("missing field")) {
                // A table the base scenario lacks, which the axis's one key does not make:
                // the table's other required keys are missing.
                Some(table) => format!(
                    "with value {written}: the base scenario gives no `{table}`, and the axis's \
                 key alone does not make one ({msg}): give `{table}` in [scenario], and the \
                 axis sets its `{}`",
                    &key[table.len() + 1..]
                ),
                None => format!("with value {written}: {msg}"),
            }
        }
    };
    let mut e = value_error(path, src, at, j, message);
    e.key = Some(key.to_string());
    if unknown.is_some() {
        let keys = Keys::of(src);
        e.line = keys.line(&format!("axis.{at}.key"));
        e.snippet = e.line.and_then(|l| keys.line_text(l));
    }
    e
}

/// The outermost table holding axis `key` (dotted, below the scenario) that the base
/// scenario in `src` does not give (`workload.arrivals` for an axis on
/// `workload.arrivals.interarrival_ticks_mean` in a file whose `[scenario.workload]`
/// has no `arrivals`); `None` when it gives them all.
fn missing_table(src: &str, key: &str) -> Option<String> {
    let keys = Keys::of(src);
    let parts: Vec<&str> = key.split('.').collect();
    (1..parts.len())
        .map(|n| parts[..n].join("."))
        .find(|table| keys.sets(&format!("scenario.{table}")).is_none())
}

/// An error about value `j` of axis `i`, at that value's line, key `axis.{i}.values`,
/// with the line's text.
fn value_error(path: &Path, src: &str, i: usize, j: usize, message: String) -> FileError {
    let keys = Keys::of(src);
    let line = value_span(src, i, j)
        .map(|s| keys.line_of(s.start))
        .or_else(|| keys.line(&format!("axis.{i}.values")));
    FileError {
        path: path.to_path_buf(),
        line,
        key: Some(format!("axis.{i}.values")),
        message,
        snippet: line.and_then(|l| keys.line_text(l)),
    }
}

/// The byte span of entry `j` of the file's `metrics`.
fn metric_span(src: &str, j: usize) -> Option<std::ops::Range<usize>> {
    let doc = toml_edit::ImDocument::parse(src).ok()?;
    doc.get("metrics")?.as_array()?.get(j)?.span()
}

/// The byte span of value `j` of the `values` of the file's `[[axis]]` `i`.
fn value_span(src: &str, i: usize, j: usize) -> Option<std::ops::Range<usize>> {
    let doc = toml_edit::ImDocument::parse(src).ok()?;
    let axis = doc.get("axis")?.as_array_of_tables()?.get(i)?;
    axis.get("values")?.as_array()?.get(j)?.span()
}

/// The scenario `base` reads with `key` set to `v`, or `None` when it refuses it (the
/// refusal is reported when the grid is built).
fn read_as(base: &toml::Table, key: &str, v: &toml::Value) -> Option<Scenario> {
    let mut t = base.clone();
    set_path(&mut t, key, v.clone()).ok()?;
    Scenario::deserialize(toml::Value::Table(t)).ok()
}

/// The plain value (a string, number or boolean) the scenario reads as `v` at `key`,
/// when `v` is written another way (a table or an array) and the plain value makes the
/// same scenario: a choice's table form `{ "nvme-ssd" = {} }` is `"nvme-ssd"`. `None`
/// when `v` is plain already, is refused (reported when the grid is built), or has no
/// plain form.
fn canonical(base: &toml::Table, key: &str, v: &toml::Value) -> Option<toml::Value> {
    if !matches!(v, toml::Value::Table(_) | toml::Value::Array(_)) {
        return None;
    }
    let read = read_as(base, key, v)?;
    // A choice's table form: its one key, naming the choice, over an empty table.
    let named = v.as_table().and_then(|t| match t.iter().next() {
        Some((name, toml::Value::Table(inner))) if t.len() == 1 && inner.is_empty() => {
            Some(toml::Value::String(name.clone()))
        }
        _ => None,
    });
    // Else the value at `key` of the scenario written back as TOML.
    let written = || {
        let mut at = toml::Value::try_from(&read).ok()?;
        for part in key.split('.') {
            at = at.as_table_mut()?.remove(part)?;
        }
        Some(at)
    };
    [named, written()]
        .into_iter()
        .flatten()
        .filter(|c| !matches!(c, toml::Value::Table(_) | toml::Value::Array(_)))
        .find(|c| read_as(base, key, c).as_ref() == Some(&read))
}

/// Value `j` of axis `i` as the file writes it (`0.50`, `{ "nvme-ssd" = {} }`), or as
/// TOML writes `v` when the file's text of it is not found.
fn written(src: &str, i: usize, j: usize, v: &toml::Value) -> String {
    value_span(src, i, j)
        .and_then(|s| src.get(s))
        .map(|t| t.trim().to_string())
        .unwrap_or_else(|| v.to_string())
}

/// A number's value, an integer's as a float.
fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Whether two axis values are one number, `0.5` and `0.50`, `2` and `2.0`, or else
/// equal as TOML values. Values the scenario reads alike otherwise (a choice's name
/// and its table form, `"nvme-ssd"` and `{ "nvme-ssd" = {} }`) are found by [`read_as`].
/// A key equal values of an axis share ([`value_keys`]).
#[derive(PartialEq, Eq, Hash)]
enum ValueKey {
    /// The value's text, a whole float written as its integer (`1.0` as `1`).
    Value(String),
    /// A digest of the scenario the value makes.
    Scenario(u64),
}

/// The keys of value `v` of an axis, and of the scenario it makes (`read`): two values
/// [`same_value`] or making equal scenarios share one of them.
fn value_keys(v: &toml::Value, read: Option<&Scenario>) -> Vec<ValueKey> {
    let text = match v {
        // As `same_value` reads it: a float equal to an integer shares its text.
        toml::Value::Float(y) if y.fract() == 0.0 && (*y as i64) as f64 == *y => {
            format!("{}", *y as i64)
        }
        toml::Value::Integer(x) => format!("{x}"),
        other => format!("{other:?}"),
    };
    let mut keys = vec![ValueKey::Value(text)];
    if let Some(s) = read {
        use std::hash::Hasher;
        struct Digest(std::collections::hash_map::DefaultHasher);
        impl std::fmt::Write for Digest {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0.write(s.as_bytes());
                Ok(())
            }
        }
        let mut d = Digest(Default::default());
        let _ = std::fmt::Write::write_fmt(&mut d, format_args!("{s:?}"));
        keys.push(ValueKey::Scenario(d.0.finish()));
    }
    keys
}

fn same_value(a: &toml::Value, b: &toml::Value) -> bool {
    use toml::Value::{Float, Integer};
    match (a, b) {
        (Integer(x), Float(y)) | (Float(y), Integer(x)) => {
            y.fract() == 0.0 && *x as f64 == *y && *y as i64 == *x
        }
        _ => a == b,
    }
}
