// `npm run infra:bucket` against a real S3-compatible server (s3rver): it creates the bucket, adds the
// CORS rule without dropping others, is safe to run again, and says plainly what a store refused.
// s3rver implements CORS (and serves objects by it) but not lifecycle configuration, so the
// lifecycle rule is pinned as data (bucket-rules.ts) and its S3 call only as the clear refusal.
import { spawn } from 'node:child_process';
import { GetBucketCorsCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corsRulesWith, DREAMURL_CORS_RULE, expireImagesRule, lifecycleRulesWith } from '../../infra/bucket/bucket-rules';
import { setupBucket } from '../../infra/bucket/setup-bucket-steps';
import { createS3Client } from '../../edge/node/s3/s3-image-store';
import { S3ImageStore } from '../../edge/node/s3/s3-image-store';
import { startS3Server, type S3TestServer } from '../support/s3-server';

let s3: S3TestServer;
let client: S3Client;

beforeAll(async () => {
  s3 = await startS3Server(); // no buckets: the tool makes them
  client = createS3Client(s3.settings('unused'));
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

describe('bucket rules', () => {
  const adminUploads = { AllowedOrigins: ['https://admin.example'], AllowedMethods: ['PUT'], AllowedHeaders: ['*'] };
  // R2 gives every bucket this rule (docs: "Buckets have a default lifecycle rule…").
  const abortMultipart = { ID: 'Default Multipart Abort Rule', Status: 'Enabled' as const, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } };

  it('adds the CORS rule after the ones already there, or nothing when one already allows GET and HEAD from anywhere', () => {
    expect(corsRulesWith([])).toEqual([DREAMURL_CORS_RULE]);
    expect(corsRulesWith([adminUploads])).toEqual([adminUploads, DREAMURL_CORS_RULE]);
    expect(corsRulesWith([{ AllowedOrigins: ['*'], AllowedMethods: ['get', 'HEAD', 'PUT'] }])).toBeNull();
    expect(corsRulesWith([{ AllowedOrigins: ['https://a.example'], AllowedMethods: ['GET', 'HEAD'] }])).toHaveLength(2);
  });

  it('expires images/ after N days, keeping other lifecycle rules and replacing only its own', () => {
    const ours = expireImagesRule(30);
    expect(ours).toEqual({ ID: 'dreamurl-expire-images', Status: 'Enabled', Filter: { Prefix: 'images/' }, Expiration: { Days: 30 } });
    expect(lifecycleRulesWith([abortMultipart], ours)).toEqual([abortMultipart, ours]);
    expect(lifecycleRulesWith([abortMultipart, ours], expireImagesRule(30))).toBeNull();
    expect(lifecycleRulesWith([ours, abortMultipart], expireImagesRule(7))).toEqual([abortMultipart, expireImagesRule(7)]);
    expect(() => expireImagesRule(0)).toThrow(RangeError);
  });
});

describe('setupBucket on s3rver', () => {
  it('creates the bucket and applies CORS; the store then serves pictures cross-origin; a second run changes nothing', async () => {
    const settings = s3.settings('dreamurl-fresh');
    expect(await setupBucket(client, settings)).toEqual([
      { step: 'bucket', outcome: 'created', detail: 'bucket "dreamurl-fresh" created' },
      { step: 'cors', outcome: 'applied', detail: 'GET and HEAD allowed from any origin' },
    ]);
    const cors = await client.send(new GetBucketCorsCommand({ Bucket: 'dreamurl-fresh' }));
    expect(cors.CORSRules).toEqual([DREAMURL_CORS_RULE]);

    await new S3ImageStore(client, 'dreamurl-fresh').put('f'.repeat(64), Uint8Array.of(1, 2, 3), { seed: '1' });
    const res = await fetch(`${s3.endpoint}/dreamurl-fresh/images/${'f'.repeat(64)}.png`, { headers: { Origin: 'https://blog.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(res.headers.get('Access-Control-Expose-Headers')).toBe('ETag');
    await res.arrayBuffer();

    expect(await setupBucket(client, settings)).toEqual([
      { step: 'bucket', outcome: 'exists', detail: 'bucket "dreamurl-fresh" exists' },
      { step: 'cors', outcome: 'unchanged', detail: 'a rule already allows GET and HEAD from any origin' },
    ]);
  });

  it('keeps CORS rules that were already on the bucket', async () => {
    const settings = s3.settings('dreamurl-with-rules');
    await setupBucket(client, settings, { cors: false });
    const admin = { AllowedOrigins: ['https://admin.example'], AllowedMethods: ['PUT'], AllowedHeaders: ['*'] };
    await client.send(new PutBucketCorsCommand({ Bucket: 'dreamurl-with-rules', CORSConfiguration: { CORSRules: [admin] } }));
    const [, cors] = await setupBucket(client, settings);
    expect(cors).toEqual({ step: 'cors', outcome: 'applied', detail: 'GET and HEAD allowed from any origin (1 existing rule kept)' });
    expect((await client.send(new GetBucketCorsCommand({ Bucket: 'dreamurl-with-rules' }))).CORSRules).toEqual([admin, DREAMURL_CORS_RULE]);
  });

  it('reports a store without lifecycle support as a failed step, naming the operation', async () => {
    const reports = await setupBucket(client, s3.settings('dreamurl-lifecycle'), { expireDays: 30 });
    expect(reports.map((r) => [r.step, r.outcome])).toEqual([['bucket', 'created'], ['cors', 'applied'], ['lifecycle', 'failed']]);
    expect(reports[2]?.detail).toBe(
      'S3 GetBucketLifecycleConfiguration on bucket "dreamurl-lifecycle" failed: NotImplemented (HTTP 501) — this store does not implement the operation',
    );
  });
});

describe('npm run infra:bucket (infra/bucket/setup-bucket.ts)', () => {
  // Asynchronous on purpose: s3rver runs in this process, so a blocking spawnSync would deadlock.
  function run(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/bucket/setup-bucket.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => void (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => void (stderr += text));
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  }

  it('prepares the bucket from the S3_* variables and exits 0', async () => {
    const { status, stdout } = await run([], s3.env('dreamurl-cli'));
    expect(status).toBe(0);
    expect(stdout).toBe(
      `bucket "dreamurl-cli" at ${s3.endpoint}\n` +
        'bucket: created — bucket "dreamurl-cli" created\n' +
        'cors: applied — GET and HEAD allowed from any origin\n',
    );
  });

  it('exits 1 when a step fails, with what to do instead', async () => {
    const { status, stderr } = await run(['--expire-days', '30'], s3.env('dreamurl-cli'));
    expect(status).toBe(1);
    expect(stderr).toContain('lifecycle: failed — S3 GetBucketLifecycleConfiguration on bucket "dreamurl-cli" failed: NotImplemented');
    expect(stderr).toContain('npx wrangler r2 bucket lifecycle add');
  });

  it('exits 1 on refused credentials, naming the settings to check', async () => {
    const { status, stderr } = await run([], { ...s3.env('dreamurl-cli'), S3_ACCESS_KEY_ID: 'NOT-A-KEY' });
    expect(status).toBe(1);
    expect(stderr).toMatch(/^bucket: failed — S3 HeadBucket on bucket "dreamurl-cli" failed: .*HTTP 403.*S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY/m);
  });

  it.each([
    ['an expiry that is not a whole number of days', ['--expire-days', '0'], {}, '--expire-days must be a whole number of days ≥ 1'],
    ['an unknown flag', ['--expire'], {}, "Unknown option '--expire'"],
    ['a missing bucket name', [], { S3_BUCKET: '' }, 'S3_BUCKET: is required'],
  ])('exits 2 on %s', async (_label, args, vars, message) => {
    const { status, stderr } = await run(args, { ...s3.env('dreamurl-cli'), ...vars });
    expect(status).toBe(2);
    expect(stderr).toContain(message);
  });
});
