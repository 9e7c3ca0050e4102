//! The query fields: `models`, `model`, `predict`, `predictBatch`, `drift`. Predictions go
//! through the data plane (`infer::infer`), so routing, A/B, shadow, feedback ids, the log,
//! drift and metrics apply as for `/predict`; the answer is the `/predict` answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ObjectAccessor, ResolverContext, TypeRef,
};
use async_graphql::{Error, ErrorExtensions, Value};
use axum::http::HeaderMap;
use serde_json::{Map, Value as Json, json};

use super::schema::{ModelNames, Names};
use crate::auth::{Identity, Scope};
use crate::error::ApiError;
use crate::infer::{self, Call};
use crate::predict::{JsonPredict, RequestId};
use crate::state::AppState;

/// What one HTTP request gives its resolvers.
pub(crate) struct RequestData {
    pub(crate) state: Arc<AppState>,
    pub(crate) identity: Identity,
    pub(crate) rid: RequestId,
    pub(crate) headers: HeaderMap,
    pub(crate) started: Instant,
    /// Predictions made so far: the first takes the request's id, the others fresh ones (each
    /// prediction is remembered for `/feedback` under its own id).
    pub(crate) predictions: AtomicUsize,
}

/// `ApiError` as a GraphQL error: the message, and in `extensions` the REST code, status and
/// the offending fields, each with its GraphQL `path` (`["input", "adult", "age"]`).
fn to_graphql(error: ApiError, paths: impl Fn(&crate::error::FieldError) -> Vec<Json>) -> Error {
    let fields: Vec<Json> = error
        .fields
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or(Json::Null);
            v["path"] = Json::Array(paths(f));
            v
        })
        .collect();
    Error::new(error.message).extend_with(|_, ext| {
        ext.set("code", error.code);
        ext.set("status", error.status.as_u16());
        if !fields.is_empty() {
            ext.set(
                "fields",
                Value::from_json(Json::Array(fields)).unwrap_or(Value::Null),
            );
        }
    })
}

fn plain(error: ApiError) -> Error {
    to_graphql(error, |_| Vec::new())
}

fn json_value(json: Json) -> Result<Option<FieldValue<'static>>, Error> {
    Ok(Some(FieldValue::value(
        Value::from_json(json).map_err(|e| Error::new(e.to_string()))?,
    )))
}

/// The key under which a resolver's error carries its response path (the dynamic schema
/// does not set `path` on resolver errors); `errors::annotate` moves it to `path`.
pub(crate) const PATH_KEY: &str = "tabship_path";

/// `error` with the field's response path (`["predict"]`, or the alias).
fn located(ctx: &ResolverContext<'_>, error: Error) -> Error {
    let path: Vec<Value> = ctx
        .ctx
        .path_node
        .map(|p| p.to_string_vec())
        .unwrap_or_default()
        .into_iter()
        .map(Value::from)
        .collect();
    error.extend_with(|_, e| e.set(PATH_KEY, Value::List(path)))
}

