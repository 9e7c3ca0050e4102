//! Request ids and feedback ownership: ids are 128 random bits, a client's own id is checked and
//! refused while a remembered prediction uses it, and only the principal that made a prediction
//! (or an admin key) may label it — REST and V2 alike.

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tabship_serve::auth::{KeyStore, token_sha256};

use crate::common::*;

const ALICE: &str = "tsk_alice_predicts_and_labels";
const BOB: &str = "tsk_bob_predicts_and_labels";
const LABELLER: &str = "tsk_labeller_only_labels";
const ADMIN: &str = "tsk_admin_labels_anything";

/// alice and bob predict and label; the labeller only labels; admin labels and administers.
fn secured() -> Router {
    let key = |user: &str, token: &str, scopes: &str| {
        format!(
            "[[keys]]\nusername = \"{user}\"\ntoken_sha256 = \"{}\"\nscopes = [{scopes}]\n\n",
            token_sha256(token)
        )
    };
    let text = [
        key("alice", ALICE, r#""predict", "feedback""#),
        key("bob", BOB, r#""predict", "feedback""#),
        key("labeller", LABELLER, r#""feedback""#),
        key("admin", ADMIN, r#""feedback", "admin""#),
    ]
    .concat();
    let keys = KeyStore::parse(&text).expect("keys parse");
    tabship_serve::router(state_with(Some(keys), tabship_serve::Options::default()))
}

/// A POST with a JSON body, a bearer token (or none) and an `X-Request-Id` (or none).
async fn post(
    app: &Router,
    uri: &str,
    token: Option<&str>,
    id: Option<&str>,
    body: &Value,
) -> Answer {
    let auth = token.map(bearer);
    let mut headers = vec![("content-type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth));
    }
    if let Some(id) = id {
        headers.push(("x-request-id", id));
    }
    send(app, Method::POST, uri, &headers, body.to_string()).await
}

fn virginica() -> Value {
    json!({"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3})
}

fn label(id: &str, label: &str) -> Value {
    json!({"request_id": id, "label": label})
}

#[tokio::test]
async fn server_ids_are_128_random_bits() {
    let app = app();
    let mut ids = Vec::new();
    for _ in 0..64 {
        let a = post_json(&app, "/predict", &setosa()).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let id = a.json()["request_id"].as_str().expect("id").to_owned();
        assert_eq!(a.headers["x-request-id"], id.as_str());
        assert!(
            id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "32 lowercase hex digits (128 bits): `{id}`"
        );
        ids.push(u128::from_str_radix(&id, 16).expect("hex"));
    }
    // A prefix and a counter would make consecutive ids close and share their high bits; random
    // ones are far apart (the chance of a gap under 2^96 is 2^-31 per pair)...
    for pair in ids.windows(2) {
        let gap = pair[0].abs_diff(pair[1]);
        assert!(
            gap > 1 << 96,
            "{:032x} and {:032x} are too close",
            pair[0],
            pair[1]
        );
    }
    // ...and every one of the 128 bits takes both values over 64 ids (a fixed bit has a chance
    // of 2^-63 with random ids).
    let (ones, zeros) = ids
        .iter()
        .fold((0u128, 0u128), |(o, z), id| (o | id, z | !id));
    assert_eq!(ones, u128::MAX, "bits never set: {:032x}", !ones);
    assert_eq!(zeros, u128::MAX, "bits always set: {:032x}", !zeros);
}

#[tokio::test]
async fn a_malformed_client_id_is_400_naming_the_header() {
    let app = app();
    for bad in ["with space", "<script>", &"a".repeat(65)] {
        let a = post(&app, "/predict", None, Some(bad), &setosa()).await;
        let e = a.error(StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(e["fields"][0]["field"], "X-Request-Id", "{e}");
        assert!(
            e["message"]
                .as_str()
                .expect("message")
                .contains("X-Request-Id"),
            "{e}"
        );
        // The answer still carries an id, one of the server's.
        assert_eq!(a.headers["x-request-id"].len(), 32);
    }
    let a = post(
        &app,
        "/predict",
        None,
        Some("order-2024-11-30/17"),
        &setosa(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["request_id"], "order-2024-11-30/17");
}

#[tokio::test]
async fn a_used_id_is_refused_and_feedback_joins_the_first_prediction() {
    let app = app();
    let a = post(&app, "/predict", None, Some("order-1"), &setosa()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["prediction"], "setosa");
    // Another request under the same id, on REST or V2: 409 naming the id, nothing answered.
    let e = post(&app, "/predict", None, Some("order-1"), &virginica())
        .await
        .error(StatusCode::CONFLICT, "duplicate_request_id");
    assert!(
        e["message"]
            .as_str()
            .expect("message")
            .contains("`order-1`"),
        "{e}"
    );
    assert_eq!(e["fields"][0]["field"], "X-Request-Id");
    assert_eq!(e["fields"][0]["received"], "`order-1`");
    let a = post(
        &app,
        "/v2/models/iris/infer",
        None,
        Some("order-1"),
        &iris_infer_row([6.7, 3.0, 5.2, 2.3]),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    assert!(
        a.json()["error"]
            .as_str()
            .expect("V2 error")
            .contains("`order-1`")
    );
    // The same body on another route is another request too.
    post(
        &app,
        "/models/iris/predict",
        None,
        Some("order-1"),
        &setosa(),
    )
    .await
    .error(StatusCode::CONFLICT, "duplicate_request_id");
    // The label joins the prediction the client got for `order-1`: setosa.
    let a = post_json(&app, "/feedback", &label("order-1", "setosa")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["correct"], true);

    // V2 predictions are remembered too, and their ids refused the same way.
    let a = post(
        &app,
        "/v2/models/iris/infer",
        None,
        Some("v2-1"),
        &iris_infer_row([6.7, 3.0, 5.2, 2.3]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["parameters"]["request_id"], "v2-1");
    post(&app, "/predict", None, Some("v2-1"), &setosa())
        .await
        .error(StatusCode::CONFLICT, "duplicate_request_id");
    let a = post(
        &app,
        "/v2/models/iris/infer",
        None,
        Some("v2-1"),
        &iris_infer_row([5.1, 3.5, 1.4, 0.2]),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    let a = post_json(&app, "/feedback", &label("v2-1", "virginica")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["correct"], true);
}

#[tokio::test]
async fn a_resend_of_the_same_request_is_a_retry_until_labelled() {
    let app = app();
    let body = json!({"instances": [setosa(), virginica()]});
    for _ in 0..2 {
        let a = post(&app, "/predict", None, Some("retry-1"), &body).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "a resend is answered: {}",
            a.text()
        );
    }
    let a = post_json(
        &app,
        "/feedback",
        &json!({"request_id": "retry-1", "index": 1, "label": "virginica"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // Once a row has its label, the id is final: a resend would change what the label judged.
    let e = post(&app, "/predict", None, Some("retry-1"), &body)
        .await
        .error(StatusCode::CONFLICT, "duplicate_request_id");
    assert!(
        e["message"].as_str().expect("message").contains("feedback"),
        "{e}"
    );
    // V2 resends are retries too.
    let infer = iris_infer_row([5.1, 3.5, 1.4, 0.2]);
    for _ in 0..2 {
        let a = post(&app, "/v2/models/iris/infer", None, Some("retry-2"), &infer).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    }
}

#[tokio::test]
async fn only_the_same_principal_or_an_admin_labels_a_prediction() {
    let app = secured();
    let predict = |route: &'static str, body: Value, token: &'static str| {
        let app = app.clone();
        async move {
            let a = post(&app, route, Some(token), None, &body).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text());
            let body = a.json();
            body["request_id"]
                .as_str()
                .or_else(|| body["parameters"]["request_id"].as_str())
                .expect("request id")
                .to_owned()
        }
    };
    for (route, body) in [
        ("/predict", setosa()),
        (
            "/v2/models/iris/infer",
            iris_infer_row([5.1, 3.5, 1.4, 0.2]),
        ),
    ] {
        let id = predict(route, body.clone(), ALICE).await;
        // bob, and a key that only labels, see alice's prediction as unknown: 404, not 403, so
        // ids cannot be probed; the row is not consumed.
        for token in [BOB, LABELLER] {
            let e = post(&app, "/feedback", Some(token), None, &label(&id, "setosa"))
                .await
                .error(StatusCode::NOT_FOUND, "request_not_found");
            assert!(e["message"].as_str().expect("message").contains(&id), "{e}");
        }
        // alice labels her own prediction.
        let a = post(&app, "/feedback", Some(ALICE), None, &label(&id, "setosa")).await;
        assert_eq!(a.status, StatusCode::OK, "{route}: {}", a.text());
        assert_eq!(a.json()["correct"], true);
        // An admin key labels anyone's.
        let id = predict(route, body, BOB).await;
        let a = post(
            &app,
            "/feedback",
            Some(ADMIN),
            None,
            &label(&id, "virginica"),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{route}: {}", a.text());
        assert_eq!(a.json()["correct"], false);
    }
    // A client-chosen id is bound to its principal too, and bob cannot take alice's id.
    let a = post(&app, "/predict", Some(ALICE), Some("alice-7"), &setosa()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    post(&app, "/predict", Some(BOB), Some("alice-7"), &setosa())
        .await
        .error(StatusCode::CONFLICT, "duplicate_request_id");
    post(
        &app,
        "/feedback",
        Some(BOB),
        None,
        &label("alice-7", "setosa"),
    )
    .await
    .error(StatusCode::NOT_FOUND, "request_not_found");
    let a = post(
        &app,
        "/feedback",
        Some(ALICE),
        None,
        &label("alice-7", "setosa"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_requests_racing_for_one_id_exactly_one_is_answered() {
    let app = app();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let app = app.clone();
            // Different bodies, so none is a resend of another.
            let body = json!({"sepal_length": 5.0 + f64::from(i) / 10.0, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2});
            tokio::spawn(async move { post(&app, "/predict", None, Some("race-1"), &body).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").status);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, refused), (1, 15), "{statuses:?}");
}
