// The S3 client for any S3-compatible store (AWS S3, R2's S3 API, MinIO, Ceph), built from the
// S3_* settings. Shared by the Node edge (s3-image-store.ts) and `npm run infra:bucket`.
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3StoreError } from './s3-errors';

export interface S3Settings {
  /** `https://<account>.r2.cloudflarestorage.com`, `http://127.0.0.1:9000`…; undefined = AWS for `region`. */
  readonly endpoint: string | undefined;
  /** AWS region of the bucket; `auto` on R2 (which also accepts `us-east-1`). */
  readonly region: string;
  readonly bucket: string;
  /** undefined = the SDK's default chain (AWS_* variables, profiles, instance or task roles). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint>/<key>` (MinIO, most self-hosted stores). */
  readonly forcePathStyle: boolean;
}

export interface S3ClientTuning {
  /** Attempts per call, first included (the SDK's standard retry with backoff). @default 3 */
  readonly maxAttempts?: number;
  /** Abandon a connection attempt after this long. @default 5000 */
  readonly connectionTimeoutMs?: number;
  /** Abandon a request whose answer takes longer. @default 30000 */
  readonly requestTimeoutMs?: number;
}

export function createS3Client(settings: S3Settings, tuning: S3ClientTuning = {}): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.credentials === undefined ? undefined : { ...settings.credentials },
    maxAttempts: tuning.maxAttempts ?? 3,
    // Since @aws-sdk/client-s3 3.729 the SDK adds CRC32 checksum headers to every upload; R2 and
    // other S3-compatible stores answer those with 501 NotImplemented. Only send them where the
    // operation requires one (PutBucketCors, PutBucketLifecycleConfiguration); SigV4 still signs
    // the payload's sha256 and the edge checked the PNG itself before storing it.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: tuning.connectionTimeoutMs ?? 5_000,
      requestTimeout: tuning.requestTimeoutMs ?? 30_000,
      // Without it a request timeout is only a logged warning and the call hangs on.
      throwOnRequestTimeout: true,
    },
  });
}

/** Resolves when the bucket exists and the credentials may use it; otherwise an S3StoreError saying why. */
export async function checkBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    throw new S3StoreError('HeadBucket', bucket, undefined, error);
  }
}
