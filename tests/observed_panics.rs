//! What `error_occurred` says about a panic: the message of the panic that
//! unwound through the span (also when it was re-raised with
//! `resume_unwind`, after other panics on the same thread), and a stack of
//! the user's frames, innermost first, with relative paths.

use std::any::Any;
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

use observe::{CorrelationContext, Event, EventType, FutureExt, Outcome};

mod common;
use common::new_request;
use common::process_sink as sink;

/// The `error_occurred` event of one request, after a flush.
fn error_of(request: &CorrelationContext) -> Event {
    common::error_of(sink(), request)
}

fn message(event: &Event) -> &str {
    event.payload["error_message"].as_str().unwrap()
}

fn frames(event: &Event) -> Vec<String> {
    event.payload["stack_frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

/// A panic on this thread that no span reports: the hook sees it, and in
/// a context it also captures a stack.
fn an_earlier_unrelated_panic() {
    let unrelated = CorrelationContext::new_root();
    let caught = catch_unwind(|| unrelated.in_scope(|| panic!("earlier unrelated panic")));
    assert!(caught.is_err());
}

/// The payload of a panic raised on another thread, as `join` returns it.
fn payload_from_another_thread() -> Box<dyn Any + Send> {
    std::thread::spawn(|| panic!("the worker thread's own panic"))
        .join()
        .expect_err("the thread panics")
}

#[observe::observed(processor = "retrieval")]
fn rethrow(payload: Box<dyn Any + Send>) -> u8 {
    resume_unwind(payload)
}

#[test]
fn a_resumed_panic_reports_its_own_message_not_an_earlier_one() {
    an_earlier_unrelated_panic();
    let payload = payload_from_another_thread();
    let request = new_request();
    let caught = catch_unwind(AssertUnwindSafe(|| request.in_scope(|| rethrow(payload))));
    let resumed = caught.expect_err("the panic continues");
    assert_eq!(
        resumed.downcast_ref::<String>().map(String::as_str),
        None,
        "a literal panic message is a &str"
    );
    assert_eq!(
        resumed.downcast_ref::<&str>(),
        Some(&"the worker thread's own panic"),
        "re-raised with its own payload"
    );
    let event = error_of(&request);
    assert_eq!(event.outcome, Some(Outcome::Panic));
    assert_eq!(message(&event), "the worker thread's own panic");
}

#[test]
fn a_resumed_panic_in_an_async_fn_reports_its_own_message() {
    #[observe::observed(processor = "llm")]
    async fn join_worker() -> u8 {
        let joined = tokio::task::spawn_blocking(|| -> u8 {
            panic!("blocking task failed: {}", 42);
        })
        .await;
        match joined {
            Ok(value) => value,
            Err(error) => resume_unwind(error.into_panic()),
        }
    }
    an_earlier_unrelated_panic();
    let request = new_request();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(join_worker().with_context(request))
    }));
    assert!(caught.is_err());
    let event = error_of(&request);
    assert_eq!(event.outcome, Some(Outcome::Panic));
    assert_eq!(message(&event), "blocking task failed: 42");
}

#[test]
fn a_panic_reports_its_location_and_nested_spans_each_report_it() {
    #[observe::observed(processor = "translation")]
    fn inner() -> u8 {
        panic!("inner failure {}", 7)
    }
    #[observe::observed(processor = "llm")]
    fn outer() -> u8 {
        inner()
    }
    let request = new_request();
    assert!(catch_unwind(|| request.in_scope(outer)).is_err());
    assert_eq!(
        observe::flush(Duration::from_secs(30)),
        observe::FlushOutcome::Flushed
    );
    let errors: Vec<Event> = sink()
        .events()
        .into_iter()
        .filter(|e| {
            e.correlation_id == request.correlation_id && e.event_type == EventType::ErrorOccurred
        })
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    for event in &errors {
        let text = message(event);
        assert!(
            text.starts_with("inner failure 7 (at tests/observed_panics.rs:"),
            "{text}"
        );
    }
    assert!(!frames(&errors[0]).is_empty(), "the innermost span's stack");
}

