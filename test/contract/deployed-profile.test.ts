// wrangler.toml is what a plain `wrangler deploy` deploys. It ships no model profile: a profile must pin
// the commit its GPU function serves, which only the GPU function (or the Hub) can say, so a shipped one
// would name a branch and refuse every picture with a 502. `npm run deploy` writes MODELS
// (test/scripts/deploy.test.ts); a Worker deployed without it says so in its log instead of answering 502s.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { MODELS_UNSET, parseConfig } from '../../edge/config';

const ROOT = join(import.meta.dirname, '../..');

it('wrangler.toml names no model revision, and the edge refuses it for want of MODELS, naming `npm run deploy`', () => {
  const { bindings } = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml')).workerOptions;
  const vars = bindings as Record<string, unknown>;
  expect(vars.MODELS).toBeUndefined();
  expect(() => parseConfig(vars)).toThrow(`invalid edge configuration:\n  MODELS: ${MODELS_UNSET}`);
  // Everything else in it parses: with a profile, the same vars are a working configuration.
  const profile = {
    name: 'm',
    repo: 'org/m',
    revision: '0'.repeat(40),
    defaults: { steps: 20, guidance: 7.5, scheduler: 'pndm', width: 512, height: 512 },
    limits: { min_side: 256, max_side: 1024, side_multiple: 64, max_steps: 100 },
  };
  expect(parseConfig({ ...vars, MODELS: [profile] }).rateLimitPerMinute).toBe(10);
});
