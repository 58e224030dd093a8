//! The results: a table on stdout, `target/bench/report.json` and `target/bench/report.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

use super::parse::Unit;
use super::stats::{median, ratio, Row, Runs, System};
use crate::util::{Context, Result};

/// Said wherever figures are shown.
pub const CAVEAT: &str =
    "Absolute figures under TCG (QEMU's instruction translator) are not comparable to \
hardware; both kernels run in the same emulator, so the ratio is the figure that counts.";

/// The setting of a run, for the report's header.
#[derive(Clone)]
pub struct Setting {
    pub date: String,
    /// The commit the kernel was built from (`+changes` if kernel/ had uncommitted changes).
    pub commit: String,
    pub machine: String,
    pub accelerator: String,
    /// QEMU's machine, CPU model, memory and vCPUs (the same for both kernels).
    pub qemu: String,
    pub runs: usize,
    pub seconds: f64,
    /// Debian's kernel package, with `--vs-linux`.
    pub linux: Option<String>,
}

/// Everything the report shows.
pub struct Report<'a> {
    pub setting: Setting,
    pub rows: Vec<Row>,
    pub systems: &'a BTreeMap<System, Runs>,
}

/// A figure with about four significant digits.
pub fn figure(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Boot time and memory, lower is better on both; (name, unit, per-system medians).
type Extra = (&'static str, &'static str, BTreeMap<System, Option<f64>>);

impl Report<'_> {
    /// What a ping-pong round trip cannot go below on each system, from the same run: four
    /// system calls and two context switches. One switch is half a `yield_ctxsw` iteration
    /// (a yield and the switch it causes) less that yield's system call, so the floor is
    /// 4 × null_syscall + 2 × (yield_ctxsw / 2 − null_syscall) = 2 × null_syscall + yield_ctxsw.
    pub fn floors(&self) -> BTreeMap<System, f64> {
        let median_of = |name: &str, system: &System| {
            let row = self.rows.iter().find(|r| r.name == name)?;
            row.medians.get(system)?.as_ref().ok().copied()
        };
        self.systems
            .keys()
            .filter_map(|s| {
                let floor = 2.0 * median_of("null_syscall", s)? + median_of("yield_ctxsw", s)?;
                (floor > 0.0).then_some((*s, floor))
            })
            .collect()
    }

    /// A ping-pong row (`*_lat`, in µs) as a multiple of its system's floor.
    fn floor_multiple(
        &self,
        row: &Row,
        system: System,
        floors: &BTreeMap<System, f64>,
    ) -> Option<f64> {
        if !row.name.ends_with("_lat") || row.unit != Some(Unit::Micros) {
            return None;
        }
        Some(*row.medians.get(&system)?.as_ref().ok()? / floors.get(&system)?)
    }

    /// The floor columns' cells of `row` (none if no system has a floor).
    fn floor_cells(&self, row: Option<&Row>, floors: &BTreeMap<System, f64>) -> Vec<String> {
        floors
            .keys()
            .map(|s| {
                row.and_then(|r| self.floor_multiple(r, *s, floors))
                    .map(|m| format!("{m:.2}"))
                    .unwrap_or_else(|| "-".to_string())
            })
            .collect()
    }

    fn floor_headers(floors: &BTreeMap<System, f64>) -> Vec<String> {
        floors.keys().map(|s| format!("{} / floor", s.label())).collect()
    }

    fn has_ratio(&self) -> bool {
        self.systems.contains_key(&System::PosixX) && self.systems.contains_key(&System::Linux)
    }

    /// Boot time and memory in use, for guests only (a host run has neither).
    fn extras(&self) -> Vec<Extra> {
        if self.systems.keys().all(|s| *s == System::Host) {
            return Vec::new();
        }
        let boot = self.systems.iter().map(|(&s, runs)| (s, median(&runs.boot_times()))).collect();
        let mem = self
            .systems
            .iter()
            .map(|(&s, runs)| (s, median(&runs.mem_used_kb()).map(|kb| kb / 1024.0)))
            .collect();
        vec![("boot time", "s", boot), ("memory in use", "MiB", mem)]
    }

    fn extra_ratio(&self, medians: &BTreeMap<System, Option<f64>>) -> Option<f64> {
        match (medians.get(&System::PosixX), medians.get(&System::Linux)) {
            (Some(Some(p)), Some(Some(l))) => ratio(Unit::Micros, *p, *l),
            _ => None,
        }
    }

    /// The table as plain text: `NAME | unit | POSIX-X | Linux | ratio`.
    pub fn text_table(&self) -> String {
        let systems: Vec<System> = self.systems.keys().copied().collect();
        let floors = self.floors();
        let mut header = vec!["benchmark".to_string(), "unit".to_string()];
        header.extend(systems.iter().map(|s| s.label().to_string()));
        if self.has_ratio() {
            header.push("ratio".to_string());
        }
        header.extend(Self::floor_headers(&floors));
        let mut rows = vec![header];
        for row in &self.rows {
            let mut cells =
                vec![row.name.clone(), row.unit.map(Unit::name).unwrap_or("?").to_string()];
            cells.extend(systems.iter().map(|s| match &row.medians[s] {
                Ok(v) => figure(*v),
                Err(_) => "unsupported".to_string(),
            }));
            if self.has_ratio() {
                cells.push(row.ratio.map(|r| format!("{r:.2}")).unwrap_or_else(|| "-".to_string()));
            }
            cells.extend(self.floor_cells(Some(row), &floors));
            rows.push(cells);
        }
        for (name, unit, medians) in self.extras() {
            let mut cells = vec![name.to_string(), unit.to_string()];
            cells.extend(
                systems.iter().map(|s| medians[s].map(figure).unwrap_or_else(|| "-".to_string())),
            );
            if self.has_ratio() {
                cells.push(
                    self.extra_ratio(&medians)
                        .map(|r| format!("{r:.2}"))
                        .unwrap_or_else(|| "-".to_string()),
                );
            }
            cells.extend(self.floor_cells(None, &floors));
            rows.push(cells);
        }
        align(&rows)
    }

    /// Warnings about a guest clock that ran more than 2% off the host's: the figures of that
    /// system are off by as much.
    pub fn clock_warnings(&self) -> Vec<String> {
        self.systems
            .iter()
            .filter_map(|(system, runs)| {
                let rate = median(&runs.clock_rates())?;
                ((rate - 1.0).abs() > 0.02).then(|| format!("{}'s CLOCK_MONOTONIC ran at {rate:.3}x the host's clock: its figures are off by as much", system.label()))
            })
            .collect()
    }

    /// Benchmarks without a figure, with the reason: `NAME on SYSTEM: reason`.
    pub fn unsupported(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for row in &self.rows {
            for (system, m) in &row.medians {
                if let Err(reason) = m {
                    lines.push(format!("{} on {}: {reason}", row.name, system.label()));
                }
            }
        }
        lines
    }

    /// The same as a Markdown table with a header paragraph (for README.md).
    pub fn markdown(&self) -> String {
        let s = &self.setting;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "Run of {} (commit {}) on {}: {}, {} runs per kernel, median shown, about {} s per benchmark.",
            s.date, s.commit, s.machine, s.qemu, s.runs, s.seconds
        );
        if let Some(linux) = &s.linux {
            let _ = writeln!(md, "Linux: Debian's `{linux}`, booted with `mitigations=off`. Ratio > 1: POSIX-X is better.");
        }
        let floors = self.floors();
        if !floors.is_empty() {
            let each: Vec<String> =
                floors.iter().map(|(s, f)| format!("{} {}", s.label(), figure(*f))).collect();
            let _ = writeln!(md, "Floor of a ping-pong (`*_lat`), 2 × null_syscall + yield_ctxsw from the same run: {} µs; the floor columns are each round trip over it.", each.join(", "));
        }
        let _ = writeln!(md);
        let systems: Vec<System> = self.systems.keys().copied().collect();
        let mut header = vec!["benchmark".to_string(), "unit".to_string()];
        header.extend(systems.iter().map(|s| s.label().to_string()));
        if self.has_ratio() {
            header.push("ratio".to_string());
        }
        header.extend(Self::floor_headers(&floors));
        let _ = writeln!(md, "| {} |", header.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(header.len()));
        for row in &self.rows {
            let mut cells = vec![
                format!("`{}`", row.name),
                row.unit.map(Unit::name).unwrap_or("?").replace("us", "µs"),
            ];
            cells.extend(systems.iter().map(|s| {
                row.medians[s]
                    .as_ref()
                    .map(|v| figure(*v))
                    .unwrap_or_else(|_| "unsupported".to_string())
            }));
            if self.has_ratio() {
                cells.push(row.ratio.map(|r| format!("{r:.2}")).unwrap_or_else(|| "-".to_string()));
            }
            cells.extend(self.floor_cells(Some(row), &floors));
            let _ = writeln!(md, "| {} |", cells.join(" | "));
        }
        for (name, unit, medians) in self.extras() {
            let mut cells = vec![name.to_string(), unit.to_string()];
            cells.extend(
                systems.iter().map(|s| medians[s].map(figure).unwrap_or_else(|| "-".to_string())),
            );
            if self.has_ratio() {
                cells.push(
                    self.extra_ratio(&medians)
                        .map(|r| format!("{r:.2}"))
                        .unwrap_or_else(|| "-".to_string()),
                );
            }
            cells.extend(self.floor_cells(None, &floors));
            let _ = writeln!(md, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(md, "\n{CAVEAT}");
        md
    }

    pub fn json(&self) -> Value {
        let s = &self.setting;
        let floors = self.floors();
        let systems: serde_json::Map<String, Value> = self
            .systems
            .iter()
            .map(|(system, runs)| {
                let boot = runs.boot_times();
                let mem = runs.mem_used_kb();
                let clock = runs.clock_rates();
                let failures: Vec<Value> =
                    runs.0.iter().filter_map(|r| r.failure.clone()).map(Value::from).collect();
                let notes: Vec<Value> = runs
                    .0
                    .iter()
                    .flat_map(|r| r.output.notes.iter().cloned())
                    .map(Value::from)
                    .collect();
                let value = json!({
                    "floor_us": floors.get(system),
                    "notes": notes,
                    "label": system.label(),
                    "boot_seconds": { "median": median(&boot), "runs": boot },
                    "mem_used_kb": { "median": median(&mem), "runs": mem },
                    "clock_rate_vs_host": { "median": median(&clock), "runs": clock },
                    "failed_runs": failures,
                });
                (system.key().to_string(), value)
            })
            .collect();
        let benchmarks: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut b = json!({
                    "name": row.name,
                    "unit": row.unit.map(Unit::name),
                    "better": row.unit.map(|u| if u.higher_is_better() { "higher" } else { "lower" }),
                    "ratio": row.ratio,
                });
                for (system, m) in &row.medians {
                    b[system.key()] = match m {
                        Ok(median) => json!({
                            "median": median,
                            "runs": self.systems[system].values(&row.name),
                            "over_floor": self.floor_multiple(row, *system, &floors),
                        }),
                        Err(reason) => json!({ "unsupported": reason }),
                    };
                }
                b
            })
            .collect();
        json!({
            "date": s.date,
            "commit": s.commit,
            "machine": s.machine,
            "accelerator": s.accelerator,
            "qemu": s.qemu,
            "runs": s.runs,
            "seconds_per_benchmark": s.seconds,
            "linux_package": s.linux,
            "ratio": "> 1 means POSIX-X is better: linux/posix for latencies (us) and bytes (B), posix/linux for bandwidths (MB/s) and rates (/s)",
            "note": CAVEAT,
            "systems": systems,
            "benchmarks": benchmarks,
        })
    }

    /// Writes report.json and report.md into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
        let json = serde_json::to_string_pretty(&self.json()).context(|| "encoding report.json")?;
        let path = dir.join("report.json");
        std::fs::write(&path, json + "\n").context(|| format!("writing {}", path.display()))?;
        let path = dir.join("report.md");
        std::fs::write(&path, self.markdown()).context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// `--cpu best` (or several models): each row on the CPU model where Linux did better, with
