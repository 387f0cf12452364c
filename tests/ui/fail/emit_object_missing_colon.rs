use observe::EventType;

fn main() {
    let user_id = 42;
    observe::emit!(EventType::MessageReceived, { "channel": "web", "user" user_id });
}
