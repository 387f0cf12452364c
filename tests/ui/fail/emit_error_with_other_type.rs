use observe::EventType;

fn main() {
    observe::emit!(EventType::ErrorOccurred, String::from("quota exceeded"));
}
