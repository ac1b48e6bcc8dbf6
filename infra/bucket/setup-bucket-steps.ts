// The steps of `npm run infra:bucket`, each one idempotent: make sure the bucket exists, make sure
// pictures may be read cross-origin, and (when asked) make sure old pictures expire. Each step
// reports what it did or, when the store refused, an S3StoreError message saying why.
import {
  type BucketLocationConstraint,
  type CORSRule,
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  type LifecycleRule,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '../../edge/node/s3/s3-image-store';
import { type S3Operation, S3StoreError, s3Failure } from '../../edge/node/s3/s3-errors';
import { corsRulesWith, expireImagesRule, lifecycleRulesWith } from './bucket-rules';

export type StepName = 'bucket' | 'cors' | 'lifecycle';

export interface StepReport {
  readonly step: StepName;
  readonly outcome: 'created' | 'exists' | 'applied' | 'unchanged' | 'failed';
  readonly detail: string;
}

export interface BucketSetupOptions {
  /** Apply the CORS rule. @default true */
  readonly cors?: boolean;
  /** Expire pictures this many days after they were stored; undefined = leave lifecycle alone. */
  readonly expireDays?: number;
}

export async function setupBucket(client: S3Client, settings: S3Settings, options: BucketSetupOptions = {}): Promise<StepReport[]> {
  const reports: StepReport[] = [await step('bucket', () => ensureBucket(client, settings))];
  if (reports[0]?.outcome === 'failed') return reports; // nothing else can work without the bucket
  if (options.cors ?? true) reports.push(await step('cors', () => applyCors(client, settings.bucket)));
  if (options.expireDays !== undefined) {
    const days = options.expireDays;
    reports.push(await step('lifecycle', () => applyLifecycle(client, settings.bucket, days)));
  }
  return reports;
}

async function step(name: StepName, run: () => Promise<Omit<StepReport, 'step'>>): Promise<StepReport> {
  try {
    return { step: name, ...(await run()) };
  } catch (error) {
    return { step: name, outcome: 'failed', detail: error instanceof S3StoreError ? error.message : String(error) };
  }
}

async function ensureBucket(client: S3Client, settings: S3Settings): Promise<Omit<StepReport, 'step'>> {
  const { bucket, region } = settings;
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return { outcome: 'exists', detail: `bucket "${bucket}" exists` };
  } catch (error) {
    if (s3Failure(error).status !== 404) throw new S3StoreError('HeadBucket', bucket, undefined, error);
  }
  // AWS needs the region as LocationConstraint outside us-east-1 (where it must be absent); R2 calls
  // its only region "auto" and treats us-east-1 the same.
  const located = region !== 'us-east-1' && region !== 'auto';
  await call('CreateBucket', bucket, () =>
    client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: located ? { LocationConstraint: region as BucketLocationConstraint } : undefined,
      }),
    ),
  );
  return { outcome: 'created', detail: `bucket "${bucket}" created${located ? ` in ${region}` : ''}` };
}

async function applyCors(client: S3Client, bucket: string): Promise<Omit<StepReport, 'step'>> {
  let existing: CORSRule[] = [];
  try {
    existing = (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? [];
  } catch (error) {
    if (s3Failure(error).code !== 'NoSuchCORSConfiguration') throw new S3StoreError('GetBucketCors', bucket, undefined, error);
  }
  const rules = corsRulesWith(existing);
  if (rules === null) return { outcome: 'unchanged', detail: 'a rule already allows GET and HEAD from any origin' };
  await call('PutBucketCors', bucket, () => client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } })));
  const kept = existing.length === 0 ? '' : ` (${existing.length} existing rule${existing.length === 1 ? '' : 's'} kept)`;
  return { outcome: 'applied', detail: `GET and HEAD allowed from any origin${kept}` };
}

async function applyLifecycle(client: S3Client, bucket: string, days: number): Promise<Omit<StepReport, 'step'>> {
  let existing: LifecycleRule[] = [];
  try {
    existing = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (error) {
    if (s3Failure(error).code !== 'NoSuchLifecycleConfiguration') {
      throw new S3StoreError('GetBucketLifecycleConfiguration', bucket, undefined, error);
    }
  }
  const rules = lifecycleRulesWith(existing, expireImagesRule(days));
  if (rules === null) return { outcome: 'unchanged', detail: `pictures already expire ${days} days after they were stored` };
  await call('PutBucketLifecycleConfiguration', bucket, () =>
    client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } })),
  );
  const kept = rules.length - 1;
  return { outcome: 'applied', detail: `images/ expire ${days} days after they were stored${kept > 0 ? ` (${kept} other rule${kept === 1 ? '' : 's'} kept)` : ''}` };
}

async function call(operation: S3Operation, bucket: string, send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch (error) {
    throw new S3StoreError(operation, bucket, undefined, error);
  }
}
