//! `entitle bench`: seeds a database, then drives the real server over HTTP through each
//! scenario and sets every figure beside its ceiling, measured on the same machine in the same
//! run: the HTTP ceiling (a bare server, same client) and the storage ceiling (the store's own
//! SQL in-process, same durability).

mod args;
pub mod ceiling_http;
pub mod load;
pub mod plan;
pub mod proc;
pub mod report;
mod reuse;
mod rounds;
pub mod scenario;
pub mod seed;
pub mod server;
pub mod size_pair;
pub mod storage;
pub mod store_ceiling;
mod workspace;

use std::sync::Arc;

use anyhow::Context;
use entitle_domain::datetime::Timestamp;
use http::HeaderValue;
use rand::SeedableRng;
use rand::seq::SliceRandom;

pub use self::args::BenchArgs;
use self::load::{Outcome, Target};
use self::report::{Ceilings, HttpCeiling, Report, SeedReport, Settings};
use self::scenario::{Prepared, Scenario};
use crate::config::DatabaseUrl;

/// Runs the bench on `database_url`: a fresh SQLite file in a temporary folder unless a path
/// other than the default is given (it must not exist yet), or a PostgreSQL database, where
/// the bench makes an app of its own.
pub async fn run(database_url: DatabaseUrl, args: BenchArgs, json: bool) -> anyhow::Result<()> {
    let load_at_start = proc::load_average();
    let mut scenarios: Vec<Scenario> = Vec::new();
    for s in &args.scenarios {
        if !scenarios.contains(s) {
            scenarios.push(*s);
        }
    }
    // The store ceiling deletes profiles of its own.
    let store_ceiling = (args.store_ceiling || matches!(database_url, DatabaseUrl::Postgres(_)))
        && scenarios
            .iter()
            .any(|s| matches!(s, Scenario::Get | Scenario::Delete));
    let seeded = scenarios
        .iter()
        .filter(|s| s.uses_seeded_profiles())
        .count() as u64
        + u64::from(store_ceiling);
    let per_scenario = args
        .requests_per_scenario
        .min(args.profiles.checked_div(seeded).unwrap_or(u64::MAX));
    anyhow::ensure!(
        per_scenario > 0 && args.concurrency > 0,
        "nothing to measure: give at least one profile per scenario and one client"
    );
    let mut work = workspace::Workspace::new(&database_url)?;
    let url = work.database_url.clone();

    let (app, anchor, events, seed_seconds) = match (&args.seeded_from, work.sqlite_path()) {
        (Some(source), Some(copy)) if work.is_temporary() => {
            eprintln!(
                "bench: copying {} seeded profiles from {}",
                args.profiles,
                source.display()
            );
            let adopted = reuse::adopt(source, copy, args.profiles).await?;
            (adopted.app, adopted.anchor, None, adopted.copy_seconds)
        }
        (Some(_), _) => anyhow::bail!(
            "--seeded-from runs on a temporary copy of its file: give no --database-url with it"
        ),
        (None, _) => {
            let anchor = Timestamp::now();
            let app = seed::create_app(&url, anchor).await?;
            eprintln!("bench: seeding {} profiles on {url}", args.profiles);
            let (events, seconds) = seed::seed(&url, app.app_id, args.profiles, anchor).await?;
            (app, anchor, events, seconds)
        }
    };
    work.measure_database();

    // Each scenario's requests name distinct profiles, spread over the whole key space.
    let mut order: Vec<u64> = (0..args.profiles).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(0x5eed));
    let mut slices = order.chunks(per_scenario as usize);
    let indexes: Vec<(Scenario, Vec<u64>)> = scenarios
        .iter()
        .map(|&s| match s.uses_seeded_profiles() {
            true => (s, slices.next().unwrap_or_default().to_vec()),
            false => (s, (0..per_scenario).collect()),
        })
        .collect();
    let store_targets = slices.next().unwrap_or_default().to_vec();
    let of = |wanted: Scenario| {
        indexes
            .iter()
            .find(|(s, _)| *s == wanted)
            .map(|(_, ids)| ids.as_slice())
            .unwrap_or_default()
    };

    let storage = match work.sqlite_path().filter(|_| !args.no_storage_ceiling) {
        Some(path) => {
            eprintln!("bench: storage ceiling (in-process SQL on a copy)");
            let ceiling = storage::measure(
                path,
                work.dir(),
                &app,
                of(Scenario::Get),
                of(Scenario::Delete),
                &args.storage_batches,
            )
            .await?;
            Some(ceiling)
        }
        None => None,
    };

    let store = match store_ceiling {
        true => {
            eprintln!("bench: store ceiling (the Store in-process)");
            let ceiling =
                store_ceiling::measure(&url, &app, &store_targets, args.concurrency).await?;
            Some(ceiling)
        }
        false => None,
    };

    let prepared: Vec<(Scenario, Arc<Vec<Prepared>>)> = indexes
        .iter()
        .map(|(s, ids)| (*s, Arc::new(scenario::prepare(*s, ids, anchor))))
        .collect();

    let larger = match &args.larger_seeded_from {
        Some(source) => {
            anyhow::ensure!(
                work.sqlite_path().is_some() && scenarios.contains(&Scenario::Delete),
                "--larger-seeded-from compares deletes on SQLite: run the delete scenario on SQLite"
            );
            let count = of(Scenario::Delete).len() as u64;
            let larger = size_pair::Larger::start(
                source,
                work.dir(),
                args.larger_profiles,
                count,
                args.server_log.as_deref(),
            )
            .await?;
            Some(larger)
        }
        None => None,
    };

    let server =
        server::ServerProcess::start(&url, &work.file("server.log"), args.server_log.as_deref())
            .await?;
    let pid = server.pid();
    let startup_peak = proc::peak_rss(pid);
    let authorization = HeaderValue::from_str(&format!("Api-Key {}", app.secret.expose()))?;
    let target = Target {
        address: server.address(),
        authorization: authorization.clone(),
    };
    // A real profile response, for the bare server to answer with. The first profile of the
    // shuffled order belongs to the first scenario's slice (never to the store ceiling's, which
    // comes after them), so it still exists here.
    let sample_index = order.first().copied().unwrap_or(0);
    let sample = &scenario::prepare(Scenario::Get, &[sample_index], anchor)[0];
    let (status, profile_body) = load::once(&target, Scenario::Get, sample).await?;
    anyhow::ensure!(
        status.is_success(),
        "GET of a seeded profile answered {status}:\n{}",
        server.log_tail()
    );

    let bare = ceiling_http::BareServer::start(profile_body)?;
    let bare_target = Target {
        address: bare.address(),
        authorization,
    };
    let mut http = Vec::new();
    let mut reports = Vec::new();
    let mut pair = None;
    for (s, requests) in &prepared {
        // The larger database, when there is one, takes part in the delete scenario.
        let larger = larger.as_ref().filter(|_| *s == Scenario::Delete);
        eprintln!(
            "bench: {} × {}, and the HTTP ceiling (bare server), in {} alternating rounds",
            s.title(),
            requests.len(),
            rounds::count(larger)
        );
        proc::reset_peak(pid);
        let before = proc::sample(pid);
        if let Some(larger) = larger {
            proc::reset_peak(larger.server.pid());
        }
        let measured = rounds::run(
            *s,
            requests,
            (&target, pid),
            &bare_target,
            larger,
            args.concurrency,
        )
        .await?;
        let (outcome, bare_outcome) = (&measured.server, &measured.bare);
        if let (Some(larger), Some(larger_outcome)) = (larger, &measured.larger) {
            let sizes = size_pair::SizePair::new(args.profiles, outcome, larger, larger_outcome);
            pair = Some(sizes);
        }
        // Let an idle writer truncate the WAL, so its checkpoint counts with the writes.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let after = proc::sample(pid);
        let used = server_use(outcome, before.zip(after), proc::peak_rss(pid));
        http.push(HttpCeiling {
            scenario: s.name(),
            per_second: bare_outcome.per_second(),
            p50_ms: bare_outcome.latency_ms(0.5),
            p99_ms: bare_outcome.latency_ms(0.99),
            errors: bare_outcome.errors,
        });
        reports.push(scenario_report(
            *s,
            outcome,
            used,
            Some(bare_outcome.per_second()),
            (storage.as_ref(), store.as_ref()),
        ));
    }
    drop(bare);
    drop(server);
    drop(larger);

    let peak = reports
        .iter()
        .filter_map(|r| r.server.peak_rss_bytes)
        .chain(startup_peak)
        .chain(pair.as_ref().and_then(|p| p.larger_peak_rss_bytes))
        .max();
    let report = Report {
        backend: work.backend(),
        entitle_version: env!("CARGO_PKG_VERSION"),
        machine: proc::Machine::read(),
        settings: Settings {
            profiles: args.profiles,
            concurrency: args.concurrency,
            requests_per_scenario: per_scenario,
        },
        seed: SeedReport {
            profiles: args.profiles,
            transactions_per_profile: plan::SEEDED_TRANSACTIONS,
            events,
            events_per_profile: events.map(|e| e as f64 / args.profiles.max(1) as f64),
            seconds: seed_seconds,
            copied_from: args.seeded_from.clone(),
            database_bytes: work.database_bytes,
        },
        targets: report::targets(&reports, peak, pair.as_ref()),
        size_pair: pair,
        ceilings: Ceilings {
            http,
            storage,
            store,
        },
        scenarios: reports,
        server_peak_rss_bytes: peak,
        load_average: [load_at_start, proc::load_average()],
    };
    write_out(&report, &args, json)
}

