//! `--larger-seeded-from`: the delete scenario on a second, larger database in the same run,
//! for the "delete p50 at 1,000,000 profiles within 1.25× of p50 at 100,000".
//!
//! Two runs minutes apart differ by more than that on a shared machine, so the larger
//! database gets a server of its own beside the main one, and the two take turns round by
//! round (which goes first alternates): both see the same machine, and their p50s can be set
//! side by side. A delete's latency is mostly its wait for a group's fsync, and the disk's
//! speed drifts within seconds: the turns are short (a twentieth of the deletes each), and
//! each begins once both servers are quiet, so that neither's checkpoint lands in the
//! other's turn.

use std::path::Path;

use http::HeaderValue;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use super::load::{Outcome, Target};
use super::scenario::{self, Prepared, Scenario};
use super::server::ServerProcess;
use super::{proc, reuse, rounds};
use crate::config::DatabaseUrl;

/// The larger database's server and the deletes it is sent.
pub struct Larger {
    pub profiles: u64,
    pub server: ServerProcess,
    pub target: Target,
    pub requests: Vec<Prepared>,
    pub copy_seconds: f64,
}

impl Larger {
    /// Copies `source` (seeded with `profiles` profiles by an earlier run) into `dir`, starts
    /// a server on the copy and prepares `count` deletes of distinct profiles spread over it.
    pub async fn start(
        source: &Path,
        dir: &Path,
        profiles: u64,
        count: u64,
        log_filter: Option<&str>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            count <= profiles,
            "--larger-profiles {profiles} is fewer than the {count} deletes to send"
        );
        let copy = dir.join("larger.db");
        eprintln!(
            "bench: copying {profiles} seeded profiles from {} (the larger database)",
            source.display()
        );
        let adopted = reuse::adopt(source, &copy, profiles).await?;
        let server = ServerProcess::start(
            &DatabaseUrl::Sqlite(copy),
            &dir.join("larger-server.log"),
            log_filter,
        )
        .await?;
        let authorization =
            HeaderValue::from_str(&format!("Api-Key {}", adopted.app.secret.expose()))?;
        let mut order: Vec<u64> = (0..profiles).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(0x1a26e));
        order.truncate(count as usize);
        Ok(Self {
            profiles,
            target: Target {
                address: server.address(),
                authorization,
            },
            server,
            requests: scenario::prepare(Scenario::Delete, &order, adopted.anchor),
            copy_seconds: adopted.copy_seconds,
        })
    }
}

/// The delete scenario at both sizes, measured in alternating rounds.
#[derive(Debug, Clone, Serialize)]
pub struct SizePair {
    pub profiles: u64,
    pub larger_profiles: u64,
    /// Turns each size took ([`rounds::SIZE_PAIR_ROUNDS`]).
    pub rounds: usize,
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub larger_per_second: f64,
    pub p50_ms: Option<f64>,
    pub larger_p50_ms: Option<f64>,
    pub larger_p99_ms: Option<f64>,
    /// The larger database's delete p50 over the main one's.
    pub p50_ratio: Option<f64>,
    pub larger_peak_rss_bytes: Option<u64>,
    pub larger_copy_seconds: f64,
}

impl SizePair {
    /// `main` is the delete scenario on the main database of `profiles` profiles, `outcome`
    /// the same rounds on `larger`.
    pub fn new(profiles: u64, main: &Outcome, larger: &Larger, outcome: &Outcome) -> Self {
        let (p50, larger_p50) = (main.latency_ms(0.5), outcome.latency_ms(0.5));
        Self {
            profiles,
            larger_profiles: larger.profiles,
            rounds: rounds::SIZE_PAIR_ROUNDS,
            requests: outcome.ok + outcome.errors,
            errors: outcome.errors,
            per_second: main.per_second(),
            larger_per_second: outcome.per_second(),
            p50_ms: p50,
            larger_p50_ms: larger_p50,
            larger_p99_ms: outcome.latency_ms(0.99),
            p50_ratio: p50
                .zip(larger_p50)
                .map(|(small, large)| large / small.max(f64::EPSILON)),
            larger_peak_rss_bytes: proc::peak_rss(larger.server.pid()),
            larger_copy_seconds: larger.copy_seconds,
        }
    }
}
