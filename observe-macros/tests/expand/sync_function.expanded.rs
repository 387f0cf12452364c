fn retrieve(query: &str) -> Result<Vec<Doc>, RetrievalError> {
    static __OBSERVE_CALL: ::observe::__private::CallSite = ::observe::__private::CallSite::new(
        &::observe::registry::processors::retrieval,
        "retrieve",
        ::core::module_path!(),
    );
    #[allow(unused_imports)]
    use ::observe::__private::{
        DebugPreview as _, DisplayPreview as _, ErrTerminal as _, OkTerminal as _,
    };
    ::observe::__private::observe_sync(
        &__OBSERVE_CALL,
        move |__observe_span| {
            let __observe_recording = __observe_span.is_recording();
            let __observe_out: Result<Vec<Doc>, RetrievalError> = (move || -> Result<
                Vec<Doc>,
                RetrievalError,
            > { search(query) })();
            let __observe_returned = (&::observe::__private::Probe(&__observe_out))
                .observe_terminal(
                    __observe_recording,
                    |e| ::observe::__private::DisplayMessage::observe_message(e),
                );
            (__observe_out, __observe_returned)
        },
    )
}
