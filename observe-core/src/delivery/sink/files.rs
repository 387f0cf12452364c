//! Who may read the files and directories a sink creates: the owner only
//! (0600 / 0700) unless configured otherwise, since events hold user data
//! even after scrubbing.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The permissions given to files and directories a sink creates. Existing
/// files and directories keep theirs.
///
/// ```
/// use observe::sink::files::{Access, create_dirs, create_file};
///
/// let dir = std::env::temp_dir().join(format!("observe-doc-access-{}", std::process::id()));
/// create_dirs(&dir.join("logs"), Access::OwnerOnly).unwrap();
/// let file = create_file(&dir.join("logs/events.jsonl"), Access::OwnerOnly).unwrap();
/// # #[cfg(unix)] {
/// use std::os::unix::fs::PermissionsExt;
/// assert_eq!(file.metadata().unwrap().permissions().mode() & 0o777, 0o600);
/// assert_eq!(std::fs::metadata(dir.join("logs")).unwrap().permissions().mode() & 0o777, 0o700);
/// # }
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Files 0600, directories 0700: only the owner can read them.
    #[default]
    OwnerOnly,
    /// The process's umask decides (typically 0644 / 0755).
    Umask,
}

impl Access {
    #[cfg(unix)]
    fn modes(self) -> (u32, u32) {
        match self {
            Access::OwnerOnly => (0o600, 0o700),
            Access::Umask => (0o666, 0o777),
        }
    }
}

/// Creates `dir` and its missing parents; the ones created get `access`.
pub fn create_dirs(dir: &Path, access: Access) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, access.modes().1);
    #[cfg(not(unix))]
    let _ = access;
    builder.create(dir)
}

/// Opens `path` for appending, creating it with `access` if it is missing.
pub fn create_file(path: &Path, access: Access) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, access.modes().0);
    #[cfg(not(unix))]
    let _ = access;
    options.open(path)
}

/// Creates the parent directories of `path` (with `access`) and opens
/// `path` for appending, creating it with `access`.
pub fn create_with_parents(path: &Path, access: Access) -> io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent, access)?;
    }
    create_file(path, access)
}
