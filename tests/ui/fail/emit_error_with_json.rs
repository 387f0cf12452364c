use observe::EventType;

fn main() {
    observe::emit!(EventType::ErrorOccurred, { "error": "quota exceeded" });
}
