//! What a delivery claim decides the same way on every store: which of an endpoint's oldest due
//! deliveries it takes and which due retries it gives up instead (spec §9.6), a round at a time.
//! The stores fetch each round's rows and write the outcome.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::RetryCutOffs;

/// Rounds of fetching per endpoint and claim. Each round past the first follows one that gave
/// retries up; the bound keeps one claim's work small when an endpoint has a long run of them to
/// give up, and the rest go at the next claims.
const ROUNDS: usize = 8;

/// One of an endpoint's due deliveries, as a claim fetches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDelivery {
    pub delivery_pk: i64,
    pub next_attempt_at: Timestamp,
    /// Attempts made so far: more than 0 makes this a retry.
    pub attempts: u32,
    pub created_at: Timestamp,
}

/// Choosing from one endpoint's due deliveries.
#[derive(Debug)]
pub struct EndpointPick {
    room: u32,
    circuit_open: bool,
    created_by: Timestamp,
    taken: Vec<DueDelivery>,
    rounds_left: usize,
}

impl EndpointPick {
    /// `room`: how many more may be in flight to the endpoint; `failing_since`: the endpoint's
    /// circuit state.
    pub fn new(room: u32, failing_since: Option<Timestamp>, cut_offs: RetryCutOffs) -> Self {
        Self {
            room,
            circuit_open: failing_since.is_some_and(|since| since <= cut_offs.failing_since_by),
            created_by: cut_offs.created_by,
            taken: Vec::new(),
            rounds_left: if room == 0 { 0 } else { ROUNDS },
        }
    }

    /// How many of the endpoint's oldest due deliveries to fetch for the next round, or `None`
    /// when the choice is made. Those taken in earlier rounds are still due (they are leased only
    /// once the claim is made), so they come back in front of the rest and are passed over.
    pub fn next_fetch(&self) -> Option<u32> {
        (self.rounds_left > 0).then_some(self.room)
    }

    /// Takes in a round's fetch, oldest first; returns the retries to give up.
    pub fn absorb(&mut self, due: Vec<DueDelivery>) -> Vec<i64> {
        self.rounds_left = self.rounds_left.saturating_sub(1);
        let exhausted = due.len() < self.room as usize;
        let mut give_up = Vec::new();
        for delivery in due {
            if self
                .taken
                .iter()
                .any(|t| t.delivery_pk == delivery.delivery_pk)
            {
                continue;
            }
            if self.beyond_cut_off(&delivery) {
                give_up.push(delivery.delivery_pk);
            } else {
                self.taken.push(delivery);
            }
        }
        // Another round only helps when this one gave some up and there may be more to take.
        if give_up.is_empty() || exhausted || self.taken.len() >= self.room as usize {
            self.rounds_left = 0;
        }
        give_up
    }

    pub fn into_taken(self) -> Vec<DueDelivery> {
        self.taken
    }

    fn beyond_cut_off(&self, delivery: &DueDelivery) -> bool {
        delivery.attempts > 0 && (self.circuit_open || delivery.created_at <= self.created_by)
    }
}

/// The claim across endpoints: the oldest due first, at most `limit`.
pub fn oldest_due_first(mut taken: Vec<DueDelivery>, limit: u32) -> Vec<i64> {
    taken.sort_unstable_by_key(|d| (d.next_attempt_at, d.delivery_pk));
    taken.truncate(limit as usize);
    taken.into_iter().map(|d| d.delivery_pk).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_unix_micros(hours * HOUR)
    }

    fn due(delivery_pk: i64, attempts: u32, created_hours: i64) -> DueDelivery {
        DueDelivery {
            delivery_pk,
            next_attempt_at: at(100 + delivery_pk),
            attempts,
            created_at: at(created_hours),
        }
    }

    fn cut_offs() -> RetryCutOffs {
        RetryCutOffs {
            created_by: at(76),
            failing_since_by: at(76),
        }
    }

    #[test]
    fn first_attempts_are_taken_whatever_the_circuit() {
        let mut pick = EndpointPick::new(2, Some(at(10)), cut_offs());
        assert_eq!(pick.next_fetch(), Some(2));
        assert!(pick.absorb(vec![due(1, 0, 0), due(2, 0, 99)]).is_empty());
        assert_eq!(pick.next_fetch(), None);
        assert_eq!(pick.into_taken().len(), 2);
    }

    #[test]
    fn retries_of_old_events_and_to_open_circuits_are_given_up_and_the_room_refilled() {
        let mut pick = EndpointPick::new(2, None, cut_offs());
        // An event created at hour 70 is past the cut-off (76); one at hour 90 is not.
        assert_eq!(pick.absorb(vec![due(1, 3, 70), due(2, 1, 90)]), vec![1]);
        assert_eq!(pick.next_fetch(), Some(2));
        // The one taken comes back in front and is passed over.
        assert!(pick.absorb(vec![due(2, 1, 90), due(3, 0, 95)]).is_empty());
        assert_eq!(pick.next_fetch(), None);
        let taken: Vec<i64> = pick.into_taken().iter().map(|d| d.delivery_pk).collect();
        assert_eq!(taken, vec![2, 3]);

        let mut open = EndpointPick::new(2, Some(at(50)), cut_offs());
        assert_eq!(open.absorb(vec![due(4, 1, 95), due(5, 0, 95)]), vec![4]);
        let mut closed = EndpointPick::new(2, Some(at(80)), cut_offs());
        assert!(closed.absorb(vec![due(4, 1, 95), due(5, 0, 95)]).is_empty());
    }

    #[test]
    fn giving_up_is_bounded_per_claim() {
        let mut pick = EndpointPick::new(1, Some(at(0)), cut_offs());
        let mut rounds = 0;
        let mut pk = 0;
        while pick.next_fetch().is_some() {
            pk += 1;
            assert_eq!(pick.absorb(vec![due(pk, 1, 95)]), vec![pk]);
            rounds += 1;
        }
        assert_eq!(rounds, ROUNDS);
        assert!(pick.into_taken().is_empty());
    }

    #[test]
    fn no_room_fetches_nothing_and_the_claim_is_oldest_first() {
        assert_eq!(EndpointPick::new(0, None, cut_offs()).next_fetch(), None);
        let taken = vec![due(3, 0, 95), due(1, 0, 95), due(2, 0, 95)];
        assert_eq!(oldest_due_first(taken, 2), vec![1, 2]);
    }
}
