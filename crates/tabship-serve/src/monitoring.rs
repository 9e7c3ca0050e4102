//! Live monitoring of one model version, on `tabship-drift` (re-exported by the core as
//! `tabship::drift`):
//!
//! - **data drift**: a sliding window of the last [`DRIFT_WINDOW`] predicted rows (inputs and
//!   predictions), binned on the reference profile stored in the artifact, reported against it;
//! - **live quality** from `/feedback`: windowed accuracy and F1 (classifiers: the positive class
//!   for two classes, else the macro mean of one-vs-rest F1 over every class, as the holdout
//!   `f1_macro`) or MAE (regressors) over the last [`QUALITY_WINDOW`] labels;
//! - **concept drift**: DDM on the 0/1 error (classifiers), Page-Hinkley on the absolute error
//!   (regressors), and ADWIN on the error for both, with their papers' defaults.

use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use tabship::drift::concept::{Adwin, Ddm, Detector, DetectorState, PageHinkley};
use tabship::drift::{DriftOptions, DriftReport, Monitor as DriftMonitor, Window};
use tabship::drift::{WindowedAccuracy, WindowedF1, WindowedMae};
use tabship::{Pipeline, Predictions, Task};

use crate::input::JsonRow;

/// Labelled predictions in the live quality window.
pub const QUALITY_WINDOW: usize = 1000;
/// Predicted rows in the data-drift window.
pub const DRIFT_WINDOW: usize = 10_000;

/// Locks `m`, going on with the data of a holder that panicked (counts stay usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// A true label joined to a logged prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Labelled {
    /// Predicted and true class indices.
    Class {
        /// Predicted class index.
        predicted: usize,
        /// True class index.
        truth: usize,
    },
    /// Predicted and true values.
    Value {
        /// Predicted value.
        predicted: f64,
        /// True value.
        truth: f64,
    },
}

#[derive(Debug)]
enum Trackers {
    Classes {
        accuracy: WindowedAccuracy,
        /// One-vs-rest F1 per class (only the positive class, index 1, for two classes).
        f1: Vec<WindowedF1>,
        binary: bool,
    },
    Values(WindowedMae),
}

#[derive(Debug)]
struct Quality {
    labelled: u64,
    trackers: Trackers,
    detectors: Vec<(Box<dyn Detector>, DetectorState)>,
}

/// One concept-drift detector's state.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DetectorSnapshot {
    /// `ddm`, `page_hinkley` or `adwin`.
    pub name: &'static str,
    /// The state after the last label.
    pub state: DetectorState,
    /// Drifts detected since load.
    pub drifts: u64,
}

/// A snapshot of live quality.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QualitySnapshot {
    /// Labels received since load.
    pub labelled: u64,
    /// Labels in the current window.
    pub window: usize,
    /// Window accuracy (classifiers with at least one label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Window F1: the positive class's for two classes, else the macro mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f1: Option<f64>,
    /// Window mean absolute error (regressors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
    /// Concept-drift detectors over the label stream.
    pub detectors: Vec<DetectorSnapshot>,
}

/// The live state of one model version.
#[derive(Debug)]
pub struct Monitor {
    task: Task,
    quality: Mutex<Quality>,
    drift: Option<Mutex<DriftMonitor>>,
}

impl Monitor {
    /// A monitor for `pipeline` (data drift only when its artifact has a reference profile).
    pub fn new(pipeline: &Pipeline) -> Self {
        let n_classes = pipeline.classes().len();
        let trackers = match pipeline.task() {
            Task::Classification => Trackers::Classes {
                accuracy: WindowedAccuracy::new(QUALITY_WINDOW).expect("a positive window"),
                f1: (0..if n_classes == 2 { 1 } else { n_classes })
                    .map(|_| WindowedF1::new(QUALITY_WINDOW).expect("a positive window"))
                    .collect(),
                binary: n_classes == 2,
            },
            Task::Regression => {
                Trackers::Values(WindowedMae::new(QUALITY_WINDOW).expect("a positive window"))
            }
        };
        let mut detectors: Vec<Box<dyn Detector>> = Vec::new();
        match pipeline.task() {
            Task::Classification => detectors.push(Box::new(Ddm::default())),
            Task::Regression => detectors.push(Box::new(PageHinkley::default())),
        }
        detectors.push(Box::new(Adwin::default()));
        let drift = pipeline
            .drift_binner()
            .and_then(|_| pipeline.drift_monitor(Window::sliding(DRIFT_WINDOW)).ok())
            .map(Mutex::new);
        Monitor {
            task: pipeline.task(),
            quality: Mutex::new(Quality {
                labelled: 0,
                trackers,
                detectors: detectors
                    .into_iter()
                    .map(|d| (d, DetectorState::Stable))
                    .collect(),
            }),
            drift,
        }
    }

