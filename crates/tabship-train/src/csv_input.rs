//! Reading CSV files in the dialects users have: the delimiter, the text encoding, a decimal
//! comma and the texts that mean missing. Every command that reads a CSV (training, prediction,
//! evaluation, drift, benchmarks) opens it through [`CsvOptions::open`], so they all read a file
//! the same way.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use csv::StringRecord;
use encoding_rs::{CoderResult, Decoder, Encoding};
use tabship::NaValues;

use crate::{Error, Result};

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CsvOptions {
    /// The field delimiter; `None` is a comma, and a file that then reads as one column whose
    /// header holds `;` or a tab is refused with a hint to set it.
    pub delimiter: Option<u8>,
    /// The text encoding of the file (default UTF-8; a UTF-8 byte-order mark is skipped).
    pub encoding: TextEncoding,
    /// Numbers are written with a decimal comma (`3,14`): a field that is a number once its one
    /// comma reads as a point is read as that number.
    pub decimal_comma: bool,
    /// The texts that mean missing (see [`NaValues`]); a pipeline trained from the file stores
    /// them, and a prediction run adds them to the pipeline's own.
    pub na_values: NaValues,
}

/// A text encoding, by any WHATWG label (`utf-8`, `latin-1`, `iso-8859-1`, `windows-1252`,
/// `cp1252`, `utf-16le`, `shift_jis`, ...). As in browsers, the Latin-1 labels read as
/// Windows-1252, which only differs in 0x80–0x9F where Latin-1 has control codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextEncoding(&'static Encoding);

impl Default for TextEncoding {
    fn default() -> Self {
        TextEncoding(encoding_rs::UTF_8)
    }
}

impl TextEncoding {
    /// The encoding's canonical name (`UTF-8`, `windows-1252`).
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TextEncoding {
    type Err = Error;

    fn from_str(label: &str) -> Result<Self> {
        // `latin-1` is what people type; WHATWG only knows `latin1`.
        let normalized = label.trim().to_ascii_lowercase().replace("latin-", "latin");
        Encoding::for_label(normalized.as_bytes())
            .map(TextEncoding)
            .ok_or_else(|| Error::InvalidOption {
                option: "encoding",
                reason: format!(
                    "unknown text encoding `{label}` (expected a label such as utf-8, latin-1, windows-1252)"
                ),
            })
    }
}

/// Parses a delimiter argument: one ASCII character, or `tab` / `\t`.
pub fn parse_delimiter(text: &str) -> Result<u8> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() && text != "\"" && text != "\n" => {
            Ok(text.as_bytes()[0])
        }
        _ => Err(Error::InvalidOption {
            option: "delimiter",
            reason: format!(
                "expected one ASCII character other than a quote (`;`, `|`, `tab`), got `{text}`"
            ),
        }),
    }
}

/// An open CSV file: its header, then its records one at a time.
pub struct CsvFile {
    path: PathBuf,
    reader: csv::Reader<Box<dyn Read + Send>>,
    header: StringRecord,
    options: CsvOptions,
}

impl fmt::Debug for CsvFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvFile")
            .field("path", &self.path)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl CsvOptions {
    /// Opens `path` and reads its header row. A missing file is
    /// [`tabship::Error::NotFound`]; a header that reads as one column holding `;` or a tab
    /// (with the default delimiter) is an error suggesting `--delimiter`.
    pub fn open(&self, path: &Path) -> Result<CsvFile> {
        let file = std::fs::File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Core(tabship::Error::NotFound {
                    path: path.to_path_buf(),
                })
            } else {
                Error::Csv {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }
            }
        })?;
        let input: Box<dyn Read + Send> = if self.encoding.0 == encoding_rs::UTF_8 {
            Box::new(file)
        } else {
            Box::new(Decoding::new(file, self.encoding.0))
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter.unwrap_or(b','))
            .from_reader(input);
        let header = reader.headers().map_err(|e| self.error(path, &e))?.clone();
        if self.delimiter.is_none() && header.len() == 1 {
            let only = header.get(0).unwrap_or("");
            if let Some(hint) = delimiter_hint(only) {
                return Err(Error::Csv {
                    path: path.to_path_buf(),
                    message: format!("the header reads as one column `{only}`: {hint}"),
                });
            }
        }
        Ok(CsvFile {
            path: path.to_path_buf(),
            reader,
            header,
            options: self.clone(),
        })
    }

    /// A CSV error with a hint for the usual causes: another delimiter, another encoding.
    fn error(&self, path: &Path, e: &csv::Error) -> Error {
        let mut message = e.to_string();
        match e.kind() {
            csv::ErrorKind::Utf8 { .. } if self.encoding.0 == encoding_rs::UTF_8 => {
                message.push_str(
                    " (the file is not UTF-8: pass its encoding, e.g. `--file-encoding latin-1` or `--file-encoding windows-1252`)",
                );
            }
            csv::ErrorKind::UnequalLengths { .. } if self.delimiter.is_none() => {
                message.push_str(
                    " (if the file is not comma-separated, pass `--delimiter`, e.g. `--delimiter ';'`)",
                );
            }
            _ => {}
        }
        Error::Csv {
            path: path.to_path_buf(),
            message,
        }
    }
}

