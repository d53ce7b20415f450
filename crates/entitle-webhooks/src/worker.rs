//! The delivery loop.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{AttemptOutcome, RetryPolicy, classify_status};
use entitle_store::{
    AttemptRecord, AttemptResult, ClaimLimits, ClaimedDelivery, DEFAULT_LEASE, Store,
};
use tokio::task::JoinSet;

use crate::guard::TargetPolicy;
use crate::signature::sign;

/// When to look for ended subscription periods again. The worker's loop turns each time a
/// delivery is answered; asking the store (a write transaction) on every turn would cost far more
/// than the announcements need, so it asks again at once only while the last look found some,
/// and otherwise once per poll interval.
#[derive(Default)]
struct Announcing {
    last: Option<Instant>,
    found_some: bool,
}

impl Announcing {
    fn due(&self, interval: Duration) -> bool {
        self.found_some || self.last.is_none_or(|last| last.elapsed() >= interval)
    }

    fn record(&mut self, announced: usize) -> usize {
        self.last = Some(Instant::now());
        self.found_some = announced > 0;
        announced
    }
}

/// Webhook attempts, by outcome.
static DELIVERY_ATTEMPTS: std::sync::LazyLock<prometheus::IntCounterVec> =
    std::sync::LazyLock::new(|| {
        prometheus::register_int_counter_vec!(
            prometheus::Opts::new(
                "entitle_webhook_attempts_total",
                "Webhook delivery attempts, by outcome."
            ),
            &["outcome"]
        )
        .expect("metric registers once")
    });

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub retry: RetryPolicy,
    /// No answer within this is a failed attempt.
    pub timeout: Duration,
    /// How often to look for due deliveries when there were none.
    pub poll_interval: Duration,
    /// Most deliveries in flight at once.
    pub batch: u32,
    /// Most deliveries in flight to one endpoint at once, every worker's counted: an endpoint
    /// slow to answer then takes at most this many of the slots, never all of them.
    pub per_endpoint: u32,
    /// How long a claim keeps other workers off a delivery; longer than `timeout`.
    pub lease: Duration,
    pub targets: TargetPolicy,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            batch: 32,
            per_endpoint: 8,
            lease: DEFAULT_LEASE,
            targets: TargetPolicy::default(),
        }
    }
}

pub struct Worker {
    store: Arc<dyn Store>,
    config: WorkerConfig,
    client: reqwest::Client,
    id: String,
}

