//! `tabship demo`: trains the bundled iris data and serves it with the web form.

use tabship_train::data::{KindOverrides, read_csv};
use tabship_train::{TrainOptions, train};

use crate::cli::DemoArgs;
use crate::error::{Error, Result};

/// The iris data set, bundled so that the demo runs anywhere.
const IRIS_CSV: &str = include_str!("../../../../testdata/iris.csv");

pub fn run(args: DemoArgs) -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::io("<temporary directory>", e))?;
    let csv = dir.path().join("iris.csv");
    std::fs::write(&csv, IRIS_CSV).map_err(|e| Error::io(&csv, e))?;
    let mut options = TrainOptions::new("species");
    options.name = Some("iris".to_owned());
    options.validate()?;
    let data = read_csv(&csv, &KindOverrides::default())?;
    let trained = train(&data, &options)?;
    if let Some(parent) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    trained.pipeline.save(&args.output)?;
    let accuracy = trained
        .report
        .metrics
        .get("accuracy")
        .copied()
        .unwrap_or(f64::NAN);
    eprintln!(
        "trained iris ({}) — holdout accuracy {accuracy:.3} — saved to {}",
        trained.report.model.name(),
        args.output.display()
    );
    let auth = args.server.keys.is_some();
    super::serve::start(
        &args.server,
        vec![args.output.clone()],
        0.0,
        |addr, admin_token| {
            eprintln!();
            eprintln!("  web form      http://{addr}/ui");
            eprintln!("  API docs      http://{addr}/docs");
            eprintln!(
                "  try it        curl -s http://{addr}/predict{} -d '{{\"sepal_length\": 5.1, \"sepal_width\": 3.5, \"petal_length\": 1.4, \"petal_width\": 0.2}}'",
                if auth {
                    " -H \"Authorization: Bearer $TOKEN\""
                } else {
                    ""
                }
            );
            if let Some(token) = admin_token {
                eprintln!("  admin token   {token}  (this run only; the admin routes need it)");
            }
            eprintln!("  stop          Ctrl-C");
            eprintln!();
        },
    )
}
