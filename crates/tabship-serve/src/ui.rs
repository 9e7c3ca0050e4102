//! `GET /ui` and `GET /ui/{name}`: a web form generated from the model's schema: number fields
//! (anything but a number is refused with a message, empty is missing), category drop-downs with the
//! training categories then, apart, "(missing)" and "type another value…", the prediction and
//! probabilities. Self-contained.
//!
//! The two special entries are told apart from categories by a `data-` attribute, never by their
//! value, so a real category named `other`, `(missing)` or anything else is just a category.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use tabship::encode::ColumnEncoderSpec;
use tabship::{ColumnSummary, Example};

use crate::error::ApiError;
use crate::html::{STYLE, esc, page};
use crate::page_cache::Rendered;
use crate::registry::{LoadedModel, Registry};
use crate::state::AppState;

/// `GET /ui`: the form of the default model.
pub(crate) async fn ui_default(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let (generation, registry) = state.registry.load_generation();
    let name = registry
        .default_model
        .clone()
        .ok_or_else(|| ApiError::model_not_found("(default)"))?;
    cached(&state, generation, &registry, &name)
}

/// `GET /ui/{name}`.
pub(crate) async fn ui_model(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let (generation, registry) = state.registry.load_generation();
    cached(&state, generation, &registry, &name)
}

/// The form of `name` as rendered for this registry generation (only known models are rendered,
/// so the cache holds at most one page per model).
fn cached(
    state: &AppState,
    generation: u64,
    registry: &Registry,
    name: &str,
) -> Result<Response, ApiError> {
    let page = state
        .pages
        .get_or_build(&format!("ui/{name}"), generation, || {
            render(state, registry, name)
        })?;
    Ok(page.response())
}

fn field_html(out: &mut String, index: usize, column: &ColumnSummary) {
    let id = format!("f{index}");
    let name = column.name.as_str();
    let _ = write!(out, "<div><label for=\"{id}\">{}</label>", esc(name));
    match column.encoder {
        ColumnEncoderSpec::Numeric(_) => {
            let value = match column.example {
                Example::Number(x) if x.is_finite() => x.to_string(),
                _ => String::new(),
            };
            let _ = write!(
                out,
                "<input type=\"text\" inputmode=\"decimal\" id=\"{id}\" data-column=\"{}\" data-kind=\"number\" value=\"{}\" placeholder=\"a number; empty = missing\">\
                 <span class=\"error\" id=\"{id}-error\" hidden>not a number: fix it, or empty it for a missing value</span>",
                esc(name),
                esc(&value)
            );
        }
        ColumnEncoderSpec::Categorical(_) => {
            let selected = match &column.example {
                Example::Category(c) => c.as_str(),
                _ => "",
            };
            let _ = write!(
                out,
                "<select id=\"{id}\" data-column=\"{}\" data-kind=\"category\">",
                esc(name)
            );
            for cat in column.known_categories() {
                let sel = if cat == selected { " selected" } else { "" };
                let _ = write!(out, "<option value=\"{0}\"{sel}>{0}</option>", esc(cat));
            }
            let _ = write!(
                out,
                "<optgroup label=\"not a training category\">\
                 <option value=\"\" data-missing>(missing)</option>\
                 <option value=\"\" data-free-text>type another value…</option></optgroup></select>\
                 <input type=\"text\" id=\"{id}-other\" aria-label=\"{} (another value)\" placeholder=\"another value of {}\" hidden>",
                esc(name),
                esc(name)
            );
        }
    }
    out.push_str("</div>");
}

