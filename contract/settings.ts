// How both services read their settings (environment variables, Worker vars, config files): a blank
// value is no value, and a mistake is reported by the setting's name, never by its value, since some
// settings are secrets (GPU_FUNCTION_TOKEN, URL_SIGNING_KEY, HF_TOKEN, S3_SECRET_ACCESS_KEY).
import type { z } from 'zod';

/**
 * '' (or only white space) and null count as unset: most platforms cannot remove a variable once a
 * template defines it, and an empty line in .dev.vars means "none", not "the empty string".
 */
export function unsetIfBlank<T>(value: T): Exclude<T, null> | undefined {
  if (value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
  return value as Exclude<T, null>;
}

/** zod issues as `NAME: message` lines; `whole` names an issue about the input as a whole. */
export function issueLines(error: z.ZodError, whole = '(root)'): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || whole}: ${issue.message}`);
}
