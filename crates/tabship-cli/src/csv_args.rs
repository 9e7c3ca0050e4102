//! The CSV-reading options every command that reads a CSV shares (train, predict, evaluate,
//! drift, bench), flattened into each command's arguments.

use clap::Args;
use tabship::NaValues;
use tabship_train::csv_input::{CsvOptions, TextEncoding, parse_delimiter};

/// The `--help` heading of these options.
const HEADING: &str = "CSV input";

/// How the input CSV is read.
#[derive(Debug, Clone, Args)]
pub struct CsvArgs {
    /// Field delimiter: one character (`;`, `|`) or `tab` [default: `,`].
    #[arg(long, value_name = "CHAR", value_parser = delimiter, help_heading = HEADING)]
    pub delimiter: Option<u8>,
    /// The file's text encoding: utf-8, latin-1, windows-1252 or any WHATWG label (Latin-1
    /// reads as its superset Windows-1252).
    #[arg(long, value_name = "LABEL", default_value = "utf-8", value_parser = encoding, help_heading = HEADING)]
    pub file_encoding: TextEncoding,
    /// The decimal mark of numbers: `.` or `,` (`3,14`; then use another --delimiter).
    #[arg(long, value_name = "MARK", default_value = ".", value_parser = [".", ","], help_heading = HEADING)]
    pub decimal: String,
    /// More texts that mean missing, comma-separated, in every column (categorical ones
    /// included). `train` stores them in the artifact; other commands add them to the stored
    /// ones. The defaults are missing in numeric columns only: `NA`, `N/A`, `n/a`, `NaN`, `nan`, `-NaN`, `-nan`, `NULL`, `null`, `None`, `<NA>`, `#N/A`,
    /// `#N/A N/A`, `#NA`, `-1.#IND`, `-1.#QNAN`, `1.#IND`, `1.#QNAN`, `?`, `-`.
    #[arg(long, value_name = "TEXTS", value_delimiter = ',', help_heading = HEADING)]
    pub na_values: Vec<String>,
    /// Do not read the default NA spellings as missing (only empty fields, `NaN` and
    /// --na-values are).
    #[arg(long, help_heading = HEADING)]
    pub no_default_na: bool,
}

impl CsvArgs {
    /// The reading options.
    pub fn options(&self) -> CsvOptions {
        CsvOptions {
            delimiter: self.delimiter,
            encoding: self.file_encoding,
            decimal_comma: self.decimal == ",",
            na_values: NaValues::new(!self.no_default_na, self.na_values.iter().cloned()),
        }
    }
}

fn delimiter(text: &str) -> Result<u8, String> {
    parse_delimiter(text).map_err(|e| e.to_string())
}

fn encoding(text: &str) -> Result<TextEncoding, String> {
    text.parse()
        .map_err(|e: tabship_train::Error| e.to_string())
}
