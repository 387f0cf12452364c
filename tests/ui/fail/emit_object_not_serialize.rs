use observe::EventType;

struct Opaque;

fn main() {
    observe::emit!(EventType::MessageReceived, { "channel": "web", "value": Opaque });
}
