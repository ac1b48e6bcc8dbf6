// The contract table (test/contract/contract-cases.ts) against the Worker in workerd: R2, the Cache
// API and the Durable Objects of miniflare. Cases under the Worker's own settings go through the
// deployed entry point (`exports.default.fetch`, edge/worker.ts); cases that need other settings
// (signing, a rate limit, a short GPU budget) through edgeApp, which builds the same app from the
// same bindings with those settings changed. The Node run of the same table is
// test/contract/node-edge-contract.test.ts.
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CONTRACT_CASES } from '../contract/contract-cases';
import { CONTRACT_ENVIRONMENTS, contractVars } from '../contract/contract-environments';
import { gpuStubControl } from '../contract/gpu-stub-control';
import { type ContractTarget, runContractCase } from '../contract/run-contract-case';
import { type EdgeClient, edgeApp, ORIGIN } from './support/edge-app';

const bindings = env as unknown as Record<string, unknown>;
const apps = new Map<string, EdgeClient>();

const workerd: ContractTarget = {
  request(name, pathAndQuery, init) {
    if (name === 'worker') return exports.default.fetch(`${ORIGIN}${pathAndQuery}`, init);
    let app = apps.get(name);
    if (app === undefined) {
      app = edgeApp(CONTRACT_ENVIRONMENTS[name]);
      apps.set(name, app);
    }
    return app.request(pathAndQuery, init);
  },
  gpu: gpuStubControl(String(bindings.GPU_FUNCTION_URL)),
};

describe('the edge contract on Workers (R2, Cache API, Durable Objects)', () => {
  it('runs under the settings the table assumes (test/edge/vitest.config.mts matches contract-environments.ts)', () => {
    const expected = contractVars(String(bindings.GPU_FUNCTION_URL));
    for (const [name, value] of Object.entries(expected)) {
      if (name === 'MODELS') expect(JSON.parse(String(bindings.MODELS)), name).toEqual(JSON.parse(value));
      else expect(String(bindings[name]), name).toBe(value);
    }
  });

  it.each(CONTRACT_CASES.map((c) => ({ ...c, label: c.name })))('$label', (contractCase) => runContractCase(workerd, contractCase));
});
