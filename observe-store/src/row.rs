//! Between events and rows: the column values written for an event, and a
//! stored row read back as an event through the core's reader (so the
//! compatibility rules are the reader's).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Mutex;

use observe_core::read::reader::{
    ReadError, TypeLookup, UnknownTypes, builtin_types, read_value_with,
};
use observe_core::{Event, SCHEMA_VERSION, SpanId, Timestamp};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::StoreError;

/// The columns of one event, ready to bind. Ids are kept as their text in
/// fixed buffers and names are borrowed from the event when they are
/// static: a row costs one allocation (its payload's text), not seven.
pub(crate) struct NewRow {
    /// PostgreSQL binds the id as `uuid`; SQLite uses the text.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) event_id: Uuid,
    /// SQLite binds ids as their text.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) event_id_text: Ascii<36>,
    pub(crate) event_type: &'static str,
    pub(crate) timestamp_us: i64,
    pub(crate) correlation_id: Uuid,
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) correlation_id_text: Ascii<36>,
    pub(crate) span_id: Ascii<16>,
    pub(crate) parent_span_id: Option<Ascii<16>>,
    pub(crate) processor: Option<Cow<'static, str>>,
    pub(crate) duration_us: Option<i64>,
    pub(crate) outcome: Option<&'static str>,
    pub(crate) payload: String,
    pub(crate) service_name: Option<Cow<'static, str>>,
}

/// ASCII text of a fixed length (an id as written on the wire), without
/// an allocation.
#[derive(Clone, Copy)]
pub(crate) struct Ascii<const N: usize>([u8; N]);

impl<const N: usize> Ascii<N> {
    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits, letters and `-` are ever written here.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Ascii<36> {
    /// A UUID's hyphenated lower-case text.
    fn uuid(id: &Uuid) -> Ascii<36> {
        let mut text = [0; 36];
        id.hyphenated().encode_lower(&mut text);
        Ascii(text)
    }
}

impl Ascii<16> {
    /// A span id's 16 lower-case hex digits.
    fn span(id: SpanId) -> Ascii<16> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let value = id.get();
        let mut text = [0; 16];
        for (i, digit) in text.iter_mut().enumerate() {
            *digit = DIGITS[(value >> (60 - 4 * i) & 0xf) as usize];
        }
        Ascii(text)
    }
}

impl NewRow {
    /// The columns of `event`.
    pub(crate) fn of(event: &Event) -> Result<NewRow, StoreError> {
        let payload = serde_json::to_string(&event.payload).map_err(|e| StoreError::BadRow {
            seq: 0,
            reason: format!("payload does not serialize: {e}"),
        })?;
        Ok(NewRow {
            event_id: event.event_id,
            event_id_text: Ascii::uuid(&event.event_id),
            event_type: event.event_type.as_str(),
            timestamp_us: event.timestamp.unix_micros(),
            correlation_id: event.correlation_id,
            correlation_id_text: Ascii::uuid(&event.correlation_id),
            span_id: Ascii::span(event.span_id),
            parent_span_id: event.parent_span_id.map(Ascii::span),
            processor: event.processor.clone(),
            duration_us: event
                .duration_us
                .map(|d| i64::try_from(d).unwrap_or(i64::MAX)),
            outcome: event.outcome.map(|o| o.as_str()),
            payload,
            service_name: event.service_name.clone(),
        })
    }

    /// The columns of every event of a batch.
    pub(crate) fn batch(batch: &[Event]) -> Result<Vec<NewRow>, StoreError> {
        batch.iter().map(NewRow::of).collect()
    }
}

/// The earliest timestamp of each request in a batch, for the `traces`
/// table.
pub(crate) fn trace_starts(rows: &[NewRow]) -> Vec<(Uuid, i64)> {
    let mut starts: BTreeMap<Uuid, i64> = BTreeMap::new();
    for row in rows {
        let start = starts.entry(row.correlation_id).or_insert(row.timestamp_us);
        *start = (*start).min(row.timestamp_us);
    }
    starts.into_iter().collect()
}

