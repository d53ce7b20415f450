//! What Linux tells about a process and the machine, from `/proc`. Every reading is optional:
//! elsewhere the report says "not measured" instead of failing the bench.

use serde::Serialize;

/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat` (100 on every
/// architecture Linux runs this on).
const TICKS_PER_SECOND: f64 = 100.0;

/// A process's counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// User + system CPU time of all its threads.
    pub cpu_seconds: f64,
    /// Bytes it passed to `write(2)` and friends (`wchar`). For SQLite that is every WAL
    /// frame and every page a checkpoint copies into the database file; a server adds its
    /// responses and log lines, a few hundred bytes per request. (`write_bytes`, pages the
    /// process dirtied, counts a 4,120-byte WAL frame as two or more 4 KiB pages and the
    /// memory-mapped WAL index on top, several times the bytes actually written.)
    pub written_bytes: u64,
}

pub fn sample(pid: u32) -> Option<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are space-separated.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
    // utime and stime are fields 14 and 15; `fields` starts at field 3.
    let cpu_seconds = (ticks(11)? + ticks(12)?) as f64 / TICKS_PER_SECOND;
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let written_bytes = io
        .lines()
        .find_map(|line| line.strip_prefix("wchar:"))
        .and_then(|value| value.trim().parse().ok())?;
    Some(Sample {
        cpu_seconds,
        written_bytes,
    })
}

/// CPU time of all a process's threads so far, in nanoseconds (`schedstat` of each task: the
/// scheduler's own count, finer than the 10 ms ticks of `stat`).
pub fn cpu_nanos(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        // A thread that ended since the listing is simply not counted.
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// Waits until each of `pids` has been quiet (under 5% of a core) for 50 ms, or until
/// `limit` has passed; returns whether they were. A server goes on working after its
/// requests are answered (a checkpoint copies the WAL into the database and syncs it, the
/// writer truncates the WAL): when two servers take turns, that work would otherwise land in
/// the other's turn.
pub async fn settle(pids: &[u32], limit: std::time::Duration) -> bool {
    const WINDOW: std::time::Duration = std::time::Duration::from_millis(50);
    const BUSY_NANOS: u64 = WINDOW.as_nanos() as u64 / 20;
    let started = std::time::Instant::now();
    let used = || pids.iter().map(|&pid| cpu_nanos(pid)).collect::<Vec<_>>();
    let mut before = used();
    while started.elapsed() < limit {
        tokio::time::sleep(WINDOW).await;
        let after = used();
        let quiet = before.iter().zip(&after).all(|pair| match pair {
            (Some(then), Some(now)) => now.saturating_sub(*then) < BUSY_NANOS,
            // Not readable (no such process, or not Linux): nothing to wait for.
            _ => true,
        });
        if quiet {
            return true;
        }
        before = after;
    }
    false
}

/// Peak resident memory (`VmHWM`) since start or since the last [`reset_peak`], in bytes.
pub fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Starts a new peak-RSS window (`echo 5 > /proc/<pid>/clear_refs`), so each scenario reports
/// its own peak. Returns false where the kernel does not allow it.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// The machine the figures were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: Option<String>,
    pub memory_mib: Option<u64>,
    pub kernel: Option<String>,
}

impl Machine {
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, model)| model.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_mib = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib / 1024);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|text| text.trim().to_owned());
        Self {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            memory_mib,
            kernel,
        }
    }
}

/// The 1-minute load average: how busy the shared machine was around a measurement.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use std::process::{Child, Command};
    use std::time::Duration;

    use super::*;

    /// Ends the child however the test ends.
    struct Reaped(Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn spawn(script: &str) -> Reaped {
        Reaped(Command::new("sh").args(["-c", script]).spawn().unwrap())
    }

    #[tokio::test]
    async fn settling_waits_for_a_busy_process_and_not_for_an_idle_one() {
        let busy = spawn("while :; do :; done");
        let idle = spawn("sleep 30");
        let limit = Duration::from_millis(400);

        let started = std::time::Instant::now();
        assert!(!settle(&[busy.0.id(), idle.0.id()], limit).await);
        assert!(started.elapsed() >= limit);
        assert!(settle(&[idle.0.id()], Duration::from_secs(5)).await);

        let spun = cpu_nanos(busy.0.id()).unwrap();
        assert!(spun > 50_000_000, "the spinning shell used {spun} ns");
        assert!(cpu_nanos(idle.0.id()).unwrap() < spun);
    }

    #[tokio::test]
    async fn a_process_that_is_gone_is_quiet() {
        let mut gone = spawn("exit 0");
        let pid = gone.0.id();
        gone.0.wait().unwrap();
        assert_eq!(cpu_nanos(pid), None);
        assert!(settle(&[pid], Duration::from_secs(1)).await);
    }
}
