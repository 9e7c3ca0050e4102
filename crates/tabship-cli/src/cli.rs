//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tabship::Task;
use tabship::encode::{CategoricalMissing, CategoryEncoding, ImputeStrategy};
use tabship_train::{Choice, ModelKind, TreeLearner, parse_choice};

use crate::csv_args::CsvArgs;

/// Ship tabular models: one artifact from training to production.
#[derive(Debug, Parser)]
#[command(name = "tabship", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a pipeline on a CSV file and save it as a .tabship artifact.
    Train(Box<TrainArgs>),
    /// Predict every row of a CSV file.
    Predict(PredictArgs),
    /// Show an artifact's schema, model, metrics and provenance.
    Inspect(InspectArgs),
    /// Score an artifact on labelled data: accuracy, precision/recall/F1, ROC AUC, log loss,
    /// confusion matrix, or MAE/RMSE/R².
    Evaluate(EvaluateArgs),
    /// Measure load time, single-row latency and batch throughput on this machine.
    Bench(BenchArgs),
    /// Serve artifacts over HTTP: predict, auth, metrics, OpenAPI docs, web form, versions.
    Serve(Box<ServeArgs>),
    /// Train the bundled iris data and serve it with the web form (Ctrl-C stops it).
    Demo(Box<DemoArgs>),
    /// Manage the API keys file.
    Keys(KeysArgs),
    /// Compare live data with the training distribution stored in the artifact: per column the
    /// statistic, its value, the threshold and the verdict, then the dataset verdict.
    Drift(DriftArgs),
    /// Import a model trained elsewhere (XGBoost, LightGBM) as a .tabship artifact that predicts exactly
    /// what the source library predicts; reference data gives the schema, the category codes,
    /// the class labels and the drift profile.
    Import(ImportArgs),
    /// Export an artifact for another runtime: `--onnx OUT.onnx` writes its encoders and model
    /// as one ONNX graph (refused, naming the part, where ONNX cannot reproduce it exactly).
    Export(crate::commands::export::ExportArgs),
    /// Champion against challenger on the same labelled rows: metrics of both, the exact
    /// McNemar test or a paired t-test, a paired bootstrap interval, and a verdict — exit code 0
    /// promote, 3 keep, 4 inconclusive.
    Compare(crate::commands::compare::CompareArgs),
    /// Refit a champion with its recorded algorithm and options on new labelled rows: same
    /// name, next version, provenance naming the champion and the reason.
    Retrain(Box<crate::commands::retrain::RetrainArgs>),
    /// Labels from production: `export` joins the logged inputs with their true labels.
    Labels(crate::commands::labels::LabelsArgs),
    /// Drift and live quality of a model over every replica's prediction log: per-replica
    /// windows merged into one drift report, accuracy/F1/MAE from the labelled rows.
    Monitor(Box<crate::commands::monitor::MonitorArgs>),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

/// The libraries `tabship import` reads, one subcommand each.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// An XGBoost model saved by `save_model` as JSON or UBJSON (1.7, 2.x, 3.x).
    Xgboost(ImportModelArgs),
    /// A LightGBM text model saved by `save_model` (LightGBM 4.x, `version=v4`).
    Lightgbm(ImportModelArgs),
}

