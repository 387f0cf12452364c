//! The errors of starting the server.

use std::net::SocketAddr;

use observe_store::StoreError;

/// Why the server did not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A non-loopback address without a token.
    #[error(
        "refusing to bind {0} without a token: any other address than loopback exposes every \
         event; pass --token (or set OBSERVE_TOKEN), or bind 127.0.0.1"
    )]
    TokenRequired(SocketAddr),
    /// An empty token.
    #[error("the token is empty")]
    EmptyToken,
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Binding or serving failed.
    #[error("could not serve on {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}
