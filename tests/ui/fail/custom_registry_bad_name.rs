observe::registry! {
    pub mod events {
        event_types {
            CacheHit = "Cache-Hit",
        }
        processors {}
    }
}

fn main() {
    let _: observe::EventType = events::EventType::CacheHit.into();
}