#[inline(never)]
fn level_three(items: &[u32], at: usize) -> u32 {
    items[at]
}

#[inline(never)]
fn level_two(items: &[u32], at: usize) -> u32 {
    black_box(level_three(black_box(items), at)) + 1
}

#[inline(never)]
fn level_one(items: &[u32], at: usize) -> u32 {
    black_box(level_two(black_box(items), at)) + 1
}

#[observe::observed(processor = "retrieval")]
fn index_out_of_bounds() -> u32 {
    let items = vec![1, 2, 3];
    level_one(&items, black_box(7))
}

/// No frame of the capture, the panic runtime or `observe`.
fn assert_no_machinery(frames: &[String]) {
    for frame in frames {
        let function = frame.trim_start_matches(['<', '&']);
        for machinery in [
            "observe_core::",
            "observe::",
            "backtrace::",
            "std::panicking::",
            "core::panicking::",
            "std::panic::",
            "core::panic::",
            "rust_begin_unwind",
            "__rustc::",
        ] {
            assert!(!function.starts_with(machinery), "{frames:#?}");
        }
        assert!(!frame.contains("observe_core::"), "{frames:#?}");
        // Also by file, for functions named without their path.
        for file in [
            "(observe-core/",
            "(backtrace-",
            "(library/std/src/panicking.rs",
        ] {
            assert!(!frame.contains(file), "{frames:#?}");
        }
    }
}

/// No absolute path (`/...`, `C:\...`) and no home directory in any frame.
fn assert_relative_paths(frames: &[String]) {
    let home = std::env::var("HOME")
        .or_else(|_| std::env::var("USERPROFILE"))
        .ok()
        .filter(|home| home.len() > 1);
    for frame in frames {
        if let Some(file) = frame.rsplit_once(" (").map(|(_, file)| file) {
            let drive = file.as_bytes().get(1) == Some(&b':');
            assert!(
                !file.starts_with('/') && !file.starts_with('\\') && !drive,
                "{frame}"
            );
        }
        if let Some(home) = &home {
            assert!(!frame.contains(home.as_str()), "{frame}");
        }
    }
}

#[test]
fn panic_stacks_start_at_the_users_innermost_frame() {
    let request = new_request();
    assert!(catch_unwind(|| request.in_scope(index_out_of_bounds)).is_err());
    let event = error_of(&request);
    assert!(message(&event).contains("index out of bounds"));
    let frames = frames(&event);
    assert!(frames.len() >= 4, "{frames:#?}");
    for (frame, function) in frames.iter().zip(["level_three", "level_two", "level_one"]) {
        assert!(
            frame.starts_with(&format!(
                "observed_panics::{function} (tests/observed_panics.rs:"
            )),
            "{frames:#?}"
        );
    }
    // Then the body's closure and the function itself; with line-table-only
    // debug information the inlined closure is named `{closure#0}`.
    assert!(
        frames[3..5]
            .iter()
            .any(|f| f.contains("index_out_of_bounds")),
        "{frames:#?}"
    );
    assert_no_machinery(&frames);
    assert_relative_paths(&frames);
}

#[derive(Debug)]
struct NotFound;

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not found")
    }
}

#[observe::observed(processor = "retrieval")]
fn fails() -> Result<u8, NotFound> {
    Err(NotFound)
}

#[inline(never)]
fn calls_fails() -> Result<u8, NotFound> {
    black_box(fails())
}

#[test]
fn error_stacks_skip_observe_frames_and_hold_relative_paths() {
    let request = new_request();
    assert!(request.in_scope(calls_fails).is_err());
    let event = error_of(&request);
    assert_eq!(event.outcome, Some(Outcome::Error));
    let frames = frames(&event);
    assert!(
        frames[0].starts_with("observed_panics::fails::"),
        "the body that returned the error: {frames:#?}"
    );
    assert!(
        frames
            .iter()
            .any(|f| f.starts_with("observed_panics::calls_fails ")),
        "{frames:#?}"
    );
    assert_no_machinery(&frames);
    assert_relative_paths(&frames);
}
