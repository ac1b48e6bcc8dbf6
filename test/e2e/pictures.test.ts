// End to end over real HTTP: wrangler dev (the Worker in workerd, local R2, Cache API and Durable
// Objects) in front of the real GPU function process on the tiny-sd fixture, wired as `npm start`
// wires them. One GPU function and one edge serve every test here, in order; the last one stops the GPU
// function and brings it back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../support/decode-png';
import { fetchAnswer, imageUrl } from '../support/stack-http';
import { startStackEdge, startStackGpu, type StackEdge, type StackGpu } from '../support/stack-processes';

const STORED = 'dreamurl; fwd=miss; stored';
const COALESCED = 'dreamurl; fwd=miss; stored; detail=coalesced';

describe('pictures through the whole stack', () => {
  let gpu: StackGpu;
  let edge: StackEdge;

  beforeAll(async () => {
    gpu = await startStackGpu();
    edge = await startStackEdge(gpu);
  });

  afterAll(async () => {
    await edge?.stop();
    await gpu?.close();
  });

  it('a GET generates a PNG at the model defaults; the repeat is a hit with the same bytes and no new generation', async () => {
    const url = imageUrl(edge.url, { prompt: 'a lighthouse at dusk' });
    const before = await gpu.generations();

    const first = await fetchAnswer(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('Content-Type')).toBe('image/png');
    expect(first.headers.get('Cache-Status')).toBe(STORED);
    expect(first.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    // tiny-sd's dreamurl.json: 64×64, reached the edge through npm start's profile from GET /v1/model.
    const picture = decodePng(first.bytes);
    expect([picture.width, picture.height]).toEqual([64, 64]);
    expect(await gpu.generations()).toBe(before + 1);

    const repeat = await fetchAnswer(url);
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get('Cache-Status')).toMatch(/^dreamurl; hit; detail=(cache|store)$/);
    expect(repeat.bytes).toEqual(first.bytes);
    expect(repeat.headers.get('ETag')).toBe(first.headers.get('ETag'));
    expect(repeat.headers.get('X-Seed')).toBe(first.headers.get('X-Seed'));

    const stored = await fetchAnswer(`${edge.url}${first.headers.get('Content-Location')}`);
    expect(stored.status).toBe(200);
    expect(stored.bytes).toEqual(first.bytes);
    expect(await gpu.generations()).toBe(before + 1);
  });

  it('a URL that spells out a default is the same picture, not a new generation', async () => {
    const first = await fetchAnswer(imageUrl(edge.url, { prompt: 'a quiet harbour' }));
    const before = await gpu.generations();
    const spelled = await fetchAnswer(imageUrl(edge.url, { prompt: '  a quiet   harbour ', width: 64, steps: gpu.info.defaults.steps }));
    expect(spelled.status).toBe(200);
    expect(spelled.headers.get('ETag')).toBe(first.headers.get('ETag'));
    expect(spelled.bytes).toEqual(first.bytes);
    expect(await gpu.generations()).toBe(before);
  });

  it('16 concurrent GETs of a new URL make one generation, and all get the same bytes', async () => {
    const url = imageUrl(edge.url, { prompt: 'sixteen at once', seed: 16 });
    const before = await gpu.generations();

    const answers = await Promise.all(Array.from({ length: 16 }, () => fetchAnswer(url)));

    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(200));
    for (const answer of answers) expect(answer.bytes).toEqual(answers[0]!.bytes);
    // Each was answered by the one generation (or, arriving late, found it stored): never a second one.
    for (const answer of answers) {
      expect([STORED, COALESCED, 'dreamurl; hit; detail=cache', 'dreamurl; hit; detail=store']).toContain(answer.headers.get('Cache-Status'));
    }
    expect(await gpu.generations()).toBe(before + 1);
    expect(answers[0]!.headers.get('X-Seed')).toBe('16');
  });

  it('a bad parameter is a 400 problem naming it, and nothing reaches the GPU function', async () => {
    const before = await gpu.generations();
    const answer = await fetchAnswer(imageUrl(edge.url, { prompt: 'fine', steps: 'abc' }));
    expect(answer.status).toBe(400);
    expect(answer.headers.get('Content-Type')).toBe('application/problem+json');
    expect(answer.problem().errors?.map((e) => e.param)).toEqual(['steps']);
    expect(await gpu.generations()).toBe(before);
  });

  it('GPU function stopped: 503 + Retry-After and nothing stored; stored pictures still served; back: the URL generates', async () => {
    const earlier = await fetchAnswer(imageUrl(edge.url, { prompt: 'a lighthouse at dusk' }));
    const url = imageUrl(edge.url, { prompt: 'made once the GPU is back' });
    await gpu.stop();

    const down = await fetchAnswer(url);
    expect(down.status).toBe(503);
    expect(down.headers.get('Retry-After')).toMatch(/^[1-9]\d*$/);
    expect(down.headers.get('Cache-Control')).toBe('no-store');
    expect(down.problem().type).toBe('urn:dreamurl:problem:gpu-unavailable');

    // HEAD never generates: it names the picture's content URL, which holds nothing.
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss');
    const contentUrl = `${edge.url}${head.headers.get('Content-Location')}`;
    expect((await fetchAnswer(contentUrl)).status).toBe(404);
    // A failure is not remembered: asking again asks the GPU again (and fails again while it is down).
    expect((await fetchAnswer(url)).status).toBe(503);

    // Pictures made before the outage do not need the GPU.
    const cached = await fetchAnswer(imageUrl(edge.url, { prompt: 'a lighthouse at dusk' }));
    expect(cached.status).toBe(200);
    expect(cached.bytes).toEqual(earlier.bytes);

    await gpu.restart();
    expect(await gpu.generations()).toBe(0);
    const back = await fetchAnswer(url);
    expect(back.status).toBe(200);
    expect(back.headers.get('Cache-Status')).toBe(STORED);
    expect(await gpu.generations()).toBe(1);
    const stored = await fetchAnswer(contentUrl);
    expect(stored.status).toBe(200);
    expect(stored.bytes).toEqual(back.bytes);
  });
});
