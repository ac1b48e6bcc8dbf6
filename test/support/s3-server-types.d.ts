// Types for s3rver 3.7 (a devDependency without its own), covering what test/support/s3-server.ts uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  import type { Server } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    /** Where buckets and objects are kept on disk. */
    directory?: string;
    silent?: boolean;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /** The object an upload hands to the store (s3rver's S3Object). */
  interface StoredObject {
    bucket: string;
    key: string;
  }

  /** s3rver's FilesystemStore: objects are files named after their key and a resource suffix. */
  interface FilesystemStore {
    putObject(object: StoredObject): Promise<unknown>;
    getResourcePath(bucket: string, key: string, resource: string): string;
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    readonly httpServer?: Server;
    readonly store: FilesystemStore;
  }
}
