//! Delivery: the bounded queue and worker thread that take events off the
//! caller's path ([`pipeline`]), the sanitizer every event passes through
//! before it leaves the process ([`sanitize`]), the circuit breaker that
//! guards a sink ([`breaker`]), and the sinks themselves ([`sink`]).

pub mod breaker;
pub(crate) mod isolate;
pub mod pipeline;
pub mod sanitize;
pub mod sink;
