//! Fuzz target for `state.json` (`--state-dir`): the envelope (format, version, one entry per
//! model) and each model's entry read field by field (versions, current, history, aliases, split,
//! shadow), an invalid field skipping only itself.
//!
//! Must hold: never a panic; a file read at start-up and written back as the next save writes it
//! reads back to exactly the same text, with no problem left (what was dropped stays dropped, what
//! was kept survives).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tabship_serve::fuzzing::reread_state;

fuzz_target!(|data: &[u8]| {
    let Ok((written, _)) = reread_state(data) else {
        return;
    };
    let (again, problems) = reread_state(written.as_bytes())
        .unwrap_or_else(|e| panic!("state.json written back is refused: {e}\n{written}"));
    assert!(
        problems.is_empty(),
        "state.json written back has problems: {problems:?}\n{written}"
    );
    assert_eq!(
        written, again,
        "state.json written back reads back differently"
    );
});
