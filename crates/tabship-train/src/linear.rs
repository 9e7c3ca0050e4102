//! Linear regressors fitted with smartcore and exported into tabship's own parameter types
//! (logistic regression is in [`crate::logistic`]).
//!
//! Ridge, lasso and elastic net are fitted on centred data (features and target minus their
//! training means) without smartcore's own normalisation, and the intercept is recovered as
//! `mean(y) - coefficients · mean(x)`: the same estimator as scikit-learn's `fit_intercept=True`.
//! Ridge's default `cholesky` solver is tabship's own ([`crate::ridge`]); `--solver svd` is
//! smartcore's.
//! smartcore's saved layouts never leave this module.

use ndarray::Array2;
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::elastic_net::{ElasticNet, ElasticNetParameters};
use smartcore::linear::lasso::{Lasso, LassoParameters};
use smartcore::linear::linear_regression::{
    LinearRegression, LinearRegressionParameters, LinearRegressionSolverName,
};
use smartcore::linear::ridge_regression::{
    RidgeRegression, RidgeRegressionParameters, RidgeRegressionSolverName,
};
use tabship::model::LinearRegressor;

use crate::options::{LinearParams, ModelKind};
use crate::{Error, Result};

type Matrix = DenseMatrix<f64>;

fn fit_error(model: &'static str) -> impl Fn(smartcore::error::Failed) -> Error {
    move |e| {
        let mut message = e.to_string();
        if message.contains("maximum number of iteration") {
            message.push_str("; try a larger --max-iter, --tol or --alpha");
        }
        Error::Fit { model, message }
    }
}

/// Copies an ndarray matrix into smartcore's dense matrix.
pub fn to_smartcore(x: &Array2<f64>) -> Result<Matrix> {
    let (n, p) = x.dim();
    DenseMatrix::new(n, p, x.iter().copied().collect(), false).map_err(fit_error("input"))
}

#[derive(Debug)]
enum Regressor {
    Linear(LinearRegression<f64, f64, Matrix, Vec<f64>>),
    Ridge(RidgeRegression<f64, f64, Matrix, Vec<f64>>),
    Lasso(Lasso<f64, f64, Matrix, Vec<f64>>),
    ElasticNet(ElasticNet<f64, f64, Matrix, Vec<f64>>),
    /// Ridge by tabship's own Cholesky solve of the normal equations ([`crate::ridge`]).
    OwnRidge(Vec<f64>),
}

/// A linear regressor fitted by smartcore, with the centring it was fitted under.
#[derive(Debug)]
pub struct FittedRegressor {
    model: Regressor,
    /// Feature means subtracted before fitting (penalised models only).
    x_mean: Option<Vec<f64>>,
    y_mean: f64,
}

fn column_means(x: &Array2<f64>) -> Vec<f64> {
    x.mean_axis(ndarray::Axis(0))
        .map(|m| m.to_vec())
        .unwrap_or_else(|| vec![0.0; x.ncols()])
}

impl FittedRegressor {
    /// Fits `kind` (a regression model) on encoded features and targets.
    pub fn fit(kind: ModelKind, x: &Array2<f64>, y: &[f64], params: &LinearParams) -> Result<Self> {
        if kind == ModelKind::Linear {
            let solver = match params.solver.as_deref() {
                Some("qr") => LinearRegressionSolverName::QR,
                _ => LinearRegressionSolverName::SVD,
            };
            let parameters = LinearRegressionParameters::default().with_solver(solver);
            let model = LinearRegression::fit(&to_smartcore(x)?, &y.to_vec(), parameters)
                .map_err(fit_error("linear"))?;
            return Ok(FittedRegressor {
                model: Regressor::Linear(model),
                x_mean: None,
                y_mean: 0.0,
            });
        }
        let x_mean = column_means(x);
        let y_mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
        let centred = x - &ndarray::Array1::from(x_mean.clone());
        let centred_y: Vec<f64> = y.iter().map(|v| v - y_mean).collect();
        if kind == ModelKind::Ridge && params.solver.as_deref() != Some("svd") {
            return Ok(FittedRegressor {
                model: Regressor::OwnRidge(crate::ridge::fit_centred(
                    centred.view(),
                    &centred_y,
                    params.alpha,
                )?),
                x_mean: Some(x_mean),
                y_mean,
            });
        }
        let centred_x = to_smartcore(&centred)?;
        let model = match kind {
            ModelKind::Ridge => {
                // Cholesky is solved above, by tabship; smartcore fits the SVD solver.
                let parameters = RidgeRegressionParameters::default()
                    .with_alpha(params.alpha)
                    .with_normalize(false)
                    .with_solver(RidgeRegressionSolverName::SVD);
                Regressor::Ridge(
                    RidgeRegression::fit(&centred_x, &centred_y, parameters)
                        .map_err(fit_error("ridge"))?,
                )
            }
            ModelKind::Lasso => {
                // On centred data the intercept smartcore adds is mean(y) = 0; without it smartcore
                // keeps no intercept at all and `intercept()` panics.
                let parameters = LassoParameters::default()
                    .with_alpha(params.alpha)
                    .with_normalize(false)
                    .with_tol(params.tol)
                    .with_max_iter(params.max_iter)
                    .with_fit_intercept(true);
                Regressor::Lasso(
                    Lasso::fit(&centred_x, &centred_y, parameters).map_err(fit_error("lasso"))?,
                )
            }
            ModelKind::ElasticNet => {
                let parameters = ElasticNetParameters::default()
                    .with_alpha(params.alpha)
                    .with_l1_ratio(params.l1_ratio)
                    .with_normalize(false)
                    .with_tol(params.tol)
                    .with_max_iter(params.max_iter);
                Regressor::ElasticNet(
                    ElasticNet::fit(&centred_x, &centred_y, parameters)
                        .map_err(fit_error("elastic-net"))?,
                )
            }
            _ => {
                return Err(Error::InvalidOption {
                    option: "model",
                    reason: format!("`{kind}` is not a penalised regression model"),
                });
            }
        };
        Ok(FittedRegressor {
            model,
            x_mean: Some(x_mean),
            y_mean,
        })
    }

