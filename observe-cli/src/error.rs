//! [`CliError`]: a failed operation (exit code 1) or a usage error (exit
//! code 2), each one line that says what to do.

use std::fmt;

use observe::store::StoreError;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The command line asks for something impossible (exit code 2).
    Usage(String),
    /// The operation failed (exit code 1).
    Failed(String),
    /// Writing the output failed.
    Output(std::io::Error),
}

impl CliError {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::Usage(message.into())
    }

    /// A failed operation.
    pub fn failed(message: impl Into<String>) -> CliError {
        CliError::Failed(message.into())
    }

    /// 2 for a usage error, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) | CliError::Output(_) => 1,
        }
    }

    /// The reader of our output went away (`observe tail | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) => write!(f, "error: {message} (see `observe --help`)"),
            CliError::Failed(message) => write!(f, "error: {message}"),
            CliError::Output(e) => write!(f, "error: cannot write the output: {e}"),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> CliError {
        CliError::Output(error)
    }
}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> CliError {
        let hint = match &error {
            StoreError::Missing { .. } => {
                "; run your application (or `cargo run --example chat_pipeline`) to create it, or name another store with --store or OBSERVE_STORE"
            }
            StoreError::UnknownScheme { .. } | StoreError::InvalidUrl { .. } => {
                return CliError::Usage(error.to_string());
            }
            StoreError::Database {
                backend: "PostgreSQL",
                ..
            } => {
                "; is the PostgreSQL server running and reachable, and are the user and password in the URL right?"
            }
            _ => "",
        };
        CliError::Failed(format!("{error}{hint}"))
    }
}
