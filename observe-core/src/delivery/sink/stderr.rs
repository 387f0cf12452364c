//! [`StderrSink`]: events as JSON lines on standard error.

use std::io::Write;

use super::{Sink, SinkError, write_json_lines};
use crate::Event;

/// Writes each event to standard error as one line of JSON.
///
/// ```
/// use observe::Config;
/// use observe::sink::StderrSink;
///
/// let config = Config::default().sink(StderrSink); // also the default sink
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct StderrSink;

impl Sink for StderrSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        let mut buffer = Vec::with_capacity(batch.len() * 256);
        write_json_lines(&mut buffer, batch)?;
        std::io::stderr().lock().write_all(&buffer)?;
        Ok(())
    }
}
