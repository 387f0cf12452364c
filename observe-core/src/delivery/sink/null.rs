//! [`NullSink`]: discards everything.

use super::{Sink, SinkError};
use crate::Event;

/// Accepts every batch and keeps nothing: for benchmarks, and for measuring
/// the pipeline without a destination.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    async fn write_batch(&self, _batch: &[Event]) -> Result<(), SinkError> {
        Ok(())
    }
}
