// RFC 9457 problem details, the one error shape of both services: the schema clients and tests parse,
// ProblemError (what code throws), problemResponse (what each service's single onError answers), and
// the problems both answer alike. Types are RFC 9457 §3.1.1 URI references: each service names its
// own as URNs after the docs section that explains them (`urn:dreamurl:problem:…` on the edge,
// `urn:dreamurl:gpu-function:problem:…`); plain HTTP statuses use "about:blank" (§4.2.1).
import { z } from 'zod';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The GPU function's `413`: the request alone is estimated to take longer than its deadline there (its
 * docs' *Deadline admission*). Shared because the edge tells it apart from a body-size `413`: it is the
 * client's to fix (fewer steps or pixels), not a fault of the GPU function.
 */
export const GPU_TOO_LONG_FOR_DEADLINE_TYPE = 'urn:dreamurl:gpu-function:problem:too-long-for-deadline';

/** One bad query parameter or body field, as listed in a 400 problem's `errors` member. */
export const paramErrorSchema = z.object({ param: z.string(), message: z.string() });
export type ParamError = Readonly<z.infer<typeof paramErrorSchema>>;

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  errors: z.array(paramErrorSchema).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

/** RFC 9457 §3 members plus our `errors` extension, and the headers that travel with them. */
export interface ProblemInit extends Problem {
  /** Sent as `Retry-After` (RFC 9110 §10.2.3) where a later retry may succeed. */
  readonly retryAfterSeconds?: number;
  /** Extra response headers (RateLimit fields, WWW-Authenticate, Allow). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The one error type: anything that should reach the client as an error is thrown as a ProblemError.
 * Its `problem` is plain JSON, so it also crosses Durable Object RPC and worker threads intact.
 */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly problem: ProblemInit;

  constructor(problem: ProblemInit, options?: { cause?: unknown }) {
    super(problem.detail ?? problem.title, options);
    this.problem = problem;
  }
}

/**
 * `application/problem+json`, never cached: errors depend on load, limits and configuration, not only
 * on the URL. `baseHeaders` are the service's own (the edge's CORS fields); the problem's win.
 */
export function problemResponse(problem: ProblemInit, baseHeaders: Readonly<Record<string, string>> = {}): Response {
  const { retryAfterSeconds, headers: extra, ...body } = problem;
  const headers = new Headers({
    ...baseHeaders,
    ...extra,
    'Content-Type': PROBLEM_CONTENT_TYPE,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (retryAfterSeconds !== undefined) headers.set('Retry-After', String(Math.max(0, Math.ceil(retryAfterSeconds))));
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}

/** 400 listing every bad parameter; `kind` says where they came from (the edge's query, a GPU body). */
export function invalidParams(
  kind: { readonly type: string; readonly title: string },
  errors: readonly ParamError[],
): ProblemError {
  return new ProblemError({
    ...kind,
    status: 400,
    detail: errors.map((e) => `${e.param}: ${e.message}`).join('; '),
    errors: [...errors],
  });
}

export interface ParamNames {
  /** The message for a member the schema does not know. */
  readonly unknown: string;
  /** The param named by an issue about the whole input (`query`, `body`). */
  readonly whole: string;
}

/** A zod error as the `errors` of a 400: one entry per issue, and one per unknown member. */
export function paramErrorsFrom(error: z.ZodError, names: ParamNames): ParamError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ param: [...issue.path, key].join('.'), message: names.unknown }))
      : [{ param: issue.path.length > 0 ? issue.path.join('.') : names.whole, message: issue.message }],
  );
}

export function notFound(detail: string): ProblemError {
  return new ProblemError({ type: 'about:blank', title: 'Not Found', status: 404, detail });
}

/** A known path with the wrong method: 405 with Allow (RFC 9110 §15.5.6). */
export function methodNotAllowed(allow: string): ProblemError {
  return new ProblemError({
    type: 'about:blank',
    title: 'Method Not Allowed',
    status: 405,
    detail: `Use ${allow}.`,
    headers: { Allow: allow },
  });
}

/** Our bug (or a binding failing): a bare 500 that reveals nothing internal; the log has the cause. */
export function internalError(): ProblemError {
  return new ProblemError({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
}
