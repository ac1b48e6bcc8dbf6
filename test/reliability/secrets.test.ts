// Secrets stay secret: a run of the whole stack that uses every secret — the real GPU function with
// GPU_FUNCTION_TOKEN (and an HF_TOKEN), both edges (Node, and the Worker in workerd) with the same
// token, URL_SIGNING_KEY and API_KEYS — through success and through every error a client or a wrong
// setting can cause. Afterwards no secret appears in any log line of the edges or the GPU function,
// nor in any answer's body or headers. The GPU function also refuses the edge when the edge's token is
// missing or wrong (502 for the client, nothing stored), and configuration errors name settings,
// never their values.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError as GpuConfigError, configFromEnv } from '../../gpu-function/config';
import { modelInfoSchema } from '../../contract';
import { ConfigError } from '../../edge/config';
import { parseNodeConfig } from '../../edge/node/node-config';
import { type NodeEdge, startNodeEdge } from '../../edge/node/node-edge';
import { signedImageUrl } from '../../edge/request/url-signature';
import { fixtureEnv, type InProcessService, startReady } from '../support/gpu-function-service';
import { startS3Server, type S3TestServer } from '../support/s3-server';
import { startWorkerdEdge, type WorkerdEdge } from '../support/workerd-edge';

const GPU_TOKEN = `gpu-token-${randomUUID()}`;
const SIGNING_KEY = `signing-key-${randomUUID()}`;
const API_KEY = `api-key-${randomUUID()}`;
const OTHER_API_KEY = `api-key-${randomUUID()}`;
const HF_TOKEN = `hf_${randomUUID().replaceAll('-', '')}`;
const SECRETS = { GPU_TOKEN, SIGNING_KEY, API_KEY, OTHER_API_KEY, HF_TOKEN };
const BUCKET = 'dreamurl-images';

let gpu: InProcessService;
let s3: S3TestServer;
let node: NodeEdge;
let workerd: WorkerdEdge;
let edgeVars: Record<string, string>;
const edgeLogs: string[] = [];
/** Every answer's status line, headers and body, as text. */
const answers: string[] = [];

beforeAll(async () => {
  // The GPU function allows at most 64 × 64; the edge's profile allows more, so a request can reach
  // the GPU function and be refused there (an error path that carries the token).
  gpu = await startReady({ GPU_FUNCTION_TOKEN: GPU_TOKEN, HF_TOKEN, MAX_SIDE: '64', DEFAULT_STEPS: '2' });
  const info = modelInfoSchema.parse(await (await fetch(`${gpu.url}/v1/model`, { headers: { Authorization: `Bearer ${GPU_TOKEN}` } })).json());
  s3 = await startS3Server({ buckets: [BUCKET] });
  edgeVars = {
    GPU_FUNCTION_URL: gpu.url,
    GPU_FUNCTION_TOKEN: GPU_TOKEN,
    URL_SIGNING_KEY: SIGNING_KEY,
    API_KEYS: `${API_KEY}, ${OTHER_API_KEY}`,
    RATE_LIMIT_PER_MINUTE: '1000',
    MODELS: JSON.stringify([
      {
        name: 'tiny-sd',
        repo: info.id,
        revision: info.revision,
        default: true,
        defaults: { steps: 2, guidance: 7.5, scheduler: 'pndm', width: 32, height: 32 },
        limits: { min_side: 32, max_side: 128, side_multiple: 16, max_steps: 10 },
      },
    ]),
  };
  // The Node edge logs through console (edge/log.ts); capture everything it writes.
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void edgeLogs.push(args.map(String).join(' ')));
  }
  node = await startNodeEdge(parseNodeConfig({ ...edgeVars, ...s3.env(BUCKET), PORT: '0' }));
  workerd = await startWorkerdEdge({ vars: edgeVars, onLog: (line) => edgeLogs.push(line) });
}, 120_000);

afterAll(async () => {
  await workerd?.close();
  await node?.close(1000);
  await s3?.close();
  await gpu?.close();
  vi.restoreAllMocks();
});

async function record(response: Response): Promise<Response> {
  const body = await response.text();
  answers.push(`${response.status}\n${[...response.headers].map(([n, v]) => `${n}: ${v}`).join('\n')}\n\n${body}`);
  return new Response(response.status === 304 ? null : body, { status: response.status, headers: response.headers });
}

async function signedPath(params: Record<string, string>): Promise<string> {
  const url = new URL(await signedImageUrl('http://edge.test', params, SIGNING_KEY));
  return url.pathname + url.search;
}

const edges = [
  { name: 'Node edge', url: () => node.url },
  { name: 'workerd edge', url: () => workerd.url },
];

