fn retrieve(query: &str) -> Result<Vec<Doc>, RetrievalError> {
    static __OBSERVE_CALL: ::observe::__private::CallSite = ::observe::__private::CallSite {
        processor: &::observe::registry::processors::retrieval,
        name: "retrieve",
        module_path: ::core::module_path!(),
    };
    #[allow(unused_imports)]
    use ::observe::__private::{
        DebugPreview as _, DisplayPreview as _, ErrTerminal as _, OkTerminal as _,
    };
    ::observe::__private::observe_sync(
        &__OBSERVE_CALL,
        ::core::option::Option::None,
        move || {
            let __observe_out: Result<Vec<Doc>, RetrievalError> = (move || -> Result<
                Vec<Doc>,
                RetrievalError,
            > { search(query) })();
            let __observe_terminal = (&::observe::__private::Probe(&__observe_out))
                .observe_terminal(|e| ::observe::__private::DisplayMessage::observe_message(
                    e,
                ));
            (__observe_out, __observe_terminal)
        },
    )
}
