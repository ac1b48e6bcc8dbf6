// The edge project: tests run inside workerd (@cloudflare/vitest-pool-workers) against the real
// Worker (edge/worker.ts + wrangler.toml) with miniflare's R2, Cache API and Durable Objects. The
// GPU function is the only stand-in: a loopback HTTP stub (test/support/gpu-stub-server.ts) started by
// globalSetup, whose URL reaches the Worker as GPU_FUNCTION_URL.
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => {
      const gpuStubUrl = inject('gpuStubUrl');
      // The default profile pins exactly the model the stub answers as (X-Model `<repo>@<revision>`).
      const [stubRepo, stubRevision] = inject('gpuStubModel').split('@');
      return {
        main: './edge/worker.ts',
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            GPU_FUNCTION_URL: gpuStubUrl,
            GPU_TIMEOUT_MS: '10000',
            GPU_RETRY_MAX_WAIT_MS: '2000',
            RATE_LIMIT_PER_MINUTE: '0',
            // Replays a property-based test's inputs (RELIABILITY.md, Seeds); empty draws a new seed.
            FUZZ_SEED: process.env.FUZZ_SEED ?? '',
            MODELS: JSON.stringify([
              {
                name: 'tiny-sd',
                repo: stubRepo,
                revision: stubRevision,
                default: true,
                defaults: { steps: 4, guidance: 7.5, scheduler: 'pndm', width: 64, height: 64 },
                limits: { min_side: 32, max_side: 256, side_multiple: 8, max_steps: 50 },
              },
              {
                // Served by the same stub under another identity (its /as/<model>/ route).
                name: 'other',
                repo: 'acme/other',
                revision: '0123abcd',
                defaults: { steps: 10, guidance: 5, scheduler: 'euler', width: 96, height: 64 },
                limits: { min_side: 64, max_side: 128, side_multiple: 16, max_steps: 20, max_pixels: 12_288, max_pixel_steps: 92_160 },
                gpu_function_url: `${gpuStubUrl}/as/${encodeURIComponent('acme/other@0123abcd')}`,
              },
            ]),
          },
        },
      };
    }),
  ],
  test: {
    name: 'edge',
    root: '.',
    include: ['test/edge/**/*.test.ts'],
    globalSetup: ['./test/support/gpu-stub-global-setup.ts'],
    // The first test of each file meets a cold isolate: its first request loads the whole edge (hono,
    // zod, contract/, edge/) module by module through vite into workerd — 4–9 s on a 2-core machine
    // under a full run's load, past vitest's 5 s default. A limit for a hang, not a timing assertion.
    testTimeout: 30_000,
  },
});