/// The hint for a one-column header that holds another likely delimiter.
fn delimiter_hint(header: &str) -> Option<String> {
    let (shown, arg) = if header.contains(';') {
        ("`;`", "';'")
    } else if header.contains('\t') {
        ("a tab", "tab")
    } else if header.contains('|') {
        ("`|`", "'|'")
    } else {
        return None;
    };
    Some(format!(
        "the file looks separated by {shown}: pass `--delimiter {arg}`"
    ))
}

impl CsvFile {
    /// The header row.
    pub fn header(&self) -> &StringRecord {
        &self.header
    }

    /// The header's names.
    pub fn names(&self) -> Vec<String> {
        self.header.iter().map(str::to_owned).collect()
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next record into `record`; `false` at the end of the file.
    pub fn read_record(&mut self, record: &mut StringRecord) -> Result<bool> {
        let more = self
            .reader
            .read_record(record)
            .map_err(|e| self.options.error(&self.path, &e))?;
        if more && self.options.decimal_comma && record.iter().any(|f| f.contains(',')) {
            *record = record.iter().map(decimal_comma).collect();
        }
        Ok(more)
    }

    /// Every remaining record.
    pub fn read_all(&mut self) -> Result<Vec<StringRecord>> {
        let mut records = Vec::new();
        let mut record = StringRecord::new();
        while self.read_record(&mut record)? {
            records.push(record.clone());
        }
        Ok(records)
    }

    /// Bytes consumed so far (of the decoded text for a non-UTF-8 file), for progress bars.
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// `3,14` → `3.14` when that is a number; anything else unchanged (`a,b`, `1,000.5`).
fn decimal_comma(field: &str) -> std::borrow::Cow<'_, str> {
    let t = field.trim();
    if t.matches(',').count() == 1 && !t.contains('.') {
        let swapped = t.replace(',', ".");
        if swapped.parse::<f64>().is_ok_and(f64::is_finite) {
            return swapped.into();
        }
    }
    field.into()
}

/// A reader that decodes another encoding into UTF-8 as it goes, so large files stream.
struct Decoding<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    done: bool,
}

impl<R: Read> Decoding<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        Decoding {
            inner,
            decoder: encoding.new_decoder(),
            input: vec![0; 1 << 16],
            start: 0,
            end: 0,
            eof: false,
            output: vec![0; 1 << 17],
            out_start: 0,
            out_end: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.start = 0;
                self.end = n;
                self.eof = n == 0;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.start..self.end],
                &mut self.output,
                self.eof,
            );
            self.start += read;
            self.out_start = 0;
            self.out_end = written;
            if self.eof && result == CoderResult::InputEmpty {
                self.done = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    #[test]
    fn latin1_files_decode() {
        // `Mülheim;Café` in Latin-1, semicolon-separated, with a decimal comma.
        let bytes = b"city;price\nM\xfclheim;3,5\nCaf\xe9;4\n";
        let (_dir, path) = write("a.csv", bytes);
        let options = CsvOptions {
            delimiter: Some(b';'),
            encoding: "latin-1".parse().unwrap(),
            decimal_comma: true,
            ..CsvOptions::default()
        };
        let mut file = options.open(&path).unwrap();
        assert_eq!(file.names(), ["city", "price"]);
        let rows = file.read_all().unwrap();
        assert_eq!(&rows[0], vec!["Mülheim", "3.5"]);
        assert_eq!(&rows[1], vec!["Café", "4"]);
        let utf8 = CsvOptions {
            delimiter: Some(b';'),
            ..CsvOptions::default()
        };
        let err = utf8
            .open(&path)
            .and_then(|mut f| f.read_all())
            .unwrap_err()
            .to_string();
        assert!(err.contains("--file-encoding latin-1"), "{err}");
    }

    #[test]
    fn long_inputs_stream_through_the_decoder() {
        let mut bytes = b"x\n".to_vec();
        for _ in 0..50_000 {
            bytes.extend_from_slice(b"\xe9t\xe9\n");
        }
        let (_dir, path) = write("b.csv", &bytes);
        let options = CsvOptions {
            encoding: "windows-1252".parse().unwrap(),
            ..CsvOptions::default()
        };
        let rows = options.open(&path).unwrap().read_all().unwrap();
        assert_eq!(rows.len(), 50_000);
        assert!(rows.iter().all(|r| r.get(0) == Some("été")));
    }

    #[test]
    fn semicolon_files_get_a_hint() {
        let (_dir, path) = write("c.csv", b"a;b;c\n1;2;3\n");
        let err = CsvOptions::default().open(&path).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "c.csv: the header reads as one column `a;b;c`: the file looks separated by `;`: pass `--delimiter ';'`"
            ),
            "{err}"
        );
    }

    #[test]
    fn options_parse() {
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter(";;").is_err());
        assert_eq!(
            "ISO-8859-1".parse::<TextEncoding>().unwrap().name(),
            "windows-1252"
        );
        assert!("klingon".parse::<TextEncoding>().is_err());
        assert_eq!(decimal_comma("1,5"), "1.5");
        assert_eq!(decimal_comma("a,b"), "a,b");
        assert_eq!(decimal_comma("1,000.5"), "1,000.5");
    }
}
