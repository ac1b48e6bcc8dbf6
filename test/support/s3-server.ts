// A real S3-compatible server on loopback for tests (s3rver, a devDependency), in a temporary
// directory that close() removes. What s3rver does and does not do, as found by
// test/edge-node/s3-image-store.test.ts and infra-bucket.test.ts:
//   - objects, Content-Type, Cache-Control and x-amz-meta-* headers round-trip verbatim (so non-ASCII
//     metadata must be encoded by the client, as real S3 requires too);
//   - GetObject tells NoSuchKey from NoSuchBucket; HeadObject answers a bare 404 for both;
//   - an unknown access key id is refused (403 InvalidAccessKeyId), but SigV4 signatures are NOT
//     checked: a wrong secret for the known key `S3RVER` is accepted;
//   - PutBucketCors/GetBucketCors work and its CORS middleware answers object GETs with them;
//     lifecycle configuration is NotImplemented (501);
//   - a PUT is not atomic in s3rver itself (a GET during it could read an empty object, found by
//     test/contract's long-generation case): here it is, as on S3 and R2 (atomicPuts).
// Run alone for a local Node edge: `tsx test/support/s3-server.ts --port 4569 --bucket dreamurl-images`.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import S3rver, { type FilesystemStore } from 's3rver';
import type { S3Settings } from '../../edge/node/s3/s3-image-store';

/** The one key pair s3rver knows. */
export const S3RVER_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export interface S3ServerOptions {
  /** Buckets that exist from the start. */
  readonly buckets?: readonly string[];
  readonly host?: string;
  /** 0 (default): a free port. */
  readonly port?: number;
}

export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Settings for a bucket on this server (path-style, s3rver's credentials). */
  settings(bucket: string): S3Settings;
  /** The S3_* environment variables for a bucket on this server. */
  env(bucket: string): Record<string, string>;
  close(): Promise<void>;
}

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'dreamurl-s3rver-'));
  const server = new S3rver({
    address: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    directory,
    silent: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  atomicPuts(server.store);
  let address;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://${address.address}:${address.port}`;
  return {
    endpoint,
    settings: (bucket) => ({ endpoint, region: 'us-east-1', bucket, credentials: S3RVER_CREDENTIALS, forcePathStyle: true }),
    env: (bucket) => ({
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    }),
    async close() {
      server.httpServer?.closeAllConnections(); // keep-alive sockets of SDK clients would hold close() open
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * S3 and R2 show an object only once its PUT is complete; s3rver writes the object's file in place and
 * its metadata after it, so a GET during a PUT can read a partial or empty object. Here a PUT writes
 * under a staging key beside the real one, then moves the files into place, the object file last
 * (s3rver looks an object up by that file), so a GET sees the old object or the whole new one.
 */
function atomicPuts(store: FilesystemStore): void {
  const put = store.putObject.bind(store);
  store.putObject = async (object) => {
    const key = object.key;
    const staging = `${key}.put-${randomUUID()}`;
    object.key = staging;
    try {
      const result = await put(object);
      for (const resource of ['metadata.json', 'object.md5', 'object']) {
        await rename(store.getResourcePath(object.bucket, staging, resource), store.getResourcePath(object.bucket, key, resource));
      }
      return result;
    } finally {
      object.key = key;
    }
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const bucket = arg('bucket') ?? 'dreamurl-images';
  const s3 = await startS3Server({ port: Number(arg('port') ?? 4569), buckets: [bucket] });
  console.log(`s3rver listening on ${s3.endpoint} with bucket ${bucket}; its data is deleted on exit. For the Node edge:`);
  for (const [name, value] of Object.entries(s3.env(bucket))) console.log(`export ${name}=${value}`);
  const stop = () => void s3.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
