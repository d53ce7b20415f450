//! One database transaction per store method (reads of a single statement go without one), run
//! again when a concurrent transaction got in its way.
//!
//! Writes run at READ COMMITTED and take explicit row locks (see `locks.rs`); what a concurrent
//! transaction can still do to them — a unique-key race, a deadlock, a row that changed between
//! reading and locking it — aborts the attempt, and the whole method runs again from the start,
//! so it decides on what is committed by then. Callers never see these conflicts as errors.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use entitle_domain::events::EventType;
use entitle_store::StoreResult;
use rand::Rng;
use sqlx::{PgConnection, PgPool};

use crate::error::{Error, Result, db_error};

pub type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// Enough for dozens of requests contending for one row; each attempt waits a little longer.
const MAX_ATTEMPTS: u32 = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// READ COMMITTED with explicit locks: every write.
    Write,
    /// One consistent snapshot for reads that take several statements.
    Snapshot,
    /// No transaction around the statements, for reads whose answer comes from one statement
    /// (plus lookups of what never changes): saves the BEGIN and COMMIT round trips.
    Read,
}

tokio::task_local! {
    /// Event types written by the running attempt, counted in the metrics only once it commits:
    /// an attempt that is rolled back and run again must not count twice.
    static WRITTEN: RefCell<Vec<EventType>>;
}

/// Notes an event written by the running attempt (see [`WRITTEN`]).
pub fn note_event(event_type: EventType) {
    let _ = WRITTEN.try_with(|written| written.borrow_mut().push(event_type));
}

pub async fn run<T, F>(pool: &PgPool, mode: Mode, mut work: F) -> StoreResult<T>
where
    T: Send,
    F: for<'c> FnMut(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send,
{
    let mut attempt = 1;
    loop {
        let written = RefCell::new(Vec::new());
        let outcome = WRITTEN
            .scope(written, async {
                let outcome = attempt_once(pool, mode, &mut work).await;
                (outcome, WRITTEN.with(|written| written.take()))
            })
            .await;
        match outcome {
            (Ok(value), written) => {
                for event_type in written {
                    entitle_store::metrics::EVENTS_CREATED
                        .with_label_values(&[event_type.as_str()])
                        .inc();
                }
                return Ok(value);
            }
            (Err(error), _) => match error {
                error if error.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(
                        attempt,
                        error = %error.log_safe(),
                        "transaction conflicted; running it again"
                    );
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                error => {
                    if error.is_retryable() {
                        tracing::warn!(
                            attempt,
                            error = %error.log_safe(),
                            "transaction kept conflicting; giving up"
                        );
                    }
                    return Err(error.into_store());
                }
            },
        }
    }
}

async fn attempt_once<T, F>(pool: &PgPool, mode: Mode, work: &mut F) -> Result<T>
where
    F: for<'c> FnMut(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send,
{
    // Explicit, so a server whose default isolation level was changed behaves the same.
    let begin = match mode {
        Mode::Write => "BEGIN ISOLATION LEVEL READ COMMITTED",
        Mode::Snapshot => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        Mode::Read => {
            let mut conn = pool
                .acquire()
                .await
                .map_err(|e| Error::Store(db_error(e)))?;
            return work(&mut conn).await;
        }
    };
    let mut tx = pool
        .begin_with(begin)
        .await
        .map_err(|e| Error::Store(db_error(e)))?;
    match work(&mut tx).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            // Release the locks now, not when the pool next hands the connection out.
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

/// 2, 4, 8 … ms up to 100 ms, each with up to as much again of random jitter, so that
/// transactions that collided once do not collide again in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = (1u64 << attempt.min(6)).min(100);
    let jitter = rand::rng().random_range(0..=base);
    Duration::from_millis(base + jitter)
}

/// `transaction!(store, mode, [inputs…], |conn| body)`: one transaction (see [`run`]) running
/// `body`, a future over `conn`. The listed inputs are cloned into every attempt, so each
/// attempt's future owns what it reads and borrows only the connection.
macro_rules! transaction {
    ($store:expr, $mode:expr, [$($owned:ident),*], |$conn:ident| $body:expr) => {
        $crate::transact::run(&$store.pool, $mode, move |$conn| {
            $(let $owned = $owned.clone();)*
            Box::pin(async move { $body.await })
        })
        .await
    };
}

pub(crate) use transaction;
