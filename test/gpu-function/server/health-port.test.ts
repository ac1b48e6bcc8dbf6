// PORT_HEALTH (RunPod's load-balancing endpoints check /ping on it): a second listener with the probes
// only, answering exactly as the main port does; the work routes are not there.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type InProcessService, postJson, startInProcess } from '../../support/gpu-function-service';

let gpu: InProcessService;
beforeAll(async () => {
  gpu = await startInProcess({ PORT_HEALTH: '0', WARMUP_STEPS: '20', DEFAULT_WIDTH: '64', DEFAULT_HEIGHT: '64' });
});
afterAll(() => gpu.close());

it('answers /ping on the health port: 204 while warming up, then 200, as the main port does', async () => {
  const healthUrl = gpu.service.healthUrl!;
  expect(healthUrl).not.toBe(gpu.url);
  const statuses: number[] = [];
  for (;;) {
    const status = (await fetch(`${healthUrl}/ping`)).status;
    statuses.push(status);
    if (status === 200) break;
  }
  expect(statuses[0]).toBe(204);
  expect((await fetch(`${gpu.url}/ping`)).status).toBe(200);
  expect((await fetch(`${healthUrl}/healthz`)).status).toBe(200);
  expect(await (await fetch(`${healthUrl}/metrics`)).text()).toContain('sd_generations_total');
});

it('serves no work on the health port', async () => {
  await gpu.service.ready;
  expect((await postJson(`${gpu.service.healthUrl}/v1/generate`, { prompt: 'a', seed: 1 })).status).toBe(404);
  expect((await postJson(`${gpu.url}/v1/tokenize`, { prompt: 'a' })).status).toBe(200);
});
