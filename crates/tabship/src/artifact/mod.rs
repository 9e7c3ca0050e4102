//! The `.tabship` artifact, format v1: an envelope (magic, version, length, SHA-256) around a
//! MessagePack body with named fields. The normative spec is `docs/artifact-format.md`.

mod envelope;
pub mod limits;
pub mod packed;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tabship_drift::ReferenceProfile;

pub use envelope::{ArtifactHeader, FORMAT_MAJOR, FORMAT_MINOR, MAGIC, open};

use crate::decision::{DecisionThreshold, TargetTransform};
use crate::encode::ColumnEncoderSpec;
use crate::labels::ClassLabel;
use crate::metadata::TrainingInfo;
use crate::model::{Model, Task};
use crate::schema::Schema;
use crate::{Error, Result};

/// Everything a pipeline is made of: the artifact body, field for field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineParts {
    /// Input feature columns.
    pub schema: Schema,
    /// One fitted encoder per schema column, in schema order.
    pub encoders: Vec<ColumnEncoderSpec>,
    /// Classification or regression.
    pub task: Task,
    /// Class labels in model order (classification only; empty for regression).
    #[serde(default)]
    pub classes: Vec<ClassLabel>,
    /// The fitted model.
    pub model: Model,
    /// Provenance.
    pub training: TrainingInfo,
    /// Holdout metrics by name (`accuracy`, `roc_auc`, `r2`, ...).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// The reference distribution of the training rows and of the model's predictions on them,
    /// for drift reports (format 1.2; absent from older artifacts and then `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_profile: Option<ReferenceProfile>,
    /// A binary classifier's stored decision threshold (format 1.3; absent from older artifacts
    /// and then `None`: the most probable class is predicted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_threshold: Option<DecisionThreshold>,
    /// The transform a regressor's target was fitted under; predictions are its inverse (format
    /// 1.3; absent from older artifacts and then `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_transform: Option<TargetTransform>,
}

/// Serializes parts into the body bytes: named fields, sorted maps, so equal parts give equal bytes.
pub(crate) fn encode_body(parts: &PipelineParts) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut serializer = rmp_serde::Serializer::new(&mut body).with_struct_map();
    parts
        .serialize(&mut serializer)
        .map_err(|e| Error::Encode(e.to_string()))?;
    Ok(body)
}

/// The lowest format minor that can hold `parts` (see [`FORMAT_MINOR`]): the highest minor any
/// part needs, so a newer field is never written under an older number.
pub fn required_minor(parts: &PipelineParts) -> u16 {
    let model = parts.model.format_minor();
    let profile = match &parts.drift_profile {
        Some(p) if p.has_exact_values() => 3,
        Some(_) => 2,
        None => 0,
    };
    let na_values = if parts.schema.na_values.is_default() {
        0
    } else {
        3
    };
    let decision = if parts.decision_threshold.is_some() || parts.target_transform.is_some() {
        3
    } else {
        0
    };
    let nan_encoders = if parts.encoders.iter().any(ColumnEncoderSpec::passes_nan) {
        5
    } else {
        0
    };
    model
        .max(profile)
        .max(na_values)
        .max(decision)
        .max(nan_encoders)
}

/// Seals parts into complete artifact bytes.
pub(crate) fn to_bytes(parts: &PipelineParts) -> Result<Vec<u8>> {
    Ok(envelope::seal(&encode_body(parts)?, required_minor(parts)))
}

/// Opens artifact bytes: envelope checks, then the body decoded (not yet validated).
pub(crate) fn from_bytes(bytes: &[u8]) -> Result<(ArtifactHeader, PipelineParts)> {
    let (header, body) = open(bytes)?;
    let parts: PipelineParts =
        rmp_serde::from_slice(body).map_err(|e| Error::Decode(e.to_string()))?;
    Ok((header, parts))
}

/// Reads a whole artifact file, refusing files over the size limit before reading them.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if size > limits::MAX_ARTIFACT_BYTES {
        return Err(Error::TooLarge {
            what: "the artifact file",
            size,
            limit: limits::MAX_ARTIFACT_BYTES,
        });
    }
    read_checked(file, size).map_err(|e| match e {
        ReadError::Io(e) => Error::io(path, e),
        ReadError::Artifact(e) => e,
    })
}

enum ReadError {
    Io(std::io::Error),
    Artifact(Error),
}

/// Reads an artifact of declared `size` from `source`: the magic bytes first, so that a file
/// that is not an artifact (or a device such as `/dev/zero`, whose size says 0) is refused after
/// 8 bytes rather than after reading up to the size limit; then the rest, up to the limit.
fn read_checked(source: impl std::io::Read, size: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut reader = source.take(limits::MAX_ARTIFACT_BYTES + 1);
    let mut bytes = Vec::with_capacity(size.min(limits::MAX_ARTIFACT_BYTES) as usize);
    (&mut reader)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes != MAGIC {
        return Err(ReadError::Artifact(Error::BadMagic));
    }
    reader.read_to_end(&mut bytes).map_err(ReadError::Io)?;
    Ok(bytes)
}

/// Writes `bytes` to `path` atomically with [`crate::fs::write_atomic`]: through a symlink, never
/// over a device, FIFO or directory; a new file is readable by others (0644 on Unix).
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::fs::write_atomic(path, bytes, crate::fs::PUBLIC_MODE)
}

#[cfg(test)]
mod minor_tests {
    use super::*;
    use crate::Pipeline;
    use crate::model::{Combination, Link};

