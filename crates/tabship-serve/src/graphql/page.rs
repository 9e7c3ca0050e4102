//! `GET /graphql`: a self-contained query page (query, variables, bearer token, answer). Not
//! GraphiQL itself: GraphiQL loads React from a CDN, which the pages' CSP (`html::page`) and
//! the offline rule exclude; any GraphiQL or Altair install can point at `POST /graphql`.

use std::sync::OnceLock;

use axum::response::Response;

use crate::html::{STYLE, page as html_page};
use crate::page_cache::Rendered;

/// The page does not depend on the models (introspection gives the schema), so it is rendered
/// once per process.
pub(crate) async fn page() -> Response {
    static PAGE: OnceLock<Rendered> = OnceLock::new();
    PAGE.get_or_init(render).response()
}

fn render() -> Rendered {
    html_page(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>tabship GraphQL</title><style>{STYLE}</style></head><body>
<h1>tabship GraphQL</h1>
<p class="muted">POST /graphql. Schema: run the introspection query or <code>{{ __schema {{ types {{ name }} }} }}</code>. REST: <a href="/docs">/docs</a>.</p>
<div class="card"><label for="token">Bearer token (kept in this tab only)</label><input type="password" id="token" autocomplete="off"></div>
<div class="card"><label for="query">Query</label><textarea id="query" rows="12" style="width:100%">{{ models {{ name currentVersion versions }} }}</textarea>
<label for="variables">Variables (JSON)</label><textarea id="variables" rows="4" style="width:100%">{{}}</textarea>
<button id="run">Run</button></div>
<pre class="card" id="answer"></pre>
<script>
const token = document.getElementById('token');
token.value = sessionStorage.getItem('tabship-token') || '';
token.addEventListener('change', () => sessionStorage.setItem('tabship-token', token.value));
document.getElementById('run').addEventListener('click', async () => {{
  const out = document.getElementById('answer');
  let variables;
  try {{ variables = JSON.parse(document.getElementById('variables').value || '{{}}'); }}
  catch (e) {{ out.textContent = 'variables: ' + e; return; }}
  const headers = {{'content-type': 'application/json'}};
  if (token.value) headers.authorization = 'Bearer ' + token.value;
  const r = await fetch('/graphql', {{method: 'POST', headers, body: JSON.stringify({{query: document.getElementById('query').value, variables}})}});
  out.textContent = r.status + '\n' + JSON.stringify(await r.json(), null, 2);
}});
</script></body></html>"#
    ))
}
