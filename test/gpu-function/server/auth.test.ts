// GPU_FUNCTION_TOKEN: every /v1 route needs `Authorization: Bearer <token>` (401 problem otherwise,
// with the RFC 6750 challenge), the probes stay open, and the token never reaches the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../../contract';
import { type InProcessService, postJson, startReady } from '../../support/gpu-function-service';

const TOKEN = 'gpu-token-7f3a9c1e5b';
let gpu: InProcessService;

beforeAll(async () => {
  gpu = await startReady({ GPU_FUNCTION_TOKEN: TOKEN });
});
afterAll(() => gpu.close());

const V1_CALLS = [
  ['POST /v1/generate', (headers: Record<string, string>) => postJson(`${gpu.url}/v1/generate`, { prompt: 'a', seed: 1, steps: 1 }, { headers })],
  ['POST /v1/tokenize', (headers: Record<string, string>) => postJson(`${gpu.url}/v1/tokenize`, { prompt: 'a' }, { headers })],
  ['GET /v1/model', (headers: Record<string, string>) => fetch(`${gpu.url}/v1/model`, { headers })],
] as const;

const WRONG = [
  ['no Authorization header', {}, false],
  ['another token', { Authorization: 'Bearer not-the-token' }, true],
  ['the token with a different case', { Authorization: `Bearer ${TOKEN.toUpperCase()}` }, true],
  ['a prefix of the token', { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }, true],
  ['the token plus a character', { Authorization: `Bearer ${TOKEN}x` }, true],
  ['the token under another scheme', { Authorization: `Basic ${TOKEN}` }, false],
  ['the token without a scheme', { Authorization: TOKEN }, false],
  ['an empty Bearer', { Authorization: 'Bearer ' }, false],
] as const;

describe.each(V1_CALLS)('%s', (_name, call) => {
  it.each(WRONG)('answers 401 for %s', async (_case, headers, tokenSent) => {
    const response = await call(headers as Record<string, string>);
    expect(response.status).toBe(401);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(response.headers.get('WWW-Authenticate')).toBe(
      tokenSent ? 'Bearer realm="gpu-function", error="invalid_token"' : 'Bearer realm="gpu-function"',
    );
    expect(await response.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  it('answers 200 with the right token (any case of the scheme)', async () => {
    expect((await call({ Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await call({ Authorization: `bearer ${TOKEN}` })).status).toBe(200);
  });
});

it('checks the token before anything else: a bad body without a token is 401, not 400', async () => {
  const response = await postJson(`${gpu.url}/v1/generate`, '{not json');
  expect(response.status).toBe(401);
});

it('leaves /ping, /healthz and /metrics open', async () => {
  for (const path of ['/ping', '/healthz', '/metrics']) {
    expect((await fetch(`${gpu.url}${path}`)).status, path).toBe(200);
  }
});

it('never writes the token to the log', async () => {
  await V1_CALLS[0][1]({ Authorization: `Bearer ${TOKEN}` });
  await V1_CALLS[0][1]({ Authorization: `Bearer ${TOKEN}x` });
  expect(gpu.rawLogs.length).toBeGreaterThan(2);
  for (const line of gpu.rawLogs) expect(line).not.toContain(TOKEN);
});
