//! Filling the database before the run: an app with a key the bench knows, and `profiles`
//! profiles as in [`plan`](super::plan). SQLite is seeded in bulk in-process; any other
//! backend through its `Store`, many requests at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use entitle_domain::datetime::Timestamp;
use entitle_domain::keys::ApiSecret;
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, KeyId};
use entitle_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

use super::plan;
use crate::backend::Backend;
use crate::config::DatabaseUrl;

/// The bench's app and its key.
pub struct BenchApp {
    pub app_id: AppId,
    pub key_id: KeyId,
    pub secret: ApiSecret,
}

/// Creates an app of its own for the bench, so its figures never mix with other data.
pub async fn create_app(database_url: &DatabaseUrl, at: Timestamp) -> anyhow::Result<BenchApp> {
    let backend = Backend::open(database_url).await?;
    let (key, secret) = crate::cli::keys::new_key();
    let key_id = key.key_id;
    let name = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let app = backend.store().create_app(&name, key, at).await;
    backend.close().await;
    Ok(BenchApp {
        app_id: app.context("cannot create the bench app")?.app_id,
        key_id,
        secret,
    })
}

/// Profiles per SQLite transaction while seeding.
const SEED_PER_COMMIT: usize = 5_000;
/// Requests in flight while seeding through a `Store`.
const SEED_CONCURRENCY: usize = 32;

fn progress_bar(profiles: u64) -> ProgressBar {
    let bar = ProgressBar::new(profiles);
    bar.set_style(
        ProgressStyle::with_template("seeding {bar:40} {pos}/{len} profiles ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Seeds profiles `0..profiles`; returns the events written (SQLite) and the time taken.
pub async fn seed(
    database_url: &DatabaseUrl,
    app: AppId,
    profiles: u64,
    anchor: Timestamp,
) -> anyhow::Result<(Option<u64>, f64)> {
    let started = Instant::now();
    let bar = progress_bar(profiles);
    let events = match database_url {
        DatabaseUrl::Sqlite(path) => {
            let (path, bar) = (path.clone(), bar.clone());
            let counts = tokio::task::spawn_blocking(move || {
                entitle_store_sqlite::bench::seed(
                    &path,
                    app,
                    (0..profiles).map(|index| plan::seed_profile(index, anchor)),
                    anchor,
                    SEED_PER_COMMIT,
                    &mut |done| bar.set_position(done),
                )
            })
            .await
            .context("seeding panicked")??;
            Some(counts.events)
        }
        DatabaseUrl::Postgres(_) => {
            let backend = Backend::open(database_url).await?;
            let seeded = through_store(backend.store(), app, profiles, anchor, &bar).await;
            backend.close().await;
            seeded?;
            None
        }
    };
    bar.finish_and_clear();
    Ok((events, started.elapsed().as_secs_f64()))
}

/// Seeds through the `Store` methods the API calls: create, then each transaction.
async fn through_store(
    store: Arc<dyn Store>,
    app: AppId,
    profiles: u64,
    anchor: Timestamp,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..SEED_CONCURRENCY)
        .map(|_| {
            let (store, next, bar) = (store.clone(), next.clone(), bar.clone());
            tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= profiles {
                        return anyhow::Ok(());
                    }
                    let profile = plan::seed_profile(index, anchor);
                    let target = ProfileRef::CustomerUserId(profile.customer_user_id);
                    store
                        .create_profile(app, target.clone(), profile.patch, anchor)
                        .await?;
                    for transaction in profile.transactions {
                        store
                            .set_transaction(app, target.clone(), transaction, anchor)
                            .await?;
                    }
                    bar.inc(1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.context("a seeding task panicked")??;
    }
    Ok(())
}
