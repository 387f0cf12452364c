fn tokens<'a>(&'a self) -> impl Iterator<Item = &'a str> {
    static __OBSERVE_CALL: my::observe::__private::CallSite = my::observe::__private::CallSite::new(
        &my::observe::registry::processors::llm,
        "stream",
        ::core::module_path!(),
    );
    #[allow(unused_imports)]
    use my::observe::__private::{
        DebugPreview as _, DisplayPreview as _, ErrTerminal as _, OkTerminal as _,
    };
    my::observe::__private::observe_sync(
        &__OBSERVE_CALL,
        move |__observe_span| {
            let __observe_recording = __observe_span.is_recording();
            let __observe_out = (move || { self.text.split(' ') })();
            let __observe_returned = (&my::observe::__private::Probe(&__observe_out))
                .observe_terminal(
                    __observe_recording,
                    |e| my::observe::__private::DebugMessage::observe_message(e),
                );
            (__observe_out, __observe_returned)
        },
    )
}
