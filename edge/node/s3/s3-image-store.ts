// ImageStore on any S3-compatible store (AWS S3, R2's S3 API, MinIO, Ceph) through @aws-sdk/client-s3,
// and the client built from the S3_* settings (shared with `npm run infra:bucket`). The Node edge's
// counterpart of edge/cloudflare/storage.ts's R2ImageStore, with the same object names
// (`images/<key>.png`), Content-Type, Cache-Control and metadata (encoded for HTTP headers by
// s3-metadata.ts). PNGs are small: one PutObject, no multipart. A missing object is null; every other
// failure is an S3StoreError naming the cause.
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  type ImageMetadata,
  type ImageStore,
  IMMUTABLE_CACHE_CONTROL,
  imageObjectKey,
  type StoredImage,
  type StoredImageInfo,
} from '../../storage';
import { isMissingObject, S3StoreError, s3Failure } from './s3-errors';
import { decodeS3Metadata, encodeS3Metadata } from './s3-metadata';

export class S3ImageStore implements ImageStore {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  async get(key: string): Promise<StoredImage | null> {
    const objectKey = imageObjectKey(key);
    try {
      const object = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: objectKey }));
      if (object.Body === undefined) throw new Error('the answer had no body');
      return {
        body: object.Body.transformToWebStream(),
        size: object.ContentLength ?? 0,
        metadata: decodeS3Metadata(object.Metadata),
      };
    } catch (error) {
      if (isMissingObject(s3Failure(error), 'GetObject')) return null;
      throw new S3StoreError('GetObject', this.#bucket, objectKey, error);
    }
  }

  async head(key: string): Promise<StoredImageInfo | null> {
    const objectKey = imageObjectKey(key);
    try {
      const object = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: objectKey }));
      return { size: object.ContentLength ?? 0, metadata: decodeS3Metadata(object.Metadata) };
    } catch (error) {
      if (isMissingObject(s3Failure(error), 'HeadObject')) return null;
      throw new S3StoreError('HeadObject', this.#bucket, objectKey, error);
    }
  }

  async put(key: string, png: Uint8Array, metadata: ImageMetadata): Promise<void> {
    const objectKey = imageObjectKey(key);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: objectKey,
          Body: png,
          ContentLength: png.byteLength,
          ContentType: 'image/png',
          CacheControl: IMMUTABLE_CACHE_CONTROL,
          Metadata: encodeS3Metadata(metadata),
        }),
      );
    } catch (error) {
      throw new S3StoreError('PutObject', this.#bucket, objectKey, error);
    }
  }
}

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
