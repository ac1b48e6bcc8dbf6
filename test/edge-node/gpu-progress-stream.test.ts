// The edge's GPU client reading the GPU function's progress stream (edge/generation/gpu-client.ts),
// against a loopback HTTP server that writes each stream by hand, so every way a stream can go wrong is
// tried: progress goes to the watchers in order; the picture is checked like a plain answer; an `error`
// event is mapped like a plain answer of its status (503 waited out and retried, others 502); a stream
// that breaks the contract or ends early is a 502. The plain PNG answer is covered by the contract table.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProgressEvent, ProblemError, type ProgressEvent, type ResolvedGeneration } from '../../contract';
import { type GpuTarget, generateOnGpu } from '../../edge/generation/gpu-client';
import { pictureFor } from '../support/gpu-stub-server';

const MODEL = 'tiny-sd@local-stream';
const REQUEST: ResolvedGeneration = {
  prompt: 'a lighthouse',
  negative_prompt: '',
  seed: 7,
  steps: 2,
  guidance: 7.5,
  width: 32,
  height: 32,
  scheduler: 'euler',
};
const PNG = pictureFor(REQUEST, 32, 32);
const IMAGE: ProgressEvent = {
  event: 'image',
  data: { seed: '7', model: MODEL, server_timing: 'queue;dur=0', png: Buffer.from(PNG).toString('base64') },
};

/** What the server writes, one answer per call in turn: whole SSE text. */
let answers: string[] = [];
let calls = 0;
let server: Server;
let target: GpuTarget;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const text = answers[calls++] ?? '';
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  target = { url: `http://127.0.0.1:${port}`, token: undefined, expectedModel: MODEL, timeoutMs: 10_000, maxRetries: 1, retryMaxWaitMs: 1000 };
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function serve(...streams: ProgressEvent[][]): void {
  answers = streams.map((events) => events.map(formatProgressEvent).join(': heartbeat\n\n'));
  calls = 0;
}

async function problemOf(running: Promise<unknown>): Promise<{ status: number; detail?: string }> {
  const error = await running.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProblemError);
  return (error as ProblemError).problem;
}

describe('the GPU client on a progress stream', () => {
  it('passes queued and step on in order and returns the picture of the image event', async () => {
    serve([
      { event: 'queued', data: { position: 1, seconds_ahead: 2.5 } },
      { event: 'queued', data: { position: 0, seconds_ahead: null } },
      { event: 'step', data: { step: 1, steps: 2 } },
      { event: 'step', data: { step: 2, steps: 2 } },
      IMAGE,
    ]);
    const seen: string[] = [];
    const image = await generateOnGpu(target, REQUEST, {
      queued: (position) => seen.push(`queued ${position}`),
      step: (step, steps) => seen.push(`step ${step}/${steps}`),
    });
    expect(seen).toEqual(['queued 1', 'queued 0', 'step 1/2', 'step 2/2']);
    expect(image).toEqual({ png: PNG, serverTiming: 'queue;dur=0' });
  });

  it('an error event 503 is waited out and retried like a plain 503; another status is a 502', async () => {
    const busy: ProgressEvent = { event: 'error', data: { type: 'about:blank', title: 'Busy', status: 503, retry_after: 0 } };
    serve([busy], [IMAGE]);
    expect((await generateOnGpu(target, REQUEST, { queued() {}, step() {} })).png).toEqual(PNG);
    expect(calls).toBe(2);

    serve([{ event: 'error', data: { type: 'about:blank', title: 'Broken', status: 500 } }]);
    expect(await problemOf(generateOnGpu(target, REQUEST, { queued() {}, step() {} }))).toMatchObject({
      status: 502,
      detail: 'The GPU function answered 500.',
    });
  });

  it('an image event of another model, a broken event or a stream without a picture is a 502', async () => {
    const progress = { queued() {}, step() {} };
    serve([{ ...IMAGE, data: { ...IMAGE.data, model: 'someone/else@0' } } as ProgressEvent]);
    expect((await problemOf(generateOnGpu(target, REQUEST, progress))).detail).toBe(
      `The picture came from model someone/else@0, not ${MODEL}.`,
    );

    answers = ['event: step\ndata: {"step": 0}\n\n'];
    calls = 0;
    expect((await problemOf(generateOnGpu(target, REQUEST, progress))).detail).toMatch(
      /^The GPU function's progress stream is broken: The step event does not match the contract/,
    );

    serve([{ event: 'step', data: { step: 1, steps: 2 } }]);
    expect(await problemOf(generateOnGpu(target, REQUEST, progress))).toMatchObject({
      status: 502,
      detail: "The GPU function's progress stream is broken: The progress stream ended before an image or an error.",
    });
  });
});
