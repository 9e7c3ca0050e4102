//! A small reader of the UBJSON that XGBoost writes (`.ubj` models, `src/common/json.cc`'s
//! `UBJWriter`): objects, arrays (plain, counted, and typed `[$T#L<n>`), strings, integers,
//! `f32`/`f64`, booleans and null, big-endian. It yields a [`serde_json::Value`] so that the
//! importer reads JSON and UBJSON models through one path; an `f32` widens to `f64` exactly.
//!
//! Model files are untrusted: every count is checked against the bytes that remain before
//! anything is allocated, and nesting is bounded. A non-finite number (XGBoost 1.7 stores NaN as
//! the condition of a categorical node) becomes `null`, as in the JSON path: every field that
//! must hold a number then refuses it by name.

use serde_json::{Map, Number, Value};

use crate::{Error, Result};

/// Deepest nesting of arrays and objects accepted (XGBoost's models nest about 8 deep).
const MAX_DEPTH: usize = 128;

/// Parses a whole UBJSON document.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.value(0)?;
    if reader.at != bytes.len() {
        return Err(reader.error("trailing bytes after the document"));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error(&self, message: &str) -> Error {
        Error::Syntax {
            format: "UBJSON",
            message: format!("{message} at byte {}", self.at),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error("the document ends early"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn peek(&self) -> Result<u8> {
        self.bytes
            .get(self.at)
            .copied()
            .ok_or_else(|| self.error("the document ends early"))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// An integer of the type `marker` names.
    fn integer(&mut self, marker: u8) -> Result<i64> {
        Ok(match marker {
            b'i' => i64::from(i8::from_be_bytes(self.array()?)),
            b'U' => i64::from(self.byte()?),
            b'I' => i64::from(i16::from_be_bytes(self.array()?)),
            b'l' => i64::from(i32::from_be_bytes(self.array()?)),
            b'L' => i64::from_be_bytes(self.array()?),
            _ => return Err(self.error("expected an integer marker")),
        })
    }

    /// A length or count: an integer marker and a non-negative value that `unit`-byte items
    /// could fill from the bytes that remain.
    fn count(&mut self, unit: usize) -> Result<usize> {
        let marker = self.byte()?;
        let n = self.integer(marker)?;
        let remaining = self.bytes.len() - self.at;
        usize::try_from(n)
            .ok()
            .filter(|&n| n.checked_mul(unit.max(1)).is_some_and(|b| b <= remaining))
            .ok_or_else(|| self.error(&format!("count {n} exceeds the document")))
    }

    fn string(&mut self) -> Result<String> {
        let n = self.count(1)?;
        let raw = self.take(n)?;
        String::from_utf8(raw.to_vec()).map_err(|_| self.error("a string is not UTF-8"))
    }

    fn float(&self, x: f64) -> Result<Value> {
        Ok(Number::from_f64(x).map_or(Value::Null, Value::Number))
    }

    /// The value whose marker is `marker` (already read).
    fn scalar(&mut self, marker: u8) -> Result<Value> {
        match marker {
            b'Z' => Ok(Value::Null),
            b'T' => Ok(Value::Bool(true)),
            b'F' => Ok(Value::Bool(false)),
            b'd' => {
                let x = f32::from_be_bytes(self.array()?);
                self.float(f64::from(x))
            }
            b'D' => {
                let x = f64::from_be_bytes(self.array()?);
                self.float(x)
            }
            b'S' => Ok(Value::String(self.string()?)),
            b'C' => Ok(Value::from(i64::from(self.byte()?))),
            b'i' | b'U' | b'I' | b'l' | b'L' => Ok(Value::from(self.integer(marker)?)),
            b'H' => Err(self.error("high-precision numbers are not supported")),
            _ => Err(self.error(&format!("unknown marker `{}`", marker.escape_ascii()))),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        let mut marker = self.byte()?;
        // `N` is a no-op padding marker.
        while marker == b'N' {
            marker = self.byte()?;
        }
        match marker {
            b'[' | b'{' if depth >= MAX_DEPTH => Err(self.error("nesting too deep")),
            b'[' => self.array_value(depth + 1),
            b'{' => self.object(depth + 1),
            _ => self.scalar(marker),
        }
    }

    fn array_value(&mut self, depth: usize) -> Result<Value> {
        match self.peek()? {
            b'$' => {
                self.at += 1;
                let kind = self.byte()?;
                if self.byte()? != b'#' {
                    return Err(self.error("a typed array needs a count (`#`)"));
                }
                let size = match kind {
                    b'i' | b'U' | b'C' | b'T' | b'F' | b'Z' => 1,
                    b'I' => 2,
                    b'l' | b'd' => 4,
                    b'L' | b'D' => 8,
                    _ => return Err(self.error("unsupported typed array")),
                };
                let n = self.count(size)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.scalar(kind)?);
                }
                Ok(Value::Array(items))
            }
            b'#' => {
                self.at += 1;
                let n = self.count(1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth)?);
                }
                Ok(Value::Array(items))
            }
            _ => {
                let mut items = Vec::new();
                while self.peek()? != b']' {
                    items.push(self.value(depth)?);
                }
                self.at += 1;
                Ok(Value::Array(items))
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value> {
        let mut map = Map::new();
        if self.peek()? == b'#' {
            self.at += 1;
            let n = self.count(2)?;
            for _ in 0..n {
                let key = self.string()?;
                let value = self.value(depth)?;
                map.insert(key, value);
            }
            return Ok(Value::Object(map));
        }
        while self.peek()? != b'}' {
            let key = self.string()?;
            let value = self.value(depth)?;
            map.insert(key, value);
        }
        self.at += 1;
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_xgboost_shapes() {
        // {"a": [$d#L 2 (1.5, -2.0)], "b": "x", "c": [i 1, T], "e": L 7}
        let mut doc = vec![b'{'];
        doc.extend([b'L', 0, 0, 0, 0, 0, 0, 0, 1, b'a']);
        doc.extend([b'[', b'$', b'd', b'#', b'L', 0, 0, 0, 0, 0, 0, 0, 2]);
        doc.extend(1.5f32.to_be_bytes());
        doc.extend((-2.0f32).to_be_bytes());
        doc.extend([
            b'L', 0, 0, 0, 0, 0, 0, 0, 1, b'b', b'S', b'L', 0, 0, 0, 0, 0, 0, 0, 1, b'x',
        ]);
        doc.extend([b'i', 1, b'c', b'[', b'i', 1, b'T', b']']);
        doc.extend([b'U', 1, b'e', b'L', 0, 0, 0, 0, 0, 0, 0, 7, b'}']);
        let v = parse(&doc).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": [1.5, -2.0], "b": "x", "c": [1, true], "e": 7})
        );
    }

    #[test]
    fn hostile_documents_are_errors() {
        // A count far beyond the document, a cut string, deep nesting, trailing bytes.
        assert!(parse(&[b'[', b'#', b'L', 0x7f, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(parse(&[b'S', b'i', 5, b'a']).is_err());
        assert!(parse(&[b'['; 10_000]).is_err());
        let mut nan = vec![b'd'];
        nan.extend(f32::NAN.to_be_bytes());
        assert_eq!(parse(&nan).unwrap(), Value::Null, "NaN reads as null");
        assert!(parse(b"TT").is_err());
        assert!(parse(&[b'[', b'$', b'l', b'#', b'i', -1i8 as u8]).is_err());
        assert!(parse(&[]).is_err());
    }
}
