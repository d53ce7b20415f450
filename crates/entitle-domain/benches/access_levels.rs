//! Access-level computation: deriving a profile's purchases view from its chains and
//! overrides (run on every write that touches the profile), and resolving the view's access
//! levels at a moment (run on every read and every event).

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use entitle_domain::purchase::ChainForProfile;
use entitle_domain::purchase::derive_view;

fn derive(c: &mut Criterion) {
    let mut group = c.benchmark_group("derive_view");
    // The bench's seeded profile; a heavier one with several purchases and grants.
    for (name, chains, each, grants) in [
        ("1 chain x 3 transactions", 1, 3, 0),
        ("5 chains x 12 transactions + 2 grants", 5, 12, 2),
    ] {
        let chains = common::chains(chains, each);
        let overrides = common::grants(grants);
        let entries: Vec<ChainForProfile<'_>> = chains
            .iter()
            .map(|(key, chain)| ChainForProfile {
                key,
                chain,
                owned: true,
                has_access: true,
            })
            .collect();
        group.bench_function(name, |b| {
            b.iter(|| derive_view(black_box(&entries), black_box(&overrides)))
        });
    }
    group.finish();
}

fn access_levels(c: &mut Criterion) {
    let mut group = c.benchmark_group("access_levels");
    for (name, chains, each, grants) in [("1 chain", 1, 3, 0), ("5 chains + 2 grants", 5, 12, 2)] {
        let view = common::view(&common::chains(chains, each), &common::grants(grants));
        let now = common::now();
        group.bench_function(name, |b| {
            b.iter(|| black_box(&view).access_levels(black_box(now)))
        });
    }
    group.finish();
}

criterion_group!(benches, derive, access_levels);
criterion_main!(benches);
