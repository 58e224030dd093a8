//! Collecting runs into per-benchmark medians and POSIX-X/Linux ratios.

use std::collections::BTreeMap;
use std::time::Duration;

use super::parse::{RunOutput, Unit};

/// Which system a run measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum System {
    PosixX,
    Linux,
    /// `--host`: natively on the machine's own Linux.
    Host,
}

impl System {
    pub fn label(self) -> &'static str {
        match self {
            System::PosixX => "POSIX-X",
            System::Linux => "Linux",
            System::Host => "host",
        }
    }

    /// The key in report.json.
    pub fn key(self) -> &'static str {
        match self {
            System::PosixX => "posix_x",
            System::Linux => "linux",
            System::Host => "host",
        }
    }
}

/// One run of one system.
#[derive(Debug)]
pub struct Run {
    pub output: RunOutput,
    /// From starting QEMU (or the runner) to `bench-runner start`.
    pub boot_time: Option<Duration>,
    /// The guest's clock rate against the host's (see [`super::parse::clock_rate`]).
    pub clock_rate: Option<f64>,
    /// Why the run did not end normally (timeout, kernel panic, ...), if it did not.
    pub failure: Option<String>,
}

/// Every run of one system, in order.
#[derive(Debug, Default)]
pub struct Runs(pub Vec<Run>);

impl Runs {
    /// The values of benchmark `name`, one per run that produced it.
    pub fn values(&self, name: &str) -> Vec<f64> {
        self.0.iter().filter_map(|r| r.output.samples.get(name)).map(|s| s.value).collect()
    }

    pub fn unit(&self, name: &str) -> Option<Unit> {
        self.0.iter().find_map(|r| r.output.samples.get(name)).map(|s| s.unit)
    }

    /// Why benchmark `name` never produced a value: the first run's reason.
    pub fn missing_reason(&self, name: &str) -> Option<String> {
        if !self.values(name).is_empty() {
            return None;
        }
        self.0
            .iter()
            .find_map(|r| r.output.missing_reason(name))
            .or_else(|| Some("no run".to_string()))
    }

    pub fn boot_times(&self) -> Vec<f64> {
        self.0.iter().filter_map(|r| r.boot_time).map(|d| d.as_secs_f64()).collect()
    }

    pub fn clock_rates(&self) -> Vec<f64> {
        self.0.iter().filter_map(|r| r.clock_rate).collect()
    }

    pub fn mem_used_kb(&self) -> Vec<f64> {
        self.0.iter().filter_map(|r| r.output.mem_used_kb).map(|kb| kb as f64).collect()
    }
}

/// Adds what a second boot of the same run printed (another round of `--sweeps`, at another
/// vCPU count) to `run`.
pub fn merge(run: &mut Run, more: Run) {
    run.output.started &= more.output.started;
    run.output.ended &= more.output.ended;
    run.output.samples.extend(more.output.samples);
    for (k, v) in more.output.errors {
        run.output.errors.entry(k).or_insert(v);
    }
    run.output.statuses.extend(more.output.statuses);
    run.output.notes.extend(more.output.notes);
    if run.failure.is_none() {
        run.failure = more.failure;
    }
}

/// The median (mean of the middle two for an even count); `None` for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 })
}

/// POSIX-X against Linux, oriented so that > 1 means POSIX-X is better: for a latency
/// linux / posix, for a bandwidth posix / linux.
pub fn ratio(unit: Unit, posix: f64, linux: f64) -> Option<f64> {
    let r = if unit.higher_is_better() { posix / linux } else { linux / posix };
    r.is_finite().then_some(r).filter(|r| *r > 0.0)
}

/// One row of the result: a benchmark's medians on each system.
#[derive(Debug)]
pub struct Row {
    pub name: String,
    pub unit: Option<Unit>,
    /// Per system: the median, or why there is none (`unsupported`).
    pub medians: BTreeMap<System, std::result::Result<f64, String>>,
    pub ratio: Option<f64>,
}

/// The rows for `names` (in that order) over the systems that ran.
pub fn rows(names: &[String], systems: &BTreeMap<System, Runs>) -> Vec<Row> {
    names
        .iter()
        .map(|name| {
            let unit = systems.values().find_map(|runs| runs.unit(name));
            let medians: BTreeMap<System, std::result::Result<f64, String>> = systems
                .iter()
                .map(|(&system, runs)| {
                    let m = median(&runs.values(name))
                        .ok_or_else(|| runs.missing_reason(name).unwrap_or_default());
                    (system, m)
                })
                .collect();
            let ratio = match (unit, medians.get(&System::PosixX), medians.get(&System::Linux)) {
                (Some(unit), Some(Ok(p)), Some(Ok(l))) => ratio(unit, *p, *l),
                _ => None,
            };
            Row { name: name.clone(), unit, medians, ratio }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::parse::parse_console;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn ratios_favour_posix_x_above_one() {
        // Latency: POSIX-X 2 us, Linux 4 us: POSIX-X twice as good.
        assert_eq!(ratio(Unit::Micros, 2.0, 4.0), Some(2.0));
        // Bandwidth: POSIX-X 100 MB/s, Linux 400 MB/s: a quarter as good.
        assert_eq!(ratio(Unit::MegabytesPerSecond, 100.0, 400.0), Some(0.25));
        assert_eq!(ratio(Unit::Micros, 0.0, 4.0), None);
    }

    fn run(console: &str) -> Run {
        Run {
            output: parse_console(console.lines()),
            boot_time: Some(Duration::from_millis(150)),
            clock_rate: None,
            failure: None,
        }
    }

    #[test]
    fn rows_with_an_unsupported_benchmark() {
        let mut systems = BTreeMap::new();
        systems.insert(
            System::PosixX,
            Runs(vec![
                run("bench-runner start\nbench=a unit=us value=1 iters=5\nbench-error name=b msg=socket: EAFNOSUPPORT\nbench-status name=b status=1\nbench-runner end"),
                run("bench-runner start\nbench=a unit=us value=3 iters=5\nbench-runner end"),
            ]),
        );
        systems.insert(
            System::Linux,
            Runs(vec![run("bench=a unit=us value=4 iters=5\nbench=b unit=MB/s value=10 iters=5")]),
        );
        let rows = rows(&["a".to_string(), "b".to_string()], &systems);
        assert_eq!(rows[0].medians[&System::PosixX], Ok(2.0));
        assert_eq!(rows[0].ratio, Some(2.0));
        assert_eq!(rows[1].unit, Some(Unit::MegabytesPerSecond));
        assert_eq!(
            rows[1].medians[&System::PosixX],
            Err("socket: EAFNOSUPPORT (exit status 1)".to_string())
        );
        assert_eq!(rows[1].ratio, None);
        assert_eq!(systems[&System::PosixX].boot_times(), [0.15, 0.15]);
    }
}
