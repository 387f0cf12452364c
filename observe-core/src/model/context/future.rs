//! Carrying a context across `.await`: a future wrapper that enters the
//! context on every poll and on drop, and a `spawn` that takes the current
//! context into a new task.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{CorrelationContext, current};

pin_project_lite::pin_project! {
    /// A future that runs inside a correlation context: the context is
    /// current while the inner future is polled and while it is dropped, so
    /// code in destructors (for example a cancelled operation's terminal
    /// event) still sees its own request.
    ///
    /// Made by [`FutureExt::with_context`] and
    /// [`FutureExt::in_current_context`].
    #[derive(Debug)]
    pub struct WithContext<F> {
        context: Option<CorrelationContext>,
        #[pin]
        inner: ManuallyDrop<F>,
    }

    impl<F> PinnedDrop for WithContext<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let _guard = this.context.as_ref().map(CorrelationContext::enter);
            // SAFETY: `inner` is never used again: this is the wrapper's drop,
            // and the pinned value is dropped in place, as pinning requires.
            unsafe { ManuallyDrop::drop(this.inner.get_unchecked_mut()) }
        }
    }
}

impl<F> WithContext<F> {
    /// The context this future runs in (`None`: whatever is current when it
    /// is polled).
    pub fn context(&self) -> Option<&CorrelationContext> {
        self.context.as_ref()
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _guard = this.context.as_ref().map(CorrelationContext::enter);
        // SAFETY: projecting through `ManuallyDrop` keeps the pin: the inner
        // future is never moved out of it.
        let inner = unsafe { this.inner.map_unchecked_mut(|f| &mut **f) };
        inner.poll(cx)
    }
}

/// Runs futures inside a correlation context.
///
/// ```
/// use observe::context;
/// use observe::{CorrelationContext, FutureExt};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let request = CorrelationContext::new_root();
/// let seen = async { context::current() }.with_context(request).await;
/// assert_eq!(seen, Some(request));
/// # });
/// ```
pub trait FutureExt: Future + Sized {
    /// Runs this future with `context` current on every poll and on drop.
    fn with_context(self, context: CorrelationContext) -> WithContext<Self> {
        WithContext {
            context: Some(context),
            inner: ManuallyDrop::new(self),
        }
    }

    /// Runs this future in the context current now, wherever it is polled
    /// later (for example on another task or thread).
    fn in_current_context(self) -> WithContext<Self> {
        WithContext {
            context: current(),
            inner: ManuallyDrop::new(self),
        }
    }
}

impl<F: Future> FutureExt for F {}

/// Spawns `future` on the current tokio runtime, running in the context that
/// is current now.
///
/// `tokio::spawn` starts tasks with no context: a task spawned that way
/// starts a new request if it emits events. Use this function (or
/// [`FutureExt::in_current_context`]) when the task is part of the current
/// request.
///
/// # Panics
///
/// Like `tokio::spawn`, when called outside a tokio runtime.
///
/// ```
/// use observe::CorrelationContext;
/// use observe::context;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let request = CorrelationContext::new_root();
/// let _guard = request.enter();
/// let seen = observe::spawn(async { context::current() }).await.unwrap();
/// assert_eq!(seen, Some(request));
/// # });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_context())
}
