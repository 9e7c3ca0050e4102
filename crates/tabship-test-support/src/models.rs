//! What a test reads back from the server's model descriptions (`GET /models/{name}`).

/// The names of the versions a model description lists, in its order.
pub fn version_names(model: &serde_json::Value) -> Vec<String> {
    model["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_str().expect("version").to_owned())
        .collect()
}
