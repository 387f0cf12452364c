//! Where events go: the [`Sink`] trait and the built-in sinks.
//!
//! A sink receives batches of sanitized events from the pipeline's worker,
//! on a writer thread of its own with its own runtime (a tokio
//! current-thread runtime with timers enabled), never on the application's
//! and never shared with another sink, so a sink may block that thread
//! (see [`scope::deadline`] for how long it may take). A write that returns an
//! error, panics, or exceeds the configured write timeout counts as a failed
//! write; its batch goes to the fallback writer instead.
//!
//! ```
//! use observe::Event;
//! use observe::sink::{Sink, SinkError};
//!
//! struct Stdout;
//!
//! impl Sink for Stdout {
//!     async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
//!         for event in batch {
//!             println!("{}", serde_json::to_string(event).map_err(|e| SinkError::new(e.to_string()))?);
//!         }
//!         Ok(())
//!     }
//! }
//! ```

pub mod files;
mod jsonl;
mod memory;
mod null;
pub mod scope;
mod stderr;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub use jsonl::JsonlSink;
pub use memory::MemorySink;
pub use null::NullSink;
pub use stderr::StderrSink;

use crate::Event;

/// A destination for batches of events.
///
/// Implement it with `async fn write_batch`. The returned future must be
/// `Send`; it runs on the pipeline's worker runtime.
pub trait Sink: Send + Sync + 'static {
    /// Writes one batch. The events are already sanitized and within the
    /// size limit. Return an error if the batch was not stored.
    fn write_batch(&self, batch: &[Event]) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// A short name for diagnostics and for
    /// [`SinkStats::name`](crate::delivery::pipeline::SinkStats::name);
    /// by default the type's name without its path (`JsonlSink`).
    fn name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }
}

/// `a::b::Name<c::D>` -> `Name`.
fn short_type_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Why a sink could not write (or be opened).
#[derive(Debug)]
pub struct SinkError {
    message: String,
    source: Option<std::io::Error>,
}

impl SinkError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> SinkError {
        SinkError {
            message: message.into(),
            source: None,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl From<std::io::Error> for SinkError {
    fn from(error: std::io::Error) -> SinkError {
        SinkError {
            message: error.to_string(),
            source: Some(error),
        }
    }
}

impl From<String> for SinkError {
    fn from(message: String) -> SinkError {
        SinkError::new(message)
    }
}

impl From<&str> for SinkError {
    fn from(message: &str) -> SinkError {
        SinkError::new(message)
    }
}

/// The boxed future of an erased sink write.
pub(crate) type WriteFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SinkError>> + Send + 'a>>;

/// [`Sink`] with its future boxed, so the pipeline can hold any sink as a
/// trait object.
pub(crate) trait DynSink: Send + Sync + 'static {
    fn write_boxed<'a>(&'a self, batch: &'a [Event]) -> WriteFuture<'a>;
    fn sink_name(&self) -> &'static str;
}

impl<S: Sink> DynSink for S {
    fn write_boxed<'a>(&'a self, batch: &'a [Event]) -> WriteFuture<'a> {
        Box::pin(self.write_batch(batch))
    }

    fn sink_name(&self) -> &'static str {
        self.name()
    }
}

/// Serializes events as JSON lines into `out`.
pub(crate) fn write_json_lines(out: &mut Vec<u8>, batch: &[Event]) -> Result<(), SinkError> {
    for event in batch {
        serde_json::to_writer(&mut *out, event).map_err(|e| SinkError::new(e.to_string()))?;
        out.push(b'\n');
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_names_are_short() {
        assert_eq!(super::short_type_name("a::b::JsonlSink"), "JsonlSink");
        assert_eq!(super::short_type_name("a::Wrap<b::C>"), "Wrap");
        assert_eq!(super::short_type_name("Plain"), "Plain");
    }
}
