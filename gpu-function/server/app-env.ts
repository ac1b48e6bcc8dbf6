// The Hono environment of the GPU function's app: per-request variables set by the request-log
// middleware and read by the routes.
export interface RequestVariables {
  /** X-Request-Id as sent (when sane) or a new UUID; echoed on the response and in the log line. */
  readonly requestId: string;
  /** performance.now() when the request arrived: the start of its deadline and its queue time. */
  readonly arrivedAt: number;
  /** Fields the route adds to the request's log line (never the prompt, never a token). */
  readonly logFields: Record<string, unknown>;
  /**
   * Set by a route that answers with a stream whose outcome comes later (the progress stream): settles
   * with the status its plain answer would have had, and the log line and count wait for it.
   */
  readonly streamStatus?: Promise<number>;
}

export interface AppEnv {
  Variables: RequestVariables;
}
