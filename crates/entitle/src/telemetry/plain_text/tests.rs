use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

use super::*;

/// Where a test subscriber writes.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[derive(Debug)]
struct Failure(&'static str, Option<Box<Failure>>);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.as_deref().map(|e| e as _)
    }
}

/// Every shape of event entitle and its dependencies log.
fn log_everything() {
    let method = http::Method::GET;
    tracing::info!(
        target: "entitle::request",
        request_id = "c27008c94c99301244dc07cd27aa6524",
        %method,
        route = "/api/v2/server-side-api/profile/",
        status = 200u16,
        latency_ms = 81.145902,
        app_id = %"8c09b74c-7def-4be1-b3a2-7cccced5b222",
        "request"
    );
    tracing::warn!("a plain message");
    tracing::error!(answer = 42, "the message after a field");
    tracing::info!(
        only = true,
        negative = -7i64,
        big = u128::MAX,
        ratio = 0.1 + 0.2
    );
    tracing::debug!("escapes: \x1b[31mred\x1b[0m bell \x07 c1 \u{85} del \x7f");
    tracing::trace!(
        text = "quotes \" backslash \\ newline \n tab \t ü \u{200b}",
        r#type = "raw"
    );
    tracing::info!(debugged = ?Some("x"), displayed = %"plain \" as is", "message {} {:?}", 1, "two");
    let failure = Failure("outer", Some(Box::new(Failure("inner", None))));
    tracing::error!(
        error = &failure as &(dyn std::error::Error + 'static),
        "with sources"
    );
    let single = Failure("alone", None);
    tracing::warn!(error = &single as &(dyn std::error::Error + 'static));
    let outer = tracing::info_span!("outer", id = 7, name = "x");
    let _outer = outer.enter();
    let inner = tracing::info_span!("inner", late = tracing::field::Empty);
    let _inner = inner.enter();
    tracing::info!(inside = 1, "in spans");
    inner.record("late", 3);
    tracing::info!("after a field was recorded on the span");
}

fn log_to(subscriber: impl Subscriber + Send + Sync + 'static) {
    tracing::subscriber::with_default(subscriber, log_everything);
}

#[test]
fn lines_are_those_of_the_default_format_without_colours() {
    let (default_out, plain_out) = (Buffer::default(), Buffer::default());
    log_to(
        tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_ansi(false)
            .with_writer(default_out.clone())
            .finish(),
    );
    log_to(
        tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_ansi(false)
            .event_format(PlainText)
            .fmt_fields(PlainFields)
            .with_writer(plain_out.clone())
            .finish(),
    );
    let (expected, written) = (default_out.text(), plain_out.text());
    assert_eq!(expected.lines().count(), 11, "{expected}");
    assert_eq!(written.lines().count(), 11, "{written}");
    for (expected, written) in expected.lines().zip(written.lines()) {
        // The clocks were read at different instants; the rest is the same, byte for byte.
        assert_eq!(expected[26..], written[26..]);
        assert_eq!(expected.len(), written.len());
        let stamp = time::OffsetDateTime::parse(
            &written[..27],
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or_else(|e| panic!("{written}: {e}"));
        let age = time::OffsetDateTime::now_utc() - stamp;
        assert!(age >= time::Duration::ZERO && age < time::Duration::minutes(5));
        assert_eq!(&written[19..20], ".");
    }
}
