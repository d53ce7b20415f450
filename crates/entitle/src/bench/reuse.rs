//! `--seeded-from`: a run on a copy of a database an earlier run seeded, so that seeding a
//! million profiles (tens of minutes) is paid once for several runs. The earlier run must have
//! left every profile in place: `--database-url sqlite://<file> --scenarios get
//! --no-storage-ceiling` does (a GET changes nothing). The source's contents are not changed
//! (a WAL it still has is first checkpointed into it, as for the storage ceiling's copy).

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use entitle_domain::CustomerUserId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::resolve::ProfileRef;
use entitle_store::{EventQuery, Store, StoreError};
use entitle_store_sqlite::bench::copy_database;

use super::plan;
use super::seed::BenchApp;
use crate::backend::Backend;
use crate::config::DatabaseUrl;

/// The seeded app found in the copy, with a fresh key of this run's own.
pub struct Adopted {
    pub app: BenchApp,
    /// When the earlier run seeded (its app's creation): the seeded periods are dated from it.
    pub anchor: Timestamp,
    pub copy_seconds: f64,
}

/// Copies `source` to `copy` (flushed to disk, so that its writeback, gigabytes at a million
/// profiles, does not slow the run's fsyncs), then finds the bench app in the copy and checks
/// it holds exactly `profiles` seeded profiles.
pub async fn adopt(source: &Path, copy: &Path, profiles: u64) -> anyhow::Result<Adopted> {
    anyhow::ensure!(
        source.is_file(),
        "--seeded-from {}: no such database file",
        source.display()
    );
    let started = Instant::now();
    let (from, to) = (source.to_owned(), copy.to_owned());
    tokio::task::spawn_blocking(move || copy_database(&from, &to))
        .await
        .context("copying the database panicked")?
        .with_context(|| format!("cannot copy {} for the run", source.display()))?;
    let copy_seconds = started.elapsed().as_secs_f64();

    let backend = Backend::open(&DatabaseUrl::Sqlite(copy.to_owned())).await?;
    let adopted = find_app(backend.store().as_ref(), profiles).await;
    backend.close().await;
    let (app, anchor) = adopted.with_context(|| {
        format!(
            "--seeded-from {} is not a database seeded by `entitle bench --profiles {profiles}`",
            source.display()
        )
    })?;
    Ok(Adopted {
        app,
        anchor,
        copy_seconds,
    })
}

async fn find_app(store: &dyn Store, profiles: u64) -> anyhow::Result<(BenchApp, Timestamp)> {
    let apps = store.list_apps().await?;
    let mut benches = apps.iter().filter(|app| app.name.starts_with("bench-"));
    let (Some(app), None) = (benches.next(), benches.next()) else {
        anyhow::bail!("it holds no bench app, or more than one");
    };
    anyhow::ensure!(profiles > 0, "give --profiles as seeded");
    // Seeded profiles are numbered 0..N: the last is there and the next is not.
    let named = |index: u64| {
        ProfileRef::CustomerUserId(
            CustomerUserId::parse(&plan::customer_user_id(index)).expect("a valid id"),
        )
    };
    let last = store
        .get_profile(app.app_id, named(profiles - 1))
        .await
        .with_context(|| format!("seeded profile {} is missing", profiles - 1))?;
    // A file seeded by an older bench holds profiles of another shape (until session 11, six
    // events each): measuring it beside a fresh one would compare different workloads.
    let events = store
        .list_events(
            app.app_id,
            EventQuery {
                profile_id: Some(last.profile_id),
                limit: 100,
                ..EventQuery::default()
            },
        )
        .await?
        .events
        .len();
    anyhow::ensure!(
        events == plan::SEEDED_EVENTS,
        "its profiles have {events} events each where this bench seeds {}: it was seeded by \
         another version of the bench; seed it again",
        plan::SEEDED_EVENTS
    );
    match store.get_profile(app.app_id, named(profiles)).await {
        Err(StoreError::ProfileNotFound) => {}
        Ok(_) => anyhow::bail!("it holds more than {profiles} seeded profiles"),
        Err(other) => return Err(other.into()),
    }
    let (key, secret) = crate::cli::keys::new_key();
    let key_id = key.key_id;
    store.create_key(app.app_id, key, Timestamp::now()).await?;
    Ok((
        BenchApp {
            app_id: app.app_id,
            key_id,
            secret,
        },
        app.created_at,
    ))
}
