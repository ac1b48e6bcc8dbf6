// What went wrong talking to an S3-compatible store, in words an operator can act on. The SDK's
// errors carry the S3 error code (absent for HEAD requests, which have no body) and the HTTP
// status; network failures carry a Node error code instead. Messages name settings, never values.

export interface S3Failure {
  /** S3 error code (`NoSuchBucket`), SDK error name (`TimeoutError`) or Node code (`ECONNREFUSED`). */
  readonly code: string;
  readonly status: number | undefined;
  readonly message: string;
}

export type S3Operation =
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'HeadBucket'
  | 'CreateBucket'
  | 'PutBucketCors'
  | 'GetBucketCors'
  | 'PutBucketLifecycleConfiguration'
  | 'GetBucketLifecycleConfiguration';

export function s3Failure(error: unknown): S3Failure {
  if (!(error instanceof Error)) return { code: 'Unknown', status: undefined, message: String(error) };
  const { $metadata, code, Code } = error as Error & { $metadata?: { httpStatusCode?: number }; code?: unknown; Code?: unknown };
  const status = $metadata?.httpStatusCode;
  // A HEAD error has no body, so the SDK can only name it by status (`NotFound`, or `Unknown`).
  const named = typeof Code === 'string' ? Code : typeof code === 'string' ? code : error.name;
  return { code: named === 'Error' ? 'Unknown' : named, status, message: error.message };
}

export function isMissingObject(failure: S3Failure, operation: 'GetObject' | 'HeadObject'): boolean {
  // GetObject tells a missing key (NoSuchKey) from a missing bucket (NoSuchBucket); HeadObject
  // cannot (both are a bare 404), which is why the Node edge checks the bucket once at start.
  return operation === 'GetObject' ? failure.code === 'NoSuchKey' : failure.status === 404;
}

/**
 * True for failures no retry will fix (no such bucket, refused credentials, wrong region): the
 * settings are wrong. Unreachable or failing stores may recover, so they are not.
 */
export function isMisconfiguration(failure: S3Failure): boolean {
  const codes = ['NoSuchBucket', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'PermanentRedirect', 'AuthorizationHeaderMalformed'];
  return codes.includes(failure.code) || failure.status === 301 || failure.status === 403 || failure.status === 404;
}

/** One sentence on the likely cause, or undefined when the code says it all. */
export function s3Hint(failure: S3Failure, operation: S3Operation): string | undefined {
  switch (failure.code) {
    case 'NoSuchBucket':
      return 'the bucket does not exist (check S3_BUCKET, S3_ENDPOINT and S3_REGION, or run npm run infra:bucket)';
    case 'InvalidAccessKeyId':
      return 'this endpoint does not know the access key (check S3_ACCESS_KEY_ID and that S3_ENDPOINT is the store it belongs to)';
    case 'SignatureDoesNotMatch':
      return 'the secret does not match the access key (check S3_SECRET_ACCESS_KEY)';
    case 'AccessDenied':
      return accessDeniedHint(operation);
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
    case 'IllegalLocationConstraintException':
      return 'the bucket is in another region than S3_REGION';
    case 'NotImplemented':
      return 'this store does not implement the operation';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
    case 'TimeoutError':
      return 'the store cannot be reached (check S3_ENDPOINT and the network)';
  }
  if (failure.status === 404 && operation === 'HeadBucket') return s3Hint({ ...failure, code: 'NoSuchBucket' }, operation);
  if (failure.status === 403) return `${accessDeniedHint(operation)}; or the credentials are wrong (S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY)`;
  if (failure.status === 301) return s3Hint({ ...failure, code: 'PermanentRedirect' }, operation);
  if (failure.status !== undefined && failure.status >= 500) return 'the store is failing or throttling (the SDK already retried)';
  return undefined;
}

function accessDeniedHint(operation: S3Operation): string {
  return operation === 'GetObject' || operation === 'HeadObject'
    ? 'access denied: the credentials need s3:GetObject, and s3:ListBucket so that a missing picture is a 404 rather than a 403'
    : `access denied: the credentials lack the permission for ${operation}`;
}

/** An S3 call that failed, with the bucket, object and cause in the message. */
export class S3StoreError extends Error {
  override readonly name = 'S3StoreError';
  readonly operation: S3Operation;
  readonly failure: S3Failure;

  constructor(operation: S3Operation, bucket: string, objectKey: string | undefined, error: unknown) {
    const failure = s3Failure(error);
    const target = objectKey === undefined ? `bucket "${bucket}"` : `s3://${bucket}/${objectKey}`;
    const status = failure.status === undefined ? '' : ` (HTTP ${failure.status})`;
    const hint = s3Hint(failure, operation);
    super(`S3 ${operation} on ${target} failed: ${failure.code}${status}${hint === undefined ? '' : ` — ${hint}`}`, { cause: error });
    this.operation = operation;
    this.failure = failure;
  }
}
