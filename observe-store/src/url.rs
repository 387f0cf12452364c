//! [`StoreUrl`]: one string names a store everywhere (API, CLI, the
//! `OBSERVE_STORE` environment variable): `sqlite://<path>`,
//! `postgres://user@host:port/db`, or a path ending in `.jsonl`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::StoreError;

/// The environment variable that names the store.
pub const ENV_VAR: &str = "OBSERVE_STORE";

/// A parsed store URL.
///
/// ```
/// use observe::store::StoreUrl;
///
/// let url: StoreUrl = "sqlite:///var/lib/app/events.db".parse()?;
/// assert_eq!(url, StoreUrl::Sqlite("/var/lib/app/events.db".into()));
/// let pg: StoreUrl = "postgres://app:secret@127.0.0.1:5432/events".parse()?;
/// assert_eq!(pg.to_string(), "postgres://app:***@127.0.0.1:5432/events"); // never the password
/// assert!("redis://localhost".parse::<StoreUrl>().is_err());
/// # Ok::<(), observe::store::StoreError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreUrl {
    /// `sqlite://<path>`: `sqlite:///abs/path.db` or `sqlite://relative.db`.
    Sqlite(PathBuf),
    /// `postgres://` or `postgresql://`, as libpq reads it.
    Postgres(String),
    /// A JSONL file (read-only as a store; a sink appends to it).
    Jsonl(PathBuf),
}

impl StoreUrl {
    /// The URL in `OBSERVE_STORE`, if the variable is set and not empty.
    pub fn from_env() -> Result<Option<StoreUrl>, StoreError> {
        match std::env::var(ENV_VAR) {
            Ok(value) if !value.trim().is_empty() => value.trim().parse().map(Some),
            _ => Ok(None),
        }
    }

    /// `text` with any password in it replaced by `***`, for messages
    /// about a URL that may not even parse.
    ///
    /// ```
    /// assert_eq!(
    ///     observe::store::StoreUrl::redact("postgres://app:secret@db:5432/events"),
    ///     "postgres://app:***@db:5432/events"
    /// );
    /// ```
    pub fn redact(text: &str) -> String {
        mask_password(text)
    }

    /// An SQLite store at `path`.
    pub fn sqlite(path: impl Into<PathBuf>) -> StoreUrl {
        StoreUrl::Sqlite(path.into())
    }
}

impl FromStr for StoreUrl {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<StoreUrl, StoreError> {
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl {
                    url: text.to_owned(),
                    reason: "no path after sqlite://".to_owned(),
                });
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(StoreError::UnknownScheme {
                scheme: scheme.to_owned(),
                url: mask_password(text),
            });
        }
        if text.ends_with(".jsonl") {
            return Ok(StoreUrl::Jsonl(PathBuf::from(text)));
        }
        Err(StoreError::InvalidUrl {
            url: text.to_owned(),
            reason: format!(
                "not a store URL: write sqlite://{text} for an SQLite file, postgres://... for PostgreSQL, or a path ending in .jsonl"
            ),
        })
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            StoreUrl::Postgres(url) => f.write_str(&mask_password(url)),
            StoreUrl::Jsonl(path) => write!(f, "{}", path.display()),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

/// The URL with the password of its user info and of any `password=`
/// parameter replaced by `***`.
pub(crate) fn mask_password(url: &str) -> String {
    let mut masked = match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((user_info, host)) => match user_info.split_once(':') {
                    Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
                    None => url.to_owned(),
                },
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    if let Some(at) = masked.find("password=") {
        let start = at + "password=".len();
        let end = masked[start..]
            .find('&')
            .map_or(masked.len(), |i| start + i);
        masked.replace_range(start..end, "***");
    }
    masked
}
