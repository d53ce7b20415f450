//! Schema migrations, embedded in the binary and applied in order at start.
//!
//! Several nodes may start at once against one database: an advisory lock held for the
//! migration transaction lets one of them migrate while the others wait, then find nothing to do.

use sqlx::PgConnection;

use crate::error::Result;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_profiles.sql")),
    (2, include_str!("../migrations/0002_purchases.sql")),
    (3, include_str!("../migrations/0003_events.sql")),
    (4, include_str!("../migrations/0004_deletion_jobs.sql")),
    (5, include_str!("../migrations/0005_sharing_mentions.sql")),
    (6, include_str!("../migrations/0006_events_dated_ahead.sql")),
    (7, include_str!("../migrations/0007_scheduled_access.sql")),
    (
        8,
        include_str!("../migrations/0008_deleted_profile_ids.sql"),
    ),
    (9, include_str!("../migrations/0009_exchange_rates.sql")),
    (
        10,
        include_str!("../migrations/0010_per_endpoint_delivery.sql"),
    ),
    (
        11,
        include_str!("../migrations/0011_dated_events_move_up.sql"),
    ),
];

/// Any constant shared by every entitle node; "entitle" in ASCII.
const MIGRATION_LOCK: i64 = 0x0065_6e74_6974_6c65;

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

/// Runs inside the caller's transaction.
pub async fn run(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    // Keeps PostgreSQL's "already exists, skipping" notice out of every start's log.
    sqlx::query("SET LOCAL client_min_messages = warning")
        .execute(&mut *conn)
        .await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .execute(&mut *conn)
    .await?;
    let current: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(&mut *conn)
            .await?;
    if current > latest() {
        return Err(entitle_store::StoreError::Unavailable(format!(
            "the database is at schema version {current}, newer than this build ({})",
            latest()
        ))
        .into());
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