/// The query root.
pub(crate) fn query() -> Object {
    Object::new("Query")
        .field(
            Field::new("models", TypeRef::named_nn_list_nn("Model"), |ctx| {
                FieldFuture::new(async move {
                    let result: Result<Option<FieldValue>, Error> = async {
                        let data = ctx.data::<RequestData>()?;
                        let registry = data.state.registry();
                        let models: Vec<FieldValue> = registry
                            .models
                            .iter()
                            .map(|(name, entry)| {
                                FieldValue::owned_any(crate::models::model_json(name, entry))
                            })
                            .collect();
                        Ok(Some(FieldValue::list(models)))
                    }
                    .await;
                    result.map_err(|e| located(&ctx, e))
                })
            })
            .description("Every loaded model."),
        )
        .field(
            Field::new("model", TypeRef::named("Model"), |ctx| {
                FieldFuture::new(async move {
                    let result: Result<Option<FieldValue>, Error> = async {
                        let data = ctx.data::<RequestData>()?;
                        let name = ctx.args.try_get("name")?.string()?;
                        let registry = data.state.registry();
                        let entry = registry.model(name).map_err(plain)?;
                        Ok(Some(FieldValue::owned_any(crate::models::model_json(
                            name, entry,
                        ))))
                    }
                    .await;
                    result.map_err(|e| located(&ctx, e))
                })
            })
            .argument(InputValue::new("name", TypeRef::named_nn(TypeRef::STRING)))
            .description("One model (an unknown name is an error with code `model_not_found`)."),
        )
        .field(
            Field::new("predict", super::schema_json_type(), |ctx| {
                FieldFuture::new(async move {
                    let result: Result<Option<FieldValue>, Error> = async {
                        let input = ctx.args.try_get("input")?.object()?;
                        predict(&ctx, Rows::One(input)).await
                    }
                    .await;
                    result.map_err(|e| located(&ctx, e))
                })
            })
            .argument(InputValue::new("model", TypeRef::named_nn(TypeRef::STRING)))
            .argument(InputValue::new("version", TypeRef::named(TypeRef::STRING)))
            .argument(InputValue::new("input", TypeRef::named_nn("PredictInput")))
            .description("One prediction: the `/models/{model}/predict` answer for one record."),
        )
        .field(
            Field::new("predictBatch", super::schema_json_type(), |ctx| {
                FieldFuture::new(async move {
                    let result: Result<Option<FieldValue>, Error> = async {
                        let inputs = ctx.args.try_get("inputs")?.list()?;
                        let rows = inputs
                            .iter()
                            .map(|v| v.object())
                            .collect::<Result<Vec<_>, _>>()?;
                        predict(&ctx, Rows::Many(rows)).await
                    }
                    .await;
                    result.map_err(|e| located(&ctx, e))
                })
            })
            .argument(InputValue::new("model", TypeRef::named_nn(TypeRef::STRING)))
            .argument(InputValue::new("version", TypeRef::named(TypeRef::STRING)))
            .argument(InputValue::new(
                "inputs",
                TypeRef::named_nn_list_nn("PredictInput"),
            ))
            .description(
                "Many rows of one model: the `/predict` answer for `{\"instances\": [...]}`.",
            ),
        )
        .field(
            Field::new("drift", super::schema_json_type(), |ctx| {
                FieldFuture::new(async move {
                    let result: Result<Option<FieldValue>, Error> = async {
                        let data = ctx.data::<RequestData>()?;
                        // The route needs `predict`; drift needs `metrics` as on REST.
                        data.state
                            .authorize(&data.headers, Scope::Metrics)
                            .map_err(plain)?;
                        let name = ctx.args.try_get("model")?.string()?;
                        let version = match ctx.args.get("version") {
                            Some(v) if !v.is_null() => Some(v.string()?.to_owned()),
                            _ => None,
                        };
                        let json = crate::models::drift_json(&data.state, name, version.as_deref())
                            .map_err(plain)?;
                        json_value(json)
                    }
                    .await;
                    result.map_err(|e| located(&ctx, e))
                })
            })
            .argument(InputValue::new("model", TypeRef::named_nn(TypeRef::STRING)))
            .argument(InputValue::new("version", TypeRef::named(TypeRef::STRING)))
            .description("The `/models/{model}/drift` report; needs the `metrics` scope."),
        )
}

