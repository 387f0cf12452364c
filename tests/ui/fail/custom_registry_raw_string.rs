observe::registry! {
    /// The reranking service's events.
    pub mod events {
        event_types {
            /// Reranking started.
            RerankStarted = "rerank_started",
            /// Reranking finished.
            RerankComplete = "rerank_complete",
        }
        processors {
            /// Reorders documents.
            rerank: RerankStarted => RerankComplete,
        }
    }
}

fn main() {
    observe::emit!("rerank_started", { "documents": 3 });
}
