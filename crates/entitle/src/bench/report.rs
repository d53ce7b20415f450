//! The bench's findings as JSON (for machines and for comparing runs) and as Markdown (for
//! people and docs/performance.md).

use std::fmt::Write;

use serde::Serialize;

use super::proc::Machine;
use super::size_pair::SizePair;
use super::storage::StorageCeiling;
use super::store_ceiling::StoreCeiling;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub backend: &'static str,
    pub entitle_version: &'static str,
    pub machine: Machine,
    pub settings: Settings,
    pub seed: SeedReport,
    pub ceilings: Ceilings,
    pub scenarios: Vec<ScenarioReport>,
    /// The highest peak RSS of the server over all scenarios, in bytes.
    pub server_peak_rss_bytes: Option<u64>,
    pub targets: Vec<TargetCheck>,
    /// The delete scenario on a larger database too (`--larger-seeded-from`).
    pub size_pair: Option<SizePair>,
    /// 1-minute load average at the start and at the end: the machine is shared.
    pub load_average: [Option<f64>; 2],
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub profiles: u64,
    pub concurrency: usize,
    pub requests_per_scenario: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    pub profiles: u64,
    pub transactions_per_profile: u32,
    /// Events written while seeding (SQLite), and per profile.
    pub events: Option<u64>,
    pub events_per_profile: Option<f64>,
    /// Seconds to seed, or to copy the database when it was seeded by an earlier run.
    pub seconds: f64,
    /// The earlier run's database this run copied (`--seeded-from`) instead of seeding.
    pub copied_from: Option<std::path::PathBuf>,
    pub database_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ceilings {
    pub http: Vec<HttpCeiling>,
    /// In-process store SQL; measured on SQLite only.
    pub storage: Option<StorageCeiling>,
    /// The `Store` methods in-process (PostgreSQL, or SQLite with `--store-ceiling`).
    pub store: Option<StoreCeiling>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpCeiling {
    pub scenario: &'static str,
    pub per_second: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerUse {
    /// Peak RSS during this scenario alone, in bytes.
    pub peak_rss_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub cpu_us_per_request: Option<f64>,
    /// Bytes the server wrote per request (`wchar`: WAL frames, checkpoints, log, responses).
    pub written_bytes_per_request: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub scenario: &'static str,
    pub title: &'static str,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub latency_ms: Latency,
    pub server: ServerUse,
    pub http_ceiling_per_second: Option<f64>,
    pub ratio_to_http_ceiling: Option<f64>,
    pub storage_ceiling_per_second: Option<f64>,
    pub ratio_to_storage_ceiling: Option<f64>,
    /// Which ceiling the scenario is judged against: `storage` for delete, `http` otherwise.
    pub ceiling: &'static str,
    pub ratio: Option<f64>,
    pub error_samples: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    /// `None` when this run could not measure it.
    pub met: Option<bool>,
}

fn num(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

fn mb(bytes: Option<u64>) -> String {
    num(bytes.map(|b| b as f64 / 1e6), 1)
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "### entitle bench: {}, {} profiles, {} clients, {} requests per scenario\n",
            self.backend,
            self.settings.profiles,
            self.settings.concurrency,
            self.settings.requests_per_scenario
        );
        let _ = writeln!(
            out,
            "Machine: {} × {}, {} MiB memory, Linux {}; load average {} at the start, {} at the end.\n",
            m.nproc,
            m.cpu_model.as_deref().unwrap_or("unknown CPU"),
            m.memory_mib.map_or("?".into(), |v| v.to_string()),
            m.kernel.as_deref().unwrap_or("?"),
            num(self.load_average[0], 2),
            num(self.load_average[1], 2),
        );
        let s = &self.seed;
        let _ = match &s.copied_from {
            Some(source) => writeln!(
                out,
                "{} profiles ({} transactions each) seeded by an earlier run, copied from {} in {:.1} s; database {} MB.\n",
                s.profiles,
                s.transactions_per_profile,
                source.display(),
                s.seconds,
                mb(s.database_bytes),
            ),
            None => writeln!(
                out,
                "Seeded {} profiles ({} transactions and {} events each) in {:.1} s; database {} MB.\n",
                s.profiles,
                s.transactions_per_profile,
                num(s.events_per_profile, 1),
                s.seconds,
                mb(s.database_bytes),
            ),
        };
        out.push_str(
            "| scenario | req/s | p50 ms | p99 ms | p99.9 ms | errors | ceiling | of ceiling | server CPU µs/req | server peak RSS MB | written KiB/req |\n\
             |---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n",
        );
        for r in &self.scenarios {
            let ceiling = match r.ceiling {
                "storage" => r.storage_ceiling_per_second,
                _ => r.http_ceiling_per_second,
            };
            let _ = writeln!(
                out,
                "| {} | {:.0} | {} | {} | {} | {} | {} {} /s | {} | {} | {} | {} |",
                r.title,
                r.per_second,
                num(r.latency_ms.p50, 2),
                num(r.latency_ms.p99, 2),
                num(r.latency_ms.p999, 2),
                r.errors,
                r.ceiling,
                num(ceiling, 0),
                num(r.ratio.map(|v| v * 100.0), 1) + "%",
                num(r.server.cpu_us_per_request, 0),
                mb(r.server.peak_rss_bytes),
                num(r.server.written_bytes_per_request.map(|b| b / 1024.0), 1),
            );
        }
        out.push_str(
            "\nHTTP ceiling (bare axum, fixed bytes, same client, in rounds alternating with the scenario's):",
        );
        for c in &self.ceilings.http {
            let _ = write!(
                out,
                " {} {:.0}/s (p50 {} ms);",
                c.scenario,
                c.per_second,
                num(c.p50_ms, 2)
            );
        }
        out.push('\n');
        match &self.ceilings.storage {
            Some(storage) => {
                out.push_str(
                    "\nStorage ceiling (the store's SQL in-process, synchronous=FULL):\n\n",
                );
                out.push_str(
                    "| operation | per commit | per second | CPU µs per op | WAL pages per op | written KiB per op |\n\
                     |---|---:|---:|---:|---:|---:|\n",
                );
                for d in &storage.deletes {
                    let _ = writeln!(
                        out,
                        "| delete | {} | {:.0} | {} | {:.1} | {} |",
                        d.batch,
                        d.per_second,
                        num(d.cpu_us_per_delete, 0),
                        d.wal_frames_per_delete,
                        num(d.written_bytes_per_delete.map(|b| b / 1024.0), 1)
                    );
                }
                if let Some(g) = &storage.gets {
                    let _ = writeln!(
                        out,
                        "| get ({} threads) | {} | {:.0} | – | – | – |",
                        g.threads, g.batch, g.per_second
                    );
                }
            }
            None => {
                out.push_str("\nStorage ceiling (SQL): not measured in this run (SQLite only).\n")
            }
        }
        if let Some(store) = &self.ceilings.store {
            let _ = writeln!(
                out,
                "\nStore ceiling (the `Store` methods in-process, {} at a time, {} profiles): get {:.0}/s, delete {:.0}/s ({} µs of client CPU per delete).",
                store.concurrency,
                store.operations,
                store.gets_per_second,
                store.deletes_per_second,
                num(store.cpu_us_per_delete, 0)
            );
        }
        if let Some(pair) = &self.size_pair {
            let _ = writeln!(
                out,
                "\nDelete at two sizes, in {} rounds taking turns (a server each, both quiet before each turn): {} profiles {:.0}/s, p50 {} ms; {} profiles {:.0}/s, p50 {} ms, p99 {} ms, {} errors, peak RSS {} MB (copied in {:.1} s). p50 ratio {}×.",
                pair.rounds,
                pair.profiles,
                pair.per_second,
                num(pair.p50_ms, 2),
                pair.larger_profiles,
                pair.larger_per_second,
                num(pair.larger_p50_ms, 2),
                num(pair.larger_p99_ms, 2),
                pair.errors,
                mb(pair.larger_peak_rss_bytes),
                pair.larger_copy_seconds,
                num(pair.p50_ratio, 2),
            );
        }
        out.push_str("\n| target | measured | met |\n|---|---|---|\n");
        for t in &self.targets {
            let met = match t.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "not measured",
            };
            let _ = writeln!(out, "| {} | {} | {} |", t.target, t.measured, met);
        }
        for r in self
            .scenarios
            .iter()
            .filter(|r| !r.error_samples.is_empty())
        {
            let _ = writeln!(out, "\n{} errors, first ones:", r.title);
            for sample in &r.error_samples {
                let _ = writeln!(out, "- `{}`", sample.replace('`', "'"));
            }
        }
        out
    }
}

