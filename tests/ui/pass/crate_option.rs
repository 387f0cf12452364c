// `crate = path` for crates that re-export observe.
mod reexport {
    pub use observe as instrumentation;
}

#[observe::observed(crate = crate::reexport::instrumentation, processor = "retrieval")]
fn retrieve(query: &str) -> usize {
    query.len()
}

fn main() {
    let _ = retrieve("q");
    observe::emit!(crate = crate::reexport::instrumentation, observe::EventType::MessageReceived);
}
