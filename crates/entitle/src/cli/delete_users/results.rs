//! The results file: one JSON object per line, appended as each deletion finishes.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::Context;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Deleted,
    NotFound,
    Failed { status: Option<u16>, error: String },
}

impl Outcome {
    pub fn index(&self) -> usize {
        match self {
            Outcome::Deleted => 0,
            Outcome::NotFound => 1,
            Outcome::Failed { .. } => 2,
        }
    }

    fn label(&self) -> &'static str {
        ["deleted", "not_found", "failed"][self.index()]
    }
}

pub struct ResultsFile {
    file: File,
    finished: HashSet<String>,
}

impl ResultsFile {
    /// Opens (creating) the file and reads which ids an earlier run finished.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let mut finished = HashSet::new();
        if let Ok(existing) = File::open(path) {
            for line in BufReader::new(existing).lines() {
                let line = line.with_context(|| format!("cannot read {}", path.display()))?;
                let Ok(record) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue; // a line cut short by an interrupted run
                };
                if matches!(record["status"].as_str(), Some("deleted" | "not_found"))
                    && let Some(id) = record["id"].as_str()
                {
                    finished.insert(id.to_owned());
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self { file, finished })
    }

    pub fn finished_ids(&self) -> HashSet<String> {
        self.finished.clone()
    }

    pub fn append(&mut self, id: &str, outcome: &Outcome) -> anyhow::Result<()> {
        let record = match outcome {
            Outcome::Failed { status, error } => {
                json!({"id": id, "status": outcome.label(), "http_status": status, "error": error})
            }
            _ => json!({"id": id, "status": outcome.label()}),
        };
        writeln!(self.file, "{record}").context("cannot append to the results file")?;
        Ok(())
    }
}
