observe::registry! {
    pub mod events {
        event_types {
            RerankStarted = "rerank_started",
            RerankComplete = "rerank_complete",
        }
        processors {
            rerank: RerankStarted => RerankComplete,
        }
    }
}

#[observe::observed(registry = crate::events, processor = "rerrank")]
fn rerank(docs: Vec<String>) -> Vec<String> {
    docs
}

fn main() {}
