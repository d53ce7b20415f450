//! Runs bulk deletion jobs in the background: claims pending items under a lease and deletes
//! them concurrently. Items are durable, so a job interrupted by a restart resumes where it
//! stopped, and a runner that dies holding a claim is replaced once the lease runs out.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_store::{ITEM_LEASE, Store};
use futures::StreamExt;

/// Items claimed at once, and deleted concurrently.
const BATCH: u32 = 64;
const CONCURRENCY: usize = 16;
const IDLE_POLL: Duration = Duration::from_millis(250);

pub async fn run(store: Arc<dyn Store>, shutdown: impl Future<Output = ()>) {
    let runner = format!("deleter-{}", uuid::Uuid::new_v4().simple());
    tokio::pin!(shutdown);
    loop {
        let done = match store
            .claim_deletion_items(&runner, Timestamp::now(), ITEM_LEASE, BATCH)
            .await
        {
            Ok(items) => {
                let count = items.len();
                futures::stream::iter(items)
                    .for_each_concurrent(CONCURRENCY, |item| {
                        let store = store.clone();
                        async move {
                            if let Err(error) = store.run_deletion_item(&item, Timestamp::now()).await {
                                tracing::warn!(%error, job = %item.job_id, index = item.index, "cannot run a deletion item");
                            }
                        }
                    })
                    .await;
                count
            }
            Err(error) => {
                tracing::warn!(%error, "cannot claim deletion items");
                0
            }
        };
        let pause = if done > 0 { Duration::ZERO } else { IDLE_POLL };
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
}
