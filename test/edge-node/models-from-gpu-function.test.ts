// `npm run start:edge:node` without MODELS: the Node edge reads its one model profile from the GPU
// function (GET /v1/model), as `npm start` does for wrangler dev. Real parts throughout: edge/node/main.ts
// in its own process, the real GPU function on the tiny-sd fixture, s3rver, HTTP on loopback.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../contract';
import { startReady } from '../support/gpu-function-service';
import { startS3Server, type S3TestServer } from '../support/s3-server';
import { type NodeEdgeProcess, spawnNodeEdge } from './support/node-edge-process';

const BUCKET = 'dreamurl-images';
const TOKEN = 'models-from-gpu-function-token-0123456789';

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
});
afterAll(async () => {
  await s3?.close();
});

/** edge/node/main.ts with only these variables (no MODELS) and the S3 bucket. */
function startEdge(env: Record<string, string>): NodeEdgeProcess {
  return spawnNodeEdge({ ...s3.env(BUCKET), PORT: '0', ...env });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the Node edge without MODELS', () => {
  it('waits for the GPU function, pins the model it serves and generates through it', async () => {
    const port = await freePort();
    const edge = startEdge({ GPU_FUNCTION_URL: `http://127.0.0.1:${port}`, GPU_FUNCTION_TOKEN: TOKEN });
    let gpu: Awaited<ReturnType<typeof startReady>> | undefined;
    try {
      // Nothing listens yet: the edge says it waits, and does not listen itself.
      expect(await edge.next('waiting_for_model')).toMatchObject({ level: 'info', reason: expect.stringMatching(/not reachable/) });
      gpu = await startReady({ PORT: String(port), GPU_FUNCTION_TOKEN: TOKEN });
      const info = (await (await fetch(`${gpu.url}/v1/model`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as ModelInfo;

      const { url, model } = (await edge.next('listening')) as { url: string; model: string };
      expect(model).toBe(info.model);
      expect(edge.lines.filter((l) => l.event === 'listening')).toHaveLength(1);

      // The profile is the GPU function's: name from the id, its defaults and limits.
      const document = (await (await fetch(`${url}/openapi.json`)).json()) as { 'x-models': unknown[] };
      expect(document['x-models']).toEqual([
        expect.objectContaining({ name: 'tiny-sd', default: true, defaults: info.defaults, limits: info.limits }),
      ]);
      // A picture: the GPU function's X-Model matches the pinned <repo>@<revision>, or this would be a 502.
      const picture = await fetch(`${url}/v1/images?prompt=${encodeURIComponent('a lighthouse, profile from the GPU')}`);
      expect(picture.status).toBe(200);
      expect(picture.headers.get('Content-Type')).toBe('image/png');
      const png = new Uint8Array(await picture.arrayBuffer());
      expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]); // "PNG"
      expect(edge.raw.join('\n')).not.toContain(TOKEN);
    } finally {
      edge.child.kill('SIGKILL');
      await gpu?.close();
    }
  });

  it('exits 1 with model_unavailable when the GPU function refuses its token, never logging it', async () => {
    const gpu = await startReady({ GPU_FUNCTION_TOKEN: TOKEN });
    const wrong = 'not-the-gpu-function-token-9876543210';
    const edge = startEdge({ GPU_FUNCTION_URL: gpu.url, GPU_FUNCTION_TOKEN: wrong });
    try {
      expect(await edge.exited).toBe(1);
      expect(edge.lines).toContainEqual(
        expect.objectContaining({ level: 'error', event: 'model_unavailable', message: expect.stringMatching(/answered 401 \(GPU_FUNCTION_TOKEN/) }),
      );
      expect(edge.lines.some((l) => l.event === 'listening')).toBe(false);
      expect(edge.raw.join('\n')).not.toContain(wrong);
    } finally {
      edge.child.kill('SIGKILL');
      await gpu.close();
    }
  });
});
