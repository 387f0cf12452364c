//! Auth (a token is required off loopback, then on every route but
//! `/metrics`), the JSON API, and `/metrics` parsed as Prometheus text.

mod common;

use common::{get, start};
use observe_serve::{ServeError, ServeOptions, serve};
use observe_store::StoreUrl;

#[tokio::test]
async fn a_non_loopback_bind_without_a_token_refuses_to_start() {
    let mut options = ServeOptions::new(StoreUrl::sqlite("/nonexistent/events.db"));
    options.bind = "0.0.0.0:0".parse().unwrap();
    let error = serve(options).await.unwrap_err();
    assert!(matches!(error, ServeError::TokenRequired(_)));
    let message = error.to_string();
    assert!(
        message.contains("--token") && message.contains("OBSERVE_TOKEN"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_requests_without_it_get_401() {
    let server = start("auth", Some("s3cret")).await;
    for path in ["/", "/api/v1/traces", "/api/v1/stats", "/api/v1/stream"] {
        let (status, _) = get(&server.url(path), &[]).await;
        assert_eq!(status.as_u16(), 401, "{path}");
        let (status, _) = get(&server.url(path), &[("Authorization", "Bearer wrong")]).await;
        assert_eq!(status.as_u16(), 401, "{path} with a wrong token");
    }
    let (status, _) = get(
        &server.url("/api/v1/traces"),
        &[("Authorization", "Bearer s3cret")],
    )
    .await;
    assert_eq!(status.as_u16(), 200);
    let (status, _) = get(
        &server.url("/api/v1/stats"),
        &[("Cookie", "observe_token=s3cret")],
    )
    .await;
    assert_eq!(status.as_u16(), 200);
    let (status, _) = get(&server.url("/metrics"), &[]).await;
    assert_eq!(status.as_u16(), 200, "/metrics needs no token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_and_chain_json() {
    let server = start("api", None).await;
    let id = server.write_request("<script>alert(1)</script>").await;
    let (status, body) = get(&server.url("/api/v1/traces?errors_only=true"), &[]).await;
    assert_eq!(status.as_u16(), 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["items"][0]["correlation_id"], id.to_string());
    assert_eq!(page["items"][0]["outcome"], "error");
    let (_, body) = get(&server.url(&format!("/api/v1/traces/{id}")), &[]).await;
    let chain: serde_json::Value = serde_json::from_str(&body).unwrap();
    let spans = chain["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0]["depth"], 0);
    assert_eq!(spans[1]["depth"], 1);
    assert!(spans.iter().any(|s| s["outcome"] == "error"));
    let (status, _) = get(
        &server.url(&format!("/api/v1/traces/{}", uuid::Uuid::nil())),
        &[],
    )
    .await;
    assert_eq!(status.as_u16(), 404);
    let (status, _) = get(&server.url("/api/v1/traces?outcome=fine"), &[]).await;
    assert_eq!(status.as_u16(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text() {
    let server = start("metrics", None).await;
    server.write_request("boom").await;
    let _stream = common::SseClient::connect(&server.url("/api/v1/stream"), &[]).await;
    let mut samples = Vec::new();
    for _ in 0..50 {
        let (_, body) = get(&server.url("/metrics"), &[]).await;
        let lines = body.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
        samples = scrape.samples;
        if samples.iter().any(|s| s.metric == "observe_events_total") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let value = |metric: &str, label: (&str, &str)| {
        samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get(label.0) == Some(label.1))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                _ => f64::NAN,
            })
    };
    assert_eq!(
        value("observe_events_total", ("outcome", "error")),
        Some(1.0)
    );
    assert_eq!(
        value("observe_events_total", ("event_type", "message_received")),
        Some(1.0)
    );
    let llm = samples
        .iter()
        .find(|s| {
            s.metric == "observe_processor_duration_seconds"
                && s.labels.get("processor") == Some("llm")
        })
        .expect("an llm histogram");
    assert!(matches!(llm.value, prometheus_parse::Value::Histogram(_)));
    let clients = samples
        .iter()
        .find(|s| s.metric == "observe_stream_clients")
        .unwrap();
    assert!(matches!(clients.value, prometheus_parse::Value::Gauge(v) if v >= 1.0));
}