/// One stored row, as read.
pub(crate) struct StoredRow {
    pub(crate) seq: i64,
    pub(crate) schema_version: i64,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) timestamp_us: i64,
    pub(crate) correlation_id: String,
    pub(crate) span_id: String,
    pub(crate) parent_span_id: Option<String>,
    pub(crate) processor: Option<String>,
    pub(crate) duration_us: Option<i64>,
    pub(crate) outcome: Option<String>,
    pub(crate) payload: String,
    /// `NULL` in rows written before schema layout 2.
    pub(crate) service_name: Option<String>,
}

/// Turns rows into events under the compatibility rules, knowing the event
/// types of its registry and counting the unknown ones met.
pub(crate) struct RowReader {
    types: TypeLookup,
    unknown: Mutex<UnknownTypes>,
}

impl Default for RowReader {
    fn default() -> RowReader {
        RowReader::new(builtin_types)
    }
}

impl RowReader {
    /// A reader knowing the event types of `types`.
    pub(crate) fn new(types: TypeLookup) -> RowReader {
        RowReader {
            types,
            unknown: Mutex::new(UnknownTypes::new()),
        }
    }

    /// The event of `row`; `Ok(None)` if its type is unknown (skipped and
    /// counted).
    pub(crate) fn read(&self, row: StoredRow) -> Result<Option<Event>, StoreError> {
        let seq = row.seq;
        if row.schema_version != i64::from(SCHEMA_VERSION) {
            return Err(StoreError::UnsupportedSchemaVersion {
                seq,
                found: row.schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        let value = row.into_value()?;
        match read_value_with(value, self.types) {
            Ok(event) => Ok(Some(event)),
            Err(ReadError::UnknownEventType(name)) => {
                let mut unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
                unknown.skip_logged(&name);
                Ok(None)
            }
            Err(e) => Err(StoreError::BadRow {
                seq,
                reason: e.to_string(),
            }),
        }
    }

    /// The unknown types met so far.
    pub(crate) fn unknown_types(&self) -> BTreeMap<String, u64> {
        let unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
        unknown.counts().clone()
    }
}

impl StoredRow {
    /// The row as the JSON object of its event.
    fn into_value(self) -> Result<Value, StoreError> {
        let seq = self.seq;
        let bad = |reason: String| StoreError::BadRow { seq, reason };
        let timestamp = Timestamp::from_unix_micros(self.timestamp_us)
            .ok_or_else(|| bad(format!("timestamp {} out of range", self.timestamp_us)))?;
        let payload: Value = serde_json::from_str(&self.payload)
            .map_err(|e| bad(format!("payload is not JSON: {e}")))?;
        let mut object = Map::new();
        object.insert("schema_version".into(), self.schema_version.into());
        object.insert("event_id".into(), self.event_id.into());
        object.insert("event_type".into(), self.event_type.into());
        object.insert("timestamp".into(), timestamp.to_string().into());
        object.insert("correlation_id".into(), self.correlation_id.into());
        object.insert("span_id".into(), self.span_id.into());
        object.insert("parent_span_id".into(), self.parent_span_id.into());
        object.insert("processor".into(), self.processor.into());
        object.insert("duration_us".into(), self.duration_us.into());
        object.insert("outcome".into(), self.outcome.into());
        object.insert("payload".into(), payload);
        if let Some(service) = self.service_name {
            object.insert("service_name".into(), service.into());
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_written_as_on_the_wire() {
        let id: Uuid = "01938e5a-7b2c-7d4e-8f00-0123456789ab".parse().unwrap();
        assert_eq!(Ascii::uuid(&id).as_str(), id.to_string());
        for span in [1, 0x00f0_67aa_0ba9_02b7, u64::MAX] {
            let span = SpanId::new(span).unwrap();
            assert_eq!(Ascii::span(span).as_str(), span.to_string());
        }
    }
}
