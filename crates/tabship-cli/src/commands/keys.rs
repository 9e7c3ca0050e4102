//! `tabship keys add|list|remove|rotate`: the keys file holds only SHA-256 hashes; a token is
//! printed once (add, rotate) and never listed.

use std::io::Read as _;
use std::path::Path;

use tabship_serve::auth::{Scope, add_key, add_key_with_token};
use tabship_serve::keyfile::{list_keys, remove_key, rotate_key};

use crate::cli::{KeysAddArgs, KeysArgs, KeysCommand, KeysListArgs};
use crate::error::{Error, Result};

pub fn run(args: KeysArgs) -> Result<()> {
    match args.command {
        KeysCommand::Add(a) => add(a),
        KeysCommand::List(a) => list(&a),
        KeysCommand::Remove(a) => {
            remove_key(&a.keys, &a.username)?;
            eprintln!(
                "removed the key of `{}` from {}",
                a.username,
                a.keys.display()
            );
            Ok(())
        }
        KeysCommand::Rotate(a) => {
            let token = rotate_key(&a.keys, &a.username)?;
            eprintln!(
                "new token for `{}` in {} (same scopes; the old token stops working once the server re-reads the file); it is shown only once:",
                a.username,
                a.keys.display()
            );
            crate::output::print(&format!("{token}\n"))
        }
    }
}

fn scope_names(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn add(a: KeysAddArgs) -> Result<()> {
    let scopes = a
        .scopes
        .iter()
        .map(|s| {
            Scope::parse(s).ok_or_else(|| {
                Error::Usage(format!(
                    "unknown scope `{s}`: use predict, feedback, admin or metrics"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let chosen = match (&a.token_file, a.token_stdin) {
        (Some(path), _) => Some(read_token(path, std::fs::read_to_string(path))?),
        (None, true) => {
            let mut text = String::new();
            let read = std::io::stdin().read_to_string(&mut text).map(|_| text);
            Some(read_token(Path::new("<stdin>"), read)?)
        }
        (None, false) => None,
    };
    match chosen {
        Some(token) => {
            add_key_with_token(&a.keys, &a.username, &scopes, &token)?;
            eprintln!(
                "added `{}` ({}) to {} with the token you gave; only its hash is stored",
                a.username,
                scope_names(&scopes),
                a.keys.display()
            );
        }
        None => {
            let token = add_key(&a.keys, &a.username, &scopes)?;
            eprintln!(
                "added `{}` ({}) to {}; the token is shown only once:",
                a.username,
                scope_names(&scopes),
                a.keys.display()
            );
            println!("{token}");
        }
    }
    Ok(())
}

/// The token of a file or standard input: one line, its line break dropped.
fn read_token(path: &Path, read: std::io::Result<String>) -> Result<String> {
    let text = read.map_err(|e| Error::io(path, e))?;
    let token = text.strip_suffix('\n').unwrap_or(&text);
    let token = token.strip_suffix('\r').unwrap_or(token);
    if token.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "no token: expected one line holding the token".to_owned(),
        });
    }
    Ok(token.to_owned())
}

fn list(a: &KeysListArgs) -> Result<()> {
    let keys = list_keys(&a.keys)?;
    if a.json {
        let text = serde_json::to_string_pretty(&keys).map_err(|e| Error::Input {
            path: a.keys.clone(),
            message: e.to_string(),
        })?;
        println!("{text}");
        return Ok(());
    }
    if keys.is_empty() {
        eprintln!("{} holds no keys", a.keys.display());
        return Ok(());
    }
    let width = keys
        .iter()
        .map(|k| k.username.chars().count())
        .max()
        .unwrap_or(0)
        .max("username".len());
    println!("{:<width$}  {:<12}  scopes", "username", "fingerprint");
    for k in &keys {
        println!(
            "{:<width$}  {:<12}  {}",
            k.username,
            k.fingerprint,
            scope_names(&k.scopes)
        );
    }
    Ok(())
}
