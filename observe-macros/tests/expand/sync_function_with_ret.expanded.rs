fn classify(message: &str) -> Result<Intent, ModelError> {
    static __OBSERVE_CALL: ::observe::__private::CallSite = ::observe::__private::CallSite::new(
        &::observe::registry::processors::intent,
        "classify",
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
            let __observe_out: Result<Intent, ModelError> = (move || -> Result<
                Intent,
                ModelError,
            > { model.classify(message) })();
            if __observe_recording {
                #[allow(unused_imports)]
                use ::observe::__private::{OkReturn as _, PlainReturn as _};
                ::observe::__private::record_return(
                    (&::observe::__private::ReturnProbe(&__observe_out)).observe_return(),
                );
            }
            let __observe_returned = (&::observe::__private::Probe(&__observe_out))
                .observe_terminal(
                    __observe_recording,
                    |e| ::observe::__private::DisplayMessage::observe_message(e),
                );
            (__observe_out, __observe_returned)
        },
    )
}