/// What every importer takes.
#[derive(Debug, Args)]
pub struct ImportModelArgs {
    /// The model file.
    pub model: PathBuf,
    /// Reference data: a CSV of rows like the training rows (header row, comma-separated). It
    /// gives the schema, the category ↔ code mapping when the model file has none, and the drift
    /// profile.
    #[arg(long)]
    pub reference: PathBuf,
    /// The target column of the reference data: a classifier's labels are its sorted distinct
    /// values [default: labels 0..K].
    #[arg(long)]
    pub target: Option<String>,
    /// Columns to read as text categories although the model file does not mark them: each
    /// value reaches the model as its code in sorted order, for a model trained on such codes
    /// (comma-separated, or the flag repeated).
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// Output artifact. A symlink is written through; a device, FIFO or directory is refused.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The pipeline's name [default: the target's name, else the library's].
    #[arg(long)]
    pub name: Option<String>,
    /// The model's version string.
    #[arg(long, default_value = "1")]
    pub model_version: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Artifacts to serve; the first one's model answers POST /predict. `NAME=FILE` serves FILE
    /// under the model name NAME (its own name is the training target's, unless trained with
    /// --name); artifacts sharing a name are served as versions of one model.
    pub models: Vec<PathBuf>,
    /// Serve the models of this directory: DIR/*.tabship, and DIR/NAME/VERSION.tabship with an
    /// optional DIR/NAME/CURRENT naming the current version (else the newest).
    #[arg(long, env = "TABSHIP_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// Follow the model directories while serving: rescan at least every this many seconds (and
    /// on file change events), loading new versions and pointers; the admin routes that change
    /// models then answer 409. 0: load once, admin per instance.
    #[arg(long, env = "TABSHIP_WATCH_INTERVAL", default_value_t = 2.0)]
    pub watch_interval: f64,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on. Anything but loopback needs --keys (or --insecure-no-auth).
    #[arg(long, env = "TABSHIP_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "TABSHIP_PORT", default_value_t = 8900)]
    pub port: u16,
    /// TOML keys file (see `tabship keys add`); without it the prediction endpoints are open and
    /// the admin routes need a token made for this run and printed at start. Re-read on SIGHUP
    /// (and `POST /admin/keys/reload`); an invalid file keeps the old keys.
    #[arg(long, env = "TABSHIP_KEYS")]
    pub keys: Option<PathBuf>,
    /// Without --keys: the admin token for this run instead of a generated one (for scripts;
    /// read from the environment so it stays out of `ps`).
    #[arg(long, env = "TABSHIP_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Persist admin changes here (uploaded versions, aliases, current version, split, shadow)
    /// and re-apply them at start-up, after the command-line models.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// With --state-dir: when any part of the saved state cannot be restored, stay not ready
    /// (503 `state_invalid`) instead of serving what remains.
    #[arg(long, requires = "state_dir")]
    pub strict_state: bool,
    /// Admin loads by server path (`{"path": ...}`) read only files under this directory; uploads
    /// are unaffected.
    #[arg(long)]
    pub load_path_root: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow a non-loopback address without a keys file.
    #[arg(long, env = "TABSHIP_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// A host name requests may address besides loopback ones (repeatable). On a loopback
    /// --host, requests whose `Host` is neither loopback nor listed are refused (421), against
    /// DNS rebinding; with any --allowed-host the rule applies on every address. Name the
    /// public host of a reverse proxy that passes its own `Host` through.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Require a token with the `predict` scope for /openapi.json, /docs and /ui (they list
    /// every model, column and training category). Open by default; no effect without --keys.
    #[arg(long)]
    pub protect_docs: bool,
    /// Read a field a request leaves out as a missing value instead of answering 400: for every
    /// model, or only those named (`--absent-as-missing=credit,churn`). One request can opt in
    /// with `?absent_as_missing=true`.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "*",
        value_delimiter = ',',
        value_name = "MODELS"
    )]
    pub absent_as_missing: Option<Vec<String>>,
    /// Append every prediction to this JSONL file (rotated by size).
    #[arg(long = "log")]
    pub prediction_log: Option<PathBuf>,
    /// Rotate the prediction log at this many MiB.
    #[arg(long, default_value_t = 100)]
    pub log_max_mb: u64,
    /// Rotated prediction logs kept.
    #[arg(long, default_value_t = 5)]
    pub log_keep: usize,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// After SIGTERM, keep serving this many seconds with /health/ready answering 503
    /// `draining`, so a load balancer stops routing here before the socket closes.
    #[arg(long, env = "TABSHIP_DRAIN_SECONDS", default_value_t = 0.0)]
    pub drain_seconds: f64,
    /// Seconds a client has to send a request's headers, on a new connection and between
    /// requests on a keep-alive one: slow or idle connections are closed after it.
    #[arg(long, default_value_t = 10.0)]
    pub header_timeout: f64,
    /// Most connections open at once; further clients wait until one closes. Keep it under the
    /// open-file limit (`ulimit -n`).
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// Largest request body in KiB (413 above it).
    #[arg(long, default_value_t = 2048)]
    pub max_body_kb: usize,
    /// Version uploads and loads by path handled at once; one more is answered 429 before its
    /// body is read.
    #[arg(long, default_value_t = 2)]
    pub max_uploads: usize,
    /// Request bodies in flight at once over all connections, in MiB (uploads aside); a request
    /// past it is answered 503 `overloaded` before its body is read.
    #[arg(long, default_value_t = 256)]
    pub max_inflight_mb: usize,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Log as JSON lines (for log shippers) instead of text.
    #[arg(long, env = "TABSHIP_JSON_LOGS")]
    pub json_logs: bool,
    /// Log filter (RUST_LOG syntax); `warn` silences the per-request access log.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Also answer liveness (as GET /health/live) at this path: Azure ML's `liveness_route`.
    #[arg(long, env = "TABSHIP_LIVE_ROUTE", value_name = "PATH")]
    pub live_route: Option<String>,
    /// Also answer readiness (as GET /health/ready) at this path: Azure ML's `readiness_route`.
    #[arg(long, env = "TABSHIP_READY_ROUTE", value_name = "PATH")]
    pub ready_route: Option<String>,
    /// Also predict (as POST /predict, the default model) at this path: Azure ML's
    /// `scoring_route`.
    #[arg(long, env = "TABSHIP_SCORE_ROUTE", value_name = "PATH")]
    pub score_route: Option<String>,
    #[command(flatten)]
    pub experiment: crate::experiment_args::ExperimentArgs,
    /// Vertex AI's predict route (`AIP_PREDICT_ROUTE`), set by `tabship serve` from the
    /// environment Vertex gives the container.
    #[arg(skip)]
    pub vertex_predict_route: Option<String>,
    #[command(flatten)]
    pub triggers: crate::trigger_args::TriggerArgs,
    #[command(flatten)]
    pub auth: crate::auth_args::AuthArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the trained artifact.
    #[arg(long, default_value = "out/iris.tabship")]
    pub output: PathBuf,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a token (or take yours), print it once, and append its SHA-256 hash to the keys
    /// file.
    Add(KeysAddArgs),
    /// List the keys: username, scopes and a fingerprint of the stored hash (never a token).
    List(KeysListArgs),
    /// Remove a user's key.
    Remove(KeysUserArgs),
    /// Give a user a new generated token (same scopes), print it once; the old one stops working
    /// when the server re-reads the file (SIGHUP or `POST /admin/keys/reload`).
    Rotate(KeysUserArgs),
}

