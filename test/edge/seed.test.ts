// Seeds: a URL without one always means the same picture (derived seed, sent to the GPU function);
// `seed=random` redirects to the canonical URL of one concrete picture.
import { describe, expect, it } from 'vitest';
import { edgeApp, imagesPath } from './support/edge-app';
import { gpuCalls, uniquePrompt } from './support/gpu-stub';

const app = edgeApp();

describe('seeds', () => {
  it('sends the derived seed and every resolved default to the GPU function', async () => {
    const prompt = uniquePrompt('a fox in snow');
    const res = await app.request(imagesPath({ prompt, negative_prompt: '  blurry   ' }));
    expect(res.status).toBe(200);
    const calls = await gpuCalls(prompt);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({
      prompt,
      negative_prompt: 'blurry',
      seed: Number(res.headers.get('X-Seed')),
      steps: 4,
      guidance: 7.5,
      width: 64,
      height: 64,
      scheduler: 'pndm',
    });
    expect(calls[0]?.model).toBe('tiny-sd@local-0123456789abcdef');
  });

  it('uses the given seed', async () => {
    const prompt = uniquePrompt('a fox in rain');
    const res = await app.request(imagesPath({ prompt, seed: 4294967295 }));
    expect(res.headers.get('X-Seed')).toBe('4294967295');
    expect((await gpuCalls(prompt))[0]?.body.seed).toBe(4294967295);
  });

  it('redirects seed=random (302, not cacheable) to the canonical URL with a concrete seed', async () => {
    const prompt = uniquePrompt('a fox at night');
    const res = await app.request(imagesPath({ prompt, seed: 'random', steps: 6 }));
    expect(res.status).toBe(302);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const location = new URL(res.headers.get('Location') ?? '', 'http://edge.test');
    expect(location.pathname).toBe('/v1/images');
    const params = Object.fromEntries(location.searchParams);
    expect(params).toEqual({
      prompt,
      negative_prompt: '',
      seed: expect.stringMatching(/^[0-9]+$/),
      steps: '6',
      guidance: '7.5',
      width: '64',
      height: '64',
      scheduler: 'pndm',
      model: 'tiny-sd',
    });
    expect(await gpuCalls(prompt)).toHaveLength(0); // the redirect itself generates nothing

    const followed = await app.request(location.pathname + location.search);
    expect(followed.status).toBe(200);
    expect(followed.headers.get('X-Seed')).toBe(params.seed);
    const again = await app.request(location.pathname + location.search);
    expect(again.headers.get('Cache-Status')).toMatch(/hit/);
  });

  it('gives a different seed each time', async () => {
    const prompt = uniquePrompt('a fox at noon');
    const seeds = new Set<string | null>();
    for (let i = 0; i < 5; i++) {
      const res = await app.request(imagesPath({ prompt, seed: 'random' }));
      seeds.add(new URL(res.headers.get('Location') ?? '', 'http://edge.test').searchParams.get('seed'));
    }
    expect(seeds.size).toBe(5); // 5 draws from 2^32 values: a repeat has probability ≈ 2e-9
  });
});
