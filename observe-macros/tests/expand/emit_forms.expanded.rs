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
            {
                let mut payload = ::observe::__private::PayloadBuilder::new();
                payload.object();
                payload.field("channel", &"web");
                payload.field("user", &user_id);
                payload.finish()
            },
        )
    }
}
fn f() {
    if ::observe::__private::enabled() {
        ::observe::__private::emit_event(
            EventType::MessageReceived,
            {
                let mut payload = ::observe::__private::PayloadBuilder::new();
                payload.object();
                payload.field("text", &(message.trim()));
                payload.key("usage");
                payload.object();
                payload.field("tokens", &512);
                payload.field("model", &());
                payload.end();
                payload.key("tags");
                payload.array();
                payload.value(&"faq");
                payload.value(&tag);
                payload.array();
                payload.value(&1);
                payload.value(&2);
                payload.end();
                payload.end();
                payload.field(key_name, &true);
                payload.finish()
            },
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
