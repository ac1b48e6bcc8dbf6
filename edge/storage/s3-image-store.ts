// ImageStore on any S3-compatible store through @aws-sdk/client-s3 — the Node edge's counterpart of
// r2-image-store.ts, with the same object names (`images/<key>.png`), Content-Type, Cache-Control
// and metadata (encoded for HTTP headers by s3-metadata.ts). PNGs are small: one PutObject, no
// multipart. A missing object is null; every other failure is an S3StoreError naming the cause.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isMissingObject, S3StoreError, s3Failure } from './s3-errors';
import { decodeS3Metadata, encodeS3Metadata } from './s3-metadata';
import {
  type ImageMetadata,
  type ImageStore,
  IMMUTABLE_CACHE_CONTROL,
  imageObjectKey,
  type StoredImage,
  type StoredImageInfo,
} from './image-store';

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
