//! One scenario's measurement: the scenario and its HTTP ceiling take turns, a share of the
//! requests at a time. On a shared machine whose speed drifts by tens of percent within a
//! minute, both then see the same machine. The bare server answers each request of a round too
//! (it keeps no state). With `--larger-seeded-from`, the larger database's deletes join the
//! rounds, going first in odd rounds and after the main database in even ones
//! (`size_pair.rs`).

use std::sync::Arc;

use super::load::{self, Outcome, Target};
use super::scenario::{Prepared, Scenario};
use super::size_pair::Larger;

/// Rounds per scenario.
pub const ROUNDS: usize = 5;

/// What one scenario's rounds measured.
pub struct Measured {
    pub server: Outcome,
    pub bare: Outcome,
    /// The larger database's deletes, when it took part.
    pub larger: Option<Outcome>,
}

/// Sends `requests` to the server and to the bare server in [`ROUNDS`] rounds, and the
/// larger database's own requests to its server when `larger` is given.
pub async fn run(
    scenario: Scenario,
    requests: &[Prepared],
    server: &Target,
    bare: &Target,
    larger: Option<&Larger>,
    concurrency: usize,
) -> anyhow::Result<Measured> {
    let larger_shares = larger.map(|l| shares(&l.requests)).unwrap_or_default();
    let drive = |target, share| load::drive(target, scenario, share, concurrency);
    let (mut on_server, mut on_bare, mut on_larger) =
        (Outcome::default(), Outcome::default(), Outcome::default());
    for (index, share) in shares(requests).into_iter().enumerate() {
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

/// `requests` in [`ROUNDS`] nearly equal, consecutive shares.
fn shares(requests: &[Prepared]) -> Vec<Arc<Vec<Prepared>>> {
    let size = requests.len().div_ceil(ROUNDS).max(1);
    requests
        .chunks(size)
        .map(|share| Arc::new(share.to_vec()))
        .collect()
}
