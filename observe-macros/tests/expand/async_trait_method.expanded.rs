fn complete<'a>(
    &'a self,
    prompt: &'a str,
) -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send + 'a>> {
    static __OBSERVE_CALL: ::observe::__private::CallSite = ::observe::__private::CallSite::new(
        &::observe::registry::processors::llm,
        "complete",
        ::core::module_path!(),
    );
    #[allow(unused_imports)]
    use ::observe::__private::{
        DebugPreview as _, DisplayPreview as _, ErrTerminal as _, OkTerminal as _,
    };
    Box::pin(
        ::observe::__private::observe_async(
            &__OBSERVE_CALL,
            move |__observe_span| {
                let __observe_recording = __observe_span.is_recording();
                async move {
                    let __observe_out: Result<String, Error> = async move {
                        self.client.complete(prompt).await
                    }
                        .await;
                    let __observe_returned = (&::observe::__private::Probe(
                        &__observe_out,
                    ))
                        .observe_terminal(
                            __observe_recording,
                            |e| ::observe::__private::DisplayMessage::observe_message(e),
                        );
                    (__observe_out, __observe_returned)
                }
            },
        ),
    )
}
