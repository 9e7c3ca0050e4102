//! `POST /graphql`: the schema built from the models, predictions equal to `/predict` through
//! the data plane, errors with their paths, scopes, and the depth limit.

use axum::Router;
use serde_json::{Value, json};
use tabship_serve::Options;

use crate::common::*;

async fn gql(app: &Router, auth: Option<&str>, query: &str, variables: Value) -> Answer {
    let body = json!({"query": query, "variables": variables}).to_string();
    match auth {
        Some(token) => post_json_as(app, "/graphql", &bearer(token), body).await,
        None => post_json(app, "/graphql", &json!({"query": query, "variables": variables})).await,
    }
}

/// The golden adult rows as `/predict` records (the label column dropped).
fn adult_rows(n: usize) -> Vec<Value> {
    let (header, rows) = read_csv("adult_inputs.csv");
    rows.iter()
        .take(n)
        .map(|row| {
            let mut r = record(&header, row, ADULT_NUMERIC);
            r.as_object_mut().expect("object").remove("income");
            r
        })
        .collect()
}

fn without_request_id(mut answer: Value) -> Value {
    answer.as_object_mut().expect("object").remove("request_id");
    answer
}

const PREDICT: &str = "query($v: AdultInput!) { predict(model: \"adult\", input: {adult: $v}) }";

#[tokio::test]
async fn dump() {
    let app = app();
    let a = gql(&app, None, PREDICT, json!({"v": adult_rows(1)[0]})).await;
    println!("{}", a.text());
    let a = gql(&app, None, "{ __type(name: \"AdultInput\") { inputFields { name description type { kind name ofType { name } } } } }", json!({})).await;
    println!("{}", a.text());
}