#[derive(Debug, Args)]
pub struct KeysListArgs {
    /// The keys file.
    #[arg(long, default_value = "keys.toml")]
    pub keys: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeysUserArgs {
    /// The key's user.
    #[arg(long)]
    pub username: String,
    /// The keys file.
    #[arg(long, default_value = "keys.toml")]
    pub keys: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeysAddArgs {
    /// Who will use the token (echoed as `username` in predictions).
    #[arg(long)]
    pub username: String,
    /// Comma-separated scopes: predict, feedback, admin, metrics.
    #[arg(long, value_delimiter = ',', required = true)]
    pub scopes: Vec<String>,
    /// The keys file (created when absent).
    #[arg(long, default_value = "keys.toml")]
    pub keys: PathBuf,
    /// Use the token read from standard input (at least 32 characters; a final line break is
    /// dropped) instead of generating one. Only its hash is stored.
    #[arg(long, conflicts_with = "token_file")]
    pub token_stdin: bool,
    /// Use the token held in this file (as --token-stdin).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

/// A clap value parser for a training option's closed set: the accepted names come from
/// [`Choice`] (so help and errors list them as clap's value enums do) and parse through
/// [`parse_choice`], the same function Python's keywords use.
fn choice<T: Choice>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(tabship_train::choice::names::<T>())
        .map(|name| parse_choice::<T>(&name).expect("clap admits only listed names"))
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training data: CSV with a header row; an empty field is a missing value.
    pub data: PathBuf,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// The column to predict (it may stand anywhere in the file).
    #[arg(long)]
    pub target: String,
    /// Output artifact (`-` for stdout, when it is not a terminal). A symlink is written
    /// through; a device, FIFO or directory is refused.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Model family [default: logistic for classification, ridge for regression]. Trees:
    /// decision-tree, random-forest (both tasks), extra-trees (regression), gradient-boosting
    /// (both tasks: logistic, softmax or squared-error loss).
    #[arg(long, value_parser = choice::<ModelKind>())]
    pub model: Option<ModelKind>,
    /// Task [default: classification for text or few-integer targets, else regression].
    #[arg(long, value_parser = choice::<Task>())]
    pub task: Option<Task>,
    /// The most classes a classification target may have: more is refused (a continuous column
    /// taken for labels); raise it for a real target with that many labels.
    #[arg(long, default_value_t = tabship_train::options::DEFAULT_MAX_CLASSES)]
    pub max_classes: usize,
    /// Columns to treat as categorical, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// Columns to treat as numeric, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub numeric: Vec<String>,
    /// Categories seen fewer times go to the Other slot: a count (5) or a fraction (0.01).
    #[arg(long, default_value = "5")]
    pub min_frequency: String,
    /// How categories become features.
    #[arg(long, value_parser = choice::<CategoryEncoding>(), default_value = "one-hot")]
    pub encoding: CategoryEncoding,
    /// Missing categories: their own slot, or the most frequent category.
    #[arg(long, value_parser = choice::<CategoricalMissing>(), default_value = "slot")]
    pub categorical_missing: CategoricalMissing,
    /// Missing numbers are filled with the training median, mean, or --fill-value; `nan` keeps
    /// them missing (histogram trees and gradient boosting: a bin of their own, sent to a
    /// learned side) [default: nan for gradient-boosting, median otherwise].
    #[arg(long, value_parser = choice::<ImputeStrategy>())]
    pub impute: Option<ImputeStrategy>,
    /// The constant for --impute constant.
    #[arg(long, default_value_t = 0.0)]
    pub fill_value: f64,
    /// Add a 0/1 "was missing" feature after every numeric column.
    #[arg(long)]
    pub missing_indicator: bool,
    /// Do not standard-scale numeric columns.
    #[arg(long)]
    pub no_scale: bool,
    /// Fraction of rows held out for the reported metrics (0 for none).
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Run k-fold cross-validation first and report each metric's mean and std.
    #[arg(long)]
    pub cv: Option<usize>,
    /// The pipeline's name [default: the target's name].
    #[arg(long)]
    pub name: Option<String>,
    /// The model's version string.
    #[arg(long, default_value = "1")]
    pub model_version: String,
    /// Regularisation strength (logistic: 1/C; ridge, lasso, elastic net: the penalty).
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// Elastic net mixing: 0 = L2 .. 1 = L1.
    #[arg(long, default_value_t = 0.5)]
    pub l1_ratio: f64,
    /// Convergence tolerance (logistic: the largest component of the mean loss's gradient, as
    /// scikit-learn's lbfgs; lasso, elastic net: smartcore's).
    #[arg(long, default_value_t = 1e-4)]
    pub tol: f64,
    /// Iteration limit (logistic L-BFGS, lasso, elastic net).
    #[arg(long, default_value_t = 1000)]
    pub max_iter: usize,
    /// Solver: svd|qr for linear, cholesky|svd for ridge.
    #[arg(long)]
    pub solver: Option<String>,
    /// Trees in a forest; boosting rounds for gradient-boosting.
    #[arg(long, default_value_t = 100)]
    pub n_trees: usize,
    /// Depth limit of trees: the most splits from root to leaf, as in scikit-learn [default: none].
    #[arg(long)]
    pub max_depth: Option<u16>,
    /// Fewest training rows in a leaf [default: 20 for gradient-boosting, 1 otherwise].
    #[arg(long)]
    pub min_samples_leaf: Option<usize>,
    /// Fewest training rows in a node to split it.
    #[arg(long, default_value_t = 2)]
    pub min_samples_split: usize,
    /// Features a forest tries per split: sqrt, all, a count or a fraction.
    #[arg(long, default_value = "sqrt")]
    pub max_features: String,
    /// The learner of decision-tree, random-forest and extra-trees: `hist` (binned features,
    /// every task, missing values) or `smartcore` (exact) [default: smartcore].
    #[arg(long, value_parser = choice::<TreeLearner>())]
    pub tree_learner: Option<TreeLearner>,
    /// Bins per feature of the histogram learner, the missing bin included (2..=255).
    #[arg(long, default_value_t = 255)]
    pub max_bins: usize,
    /// Threads for fitting forests and for batch prediction [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Gradient boosting: each leaf adds this times its Newton step.
    #[arg(long, default_value_t = 0.1)]
    pub learning_rate: f64,
    /// Gradient boosting: leaves per tree, grown best-first.
    #[arg(long, default_value_t = 31)]
    pub max_leaves: usize,
    /// Gradient boosting: fewest summed hessian in a leaf.
    #[arg(long, default_value_t = 1e-3)]
    pub min_child_weight: f64,
    /// Gradient boosting: L2 regularisation of leaf values.
    #[arg(long, default_value_t = 0.0)]
    pub l2: f64,
    /// Gradient boosting: hold out --validation-fraction of the training rows, score them every
    /// round, stop after this many rounds without a lower loss and keep the best round's trees.
    #[arg(long)]
    pub early_stopping_rounds: Option<usize>,
    /// Gradient boosting: the fraction of the training rows held out for early stopping
    /// (stratified for classification).
    #[arg(long, default_value_t = 0.1)]
    pub validation_fraction: f64,
    /// Write the split to this CSV (`row,set`: every data row, counted from 1 after the header,
    /// and `train`, `test` or `dropped` for a missing target), to compare other tools on the
    /// same rows.
    #[arg(long)]
    pub write_split: Option<PathBuf>,
    /// Store no drift profile (the artifact then keeps the oldest format its model allows).
    #[arg(long)]
    pub no_drift_profile: bool,
    /// Class weights of the fit (logistic and gradient-boosting): `balanced` (n_rows / (n_classes · class
    /// count), as scikit-learn) or per class, `yes=5,no=1` (classes not named weigh 1).
    #[arg(long)]
    pub class_weight: Option<String>,
    /// Store a decision threshold (binary classification): a probability of the positive class
    /// (`0.3`), `f1` (the holdout threshold maximising F1), `precision=0.9` (the lowest reaching
    /// that holdout precision) or `recall=0.8` (the highest reaching that holdout recall).
    #[arg(long)]
    pub threshold: Option<String>,
    /// The class --threshold applies to [default: the second class in sorted order].
    #[arg(long, requires = "threshold")]
    pub positive_class: Option<String>,
    /// Fit a regressor on a transform of the target and predict its inverse: `log1p` (fit on
    /// ln(1 + y), predict exp(z) − 1; targets must be > −1).
    #[arg(long)]
    pub target_transform: Option<String>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The .tabship artifact.
    pub model: PathBuf,
    /// Input CSV with a header row; columns are matched by name, extra columns are kept.
    pub data: PathBuf,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Output CSV [default: stdout; `-` too]. A symlink is written through; a device, FIFO or
    /// directory is refused.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Add one `probability_<class>` column per class.
    #[arg(long)]
    pub proba: bool,
    /// Threads for batch prediction [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// What to do with a row that cannot be predicted (text in a numeric column, infinity):
    /// `fail` stops at the first one and, with -o, writes nothing; `mark` writes it with empty
    /// predictions and the reason in an added `error` column; `skip` leaves it out. Every
    /// invalid row is counted on stderr.
    #[arg(long, value_enum, default_value = "fail")]
    pub invalid_rows: InvalidRows,
}

/// `tabship predict --invalid-rows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InvalidRows {
    Fail,
    Mark,
    Skip,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The .tabship artifact.
    pub model: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The .tabship artifact.
    pub model: PathBuf,
    /// Labelled CSV: the schema's columns and the training target column.
    pub data: PathBuf,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The .tabship artifact.
    pub model: PathBuf,
    /// CSV rows to score (cycled to fill the batch).
    pub data: PathBuf,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Rows in the batch measurement.
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The .tabship artifact (format 1.2 or newer: trained with a drift profile).
    pub model: PathBuf,
    /// Live data: a CSV file with the schema's columns (others are ignored).
    pub live: PathBuf,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit with code 3 when the drift policy fails the report: by default when the
    /// predictions drift, a column has ≥ 10% values never seen in training, or half of the
    /// columns drift (change it with `"policy"` in `--options`).
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Also write a self-contained HTML page with each column's reference vs live histogram.
    #[arg(long, value_name = "REPORT.html")]
    pub html: Option<PathBuf>,
    /// Thresholds, tests and policy as JSON (fields of `DriftOptions`, e.g. `{"share": 0.3,
    /// "wasserstein": 0.2, "policy": {"any_column": true, "unknown_rate": 0.05}}`); missing
    /// fields keep their defaults.
    #[arg(long, value_name = "OPTIONS.json")]
    pub options: Option<PathBuf>,
}
