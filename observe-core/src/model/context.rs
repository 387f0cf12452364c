//! The correlation context: which request and which operation the running
//! code belongs to.
//!
//! Each thread has a current context. [`CorrelationContext::enter`] makes a
//! context current until its guard drops; futures carry a context across
//! `.await` points with [`FutureExt::with_context`], which enters it on every
//! poll and on drop; [`spawn`] carries the current context into a new tokio
//! task. Concurrent requests on one thread or many never see each other's
//! context, because a context is only ever current while code of its own
//! request runs.
//!
//! ```
//! use observe::CorrelationContext;
//! use observe::context;
//!
//! assert_eq!(context::current(), None);
//! let request = CorrelationContext::new_root();
//! request.in_scope(|| {
//!     let child = CorrelationContext::child_of_current();
//!     assert_eq!(child.correlation_id, request.correlation_id);
//!     assert_eq!(child.parent_span_id, Some(request.span_id));
//! });
//! assert_eq!(context::current(), None);
//! ```

mod future;

use std::cell::Cell;
use std::marker::PhantomData;

use uuid::Uuid;

pub use future::{FutureExt, WithContext, spawn};

use crate::model::ids;
use crate::{SpanId, Timestamp};

/// Where an event sits: its request (`correlation_id`), its operation
/// (`span_id`) and the operation that encloses it (`parent_span_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CorrelationContext {
    /// The request; shared by every event of one request.
    pub correlation_id: Uuid,
    /// The operation.
    pub span_id: SpanId,
    /// The enclosing operation, `None` at the root of a request.
    pub parent_span_id: Option<SpanId>,
}

impl CorrelationContext {
    /// The root of a new request: a fresh UUIDv7 correlation id and span id.
    pub fn new_root() -> CorrelationContext {
        CorrelationContext {
            correlation_id: ids::uuid_v7(Timestamp::now()),
            span_id: SpanId::random(),
            parent_span_id: None,
        }
    }

    /// A new operation nested in this one: same request, fresh span id,
    /// this span as parent.
    pub fn child(&self) -> CorrelationContext {
        CorrelationContext {
            correlation_id: self.correlation_id,
            span_id: SpanId::random(),
            parent_span_id: Some(self.span_id),
        }
    }

    /// A child of the current context, or the root of a new request when no
    /// context is current.
    pub fn child_of_current() -> CorrelationContext {
        match current() {
            Some(parent) => parent.child(),
            None => CorrelationContext::new_root(),
        }
    }

    /// Makes this context current on this thread until the guard drops; the
    /// previous one is restored then.
    ///
    /// Guards must be dropped in reverse order of creation, which scoping
    /// gives naturally; the guard cannot leave its thread. Do not hold a
    /// guard around `block_on` or across an `.await`: every task polled on
    /// the thread meanwhile would see this context. Wrap the future with
    /// [`FutureExt::with_context`] instead, which enters only while the
    /// future itself is polled.
    pub fn enter(&self) -> ContextGuard {
        ContextGuard {
            previous: CURRENT.with(|c| c.replace(Some(*self))),
            _not_send: PhantomData,
        }
    }

    /// Runs `f` with this context current.
    pub fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        let _guard = self.enter();
        f()
    }
}

thread_local! {
    static CURRENT: Cell<Option<CorrelationContext>> = const { Cell::new(None) };
}

/// The context current on this thread, if any.
pub fn current() -> Option<CorrelationContext> {
    CURRENT.with(Cell::get)
}

/// Makes `context` current on this thread (or none) and returns the one that
/// was current, for integrations whose enter and exit are two separate
/// calls (a `tracing` layer's `on_enter` and `on_exit`): the caller keeps
/// what this returns and puts it back with another call when it exits.
/// Everywhere else, prefer [`CorrelationContext::enter`], whose guard
/// restores the previous context by itself.
///
/// ```
/// use observe::CorrelationContext;
/// use observe::context;
///
/// let request = CorrelationContext::new_root();
/// let previous = context::replace_current(Some(request));
/// assert_eq!(context::current(), Some(request));
/// context::replace_current(previous);
/// assert_eq!(context::current(), None);
/// ```
pub fn replace_current(context: Option<CorrelationContext>) -> Option<CorrelationContext> {
    CURRENT.try_with(|c| c.replace(context)).ok().flatten()
}

/// Keeps a context current; restores the previous one when dropped.
#[must_use = "the context is current only while the guard lives"]
#[derive(Debug)]
pub struct ContextGuard {
    previous: Option<CorrelationContext>,
    /// A guard restores the context of the thread it was made on.
    _not_send: PhantomData<*const ()>,
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        // `try_with`: during thread teardown the slot may be gone already.
        let _ = CURRENT.try_with(|c| c.set(self.previous));
    }
}
