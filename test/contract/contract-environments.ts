// The settings the contract cases run under, shared by both runtimes. `worker` is exactly what the
// edge project gives the Worker (test/edge/vitest.config.mts; the workerd runner checks that it still
// is); the others change a few settings on top. Plain data: this file is compiled for workerd too.

/** What the GPU stub answers as (X-Model), and so what the default profile pins. */
export const CONTRACT_STUB_MODEL = 'tiny-sd@local-0123456789abcdef';

/** The Worker's vars in the edge test project, for a GPU stub at `gpuStubUrl`. */
export function contractVars(gpuStubUrl: string): Record<string, string> {
  const [repo, revision] = CONTRACT_STUB_MODEL.split('@');
  return {
    GPU_FUNCTION_URL: gpuStubUrl,
    GPU_TIMEOUT_MS: '10000',
    GPU_RETRY_MAX_WAIT_MS: '2000',
    RATE_LIMIT_PER_MINUTE: '0',
    MODELS: JSON.stringify(contractModels(gpuStubUrl, repo ?? '', revision ?? '')),
  };
}

function contractModels(gpuStubUrl: string, repo: string, revision: string): unknown[] {
  return [
    {
      name: 'tiny-sd',
      repo,
      revision,
      default: true,
      defaults: { steps: 4, guidance: 7.5, scheduler: 'pndm', width: 64, height: 64 },
      limits: { min_side: 32, max_side: 256, side_multiple: 8, max_steps: 50 },
    },
    {
      name: 'other',
      repo: 'acme/other',
      revision: '0123abcd',
      defaults: { steps: 10, guidance: 5, scheduler: 'euler', width: 96, height: 64 },
      // Cost limits: at most 128 × 96 pixels, and the default 96 × 64 at most 15 steps.
      limits: { min_side: 64, max_side: 128, side_multiple: 16, max_steps: 20, max_pixels: 12_288, max_pixel_steps: 92_160 },
      gpu_function_url: `${gpuStubUrl}/as/${encodeURIComponent('acme/other@0123abcd')}`,
    },
  ];
}

export const CONTRACT_SIGNING_KEY = 'contract-signing-key, at least 32 bytes';
export const CONTRACT_API_KEY = 'contract-api-key-1';
/** The `limited` environment's key for the cost case alone, so no other case spends its bucket. */
export const CONTRACT_COST_API_KEY = 'contract-api-key-3';
/** The `limited` environment's key for the cost-limit case alone. */
export const CONTRACT_LIMIT_API_KEY = 'contract-api-key-4';

/** Settings changed on top of `worker`, by environment name. */
export const CONTRACT_ENVIRONMENTS = {
  /** The deployed Worker's own settings (workerd: `exports.default.fetch`). */
  worker: {},
  signed: { URL_SIGNING_KEY: CONTRACT_SIGNING_KEY },
  limited: {
    RATE_LIMIT_PER_MINUTE: '2',
    API_KEYS: `${CONTRACT_API_KEY}, contract-api-key-2, ${CONTRACT_COST_API_KEY}, ${CONTRACT_LIMIT_API_KEY}`,
  },
  /** A short GPU budget, so timeouts are quick. */
  impatient: { GPU_TIMEOUT_MS: '400', GPU_MAX_RETRIES: '2', GPU_RETRY_MAX_WAIT_MS: '2000' },
  /** A short hold (redirects after 150 ms) and a budget of one generation. */
  holding: { HOLD_MS: '150', RATE_LIMIT_PER_MINUTE: '1' },
  /** Nothing listens on port 1 of loopback: the connection is refused. */
  unreachable: { GPU_FUNCTION_URL: 'http://127.0.0.1:1' },
} as const satisfies Record<string, Readonly<Record<string, string>>>;

export type ContractEnvironment = keyof typeof CONTRACT_ENVIRONMENTS;
