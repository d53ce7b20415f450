//! Logs go to standard error: human-readable by default, JSON on request. Filtering follows
//! `RUST_LOG` (default `info`). Lines are written in batches by a thread of their own
//! ([`buffered_stderr`]); keep the guard [`init`] returns until the end of `main`.

mod buffered_stderr;
mod plain_text;

pub use buffered_stderr::FlushGuard;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the log subscriber; every line is written out by the time the guard is dropped.
pub fn init(format: LogFormat) -> FlushGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = buffered_stderr::start();
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(terminal);
    let _ = match format {
        // In colour for people at a terminal; elsewhere the same lines, written faster.
        LogFormat::Text if terminal => builder.try_init(),
        LogFormat::Text => builder
            .event_format(plain_text::PlainText)
            .fmt_fields(plain_text::PlainFields)
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
}
