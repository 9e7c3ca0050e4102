//! `GET /docs`: an interactive page listing every endpoint of `/openapi.json`, with a form to try
//! each one. Self-contained (no CDN).

use std::sync::OnceLock;

use axum::response::Response;

use crate::html::{STYLE, page};
use crate::page_cache::Rendered;

/// `GET /docs`: the page does not depend on the models (it reads `/openapi.json`), so it is
/// rendered once per process.
pub(crate) async fn docs() -> Response {
    static PAGE: OnceLock<Rendered> = OnceLock::new();
    PAGE.get_or_init(render).response()
}

fn render() -> Rendered {
    page(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>tabship API</title><style>{STYLE}</style></head><body>
<h1>tabship API <span class="muted" id="version"></span></h1>
<p class="muted">Generated from <a href="/openapi.json">/openapi.json</a>. Web form: <a href="/ui">/ui</a>.</p>
<div class="card"><label for="token">Bearer token (kept in this tab only)</label><input type="password" id="token" autocomplete="off"></div>
<div id="ops"></div>
<script>
const token = document.getElementById('token');
token.value = sessionStorage.getItem('tabship-token') || '';
token.addEventListener('change', () => sessionStorage.setItem('tabship-token', token.value));
function el(tag, attrs, ...kids) {{
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {{}})) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}}
function operation(path, method, op) {{
  const card = el('details', {{class: 'card'}});
  card.append(el('summary', {{}}, el('span', {{class: 'method'}}, method.toUpperCase()), ' ', el('code', {{}}, path), ' — ', op.summary || ''));
  const params = {{}};
  for (const p of (op.parameters || []).filter(p => p.in === 'path')) {{
    const input = el('input', {{type: 'text', placeholder: p.description || p.name}});
    params[p.name] = input;
    card.append(el('label', {{}}, p.name), input);
  }}
  let body = null;
  const content = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
  if (content) {{
    body = el('textarea', {{}});
    body.value = JSON.stringify(content.example || {{}}, null, 2);
    card.append(el('label', {{}}, 'JSON body'), body);
  }}
  const out = el('pre', {{hidden: ''}});
  const button = el('button', {{type: 'button'}}, 'Send');
  button.addEventListener('click', async () => {{
    let url = path;
    for (const [name, input] of Object.entries(params)) url = url.replace('{{' + name + '}}', encodeURIComponent(input.value));
    const headers = {{}};
    if (token.value) headers['Authorization'] = 'Bearer ' + token.value;
    if (body) headers['Content-Type'] = 'application/json';
    out.hidden = false; out.textContent = '…';
    try {{
      const r = await fetch(url, {{method: method.toUpperCase(), headers, body: body ? body.value : undefined}});
      const text = await r.text();
      let shown = text;
      try {{ shown = JSON.stringify(JSON.parse(text), null, 2); }} catch (e) {{}}
      out.textContent = r.status + ' ' + r.statusText + '\n\n' + shown;
    }} catch (e) {{ out.textContent = String(e); }}
  }});
  card.append(button, out);
  return card;
}}
// With --protect-docs the document needs the token too: it is sent when one is there, and a
// list that could not load is tried again once a token is typed (a loaded list stays as it is,
// with the cards the reader opened).
let loaded = false;
function load() {{
  const ops = document.getElementById('ops');
  const headers = token.value ? {{'Authorization': 'Bearer ' + token.value}} : {{}};
  fetch('/openapi.json', {{headers}}).then(r => {{
    if (!r.ok) throw new Error(r.status + ' ' + r.statusText + (r.status === 401 ? ': type a token with the predict scope above' : ''));
    return r.json();
  }}).then(doc => {{
    document.getElementById('version').textContent = 'version ' + doc.info.version;
    loaded = true;
    ops.replaceChildren();
    // The spec's paths are alphabetical; a reader wants predicting first and administration last.
    const order = ['predict', 'models', 'monitoring', 'feedback', 'health', 'metrics', 'v2', 'docs', 'admin'];
    const rank = op => {{ const i = order.indexOf((op.tags || [])[0]); return i < 0 ? order.length : i; }};
    const all = [];
    for (const [path, item] of Object.entries(doc.paths)) {{
      for (const [method, op] of Object.entries(item)) all.push([path, method, op]);
    }}
    all.sort((a, b) => rank(a[2]) - rank(b[2]) || a[0].length - b[0].length || a[0].localeCompare(b[0]));
    for (const [path, method, op] of all) ops.append(operation(path, method, op));
  }}).catch(e => {{ ops.textContent = 'could not load /openapi.json: ' + e.message; }});
}}
token.addEventListener('change', () => {{ if (!loaded) load(); }});
load();
</script></body></html>"#
    ))
}