    /// True when the artifact has a reference profile, so data drift is tracked.
    pub fn has_drift_profile(&self) -> bool {
        self.drift.is_some()
    }

    /// Adds predicted rows to the data-drift window (a no-op without a reference profile).
    pub(crate) fn observe(
        &self,
        pipeline: &Pipeline,
        rows: &[JsonRow<'_>],
        predictions: &Predictions,
    ) {
        let Some(drift) = &self.drift else {
            return;
        };
        let mut monitor = lock(drift);
        if let Err(e) = pipeline.observe_drift_records(&mut monitor, rows, Some(predictions)) {
            tracing::warn!(error = %e, "could not add a request to the drift window");
        }
    }

    /// The drift report of the live window against the reference profile, judged by `options`.
    pub fn drift_report(&self, options: &DriftOptions) -> Option<(DriftReport, u64)> {
        let drift = self.drift.as_ref()?;
        let monitor = lock(drift);
        let report = monitor.report(options).ok()?;
        Some((report, monitor.total_rows()))
    }

    /// Adds one labelled prediction.
    pub fn record(&self, labelled: Labelled) {
        let mut q = lock(&self.quality);
        q.labelled += 1;
        let (error, abs_error) = match (&mut q.trackers, labelled) {
            (
                Trackers::Classes {
                    accuracy,
                    f1,
                    binary,
                },
                Labelled::Class { predicted, truth },
            ) => {
                accuracy.update(predicted == truth);
                if *binary {
                    f1[0].update(predicted == 1, truth == 1);
                } else {
                    for (k, tracker) in f1.iter_mut().enumerate() {
                        tracker.update(predicted == k, truth == k);
                    }
                }
                let e = f64::from(u8::from(predicted != truth));
                (e, e)
            }
            (Trackers::Values(mae), Labelled::Value { predicted, truth }) => {
                mae.update(predicted, truth);
                ((predicted - truth).abs(), (predicted - truth).abs())
            }
            _ => return,
        };
        for (detector, state) in &mut q.detectors {
            // DDM reads the 0/1 error; Page-Hinkley and ADWIN the error as a loss.
            let x = if detector.name() == "ddm" {
                error
            } else {
                abs_error
            };
            *state = detector.update(x);
        }
    }

    /// The current window's metrics and the detectors' states.
    pub fn quality(&self) -> QualitySnapshot {
        let q = lock(&self.quality);
        let detectors = q
            .detectors
            .iter()
            .map(|(d, state)| DetectorSnapshot {
                name: d.name(),
                state: *state,
                drifts: d.drifts(),
            })
            .collect();
        match &q.trackers {
            Trackers::Classes { accuracy, f1, .. } => {
                let f1_values: Vec<f64> = f1.iter().filter_map(WindowedF1::value).collect();
                QualitySnapshot {
                    labelled: q.labelled,
                    window: accuracy.len(),
                    accuracy: accuracy.value(),
                    f1: (!f1_values.is_empty())
                        .then(|| f1_values.iter().sum::<f64>() / f1_values.len() as f64),
                    mae: None,
                    detectors,
                }
            }
            Trackers::Values(mae) => QualitySnapshot {
                labelled: q.labelled,
                window: mae.len(),
                accuracy: None,
                f1: None,
                mae: mae.value(),
                detectors,
            },
        }
    }

    /// The model's task.
    pub fn task(&self) -> Task {
        self.task
    }
}