fn render(state: &AppState, registry: &Registry, name: &str) -> Result<Rendered, ApiError> {
    let entry = registry.model(name)?;
    let model: &LoadedModel = entry.current_model();
    let mut fields = String::new();
    for (i, column) in model.pipeline.column_summaries().iter().enumerate() {
        field_html(&mut fields, i, column);
    }
    let others: Vec<String> = registry
        .models
        .keys()
        .filter(|n| *n != name)
        .map(|n| format!("<a href=\"/ui/{0}\">{0}</a>", esc(n)))
        .collect();
    // With one model there is no other to link to: no empty "Other models:" label.
    let others = if others.is_empty() {
        String::new()
    } else {
        format!(" Other models: {} ·", others.join(" "))
    };
    let token_box = if state.auth_enabled() {
        "<label for=\"token\">Bearer token</label><input type=\"password\" id=\"token\" autocomplete=\"off\" placeholder=\"a token with the predict scope\">"
    } else {
        "<input type=\"hidden\" id=\"token\" value=\"\">"
    };
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · tabship</title><style>{STYLE}</style></head><body>
<h1>{title} <span class="muted">version {version} · {task} · {algorithm}</span></h1>
<p class="muted" id="intro">Fill in the fields and press Predict.{others} <a href="/docs">API docs</a></p>
<form id="form" class="card" autocomplete="off">{token_box}<div class="grid">{fields}</div>
<button type="submit" id="predict">Predict</button></form>
<div id="result" class="card" hidden></div>
<script>
const MODEL = {model_json};
const form = document.getElementById('form'), result = document.getElementById('result'), token = document.getElementById('token');
if (token.type === 'password') token.value = sessionStorage.getItem('tabship-token') || '';
const freeText = (sel) => sel.selectedOptions.length > 0 && 'freeText' in sel.selectedOptions[0].dataset;
for (const sel of document.querySelectorAll('select[data-kind=category]')) {{
  sel.addEventListener('change', () => {{ document.getElementById(sel.id + '-other').hidden = !freeText(sel); }});
}}
for (const el of document.querySelectorAll('[data-kind=number]')) {{
  el.addEventListener('input', () => {{ document.getElementById(el.id + '-error').hidden = true; el.removeAttribute('aria-invalid'); }});
}}
function esc(s) {{ return String(s).replace(/[&<>"']/g, c => ({{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}})[c]); }}
form.addEventListener('submit', async (event) => {{
  event.preventDefault();
  const record = {{}}, invalid = [];
  for (const el of document.querySelectorAll('[data-column]')) {{
    let v = el.value;
    if (el.dataset.kind === 'number') {{
      // A text input (not type=number, which reads unparsable text as '' in some browsers and
      // refuses keys in others): what was typed stays visible, and anything but a number or
      // nothing is refused here instead of being sent as a missing value.
      v = v.trim();
      const bad = v !== '' && !Number.isFinite(Number(v));
      document.getElementById(el.id + '-error').hidden = !bad;
      if (bad) {{ el.setAttribute('aria-invalid', 'true'); invalid.push(el.dataset.column); continue; }}
      v = v === '' ? null : Number(v);
    }} else if (freeText(el)) v = document.getElementById(el.id + '-other').value;
    else if (v === '') v = null;
    record[el.dataset.column] = v;
  }}
  if (invalid.length > 0) {{
    result.hidden = false;
    result.innerHTML = '<p class="error" id="error">not sent: ' + invalid.map(c => '<code>' + esc(c) + '</code>').join(', ') + (invalid.length === 1 ? ' is' : ' are') + ' not a number; fix or empty (missing)</p>';
    return;
  }}
  const headers = {{'Content-Type': 'application/json'}};
  if (token.value) {{ headers['Authorization'] = 'Bearer ' + token.value; sessionStorage.setItem('tabship-token', token.value); }}
  result.hidden = false; result.innerHTML = '<span class="muted">predicting…</span>';
  try {{
    const r = await fetch('/models/' + encodeURIComponent(MODEL) + '/predict', {{method: 'POST', headers, body: JSON.stringify(record)}});
    const body = await r.json();
    if (!r.ok) {{
      const fields = (body.error.fields || []).map(f => '<li><code>' + esc(f.field) + '</code>: expected ' + esc(f.expected) + ', got ' + esc(f.received) + '</li>').join('');
      result.innerHTML = '<p class="error" id="error">' + r.status + ' · ' + esc(body.error.message) + '</p><ul>' + fields + '</ul>';
      return;
    }}
    let html = '<h2>Prediction: <span id="prediction">' + esc(body.prediction) + '</span></h2>';
    if (body.probabilities) {{
      html += '<table id="probabilities">';
      for (const [label, p] of Object.entries(body.probabilities)) {{
        html += '<tr><td>' + esc(label) + '</td><td style="width:60%"><div class="bar" style="width:' + (100 * p).toFixed(1) + '%"></div></td><td>' + (100 * p).toFixed(1) + '%</td></tr>';
      }}
      html += '</table>';
    }}
    html += '<p class="muted">model ' + esc(body.model) + ' version ' + esc(body.version) + ' · request ' + esc(body.request_id) + (body.username ? ' · ' + esc(body.username) : '') + '</p>';
    result.innerHTML = html;
  }} catch (e) {{
    result.innerHTML = '<p class="error" id="error">' + esc(e) + '</p>';
  }}
}});
</script></body></html>"#,
        title = esc(name),
        version = esc(&model.version),
        task = model.pipeline.task().name(),
        algorithm = esc(&model.pipeline.training().algorithm),
        model_json = serde_json::to_string(name)
            .unwrap_or_default()
            .replace('<', "\\u003c"),
    );
    Ok(page(html))
}
