pub async fn retrieve(query: &str) -> Result<Vec<Doc>, RetrievalError> {
    static __OBSERVE_CALL: ::observe::__private::CallSite = ::observe::__private::CallSite {
        processor: &::observe::registry::processors::retrieval,
        name: "retrieve",
        module_path: ::core::module_path!(),
    };
    #[allow(unused_imports)]
    use ::observe::__private::{
        DebugPreview as _, DisplayPreview as _, ErrTerminal as _, OkTerminal as _,
    };
    ::observe::__private::observe_async(
            &__OBSERVE_CALL,
            ::core::option::Option::Some(
                (&::observe::__private::PreviewProbe(&(query))).observe_preview(),
            ),
            async move {
                let __observe_out: Result<Vec<Doc>, RetrievalError> = async move {
                    let docs = search(query).await?;
                    Ok(docs)
                }
                    .await;
                let __observe_terminal = (&::observe::__private::Probe(&__observe_out))
                    .observe_terminal(|e| ::observe::__private::DisplayMessage::observe_message(
                        e,
                    ));
                (__observe_out, __observe_terminal)
            },
        )
        .await
}
