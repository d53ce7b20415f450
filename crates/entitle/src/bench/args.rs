//! The options of `entitle bench`.

use std::path::PathBuf;

use clap::Args;

use super::scenario::Scenario;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Profiles to seed, each with 3 transactions (a free trial, its conversion, a renewal in its
    /// grace period after a billing issue) and their 5 events.
    #[arg(long, default_value_t = 100_000)]
    pub profiles: u64,
    /// Concurrent keep-alive client connections.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Requests per scenario. Each names a profile of its own, so this is capped at the
    /// profiles divided by the scenarios that need seeded ones.
    #[arg(long, default_value_t = 20_000)]
    pub requests_per_scenario: u64,
    /// Scenarios to run, comma-separated (default: all, in this order).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Scenario::ALL)]
    pub scenarios: Vec<Scenario>,
    /// Also write the report as JSON to this file.
    #[arg(long = "json-out")]
    pub json_out: Option<PathBuf>,
    /// Also write the report as Markdown to this file.
    #[arg(long = "markdown-out")]
    pub markdown_out: Option<PathBuf>,
    /// Deletes per commit tried for the storage ceiling (each on its share of the profiles);
    /// the fastest is the ceiling.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 16, 64, 256])]
    pub storage_batches: Vec<usize>,
    /// Skip the storage ceiling, which needs a copy of the seeded database (disk space and
    /// time at millions of profiles).
    #[arg(long)]
    pub no_storage_ceiling: bool,
    /// Also measure the store ceiling on SQLite (the `Store` methods in-process, as many at a
    /// time as there are clients). Always measured on PostgreSQL, where it is the ceiling.
    #[arg(long)]
    pub store_ceiling: bool,
    /// Run on a copy of this SQLite file, seeded by an earlier run instead of seeding anew
    /// (which takes tens of minutes at a million profiles). That run must have left its
    /// profiles in place: give it `--database-url sqlite://<file> --scenarios get
    /// --no-storage-ceiling`. `--profiles` must be the number it seeded; the file's contents
    /// are not changed.
    #[arg(long, value_name = "FILE")]
    pub seeded_from: Option<PathBuf>,
    /// Also run the delete scenario on a copy of this larger SQLite file (seeded by an earlier
    /// run, as for `--seeded-from`, with `--larger-profiles` profiles), on a server of its
    /// own, in rounds taking turns with the main database's: the report sets the two delete
    /// p50s side by side.
    #[arg(long, value_name = "FILE")]
    pub larger_seeded_from: Option<PathBuf>,
    /// The profiles `--larger-seeded-from` holds.
    #[arg(long, default_value_t = 1_000_000)]
    pub larger_profiles: u64,
    /// `RUST_LOG` of the server under test (default: inherited, else `info`, as in production).
    #[arg(long)]
    pub server_log: Option<String>,
}