/// `Model`: read from `GET /models/{name}`'s answer.
pub(crate) fn model_type() -> Object {
    fn key(name: &str, ty: TypeRef, pick: fn(&Json) -> Json) -> Field {
        Field::new(name, ty, move |ctx| {
            FieldFuture::new(async move {
                let model = ctx.parent_value.try_downcast_ref::<Json>()?;
                json_value(pick(model))
            })
        })
    }
    Object::new("Model")
        .description("A loaded model, as `GET /models/{name}` describes it.")
        .field(key("name", TypeRef::named_nn(TypeRef::STRING), |m| {
            m["name"].clone()
        }))
        .field(key(
            "currentVersion",
            TypeRef::named_nn(TypeRef::STRING),
            |m| m["current_version"].clone(),
        ))
        .field(key(
            "versions",
            TypeRef::named_nn_list_nn(TypeRef::STRING),
            |m| {
                Json::Array(
                    m["versions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| v["version"].clone())
                        .collect(),
                )
            },
        ))
        .field(key("schema", super::schema_json_type(), |m| {
            m["schema"].clone()
        }))
        .field(key("metrics", super::schema_json_type(), |m| {
            m["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["version"] == m["current_version"])
                .map_or(Json::Null, |v| v["metrics"].clone())
        }))
        .field(key("details", super::schema_json_type(), Json::clone))
}

/// The rows of a `predict` or `predictBatch`.
enum Rows<'a> {
    One(ObjectAccessor<'a>),
    Many(Vec<ObjectAccessor<'a>>),
}

/// One `PredictInput` as a `/predict` record, and the model it names.
fn record(
    names: &Names,
    model: &str,
    input: &ObjectAccessor<'_>,
    at: &[Json],
) -> Result<Map<String, Json>, Error> {
    let Some(mapping) = names.models.get(model) else {
        return Err(match names.refused.get(model) {
            // Loaded, but its GraphQL names collide: say which, not "unknown".
            Some(reason) => {
                let message = format!("model `{model}` is not exposed over GraphQL: {reason}");
                Error::new(message).extend_with(|_, e| {
                    e.set("code", "name_collision");
                    e.set("status", 409);
                })
            }
            None => plain(ApiError::model_not_found(model)),
        });
    };
    let chosen: Vec<_> = input.keys().map(|k| k.as_str().to_owned()).collect();
    if chosen != [mapping.field.as_str()] {
        let got = chosen.first().map_or("nothing", String::as_str).to_owned();
        let field = mapping.field.clone();
        let path = at.to_vec();
        return Err(Error::new(format!(
            "input: expected the field `{field}` (model `{model}`), got `{got}`"
        ))
        .extend_with(move |_, e| {
            e.set("code", "invalid_input");
            e.set("status", 422);
            e.set(
                "fields",
                Value::from_json(
                    json!([{"field": "input", "expected": field, "received": got, "path": path}]),
                )
                .unwrap_or(Value::Null),
            );
        }));
    }
    let row = input.try_get(&mapping.field)?.object()?;
    let mut out = Map::new();
    for (gql, value) in row.iter() {
        let column = mapping
            .columns
            .get(gql.as_str())
            .cloned()
            .unwrap_or_else(|| gql.to_string());
        out.insert(
            column,
            value
                .as_value()
                .clone()
                .into_json()
                .map_err(|e| Error::new(e.to_string()))?,
        );
    }
    Ok(out)
}

/// `predict` and `predictBatch`: builds the `/predict` body and runs the data plane.
async fn predict(
    ctx: &ResolverContext<'_>,
    rows: Rows<'_>,
) -> Result<Option<FieldValue<'static>>, Error> {
    let data = ctx.data::<RequestData>()?;
    let names = ctx.data::<Names>()?;
    let model = ctx.args.try_get("model")?.string()?.to_owned();
    let version = match ctx.args.get("version") {
        Some(v) if !v.is_null() => Some(v.string()?.to_owned()),
        _ => None,
    };
    let mapping: Option<ModelNames> = names.models.get(&model).cloned();
    let (body, batch) = match rows {
        Rows::One(input) => (
            Json::Object(record(names, &model, &input, &[json!("input")])?),
            false,
        ),
        Rows::Many(inputs) => {
            let mut rows = Vec::with_capacity(inputs.len());
            for (i, input) in inputs.iter().enumerate() {
                rows.push(Json::Object(record(
                    names,
                    &model,
                    input,
                    &[json!("inputs"), json!(i)],
                )?));
            }
            (json!({ "instances": rows }), true)
        }
    };
    let n = data.predictions.fetch_add(1, Ordering::Relaxed);
    let rid = if n == 0 {
        data.rid.clone()
    } else {
        RequestId(crate::request_id::generate().into())
    };
    let started = if n == 0 { data.started } else { Instant::now() };
    let call = Call {
        name: Some(model),
        version,
        ..Call::routed(started, rid, data.identity.clone(), None, &data.headers)
    };
    let bytes = serde_json::to_vec(&body).map_err(|e| Error::new(e.to_string()))?;
    let answer = infer::infer(&data.state, JsonPredict, call, &bytes)
        .await
        .map_err(|e| {
            to_graphql(e, |f| {
                let Some(m) = &mapping else { return Vec::new() };
                let column = m
                    .columns
                    .iter()
                    .find(|(_, c)| **c == f.field)
                    .map(|(g, _)| g.clone());
                let Some(column) = column else {
                    return vec![json!(if batch { "inputs" } else { "input" })];
                };
                match (batch, f.index) {
                    (true, Some(i)) => {
                        vec![json!("inputs"), json!(i), json!(m.field), json!(column)]
                    }
                    _ => vec![json!("input"), json!(m.field), json!(column)],
                }
            })
        })?;
    let json: Json = serde_json::from_slice(&answer).map_err(|e| Error::new(e.to_string()))?;
    json_value(json)
}
