fn f() {
    if ::observe::__private::enabled() {
        ::observe::__private::emit_event(
            EventType::MessageReceived,
            ::observe::__private::serde_json::Value::Null,
        )
    }
}
fn f() {
    if ::observe::__private::enabled() {
        ::observe::__private::emit_event(
            EventType::MessageReceived,
            ::observe::__private::serde_json::json!(
                { "channel" : "web", "user" : user_id }
            ),
        )
    }
}
fn f() {
    if ::observe::__private::enabled() {
        ::observe::__private::emit_event(
            observe::EventType::ResponseSent,
            ::observe::__private::to_payload(&(response)),
        )
    }
}
fn f() {
    if ::observe::__private::enabled() {
        ::observe::__private::emit_event(
            EventType::ErrorOccurred,
            ::observe::__private::error_payload(
                &(ErrorPayload::new("Timeout", "no answer", "llm")),
            ),
        )
    }
}
