//! An axum application that serves its own dashboard: its routes behind
//! `observe`'s correlation layer write events to an SQLite store, and
//! `observe_serve::router` over that same store is merged into the app, so
//! `/`, `/api/v1/...` and `/metrics` (with the in-process pipeline's own
//! totals) come from the application's port.
//!
//! `cargo run --example dashboard_in_app --features http` serves on a free
//! port of 127.0.0.1, sends itself a few requests, reads them back through
//! the mounted API and `/metrics`, prints what it got, and exits.
//!
//! `cargo run --example dashboard_in_app --features http -- --serve [ADDR]`
//! serves until Ctrl-C (default 127.0.0.1:3000): `curl -d hi
//! http://127.0.0.1:3000/chat`, then open http://127.0.0.1:3000/.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::Request;
use axum::routing::post;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use observe::http::CorrelationLayer;
use observe::store::{Store, StoreSink, StoreUrl};
use observe_serve::{ServeOptions, StatsSource};

/// Answers a message (a stand-in for the real work).
#[observe::observed(processor = "intent", input = message)]
async fn classify(message: &str) -> Result<&'static str, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(2)).await;
    if message.contains("fail") {
        return Err(std::io::Error::other("the intent model is unavailable"));
    }
    Ok(if message.ends_with('?') {
        "question"
    } else {
        "chat"
    })
}

/// `POST /chat`.
async fn chat(body: String) -> String {
    match classify(&body).await {
        Ok(intent) => format!("{intent}\n"),
        Err(e) => format!("sorry: {e}\n"),
    }
}

/// The application's routes, then the dashboard's, in one router.
fn app(url: &StoreUrl) -> Result<Router, Box<dyn std::error::Error>> {
    let stats: StatsSource = Arc::new(observe::stats);
    // Loopback, no token, no CORS: the defaults. The caller binds.
    let options = ServeOptions::new(url.clone());
    let dashboard = observe_serve::router(Store::open(url)?, Some(stats), &options);
    let routes = Router::new()
        .route("/chat", post(chat))
        .layer(CorrelationLayer::new());
    Ok(routes.merge(dashboard))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let serve = args.next().as_deref() == Some("--serve");
    let dir = std::env::temp_dir().join(format!("observe-dashboard-in-app-{}", std::process::id()));
    let url = StoreUrl::sqlite(dir.join("events.db"));
    // The sink creates the store, so it is opened before the reader.
    let _guard = observe::init(
        observe::Config::default()
            .sink(StoreSink::open(&url)?)
            .service_name("dashboard_in_app"),
    )?;
    let addr = match (serve, args.next()) {
        (true, Some(addr)) => addr,
        (true, None) => "127.0.0.1:3000".to_owned(),
        (false, _) => "127.0.0.1:0".to_owned(),
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    let app = app(&url)?;
    println!("serving on http://{addr}/ (store {url})");
    if serve {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        return Ok(());
    }
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let call = |method: &'static str, path: &str, body: &'static str| {
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::from_static(body.as_bytes())));
        let client = client.clone();
        async move {
            let response = client.request(request?).await?;
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, Box<dyn std::error::Error>>(String::from_utf8_lossy(&body).into_owned())
        }
    };
    for message in ["hello", "what is observe?", "please fail"] {
        print!(
            "POST /chat {message:?} -> {}",
            call("POST", "/chat", message).await?
        );
    }
    // The events reach the store through the pipeline's worker, and the
    // server's follower reads them from there.
    observe::flush(Duration::from_secs(5));
    let traces: serde_json::Value = loop {
        let page: serde_json::Value =
            serde_json::from_str(&call("GET", "/api/v1/traces", "").await?)?;
        if page["items"]
            .as_array()
            .is_some_and(|items| items.len() >= 3)
        {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!("\nGET /api/v1/traces (from the same port):");
    for item in traces["items"].as_array().into_iter().flatten() {
        println!(
            "  {}  {}  {}",
            item["correlation_id"].as_str().unwrap_or("?"),
            item["outcome"].as_str().unwrap_or("in flight"),
            item["root"].as_str().unwrap_or("")
        );
    }
    println!("\nGET /metrics, the pipeline's own lines:");
    for line in call("GET", "/metrics", "").await?.lines() {
        if line.starts_with("observe_pipeline_") {
            println!("  {line}");
        }
    }
    drop(_guard);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
