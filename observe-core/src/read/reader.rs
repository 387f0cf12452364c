//! Reading events as a consumer: unknown fields are ignored, an unknown event
//! type is a distinct result to log once and skip, and a newer schema version
//! is refused rather than misread.

use std::collections::BTreeMap;
use std::io::BufRead;

use crate::model::event::WireIn;
use crate::model::event_type::CustomEventType;
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

/// How a reader knows event types: a function from a wire name to a type.
///
/// [`builtin_types`] knows the built-in registry. An application that
/// declared its own types with `observe::registry!` hands its generated
/// `EventType::parse` instead (it knows the application's types and the
/// built-in ones), so that its own events are read back rather than skipped
/// as unknown.
pub type TypeLookup = fn(&str) -> Option<EventType>;

/// The built-in registry as a [`TypeLookup`]: what every reader uses unless
/// it is given an application's registry.
pub fn builtin_types(name: &str) -> Option<EventType> {
    EventType::parse(name).ok()
}

/// Every well-formed type name as a [`TypeLookup`], for tools that show the
/// events of any application without its registry (`observe
/// --custom-types`): a built-in name is its built-in type, any other name
/// that `observe::registry!` would accept is read as a custom type of that
/// name (kept for the life of the process). A name it would refuse is
/// unknown and skipped, as always; so is every new name after the first
/// 4,096, so that a store full of made-up names cannot grow the reader's
/// memory without bound.
///
/// ```
/// use observe::reader::{any_types, builtin_types};
///
/// assert_eq!(builtin_types("moderation_started"), None);
/// assert_eq!(any_types("moderation_started").unwrap().as_str(), "moderation_started");
/// assert_eq!(any_types("retrieval_started"), builtin_types("retrieval_started"));
/// assert_eq!(any_types("Not-A-Name"), None);
/// ```
pub fn any_types(name: &str) -> Option<EventType> {
    builtin_types(name).or_else(|| CustomEventType::read(name).map(EventType::Custom))
}

/// Reads one event from its JSON text, knowing the built-in types.
///
/// ```
/// use observe::reader::{read_event, ReadError};
///
/// let line = r#"{"schema_version":1,"event_id":"01938e5a-7b2c-7d4e-8f00-0123456789ab",
///   "event_type":"rerank_started","timestamp":"2026-11-27T11:14:15.000000Z",
///   "correlation_id":"01938e5a-7b2c-7d4e-8f00-0123456789ac","span_id":"00f067aa0ba902b7"}"#;
/// assert!(matches!(read_event(line), Err(ReadError::UnknownEventType(name)) if name == "rerank_started"));
/// ```
pub fn read_event(json: &str) -> Result<Event, ReadError> {
    read_event_with(json, builtin_types)
}

/// Reads one event from its JSON text, knowing the types of `types` (for
/// example an application registry's `EventType::parse`).
pub fn read_event_with(json: &str, types: TypeLookup) -> Result<Event, ReadError> {
    check(serde_json::from_str(json)?, types)
}

/// Reads one event from a JSON value holding its fields, under the same
/// rules as [`read_event`]: how a store turns a row back into an event.
///
/// ```
/// use observe::reader::read_value;
///
/// let row = serde_json::json!({
///     "schema_version": 1, "event_id": "01938e5a-7b2c-7d4e-8f00-0123456789ab",
///     "event_type": "message_received", "timestamp": "2026-11-27T11:14:15.000000Z",
///     "correlation_id": "01938e5a-7b2c-7d4e-8f00-0123456789ac", "span_id": "00f067aa0ba902b7",
/// });
/// assert_eq!(read_value(row).unwrap().event_type.as_str(), "message_received");
/// ```
pub fn read_value(value: serde_json::Value) -> Result<Event, ReadError> {
    read_value_with(value, builtin_types)
}

/// [`read_value`] knowing the types of `types`.
pub fn read_value_with(value: serde_json::Value, types: TypeLookup) -> Result<Event, ReadError> {
    check(serde_json::from_value(value)?, types)
}

