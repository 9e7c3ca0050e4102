//! Train the iris demo, save it, load it back and predict one flower.
//!
//! Run with: `cargo run -p tabship-examples --example iris`

use std::path::PathBuf;

use tabship::{Pipeline, Prediction, Value};
use tabship_train::data::{KindOverrides, read_csv};
use tabship_train::{TrainOptions, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/iris.csv");
    let data = read_csv(&data_path, &KindOverrides::default())?;
    let trained = train(&data, &TrainOptions::new("species"))?;
    println!(
        "holdout accuracy: {:.3}",
        trained.report.metrics["accuracy"]
    );

    let path = std::env::temp_dir().join("iris-example.tabship");
    trained.pipeline.save(&path)?;
    let pipeline = Pipeline::load(&path)?;

    let flower = [
        ("sepal_length", Value::from(6.3)),
        ("sepal_width", Value::from(3.3)),
        ("petal_length", Value::from(6.0)),
        ("petal_width", Value::from(2.5)),
    ];
    if let Prediction::Class { label, .. } = pipeline.predict_one(&flower)? {
        let proba = pipeline.predict_proba_one(&flower)?;
        println!("prediction: {label}");
        for (class, p) in pipeline.classes().iter().zip(proba) {
            println!("  p({class}) = {p:.3}");
        }
    }
    Ok(())
}
