//! An application that installs its own panic hook after `observe::init`
//! (replacing observe's) still gets the real panic message in
//! `error_occurred`, without location or stack (only the hook sees those).
//! Its own binary: the panic hook is global to the process.

use std::panic::{AssertUnwindSafe, catch_unwind};

use observe::sink::MemorySink;
use observe::{CorrelationContext, FutureExt, Outcome};

mod common;
use common::error_of;

#[observe::observed(processor = "translation")]
fn translate(text: &str) -> String {
    panic!("no dictionary for {text}")
}

#[observe::observed(processor = "llm")]
async fn generate(prompt: &str) -> String {
    tokio::task::yield_now().await;
    panic!("model refused {prompt}")
}

#[test]
fn a_panic_hook_installed_after_init_leaves_the_message_intact() {
    let sink = MemorySink::new();
    let _guard = observe::init(observe::Config::default().sink(sink.clone())).unwrap();
    std::panic::set_hook(Box::new(|_| {}));

    let request = CorrelationContext::new_root();
    assert!(catch_unwind(|| request.in_scope(|| translate("klingon"))).is_err());
    let event = error_of(&sink, &request);
    assert_eq!(event.outcome, Some(Outcome::Panic));
    assert_eq!(event.payload["error_message"], "no dictionary for klingon");

    let request = CorrelationContext::new_root();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(generate("a haiku").with_context(request))
    }));
    assert!(caught.is_err());
    let event = error_of(&sink, &request);
    assert_eq!(event.outcome, Some(Outcome::Panic));
    assert_eq!(event.payload["error_message"], "model refused a haiku");
}
