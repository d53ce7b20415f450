//! The storage ceiling of any backend: the `Store` methods the API handlers call, in-process,
//! `concurrency` at a time, so everything a request does except HTTP. On PostgreSQL, whose SQL
//! runs in the database server either way, this is the ceiling GET and DELETE are judged
//! against; on SQLite it can be set beside the in-process SQL ceiling.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use entitle_domain::CustomerUserId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::resolve::ProfileRef;
use serde::Serialize;

use super::plan;
use super::proc;
use super::seed::BenchApp;
use crate::backend::Backend;
use crate::config::DatabaseUrl;

#[derive(Debug, Clone, Serialize)]
pub struct StoreCeiling {
    pub concurrency: usize,
    pub operations: u64,
    pub gets_per_second: f64,
    pub deletes_per_second: f64,
    /// CPU time of this process (the store's client side) per delete.
    pub cpu_us_per_delete: Option<f64>,
}

/// Reads, then deletes, each of `targets` through the `Store`.
pub async fn measure(
    database_url: &DatabaseUrl,
    app: &BenchApp,
    targets: &[u64],
    concurrency: usize,
) -> anyhow::Result<StoreCeiling> {
    let backend = Backend::open(database_url).await?;
    let store = backend.store();
    let targets: Arc<Vec<ProfileRef>> = Arc::new(
        targets
            .iter()
            .map(|&index| {
                let cuid = CustomerUserId::parse(&plan::customer_user_id(index))
                    .expect("a valid customer user id");
                ProfileRef::CustomerUserId(cuid)
            })
            .collect(),
    );
    let (app_id, key_id) = (app.app_id, app.key_id);
    let get_seconds = all(targets.len(), concurrency, {
        let (store, targets) = (store.clone(), targets.clone());
        move |index| {
            let (store, target) = (store.clone(), targets[index].clone());
            async move { store.get_profile(app_id, target).await.map(drop) }
        }
    })
    .await;
    let before = proc::sample(std::process::id());
    let delete_seconds = all(targets.len(), concurrency, {
        let (store, targets) = (store.clone(), targets.clone());
        move |index| {
            let (store, target) = (store.clone(), targets[index].clone());
            async move {
                let at = Timestamp::now();
                store
                    .delete_profile(app_id, target, key_id, at)
                    .await
                    .map(drop)
            }
        }
    })
    .await;
    let after = proc::sample(std::process::id());
    backend.close().await;
    let operations = targets.len() as u64;
    let per_second = |seconds: f64| operations as f64 / seconds.max(f64::EPSILON);
    Ok(StoreCeiling {
        concurrency,
        operations,
        gets_per_second: per_second(get_seconds?),
        deletes_per_second: per_second(delete_seconds?),
        cpu_us_per_delete: before
            .zip(after)
            .map(|(b, a)| (a.cpu_seconds - b.cpu_seconds) * 1e6 / operations.max(1) as f64),
    })
}

/// Runs `operation(0..count)`, `concurrency` at a time; returns the seconds it took.
async fn all<F, Fut, E>(count: usize, concurrency: usize, operation: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (next, operation) = (next.clone(), operation.clone());
            tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        return anyhow::Ok(());
                    }
                    operation(index).await?;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.context("a store ceiling task panicked")??;
    }
    Ok(started.elapsed().as_secs_f64())
}
