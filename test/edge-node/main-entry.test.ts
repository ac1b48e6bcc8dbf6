// `npm run start:edge:node` as an operator runs it: the real entry (edge/node/main.ts) in its own
// process, configured by environment variables only, against s3rver and the GPU stub; SIGTERM drains
// and exits 0; a wrong setting or bucket exits 1 with a log line that names it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrompt } from '../contract/gpu-stub-control';
import { spawnNodeEdge } from './support/node-edge-process';
import { type NodeStack, startNodeStack } from './support/node-stack';

let stack: NodeStack;
beforeAll(async () => {
  stack = await startNodeStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('npm run start:edge:node (edge/node/main.ts)', () => {
  it('listens, serves a picture from the GPU into S3 and back, and exits 0 on SIGTERM', async () => {
    const edge = spawnNodeEdge(stack.env());
    try {
      const { url } = (await edge.next('listening')) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const prompt = uniquePrompt('a lighthouse from main.ts');
      const first = await fetch(`${url}/v1/images?prompt=${encodeURIComponent(prompt)}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('Content-Type')).toBe('image/png');
      const key = (first.headers.get('ETag') ?? '').slice(1, -1);
      await first.arrayBuffer();
      const byKey = await fetch(`${url}/v1/images/${key}.png`);
      expect(byKey.status).toBe(200);
      await byKey.arrayBuffer();

      edge.child.kill('SIGTERM');
      expect(await edge.exited).toBe(0);
      expect(edge.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['listening', 'generated', 'shutting_down', 'stopped']));
    } finally {
      edge.child.kill('SIGKILL');
    }
  });

  it.each([
    ['a missing setting', { S3_BUCKET: '' }, 'invalid_configuration', /S3_BUCKET: is required/],
    ['a bucket that does not exist', { S3_BUCKET: 'no-such-bucket' }, 'storage_misconfigured', /the bucket does not exist/],
  ])('exits 1 on %s, saying which', async (_label, vars, event, message) => {
    const edge = spawnNodeEdge(stack.env(vars));
    try {
      expect(await edge.exited).toBe(1);
      expect(edge.lines).toContainEqual(expect.objectContaining({ level: 'error', event, message: expect.stringMatching(message) }));
    } finally {
      edge.child.kill('SIGKILL');
    }
  });
});
