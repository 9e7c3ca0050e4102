//! Where the histogram learner reads the encoded features it bins: a dense matrix (tests,
//! callers that hold one) or a batch through its pipeline encoder, a few feature columns at a
//! time, so training a forest or boosting never holds the dense encoded matrix (at 260k adult
//! rows, 107 one-hot features: 223 MB of `f64`, five times the binned codes).

use std::ops::Range;

use ndarray::{Array2, ArrayView2, Axis};
use tabship::Batch;
use tabship::encode::{BatchPlan, FeatureEncoder};

use crate::Result;

/// Feature columns to bin, read a contiguous range at a time.
pub(crate) trait FeatureColumns: Sync {
    /// Rows.
    fn n_rows(&self) -> usize;
    /// Features (encoded columns).
    fn n_features(&self) -> usize;
    /// Every row's values of `features` into `block`, one vector per feature (reused).
    fn gather(&self, features: Range<usize>, block: &mut Vec<Vec<f64>>) -> Result<()>;
}

impl FeatureColumns for ArrayView2<'_, f64> {
    fn n_rows(&self) -> usize {
        self.nrows()
    }

    fn n_features(&self) -> usize {
        self.ncols()
    }

    /// One pass over the rows reads the columns from the same cache lines (a column read alone
    /// would miss the cache at every row).
    fn gather(&self, features: Range<usize>, block: &mut Vec<Vec<f64>>) -> Result<()> {
        block.resize_with(features.len(), Vec::new);
        block.truncate(features.len());
        for column in block.iter_mut() {
            column.clear();
            column.reserve(self.nrows());
        }
        for row in self.axis_iter(Axis(0)) {
            for (column, f) in block.iter_mut().zip(features.clone()) {
                column.push(row[f]);
            }
        }
        Ok(())
    }
}

/// A batch's rows encoded column by column by a pipeline's encoder.
struct EncodedColumns<'a> {
    encoder: &'a FeatureEncoder,
    plan: BatchPlan<'a>,
}

impl FeatureColumns for EncodedColumns<'_> {
    fn n_rows(&self) -> usize {
        self.plan.n_rows()
    }

    fn n_features(&self) -> usize {
        self.encoder.width()
    }

    fn gather(&self, features: Range<usize>, block: &mut Vec<Vec<f64>>) -> Result<()> {
        Ok(self
            .encoder
            .encode_feature_columns(&self.plan, features, block)?)
    }
}

/// The rows a learner fits: a dense encoded matrix, or a batch and the encoder that encodes it.
#[derive(Clone, Copy)]
pub(crate) enum Features<'a> {
    /// Encoded rows.
    Dense(ArrayView2<'a, f64>),
    /// Raw rows and their encoder.
    Encoded {
        /// The pipeline's encoder.
        encoder: &'a FeatureEncoder,
        /// The rows.
        batch: &'a Batch,
    },
}

impl<'a> From<&'a Array2<f64>> for Features<'a> {
    fn from(x: &'a Array2<f64>) -> Self {
        Features::Dense(x.view())
    }
}

impl Features<'_> {
    /// Rows.
    pub(crate) fn n_rows(&self) -> usize {
        match self {
            Features::Dense(x) => x.nrows(),
            Features::Encoded { batch, .. } => batch.n_rows(),
        }
    }

    /// Features (encoded columns).
    pub(crate) fn n_features(&self) -> usize {
        match self {
            Features::Dense(x) => x.ncols(),
            Features::Encoded { encoder, .. } => encoder.width(),
        }
    }

    /// Calls `f` with these rows' feature columns.
    pub(crate) fn with_columns<T>(
        &self,
        f: impl FnOnce(&dyn FeatureColumns) -> Result<T>,
    ) -> Result<T> {
        match *self {
            Features::Dense(x) => f(&x),
            Features::Encoded { encoder, batch } => f(&EncodedColumns {
                encoder,
                plan: encoder.plan(batch)?,
            }),
        }
    }

    /// The rows `rows` (in that order), owned.
    pub(crate) fn take(&self, rows: &[usize]) -> OwnedFeatures<'_> {
        match *self {
            Features::Dense(x) => OwnedFeatures::Dense(x.select(Axis(0), rows)),
            Features::Encoded { encoder, batch } => OwnedFeatures::Encoded {
                encoder,
                batch: batch.take(rows),
            },
        }
    }
}

/// Rows taken from [`Features`].
pub(crate) enum OwnedFeatures<'a> {
    /// Encoded rows.
    Dense(Array2<f64>),
    /// Raw rows and their encoder.
    Encoded {
        /// The pipeline's encoder.
        encoder: &'a FeatureEncoder,
        /// The rows.
        batch: Batch,
    },
}

impl OwnedFeatures<'_> {
    /// These rows as [`Features`].
    pub(crate) fn view(&self) -> Features<'_> {
        match self {
            OwnedFeatures::Dense(x) => Features::Dense(x.view()),
            OwnedFeatures::Encoded { encoder, batch } => Features::Encoded { encoder, batch },
        }
    }

    /// These rows as a dense encoded matrix.
    pub(crate) fn into_dense(self) -> Result<Array2<f64>> {
        match self {
            OwnedFeatures::Dense(x) => Ok(x),
            OwnedFeatures::Encoded { encoder, batch } => Ok(encoder.encode_dense(&batch)?),
        }
    }
}