fn check(wire: WireIn, types: TypeLookup) -> Result<Event, ReadError> {
    if wire.schema_version != SCHEMA_VERSION {
        return Err(ReadError::UnsupportedSchemaVersion {
            found: wire.schema_version,
        });
    }
    match types(&wire.event_type) {
        Some(event_type) => Ok(wire.into_event(event_type)),
        None => Err(ReadError::UnknownEventType(wire.event_type)),
    }
}

/// The unknown event types met so far: each name is reported once (by
/// default with a line on stderr) and every skipped event is counted.
///
/// ```
/// use observe::reader::UnknownTypes;
///
/// let mut reported = Vec::new();
/// let mut unknown = UnknownTypes::new();
/// unknown.skip("rerank_started", |name| reported.push(name.to_owned()));
/// unknown.skip("rerank_started", |name| reported.push(name.to_owned()));
/// assert_eq!(reported, ["rerank_started"]);
/// assert_eq!(unknown.counts()["rerank_started"], 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct UnknownTypes {
    counts: BTreeMap<String, u64>,
}

impl UnknownTypes {
    /// None met yet.
    pub fn new() -> UnknownTypes {
        UnknownTypes::default()
    }

    /// Counts one skipped event of type `name`, calling `report` the first
    /// time this name is met.
    pub fn skip(&mut self, name: &str, report: impl FnOnce(&str)) {
        match self.counts.get_mut(name) {
            Some(count) => *count += 1,
            None => {
                report(name);
                self.counts.insert(name.to_owned(), 1);
            }
        }
    }

    /// Counts one skipped event of type `name`, reporting a new name on
    /// stderr.
    pub fn skip_logged(&mut self, name: &str) {
        self.skip(name, log_unknown);
    }

    /// How many events of each unknown type were skipped.
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    /// How many events were skipped in all.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// The default report of a new unknown type: one line on stderr.
fn log_unknown(name: &str) {
    eprintln!("observe: skipping events of unknown type `{name}`")
}

/// Reads a JSON-lines stream of events, skipping events of unknown type.
///
/// Each unknown type name is reported once to the `on_unknown` callback (by
/// default a line on stderr) and counted; its events are skipped. Blank
/// lines are skipped. Malformed lines and unsupported versions are yielded
/// as errors, and reading goes on after them.
///
/// ```
/// use observe::reader::JsonlReader;
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
    types: TypeLookup,
    unknown: UnknownTypes,
    on_unknown: Box<dyn FnMut(&str)>,
}

impl<R: BufRead> JsonlReader<R> {
    /// A reader over `input` that reports each unknown type once on stderr.
    pub fn new(input: R) -> JsonlReader<R> {
        JsonlReader {
            input,
            line: String::new(),
            types: builtin_types,
            unknown: UnknownTypes::new(),
            on_unknown: Box::new(log_unknown),
        }
    }

    /// Reads the event types of an application's registry too: pass the
    /// `EventType::parse` that `observe::registry!` generated, and the
    /// application's own events are read instead of skipped as unknown.
    pub fn registry(mut self, types: TypeLookup) -> JsonlReader<R> {
        self.types = types;
        self
    }

    /// Calls `report` (instead of writing to stderr) the first time each
    /// unknown type name is met.
    pub fn on_unknown(mut self, report: impl FnMut(&str) + 'static) -> JsonlReader<R> {
        self.on_unknown = Box::new(report);
        self
    }

    /// How many events of each unknown type were skipped so far.
    pub fn unknown_types(&self) -> &BTreeMap<String, u64> {
        self.unknown.counts()
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
            match read_event_with(&self.line, self.types) {
                Err(ReadError::UnknownEventType(name)) => {
                    let report = &mut self.on_unknown;
                    self.unknown.skip(&name, |name| report(name));
                }
                other => return Some(other),
            }
        }
    }
}
