// `npm run infra:bucket [-- --expire-days N] [-- --no-cors]`: prepares the bucket the Node edge (or
// anything serving the pictures straight from the bucket) uses, through the S3 API, from the same
// S3_* variables as the edge (docs/storage.md): creates it if missing, allows GET/HEAD from any
// origin (CORS), and with --expire-days adds a rule deleting pictures N days after they were stored.
// Safe to run again. Exit status: 0 done, 1 a step failed (the line says why), 2 bad usage.
import { parseArgs } from 'node:util';
import { issueLines } from '../../contract';
import { s3EnvSchema } from '../../edge/node/node-config';
import { createS3Client } from '../../edge/node/s3/s3-image-store';
import { setupBucket, type StepReport } from './setup-bucket-steps';

const USAGE = `usage: npm run infra:bucket [-- --expire-days N] [-- --no-cors]

Reads S3_BUCKET, S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_FORCE_PATH_STYLE.
  --expire-days N   delete pictures N days after they were stored (a lifecycle rule on images/)
  --no-cors         leave CORS alone (e.g. MinIO, which configures CORS server-wide)`;

/** What to tell an operator when a store does not implement a step (see docs/storage.md). */
const NOT_IMPLEMENTED_ADVICE: Record<string, string> = {
  cors: 'configure CORS where the store allows it (MinIO: MINIO_API_CORS_ALLOW_ORIGIN, "*" by default; R2: `npx wrangler r2 bucket cors set`), then run again with --no-cors',
  lifecycle: 'configure expiry where the store allows it (R2: `npx wrangler r2 bucket lifecycle add`; MinIO: `mc ilm rule add --expire-days`)',
};

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: [...argv],
      options: { 'expire-days': { type: 'string' }, 'no-cors': { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const expireDays = flags['expire-days'] === undefined ? undefined : Number(flags['expire-days']);
  if (expireDays !== undefined && (!Number.isSafeInteger(expireDays) || expireDays < 1)) {
    console.error(`--expire-days must be a whole number of days ≥ 1\n\n${USAGE}`);
    return 2;
  }
  const parsed = s3EnvSchema.safeParse(env);
  if (!parsed.success) {
    console.error(`invalid settings:\n  ${issueLines(parsed.error).join('\n  ')}`);
    return 2;
  }
  const settings = parsed.data;
  console.log(`bucket "${settings.bucket}" at ${settings.endpoint ?? `AWS S3 (${settings.region})`}`);

  const client = createS3Client(settings);
  let reports: StepReport[];
  try {
    reports = await setupBucket(client, settings, { cors: !flags['no-cors'], expireDays });
  } finally {
    client.destroy();
  }
  for (const report of reports) {
    const line = `${report.step}: ${report.outcome} — ${report.detail}`;
    if (report.outcome !== 'failed') console.log(line);
    else {
      const advice = report.detail.includes('NotImplemented') ? NOT_IMPLEMENTED_ADVICE[report.step] : undefined;
      console.error(advice === undefined ? line : `${line}\n  ${advice}`);
    }
  }
  return reports.some((r) => r.outcome === 'failed') ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2), process.env);
