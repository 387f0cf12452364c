//! [`OtlpSink`]: OTLP/HTTP to `/v1/traces`, protobuf by default or JSON,
//! optionally gzipped; the mapping is [`crate::mapping`], the encoding
//! [`encode`], the transport shared with Zipkin.

pub mod encode;

use std::time::Duration;

use observe_core::Event;
use observe_core::delivery::sink::{Sink, SinkError, scope};

use crate::env::{self, Lookup};
use crate::transport::Transport;
use crate::{ExportError, mapping};

/// The OTLP/HTTP encodings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `application/x-protobuf` (`http/protobuf`), the default.
    #[default]
    Protobuf,
    /// `application/json` (`http/json`).
    Json,
}

impl OtlpProtocol {
    fn content_type(self) -> &'static str {
        match self {
            OtlpProtocol::Protobuf => "application/x-protobuf",
            OtlpProtocol::Json => "application/json",
        }
    }

    /// `http/protobuf` or `http/json`, as in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn parse(text: &str) -> Result<OtlpProtocol, ExportError> {
        match text.trim() {
            "http/protobuf" => Ok(OtlpProtocol::Protobuf),
            "http/json" => Ok(OtlpProtocol::Json),
            other => Err(ExportError::Environment {
                name: "OTEL_EXPORTER_OTLP_PROTOCOL".to_owned(),
                reason: format!(
                    "`{other}` is not supported; use http/protobuf or http/json (gRPC is not built in)"
                ),
            }),
        }
    }
}

/// Sends each batch's spans to an OTLP/HTTP receiver (an OpenTelemetry
/// Collector, Jaeger, Grafana Tempo, ...) as one `ExportTraceServiceRequest`.
///
/// A 429, 502, 503 or 504 answer (or a failed connection) is retried,
/// after its `Retry-After` when it has one, for as long as the pipeline's
/// write timeout allows; any other error answer fails the write at once. A
/// partial success is counted in the sink's
/// [`SinkStats::rejected`](observe_core::delivery::pipeline::SinkStats::rejected)
/// and reported on the pipeline's diagnostics.
///
/// ```
/// use observe::export::{OtlpProtocol, OtlpSink};
///
/// let sink = OtlpSink::new("http://127.0.0.1:4318")?
///     .protocol(OtlpProtocol::Json)
///     .gzip(true)
///     .header("x-api-key", "secret")?
///     .service_name("chat");
/// assert_eq!(sink.url(), "http://127.0.0.1:4318/v1/traces");
/// # Ok::<(), observe::export::ExportError>(())
/// ```
#[derive(Clone, Debug)]
pub struct OtlpSink {
    transport: Transport,
    protocol: OtlpProtocol,
    resource: Vec<(String, String)>,
}

