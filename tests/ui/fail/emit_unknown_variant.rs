use observe::EventType;

fn main() {
    observe::emit!(EventType::MessageRecieved, { "channel": "web" });
}