    /// A forest with a drift profile (format 1.2).
    fn forest_with_profile() -> Result<PipelineParts> {
        let path = tabship_test_support::golden("diamonds_forest_profile.tabship");
        Ok(Pipeline::load(path)?.to_parts())
    }

    /// Before the seam a drift profile decided the minor without looking at the model: a model
    /// needing a newer minor was written under the profile's.
    #[test]
    fn a_model_needing_a_newer_minor_than_the_profile_is_written_with_it() -> Result<()> {
        let mut parts = forest_with_profile()?;
        assert!(parts.drift_profile.is_some());
        assert_eq!(required_minor(&parts), 2);
        let Model::TreeEnsemble(trees) = parts.model else {
            return Err(Error::field("model", "the golden forest is not a forest"));
        };
        parts.model = Model::TreeEnsemble(trees.with_combination(Combination::Sum {
            base_score: 0.5,
            link: Link::Identity,
        }));
        assert_eq!(required_minor(&parts), 4);
        let loaded = Pipeline::from_bytes(&Pipeline::from_parts(parts)?.to_bytes()?)?;
        assert_eq!(loaded.header().map(|h| h.format_minor), Some(4));
        assert!(loaded.drift_profile().is_some());
        Ok(())
    }
}

#[cfg(test)]
mod minor_1_5_tests {
    use super::*;
    use crate::Pipeline;
    use crate::artifact::packed::{PackedU8, PackedU32};

    /// The golden forest with format 1.5's fields: `f32` comparisons, and a first tree whose
    /// root sends a NaN left by LightGBM's zero rule.
    #[test]
    fn format_1_5_fields_round_trip_under_minor_5() -> Result<()> {
        let path = tabship_test_support::golden("diamonds_forest_profile.tabship");
        let mut parts = Pipeline::load(path)?.to_parts();
        let Model::TreeEnsemble(mut trees) = parts.model else {
            return Err(Error::field("model", "the golden forest is not a forest"));
        };
        let n = trees.trees[0].left.len();
        trees.trees[0].missing_type =
            PackedU8((0..n).map(|i| if i == 0 { 2 } else { 0 }).collect());
        trees.trees[0].missing_left = PackedU8(vec![1; n]);
        trees.trees[0].categorical = PackedU8(vec![0; n]);
        trees.trees[0].category_offsets = PackedU32(vec![0; n + 1]);
        parts.model = Model::TreeEnsemble(trees.with_features_f32(true));
        assert_eq!(required_minor(&parts), 5);
        let bytes = Pipeline::from_parts(parts.clone())?.to_bytes()?;
        let loaded = Pipeline::from_bytes(&bytes)?;
        assert_eq!(loaded.header().map(|h| h.format_minor), Some(5));
        assert_eq!(loaded.to_parts(), parts);
        Ok(())
    }

    /// Encoders that pass missing values as NaN need format 1.5 and a tree ensemble.
    #[test]
    fn nan_encoders_need_minor_5_and_trees() -> Result<()> {
        use crate::encode::{ColumnEncoderSpec, ImputeStrategy};
        let forest = tabship_test_support::golden("diamonds_forest_profile.tabship");
        let mut parts = Pipeline::load(forest)?.to_parts();
        let Some(i) = parts
            .encoders
            .iter()
            .position(|e| matches!(e, ColumnEncoderSpec::Numeric(_)))
        else {
            return Err(Error::field("encoders", "no numeric column"));
        };
        if let ColumnEncoderSpec::Numeric(n) = &mut parts.encoders[i] {
            n.imputation.strategy = ImputeStrategy::Nan;
        }
        assert_eq!(required_minor(&parts), 5);
        let pipeline = Pipeline::from_parts(parts.clone())?;
        let loaded = Pipeline::from_bytes(&pipeline.to_bytes()?)?;
        assert_eq!(loaded.header().map(|h| h.format_minor), Some(5));
        let linear = tabship_test_support::golden("adult_logistic.tabship");
        let mut parts = Pipeline::load(linear)?.to_parts();
        if let Some(ColumnEncoderSpec::Numeric(n)) = parts
            .encoders
            .iter_mut()
            .find(|e| matches!(e, ColumnEncoderSpec::Numeric(_)))
        {
            n.imputation.strategy = ImputeStrategy::Nan;
        }
        let refused = Pipeline::from_parts(parts).map(|_| ());
        assert!(refused.is_err_and(|e| e.to_string().contains("NaN")));
        Ok(())
    }
}

#[cfg(test)]
mod read_tests {
    use super::*;

    /// Endless zeros that count how many bytes were pulled.
    struct Zeros<'a>(&'a std::cell::Cell<u64>);

    impl std::io::Read for Zeros<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(0);
            self.0.set(self.0.get() + buf.len() as u64);
            Ok(buf.len())
        }
    }

    #[test]
    fn a_stream_of_zeros_is_refused_after_the_magic_bytes() {
        let pulled = std::cell::Cell::new(0);
        let result = read_checked(Zeros(&pulled), 0);
        assert!(matches!(result, Err(ReadError::Artifact(Error::BadMagic))));
        assert!(
            pulled.get() <= MAGIC.len() as u64,
            "{} bytes read",
            pulled.get()
        );
    }

    #[test]
    fn an_artifact_reads_whole() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[7; 100]);
        let read = read_checked(&bytes[..], bytes.len() as u64);
        assert!(matches!(read, Ok(ref b) if *b == bytes));
    }
}
