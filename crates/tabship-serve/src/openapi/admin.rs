//! The admin operations: loading and unloading versions, aliases, activation, rollback, split,
//! shadow and the keys reload.

use axum::http::Method;
use serde_json::{Value, json};

use super::operations::{add, model_schema, name, object, version};
use super::{Access, Op, Operations, path_param, query_param};
use crate::auth::Scope;

/// The JSON body `{"version": "..."}` of activate, alias and shadow.
fn version_body() -> Value {
    json!({"application/json": {"schema": object(&["version"], json!({"version": {"type": "string"}}))}})
}

/// The 409 every admin change answers while the server follows a model directory.
const WATCHED: &str = "`model_dir_watched`: the server follows a model directory (--watch-interval) shared by its replicas; publish NAME/VERSION.tabship and NAME/CURRENT there instead";

/// The admin operations.
pub(super) fn operations(ops: &mut Operations) {
    let admin = Access::Scope(Scope::Admin);
    let changed = |summary: &str| {
        Op::new(summary, "admin")
            .access(admin)
            .param(name())
            .json(200, "the model after the change", model_schema())
            .error(404, "`model_not_found` or `version_not_found`")
            .error(409, WATCHED)
            .error(
                500,
                "`state_not_saved`: the state directory could not be written, nothing changed",
            )
    };
    add(
        ops,
        Method::POST,
        "/admin/models/{name}/versions",
        load_version(),
    );
    add(
        ops,
        Method::DELETE,
        "/admin/models/{name}/versions/{version}",
        changed("Unload a version (not the current one, nor one in the split or shadow)")
            .param(version())
            .error(
                409,
                &format!(
                    "`version_in_use`: the version is current, in the split or the shadow; or {WATCHED}"
                ),
            ),
    );
    add(
        ops,
        Method::PUT,
        "/admin/models/{name}/aliases/{alias}",
        changed("Point an alias at a version")
            .param(path_param("alias", "alias"))
            .body(version_body())
            .error(400, "`invalid_input`: a bad alias name or body"),
    );
    add(
        ops,
        Method::DELETE,
        "/admin/models/{name}/aliases/{alias}",
        changed("Remove an alias")
            .param(path_param("alias", "alias"))
            .error(404, "`alias_not_found`"),
    );
    add(
        ops,
        Method::POST,
        "/admin/models/{name}/activate",
        changed("Make a version (or alias) current")
            .body(version_body())
            .error(400, "`invalid_input`: no version given"),
    );
    add(
        ops,
        Method::POST,
        "/admin/models/{name}/rollback",
        changed("Back to the previous current version").error(
            409,
            &format!("`no_previous_version`: nothing to roll back to; or {WATCHED}"),
        ),
    );
    add(
        ops,
        Method::PUT,
        "/admin/models/{name}/split",
        changed("Split unversioned traffic (sticky by the X-Routing-Key header)")
            .body(json!({"application/json": {"schema": object(&["versions"], json!({"versions": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}})), "example": {"versions": {"1": 90, "2": 10}}}}))
            .error(400, "`invalid_input`: bad weights or versions"),
    );
    add(
        ops,
        Method::DELETE,
        "/admin/models/{name}/split",
        changed("Stop splitting"),
    );
    add(
        ops,
        Method::PUT,
        "/admin/models/{name}/shadow",
        changed("Score a shadow version on live traffic (logged, never returned)")
            .body(version_body())
            .error(400, "`invalid_input`: no version given"),
    );
    add(
        ops,
        Method::DELETE,
        "/admin/models/{name}/shadow",
        changed("Stop shadowing"),
    );
    add(
        ops,
        Method::POST,
        "/admin/keys/reload",
        Op::new(
            "Re-read the keys file (as SIGHUP does); an invalid file keeps the old keys",
            "admin",
        )
        .access(admin)
        .json(
            200,
            "the number of keys now in force",
            object(
                &["reloaded", "keys"],
                json!({"reloaded": {"type": "boolean"}, "keys": {"type": "integer"}}),
            ),
        )
        .error(
            400,
            "`invalid_keys`: the file was refused, the old keys stay in force",
        )
        .error(409, "`no_keys_file`: the server runs without --keys"),
    );
}

/// `POST /admin/models/{name}/versions`: every upload form, with `force`.
fn load_version() -> Op {
    let flag =
        |name: &str, description: &str| query_param(name, description, json!({"type": "boolean"}));
    let force = "load it even when it would break the model's clients (another target, classes, columns or kinds)";
    Op::new("Load a version: JSON {\"path\"}, a multipart form with a `file` part, or the artifact bytes", "admin")
        .description("A version whose task, target, classes, columns (removed, reordered, or added without --absent-as-missing and missing values in training) or column kinds differ from the current version's is refused with 409 `incompatible_version`, each difference in `fields`, unless `force` is true.")
        .access(Access::Scope(Scope::Admin))
        .param(name())
        .param(query_param("version", "the version string (default: the artifact's)", json!({"type": "string"})))
        .param(flag("activate", "make it current (default true)"))
        .param(flag("force", force))
        .body(json!({
            "application/json": {"schema": object(&["path"], json!({"path": {"type": "string"}, "version": {"type": "string"}, "activate": {"type": "boolean"}, "force": {"type": "boolean", "description": force}}))},
            "multipart/form-data": {"schema": object(&["file"], json!({"file": {"type": "string", "format": "binary", "description": "the artifact (also accepted as `model` or `artifact`)"}, "version": {"type": "string"}, "activate": {"type": "boolean"}, "force": {"type": "boolean", "description": force}}))},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }))
        .json(201, "loaded; `loaded.changes` lists every difference from the current version (a new name, an optional added column), `loaded.forced` says whether force was needed", object(&["loaded", "model"], json!({
            "loaded": object(&["model", "version", "checksum", "activated", "forced", "changes"], json!({"model": {"type": "string"}, "version": {"type": "string"}, "checksum": {"type": "string"}, "activated": {"type": "boolean"}, "forced": {"type": "boolean"}, "changes": {"type": "array", "items": {"type": "object"}}})),
            "model": model_schema(),
        })))
        .json(202, "the server follows a model directory (--watch-interval): the upload was checked and written there as NAME/VERSION.tabship (NAME/CURRENT too when `activate` needs it), and every replica following the directory loads it", object(&["published"], json!({
            "published": object(&["model", "version", "checksum", "path", "activated"], json!({"model": {"type": "string"}, "version": {"type": "string"}, "checksum": {"type": "string"}, "path": {"type": "string"}, "activated": {"type": "boolean"}})),
        })))
        .error(400, "a corrupt artifact, an unusable path or a bad field: refused, the old version keeps serving")
        .error(409, "`version_exists`, or `incompatible_version`: the differences are in `fields`, nothing changed; or, following a model directory, `model_dir_watched` (a load by path, or `force`) or `model_dir_unwritable`")
        .error(429, "`too_many_uploads`: the most version loads at once are in progress; retry after the `Retry-After` seconds")
        .error(500, "`state_not_saved`: the state directory could not be written, nothing changed")
}
