//! The layout of a model directory (`--model-dir`), shared by the start-up load and the watcher
//! ([`crate::watch`]):
//!
//! - `DIR/*.tabship`: flat files, named and versioned by the artifact itself;
//! - `DIR/NAME/VERSION.tabship`: version `VERSION` of model `NAME` (the path wins over the
//!   artifact's own name and version);
//! - `DIR/NAME/CURRENT`: optional pointer, one line holding the version `NAME` serves.
//!
//! Only names ending in `.tabship` are read, and none starting with `.`: a writer writes
//! `VERSION.tabship.tmp` (or any other name) and renames it, so a half-written file is never
//! picked up. Without a pointer the newest version, in [`version_order`], is current.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::registry::ModelEntry;

/// The name of the pointer file in `DIR/NAME/`.
pub const POINTER: &str = "CURRENT";

/// One artifact file of a model directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// The file.
    pub path: PathBuf,
    /// `NAME` and `VERSION` of `DIR/NAME/VERSION.tabship`; `None` for a flat file.
    pub nested: Option<(String, String)>,
}

/// What a model directory holds, read in one pass.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Artifact files: flat ones in path order, then each model's versions in [`version_order`].
    pub files: Vec<Found>,
    /// `NAME` → the versions present in `DIR/NAME/` and the pointer's content, if any.
    pub models: BTreeMap<String, Nested>,
}

/// One `DIR/NAME/` subdirectory.
#[derive(Debug, Default)]
pub(crate) struct Nested {
    /// Versions with a file, in [`version_order`] (oldest first).
    pub versions: Vec<String>,
    /// The trimmed content of `DIR/NAME/CURRENT`, when it exists and is not empty.
    pub pointer: Option<String>,
}

/// Reads `dir`: its `*.tabship` files and its `NAME/` subdirectories.
pub(crate) fn scan(dir: &Path) -> Result<Listing> {
    let mut listing = Listing::default();
    let mut subdirs = Vec::new();
    for path in entries(dir)? {
        if path.is_dir() {
            subdirs.push(path);
        } else if is_artifact(&path) && path.is_file() {
            listing.files.push(Found { path, nested: None });
        }
    }
    for sub in subdirs {
        // A subdirectory whose name is not a model name (`.snapshot`, `lost+found`) is not ours.
        let Some(name) = file_name(&sub).filter(|n| crate::error::check_name("", n).is_ok()) else {
            continue;
        };
        let mut versions: Vec<(String, PathBuf)> = entries(&sub)?
            .into_iter()
            .filter(|p| is_artifact(p) && p.is_file())
            .filter_map(|p| {
                let stem = file_name(&p)?.strip_suffix(".tabship")?.to_owned();
                Some((stem, p))
            })
            .collect();
        versions.sort_by(|a, b| version_order(&a.0, &b.0));
        let pointer = match std::fs::read_to_string(sub.join(POINTER)) {
            Ok(text) => Some(text.trim().to_owned()).filter(|v| !v.is_empty()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(Error::Io {
                    what: format!("reading the pointer `{}`", sub.join(POINTER).display()),
                    source,
                });
            }
        };
        let nested = listing.models.entry(name.clone()).or_default();
        nested.pointer = pointer;
        for (version, path) in versions {
            nested.versions.push(version.clone());
            listing.files.push(Found {
                path,
                nested: Some((name.clone(), version)),
            });
        }
    }
    Ok(listing)
}

/// The version `DIR/NAME/` says is current, among those `entry` has loaded: the pointer's
/// version, else the newest present version. `Err` carries the pointer's version when it names
/// one that is not loaded (absent, not yet arrived, or refused); `Ok(None)` when no present
/// version is loaded.
pub(crate) fn chosen_current<'a>(
    nested: &'a Nested,
    entry: &ModelEntry,
) -> std::result::Result<Option<&'a str>, &'a str> {
    if let Some(pointer) = &nested.pointer {
        return if entry.versions.contains_key(pointer) {
            Ok(Some(pointer))
        } else {
            Err(pointer)
        };
    }
    Ok(nested
        .versions
        .iter()
        .rev()
        .find(|v| entry.versions.contains_key(v.as_str()))
        .map(String::as_str))
}

/// The order of versions, "newest" being the greatest: the versions are cut into runs of digits
/// and runs of other characters, compared run by run; digit runs compare as numbers (`9` < `10`,
/// `1.9` < `1.10`, `007` = `7`, then the shorter spelling first), other runs byte by byte, and
/// a digit run sorts before a text run. So `2` < `10`, `2026-01-05` < `2026-01-12`, `v2` <
/// `v10`, and `1` < `1a` < `1b`. File times play no part: they differ between the machines that
/// share a volume, and copies reset them.
pub fn version_order(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (runs(a), runs(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let order = match (is_digits(p), is_digits(q)) {
                    (true, true) => {
                        let (p0, q0) = (p.trim_start_matches('0'), q.trim_start_matches('0'));
                        p0.len().cmp(&q0.len()).then_with(|| p0.cmp(q0))
                    }
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => p.cmp(q),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn is_digits(run: &str) -> bool {
    run.bytes().all(|b| b.is_ascii_digit())
}

/// `s` cut into maximal runs of ASCII digits and of other characters.
fn runs(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digits = first.is_ascii_digit();
        let end = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() != digits)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

fn is_artifact(path: &Path) -> bool {
    file_name(path).is_some_and(|n| n.ends_with(".tabship") && !n.starts_with('.'))
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name()?.to_str().map(str::to_owned)
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = std::fs::read_dir(dir).map_err(|source| Error::Io {
        what: format!("reading the model directory `{}`", dir.display()),
        source,
    })?;
    let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numbers_as_numbers() {
        let mut v = vec![
            "10",
            "9",
            "1.10",
            "1.9",
            "v10",
            "v2",
            "1a",
            "1",
            "2026-01-12",
            "2026-01-05",
            "007",
            "7",
        ];
        v.sort_by(|a, b| version_order(a, b));
        assert_eq!(
            v,
            [
                "1",
                "1.9",
                "1.10",
                "1a",
                "007",
                "7",
                "9",
                "10",
                "2026-01-05",
                "2026-01-12",
                "v2",
                "v10"
            ]
        );
    }

    #[test]
    fn only_finished_artifacts_are_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("iris");
        std::fs::create_dir(&model).expect("mkdir");
        for name in ["2.tabship", "10.tabship", "11.tabship.tmp", ".12.tabship"] {
            std::fs::write(model.join(name), b"x").expect("write");
        }
        std::fs::write(model.join(POINTER), "2\n").expect("write");
        std::fs::write(dir.path().join("flat.tabship"), b"x").expect("write");
        std::fs::create_dir(dir.path().join("lost+found")).expect("mkdir");
        let listing = scan(dir.path()).expect("scan");
        let files: Vec<_> = listing
            .files
            .iter()
            .map(|f| f.path.strip_prefix(dir.path()).expect("inside"))
            .collect();
        assert_eq!(
            files,
            [
                Path::new("flat.tabship"),
                Path::new("iris/2.tabship"),
                Path::new("iris/10.tabship")
            ]
        );
        let iris = &listing.models["iris"];
        assert_eq!(iris.versions, ["2", "10"]);
        assert_eq!(iris.pointer.as_deref(), Some("2"));
        assert_eq!(listing.models.len(), 1);
    }
}
