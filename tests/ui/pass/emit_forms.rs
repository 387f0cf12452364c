// emit! with no payload, a JSON-like payload (nested, with expression keys),
// any Serialize value, and an
// ErrorPayload for error_occurred.
use observe::EventType;

#[derive(serde::Serialize)]
struct Sent {
    status: u16,
}

fn main() {
    let user_id = 42;
    observe::emit!(EventType::MessageReceived);
    observe::emit!(EventType::MessageReceived, { "channel": "web", "user": user_id });
    let key = String::from("dynamic");
    observe::emit!(EventType::MessageReceived, {
        "nested": { "list": [1, null, { "deep": true }], "none": null },
        key: user_id + 1,
        "path": std::f64::consts::PI,
    });
    observe::emit!(observe::EventType::ResponseSent, Sent { status: 200 });
    observe::emit!(EventType::ResponseSent, vec![1, 2, 3],);
    let error = observe::ErrorPayload::new("Timeout", "no answer in 30 s", "llm");
    observe::emit!(EventType::ErrorOccurred, error);
}
