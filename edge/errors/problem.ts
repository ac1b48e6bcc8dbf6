// The one error type of the edge. Anything that should reach the client as an error is thrown as a
// ProblemError and turned into RFC 9457 problem details by the app's single onError handler
// (edge/errors/on-error.ts). Its `problem` is plain JSON, so it also crosses Durable Object RPC intact.
import type { Problem } from '../../gpu-function/contract';

/** One bad query parameter, as listed in a 400 problem's `errors` member. */
export interface ParamError {
  readonly param: string;
  readonly message: string;
}

/** RFC 9457 §3 members plus our `errors` extension, and the headers that travel with them. */
export interface ProblemInit extends Problem {
  /** Sent as `Retry-After` (RFC 9110 §10.2.3) where a later retry may succeed. */
  readonly retryAfterSeconds?: number;
  /** Extra response headers (e.g. RateLimit fields, WWW-Authenticate). */
  readonly headers?: Readonly<Record<string, string>>;
}

export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly problem: ProblemInit;

  constructor(problem: ProblemInit, options?: { cause?: unknown }) {
    super(problem.detail ?? problem.title, options);
    this.problem = problem;
  }
}

/** Problem type URIs are URNs named after the docs/edge-api.md section that explains them. */
export function problemType(slug: string): string {
  return `urn:dreamurl:problem:${slug}`;
}
