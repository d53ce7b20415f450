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
