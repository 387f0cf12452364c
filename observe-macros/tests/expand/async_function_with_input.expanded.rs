pub async fn retrieve(query: &str) -> Result<Vec<Doc>, RetrievalError> {
    static __OBSERVE_CALL: ::observe::__private::CallSite = ::observe::__private::CallSite::new(
        &::observe::registry::processors::retrieval,
        "retrieve",
        ::core::module_path!(),
    );
    #[allow(unused_imports)]
    use ::observe::__private::{
        DebugPreview as _, DisplayPreview as _, ErrTerminal as _, OkTerminal as _,
    };
    ::observe::__private::observe_async(
            &__OBSERVE_CALL,
            move |__observe_span| {
                __observe_span
                    .capture_input(|| {
                        (&::observe::__private::PreviewProbe(&(query))).observe_preview()
                    });
                let __observe_recording = __observe_span.is_recording();
                async move {
                    let __observe_out: Result<Vec<Doc>, RetrievalError> = async move {
                        let docs = search(query).await?;
                        Ok(docs)
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
        )
        .await
}
