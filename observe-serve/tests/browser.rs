//! The dashboard in a real headless chromium, driven over the DevTools
//! protocol: a request written after the page loaded shows up live, its
//! waterfall has a row per span with the failure marked, a hostile payload
//! is shown as text and runs nothing, and a screenshot of the trace view is
//! kept. A second test times a 1,000-span trace as the page measures it.
//!
//! Needs `chromium` (`apt-get install -y chromium`); without it these tests
//! fail, unless `OBSERVE_SKIP_BROWSER=1` says to skip them.

#[path = "common/cdp.rs"]
mod cdp;
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cdp::{Browser, Page};
use common::{Harness, get, start};
use observe_core::delivery::sink::Sink;
use observe_core::{CorrelationContext, Event, EventType, Outcome};
use serde_json::Value;

/// Prints to the real stderr, past the test harness's capture, so that a
/// skip, the screenshot's path and the timing show in a plain `cargo test`.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Installed in every document before its scripts: `alert` only records
/// that it was called.
const ALERT_HOOK: &str = "window.__alerted = undefined; \
    window.alert = (message) => { window.__alerted = String(message); };";

/// The browser, or `None` when the tests are to be skipped.
fn browser(name: &str) -> Option<(Browser, PathBuf)> {
    if std::env::var("OBSERVE_SKIP_BROWSER").as_deref() == Ok("1") {
        say!("OBSERVE_SKIP_BROWSER=1: skipping the browser test `{name}`");
        return None;
    }
    let binary = cdp::find_chromium().unwrap_or_else(|message| panic!("{message}"));
    let scratch =
        std::env::temp_dir().join(format!("observe-browser-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    Some((Browser::launch(&binary, &scratch), scratch))
}

/// Where the tests keep what they produce: `<target>/observe-serve-artifacts`.
fn artifacts() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(&tmp).join("observe-serve-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `text` as a JavaScript string literal.
fn js(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

fn count(browser: &mut Browser, page: &Page, selector: &str) -> u64 {
    let value = browser
        .eval(
            page,
            &format!("document.querySelectorAll({}).length", js(selector)),
        )
        .unwrap();
    value.as_u64().unwrap()
}

const PAYLOAD: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_live_request_and_its_waterfall_safely() {
    let Some((mut browser, scratch)) = browser("dashboard") else {
        return;
    };
    let server = start("browser", None).await;
    server.write(2).await; // an older request or two in the list
    let page = browser.open_page(ALERT_HOOK);
    browser.navigate(&page, &server.url("/"));
    // The page is up when its stream is open.
    browser
        .wait_for(
            &page,
            "document.getElementById('live').textContent === 'live'",
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(count(&mut browser, &page, "#traces tbody tr"), 2);

    let id = server.write_request(PAYLOAD).await;
    let written = Instant::now();
    let row = format!("#traces tbody tr[data-id=\"{id}\"]");
    let took = browser
        .wait_for(
            &page,
            &format!("document.querySelector({})", js(&row)),
            Duration::from_secs(2),
        )
        .unwrap_or_else(|e| panic!("the new request is not in the list within 2 s: {e}"));
    say!(
        "the request appeared in the list {:?} after it was written",
        written.elapsed()
    );
    assert!(took <= Duration::from_secs(2));
    let first = browser
        .eval(
            &page,
            "document.querySelector('#traces tbody tr').dataset.id",
        )
        .unwrap();
    assert_eq!(
        first,
        Value::String(id.to_string()),
        "the newest request is on top"
    );
    // Its summary, once the whole request is in: 3 spans, failed somewhere.
    let cells = format!(
        "[...document.querySelector({}).cells].map((c) => c.textContent)",
        js(&row)
    );
    let cells = browser.eval(&page, &cells).unwrap();
    assert_eq!(cells[2], "3", "{cells}");
    assert_eq!(cells[5], id.to_string().as_str(), "{cells}");

    open_trace(&mut browser, &page, &row, &id.to_string());
    check_waterfall(&mut browser, &page, &server, id).await;
    check_payload_is_text(&mut browser, &page);

    let png = browser.screenshot(&page);
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    let path = artifacts().join("trace-view.png");
    std::fs::write(&path, &png).unwrap();
    say!("screenshot of the trace view: {}", path.display());
    drop(browser);
    let _ = std::fs::remove_dir_all(scratch);
}

/// Clicks the request's row and waits for its trace view.
fn open_trace(browser: &mut Browser, page: &Page, row: &str, id: &str) {
    browser.click(page, row);
    browser
        .wait_for(
            page,
            &format!("document.body.dataset.rendered === {}", js(id)),
            Duration::from_secs(5),
        )
        .unwrap_or_else(|e| panic!("clicking the row did not open its trace: {e}"));
    let hash = browser.eval(page, "location.hash").unwrap();
    assert_eq!(
        hash,
        Value::String(format!("#/trace/{id}")),
        "a shareable URL"
    );
    let hidden = browser
        .eval(page, "[document.getElementById('list-view').hidden, document.getElementById('trace-view').hidden]")
        .unwrap();
    assert_eq!(hidden, serde_json::json!([true, false]));
}

/// One row per span of the API's chain, in its order; only the failed
/// span marked failed.
async fn check_waterfall(browser: &mut Browser, page: &Page, server: &Harness, id: uuid::Uuid) {
    let (status, body) = get(&server.url(&format!("/api/v1/traces/{id}")), &[]).await;
    assert!(status.is_success(), "{status} {body}");
    let chain: Value = serde_json::from_str(&body).unwrap();
    let spans = chain["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 3, "what write_request wrote: {body}");
    let rows = browser
        .eval(
            page,
            "[...document.querySelectorAll('#waterfall .row')].map((r) => ({ \
               span: r.dataset.span, label: r.querySelector('.label').textContent, \
               failed: r.classList.contains('failed'), \
               bar: r.querySelector('.bar').className, \
               inside: (() => { const t = r.querySelector('.track').getBoundingClientRect(), \
                 b = r.querySelector('.bar').getBoundingClientRect(); \
                 return b.left >= t.left - 1 && b.right <= t.right + 1 && b.width >= 1; })() }))",
        )
        .unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), spans.len(), "one row per span: {rows:?}");
    for (row, span) in rows.iter().zip(spans) {
        assert_eq!(row["span"], span["span_id"], "{row} for {span}");
        assert_eq!(row["label"], span["label"], "{row} for {span}");
        let failed = span["outcome"] == "error";
        assert_eq!(row["failed"], failed, "{row} for {span}");
        assert_eq!(
            row["bar"].as_str().unwrap().contains("error"),
            failed,
            "{row}"
        );
        assert_eq!(
            row["inside"], true,
            "the bar is drawn inside its track: {row}"
        );
    }
    let failed: Vec<&Value> = spans.iter().filter(|s| s["outcome"] == "error").collect();
    assert_eq!(failed.len(), 1, "{body}");
    assert_eq!(failed[0]["processor"], "llm", "{body}");
    assert_eq!(count(browser, page, "#waterfall .row.failed"), 1);
    let widths = browser
        .eval(
            page,
            "[document.documentElement.scrollWidth, window.innerWidth]",
        )
        .unwrap();
    assert!(
        widths[0].as_f64() <= widths[1].as_f64(),
        "no horizontal overflow: {widths}"
    );
}

/// Selecting the failed span shows the payload as text: the literal markup
/// is on the page, it made no element and `alert` was never called.
fn check_payload_is_text(browser: &mut Browser, page: &Page) {
    browser.click(page, "#waterfall .row.failed");
    browser
        .wait_for(
            page,
            "document.querySelector('#details h3')",
            Duration::from_secs(2),
        )
        .unwrap();
    let text = browser
        .eval(page, "document.getElementById('details').innerText")
        .unwrap();
    let text = text.as_str().unwrap();
    assert!(
        text.contains(PAYLOAD),
        "the payload as text in the details: {text}"
    );
    // Give a would-be `onerror` time to fire.
    std::thread::sleep(Duration::from_millis(300));
    let verdict = browser
        .eval(
            page,
            "({ alerted: window.__alerted === undefined ? null : window.__alerted, \
                scripts: [...document.scripts].map((s) => s.getAttribute('src')), \
                images: document.images.length, \
                tags: [...new Set([...document.querySelectorAll('#details *, #waterfall *')] \
                    .map((e) => e.tagName.toLowerCase()))].sort() })",
        )
        .unwrap();
    assert_eq!(
        verdict["alerted"],
        Value::Null,
        "alert was called: {verdict}"
    );
    assert_eq!(
        verdict["scripts"],
        serde_json::json!(["/assets/app.js"]),
        "{verdict}"
    );
    assert_eq!(verdict["images"], 0, "{verdict}");
    let allowed = ["div", "h3", "h4", "p", "pre"];
    for tag in verdict["tags"].as_array().unwrap() {
        assert!(
            allowed.contains(&tag.as_str().unwrap()),
            "unexpected <{tag}> in the trace view: {verdict}"
        );
    }
    assert!(
        browser
            .take_events("Page.javascriptDialogOpening")
            .is_empty()
    );
}

/// A request of `spans` spans: the root and a binary tree of llm and
/// retrieval calls under it, every one finished.
async fn write_big_request(server: &Harness, spans: usize) -> uuid::Uuid {
    let root = CorrelationContext::new_root();
    let mut contexts = vec![root];
    let mut events = vec![Event::new(EventType::MessageReceived, &root)];
    for i in 1..spans {
        let context = contexts[(i - 1) / 2].child();
        let (started, complete, processor) = if i % 2 == 0 {
            (EventType::LlmStarted, EventType::LlmComplete, "llm")
        } else {
            (
                EventType::RetrievalStarted,
                EventType::RetrievalComplete,
                "retrieval",
            )
        };
        events.push(Event::new(started, &context).with_processor(processor));
        events.push(
            Event::new(complete, &context)
                .with_processor(processor)
                .with_outcome(Outcome::Ok, 100 + i as u64),
        );
        contexts.push(context);
    }
    events.push(Event::new(EventType::ResponseSent, &root).with_outcome(Outcome::Ok, 500_000));
    server.sink.write_batch(&events).await.unwrap();
    root.correlation_id
}

/// Not a pass/fail check: prints how long the page takes to show a trace
/// of 1,000 spans, from the navigation to its last row in the DOM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_of_1000_spans_renders_in_the_browser() {
    const SPANS: usize = 1000;
    let Some((mut browser, scratch)) = browser("thousand") else {
        return;
    };
    let server = start("browser-thousand", None).await;
    let id = write_big_request(&server, SPANS).await;
    let page = browser.open_page(ALERT_HOOK);
    browser.navigate(&page, &server.url("/"));
    // In the page: the clock starts at the navigation to the trace and
    // stops when a MutationObserver sees the last row arrive.
    let script = format!(
        "new Promise((resolve) => {{ \
           const waterfall = document.getElementById('waterfall'); \
           const done = () => waterfall.querySelectorAll('.row').length >= {SPANS}; \
           const t0 = performance.now(); \
           new MutationObserver((_, observer) => {{ \
             if (done()) {{ observer.disconnect(); resolve(performance.now() - t0); }} \
           }}).observe(waterfall, {{ childList: true }}); \
           location.hash = '#/trace/{id}'; \
         }})"
    );
    let total_ms = browser.eval(&page, &script).unwrap().as_f64().unwrap();
    let rows = count(&mut browser, &page, "#waterfall .row");
    assert_eq!(rows, SPANS as u64, "one row per span");
    let app_ms = browser
        .eval(&page, "window.observeRenderMs")
        .unwrap()
        .as_f64()
        .unwrap_or(f64::NAN);
    say!(
        "a trace of {SPANS} spans: {total_ms:.1} ms from navigation to the last row \
         (the page's own fetch-and-render measure: {app_ms:.1} ms)"
    );
    drop(browser);
    let _ = std::fs::remove_dir_all(scratch);
}
