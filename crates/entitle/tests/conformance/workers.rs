//! The second half of the story: what workers and operators do — the outbox, the end of a
//! period, a bulk deletion job and the audit trail.

use std::time::Duration;

use entitle_domain::CustomerUserId;
use entitle_domain::events::{AttemptOutcome, RetryPolicy};
use entitle_store::{
    AttemptRecord, AttemptResult, ClaimLimits, DeletedBy, DeliveryState, EventQuery, JobTarget,
    Store,
};

use crate::story::{DAY, Told, feed_of};

pub async fn outbox_expiry_and_jobs(store: &dyn Store, told: Told, seen: &mut Vec<String>) {
    let Told {
        app_id,
        key_id,
        deletion: report,
        later,
    } = told;
    // The outbox: one worker claims, a second finds nothing, the attempt is recorded once.
    let lease = Duration::from_secs(60);
    let cut_offs = RetryPolicy::default().cut_offs(later);
    let limits = ClaimLimits {
        total: 500,
        per_endpoint: 500,
    };
    let claimed = store
        .claim_deliveries("worker-a", later, lease, limits, cut_offs)
        .await
        .unwrap();
    assert!(!claimed.is_empty());
    let again = store
        .claim_deliveries("worker-b", later, lease, limits, cut_offs)
        .await
        .unwrap();
    assert!(again.is_empty(), "leased deliveries are not claimed twice");
    let result = AttemptResult {
        attempt: AttemptRecord {
            attempted_at: later,
            status_code: Some(200),
            error: None,
            duration_ms: 5,
        },
        outcome: AttemptOutcome::Delivered,
        retry_at: None,
    };
    assert!(
        store
            .record_attempt(&claimed[0], result.clone())
            .await
            .unwrap()
    );
    assert!(!store.record_attempt(&claimed[0], result).await.unwrap());
    let page = store
        .list_events(
            app_id,
            EventQuery {
                limit: 500,
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    let states: Vec<DeliveryState> = page
        .events
        .iter()
        .flat_map(|e| e.deliveries.iter())
        .filter(|d| d.webhook_id == claimed[0].webhook_id)
        .map(|d| d.state)
        .collect();
    assert_eq!(states, [DeliveryState::Delivered]);
    seen.push(format!("claimed {}", claimed.len()));

    // The period ends: announced once, however often the workers look.
    let ended = later.plus_micros(40 * DAY);
    assert_eq!(store.announce_expirations(ended, 100).await.unwrap(), 1);
    assert_eq!(store.announce_expirations(ended, 100).await.unwrap(), 0);
    seen.push(format!(
        "carol feed {:?}",
        feed_of(store, app_id, "carol").await
    ));
    let stats = store.outbox_stats(ended).await.unwrap();
    seen.push(format!("outbox pending {}", stats.pending));

    // A bulk deletion job: each item claimed once, the job finished by its last item, and the
    // audit trail telling a key's deletion from a job's.
    let targets = vec![
        JobTarget::CustomerUserId(CustomerUserId::parse("bob").unwrap()),
        JobTarget::CustomerUserId(CustomerUserId::parse("nobody").unwrap()),
    ];
    let (job, created) = store
        .create_deletion_job(app_id, targets.clone(), ended)
        .await
        .unwrap();
    assert!(created);
    let (same, created) = store
        .create_deletion_job(app_id, targets, ended)
        .await
        .unwrap();
    assert_eq!((same.job_id, created), (job.job_id, false));
    let items = store
        .claim_deletion_items("runner", ended, Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    for item in &items {
        let outcome = store.run_deletion_item(item, ended).await.unwrap();
        seen.push(format!("item {} {:?}", item.index, outcome));
        assert_eq!(store.run_deletion_item(item, ended).await.unwrap(), None);
    }
    let (job, results) = store
        .get_deletion_job(app_id, job.job_id)
        .await
        .unwrap()
        .unwrap();
    assert!(job.finished_at.is_some());
    seen.push(format!("job {:?} {results:?}", job.counts));
    let trail = store
        .list_deletion_records(app_id, None, None, 100)
        .await
        .unwrap();
    let who: Vec<DeletedBy> = trail.records.iter().map(|r| r.deleted_by).collect();
    assert_eq!(who, [DeletedBy::Key(key_id), DeletedBy::Job(job.job_id)]);
    assert_eq!(trail.records[0].counts, report.counts);

    let ready = store.readiness().await.unwrap();
    assert_eq!(ready.schema_version, ready.latest_schema_version);
}
