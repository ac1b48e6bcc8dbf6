// Property-based fuzzing of `POST /v1/generate` on the real GPU function (tiny-sd fixture, CPU, a
// real server on a free loopback port): 10,000 generated bodies per run, sent 20 at a time, a new seed
// each run (printed). Every answer is well-formed and the right one:
//   - a body the wire contract accepts within the model's limits → 200 with a PNG of the asked size
//     and X-Seed, or 503 "queue full" (see below);
//   - anything else → 400 problem naming fields (413 over 16 KiB, 415 when not declared as JSON);
//   - never another 5xx, never a hang, and the service still answers /ping 200 afterwards.
// How a full queue is treated: MAX_QUEUE is small (2, batches of 4) on purpose, so bursts of valid bodies meet a
// full queue. A 503 is a documented answer (docs/gpu-function.md) and counts as correct for a valid
// body only: it must be the `queue-full` problem with an integer Retry-After. Invalid bodies are
// refused before they reach the queue, so they must get their 4xx whatever the queue holds.
// Valid bodies stay cheap: the model here allows sides of 32 or 48 and at most 2 steps.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../../contract';
import { decodePng } from '../support/decode-png';
import { type InProcessService, startReady } from '../support/gpu-function-service';
import { scrapeMetrics } from '../support/gpu-function-metrics';
import { fuzzSeed, seedLine } from '../support/fuzz-seed';
import { expectedPicture, type FuzzRequest, fuzzRequest, LIMITS, refusalStatus } from './support/generate-bodies';

const RUNS = 10_000;
const AT_ONCE = 20;
const HANG_MS = 30_000;

let gpu: InProcessService;
beforeAll(async () => {
  gpu = await startReady({
    MIN_SIDE: String(LIMITS.minSide),
    MAX_SIDE: String(LIMITS.maxSide),
    SIDE_MULTIPLE: String(LIMITS.sideMultiple),
    MAX_STEPS: String(LIMITS.maxSteps),
    DEFAULT_STEPS: '1',
    DEFAULT_WIDTH: String(LIMITS.defaultSide),
    DEFAULT_HEIGHT: String(LIMITS.defaultSide),
    MAX_BATCH_SIZE: '4',
    BATCH_TIMEOUT_MS: '0',
    MAX_QUEUE: '2',
  });
});
afterAll(() => gpu?.close());

async function check(request: FuzzRequest, statuses: Map<string, number>): Promise<void> {
  const response = await fetch(`${gpu.url}/v1/generate`, {
    method: 'POST',
    headers: request.contentType === '' ? {} : { 'Content-Type': request.contentType },
    body: request.body,
    signal: AbortSignal.timeout(HANG_MS),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const where = `${request.contentType} ${request.body.slice(0, 200)} → ${response.status}`;
  const expected = expectedPicture(request);
  const count = (label: string) => statuses.set(label, (statuses.get(label) ?? 0) + 1);
  if (expected !== undefined && response.status === 200) {
    expect(response.headers.get('Content-Type'), where).toBe('image/png');
    const picture = decodePng(bytes);
    expect({ width: picture.width, height: picture.height }, where).toEqual({ width: expected.width, height: expected.height });
    expect(response.headers.get('X-Seed'), where).toBe(String(expected.seed));
    return void count('200');
  }
  expect(response.headers.get('Content-Type'), where).toBe(PROBLEM_CONTENT_TYPE);
  const problem = problemSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  expect(problem.status, where).toBe(response.status);
  if (expected !== undefined) {
    // A valid body that was not served: only a full queue may say so.
    expect(response.status, where).toBe(503);
    expect(problem.type, where).toBe('urn:dreamurl:gpu-function:problem:queue-full');
    expect(response.headers.get('Retry-After'), where).toMatch(/^[1-9]\d*$/);
    return void count('503 queue full');
  }
  expect(response.status, where).toBe(refusalStatus(request));
  if (response.status === 400) expect(problem.errors?.length ?? 0, where).toBeGreaterThan(0);
  count(String(response.status));
}

describe('POST /v1/generate fuzzing (property)', () => {
  it(`answers ${RUNS} generated bodies with the right well-formed answer, never a 5xx other than a full queue`, async () => {
    const seed = fuzzSeed(process.env.FUZZ_SEED);
    console.log(seedLine('GPU function body fuzzing', seed, RUNS));
    const statuses = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzRequest, { minLength: AT_ONCE, maxLength: AT_ONCE }), async (requests) => {
        await Promise.all(requests.map((request) => check(request, statuses)));
      }),
      { numRuns: RUNS / AT_ONCE, seed, endOnFailure: true },
    );
    console.log(`GPU function body fuzzing: answers ${JSON.stringify(Object.fromEntries(statuses))}`);

    // Both sides of the oracle were exercised, and the service is healthy and consistent afterwards.
    expect(statuses.get('200') ?? 0).toBeGreaterThan(RUNS / 50);
    expect(statuses.get('400') ?? 0).toBeGreaterThan(RUNS / 10);
    expect((await fetch(`${gpu.url}/ping`)).status).toBe(200);
    const metrics = await scrapeMetrics(gpu.url);
    expect(metrics.value('sd_generations_total')).toBe(statuses.get('200')); // the warm-up is not counted
    expect(metrics.value('http_requests_total', { status: '500' })).toBe(0);
  }, 600_000);
});
