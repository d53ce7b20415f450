//! How the store's statements are planned on a server without autovacuum.
//!
//! PostgreSQL plans a prepared statement for its parameters a few times, then may keep one
//! generic plan for the connection's lifetime. A generic plan made while entitle's tables were
//! small scans them whole, which is cheapest then; autovacuum's `ANALYZE` invalidates it as the
//! tables grow. On a server with autovacuum off nothing does: every lookup by id then reads
//! the whole table, and seeding 100,000 profiles slowed twentyfold (docs/performance.md,
//! session 11), back to full speed at once after an `ANALYZE`. There, each statement is planned
//! for its own parameters and the tables' current sizes instead (`plan_cache_mode =
//! force_custom_plan`), which costs a little planning per statement and never a scan.

use sqlx::PgConnection;

/// What a connection of the store plans with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planning {
    /// The server's `autovacuum` setting.
    pub autovacuum: bool,
    /// The connection's `plan_cache_mode`.
    pub plan_cache_mode: String,
}

/// Run on every new connection of the pool.
pub(crate) async fn plan_for_the_server(conn: &mut PgConnection) -> sqlx::Result<()> {
    if !autovacuum(conn).await? {
        sqlx::query("SET plan_cache_mode = force_custom_plan")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(crate) async fn autovacuum(conn: &mut PgConnection) -> sqlx::Result<bool> {
    let setting: String = sqlx::query_scalar("SELECT current_setting('autovacuum')")
        .fetch_one(&mut *conn)
        .await?;
    Ok(setting == "on")
}

pub(crate) async fn read(conn: &mut PgConnection) -> sqlx::Result<Planning> {
    let plan_cache_mode: String = sqlx::query_scalar("SELECT current_setting('plan_cache_mode')")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Planning {
        autovacuum: autovacuum(conn).await?,
        plan_cache_mode,
    })
}