describe.each(edges)('a run of the $name that uses every secret', ({ url }) => {
  const get = async (path: string, headers: Record<string, string> = {}) =>
    record(await fetch(`${url()}${path}`, { headers, redirect: 'manual' }));

  it('serves, refuses and fails as documented', async () => {
    const prompt = `a secret lighthouse ${randomUUID()}`;
    const made = await get(await signedPath({ prompt }), { Authorization: `Bearer ${API_KEY}` });
    expect(made.status).toBe(200);
    expect((await get(`/v1/images?prompt=${encodeURIComponent(prompt)}`)).headers.get('Cache-Status')).toMatch(/hit/);
    // Unsigned, tampered, unknown keys, a bad query, seed=random, and a size the GPU function refuses.
    expect((await get(`/v1/images?prompt=${encodeURIComponent(`${prompt} 2`)}`, { 'X-API-Key': API_KEY })).status).toBe(403);
    const tampered = (await signedPath({ prompt: `${prompt} 3`, steps: '4' })).replace('steps=4', 'steps=5');
    expect((await get(tampered, { 'X-API-Key': OTHER_API_KEY })).status).toBe(403);
    expect((await get(await signedPath({ prompt: `${prompt} 4` }), { Authorization: `Bearer ${API_KEY}x` })).status).toBe(401);
    expect((await get(await signedPath({ prompt: `${prompt} 5` }), { 'X-API-Key': SIGNING_KEY })).status).toBe(401);
    expect((await get(`/v1/images?prompt=${encodeURIComponent(prompt)}&steps=x&sig=${encodeURIComponent(SIGNING_KEY)}`)).status).toBe(400);
    const redirect = await get(await signedPath({ prompt: `${prompt} 6`, seed: 'random' }), { 'X-API-Key': API_KEY });
    expect(redirect.status).toBe(302);
    expect((await get(redirect.headers.get('Location')!, { 'X-API-Key': API_KEY })).status).toBe(200);
    const refused = await get(await signedPath({ prompt: `${prompt} 7`, width: '128' }), { 'X-API-Key': API_KEY });
    expect(refused.status).toBe(502); // the GPU function's 400, relayed as a bad GPU answer
  });
});

describe('the GPU function and a Node edge without the right token', () => {
  it.each([
    ['no token', undefined],
    ['a wrong token', `${GPU_TOKEN}-wrong`],
  ])('with %s: the GPU function answers 401, the client 502, nothing is stored', async (_case, token) => {
    const vars: Record<string, string> = { ...edgeVars, ...s3.env(BUCKET), PORT: '0' };
    if (token === undefined) delete vars.GPU_FUNCTION_TOKEN;
    else vars.GPU_FUNCTION_TOKEN = token;
    const edge = await startNodeEdge(parseNodeConfig(vars));
    try {
      const path = await signedPath({ prompt: `an unauthorised lighthouse ${randomUUID()}` });
      const res = await record(await fetch(`${edge.url}${path}`, { headers: { 'X-API-Key': API_KEY } }));
      expect(res.status).toBe(502);
      expect(await res.text()).toContain('401');
      const head = await fetch(`${edge.url}${path}`, { method: 'HEAD' });
      expect(head.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss');
    } finally {
      await edge.close(1000);
    }
  });
});

describe('configuration errors', () => {
  it('name the bad setting but never echo a secret (edge and GPU function)', () => {
    const edgeError = (() => {
      try {
        parseNodeConfig({ ...edgeVars, ...s3.env(BUCKET), MODELS: '[{"name": 1}]', GPU_TIMEOUT_MS: 'soon' });
      } catch (error) {
        return error;
      }
    })();
    expect(edgeError).toBeInstanceOf(ConfigError);
    expect(String(edgeError)).toMatch(/GPU_TIMEOUT_MS/);
    const gpuError = (() => {
      try {
        configFromEnv(fixtureEnv({ GPU_FUNCTION_TOKEN: GPU_TOKEN, HF_TOKEN, MAX_QUEUE: 'many' }));
      } catch (error) {
        return error;
      }
    })();
    expect(gpuError).toBeInstanceOf(GpuConfigError);
    expect(String(gpuError)).toMatch(/MAX_QUEUE/);
    answers.push(String(edgeError), String(gpuError));
  });
});

describe('after the run', () => {
  it('no secret appears in any log line or answer', () => {
    // The run did log and answer (so an empty search cannot pass by accident) …
    // Two pictures generated per edge: the logs of both edges were captured.
    expect(edgeLogs.filter((line) => line.includes('"event":"generated"'))).toHaveLength(4);
    expect(edgeLogs.some((line) => line.includes('"event":"generation_failed"'))).toBe(true);
    expect(gpu.logs.filter((line) => line.event === 'request' && line.status === 401)).toHaveLength(2);
    expect(gpu.logs.filter((line) => line.event === 'request' && line.status === 200).length).toBeGreaterThanOrEqual(4);
    expect(answers.length).toBeGreaterThanOrEqual(22);
    // … and never said a secret, whole or URL-encoded.
    const texts = { 'edge logs': edgeLogs, 'GPU function logs': gpu.rawLogs, answers };
    for (const [where, lines] of Object.entries(texts)) {
      for (const [name, secret] of Object.entries(SECRETS)) {
        for (const form of new Set([secret, encodeURIComponent(secret)])) {
          const hit = lines.find((line) => line.includes(form));
          expect(hit, `${name} in ${where}`).toBeUndefined();
        }
      }
    }
  });
});