fn server_use(
    outcome: &Outcome,
    samples: Option<(proc::Sample, proc::Sample)>,
    peak_rss_bytes: Option<u64>,
) -> report::ServerUse {
    let requests = (outcome.ok + outcome.errors).max(1) as f64;
    let cpu = samples.map(|(b, a)| a.cpu_seconds - b.cpu_seconds);
    let written = samples.map(|(b, a)| a.written_bytes.saturating_sub(b.written_bytes) as f64);
    report::ServerUse {
        peak_rss_bytes,
        cpu_seconds: cpu,
        cpu_us_per_request: cpu.map(|c| c * 1e6 / requests),
        written_bytes_per_request: written.map(|w| w / requests),
    }
}

fn scenario_report(
    s: Scenario,
    outcome: &Outcome,
    server: report::ServerUse,
    http_ceiling: Option<f64>,
    (sql, store): (
        Option<&storage::StorageCeiling>,
        Option<&store_ceiling::StoreCeiling>,
    ),
) -> report::ScenarioReport {
    let per_second = outcome.per_second();
    // The SQL ceiling where there is one (SQLite), else the store's (PostgreSQL).
    let storage_ceiling = match s {
        Scenario::Delete => sql
            .and_then(|c| c.best_delete())
            .map(|d| d.per_second)
            .or(store.map(|c| c.deletes_per_second)),
        Scenario::Get => sql
            .and_then(|c| c.gets.as_ref())
            .map(|g| g.per_second)
            .or(store.map(|c| c.gets_per_second)),
        _ => None,
    };
    let ratio = |ceiling: Option<f64>| ceiling.map(|c| per_second / c.max(f64::EPSILON));
    let ceiling = if s == Scenario::Delete {
        "storage"
    } else {
        "http"
    };
    report::ScenarioReport {
        scenario: s.name(),
        title: s.title(),
        requests: outcome.ok + outcome.errors,
        errors: outcome.errors,
        seconds: outcome.seconds,
        per_second,
        latency_ms: report::Latency {
            p50: outcome.latency_ms(0.5),
            p99: outcome.latency_ms(0.99),
            p999: outcome.latency_ms(0.999),
            max: outcome.latency_ms(1.0),
        },
        server,
        http_ceiling_per_second: http_ceiling,
        ratio_to_http_ceiling: ratio(http_ceiling),
        storage_ceiling_per_second: storage_ceiling,
        ratio_to_storage_ceiling: ratio(storage_ceiling),
        ceiling,
        ratio: ratio(if s == Scenario::Delete {
            storage_ceiling
        } else {
            http_ceiling
        }),
        error_samples: outcome.error_samples.clone(),
    }
}

fn write_out(report: &Report, args: &BenchArgs, json: bool) -> anyhow::Result<()> {
    let as_json = serde_json::to_string_pretty(report)?;
    let as_markdown = report.markdown();
    if let Some(path) = &args.json_out {
        std::fs::write(path, &as_json)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.markdown_out {
        std::fs::write(path, &as_markdown)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{}", if json { as_json } else { as_markdown });
    Ok(())
}
