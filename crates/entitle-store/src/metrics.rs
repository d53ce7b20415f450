//! Counters the storage backends keep, registered in the process-wide Prometheus registry that
//! `/metrics` renders.

use std::sync::LazyLock;

use prometheus::{IntCounter, IntCounterVec, Opts, register_int_counter, register_int_counter_vec};

/// Integration events written, by type.
pub static EVENTS_CREATED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        Opts::new(
            "entitle_events_created_total",
            "Integration events written to the feed, by type."
        ),
        &["event_type"]
    )
    .expect("metric registers once")
});

/// Profiles deleted (each counted when its deletion is written).
pub static PROFILES_DELETED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!("entitle_profiles_deleted_total", "Profiles deleted.")
        .expect("metric registers once")
});
