import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: './edge/worker.ts',
      wrangler: { configPath: './wrangler.toml' },
    }),
  ],
  test: {
    name: 'edge',
    root: '.',
    include: ['test/edge/**/*.test.ts'],
  },
});
