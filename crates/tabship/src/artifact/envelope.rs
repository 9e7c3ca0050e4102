//! The byte envelope around the MessagePack body: magic, format version, producing library,
//! body length and SHA-256. See `docs/artifact-format.md`.

use sha2::{Digest, Sha256};

use super::limits::{MAX_ARTIFACT_BYTES, MAX_LIBRARY_VERSION_BYTES};
use crate::{Error, Result};

/// The 8 bytes every artifact starts with: `0x89` then `TABSHIP`.
pub const MAGIC: [u8; 8] = *b"\x89TABSHIP";
/// Major format version this library writes and reads.
pub const FORMAT_MAJOR: u16 = 1;
/// Newest minor format version this library reads (it reads every minor up to this one).
/// Files are written with the lowest minor that can hold their content, so a pipeline that uses
/// nothing new stays readable by older tabship versions.
///
/// - 1.0: schema, encoders, linear and logistic models.
/// - 1.1: adds the `tree_ensemble` model.
/// - 1.2: adds the optional `drift_profile`.
/// - 1.3: adds the optional `decision_threshold` and `target_transform`, the optional
///   `schema.na_values` (a missing-value policy other than the default)
///   and the optional exact `values` of numeric columns with few distinct values in the
///   drift profile (a 1.2 reader would silently ignore them and judge those columns by their
///   quantile bins, which cannot see a 0/1 column's mix change).
/// - 1.4: adds the boosting layout of `tree_ensemble`: the optional `combination` (a sum of
///   margins from a base score through a link) and the optional per-node `missing_left` and
///   `strict` split rules of a tree.
/// - 1.5: adds what exact imports of XGBoost and LightGBM models need: `tree_ensemble`'s
///   optional `features_f32`, `accumulate_f32` and `soft_vote`, and a tree's optional per-node
///   `missing_type`, `categorical`, `category_offsets` and `category_bits`; the `nan` numeric
///   imputation and categorical missing policy (missing values reach the model as NaN).
pub const FORMAT_MINOR: u16 = 5;

/// The parsed header of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactHeader {
    /// Major format version.
    pub format_major: u16,
    /// Minor format version.
    pub format_minor: u16,
    /// The tabship version that wrote the file.
    pub library_version: String,
    /// Length of the MessagePack body in bytes.
    pub body_len: u64,
    /// SHA-256 of the body.
    pub checksum: [u8; 32],
}

impl ArtifactHeader {
    /// The checksum as `sha256:<hex>`.
    pub fn checksum_hex(&self) -> String {
        format!("sha256:{}", hex(&self.checksum))
    }

    /// `major.minor`.
    pub fn format_version(&self) -> String {
        format!("{}.{}", self.format_major, self.format_minor)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Wraps a body into a complete artifact of format `1.minor`.
pub(crate) fn seal(body: &[u8], minor: u16) -> Vec<u8> {
    let library = crate::VERSION.as_bytes();
    let mut out = Vec::with_capacity(body.len() + 64 + library.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
    out.extend_from_slice(&minor.to_le_bytes());
    out.extend_from_slice(&(library.len() as u16).to_le_bytes());
    out.extend_from_slice(library);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(body));
    out.extend_from_slice(body);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.at..end];
                self.at = end;
                Ok(s)
            }
            None => Err(Error::Truncated(format!(
                "the file ends at byte {} while reading the {what}",
                self.bytes.len()
            ))),
        }
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
}

/// Checks the envelope and returns the header and the verified body.
///
/// Order of checks: magic, format version (a newer format is refused before anything else is
/// read), library version, body length against the limit and the file, then the checksum.
pub fn open(bytes: &[u8]) -> Result<(ArtifactHeader, &[u8])> {
    if bytes.len() as u64 > MAX_ARTIFACT_BYTES {
        return Err(Error::TooLarge {
            what: "the artifact",
            size: bytes.len() as u64,
            limit: MAX_ARTIFACT_BYTES,
        });
    }
    let mut r = Reader { bytes, at: 0 };
    let magic = r
        .take(MAGIC.len(), "magic bytes")
        .map_err(|_| Error::BadMagic)?;
    if magic != MAGIC {
        return Err(Error::BadMagic);
    }
    let format_major = r.u16("format major version")?;
    let format_minor = r.u16("format minor version")?;
    if format_major != FORMAT_MAJOR || format_minor > FORMAT_MINOR {
        return Err(Error::UnsupportedVersion {
            found_major: format_major,
            found_minor: format_minor,
            supported_major: FORMAT_MAJOR,
            supported_minor: FORMAT_MINOR,
            library: crate::VERSION,
        });
    }
    let library_len = r.u16("library version length")? as usize;
    if library_len > MAX_LIBRARY_VERSION_BYTES {
        return Err(Error::TooLarge {
            what: "the library version string",
            size: library_len as u64,
            limit: MAX_LIBRARY_VERSION_BYTES as u64,
        });
    }
    let library_version = std::str::from_utf8(r.take(library_len, "library version")?)
        .map_err(|_| Error::field("header.library_version", "not valid UTF-8"))?
        .to_owned();
    let len_bytes = r.take(8, "body length")?;
    let body_len = u64::from_le_bytes(len_bytes.try_into().map_err(|_| Error::BadMagic)?);
    let mut checksum = [0u8; 32];
    checksum.copy_from_slice(r.take(32, "checksum")?);
    let remaining = (bytes.len() - r.at) as u64;
    if body_len != remaining {
        return Err(Error::Truncated(if body_len > remaining {
            format!("the header declares a {body_len}-byte body but only {remaining} bytes follow")
        } else {
            format!(
                "the header declares a {body_len}-byte body but {remaining} bytes follow (trailing data)"
            )
        }));
    }
    let body = &bytes[r.at..];
    let actual: [u8; 32] = Sha256::digest(body).into();
    if actual != checksum {
        return Err(Error::ChecksumMismatch {
            expected: hex(&checksum),
            actual: hex(&actual),
        });
    }
    Ok((
        ArtifactHeader {
            format_major,
            format_minor,
            library_version,
            body_len,
            checksum,
        },
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_failure_is_typed() {
        let sealed = seal(b"\x80", 0);
        let (header, body) = open(&sealed).unwrap();
        assert_eq!(body, b"\x80");
        assert_eq!(header.format_version(), "1.0");
        assert!(matches!(open(b"nope"), Err(Error::BadMagic)));
        assert!(matches!(open(&sealed[..20]), Err(Error::Truncated(_))));
        let mut extra = sealed.clone();
        extra.push(0);
        assert!(matches!(open(&extra), Err(Error::Truncated(_))));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(
            open(&flipped),
            Err(Error::ChecksumMismatch { .. })
        ));
        let mut newer = sealed.clone();
        newer[10] = 9;
        let err = open(&newer).unwrap_err().to_string();
        assert!(
            err.contains("format 1.9") && err.contains(&format!("up to 1.{FORMAT_MINOR}")),
            "{err}"
        );
    }

    #[test]
    fn every_prefix_fails_cleanly() {
        let sealed = seal(&[0x90; 10], FORMAT_MINOR);
        for n in 0..sealed.len() {
            assert!(open(&sealed[..n]).is_err());
        }
    }
}
