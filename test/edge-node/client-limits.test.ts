// What the Node edge grants one connection, over real TCP sockets: CLIENT_TIMEOUT_MS to send its
// request head and as the longest stall while reading an answer, and MAX_CONNECTIONS open at once.
// (On Workers, Cloudflare's front end owns connections; these are the Node port's own.)
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, S3ImageStore } from '../../edge/node/s3/s3-image-store';
import { NODE_STACK_BUCKET, type NodeStack, startNodeStack } from './support/node-stack';

let stack: NodeStack;
let s3: S3Client;

beforeAll(async () => {
  stack = await startNodeStack();
  s3 = createS3Client(stack.s3.settings(NODE_STACK_BUCKET));
});

afterAll(async () => {
  s3?.destroy();
  await stack?.close();
});

interface RawClient {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves once the connection is closed, with whether it closed within `withinMs`. */
  closed(withinMs: number): Promise<boolean>;
}

function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let isClosed = false;
    const onClose: (() => void)[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset is one way of being closed
    socket.on('close', () => {
      isClosed = true;
      for (const notify of onClose) notify();
    });
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => Buffer.concat(chunks),
        closed: (withinMs) =>
          new Promise((done) => {
            if (isClosed) return done(true);
            const timer = setTimeout(() => done(false), withinMs);
            onClose.push(() => {
              clearTimeout(timer);
              done(true);
            });
          }),
      }),
    );
    socket.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CLIENT_TIMEOUT_MS', () => {
  it('closes a connection whose client stopped reading the answer, instead of holding it and the picture', async () => {
    const edge = await stack.edge({ CLIENT_TIMEOUT_MS: '250' });
    // A stored object larger than what loopback's socket buffers take in, so an unread answer stalls.
    const key = randomBytes(32).toString('hex');
    const size = 24 * 1024 * 1024;
    await new S3ImageStore(s3, NODE_STACK_BUCKET).put(key, randomBytes(size), { seed: '1' });

    const client = await rawClient(edge.url);
    client.socket.write(`GET /v1/images/${key}.png HTTP/1.1\r\nHost: edge.test\r\n\r\n`);
    // Read the head, then stop reading for much longer than the timeout.
    await new Promise<void>((resolve) => client.socket.once('data', () => resolve()));
    client.socket.pause();
    await sleep(3000);
    client.socket.resume();
    expect(await client.closed(20_000)).toBe(true);

    const text = client.received().toString('latin1');
    expect(text.startsWith('HTTP/1.1 200 OK')).toBe(true);
    expect(text).toContain(`content-length: ${size}`);
    const body = client.received().byteLength - (text.indexOf('\r\n\r\n') + 4);
    expect(body).toBeLessThan(size); // cut off: the edge gave up on this reader
    // The edge still serves everyone else.
    expect((await fetch(`${edge.url}/v1/images/${key}.png`, { method: 'HEAD' })).status).toBe(200);
  });

  it('closes a connection whose request head never completes (408), so slow senders cannot pile up', async () => {
    const edge = await stack.edge({ CLIENT_TIMEOUT_MS: '250' });
    const client = await rawClient(edge.url);
    client.socket.write('GET /v1/images?prompt=slow HTTP/1.1\r\nHost: edge.test\r\n'); // no blank line
    expect(await client.closed(10_000)).toBe(true);
    expect(client.received().toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('does not cut a client that waits for a generation longer than the timeout', async () => {
    const edge = await stack.edge({ CLIENT_TIMEOUT_MS: '250' });
    const prompt = `a slow lighthouse ${crypto.randomUUID()}`;
    await stack.gpu.setScenario({ prompt, mode: 'slow', delayMs: 1500 });
    const res = await fetch(`${edge.url}/v1/images?prompt=${encodeURIComponent(prompt)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
  });
});

describe('MAX_CONNECTIONS', () => {
  it('closes connections beyond the cap as they arrive, and serves again once one is gone', async () => {
    const edge = await stack.edge({ MAX_CONNECTIONS: '2' });
    const held = [await rawClient(edge.url), await rawClient(edge.url)];
    await sleep(100); // let the server count both

    const over = await rawClient(edge.url);
    over.socket.write('GET /v1/images/nothing HTTP/1.1\r\nHost: edge.test\r\n\r\n');
    expect(await over.closed(10_000)).toBe(true);
    expect(over.received().byteLength).toBe(0); // never served

    // The held connections are served as usual.
    held[0]!.socket.write('GET /v1/images/nothing HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n');
    expect(await held[0]!.closed(10_000)).toBe(true);
    expect(held[0]!.received().toString('latin1')).toMatch(/^HTTP\/1\.1 404 /);

    // One slot is free again (the server may take a moment to see the close).
    let status: number | undefined;
    for (let attempt = 0; attempt < 50 && status === undefined; attempt++) {
      status = await fetch(`${edge.url}/v1/images/nothing`).then((r) => r.status, () => undefined);
      if (status === undefined) await sleep(100);
    }
    expect(status).toBe(404);
    held[1]!.socket.destroy();
  });
});
