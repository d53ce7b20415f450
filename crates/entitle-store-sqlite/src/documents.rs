//! The stored form of the large JSON documents that hold no personal data: a chain's
//! transactions, a profile's purchases view and the store facts of an event's payload.
//!
//! They are kept packed: one format byte, then a zstd frame compressed against a dictionary of
//! the documents' own field names and common values. A packed event row is a few hundred
//! bytes instead of 1.6 KB of JSON, so it stays on its b-tree page: no overflow page to read
//! during a seek, to free and zero on a delete, or to copy through the WAL (DESIGN.md §9,
//! docs/performance.md). Personal data is never packed: it stays plain text so that a byte
//! search of the database files proves a deletion left none of it (DESIGN.md §4.5).
//!
//! The purchases view, read on every GET, is kept in a binary form instead (postcard: serde's
//! compact encoding, no field names, date-times as integers), which reads several times faster
//! than JSON and needs no decompression.
//!
//! Rows written before packing hold plain JSON text; every form is read.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::thread::LocalKey;

use entitle_domain::purchase::ProfileAccessView;
use entitle_store::{StoreError, StoreResult};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// The first byte of a packed document: zstd with `DICTIONARY_V1`. The dictionary of a format
/// can never change once a document was written with it; a better one is a new format byte.
const FORMAT_V1: u8 = 1;
/// The first byte of a binary document: postcard, uncompressed. Postcard carries no field
/// names, so the layout of a type written in a format can never change: a changed type is a
/// new format byte, with the old layout kept to read older rows. The tests pin the bytes of
/// a view in each (`a_binary_view_keeps_its_layout`). The first layout of the purchases view
/// (`documents/layout_v1.rs`) lacked the candidates' store country and variation.
const FORMAT_BINARY_V1: u8 = 2;
const FORMAT_BINARY_V2: u8 = 3;
const DICTIONARY_V1: &[u8] = include_bytes!("documents/dictionary-v1.json");
/// Fast to compress (a write packs several documents) and still small; see docs/performance.md.
const LEVEL: i32 = 3;
/// Documents are bounded by the 1 MiB request body; anything claiming more is corrupt.
const MAX_DOCUMENT: usize = 16 << 20;

fn encoder_dictionary() -> &'static EncoderDictionary<'static> {
    static DICTIONARY: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    DICTIONARY.get_or_init(|| EncoderDictionary::copy(DICTIONARY_V1, LEVEL))
}

fn decoder_dictionary() -> &'static DecoderDictionary<'static> {
    static DICTIONARY: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    DICTIONARY.get_or_init(|| DecoderDictionary::copy(DICTIONARY_V1))
}

thread_local! {
    // A compression context is worth reusing: making one costs more than packing a document.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} unreadable: {detail}"))
}

/// Runs `work` with this thread's (de)compression context, made by `make` on first use.
fn with_context<C: 'static, R>(
    context: &'static LocalKey<RefCell<Option<C>>>,
    make: impl FnOnce() -> std::io::Result<C>,
    work: impl FnOnce(&mut C) -> StoreResult<R>,
) -> StoreResult<R> {
    context.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let made = make()
                .map_err(|e| StoreError::Backend(format!("cannot start (de)compression: {e}")))?;
            *slot = Some(made);
        }
        work(slot.as_mut().expect("set above"))
    })
}

/// Packs raw JSON bytes.
pub fn pack_json(json: &[u8]) -> StoreResult<Vec<u8>> {
    let make = || Compressor::with_prepared_dictionary(encoder_dictionary());
    with_context(&COMPRESSOR, make, |compressor| {
        let frame = compressor
            .compress(json)
            .map_err(|e| StoreError::Backend(format!("cannot pack a document: {e}")))?;
        let mut packed = Vec::with_capacity(frame.len() + 1);
        packed.push(FORMAT_V1);
        packed.extend_from_slice(&frame);
        Ok(packed)
    })
}

/// Packs a value as JSON.
pub fn pack<T: Serialize + ?Sized>(value: &T) -> StoreResult<Vec<u8>> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()))?;
    pack_json(&json)
}

