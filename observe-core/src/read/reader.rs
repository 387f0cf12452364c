//! Reading events as a consumer: unknown fields are ignored, an unknown event
//! type is a distinct result to log once and skip, and a newer schema version
//! is refused rather than misread.

use std::collections::BTreeMap;
use std::io::BufRead;

use crate::model::event::WireIn;
use crate::{Event, EventType, SCHEMA_VERSION};

/// Why one event could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The event is well-formed but its type is not in this reader's
    /// registry: log it and skip the event.
    #[error("unknown event type `{0}`")]
    UnknownEventType(String),
    /// The event was written with a schema version this reader cannot read.
    #[error("unsupported schema_version {found} (this reader reads {SCHEMA_VERSION})")]
    UnsupportedSchemaVersion {
        /// The version found in the event.
        found: u32,
    },
    /// The text is not a valid version-1 event.
    #[error("malformed event: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Reading the input failed.
    #[error("reading events failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one event from its JSON text.
///
/// ```
/// use observe_core::read::reader::{read_event, ReadError};
///
/// let line = r#"{"schema_version":1,"event_id":"01938e5a-7b2c-7d4e-8f00-0123456789ab",
///   "event_type":"rerank_started","timestamp":"2026-11-27T11:14:15.000000Z",
///   "correlation_id":"01938e5a-7b2c-7d4e-8f00-0123456789ac","span_id":"00f067aa0ba902b7"}"#;
/// assert!(matches!(read_event(line), Err(ReadError::UnknownEventType(name)) if name == "rerank_started"));
/// ```
pub fn read_event(json: &str) -> Result<Event, ReadError> {
    let wire: WireIn = serde_json::from_str(json)?;
    if wire.schema_version != SCHEMA_VERSION {
        return Err(ReadError::UnsupportedSchemaVersion {
            found: wire.schema_version,
        });
    }
    match EventType::parse(&wire.event_type) {
        Ok(event_type) => Ok(wire.into_event(event_type)),
        Err(unknown) => Err(ReadError::UnknownEventType(unknown.name)),
    }
}

/// Reads a JSON-lines stream of events, skipping events of unknown type.
///
/// Each unknown type name is reported once to the `on_unknown` callback (by
/// default a line on stderr) and counted; its events are skipped. Blank
/// lines are skipped. Malformed lines and unsupported versions are yielded
/// as errors, and reading goes on after them.
///
/// ```
/// use observe_core::read::reader::JsonlReader;
///
/// let text = "{\"schema_version\":1,\"event_id\":\"01938e5a-7b2c-7d4e-8f00-0123456789ab\",\
///   \"event_type\":\"future_type\",\"timestamp\":\"2026-11-27T11:14:15.000000Z\",\
///   \"correlation_id\":\"01938e5a-7b2c-7d4e-8f00-0123456789ac\",\"span_id\":\"00f067aa0ba902b7\"}\n";
/// let mut reader = JsonlReader::new(text.as_bytes()).on_unknown(|_| {});
/// assert!(reader.next().is_none());
/// assert_eq!(reader.unknown_types()["future_type"], 1);
/// ```
pub struct JsonlReader<R> {
    input: R,
    line: String,
    unknown: BTreeMap<String, u64>,
    on_unknown: Box<dyn FnMut(&str)>,
}

impl<R: BufRead> JsonlReader<R> {
    /// A reader over `input` that reports each unknown type once on stderr.
    pub fn new(input: R) -> JsonlReader<R> {
        JsonlReader {
            input,
            line: String::new(),
            unknown: BTreeMap::new(),
            on_unknown: Box::new(|name| {
                eprintln!("observe: skipping events of unknown type `{name}`")
            }),
        }
    }

    /// Calls `report` (instead of writing to stderr) the first time each
    /// unknown type name is met.
    pub fn on_unknown(mut self, report: impl FnMut(&str) + 'static) -> JsonlReader<R> {
        self.on_unknown = Box::new(report);
        self
    }

    /// How many events of each unknown type were skipped so far.
    pub fn unknown_types(&self) -> &BTreeMap<String, u64> {
        &self.unknown
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Result<Event, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.line.clear();
            match self.input.read_line(&mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(ReadError::Io(e))),
            }
            if self.line.trim().is_empty() {
                continue;
            }
            match read_event(&self.line) {
                Err(ReadError::UnknownEventType(name)) => match self.unknown.get_mut(&name) {
                    Some(count) => *count += 1,
                    None => {
                        (self.on_unknown)(&name);
                        self.unknown.insert(name, 1);
                    }
                },
                other => return Some(other),
            }
        }
    }
}
