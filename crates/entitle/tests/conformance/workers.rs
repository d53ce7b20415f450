//! The second half of the story: what workers and operators do — the outbox, the end of a
//! period, a bulk deletion job and the audit trail.

use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::EventType;
use entitle_domain::events::{AttemptOutcome, RetryPolicy};
use entitle_domain::profile::ProfilePatch;
use entitle_domain::purchase::Transaction;
use entitle_domain::{AppId, CustomerUserId};
use entitle_store::{
    AttemptRecord, AttemptResult, ClaimLimits, DeletedBy, DeliveryState, EventQuery, JobTarget,
    Store,
};

use crate::story::{DAY, Told, feed_of, monthly, user};

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

    dated_ahead_moves_up(store, app_id, ended, seen).await;

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

/// An event dated ahead of its write (spec §8.5) is hidden until its date, shown from then at the
/// position of its write, and moved to the head of the feed, with its deliveries, by the first
/// worker to look once its date has come.
async fn dated_ahead_moves_up(
    store: &dyn Store,
    app_id: AppId,
    now: Timestamp,
    seen: &mut Vec<String>,
) {
    let dated = now.plus_micros(DAY);
    let purchase = |cuid: &str, id: &str, purchased_at: Timestamp| Transaction {
        store_original_transaction_id: format!("chain-{cuid}"),
        ..monthly(id, purchased_at)
    };
    for cuid in ["dave", "erin"] {
        store
            .create_profile(app_id, user(cuid), ProfilePatch::default(), now)
            .await
            .unwrap();
    }
    // Dave's purchase is reported a day ahead of its date; Erin's, written after it, is not.
    store
        .set_transaction(app_id, user("dave"), purchase("dave", "d-1", dated), now)
        .await
        .unwrap();
    store
        .set_transaction(app_id, user("erin"), purchase("erin", "e-1", now), now)
        .await
        .unwrap();
    let feed_as_of = |as_of: Timestamp, event_type: Option<EventType>| async move {
        let query = EventQuery {
            limit: 500,
            as_of,
            event_type,
            ..EventQuery::default()
        };
        store.list_events(app_id, query).await.unwrap().events
    };
    let started = Some(EventType::SubscriptionStarted);
    let ids = |events: &[entitle_store::FeedEvent]| -> Vec<uuid::Uuid> {
        events.iter().map(|e| e.event_id).collect()
    };

    assert_eq!(
        store.reveal_dated_events(now, 100).await.unwrap(),
        0,
        "not yet"
    );
    let shown = feed_as_of(now, None).await;
    let before = feed_as_of(dated, None).await;
    let waiting = u32::try_from(before.len() - shown.len()).unwrap();
    assert!(waiting >= 1, "hidden until its date");
    let starts = feed_as_of(dated, started).await;
    let (erins, daves) = (&starts[0], &starts[1]);
    assert!(
        !daves.deliveries.is_empty(),
        "its deliveries are made at once, not at its date"
    );

    assert_eq!(
        store.reveal_dated_events(dated, 100).await.unwrap(),
        waiting
    );
    assert_eq!(
        store.reveal_dated_events(dated, 100).await.unwrap(),
        0,
        "moved once"
    );
    let moved = feed_as_of(dated, started).await;
    assert_eq!(
        ids(&moved[..2]),
        [daves.event_id, erins.event_id],
        "at the head"
    );
    assert_eq!(
        moved[0].deliveries.len(),
        daves.deliveries.len(),
        "with its deliveries"
    );
    assert!(moved[0].position > moved[1].position);
    let after = feed_as_of(dated, None).await;
    let sorted = |events: &[entitle_store::FeedEvent]| {
        let mut ids = ids(events);
        ids.sort();
        ids
    };
    assert_eq!(sorted(&after), sorted(&before), "moved, not copied");
    assert_eq!(
        ids(&after[waiting as usize..]),
        ids(&shown),
        "below them, the feed as it was"
    );
    seen.push(format!(
        "dated ahead: dave {:?}, erin {:?}",
        feed_of(store, app_id, "dave").await,
        feed_of(store, app_id, "erin").await
    ));
}
