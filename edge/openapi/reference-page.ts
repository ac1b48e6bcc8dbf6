// GET /docs: the API reference as one readable page, rendered from the OpenAPI document itself (so it
// cannot say anything the document does not), on the server: plain HTML with the site's stylesheet,
// no script, so it works under the pages' strict Content-Security-Policy and without a client library.
// Per operation: the method and path, what it does, its parameters with their types, bounds and
// defaults, and each answer with its headers; then this deployment's models.

type Json = Record<string, unknown>;

const METHODS = ['get', 'head', 'options'] as const;

export function referencePage(document: Json): string {
  const info = object(document.info);
  const paths = object(document.paths);
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => object(item)[method] !== undefined).map((method) => ({
      path,
      method,
      operation: object(object(item)[method]),
    })),
  );
  const sections = operations.map(({ path, method, operation }) => operationSection(path, method, operation, document));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text(info.title)} — API reference</title>
<link rel="stylesheet" href="/demo.css">
</head>
<body>
<main class="reference">
  <h1>${text(info.title)} API reference</h1>
  <p class="lead">${text(info.summary)} ${text(info.description)}</p>
  <p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${text(document.openapi)}).
  The demo page: <a href="/">/</a>.</p>
  <nav aria-label="Operations"><ul>
${operations.map(({ path, method }) => `    <li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${text(path)}</code></a></li>`).join('\n')}
  </ul></nav>
${sections.join('\n')}
${modelsSection(document['x-models'])}
</main>
</body>
</html>
`;
}

function operationSection(path: string, method: string, operation: Json, document: Json): string {
  const parameters = array(operation.parameters).map(object);
  const responses = Object.entries(object(operation.responses));
  return `  <section id="${anchor(method, path)}" aria-labelledby="${anchor(method, path)}-title">
    <h2 id="${anchor(method, path)}-title"><code>${method.toUpperCase()} ${text(path)}</code></h2>
    <p><strong>${text(operation.summary)}.</strong> ${text(operation.description)}</p>
${parameters.length === 0 ? '' : parametersTable(parameters)}
    <h3>Answers</h3>
    <table>
      <thead><tr><th scope="col">Status</th><th scope="col">Meaning</th><th scope="col">Body</th><th scope="col">Headers</th></tr></thead>
      <tbody>
${responses.map(([status, response]) => responseRow(status, object(response), document)).join('\n')}
      </tbody>
    </table>
  </section>`;
}

function parametersTable(parameters: readonly Json[]): string {
  const rows = parameters.map(
    (p) =>
      `        <tr><th scope="row"><code>${text(p.name)}</code></th><td>${text(p.in)}${p.required === true ? ', required' : ''}</td>` +
      `<td>${schemaSummary(object(p.schema))}</td><td>${text(p.description)}</td></tr>`,
  );
  return `    <h3>Parameters</h3>
    <table>
      <thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Value</th><th scope="col">Meaning</th></tr></thead>
      <tbody>
${rows.join('\n')}
      </tbody>
    </table>`;
}

function responseRow(status: string, response: Json, document: Json): string {
  const content = Object.entries(object(response.content));
  const body = content
    .map(([type, media]) => {
      const ref = object(object(media).schema).$ref;
      return typeof ref === 'string' ? `<code>${text(type)}</code> (${text(ref.split('/').pop())})` : `<code>${text(type)}</code>`;
    })
    .join(', ');
  const headerNames = Object.keys(object(response.headers));
  const headerList = headerNames
    .map((name) => `<code title="${attribute(headerDescription(document, name))}">${text(name)}</code>`)
    .join(' ');
  return `        <tr><th scope="row">${text(status)}</th><td>${text(response.description)}</td><td>${body || '—'}</td><td>${headerList || '—'}</td></tr>`;
}

function headerDescription(document: Json, name: string): string {
  const description = object(object(object(document.components).headers)[name]).description;
  return typeof description === 'string' ? description : '';
}

/** A schema in a few words: its type or values, bounds, multiple, pattern and default. */
export function schemaSummary(schema: Json): string {
  const parts: string[] = [];
  const choices = array(schema.anyOf).map((s) => schemaSummary(object(s)));
  if (choices.length > 0) parts.push(choices.join(' or '));
  if (Array.isArray(schema.enum)) parts.push(`one of ${schema.enum.map((v) => `<code>${text(v)}</code>`).join(', ')}`);
  else if (schema.const !== undefined) parts.push(`<code>${text(schema.const)}</code>`);
  else if (typeof schema.type === 'string') parts.push(text(schema.type));
  if (schema.minimum !== undefined || schema.maximum !== undefined) parts.push(`${text(schema.minimum ?? '…')}–${text(schema.maximum ?? '…')}`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    parts.push(`${text(schema.minLength ?? 0)}–${text(schema.maxLength ?? '…')} characters`);
  }
  if (schema.multipleOf !== undefined) parts.push(`a multiple of ${text(schema.multipleOf)}`);
  if (schema.pattern !== undefined) parts.push(`matching <code>${text(schema.pattern)}</code>`);
  if (schema.default !== undefined) parts.push(`default <code>${text(schema.default)}</code>`);
  return parts.join(', ');
}

function modelsSection(models: unknown): string {
  const rows = array(models).map((entry) => {
    const m = object(entry);
    const d = object(m.defaults);
    const l = object(m.limits);
    return (
      `      <tr><th scope="row"><code>${text(m.name)}</code>${m.default === true ? ' (default)' : ''}</th><td><code>${text(m.repo)}@${text(m.revision)}</code></td>` +
      `<td>${text(d.width)}×${text(d.height)}, ${text(d.steps)} steps, guidance ${text(d.guidance)}, ${text(d.scheduler)}</td>` +
      `<td>sides ${text(l.min_side)}–${text(l.max_side)} in multiples of ${text(l.side_multiple)}, at most ${text(l.max_steps)} steps` +
      (l.max_pixels === undefined ? '' : `, at most ${text(l.max_pixels)} pixels (<code>max_pixels</code>)`) +
      (l.max_pixel_steps === undefined ? '' : `, at most ${text(l.max_pixel_steps)} pixels × steps (<code>max_pixel_steps</code>)`) +
      '</td></tr>'
    );
  });
  return `  <section id="models" aria-labelledby="models-title">
    <h2 id="models-title">Models</h2>
    <p>What <code>model=</code> selects here, and the defaults and limits each applies to <code>width</code>, <code>height</code> and <code>steps</code>.</p>
    <table>
      <thead><tr><th scope="col">Name</th><th scope="col">Model</th><th scope="col">Defaults</th><th scope="col">Limits</th></tr></thead>
      <tbody>
${rows.join('\n')}
      </tbody>
    </table>
  </section>`;
}

function anchor(method: string, path: string): string {
  return `${method}-${path.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}`;
}

function object(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Text for HTML: escaped, and `code` spans kept as written in the document's Markdown. */
function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  const escaped = String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(/`([^`]+)`/g, '<code>$1</code>');
}

function attribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, '');
}
