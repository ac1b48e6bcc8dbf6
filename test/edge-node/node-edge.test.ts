// The edge on Node end to end over real HTTP: the same app on @hono/node-server, pictures in a real
// S3-compatible store (s3rver), the GPU stub on loopback. What only the Node port has is pinned here:
// the S3 object it writes, storage failures (through a fault-injecting proxy in front of s3rver),
// refusing to start on a wrong bucket or key, whose address it trusts, and draining on shutdown.
// The behaviour both runtimes share is the contract table (test/contract/).
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseNodeConfig } from '../../edge/node/node-config';
import { startNodeEdge } from '../../edge/node/node-edge';
import { createS3Client } from '../../edge/node/s3/s3-image-store';
import { S3StoreError } from '../../edge/node/s3/s3-errors';
import { S3ImageStore } from '../../edge/node/s3/s3-image-store';
import { uniquePrompt } from '../contract/gpu-stub-control';
import { startS3FaultProxy, type S3FaultProxy } from '../support/s3-fault-proxy';
import { NODE_STACK_BUCKET, type NodeStack, startNodeStack } from './support/node-stack';

let stack: NodeStack;
let s3: S3Client;
let store: S3ImageStore;

beforeAll(async () => {
  stack = await startNodeStack();
  s3 = createS3Client(stack.s3.settings(NODE_STACK_BUCKET));
  store = new S3ImageStore(s3, NODE_STACK_BUCKET);
});

afterAll(async () => {
  s3?.destroy();
  await stack?.close();
});

const imagesPath = (params: Record<string, string | number>) =>
  `/v1/images?${Object.entries(params).map(([n, v]) => `${n}=${encodeURIComponent(String(v))}`).join('&')}`;

const keyOf = (res: Response) => (res.headers.get('ETag') ?? '').slice(1, -1);

describe('the Node edge with S3', () => {
  it('generates, stores images/<key>.png in S3 with the request as metadata, then serves hits without the GPU', async () => {
    const edge = await stack.edge();
    const prompt = uniquePrompt('a lighthouse on Node, café');
    const first = await fetch(`${edge.url}${imagesPath({ prompt, steps: 7 })}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
    const bytes = new Uint8Array(await first.arrayBuffer());

    const key = keyOf(first);
    const object = await s3.send(new HeadObjectCommand({ Bucket: NODE_STACK_BUCKET, Key: `images/${key}.png` }));
    expect(object.ContentType).toBe('image/png');
    expect(object.CacheControl).toBe('public, max-age=31536000, immutable');
    expect((await store.head(key))?.metadata).toEqual({
      model: 'tiny-sd',
      repo: 'tiny-sd',
      revision: 'local-0123456789abcdef',
      pipeline_version: '1',
      prompt,
      negative_prompt: '',
      seed: first.headers.get('X-Seed'),
      steps: '7',
      guidance: '7.5',
      width: '64',
      height: '64',
      scheduler: 'pndm',
    });

    const fromLru = await fetch(`${edge.url}${imagesPath({ prompt, steps: 7 })}`);
    expect(fromLru.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=cache');
    expect(new Uint8Array(await fromLru.arrayBuffer())).toEqual(bytes);

    // Another instance (its own empty LRU) finds the picture in S3, the shared source of truth.
    const other = await stack.edge();
    const fromS3 = await fetch(`${other.url}${imagesPath({ prompt, steps: 7 })}`);
    expect(fromS3.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=store');
    expect(new Uint8Array(await fromS3.arrayBuffer())).toEqual(bytes);
    const warmed = await fetch(`${other.url}${imagesPath({ prompt, steps: 7 })}`);
    expect(warmed.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=cache');
    expect(new Uint8Array(await warmed.arrayBuffer())).toEqual(bytes);
    expect(await stack.gpu.calls(prompt)).toHaveLength(1);
  });

  it('serves every request from S3 with IMAGE_CACHE_MAX_BYTES=0', async () => {
    const edge = await stack.edge({ IMAGE_CACHE_MAX_BYTES: '0' });
    const prompt = uniquePrompt('an uncached lighthouse');
    expect((await fetch(`${edge.url}${imagesPath({ prompt })}`)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${edge.url}${imagesPath({ prompt })}`);
      expect(res.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=store');
      await res.arrayBuffer();
    }
    expect(edge.deps.cache.stats().entries).toBe(0);
  });
});

