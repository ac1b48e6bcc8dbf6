// The bucket rules dreamurl asks for, and how they join rules already on the bucket. PutBucketCors
// and PutBucketLifecycleConfiguration replace the whole configuration, so existing rules are read
// and kept (R2, for one, starts every bucket with a lifecycle rule that aborts multipart uploads
// after 7 days). Pure functions: infra/bucket/setup-bucket-steps.ts does the S3 calls.
import type { CORSRule, LifecycleRule } from '@aws-sdk/client-s3';

/**
 * Pictures fetched straight from the bucket (a public R2 bucket or custom domain, S3 behind
 * CloudFront) must embed anywhere, as the edge's own answers do: GET and HEAD from any origin, any
 * request header (If-None-Match needs a preflight), the ETag readable by scripts. A day is the
 * longest preflight cache R2 accepts; browsers cap it lower anyway.
 */
export const DREAMURL_CORS_RULE: CORSRule = Object.freeze({
  AllowedOrigins: ['*'],
  AllowedMethods: ['GET', 'HEAD'],
  AllowedHeaders: ['*'],
  ExposeHeaders: ['ETag'],
  MaxAgeSeconds: 86_400,
});

export const LIFECYCLE_RULE_ID = 'dreamurl-expire-images';

/** Deletes pictures `days` after they were stored; a later request simply generates the same picture again. */
export function expireImagesRule(days: number): LifecycleRule {
  if (!Number.isSafeInteger(days) || days < 1) throw new RangeError(`expiry must be a whole number of days ≥ 1, got ${days}`);
  return { ID: LIFECYCLE_RULE_ID, Status: 'Enabled', Filter: { Prefix: 'images/' }, Expiration: { Days: days } };
}

/** The CORS rules to put, or null when an existing rule already allows what ours would. */
export function corsRulesWith(existing: readonly CORSRule[]): CORSRule[] | null {
  const covered = existing.some(
    (rule) =>
      (rule.AllowedOrigins ?? []).includes('*') &&
      ['GET', 'HEAD'].every((method) => (rule.AllowedMethods ?? []).map((m) => m.toUpperCase()).includes(method)),
  );
  return covered ? null : [...existing, { ...DREAMURL_CORS_RULE }];
}

/** The lifecycle rules to put (others kept, ours replaced by ID), or null when ours is already there as is. */
export function lifecycleRulesWith(existing: readonly LifecycleRule[], ours: LifecycleRule): LifecycleRule[] | null {
  const current = existing.find((rule) => rule.ID === ours.ID);
  if (current !== undefined && sameLifecycleRule(current, ours)) return null;
  return [...existing.filter((rule) => rule.ID !== ours.ID), ours];
}

function sameLifecycleRule(a: LifecycleRule, b: LifecycleRule): boolean {
  return a.Status === b.Status && a.Filter?.Prefix === b.Filter?.Prefix && a.Expiration?.Days === b.Expiration?.Days;
}
