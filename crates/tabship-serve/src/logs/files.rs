//! Finding and reading prediction log files: patterns (`logs/*.jsonl`) expanded, each active
//! file's rotated predecessors (`log.jsonl.1`, `.2`, ...) included, every file read once, oldest
//! first within a replica.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::record::LogRecord;
use crate::error::{Error, Result};

/// One replica's log: its active file and rotated ones, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// The active file's path (rotated files are this path plus `.N`).
    pub base: PathBuf,
    /// The files to read, oldest first (`.N`, ..., `.1`, then the active file).
    pub files: Vec<PathBuf>,
}

/// Whether `name` matches `pattern`, where `*` is any run of characters and `?` one character.
fn matches(pattern: &[char], name: &[char]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some('*'), _) => {
            matches(&pattern[1..], name) || (!name.is_empty() && matches(pattern, &name[1..]))
        }
        (Some('?'), Some(_)) => matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// `path` without a rotation suffix (`log.jsonl.3` → (`log.jsonl`, 3)); the active file is 0.
fn rotation(path: &Path) -> (PathBuf, usize) {
    let text = path.to_string_lossy();
    if let Some((base, n)) = text.rsplit_once('.') {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = n.parse::<usize>() {
                return (PathBuf::from(base), n);
            }
        }
    }
    (path.to_path_buf(), 0)
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { what, source }
}

/// The files a pattern names: the file itself, or, with `*` or `?` in its last component, every
/// file of that directory whose name matches (wildcards in directories are not expanded).
fn expand_one(pattern: &str) -> Result<Vec<PathBuf>> {
    let path = Path::new(pattern);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if dir.is_some_and(|d| d.to_string_lossy().contains(['*', '?'])) {
        return Err(Error::Logs(format!(
            "log pattern `{pattern}`: wildcards are expanded in the file name only, not in directories; give one --log per directory"
        )));
    }
    if !name.contains(['*', '?']) {
        if !path.is_file() {
            return Err(Error::Logs(format!(
                "log file `{pattern}` does not exist or is not a file"
            )));
        }
        return Ok(vec![path.to_path_buf()]);
    }
    let dir = dir.unwrap_or(Path::new("."));
    let pattern_chars: Vec<char> = name.chars().collect();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(format!("listing `{}`", dir.display())))? {
        let entry = entry.map_err(io(format!("listing `{}`", dir.display())))?;
        let file_name: Vec<char> = entry.file_name().to_string_lossy().chars().collect();
        if matches(&pattern_chars, &file_name) && entry.path().is_file() {
            found.push(dir.join(entry.file_name()));
        }
    }
    if found.is_empty() {
        return Err(Error::Logs(format!(
            "log pattern `{pattern}` matches no file"
        )));
    }
    Ok(found)
}

/// The replicas that `patterns` name, in a stable order (by path): each active file with its
/// rotated predecessors, each file once however many patterns name it.
pub fn replicas(patterns: &[String]) -> Result<Vec<Replica>> {
    if patterns.is_empty() {
        return Err(Error::Logs(
            "no prediction log given (--log FILE or PATTERN)".into(),
        ));
    }
    // base → rotation number → file; canonical paths, so `logs/a.jsonl` and `./logs/a.jsonl`
    // are one file.
    let mut groups: BTreeMap<PathBuf, BTreeMap<usize, PathBuf>> = BTreeMap::new();
    for pattern in patterns {
        for file in expand_one(pattern)? {
            let canonical = std::fs::canonicalize(&file)
                .map_err(io(format!("reading `{}`", file.display())))?;
            let (base, n) = rotation(&canonical);
            let group = groups.entry(base.clone()).or_default();
            group.insert(n, canonical);
            // The rotated predecessors of a file named, which the pattern may not match.
            for k in 1.. {
                let mut rotated = base.clone().into_os_string();
                rotated.push(format!(".{k}"));
                let rotated = PathBuf::from(rotated);
                if !rotated.is_file() {
                    break;
                }
                group.insert(k, rotated);
            }
        }
    }
    Ok(groups
        .into_iter()
        .map(|(base, files)| Replica {
            base,
            // Highest rotation number first: the oldest lines.
            files: files.into_values().rev().collect(),
        })
        .collect())
}

/// A line that is not a log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The file.
    pub path: PathBuf,
    /// The line, counted from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads every record of `replica`'s files, oldest first, calling `visit` with each; lines that
/// are not records (a line cut short by a crash, a foreign line) go to `bad` and are skipped.
pub fn read_replica(
    replica: &Replica,
    bad: &mut Vec<BadLine>,
    mut visit: impl FnMut(LogRecord),
) -> Result<u64> {
    let mut lines = 0u64;
    for path in &replica.files {
        let file =
            std::fs::File::open(path).map_err(io(format!("reading `{}`", path.display())))?;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(io(format!("reading `{}`", path.display())))?;
            if n == 0 {
                break;
            }
            number += 1;
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            lines += 1;
            match LogRecord::parse(text) {
                Ok(record) => visit(record),
                Err(message) => bad.push(BadLine {
                    path: path.clone(),
                    line: number,
                    message,
                }),
            }
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_names() {
        let m = |p: &str, n: &str| {
            matches(
                &p.chars().collect::<Vec<_>>(),
                &n.chars().collect::<Vec<_>>(),
            )
        };
        assert!(m("*.jsonl", "a.jsonl"));
        assert!(m("r?.jsonl", "r1.jsonl"));
        assert!(!m("*.jsonl", "a.jsonl.1"));
        assert!(m("*", "a.jsonl.1"));
        assert!(!m("r?.jsonl", "r10.jsonl"));
    }

    #[test]
    fn rotated_files_come_first_and_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["a.jsonl", "a.jsonl.1", "a.jsonl.2", "b.jsonl", "notes.txt"] {
            std::fs::write(dir.path().join(name), "").expect("writable file");
        }
        let p = |s: &str| format!("{}/{s}", dir.path().display());
        let replicas = replicas(&[p("*.jsonl"), p("a.jsonl"), p("*")]).expect("replicas");
        let names: Vec<Vec<String>> = replicas
            .iter()
            .map(|r| {
                r.files
                    .iter()
                    .map(|f| {
                        f.file_name()
                            .expect("a file name")
                            .to_string_lossy()
                            .into_owned()
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            names,
            [
                vec!["a.jsonl.2", "a.jsonl.1", "a.jsonl"],
                vec!["b.jsonl"],
                vec!["notes.txt"]
            ]
        );
        assert!(replicas_err(&p("none*.jsonl")).contains("matches no file"));
        assert!(replicas_err(&p("missing.jsonl")).contains("does not exist"));
    }

    fn replicas_err(pattern: &str) -> String {
        replicas(&[pattern.to_owned()]).unwrap_err().to_string()
    }
}
