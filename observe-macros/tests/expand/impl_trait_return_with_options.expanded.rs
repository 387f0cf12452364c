fn tokens<'a>(&'a self) -> impl Iterator<Item = &'a str> {
    static __OBSERVE_CALL: my::observe::__private::CallSite = my::observe::__private::CallSite {
        processor: &my::observe::registry::processors::llm,
        name: "stream",
        module_path: ::core::module_path!(),
    };
    #[allow(unused_imports)]
    use my::observe::__private::{
        DebugPreview as _, DisplayPreview as _, ErrTerminal as _, OkTerminal as _,
    };
    my::observe::__private::observe_sync(
        &__OBSERVE_CALL,
        ::core::option::Option::None,
        move || {
            let __observe_out = (move || { self.text.split(' ') })();
            let __observe_terminal = (&my::observe::__private::Probe(&__observe_out))
                .observe_terminal(|e| my::observe::__private::DebugMessage::observe_message(
                    e,
                ));
            (__observe_out, __observe_terminal)
        },
    )
}
