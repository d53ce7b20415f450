//! Event derivation: which events a transaction produces (`transaction_events`), and the
//! whole plan of a set-transaction with payloads (`plan_store_event`), for a renewal and for
//! a detached chain reattached to a new parent (its history replayed).

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use entitle_domain::events::{StoreEvent, Touched, plan_store_event, transaction_events};
use entitle_domain::purchase::{Chain, ChainOwnership, Claimant, ProfileAccessView, Upsert};

fn transaction(c: &mut Criterion) {
    let chains = common::chains(1, 3);
    let chain = &chains[0].1;
    let (previous, current) = (&chain.transactions[1], &chain.transactions[2]);
    c.bench_function("transaction_events/renewal", |b| {
        b.iter(|| {
            transaction_events(
                black_box(chain),
                black_box(Some(previous)),
                &Upsert::New,
                black_box(current),
                common::now(),
            )
        })
    });
}

fn plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_store_event");
    for (name, each, reattached) in [
        ("renewal", 3, false),
        ("reattach 12 transactions", 12, true),
    ] {
        let chains = common::chains(1, each);
        let chain = chains[0].1.clone();
        let before = Chain {
            transactions: chain.transactions[..each - 1].to_vec(),
        };
        let latest = chain.transactions[each - 1]
            .transaction
            .store_transaction_id
            .clone();
        let after = common::profile(common::view(&chains, &[]));
        let previous_view = if reattached {
            ProfileAccessView::default()
        } else {
            common::view(&[(chains[0].0.clone(), before.clone())], &[])
        };
        let ownership = ChainOwnership {
            owner: Some(Claimant {
                profile_id: after.profile_id,
                identified: true,
            }),
            owner_has_access: true,
            inheritors: Vec::new(),
        };
        let touched = [Touched {
            after: &after,
            before: &previous_view,
        }];
        let input = StoreEvent {
            chain_before: &before,
            chain: &chain,
            upsert: &Upsert::New,
            store_transaction_id: &latest,
            ownership: &ownership,
            reattached,
            touched: &touched,
            now: common::now(),
        };
        group.bench_function(name, |b| {
            b.iter(|| plan_store_event(black_box(&input), &mut uuid::Uuid::new_v4))
        });
    }
    group.finish();
}

criterion_group!(benches, transaction, plan);
criterion_main!(benches);
