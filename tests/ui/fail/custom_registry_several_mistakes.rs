// Every mistake of a registry at once, each on its own string or name: a
// built-in name, a repeated name, a processor whose type is misspelled.
observe::registry! {
    pub mod events {
        event_types {
            LlmStarted = "llm_started",
            CacheHit = "cache_hit",
            CacheMiss = "cache_hit",
            RerankStarted = "rerank_started",
            RerankComplete = "rerank_complete",
        }
        processors {
            rerank: RerankStartd => RerankComplete,
        }
    }
}

fn main() {}
