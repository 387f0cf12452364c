//! The thin transport both exporters share: one HTTP POST of an encoded
//! body, gzipped if asked, retried as the OTLP specification says (429,
//! 502, 503, 504 and connection failures, honouring `Retry-After`), always
//! within the write's deadline.
//!
//! The HTTP client is `ureq` (blocking, rustls): the call runs on the
//! sink's own writer thread, which the pipeline gives to this sink alone,
//! and every request gets the time left until the deadline as its timeout,
//! so a hanging receiver costs at most the write timeout. Waits between
//! attempts are async sleeps, which the pipeline's own timeout can cut.

use std::io::Write;
use std::time::{Duration, Instant};

use observe_core::delivery::sink::{SinkError, scope};

use crate::ExportError;

/// The first wait between attempts without a `Retry-After`; doubled each
/// time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Most bytes of an error response quoted in a failure.
const MAX_QUOTED: usize = 300;

/// Where and how to POST.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
    content_type: &'static str,
    gzip: bool,
    /// The budget of one write when the pipeline gives no deadline (a sink
    /// called directly).
    timeout: Duration,
}

/// A successful answer: its body (an OTLP response may hold a partial
/// success).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
}

impl Transport {
    /// A transport to `url` (http or https).
    pub(crate) fn new(url: &str, content_type: &'static str) -> Result<Transport, ExportError> {
        let parsed: ureq::http::Uri = url.parse().map_err(|e| ExportError::Endpoint {
            url: url.to_owned(),
            reason: format!("{e}"),
        })?;
        match parsed.scheme_str() {
            Some("http" | "https") if parsed.host().is_some() => {}
            _ => {
                return Err(ExportError::Endpoint {
                    url: url.to_owned(),
                    reason: "expected an http:// or https:// URL with a host".to_owned(),
                });
            }
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        Ok(Transport {
            agent,
            url: url.to_owned(),
            headers: Vec::new(),
            content_type,
            gzip: false,
            timeout: Duration::from_secs(10),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn set_header(&mut self, name: &str, value: &str) -> Result<(), ExportError> {
        let bad = |reason: String| ExportError::Header {
            name: name.to_owned(),
            reason,
        };
        ureq::http::HeaderName::try_from(name).map_err(|e| bad(e.to_string()))?;
        ureq::http::HeaderValue::try_from(value).map_err(|e| bad(e.to_string()))?;
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        Ok(())
    }

    pub(crate) fn set_content_type(&mut self, content_type: &'static str) {
        self.content_type = content_type;
    }

    pub(crate) fn set_gzip(&mut self, gzip: bool) {
        self.gzip = gzip;
    }

    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// POSTs `body` until it is accepted, refused for good, or the deadline
    /// is too near for another attempt.
    pub(crate) async fn post(&self, body: Vec<u8>) -> Result<Answer, SinkError> {
        let deadline = scope::deadline().unwrap_or_else(|| Instant::now() + self.timeout);
        let body = if self.gzip { gzip(&body)? } else { body };
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1u32.. {
            let wait = match self.attempt(&body, deadline) {
                Attempt::Done(answer) => return Ok(answer),
                Attempt::Refused(why) => return Err(SinkError::new(why)),
                Attempt::Retry { why, after } => {
                    let wait = after.unwrap_or(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    if Instant::now() + wait >= deadline {
                        return Err(SinkError::new(format!(
                            "{why}; no time left for another attempt within the write timeout \
                             (after {attempt} attempts)"
                        )));
                    }
                    wait
                }
            };
            tokio::time::sleep(wait).await;
        }
        unreachable!("the loop returns")
    }

    fn attempt(&self, body: &[u8], deadline: Instant) -> Attempt {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Attempt::Refused("the write timeout passed".to_owned());
        }
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", self.content_type);
        if self.gzip {
            request = request.header("content-encoding", "gzip");
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = request.config().timeout_global(Some(left)).build();
        match request.send(body) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let after = retry_after(response.headers());
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_vec()
                    .unwrap_or_default();
                classify(status, after, body)
            }
            Err(ureq::Error::Timeout(what)) => {
                Attempt::Refused(format!("POST {} timed out ({what})", self.url))
            }
            Err(
                e @ (ureq::Error::Io(_)
                | ureq::Error::ConnectionFailed
                | ureq::Error::HostNotFound
                | ureq::Error::Protocol(_)),
            ) => Attempt::Retry {
                why: format!("POST {} failed: {e}", self.url),
                after: None,
            },
            Err(e) => Attempt::Refused(format!("POST {} failed: {e}", self.url)),
        }
    }
}

/// What one attempt came to.
#[derive(Debug)]
enum Attempt {
    Done(Answer),
    /// Not to be retried (a 4xx other than 429, a bad URL, no time left).
    Refused(String),
    /// Worth another try, after `after` if the server said.
    Retry {
        why: String,
        after: Option<Duration>,
    },
}

/// 2xx is done; 429, 502, 503 and 504 are retried; anything else is
/// refused (OTLP/HTTP specification, "Retryable Response Codes").
fn classify(status: u16, after: Option<Duration>, body: Vec<u8>) -> Attempt {
    match status {
        200..=299 => Attempt::Done(Answer { body }),
        429 | 502 | 503 | 504 => Attempt::Retry {
            why: format!("the receiver answered {status}"),
            after,
        },
        _ => {
            let quoted: String = String::from_utf8_lossy(&body)
                .chars()
                .take(MAX_QUOTED)
                .collect();
            Attempt::Refused(format!(
                "the receiver answered {status} (not retried): {quoted}"
            ))
        }
    }
}

/// `Retry-After` in seconds (an HTTP date is not honoured: the backoff
/// applies).
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn gzip(body: &[u8]) -> Result<Vec<u8>, SinkError> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    encoder.write_all(body)?;
    Ok(encoder.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_specified_statuses_are_retried() {
        for status in [429, 502, 503, 504] {
            assert!(matches!(
                classify(status, None, Vec::new()),
                Attempt::Retry { .. }
            ));
        }
        for status in [400, 401, 404, 413, 500, 501] {
            assert!(matches!(
                classify(status, None, b"bad".to_vec()),
                Attempt::Refused(_)
            ));
        }
        assert!(matches!(classify(204, None, Vec::new()), Attempt::Done(_)));
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = ureq::http::HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn urls_must_be_http_or_https() {
        assert!(Transport::new("http://127.0.0.1:4318/v1/traces", "a/b").is_ok());
        assert!(Transport::new("https://collector.example/v1/traces", "a/b").is_ok());
        assert!(Transport::new("ftp://x/y", "a/b").is_err());
        assert!(Transport::new("not a url", "a/b").is_err());
        let mut t = Transport::new("http://h/", "a/b").unwrap();
        assert!(t.set_header("bad header", "v").is_err());
        assert!(t.set_header("x-api-key", "secret").is_ok());
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read;
        let packed = gzip(b"hello hello hello").unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello hello hello");
    }
}