describe('storage failures', () => {
  let proxy: S3FaultProxy;
  beforeAll(async () => {
    proxy = await startS3FaultProxy(stack.s3.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
  });
  const edgeBehindProxy = () => stack.edge({ S3_ENDPOINT: proxy.url });

  it('a store that cannot be read answers 503 with Retry-After and never calls the GPU', async () => {
    const edge = await edgeBehindProxy();
    const prompt = uniquePrompt('an unreadable lighthouse');
    proxy.fail({ methods: ['GET', 'HEAD'], status: 500 });
    try {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${edge.url}${imagesPath({ prompt })}`, { method });
        expect(res.status, method).toBe(503);
        expect(res.headers.get('Retry-After')).toBe('5');
        expect(res.headers.get('Cache-Control')).toBe('no-store');
        expect(res.headers.get('Content-Type')).toBe('application/problem+json');
        if (method === 'GET') expect(await res.json()).toMatchObject({ status: 503, type: 'urn:dreamurl:problem:storage-unavailable' });
      }
      const byKey = await fetch(`${edge.url}/v1/images/${'c'.repeat(64)}.png`);
      expect(byKey.status).toBe(503);
      expect(await stack.gpu.calls(prompt)).toHaveLength(0);
    } finally {
      proxy.fail(null);
    }
    // Once the store answers again, the same URL generates as usual.
    expect((await fetch(`${edge.url}${imagesPath({ prompt })}`)).status).toBe(200);
    expect(await stack.gpu.calls(prompt)).toHaveLength(1);
  });

  it('a store that refuses the write still serves the picture, says it is not stored, and logs it', async () => {
    const edge = await edgeBehindProxy();
    const prompt = uniquePrompt('an unwritable lighthouse');
    const errors = vi.spyOn(console, 'error');
    proxy.fail({ methods: ['PUT'], status: 503 });
    let res: Response;
    let logged: Record<string, unknown>[];
    try {
      res = await fetch(`${edge.url}${imagesPath({ prompt })}`);
      logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    } finally {
      proxy.fail(null);
      errors.mockRestore();
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/png');
    expect(res.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; detail=not-stored');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const key = keyOf(res);
    expect(await store.head(key)).toBeNull();
    expect(logged).toContainEqual(expect.objectContaining({ level: 'error', event: 'store_put_failed', key }));
    expect(JSON.stringify(logged)).not.toContain(prompt); // prompts are never logged

    // This instance keeps serving what it made from its LRU, without another GPU call.
    const again = await fetch(`${edge.url}${imagesPath({ prompt })}`);
    expect(again.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=cache');
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(bytes);
    expect(await stack.gpu.calls(prompt)).toHaveLength(1);
  });

  it('starts while the store is unreachable (it may recover) and answers 503 until it does', async () => {
    proxy.fail({ methods: ['GET', 'HEAD', 'PUT'], status: 503 });
    try {
      const edge = await edgeBehindProxy();
      const res = await fetch(`${edge.url}${imagesPath({ prompt: uniquePrompt('a lighthouse in the fog') })}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('Retry-After')).toBe('5');
    } finally {
      proxy.fail(null);
    }
  });
});