impl Worker {
    pub fn new(store: Arc<dyn Store>, config: WorkerConfig) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect could lead anywhere, including internal addresses: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(config.targets.resolver())
            .user_agent(concat!("entitle-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self {
            store,
            config,
            client,
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        })
    }

    /// Delivers until `shutdown` resolves; deliveries in flight then finish first.
    ///
    /// Up to `batch` deliveries are in flight at once, and each holds only its own slot: as soon
    /// as one is answered (or times out) another due delivery takes its place. At most
    /// `per_endpoint` of them go to one endpoint, so a receiver that takes its full timeout to
    /// answer delays only its own deliveries, never the others.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let worker = Arc::new(self);
        let slots = worker.config.batch.max(1) as usize;
        let mut sending = JoinSet::new();
        tokio::pin!(shutdown);
        tracing::info!(worker = %worker.id, "webhook worker started");
        let mut announcing = Announcing::default();
        loop {
            while sending.try_join_next().is_some() {}
            let announced = if announcing.due(worker.config.poll_interval) {
                announcing.record(worker.announce().await)
            } else {
                0
            };
            let done = announced + worker.clone().start_due(&mut sending, slots).await;
            // Straight on while there is work and a free slot; when every slot is taken, until
            // one frees; otherwise wait a little before looking again.
            let pause = if done > 0 {
                Duration::ZERO
            } else {
                worker.config.poll_interval
            };
            let full = sending.len() >= slots;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = sending.join_next(), if full => {}
                () = tokio::time::sleep(pause), if !full => {}
            }
        }
        while sending.join_next().await.is_some() {}
        tracing::info!(worker = %worker.id, "webhook worker stopped");
    }

    /// Announces ended subscription periods and moves events whose date has come to the head of
    /// the feed; returns how many of both.
    async fn announce(&self) -> usize {
        let now = Timestamp::now();
        let announced = match self
            .store
            .announce_expirations(now, self.config.batch)
            .await
        {
            Ok(count) => count as usize,
            Err(error) => {
                tracing::warn!(%error, "cannot announce expirations");
                0
            }
        };
        let revealed = match self.store.reveal_dated_events(now, self.config.batch).await {
            Ok(count) => count as usize,
            Err(error) => {
                tracing::warn!(%error, "cannot move events dated ahead up the feed");
                0
            }
        };
        announced + revealed
    }

    /// Claims due deliveries for the free slots and starts sending them; returns how many.
    async fn start_due(self: Arc<Self>, sending: &mut JoinSet<()>, slots: usize) -> usize {
        let free = slots.saturating_sub(sending.len());
        if free == 0 {
            return 0;
        }
        let now = Timestamp::now();
        let claimed = match self
            .store
            .claim_deliveries(
                &self.id,
                now,
                self.config.lease,
                ClaimLimits {
                    total: u32::try_from(free).unwrap_or(u32::MAX),
                    per_endpoint: self.config.per_endpoint.max(1),
                },
                self.config.retry.cut_offs(now),
            )
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "cannot claim deliveries");
                Vec::new()
            }
        };
        let count = claimed.len();
        for claim in claimed {
            let worker = self.clone();
            sending.spawn(async move { worker.deliver(claim).await });
        }
        count
    }

    async fn deliver(&self, claim: ClaimedDelivery) {
        let started = Instant::now();
        let attempted_at = Timestamp::now();
        let (outcome, status_code, error) = match self.send(&claim).await {
            Ok(status) => (classify_status(status), Some(status), None),
            Err(error) => (AttemptOutcome::Failed, None, Some(error)),
        };
        let retry_at = match outcome {
            AttemptOutcome::Failed => self.config.retry.next_attempt(
                claim.attempts_made + 1,
                claim.created_at,
                Timestamp::now(),
            ),
            _ => None,
        };
        tracing::info!(
            delivery = claim.delivery_id,
            webhook_id = %claim.webhook_id,
            attempt = claim.attempts_made + 1,
            status = status_code.unwrap_or(0),
            outcome = ?outcome,
            will_retry = retry_at.is_some(),
            "webhook attempt"
        );
        DELIVERY_ATTEMPTS
            .with_label_values(&[match outcome {
                AttemptOutcome::Delivered => "delivered",
                AttemptOutcome::Refused => "refused",
                AttemptOutcome::Failed if retry_at.is_some() => "failed_will_retry",
                AttemptOutcome::Failed => "failed",
            }])
            .inc();
        let result = AttemptResult {
            attempt: AttemptRecord {
                attempted_at,
                status_code,
                error,
                duration_ms: started.elapsed().as_millis() as u64,
            },
            outcome,
            retry_at,
        };
        match self.store.record_attempt(&claim, result).await {
            Ok(true) => {}
            Ok(false) => tracing::info!(
                delivery = claim.delivery_id,
                "delivery was cancelled or taken over meanwhile"
            ),
            Err(error) => {
                tracing::warn!(%error, delivery = claim.delivery_id, "cannot record a webhook attempt")
            }
        }
    }

    /// One POST; the HTTP status, or why there was none.
    async fn send(&self, claim: &ClaimedDelivery) -> Result<u16, String> {
        let url = self.config.targets.check_url(&claim.url)?;
        let timestamp = Timestamp::now().unix_micros() / 1_000_000;
        let signature = sign(
            &claim.signing_secret,
            &claim.webhook_id,
            timestamp,
            claim.body.as_bytes(),
        );
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &claim.webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(claim.body.clone());
        if let Some(authorization) = &claim.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        match request.send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(error) if error.is_timeout() => Err(format!(
                "no answer within {} ms",
                self.config.timeout.as_millis()
            )),
            Err(error) if error.is_connect() => Err("connection failed".into()),
            Err(error) => Err(format!("request failed: {}", error.without_url())),
        }
    }
}
