//! [`ZipkinSink`]: Zipkin v2 JSON to `/api/v2/spans`; the mapping is
//! [`crate::mapping`], the encoding [`encode`], the transport shared with
//! OTLP.

pub mod encode;

use std::time::Duration;

use observe_core::Event;
use observe_core::delivery::sink::{Sink, SinkError};

use crate::env::{self, Lookup};
use crate::transport::Transport;
use crate::{ExportError, mapping};

/// The Zipkin default: a local collector.
const DEFAULT_ENDPOINT: &str = "http://localhost:9411/api/v2/spans";

/// Sends each batch's spans to a Zipkin collector (or anything that speaks
/// Zipkin v2: Jaeger's Zipkin port, the OpenTelemetry Collector's `zipkin`
/// receiver), retrying like [`OtlpSink`](crate::OtlpSink).
///
/// ```
/// use observe::export::ZipkinSink;
///
/// let sink = ZipkinSink::new("http://127.0.0.1:9411/api/v2/spans")?.service_name("chat");
/// assert_eq!(sink.url(), "http://127.0.0.1:9411/api/v2/spans");
/// # Ok::<(), observe::export::ExportError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ZipkinSink {
    transport: Transport,
    service_name: String,
}

impl ZipkinSink {
    /// A sink posting to exactly `url` (the full path, as for
    /// `OTEL_EXPORTER_ZIPKIN_ENDPOINT`).
    pub fn new(url: &str) -> Result<ZipkinSink, ExportError> {
        Ok(ZipkinSink {
            transport: Transport::new(url, "application/json")?,
            service_name: env::default_service_name(),
        })
    }

    /// A sink set up from `OTEL_EXPORTER_ZIPKIN_ENDPOINT` (default
    /// `http://localhost:9411/api/v2/spans`), `OTEL_EXPORTER_ZIPKIN_TIMEOUT`
    /// (ms), and `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` for the
    /// service name.
    pub fn from_env() -> Result<ZipkinSink, ExportError> {
        ZipkinSink::from_lookup(&env::process)
    }

    pub(crate) fn from_lookup(lookup: Lookup<'_>) -> Result<ZipkinSink, ExportError> {
        let url =
            lookup("OTEL_EXPORTER_ZIPKIN_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let mut sink = ZipkinSink::new(url.trim())?;
        if let Some(timeout) = lookup("OTEL_EXPORTER_ZIPKIN_TIMEOUT") {
            sink = sink.timeout(env::millis("OTEL_EXPORTER_ZIPKIN_TIMEOUT", &timeout)?);
        }
        let resource = env::resource(lookup, &env::default_service_name())?;
        sink.service_name = resource[0].1.clone();
        Ok(sink)
    }

    /// `localEndpoint.serviceName` for events that name no service
    /// (default: the executable's name). Events delivered by a pipeline
    /// carry their own (`Config::service_name`), which wins.
    pub fn service_name(mut self, name: impl Into<String>) -> ZipkinSink {
        self.service_name = name.into();
        self
    }

    /// Sends this header with every request.
    pub fn header(mut self, name: &str, value: &str) -> Result<ZipkinSink, ExportError> {
        self.transport.set_header(name, value)?;
        Ok(self)
    }

    /// Gzips request bodies; off by default.
    pub fn gzip(mut self, gzip: bool) -> ZipkinSink {
        self.transport.set_gzip(gzip);
        self
    }

    /// How long one write may take when the pipeline sets no deadline.
    pub fn timeout(mut self, timeout: Duration) -> ZipkinSink {
        self.transport.set_timeout(timeout);
        self
    }

    /// Where requests go.
    pub fn url(&self) -> &str {
        self.transport.url()
    }

    /// The configured service name.
    pub fn get_service_name(&self) -> &str {
        &self.service_name
    }

    /// The JSON body for a batch, or `None` when it maps to no span.
    pub fn encode(&self, batch: &[Event]) -> Result<Option<Vec<u8>>, SinkError> {
        let spans = mapping::map_batch(batch);
        if spans.is_empty() {
            return Ok(None);
        }
        let mut body = Vec::with_capacity(spans.len() * 768);
        serde_json::to_writer(&mut body, &encode::spans(&self.service_name, spans))
            .map(|()| Some(body))
            .map_err(|e| SinkError::new(format!("encoding Zipkin JSON failed: {e}")))
    }
}

impl Sink for ZipkinSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        if let Some(body) = self.encode(batch)? {
            self.transport.post(body).await?;
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "zipkin"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_env_reads_the_endpoint_and_service() {
        let lookup = |name: &str| match name {
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT" => Some("http://zipkin:9411/api/v2/spans".to_owned()),
            "OTEL_SERVICE_NAME" => Some("chat".to_owned()),
            _ => None,
        };
        let sink = ZipkinSink::from_lookup(&lookup).unwrap();
        assert_eq!(sink.url(), "http://zipkin:9411/api/v2/spans");
        assert_eq!(sink.get_service_name(), "chat");
        assert_eq!(
            ZipkinSink::from_lookup(&|_| None).unwrap().url(),
            DEFAULT_ENDPOINT
        );
    }
}
