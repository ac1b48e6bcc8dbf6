// The Hono environment of the GPU function's app: per-request variables set by the request-log
// middleware and read by the routes.
export interface RequestVariables {
  /** X-Request-Id as sent (when sane) or a new UUID; echoed on the response and in the log line. */
  readonly requestId: string;
  /** performance.now() when the request arrived: the start of its deadline and its queue time. */
  readonly arrivedAt: number;
  /** Fields the route adds to the request's log line (never the prompt, never a token). */
  readonly logFields: Record<string, unknown>;
}

export interface AppEnv {
  Variables: RequestVariables;
}