impl OtlpSink {
    /// A sink for the receiver at `endpoint` (`http://host:4318`), to which
    /// `/v1/traces` is appended, as for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn new(endpoint: &str) -> Result<OtlpSink, ExportError> {
        OtlpSink::with_traces_url(&env::append_traces_path(endpoint))
    }

    /// A sink posting to exactly `url`, as for
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
    pub fn with_traces_url(url: &str) -> Result<OtlpSink, ExportError> {
        let protocol = OtlpProtocol::default();
        Ok(OtlpSink {
            transport: Transport::new(url, protocol.content_type())?,
            protocol,
            resource: vec![("service.name".to_owned(), env::default_service_name())],
        })
    }

    /// A sink set up from the standard variables:
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (default `http://localhost:4318`), `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`,
    /// `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`, `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION`
    /// (`gzip` or `none`), `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT` (ms),
    /// `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`. A malformed value
    /// is an error naming the variable.
    pub fn from_env() -> Result<OtlpSink, ExportError> {
        OtlpSink::from_lookup(&env::process)
    }

    pub(crate) fn from_lookup(lookup: Lookup<'_>) -> Result<OtlpSink, ExportError> {
        let mut sink = OtlpSink::with_traces_url(&env::otlp_traces_url(lookup))?;
        if let Some(protocol) = env::traces_or_general(lookup, "PROTOCOL") {
            sink = sink.protocol(OtlpProtocol::parse(&protocol)?);
        }
        if let Some(headers) = env::traces_or_general(lookup, "HEADERS") {
            for (name, value) in env::key_values("OTEL_EXPORTER_OTLP_HEADERS", &headers)? {
                sink = sink.header(&name, &value)?;
            }
        }
        if let Some(compression) = env::traces_or_general(lookup, "COMPRESSION") {
            sink = sink.gzip(parse_compression(&compression)?);
        }
        if let Some(timeout) = env::traces_or_general(lookup, "TIMEOUT") {
            sink = sink.timeout(env::millis("OTEL_EXPORTER_OTLP_TIMEOUT", &timeout)?);
        }
        sink.resource = env::resource(lookup, &env::default_service_name())?;
        Ok(sink)
    }

    /// Protobuf (the default) or JSON.
    pub fn protocol(mut self, protocol: OtlpProtocol) -> OtlpSink {
        self.protocol = protocol;
        self.transport.set_content_type(protocol.content_type());
        self
    }

    /// Gzips request bodies (`Content-Encoding: gzip`); off by default, as
    /// in the OTLP specification.
    pub fn gzip(mut self, gzip: bool) -> OtlpSink {
        self.transport.set_gzip(gzip);
        self
    }

    /// Sends this header with every request (an API key, a tenant id).
    pub fn header(mut self, name: &str, value: &str) -> Result<OtlpSink, ExportError> {
        self.transport.set_header(name, value)?;
        Ok(self)
    }

    /// The resource's `service.name` for events that name no service
    /// (default: the executable's name). Events delivered by a pipeline
    /// carry their own (`Config::service_name`), which wins: each batch
    /// is sent as one resource per service.
    pub fn service_name(mut self, name: impl Into<String>) -> OtlpSink {
        self.resource[0].1 = name.into();
        self
    }

    /// One more resource attribute, such as `deployment.environment`.
    pub fn resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> OtlpSink {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// How long one write may take, retries included, when the pipeline
    /// sets no deadline (it always does: its write timeout). Default 10 s.
    pub fn timeout(mut self, timeout: Duration) -> OtlpSink {
        self.transport.set_timeout(timeout);
        self
    }

    /// Where requests go.
    pub fn url(&self) -> &str {
        self.transport.url()
    }

    /// The configured encoding.
    pub fn get_protocol(&self) -> OtlpProtocol {
        self.protocol
    }

    /// The resource attributes, `service.name` first.
    pub fn resource(&self) -> &[(String, String)] {
        &self.resource
    }

    /// The encoded request for a batch (what [`Sink::write_batch`] sends,
    /// before gzip), or `None` when the batch maps to no span.
    pub fn encode(&self, batch: &[Event]) -> Result<Option<Vec<u8>>, SinkError> {
        let spans = mapping::map_batch(batch);
        if spans.is_empty() {
            return Ok(None);
        }
        let request = encode::request(&self.resource, spans);
        match self.protocol {
            OtlpProtocol::Protobuf => Ok(Some(encode::to_protobuf(&request))),
            OtlpProtocol::Json => encode::to_json(&request)
                .map(Some)
                .map_err(|e| SinkError::new(format!("encoding OTLP JSON failed: {e}"))),
        }
    }
}

impl Sink for OtlpSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        let Some(body) = self.encode(batch)? else {
            return Ok(());
        };
        let answer = self.transport.post(body).await?;
        let json = self.protocol == OtlpProtocol::Json;
        if let Some((count, message)) = encode::rejected(&answer.body, json) {
            scope::report_rejected(count, format_args!("OTLP partial success: {message}"));
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "otlp"
    }
}

/// `gzip` or `none`.
pub(crate) fn parse_compression(text: &str) -> Result<bool, ExportError> {
    match text.trim() {
        "gzip" => Ok(true),
        "none" => Ok(false),
        other => Err(ExportError::Environment {
            name: "OTEL_EXPORTER_OTLP_COMPRESSION".to_owned(),
            reason: format!("`{other}` is not gzip or none"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn from_env_reads_every_variable() {
        let vars: HashMap<&str, &str> = [
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://collector.example:4318",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=k%3D1"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_SERVICE_NAME", "chat"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod"),
        ]
        .into_iter()
        .collect();
        let lookup = |name: &str| vars.get(name).map(|v| v.to_string());
        let sink = OtlpSink::from_lookup(&lookup).unwrap();
        assert_eq!(sink.url(), "https://collector.example:4318/v1/traces");
        assert_eq!(sink.get_protocol(), OtlpProtocol::Json);
        assert_eq!(
            sink.resource(),
            [
                ("service.name".to_owned(), "chat".to_owned()),
                ("deployment.environment".to_owned(), "prod".to_owned())
            ]
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let grpc = |name: &str| (name == "OTEL_EXPORTER_OTLP_PROTOCOL").then(|| "grpc".to_owned());
        let error = OtlpSink::from_lookup(&grpc).unwrap_err().to_string();
        assert!(error.contains("OTEL_EXPORTER_OTLP_PROTOCOL"), "{error}");
        let bad = |name: &str| (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "4318".to_owned());
        assert!(OtlpSink::from_lookup(&bad).is_err());
    }
}