/// The targets of the issue this run can judge.
pub fn targets(
    scenarios: &[ScenarioReport],
    peak_rss: Option<u64>,
    pair: Option<&SizePair>,
) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    let errors: u64 =
        scenarios.iter().map(|r| r.errors).sum::<u64>() + pair.map_or(0, |p| p.errors);
    checks.push(TargetCheck {
        target: "errors".into(),
        measured: errors.to_string(),
        met: Some(errors == 0),
    });
    let ratio_check = |name: &str, ceiling: &str, threshold: f64| {
        let ratio = scenarios
            .iter()
            .find(|r| r.scenario == name)
            .and_then(|r| r.ratio);
        TargetCheck {
            target: format!(
                "{name} ≥ {:.0}% of the {ceiling} ceiling",
                threshold * 100.0
            ),
            measured: num(ratio.map(|r| r * 100.0), 1) + "%",
            met: ratio.map(|r| r >= threshold),
        }
    };
    checks.push(ratio_check("delete", "storage", 0.5));
    checks.push(ratio_check("get", "HTTP", 0.5));
    if let Some(pair) = pair {
        checks.push(TargetCheck {
            target: format!(
                "delete p50 at {} profiles ≤ 1.25 × p50 at {}",
                pair.larger_profiles, pair.profiles
            ),
            measured: num(pair.p50_ratio, 2) + "×",
            met: pair.p50_ratio.map(|r| r <= 1.25),
        });
    }
    checks.push(TargetCheck {
        target: "server peak RSS < 150 MB".into(),
        measured: mb(peak_rss) + " MB",
        met: peak_rss.map(|bytes| bytes < 150_000_000),
    });
    checks
}
