// The S3_* environment variables (docs/storage.md), parsed with zod into S3Settings. Shared by the
// Node edge (node-config.ts) and `npm run infra:bucket`, so both read a store the same way.
import { z } from 'zod';
import { unsetIfBlank } from '../../contract';
import type { S3Settings } from '../storage/s3-client';

const optionalText = z.preprocess(unsetIfBlank, z.string().optional());

/** true/false, 1/0, yes/no in any letter case; unset or empty = false. */
export const flag = z.preprocess(
  (value) => (typeof value === 'string' ? unsetIfBlank(value.trim().toLowerCase()) : value),
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
);

export const s3EnvSchema = z
  .object({
    S3_ENDPOINT: z.preprocess(unsetIfBlank, z.url({ protocol: /^https?$/ }).optional()),
    S3_REGION: z.preprocess(
      unsetIfBlank,
      z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as us-east-1 or auto').default('us-east-1'),
    ),
    // AWS bucket naming rules (3–63 of a-z 0-9 . -); every S3-compatible store accepts these.
    S3_BUCKET: z.preprocess(
      unsetIfBlank,
      z.string({ message: 'is required' }).regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name: 3–63 of a-z, 0-9, ".", "-"'),
    ),
    S3_ACCESS_KEY_ID: optionalText,
    S3_SECRET_ACCESS_KEY: optionalText,
    S3_FORCE_PATH_STYLE: flag,
  })
  .refine((v) => (v.S3_ACCESS_KEY_ID === undefined) === (v.S3_SECRET_ACCESS_KEY === undefined), {
    path: ['S3_SECRET_ACCESS_KEY'],
    message: 'set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (the AWS default credential chain)',
  })
  .transform(
    (v): S3Settings =>
      Object.freeze({
        endpoint: v.S3_ENDPOINT,
        region: v.S3_REGION,
        bucket: v.S3_BUCKET,
        credentials:
          v.S3_ACCESS_KEY_ID === undefined || v.S3_SECRET_ACCESS_KEY === undefined
            ? undefined
            : Object.freeze({ accessKeyId: v.S3_ACCESS_KEY_ID, secretAccessKey: v.S3_SECRET_ACCESS_KEY }),
        forcePathStyle: v.S3_FORCE_PATH_STYLE,
      }),
  );
