// An application's own registry: its processors and event types, with the
// built-in ones still available.
observe::registry! {
    /// The reranking service's events.
    pub mod events {
        event_types {
            /// Reranking started.
            RerankStarted = "rerank_started",
            /// Reranking finished.
            RerankComplete = "rerank_complete",
            /// A cached ranking was used.
            CacheHit = "cache_hit",
        }
        processors {
            /// Reorders documents.
            rerank: RerankStarted => RerankComplete,
        }
    }
}

#[observe::observed(registry = crate::events, processor = "rerank", input = docs.len())]
async fn rerank(docs: Vec<String>) -> Result<Vec<String>, std::io::Error> {
    observe::emit!(events::EventType::CacheHit, { "documents": docs.len() });
    observe::emit!(observe::EventType::MessageReceived);
    Ok(docs)
}

fn main() {
    let _future = rerank(vec![]);
}
