//! Source paths in stack frames, shown relative so that they never reveal a
//! user name or a machine's layout. The rules, first match wins:
//!
//! 1. A relative path is kept as written.
//! 2. The standard library (`/rustc/<commit>/library/...`, or a local
//!    `.../lib/rustlib/src/rust/library/...`) becomes `library/...`.
//! 3. A crate from a cargo registry (`.../registry/src/<index>/serde-1.0.200/src/de.rs`)
//!    becomes `serde-1.0.200/src/de.rs`; a git dependency
//!    (`.../git/checkouts/<repository>/<commit>/src/lib.rs`) becomes
//!    `<repository>/<commit>/src/lib.rs`.
//! 4. A path under the current directory loses that prefix (so the
//!    application's own files are workspace-relative when it runs from its
//!    workspace, as `cargo run` and `cargo test` do), unless the current
//!    directory is the root or encloses the home directory.
//! 5. Any other path keeps its last `<package>/<src|tests|examples|benches>/...`
//!    part (the package directory before the last such component).
//! 6. Otherwise only the file name is kept.

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// Directories that hold a package's sources.
const SOURCE_DIRS: &[&str] = &["src", "tests", "examples", "benches"];

/// `path` as shown in a frame, `/`-separated and never absolute.
pub fn relative(path: &Path) -> String {
    if path.is_relative() {
        return join(&names(path));
    }
    let parts = names(path);
    let kept = standard_library(&parts)
        .or_else(|| dependency(&parts))
        .or_else(|| under_current_dir(path))
        .or_else(|| package(&parts))
        .unwrap_or_else(|| {
            parts
                .last()
                .map(|name| vec![name.clone()])
                .unwrap_or_default()
        });
    join(&kept)
}

/// The normal components of a path (no root, prefix or `.`).
fn names(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_owned()),
            _ => None,
        })
        .collect()
}

fn join(parts: &[String]) -> String {
    parts.join("/")
}

/// The components after the first occurrence of `marker` (consecutive
/// names) plus `skip` more.
fn after(parts: &[String], marker: &[&str], skip: usize) -> Option<Vec<String>> {
    let start = parts
        .windows(marker.len())
        .position(|window| window.iter().zip(marker).all(|(a, b)| a == b))?;
    let rest = parts.get(start + marker.len() + skip..)?;
    (!rest.is_empty()).then(|| rest.to_vec())
}

fn standard_library(parts: &[String]) -> Option<Vec<String>> {
    if parts.first().is_some_and(|first| first == "rustc") {
        return parts.get(2..).map(<[String]>::to_vec);
    }
    after(parts, &["rustlib", "src", "rust"], 0)
}

fn dependency(parts: &[String]) -> Option<Vec<String>> {
    after(parts, &["registry", "src"], 1).or_else(|| after(parts, &["git", "checkouts"], 0))
}

fn under_current_dir(path: &Path) -> Option<Vec<String>> {
    let base = workspace_base()?;
    let rest = path.strip_prefix(base).ok()?;
    let parts = names(rest);
    (!parts.is_empty()).then_some(parts)
}

/// The current directory, if stripping it cannot leave a user name in a
/// path: not the root, and not a directory that encloses the home
/// directory. Read once.
fn workspace_base() -> Option<&'static Path> {
    static BASE: OnceLock<Option<PathBuf>> = OnceLock::new();
    BASE.get_or_init(|| {
        let current = std::env::current_dir().ok()?;
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from);
        let encloses_home = home.is_some_and(|home| home.starts_with(&current) && home != current);
        (names(&current).len() > 1 && !encloses_home).then_some(current)
    })
    .as_deref()
}

fn package(parts: &[String]) -> Option<Vec<String>> {
    let source_dir = parts
        .iter()
        .rposition(|name| SOURCE_DIRS.contains(&name.as_str()))?;
    let start = source_dir.checked_sub(1)?;
    Some(parts[start..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(path: &str) -> String {
        relative(Path::new(path))
    }

    #[test]
    fn standard_library_paths_start_at_library() {
        assert_eq!(
            shown("/rustc/59807616e1/library/core/src/panicking.rs"),
            "library/core/src/panicking.rs"
        );
        assert_eq!(
            shown(
                "/home/ann/.rustup/toolchains/stable/lib/rustlib/src/rust/library/std/src/panic.rs"
            ),
            "library/std/src/panic.rs"
        );
    }

    #[test]
    fn dependencies_are_crate_relative() {
        assert_eq!(
            shown(
                "/home/ann/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.219/src/de/mod.rs"
            ),
            "serde-1.0.219/src/de/mod.rs"
        );
        assert_eq!(
            shown("/opt/cargo/git/checkouts/tokio-3b8c1c0e/9a1b2c3/tokio/src/lib.rs"),
            "tokio-3b8c1c0e/9a1b2c3/tokio/src/lib.rs"
        );
    }

    #[test]
    fn other_paths_keep_their_package_and_never_the_home() {
        assert_eq!(
            shown("/home/ann/work/chat/services/api/src/handlers/retrieve.rs"),
            "api/src/handlers/retrieve.rs"
        );
        assert_eq!(shown("/srv/build/chat/tests/e2e.rs"), "chat/tests/e2e.rs");
        assert_eq!(shown("/home/ann/generated.rs"), "generated.rs");
        assert_eq!(shown("src/lib.rs"), "src/lib.rs");
        let here = std::env::current_dir().unwrap().join("tests/panics.rs");
        assert_eq!(relative(&here), "tests/panics.rs");
    }
}
