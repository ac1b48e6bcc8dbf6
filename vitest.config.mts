// One `npm test` for everything. Two projects, because the edge runs inside workerd
// (@cloudflare/vitest-pool-workers) while the gpu-function, the scripts and the end-to-end
// tests run on Node with real onnxruntime-node sessions, real servers and real Chromium.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'test/edge/vitest.config.mts',
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/edge/**', 'node_modules/**'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
