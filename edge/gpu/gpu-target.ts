// Where and how to call the GPU function for one generation. Plain data, so a generation job can be
// handed to a Durable Object over RPC.
export interface GpuTarget {
  /** Base URL; `/v1/generate` is appended. */
  readonly url: string;
  /** Sent as `Authorization: Bearer …` when set. */
  readonly token: string | undefined;
  /** `<repo>@<revision>` of the profile: any other X-Model is refused. */
  readonly expectedModel: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryMaxWaitMs: number;
}
