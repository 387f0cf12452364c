//! What `observe serve` is told: the store, the address, the token.

use std::net::SocketAddr;

use observe_core::read::reader::{TypeLookup, builtin_types};
use observe_store::StoreUrl;

use crate::ServeError;

/// The address served when none is given.
pub const DEFAULT_BIND: &str = "127.0.0.1:7878";

/// The environment variable that may hold the token.
pub const TOKEN_ENV: &str = "OBSERVE_TOKEN";

/// How to serve: a plain value, filled in by the CLI.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The store to read.
    pub store: StoreUrl,
    /// Where to listen; loopback unless a token is set.
    pub bind: SocketAddr,
    /// The bearer token every route but `/metrics` then requires.
    pub token: Option<String>,
    /// Origins allowed to call the API from a browser (CORS); none by
    /// default.
    pub cors_origins: Vec<String>,
    /// How event type names are read: the built-in types by default, an
    /// application's `EventType::parse`, or
    /// [`any_types`](observe_core::read::reader::any_types) to show every
    /// application's own types.
    pub types: TypeLookup,
    /// How many of the newest events the stream keeps in memory, encoded
    /// once for every client (at most 32 MiB of them). A client further
    /// behind is told it lagged and reads the store instead.
    pub stream_window: usize,
}

/// [`ServeOptions::stream_window`] unless set.
pub const DEFAULT_STREAM_WINDOW: usize = 65_536;

impl ServeOptions {
    /// The store on [`DEFAULT_BIND`], no token, no CORS, the built-in
    /// event types, a [`DEFAULT_STREAM_WINDOW`].
    pub fn new(store: StoreUrl) -> ServeOptions {
        ServeOptions {
            store,
            bind: SocketAddr::from(([127, 0, 0, 1], 7878)),
            token: None,
            cors_origins: Vec::new(),
            types: builtin_types,
            stream_window: DEFAULT_STREAM_WINDOW,
        }
    }

    /// Takes the token from [`TOKEN_ENV`] when none was given.
    pub fn token_from_env(mut self) -> ServeOptions {
        if self.token.is_none() {
            self.token = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty());
        }
        self
    }

    /// Refuses a non-loopback bind without a token, and an empty token.
    ///
    /// ```
    /// use observe_serve::{ServeError, ServeOptions};
    ///
    /// let mut options = ServeOptions::new("sqlite://events.db".parse()?);
    /// options.bind = "0.0.0.0:7878".parse().unwrap();
    /// assert!(matches!(options.validate(), Err(ServeError::TokenRequired(_))));
    /// options.token = Some("s3cret".into());
    /// assert!(options.validate().is_ok());
    /// # Ok::<(), observe_serve::ServeError>(())
    /// ```
    pub fn validate(&self) -> Result<(), ServeError> {
        match &self.token {
            Some(token) if token.is_empty() => Err(ServeError::EmptyToken),
            None if !self.bind.ip().is_loopback() => Err(ServeError::TokenRequired(self.bind)),
            _ => Ok(()),
        }
    }
}