/// Packs a value in the binary form (for the purchases view: see the module's note).
pub fn pack_binary<T: Serialize + ?Sized>(value: &T) -> StoreResult<Vec<u8>> {
    postcard::to_extend(value, vec![FORMAT_BINARY_V2])
        .map_err(|e| StoreError::Backend(format!("cannot pack a document: {e}")))
}

/// A document column as read: packed bytes, or the plain JSON text of an older row.
#[derive(Debug, Clone)]
pub enum Document {
    Packed(Vec<u8>),
    Plain(String),
}

impl FromSql for Document {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Blob(bytes) => Ok(Document::Packed(bytes.to_vec())),
            ValueRef::Text(text) => std::str::from_utf8(text)
                .map(|text| Document::Plain(text.to_owned()))
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl Document {
    pub fn decode<T: DeserializeOwned>(&self, what: &str) -> StoreResult<T> {
        match self {
            Document::Plain(text) => serde_json::from_str(text).map_err(|e| corrupt(what, e)),
            Document::Packed(bytes) => match bytes.split_first() {
                Some((&FORMAT_BINARY_V2, encoded)) => from_binary(encoded, what),
                _ => {
                    let json = unpack_json(bytes, what)?;
                    serde_json::from_slice(&json).map_err(|e| corrupt(what, e))
                }
            },
        }
    }
}

impl Document {
    /// A profile's purchases view, in whichever form its row was written.
    pub fn decode_view(&self) -> StoreResult<ProfileAccessView> {
        const WHAT: &str = "purchases view";
        match self {
            Document::Packed(bytes) if bytes.first() == Some(&FORMAT_BINARY_V1) => {
                from_binary::<layout_v1::ViewV1>(&bytes[1..], WHAT).map(Into::into)
            }
            _ => self.decode(WHAT),
        }
    }
}

fn from_binary<T: DeserializeOwned>(encoded: &[u8], what: &str) -> StoreResult<T> {
    match postcard::take_from_bytes(encoded) {
        Ok((value, [])) => Ok(value),
        Ok(_) => Err(corrupt(what, "bytes after the document")),
        Err(e) => Err(corrupt(what, e)),
    }
}

fn unpack_json(bytes: &[u8], what: &str) -> StoreResult<Vec<u8>> {
    let Some((&FORMAT_V1, frame)) = bytes.split_first() else {
        return Err(corrupt(what, "unknown format"));
    };
    let size = zstd::zstd_safe::get_frame_content_size(frame)
        .map_err(|_| corrupt(what, "not a zstd frame"))?
        .ok_or_else(|| corrupt(what, "no content size"))?;
    let size = usize::try_from(size)
        .ok()
        .filter(|&size| size <= MAX_DOCUMENT)
        .ok_or_else(|| corrupt(what, "implausible size"))?;
    let make = || Decompressor::with_prepared_dictionary(decoder_dictionary());
    with_context(&DECOMPRESSOR, make, |decompressor| {
        decompressor
            .decompress(frame, size)
            .map_err(|e| corrupt(what, e))
    })
}

/// An event payload as stored: the store facts packed, the personal fields as plain JSON text
/// (`None` when it has none, as in `profile_deleted`).
pub fn store_payload(mut payload: serde_json::Value) -> StoreResult<(Vec<u8>, Option<String>)> {
    // The properties null in every event are not kept (`events/unknown.rs` in the domain).
    entitle_domain::events::omit_unknown(&mut payload);
    let (facts, personal) = entitle_domain::events::split_personal(payload);
    let personal = if personal.is_empty() {
        None
    } else {
        Some(serde_json::Value::Object(personal).to_string())
    };
    Ok((pack(&facts)?, personal))
}

/// The inverse of `store_payload`; an older row holds the whole payload as plain text.
pub fn read_payload(facts: &Document, personal: Option<&str>) -> StoreResult<serde_json::Value> {
    let facts: serde_json::Value = facts.decode("event payload")?;
    let personal = match personal {
        None => serde_json::Map::new(),
        Some(text) => serde_json::from_str(text).map_err(|e| corrupt("event payload", e))?,
    };
    let mut payload = entitle_domain::events::join_personal(facts, personal);
    entitle_domain::events::restore_unknown(&mut payload);
    Ok(payload)
}

mod layout_v1;

#[cfg(test)]
mod tests;
