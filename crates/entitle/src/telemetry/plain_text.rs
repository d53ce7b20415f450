//! The text log format when standard error is not a terminal: the lines tracing-subscriber's
//! default format writes without colours, byte for byte (the tests hold the two equal), written
//! without its general machinery. That machinery styled every field name and `=` with an empty
//! colour and formatted every value through `core::fmt`: about 12,000 instructions for a
//! request's line, a tenth of everything a GET costs (callgrind, docs/performance.md).
//!
//! The line: time (UTC, microseconds), level padded to five, the spans (`name{fields}:`, from
//! the root), target, `: `, then the message and `name=value` fields separated by spaces.
//! Values are written as their `Debug` renderings, strings quoted; the message has terminal
//! control characters escaped, as in the default format. Rare shapes (errors, which list their
//! sources) are handed to the default field writer itself.

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events (see the module's documentation).
pub struct PlainText;

/// Formats the fields of events and spans (see the module's documentation).
pub struct PlainFields;

impl<S, N> FormatEvent<S, N> for PlainText
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events from the `log` crate carry their real level and target as fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        write_utc_now(&mut writer)?;
        writer.write_char(' ')?;
        writer.write_str(level_label(meta.level()))?;
        writer.write_char(' ')?;
        if let Some(scope) = ctx.event_scope() {
            let mut any = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                any = true;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                writer.write_char(':')?;
            }
            if any {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = FieldWriter {
            writer,
            is_empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// The level as the default format pads it.
fn level_label(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, now, as the default format's clock writes it.
fn write_utc_now(writer: &mut Writer<'_>) -> fmt::Result {
    let now = time::OffsetDateTime::now_utc();
    let mut text = [0u8; 27];
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut value = value;
        for place in (at..at + digits).rev() {
            text[place] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    let year = now.year();
    if !(0..=9999).contains(&year) {
        // Outside four digits, the default clock itself (which writes a sign and more digits).
        return tracing_subscriber::fmt::time::FormatTime::format_time(
            &tracing_subscriber::fmt::time::SystemTime,
            writer,
        );
    }
    put(0, year as u32, 4);
    put(5, u32::from(u8::from(now.month())), 2);
    put(8, u32::from(now.day()), 2);
    put(11, u32::from(now.hour()), 2);
    put(14, u32::from(now.minute()), 2);
    put(17, u32::from(now.second()), 2);
    put(20, now.microsecond(), 6);
    for (at, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        text[at] = separator;
    }
    text[19] = b'.';
    text[26] = b'Z';
    writer.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
}

struct FieldWriter<'writer> {
    writer: Writer<'writer>,
    is_empty: bool,
    result: fmt::Result,
}

impl FieldWriter<'_> {
    /// Whether the field is written at all: `log.*` fields were already used for the
    /// level and target.
    fn skips(&self, field: &Field) -> bool {
        self.result.is_err() || field.name().starts_with("log.")
    }

    fn pad(&mut self) -> fmt::Result {
        if self.is_empty {
            self.is_empty = false;
            Ok(())
        } else {
            self.writer.write_char(' ')
        }
    }

    /// A space before all but the first, then `name=` (a raw identifier without its `r#`).
    fn write_name(&mut self, field: &Field) -> fmt::Result {
        self.pad()?;
        let name = field.name();
        self.writer
            .write_str(name.strip_prefix("r#").unwrap_or(name))?;
        self.writer.write_char('=')
    }

    fn write_message(&mut self, message: fmt::Arguments<'_>) -> fmt::Result {
        self.pad()?;
        if self.writer.sanitizes_ansi_escapes() {
            EscapeControls(&mut self.writer).write_fmt(message)
        } else {
            self.writer.write_fmt(message)
        }
    }
}

impl Visit for FieldWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.skips(field) {
            return;
        }
        self.result = if field.name() == "message" {
            self.write_message(format_args!("{value}"))
        } else {
            self.write_name(field)
                .and_then(|()| write_quoted(&mut self.writer, value))
        };
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.skips(field) {
            return;
        }
        self.result = if field.name() == "message" {
            self.write_message(format_args!("{value:?}"))
        } else {
            self.write_name(field)
                .and_then(|()| write!(self.writer, "{value:?}"))
        };
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.skips(field) {
            return;
        }
        let mut default = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        default.record_error(field, value);
        self.is_empty = false;
        self.result = tracing_subscriber::field::VisitOutput::finish(default);
    }
}

/// A string as `Debug` renders it: quoted, and as it is when nothing in it needs escaping.
fn write_quoted(writer: &mut Writer<'_>, value: &str) -> fmt::Result {
    let plain = value
        .bytes()
        .all(|byte| (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\');
    if plain {
        writer.write_char('"')?;
        writer.write_str(value)?;
        writer.write_char('"')
    } else {
        write!(writer, "{value:?}")
    }
}

/// Writes through, escaping the control characters a terminal would act on, as the default
/// format does for messages.
struct EscapeControls<'a, 'writer>(&'a mut Writer<'writer>);

impl Write for EscapeControls<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if !text.chars().any(is_escaped) {
            return self.0.write_str(text);
        }
        for ch in text.chars() {
            match ch {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                ch if is_c1(ch) => write!(self.0, "\\u{{{:x}}}", ch as u32)?,
                ch => self.0.write_char(ch)?,
            }
        }
        Ok(())
    }
}

fn is_escaped(ch: char) -> bool {
    matches!(ch, '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f') || is_c1(ch)
}

/// The 8-bit control codes, U+0080 to U+009F.
fn is_c1(ch: char) -> bool {
    ('\u{80}'..='\u{9f}').contains(&ch)
}

#[cfg(test)]
mod tests;
