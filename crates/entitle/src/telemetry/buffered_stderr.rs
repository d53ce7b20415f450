//! Standard error, written in batches by a thread of its own.
//!
//! The server logs one line per request. Written straight away, each line is a `write` system
//! call on the request's worker thread: at tens of thousands of requests a second that was
//! 7% of the server's CPU for a GET (docs/performance.md). Here a line is appended to a
//! buffer in memory and a flusher thread writes whatever has gathered every
//! [`FLUSH_EVERY`], in order. No line is ever dropped: should standard error stop taking
//! bytes, writers wait once [`MAX_PENDING`] bytes are waiting, as they would have waited on
//! the system call. [`FlushGuard`] writes out the rest when the process ends.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in memory before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Bytes waiting past which the flusher is woken at once.
const FLUSH_AT: usize = 64 * 1024;
/// Bytes waiting past which writers wait for the flusher.
const MAX_PENDING: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    closing: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the flusher early: a full buffer, or the process ending.
    wake: Condvar,
    /// Wakes writers waiting for room.
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A thread that panicked while appending left whole lines behind: keep going.
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writer handed to the log subscriber.
#[derive(Clone)]
pub struct BufferedStderr {
    shared: Arc<Shared>,
}

/// Writes out whatever is still waiting, and stops the flusher, when dropped.
pub struct FlushGuard {
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

/// Starts the flusher thread; keep the guard until the last line is logged.
pub fn start() -> (BufferedStderr, FlushGuard) {
    start_with(|bytes| {
        let mut stderr = std::io::stderr().lock();
        // Nothing to report a failure to: standard error is where it would go.
        let _ = stderr.write_all(bytes);
        let _ = stderr.flush();
    })
}

fn start_with(mut sink: impl FnMut(&[u8]) + Send + 'static) -> (BufferedStderr, FlushGuard) {
    let shared = Arc::new(Shared::default());
    let flusher = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("entitle-log".into())
            .spawn(move || flush_loop(&shared, &mut sink))
            .ok()
    };
    let writer = BufferedStderr {
        shared: shared.clone(),
    };
    (writer, FlushGuard { shared, flusher })
}

fn flush_loop(shared: &Shared, sink: &mut dyn FnMut(&[u8])) {
    let mut spare = Vec::new();
    loop {
        let mut pending = shared.lock();
        if pending.bytes.len() < FLUSH_AT && !pending.closing {
            pending = shared
                .wake
                .wait_timeout(pending, FLUSH_EVERY)
                .map(|(pending, _)| pending)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        let closing = pending.closing;
        std::mem::swap(&mut pending.bytes, &mut spare);
        drop(pending);
        shared.drained.notify_all();
        if !spare.is_empty() {
            sink(&spare);
            spare.clear();
        }
        if closing && shared.lock().bytes.is_empty() {
            return;
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        match self.flusher.take() {
            Some(flusher) => {
                let _ = flusher.join();
            }
            // No flusher thread could be started: lines gathered here; write them now.
            None => {
                let bytes = std::mem::take(&mut self.shared.lock().bytes);
                let _ = std::io::stderr().write_all(&bytes);
            }
        }
    }
}

impl Write for BufferedStderr {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.shared.lock();
        while pending.bytes.len() >= MAX_PENDING && !pending.closing {
            self.shared.wake.notify_one();
            pending = self
                .shared
                .drained
                .wait(pending)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        pending.bytes.extend_from_slice(bytes);
        if pending.bytes.len() >= FLUSH_AT {
            self.shared.wake.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = BufferedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Instant;

    use super::*;

    fn collecting() -> (BufferedStderr, FlushGuard, mpsc::Receiver<Vec<u8>>) {
        let (sent, received) = mpsc::channel();
        let (writer, guard) = start_with(move |bytes| {
            let _ = sent.send(bytes.to_vec());
        });
        (writer, guard, received)
    }

    #[test]
    fn lines_from_many_threads_arrive_whole_and_each_thread_in_order() {
        let (writer, guard, received) = collecting();
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let mut writer = writer.clone();
                std::thread::spawn(move || {
                    for line in 0..2_000 {
                        writer
                            .write_all(format!("t{thread} l{line}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(received.iter().flatten().collect()).unwrap();
        let mut next = [0usize; 4];
        for line in text.lines() {
            let (thread, number) = line.split_once(' ').unwrap();
            let thread: usize = thread[1..].parse().unwrap();
            assert_eq!(number, format!("l{}", next[thread]));
            next[thread] += 1;
        }
        assert_eq!(next, [2_000; 4], "every line arrived");
    }

    #[test]
    fn a_line_is_written_within_the_flush_interval_without_the_guard() {
        let (mut writer, guard, received) = collecting();
        let started = Instant::now();
        writer.write_all(b"hello\n").unwrap();
        let first = received.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(first, b"hello\n");
        assert!(started.elapsed() < Duration::from_secs(10));
        drop(guard);
    }

    #[test]
    fn a_writer_waits_for_room_instead_of_dropping_lines() {
        // The sink is slow: writers outrun it and must wait rather than lose anything.
        let (sent, received) = mpsc::channel();
        let (mut writer, guard) = start_with(move |bytes| {
            std::thread::sleep(Duration::from_millis(5));
            let _ = sent.send(bytes.len());
        });
        let chunk = vec![b'x'; 256 * 1024];
        for _ in 0..40 {
            writer.write_all(&chunk).unwrap();
        }
        assert!(writer.shared.lock().bytes.len() <= MAX_PENDING + chunk.len());
        drop(guard);
        assert_eq!(received.iter().sum::<usize>(), 40 * chunk.len());
    }
}
