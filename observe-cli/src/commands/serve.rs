//! `observe serve`: the live event stream (SSE), the JSON API, `/metrics`
//! and the dashboard over the store, served by `observe-serve` until
//! Ctrl-C or SIGTERM.

use std::net::SocketAddr;

use observe_serve::{ServeError, ServeOptions};

use crate::args::Globals;
use crate::error::CliError;

/// Where and for whom to serve.
pub struct Options {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// The bearer token (else `OBSERVE_TOKEN`).
    pub token: Option<String>,
    /// Origins allowed to call the API from a browser.
    pub cors_origins: Vec<String>,
    /// How far below the default priority the server's threads run.
    pub nice: i32,
}

/// Serves the store until interrupted.
pub async fn exec(globals: &Globals, options: Options) -> Result<(), CliError> {
    let mut serve = ServeOptions::new(globals.store.clone());
    serve.bind = options.bind;
    serve.token = options.token;
    serve.cors_origins = options.cors_origins;
    serve.types = globals.types;
    observe_serve::serve(serve.token_from_env())
        .await
        .map_err(CliError::from)
}

impl From<ServeError> for CliError {
    fn from(error: ServeError) -> CliError {
        match error {
            ServeError::TokenRequired(_) | ServeError::EmptyToken => {
                CliError::usage(error.to_string())
            }
            ServeError::Store(e) => CliError::from(e),
            ServeError::Io { .. } => CliError::failed(format!(
                "{error}: is another server using that address? pick another with --bind"
            )),
            other => CliError::failed(other.to_string()),
        }
    }
}
