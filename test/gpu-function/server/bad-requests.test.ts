// Bad requests are the client's 4xx, never a 500 and never a generation: each 400 is an RFC 9457
// problem whose `errors` name exactly the offending fields — the wire contract's checks first, then
// this model's limits (here MIN_SIDE 32, MAX_SIDE 256, SIDE_MULTIPLE 16, MAX_STEPS 100, and the cost
// limits MAX_PIXELS 16384 = 128², MAX_PIXEL_STEPS 500000).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../../../contract';
import { type InProcessService, postJson, startReady } from '../../support/gpu-function-service';
import { scrapeMetrics } from '../../support/gpu-function-metrics';

let gpu: InProcessService;
beforeAll(async () => {
  gpu = await startReady({ MAX_STEPS: '100', MAX_PIXEL_STEPS: '500000' });
});
afterAll(() => gpu.close());

const ok = { prompt: 'a lighthouse', seed: 7 };

// [case, body (a string is sent raw), params the 400 must name, a phrase of the first message]
const GENERATE_400: readonly (readonly [string, unknown, readonly string[], string?])[] = [
  ['not JSON', '{"prompt": "a",', ['body'], 'is not JSON'],
  ['an empty body', '', ['body'], 'is not JSON'],
  ['an array', '[]', ['body']],
  ['a string', '"a lighthouse"', ['body']],
  ['null', 'null', ['body']],
  ['no prompt', { seed: 1 }, ['prompt']],
  ['no seed', { prompt: 'a' }, ['seed']],
  ['a prompt of 1001 characters', { ...ok, prompt: 'x'.repeat(1001) }, ['prompt']],
  ['a prompt that is a number', { ...ok, prompt: 42 }, ['prompt']],
  ['a negative prompt that is a list', { ...ok, negative_prompt: ['blurry'] }, ['negative_prompt']],
  ['a seed as a string', { ...ok, seed: '7' }, ['seed']],
  ['a negative seed', { ...ok, seed: -1 }, ['seed']],
  ['a fractional seed', { ...ok, seed: 1.5 }, ['seed']],
  ['a seed past 2^32 - 1', { ...ok, seed: 2 ** 32 }, ['seed']],
  ['zero steps', { ...ok, steps: 0 }, ['steps']],
  ['fractional steps', { ...ok, steps: 2.5 }, ['steps']],
  ['steps as a string', { ...ok, steps: '10' }, ['steps']],
  ['steps past the contract (150)', { ...ok, steps: 151 }, ['steps']],
  ['steps past MAX_STEPS', { ...ok, steps: 101 }, ['steps'], 'must be at most 100'],
  ['a negative guidance', { ...ok, guidance: -1 }, ['guidance']],
  ['guidance past 30', { ...ok, guidance: 30.5 }, ['guidance']],
  ['guidance as a string', { ...ok, guidance: '7.5' }, ['guidance']],
  ['a width not a multiple of 8', { ...ok, width: 33 }, ['width'], 'must be a multiple of 8'],
  ['a width not a multiple of SIDE_MULTIPLE', { ...ok, width: 40 }, ['width'], 'must be a multiple of 16'],
  ['a width under MIN_SIDE', { ...ok, width: 16 }, ['width'], 'must be between 32 and 256'],
  ['a width over MAX_SIDE', { ...ok, width: 512 }, ['width'], 'must be between 32 and 256'],
  ['a width over the contract (2048)', { ...ok, width: 4096 }, ['width']],
  ['a zero height', { ...ok, height: 0 }, ['height']],
  ['a height that is too large and a width that is not a multiple', { ...ok, width: 40, height: 272 }, ['width', 'height']],
  ['more pixels than MAX_PIXELS', { ...ok, width: 256, height: 128 }, ['width,height'], 'must be at most 16384 pixels for this model (max_pixels); 256 × 128 is 32768'],
  ['more work than MAX_PIXEL_STEPS', { ...ok, width: 128, height: 128, steps: 31 }, ['width,height,steps'], '(max_pixel_steps); 128 × 128 × 31 is 507904'],
  ['an unknown scheduler', { ...ok, scheduler: 'k_lms' }, ['scheduler']],
  ['a scheduler name in capitals', { ...ok, scheduler: 'PNDM' }, ['scheduler']],
  ['more LCM steps than its 50-step distillation schedule', { ...ok, scheduler: 'lcm', steps: 60 }, ['steps'], 'original_inference_steps'],
  ['an unknown field', { ...ok, cfg_scale: 7 }, ['cfg_scale']],
  ['a camel-case field', { ...ok, negativePrompt: 'x' }, ['negativePrompt']],
  ['several bad fields', { prompt: 7, seed: -1, steps: 0 }, ['prompt', 'seed', 'steps']],
];

