//! `tabship export`: an artifact in another runtime's format. Today ONNX (`--onnx OUT.onnx`,
//! `tabship-onnx`): the encoders and the model as one graph that ONNX Runtime runs, or a refusal
//! naming the part ONNX cannot express exactly.

use std::path::PathBuf;

use clap::Args;
use tabship::{Pipeline, artifact};

use crate::error::Result;

/// `tabship export` arguments.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The .tabship artifact.
    pub model: PathBuf,
    /// Write the pipeline as an ONNX model (ai.onnx 21, ai.onnx.ml 5; the contract is in
    /// docs/onnx.md): one input per schema column, outputs `label` and `probabilities` or
    /// `value`.
    #[arg(long, value_name = "OUT.onnx", required = true)]
    pub onnx: PathBuf,
}

/// Writes the export atomically and prints what was written.
pub fn run(args: ExportArgs) -> Result<()> {
    let pipeline = Pipeline::from_bytes(&artifact::read_file(&args.model)?)?;
    let bytes = tabship_onnx::to_onnx(&pipeline)?;
    tabship::fs::write_atomic(&args.onnx, &bytes, 0o644)?;
    let outputs = if pipeline.classes().is_empty() {
        "value".to_owned()
    } else {
        format!("label, probabilities of {}", pipeline.classes().len())
    };
    let line = format!(
        "wrote {} ({} bytes): {} inputs, outputs {outputs}\n",
        args.onnx.display(),
        bytes.len(),
        pipeline.schema().len(),
    );
    crate::output::print(&line)
}
