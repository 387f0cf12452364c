//! [`MemorySink`]: keeps events in memory, for tests and examples.

use std::sync::{Arc, Mutex, PoisonError};

use super::{Sink, SinkError};
use crate::Event;

/// Keeps every written event in memory. Clones share the same store, so keep
/// one clone to read what the pipeline wrote through the other.
///
/// ```
/// use observe::sink::MemorySink;
///
/// let sink = MemorySink::new();
/// let reader = sink.clone();
/// // ... observe::init(Config::default().sink(sink)) ...
/// assert!(reader.events().is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    events: Arc<Mutex<Vec<Event>>>,
}

impl MemorySink {
    /// An empty store.
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// A copy of everything written so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many events were written so far.
    pub fn len(&self) -> usize {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything written so far.
    pub fn clear(&self) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Sink for MemorySink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(batch);
        Ok(())
    }
}
