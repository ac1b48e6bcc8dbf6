// GET /openapi.json is generated from the schemas the edge validates with. Here: the document for the
// contract environment is valid OpenAPI 3.1 (checked against the OpenAPI Initiative's 3.1 schema
// shipped in @seriousme/openapi-schema-validator; nothing is downloaded), and every step of the
// contract table (contract-cases.ts) agrees with it: its path and method are documented (else the
// table expects 404 or 405), its status is a documented answer with the documented body type and
// headers, and the document alone predicts which parameters a 400 names — none for any other answer.
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../edge/config';
import { openApiDocument } from '../../edge/openapi/openapi-document';
import { CONTRACT_CASES, type ContractStep } from './contract-cases';
import { contractVars } from './contract-environments';

// A walk through a document the validator above has already checked: members read as plain JSON.
// biome-ignore lint/suspicious/noExplicitAny: arbitrary JSON read after schema validation
type Json = Record<string, any>;

const document = openApiDocument(parseConfig(contractVars('http://127.0.0.1:9'))) as Json;
const ajv = new Ajv2020({ strict: false, allErrors: true });

describe('GET /openapi.json', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect([result.valid, validator.version]).toEqual([true, '3.1']);
  });

  it('would be refused if it were not (the check can fail)', async () => {
    const broken = { ...document, paths: { '/v1/images': { get: { responses: { 200: { headers: 'none' } } } } } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  const steps = CONTRACT_CASES.flatMap((c) => c.steps.map((step, index) => [`${c.name} — step ${index}`, step] as const));
  it.each(steps)('agrees with the contract table: %s', (_name, step) => {
    expect(disagreements(step)).toEqual([]);
  });
});

/** What the document says differently from the step; empty when it agrees. */
function disagreements(step: ContractStep): string[] {
  const path = fill(step.path);
  const url = new URL(path, 'http://edge.test');
  const match = findPath(url.pathname);
  if (match === undefined) return step.status === 404 ? [] : [`no documented path for ${url.pathname}`];
  const operation = match.item[(step.method ?? 'GET').toLowerCase()] as Json | undefined;
  // A path parameter outside its schema names no resource: the router answers 404.
  const pathParameters = ((operation ?? match.item.get)?.parameters ?? []) as Json[];
  const outside = pathParameters.filter((p) => p.in === 'path' && !ajv.validate(p.schema, match.params[p.name]));
  if (outside.length > 0) return step.status === 404 ? [] : [`${url.pathname} is outside ${match.template}`];
  if (operation === undefined) return step.status === 405 ? [] : [`${step.method} ${match.template} is not documented`];
  const response = operation.responses[String(step.status)] as Json | undefined;
  if (response === undefined) return [`${step.status} is not a documented answer of ${match.template}`];

  const problems: string[] = [];
  const documentedHeaders = Object.keys(response.headers ?? {}).map((name) => name.toLowerCase());
  for (const [name, expected] of Object.entries(step.expectHeaders ?? {})) {
    if (expected === null || name === 'Content-Type') continue;
    if (!documentedHeaders.includes(name.toLowerCase())) problems.push(`header ${name} of ${step.status} is not documented`);
  }
  const contentType = step.expectHeaders?.['Content-Type'];
  if (typeof contentType === 'string' && step.method !== 'HEAD') {
    const types = Object.keys(response.content ?? {});
    if (!types.includes(contentType.split(';')[0]!.trim())) problems.push(`${step.status} is not documented as ${contentType}`);
  }
  // Parameters are checked where the operation has any (a preflight or a page ignores the query).
  const checksParameters = (operation.parameters ?? []).length > 0 && step.status !== 414;
  if (checksParameters && !step.path.includes('.redirect>')) {
    const predicted = invalidParams(operation, url.search, match.params).sort();
    const named = step.status === 400 && step.body !== undefined && 'params' in step.body ? [...(step.body.params ?? [])].sort() : [];
    // An error picture names no parameters: the document must predict a 400 exactly when it is one.
    if (step.body !== undefined && 'svg' in step.body) {
      if ((predicted.length > 0) !== (step.status === 400)) problems.push(`the document predicts 400 for [${predicted.join(', ')}]`);
    } else if (JSON.stringify(predicted) !== JSON.stringify(named)) {
      problems.push(`the document predicts 400 for [${predicted.join(', ')}]; the table says ${step.status} [${named.join(', ')}]`);
    }
  }
  return problems;
}

function findPath(pathname: string): { template: string; item: Json; params: Record<string, string> } | undefined {
  for (const [template, item] of Object.entries(document.paths as Json)) {
    const names: string[] = [];
    const pattern = template.replace(/[.]/g, '\\.').replace(/\{([^}]+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'));
    const found = new RegExp(`^${pattern}$`).exec(pathname);
    if (found !== null) return { template, item, params: Object.fromEntries(names.map((n, i) => [n, found[i + 1]!])) };
  }
  return undefined;
}

/**
 * The parameters the document says are wrong: query names it does not list, given twice or not
 * valid percent-encoding; required ones missing; values outside their schema (numbers as the
 * document says they are written: plain decimal digits); width, height and steps outside the chosen
 * model's limits, then its cost limits (x-models).
 */
function invalidParams(operation: Json, search: string, pathParams: Record<string, string>): string[] {
  const parameters = (operation.parameters ?? []) as Json[];
  const bad = new Set<string>();
  const seen = new Map<string, string>();
  for (const segment of search.replace(/^\?/, '').split('&').filter((s) => s !== '')) {
    const [rawName = '', rawValue = ''] = segment.split(/=(.*)/s);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
      value = decodeURIComponent(rawValue.replaceAll('+', ' '));
    } catch {
      bad.add(safeDecode(rawName));
      continue;
    }
    if (seen.has(name)) bad.add(name);
    seen.set(name, value);
  }
  const values = new Map([...seen, ...Object.entries(pathParams)]);
  for (const [name, value] of values) {
    const parameter = parameters.find((p) => p.name === name && (p.in === 'query' || p.in === 'path'));
    if (parameter === undefined) bad.add(name);
    else if (!ajv.validate(parameter.schema, typed(parameter.schema, value))) bad.add(name);
  }
  for (const p of parameters) if (p.required === true && !values.has(p.name)) bad.add(p.name);
  const model = (document['x-models'] as Json[]).find((m) => (values.has('model') ? m.name === values.get('model') : m.default));
  if (model !== undefined && bad.size === 0) {
    for (const side of ['width', 'height']) {
      const value = Number(values.get(side) ?? model.defaults[side]);
      const { min_side, max_side, side_multiple } = model.limits;
      if (value < min_side || value > max_side || value % side_multiple !== 0) bad.add(side);
    }
    if (Number(values.get('steps') ?? model.defaults.steps) > model.limits.max_steps) bad.add('steps');
    if (bad.size === 0) {
      // The cost limits, on the request with its defaults: one entry naming the fields of the product.
      const [width, height, steps] = ['width', 'height', 'steps'].map((name) => Number(values.get(name) ?? model.defaults[name]));
      const pixels = width! * height!;
      if (model.limits.max_pixels !== undefined && pixels > model.limits.max_pixels) bad.add('width,height');
      else if (model.limits.max_pixel_steps !== undefined && pixels * steps! > model.limits.max_pixel_steps) bad.add('width,height,steps');
    }
  }
  return [...bad];
}

function typed(schema: Json, value: string): unknown {
  const types = [schema.type, ...((schema.anyOf ?? []) as Json[]).map((s) => s.type)];
  if (types.includes('integer') && /^-?[0-9]+$/.test(value)) return Number(value);
  if (types.includes('number') && /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(value)) return Number(value);
  return value;
}

function safeDecode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return 'query';
  }
}

/** Placeholders as a run would fill them: a prompt, and step answers' key, seed and location. */
function fill(template: string): string {
  const key = 'a'.repeat(64);
  return template
    .replaceAll('<prompt>', 'a%20prompt')
    .replace(/<s\d+\.key>/g, key)
    .replace(/<s\d+\.etag>/g, `"${key}"`)
    .replace(/<s\d+\.seed>/g, '1')
    .replace(/<s\d+\.location>/g, `/v1/images/${key}.png`)
    .replace(/<s\d+\.redirect(?:\.[a-z_]+)?>/g, '/v1/images');
}
