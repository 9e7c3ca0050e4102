//! Fuzz target for CSV reading (`tabship train`, `predict`, `evaluate`, `drift`): the dialect
//! (delimiter, text encoding decoded as it streams, decimal comma), the header checks, and the
//! inference of each column's kind into a typed batch.
//!
//! Input: byte 0 picks the encoding (low 3 bits), the delimiter (bits 3-4) and the decimal comma
//! (bit 5); the rest is the file. Must hold: never a panic; reading a file in another encoding
//! gives exactly what reading its whole-file UTF-8 transcoding gives (the streaming decoder is
//! checked against `encoding_rs`'s one-shot decode).

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tabship_train::csv_input::{CsvOptions, TextEncoding};
use tabship_train::data::{KindOverrides, read_csv_with};

const ENCODINGS: [&str; 8] = [
    "utf-8",
    "utf-8",
    "windows-1252",
    "latin-1",
    "utf-16le",
    "utf-16be",
    "shift_jis",
    "gb18030",
];
const DELIMITERS: [Option<u8>; 4] = [None, Some(b';'), Some(b'\t'), Some(b'|')];

fuzz_target!(|data: &[u8]| {
    let Some((&control, file)) = data.split_first() else {
        return;
    };
    let label = ENCODINGS[usize::from(control & 7)];
    let encoding: TextEncoding = label.parse().expect("a known encoding label");
    let options = CsvOptions {
        delimiter: DELIMITERS[usize::from((control >> 3) & 3)],
        encoding,
        decimal_comma: control & 0x20 != 0,
        ..CsvOptions::default()
    };
    let path = common::SCRATCH.join("input.csv");
    std::fs::write(&path, file).expect("write the csv");
    let read = read_csv_with(&path, &options, &KindOverrides::default());
    if label == "utf-8" {
        return;
    }
    // The same text, decoded in one go (BOM sniffing included, as the streaming decoder does),
    // read as UTF-8.
    let whole = encoding_rs::Encoding::for_label(label.replace("latin-", "latin").as_bytes())
        .expect("a known encoding label")
        .decode(file)
        .0;
    let utf8_path = common::SCRATCH.join("input-utf8.csv");
    std::fs::write(&utf8_path, whole.as_bytes()).expect("write the transcoded csv");
    let utf8_options = CsvOptions {
        encoding: TextEncoding::default(),
        ..options
    };
    let reference = read_csv_with(&utf8_path, &utf8_options, &KindOverrides::default());
    match (&read, &reference) {
        (Ok(a), Ok(b)) => assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "streaming decode and whole-file decode read different batches"
        ),
        (Err(_), Err(_)) => {}
        _ => panic!("{label}: streaming decode gave {read:?}, whole-file decode {reference:?}"),
    }
});
