fn f() {
    if ::observe::__private::enabled() {
        ::observe::__private::emit(
            EventType::MessageReceived,
            ::core::option::Option::None,
        )
    }
}
fn f() {
    if ::observe::__private::enabled() {
        ::observe::__private::emit(
            EventType::MessageReceived,
            ::core::option::Option::Some(
                ::observe::__private::serde_json::json!(
                    { "channel" : "web", "user" : user_id }
                ),
            ),
        )
    }
}
fn f() {
    if ::observe::__private::enabled() {
        ::observe::__private::emit(
            observe::EventType::ResponseSent,
            ::observe::__private::to_payload(&(response)),
        )
    }
}