    fn raw_parameters(&self) -> (Vec<f64>, f64) {
        fn column(m: &Matrix) -> Vec<f64> {
            let (rows, _) = m.shape();
            (0..rows).map(|r| *m.get((r, 0))).collect()
        }
        match &self.model {
            Regressor::Linear(m) => (column(m.coefficients()), *m.intercept()),
            Regressor::Ridge(m) => (column(m.coefficients()), *m.intercept()),
            Regressor::Lasso(m) => (column(m.coefficients()), *m.intercept()),
            Regressor::ElasticNet(m) => (column(m.coefficients()), *m.intercept()),
            Regressor::OwnRidge(w) => (w.clone(), 0.0),
        }
    }

    /// tabship's own parameters, with the centring folded into the intercept.
    pub fn export(&self) -> LinearRegressor {
        let (coefficients, raw_intercept) = self.raw_parameters();
        let intercept = match &self.x_mean {
            None => raw_intercept,
            Some(means) => {
                let shift: f64 = coefficients.iter().zip(means).map(|(w, m)| w * m).sum();
                self.y_mean + raw_intercept - shift
            }
        };
        LinearRegressor {
            coefficients,
            intercept,
        }
    }

    fn export_checked(&self) -> Result<LinearRegressor> {
        Ok(self.export())
    }

    /// smartcore's own predictions on uncentred features (centring applied as at fit time).
    pub fn smartcore_predict(&self, x: &Array2<f64>) -> Result<Vec<f64>> {
        let input = match &self.x_mean {
            None => to_smartcore(x)?,
            Some(means) => to_smartcore(&(x - &ndarray::Array1::from(means.clone())))?,
        };
        let predicted = match &self.model {
            Regressor::OwnRidge(w) => {
                let centred = match &self.x_mean {
                    Some(means) => x - &ndarray::Array1::from(means.clone()),
                    None => x.clone(),
                };
                let z = centred.dot(&ndarray::Array1::from(w.clone()));
                return Ok(z.iter().map(|v| v + self.y_mean).collect());
            }
            Regressor::Linear(m) => m.predict(&input),
            Regressor::Ridge(m) => m.predict(&input),
            Regressor::Lasso(m) => m.predict(&input),
            Regressor::ElasticNet(m) => m.predict(&input),
        }
        .map_err(fit_error("regression"))?;
        Ok(predicted.into_iter().map(|v| v + self.y_mean).collect())
    }
}

/// Ridge fitted by smartcore's own Cholesky solver on the same centring, exported: the reference
/// that tabship's solver ([`crate::ridge`]) is tested against.
pub fn smartcore_ridge_cholesky(x: &Array2<f64>, y: &[f64], alpha: f64) -> Result<LinearRegressor> {
    let x_mean = column_means(x);
    let y_mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
    let centred_x = to_smartcore(&(x - &ndarray::Array1::from(x_mean.clone())))?;
    let centred_y: Vec<f64> = y.iter().map(|v| v - y_mean).collect();
    let parameters = RidgeRegressionParameters::default()
        .with_alpha(alpha)
        .with_normalize(false)
        .with_solver(RidgeRegressionSolverName::Cholesky);
    let model =
        RidgeRegression::fit(&centred_x, &centred_y, parameters).map_err(fit_error("ridge"))?;
    FittedRegressor {
        model: Regressor::Ridge(model),
        x_mean: Some(x_mean),
        y_mean,
    }
    .export_checked()
}
