//! `tabship keys add`.

use tabship_serve::auth::{Scope, add_key};

use crate::cli::{KeysArgs, KeysCommand};
use crate::error::{Error, Result};

pub fn run(args: KeysArgs) -> Result<()> {
    match args.command {
        KeysCommand::Add(a) => {
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
            let token = add_key(&a.keys, &a.username, &scopes)?;
            eprintln!(
                "added `{}` ({}) to {}; the token is shown only once:",
                a.username,
                scopes
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                a.keys.display()
            );
            crate::output::print(&format!("{token}\n"))
        }
    }
}