describe('POST /v1/generate', () => {
  it.each(GENERATE_400)('answers 400 for %s', async (_case, body, params, phrase) => {
    const response = await postJson(`${gpu.url}/v1/generate`, body);
    expect(response.status).toBe(400);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    const problem = problemSchema.parse(await response.json());
    expect(problem).toMatchObject({ status: 400, title: 'Invalid request body' });
    expect(problem.errors!.map((e) => e.param)).toEqual(params);
    if (phrase !== undefined) expect(problem.errors![0]!.message).toContain(phrase);
  });

  it.each([
    ['not a number', 'soon'],
    ['zero', '0'],
    ['negative', '-5'],
    ['fractional', '1.5'],
  ])('answers 400 naming X-Request-Timeout-Ms when it is %s', async (_case, value) => {
    const response = await postJson(`${gpu.url}/v1/generate`, ok, { headers: { 'X-Request-Timeout-Ms': value } });
    expect(response.status).toBe(400);
    expect(problemSchema.parse(await response.json()).errors).toEqual([
      { param: 'X-Request-Timeout-Ms', message: 'must be a whole number of milliseconds from 1' },
    ]);
  });

  it('answers 415 for a body that is not declared as JSON', async () => {
    const response = await fetch(`${gpu.url}/v1/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify(ok),
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('answers 413 for a body over 16 KiB, declared or streamed', async () => {
    const big = JSON.stringify({ ...ok, negative_prompt: 'x'.repeat(20_000) });
    expect((await postJson(`${gpu.url}/v1/generate`, big)).status).toBe(413);
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await fetch(`${gpu.url}/v1/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });
});

describe('POST /v1/tokenize', () => {
  it.each([
    ['not JSON', '{', ['body']],
    ['no prompt', {}, ['prompt']],
    ['a prompt that is a number', { prompt: 1 }, ['prompt']],
    ['a prompt of 1001 characters', { prompt: 'x'.repeat(1001) }, ['prompt']],
    ['an unknown field', { prompt: 'a', seed: 1 }, ['seed']],
  ] as const)('answers 400 for %s', async (_case, body, params) => {
    const response = await postJson(`${gpu.url}/v1/tokenize`, body);
    expect(response.status).toBe(400);
    expect(problemSchema.parse(await response.json()).errors!.map((e) => e.param)).toEqual(params);
  });
});

describe('routes and methods', () => {
  it.each([
    ['GET', '/v1/generate', 'POST'],
    ['PUT', '/v1/tokenize', 'POST'],
    ['POST', '/v1/model', 'GET, HEAD'],
    ['POST', '/ping', 'GET, HEAD'],
  ])('answers 405 with Allow for %s %s', async (method, path, allow) => {
    const response = await fetch(`${gpu.url}${path}`, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('Allow')).toBe(allow);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('answers 404 problem for an unknown path', async () => {
    const response = await fetch(`${gpu.url}/v2/generate`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ status: 404, title: 'Not Found' });
  });
});

it('generated nothing for any of these, and counted each by status', async () => {
  const metrics = await scrapeMetrics(gpu.url);
  expect(metrics.value('sd_generations_total')).toBe(0);
  expect(metrics.value('http_requests_total', { route: '/v1/generate', status: '400' })).toBe(GENERATE_400.length + 4);
  expect(metrics.value('http_requests_total', { status: '500' })).toBe(0);
});
