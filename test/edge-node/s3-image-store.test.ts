// The S3 ImageStore against a real S3-compatible server on loopback (s3rver): the same object names,
// headers and metadata as the R2 store, null for what is not there, and errors that say what to fix.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBucket, createS3Client } from '../../edge/node/s3/s3-image-store';
import { S3StoreError } from '../../edge/node/s3/s3-errors';
import { S3ImageStore } from '../../edge/node/s3/s3-image-store';
import { startS3Server, type S3TestServer } from '../support/s3-server';

const BUCKET = 'dreamurl-store-test';
const KEY = 'e23ce7468c436f19d3500fb0a1ad9d527d2ab91e62b8f5548219a6c5b3f3b198';
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5]);

/** What imageMetadata() writes for a request with non-ASCII prompts (edge/storage.ts). */
const METADATA = {
  model: 'tiny-sd',
  repo: 'tiny-sd',
  revision: 'local-0123456789abcdef',
  pipeline_version: '1',
  seed: '42',
  steps: '4',
  guidance: '7.5',
  width: '64',
  height: '64',
  scheduler: 'pndm',
  prompt: '東京の灯台, café at dusk 🗼',
  negative_prompt: '',
};

let s3: S3TestServer;
let client: S3Client;
let store: S3ImageStore;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
  client = createS3Client(s3.settings(BUCKET));
  store = new S3ImageStore(client, BUCKET);
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe('S3ImageStore round trips', () => {
  it('puts a picture and gets back the same bytes, size and metadata', async () => {
    await store.put(KEY, PNG, METADATA);
    const got = await store.get(KEY);
    expect(got).not.toBeNull();
    expect(await bytesOf(got!.body)).toEqual(PNG);
    expect(got!.size).toBe(PNG.byteLength);
    expect(got!.metadata).toEqual(METADATA);
    expect(await store.head(KEY)).toEqual({ size: PNG.byteLength, metadata: METADATA });
  });

  it('stores the object at images/<key>.png with the PNG type and immutable caching, as R2 does', async () => {
    await store.put(KEY, PNG, METADATA);
    const raw = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `images/${KEY}.png` }));
    expect(raw.ContentType).toBe('image/png');
    expect(raw.CacheControl).toBe('public, max-age=31536000, immutable');
    expect(raw.ContentLength).toBe(PNG.byteLength);
    await raw.Body?.transformToByteArray();
  });

  it('sends only printable ASCII in x-amz-meta-* headers (what S3 requires), readable by any HTTP client', async () => {
    await store.put(KEY, PNG, METADATA);
    const res = await fetch(`${s3.endpoint}/${BUCKET}/images/${KEY}.png`); // s3rver serves without auth
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-meta-seed')).toBe('42');
    expect(res.headers.get('x-amz-meta-prompt')).toMatch(/^(=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= ?)+$/);
    expect(res.headers.get('x-amz-meta-negative_prompt')).toBe('');
    await res.arrayBuffer();
  });

  it('overwrites an object put twice (a key always means the same picture)', async () => {
    const key = 'a'.repeat(64);
    await store.put(key, PNG, { seed: '1' });
    await store.put(key, PNG.subarray(0, 9), { seed: '1' });
    expect((await store.head(key))?.size).toBe(9);
  });

  it('answers null for a key that is not stored, from get and head', async () => {
    const missing = 'b'.repeat(64);
    expect(await store.get(missing)).toBeNull();
    expect(await store.head(missing)).toBeNull();
  });
});

describe('S3 misconfiguration is a clear error', () => {
  it('a bucket that does not exist: get and put name the bucket and the setting', async () => {
    const wrong = new S3ImageStore(client, 'no-such-bucket');
    const getError = await wrong.get(KEY).catch((e: unknown) => e);
    expect(getError).toBeInstanceOf(S3StoreError);
    expect((getError as Error).message).toBe(
      `S3 GetObject on s3://no-such-bucket/images/${KEY}.png failed: NoSuchBucket (HTTP 404) — ` +
        'the bucket does not exist (check S3_BUCKET, S3_ENDPOINT and S3_REGION, or run npm run infra:bucket)',
    );
    await expect(wrong.put(KEY, PNG, {})).rejects.toThrow(/PutObject on s3:\/\/no-such-bucket\/.* NoSuchBucket \(HTTP 404\) — the bucket does not exist/);
    // HEAD answers carry no error code, so a missing bucket looks like a missing object there;
    // that is why the Node edge checks the bucket before it starts:
    expect(await wrong.head(KEY)).toBeNull();
    await expect(checkBucket(client, 'no-such-bucket')).rejects.toThrow(
      'S3 HeadBucket on bucket "no-such-bucket" failed: NotFound (HTTP 404) — the bucket does not exist',
    );
  });

  it('an access key the store does not know: refused with the setting to check', async () => {
    const stranger = createS3Client({ ...s3.settings(BUCKET), credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'x' } });
    try {
      const wrong = new S3ImageStore(stranger, BUCKET);
      await expect(wrong.get(KEY)).rejects.toThrow(/GetObject .* failed: InvalidAccessKeyId \(HTTP 403\) — this endpoint does not know the access key \(check S3_ACCESS_KEY_ID/);
      await expect(wrong.put(KEY, PNG, {})).rejects.toThrow(/InvalidAccessKeyId/);
      await expect(wrong.head(KEY)).rejects.toThrow(/HeadObject .* \(HTTP 403\) — access denied: .*or the credentials are wrong \(S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY\)/);
      await expect(checkBucket(stranger, BUCKET)).rejects.toThrow(/HeadBucket .* \(HTTP 403\)/);
    } finally {
      stranger.destroy();
    }
  });

  it('a store that cannot be reached: says so after the retries', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused.
    const nowhere = createS3Client({ ...s3.settings(BUCKET), endpoint: 'http://127.0.0.1:1' }, { maxAttempts: 2 });
    try {
      const error = await new S3ImageStore(nowhere, BUCKET).get(KEY).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(S3StoreError);
      expect((error as S3StoreError).failure.code).toBe('ECONNREFUSED');
      expect((error as Error).message).toMatch(/the store cannot be reached \(check S3_ENDPOINT and the network\)$/);
    } finally {
      nowhere.destroy();
    }
  });
});