/// POSIX-X's figure on that same model; `report.md` and `report.json` in `dir`, and the table
/// on stdout.
pub fn write_best(reports: &[(String, Report)], dir: &Path) -> Result<()> {
    let Some((_, first)) = reports.first() else { return Ok(()) };
    let mut md = String::new();
    let s = &first.setting;
    let models: Vec<&str> = reports.iter().map(|(m, _)| m.as_str()).collect();
    let _ = writeln!(
        md,
        "Run of {} (commit {}) on {}: {}, {} runs per kernel and CPU model, median shown, about {} s per benchmark.",
        s.date, s.commit, s.machine, s.qemu, s.runs, s.seconds
    );
    let _ = writeln!(
        md,
        "Each row on the CPU model (of {}) on which Linux did better, POSIX-X on the same model. Ratio > 1: POSIX-X is better.\n",
        models.join(", ")
    );
    let mut text = vec![vec![
        "benchmark".to_string(),
        "unit".to_string(),
        "cpu".to_string(),
        "POSIX-X".to_string(),
        "Linux".to_string(),
        "ratio".to_string(),
    ]];
    let _ = writeln!(
        md,
        "| benchmark | unit | -cpu | POSIX-X | Linux | ratio |\n|---|---|---|---|---|---|"
    );
    let mut rows_json = Vec::new();
    for row in &first.rows {
        // Linux's better model for this row.
        let pick = reports
            .iter()
            .filter_map(|(model, r)| {
                let row = r.rows.iter().find(|x| x.name == row.name)?;
                let linux = *row.medians.get(&System::Linux)?.as_ref().ok()?;
                Some((model, row, linux))
            })
            .reduce(|a, b| {
                let better = match row.unit {
                    Some(u) if u.higher_is_better() => b.2 > a.2,
                    _ => b.2 < a.2,
                };
                if better {
                    b
                } else {
                    a
                }
            });
        let Some((model, best, linux)) = pick else { continue };
        let posix = best.medians.get(&System::PosixX).and_then(|m| m.as_ref().ok().copied());
        let posix_cell = posix.map(figure).unwrap_or_else(|| "unsupported".to_string());
        let ratio_cell = best.ratio.map(|r| format!("{r:.2}")).unwrap_or_else(|| "-".to_string());
        let unit = best.unit.map(Unit::name).unwrap_or("?");
        text.push(vec![
            best.name.clone(),
            unit.to_string(),
            model.clone(),
            posix_cell.clone(),
            figure(linux),
            ratio_cell.clone(),
        ]);
        let _ = writeln!(
            md,
            "| `{}` | {} | {model} | {posix_cell} | {} | {ratio_cell} |",
            best.name,
            unit.replace("us", "µs"),
            figure(linux)
        );
        rows_json.push(json!({
            "name": best.name, "unit": unit, "cpu": model,
            "posix_x": posix, "linux": linux, "ratio": best.ratio,
        }));
    }
    let _ = writeln!(md, "\n{CAVEAT}");
    println!("\n== each row on Linux's better CPU model");
    print!("{}", align(&text));
    std::fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
    let json = json!({
        "date": s.date, "commit": s.commit, "machine": s.machine, "cpu_models": models,
        "choice": "each row on the CPU model on which Linux did better; POSIX-X on the same model",
        "per_model_reports": models.iter().map(|m| format!("cpu-{m}/report.json")).collect::<Vec<_>>(),
        "benchmarks": rows_json,
    });
    let body = serde_json::to_string_pretty(&json).context(|| "encoding report.json")?;
    let path = dir.join("report.json");
    std::fs::write(&path, body + "\n").context(|| format!("writing {}", path.display()))?;
    let path = dir.join("report.md");
    std::fs::write(&path, md).context(|| format!("writing {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}

/// Columns padded to their widest cell; the first left-aligned, the others right-aligned.
fn align(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c == 0 {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join(" | ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::parse::parse_console;
    use crate::bench::stats::{rows, Run};
    use std::time::Duration;

    fn runs(console: &str, boot_ms: u64) -> Runs {
        Runs(vec![Run {
            output: parse_console(console.lines()),
            boot_time: Some(Duration::from_millis(boot_ms)),
            clock_rate: None,
            failure: None,
        }])
    }

    #[test]
    fn table_markdown_and_json() {
        let mut systems = BTreeMap::new();
        systems.insert(System::PosixX, runs("bench-runner start\nbench-meminfo total_kb=1 free_kb=1 used_kb=10240\nbench=a unit=us value=2 iters=5\nbench-runner end", 150));
        systems.insert(System::Linux, runs("bench-runner start\nbench-meminfo used_kb=40960\nbench=a unit=us value=3 iters=5\nbench=b unit=MB/s value=9 iters=5\nbench-runner end", 4000));
        let names = vec!["a".to_string(), "b".to_string()];
        let report = Report {
            setting: Setting {
                date: "2025-01-01".into(),
                commit: "abc".into(),
                machine: "test".into(),
                accelerator: "TCG".into(),
                qemu: "-M pc".into(),
                runs: 1,
                seconds: 1.0,
                linux: Some("linux-image-x".into()),
            },
            rows: rows(&names, &systems),
            systems: &systems,
        };
        let table = report.text_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0].split('|').map(str::trim).collect::<Vec<_>>(),
            ["benchmark", "unit", "POSIX-X", "Linux", "ratio"]
        );
        assert_eq!(
            lines[1].split('|').map(str::trim).collect::<Vec<_>>(),
            ["a", "us", "2.000", "3.000", "1.50"]
        );
        assert_eq!(
            lines[2].split('|').map(str::trim).collect::<Vec<_>>(),
            ["b", "MB/s", "unsupported", "9.000", "-"]
        );
        assert_eq!(
            lines[3].split('|').map(str::trim).collect::<Vec<_>>(),
            ["boot time", "s", "0.150", "4.000", "26.67"]
        );
        assert_eq!(
            lines[4].split('|').map(str::trim).collect::<Vec<_>>(),
            ["memory in use", "MiB", "10.00", "40.00", "4.00"]
        );
        assert_eq!(report.unsupported(), ["b on POSIX-X: did not run"]);
        assert!(report.markdown().contains("| `a` | µs | 2.000 | 3.000 | 1.50 |"));
        let json = report.json();
        assert_eq!(json["benchmarks"][0]["ratio"], 1.5);
        assert_eq!(json["benchmarks"][1]["posix_x"]["unsupported"], "did not run");
        assert_eq!(json["systems"]["linux"]["boot_seconds"]["median"], 4.0);
    }

    #[test]
    fn floor_columns() {
        let console = |null: f64, yield_: f64, pipe: f64| {
            format!("bench-runner start\nbench=null_syscall unit=us value={null} iters=5\nbench=yield_ctxsw unit=us value={yield_} iters=5\nbench=pipe_lat unit=us value={pipe} iters=5\nbench=pipe_bw unit=MB/s value=9 iters=5\nbench-runner end")
        };
        let mut systems = BTreeMap::new();
        systems.insert(System::PosixX, runs(&console(0.5, 9.0, 20.0), 1));
        systems.insert(System::Linux, runs(&console(1.0, 18.0, 60.0), 1));
        let names: Vec<String> =
            ["null_syscall", "yield_ctxsw", "pipe_lat", "pipe_bw"].map(String::from).to_vec();
        let report = Report {
            setting: Setting {
                date: "d".into(),
                commit: "c".into(),
                machine: "m".into(),
                accelerator: "TCG".into(),
                qemu: "q".into(),
                runs: 1,
                seconds: 1.0,
                linux: None,
            },
            rows: rows(&names, &systems),
            systems: &systems,
        };
        // 2 x null + yield: 10 us on POSIX-X, 20 us on Linux.
        assert_eq!(report.floors()[&System::PosixX], 10.0);
        assert_eq!(report.floors()[&System::Linux], 20.0);
        let table = report.text_table();
        let lines: Vec<Vec<&str>> =
            table.lines().map(|l| l.split('|').map(str::trim).collect()).collect();
        assert_eq!(lines[0][5..], ["POSIX-X / floor", "Linux / floor"]);
        assert_eq!(lines[3], ["pipe_lat", "us", "20.00", "60.00", "3.00", "2.00", "3.00"]);
        assert_eq!(lines[4][5..], ["-", "-"]);
        assert!(report
            .markdown()
            .contains("| `pipe_lat` | µs | 20.00 | 60.00 | 3.00 | 2.00 | 3.00 |"));
        assert_eq!(report.json()["benchmarks"][2]["posix_x"]["over_floor"], 2.0);
    }
}
