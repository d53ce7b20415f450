//! `entitle delete-users`: deletes a list of users through the plain Adapty-compatible DELETE
//! endpoint of any server (entitle or Adapty itself), concurrently, with a progress bar.
//!
//! Every outcome is appended to a results file as it happens, so an interrupted run resumes
//! where it stopped: ids already `deleted` or `not_found` there are not sent again.

mod client;
mod results;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use client::{DeleteClient, IdKind};
use results::{Outcome, ResultsFile};

pub struct Options {
    pub url: String,
    pub api_key: String,
    pub file: PathBuf,
    pub by: IdKind,
    pub concurrency: usize,
    pub results: Option<PathBuf>,
    pub json: bool,
}

pub use client::IdKind as By;

pub async fn run(options: Options) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&options.file)
        .with_context(|| format!("cannot read {}", options.file.display()))?;
    let mut ids: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let listed = ids.len();
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    let results_path = options
        .results
        .clone()
        .unwrap_or_else(|| options.file.with_extension("results.jsonl"));
    let results = ResultsFile::open(&results_path)?;
    let done = results.finished_ids();
    let skipped = ids.iter().filter(|id| done.contains(*id)).count();
    ids.retain(|id| !done.contains(id));

    let client = Arc::new(DeleteClient::new(
        &options.url,
        &options.api_key,
        options.by,
    )?);
    let progress = ProgressBar::new(ids.len() as u64);
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} ETA {eta} {msg}",
        )
        .expect("a valid template"),
    );
    let started = Instant::now();
    let results = Arc::new(tokio::sync::Mutex::new(results));
    let mut counts = [0usize; 3];
    let mut outcomes = futures::stream::iter(ids)
        .map(|id| {
            let client = client.clone();
            async move {
                let outcome = client.delete(&id).await;
                (id, outcome)
            }
        })
        .buffer_unordered(options.concurrency.max(1));
    while let Some((id, outcome)) = outcomes.next().await {
        counts[outcome.index()] += 1;
        results.lock().await.append(&id, &outcome)?;
        progress.inc(1);
        if let Outcome::Failed { .. } = outcome {
            progress.set_message(format!("{} failed", counts[2]));
        }
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed();
    let processed = counts.iter().sum::<usize>();
    let rate = processed as f64 / elapsed.max(Duration::from_millis(1)).as_secs_f64();
    let summary = json!({
        "listed": listed,
        "deleted": counts[0],
        "not_found": counts[1],
        "failed": counts[2],
        "skipped_already_done": skipped,
        "elapsed_seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
        "per_second": (rate * 10.0).round() / 10.0,
        "results_file": results_path.display().to_string(),
    });
    if options.json {
        println!("{summary}");
    } else {
        println!(
            "deleted {}, not found {}, failed {}, skipped {} (done in an earlier run) in {:.1}s ({:.0}/s); results in {}",
            counts[0],
            counts[1],
            counts[2],
            skipped,
            elapsed.as_secs_f64(),
            rate,
            results_path.display()
        );
    }
    if counts[2] > 0 {
        anyhow::bail!(
            "{} deletions failed; run the same command again to retry them",
            counts[2]
        );
    }
    Ok(())
}