describe('refusing to start on a wrong bucket or key', () => {
  it.each([
    ['a bucket that does not exist', { S3_BUCKET: 'no-such-bucket' }, /^S3 HeadBucket on bucket "no-such-bucket" failed: NotFound \(HTTP 404\) — the bucket does not exist/],
    ['an access key the store does not know', { S3_ACCESS_KEY_ID: 'NOT-A-KEY' }, /^S3 HeadBucket on bucket "dreamurl-images" failed: .* \(HTTP 403\) — access denied.*S3_ACCESS_KEY_ID/],
  ])('%s', async (_label, vars, message) => {
    const error = await startNodeEdge(parseNodeConfig(stack.env(vars))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3StoreError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('client addresses for the rate limit', () => {
  const from = (headers: Record<string, string>): RequestInit => ({ headers });

  it('ignores a CF-Connecting-IP sent by the client itself: it is charged by its socket address', async () => {
    const edge = await stack.edge({ RATE_LIMIT_PER_MINUTE: '1' });
    const prompt = uniquePrompt('a spoofing client');
    expect((await fetch(`${edge.url}${imagesPath({ prompt, seed: 1 })}`, from({ 'CF-Connecting-IP': '198.51.100.1' }))).status).toBe(200);
    const second = await fetch(`${edge.url}${imagesPath({ prompt, seed: 2 })}`, from({ 'CF-Connecting-IP': '198.51.100.2' }));
    expect(second.status).toBe(429);
    expect(await stack.gpu.calls(prompt)).toHaveLength(1);
    // Dropping the header rebuilds the request; one with a body still reaches the app intact.
    const post = await fetch(`${edge.url}${imagesPath({ prompt })}`, { method: 'POST', body: 'x'.repeat(100), headers: { 'CF-Connecting-IP': '198.51.100.3' } });
    expect(post.status).toBe(405);
    expect(post.headers.get('Allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('trusts the last X-Forwarded-For hop when CLIENT_IP_HEADER names it', async () => {
    const edge = await stack.edge({ RATE_LIMIT_PER_MINUTE: '1', CLIENT_IP_HEADER: 'X-Forwarded-For' });
    const prompt = uniquePrompt('clients behind a proxy');
    const via = (chain: string) => from({ 'X-Forwarded-For': chain });
    expect((await fetch(`${edge.url}${imagesPath({ prompt, seed: 1 })}`, via('203.0.113.9, 198.51.100.7'))).status).toBe(200);
    // The client may prepend anything; the hop our proxy appended is what counts.
    expect((await fetch(`${edge.url}${imagesPath({ prompt, seed: 2 })}`, via('192.0.2.1, 198.51.100.7'))).status).toBe(429);
    expect((await fetch(`${edge.url}${imagesPath({ prompt, seed: 3 })}`, via('203.0.113.9, 198.51.100.8'))).status).toBe(200);
  });

  it('trusts CF-Connecting-IP when CLIENT_IP_HEADER names it (behind Cloudflare)', async () => {
    const edge = await stack.edge({ RATE_LIMIT_PER_MINUTE: '1', CLIENT_IP_HEADER: 'CF-Connecting-IP' });
    const prompt = uniquePrompt('clients behind Cloudflare');
    for (const [seed, ip] of [[1, '198.51.100.21'], [2, '198.51.100.22']] as const) {
      expect((await fetch(`${edge.url}${imagesPath({ prompt, seed })}`, from({ 'CF-Connecting-IP': ip }))).status).toBe(200);
    }
    expect((await fetch(`${edge.url}${imagesPath({ prompt, seed: 3 })}`, from({ 'CF-Connecting-IP': '198.51.100.21' }))).status).toBe(429);
  });
});

describe('graceful shutdown', () => {
  async function until(condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 25));
  }

  it('stops accepting connections, finishes the request in flight, then resolves', async () => {
    const edge = await stack.edge();
    const prompt = uniquePrompt('a lighthouse at closing time');
    await stack.gpu.setScenario({ prompt, mode: 'slow', delayMs: 600 });
    const pending = fetch(`${edge.url}${imagesPath({ prompt })}`);
    await until(async () => (await stack.gpu.calls(prompt)).length === 1);

    const closed = edge.close(10_000);
    await expect(fetch(`${edge.url}/v1/images/${'d'.repeat(64)}.png`)).rejects.toThrow();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
    await res.arrayBuffer();
    await closed;
    expect(await store.head(keyOf(res))).not.toBeNull();
  });

  it('waits for a generation whose client hung up, so the picture is stored rather than lost', async () => {
    const edge = await stack.edge();
    const prompt = uniquePrompt('an abandoned lighthouse');
    await stack.gpu.setScenario({ prompt, mode: 'slow', delayMs: 600 });
    const head = await fetch(`${edge.url}${imagesPath({ prompt })}`, { method: 'HEAD' });
    const abort = new AbortController();
    const pending = fetch(`${edge.url}${imagesPath({ prompt })}`, { signal: abort.signal }).catch((e: unknown) => e);
    await until(async () => (await stack.gpu.calls(prompt)).length === 1);
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    expect(edge.deps.generator.running).toBe(1);

    await edge.close(10_000);
    expect(edge.deps.generator.running).toBe(0);
    expect(await store.head(keyOf(head))).not.toBeNull();
  });

  it('cuts what is still running when the timeout runs out', async () => {
    const edge = await stack.edge({ GPU_TIMEOUT_MS: '60000' });
    const prompt = uniquePrompt('a lighthouse that never finishes');
    await stack.gpu.setScenario({ prompt, mode: 'hang' });
    const pending = fetch(`${edge.url}${imagesPath({ prompt })}`).catch((e: unknown) => e);
    await until(async () => (await stack.gpu.calls(prompt)).length === 1);
    const warnings = vi.spyOn(console, 'warn');
    let logged: Record<string, unknown>[];
    try {
      await edge.close(200);
      logged = warnings.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    } finally {
      warnings.mockRestore();
    }
    expect(await pending).toBeInstanceOf(Error); // the connection was closed under it
    expect(logged).toContainEqual({ level: 'warn', event: 'shutdown_timeout', timeout_ms: 200, generations_running: 1 });
  });
});
