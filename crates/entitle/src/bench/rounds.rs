//! One scenario's measurement: the scenario and its HTTP ceiling take turns, a share of the
//! requests at a time. On a shared machine whose speed drifts by tens of percent within a
//! minute, both then see the same machine. The bare server answers each request of a round too
//! (it keeps no state). With `--larger-seeded-from`, the larger database's deletes join the
//! rounds, going first in odd rounds and after the main database in even ones
//! (`size_pair.rs`). Then each turn begins once both servers are quiet, so that neither's
//! background work (checkpoints) is counted in the other's turn.

use std::sync::Arc;
use std::time::Duration;

use super::load::{self, Outcome, Target};
use super::proc;
use super::scenario::{Prepared, Scenario};
use super::size_pair::Larger;

/// Rounds per scenario.
pub const ROUNDS: usize = 5;

/// Rounds of the delete scenario when the larger database takes part: the disk's speed, which
/// sets a delete's latency (each waits for its group's fsync), drifts within seconds, so the
/// two sizes take shorter, more frequent turns.
pub const SIZE_PAIR_ROUNDS: usize = 20;

/// The longest wait for the servers to go quiet before a turn of the size pair.
const SETTLE_LIMIT: Duration = Duration::from_secs(3);

/// What one scenario's rounds measured.
pub struct Measured {
    pub server: Outcome,
    pub bare: Outcome,
    /// The larger database's deletes, when it took part.
    pub larger: Option<Outcome>,
}

/// Sends `requests` to the server (process `server_pid`) and to the bare server in
/// [`ROUNDS`] rounds, and the larger database's own requests to its server when `larger` is
/// given (then in [`SIZE_PAIR_ROUNDS`]).
pub async fn run(
    scenario: Scenario,
    requests: &[Prepared],
    (server, server_pid): (&Target, u32),
    bare: &Target,
    larger: Option<&Larger>,
    concurrency: usize,
) -> anyhow::Result<Measured> {
    let rounds = count(larger);
    let larger_shares = larger
        .map(|l| shares(&l.requests, rounds))
        .unwrap_or_default();
    let settle_pids: Vec<u32> = match larger {
        Some(l) => vec![server_pid, l.server.pid()],
        None => Vec::new(),
    };
    let settle_pids = &settle_pids;
    let drive = |target, share| async move {
        proc::settle(settle_pids, SETTLE_LIMIT).await;
        load::drive(target, scenario, share, concurrency).await
    };
    let (mut on_server, mut on_bare, mut on_larger) =
        (Outcome::default(), Outcome::default(), Outcome::default());
    for (index, share) in shares(requests, rounds).into_iter().enumerate() {
        on_bare.absorb(drive(bare, share.clone()).await?);
        let larger_round = larger.zip(larger_shares.get(index));
        let main_first = index % 2 == 0;
        if let Some((l, larger_share)) = larger_round.filter(|_| !main_first) {
            on_larger.absorb(drive(&l.target, larger_share.clone()).await?);
        }
        on_server.absorb(drive(server, share).await?);
        if let Some((l, larger_share)) = larger_round.filter(|_| main_first) {
            on_larger.absorb(drive(&l.target, larger_share.clone()).await?);
        }
    }
    Ok(Measured {
        server: on_server,
        bare: on_bare,
        larger: larger.map(|_| on_larger),
    })
}

/// Rounds of a scenario: more when the larger database takes part.
pub fn count(larger: Option<&Larger>) -> usize {
    match larger {
        Some(_) => SIZE_PAIR_ROUNDS,
        None => ROUNDS,
    }
}

/// `requests` in `rounds` nearly equal, consecutive shares.
fn shares(requests: &[Prepared], rounds: usize) -> Vec<Arc<Vec<Prepared>>> {
    let size = requests.len().div_ceil(rounds).max(1);
    requests
        .chunks(size)
        .map(|share| Arc::new(share.to_vec()))
        .collect()
}
