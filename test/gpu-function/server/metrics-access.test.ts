// Who may read /metrics (it tells an outsider the queue, the load and the traffic): METRICS_TOKEN puts it
// behind a bearer token of its own, on the main port and on PORT_HEALTH alike; METRICS_ON_HEALTH_PORT_ONLY
// serves it on PORT_HEALTH only, a port a platform need not expose. /ping and /healthz stay open either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../../contract';
import { type InProcessService, startInProcess } from '../../support/gpu-function-service';

const METRICS_TOKEN = 'metrics-token-41c7e2';
const GPU_TOKEN = 'gpu-token-0b93d5';

describe('METRICS_TOKEN', () => {
  let gpu: InProcessService;
  beforeAll(async () => {
    gpu = await startInProcess({ METRICS_TOKEN, GPU_FUNCTION_TOKEN: GPU_TOKEN, PORT_HEALTH: '0', WARMUP_STEPS: '0' });
  });
  afterAll(() => gpu.close());

  const ports = () => [gpu.url, gpu.service.healthUrl!];

  it('answers 401 without it, with the GPU token or with a wrong one, naming the metrics realm', async () => {
    for (const base of ports()) {
      for (const [headers, tokenSent] of [
        [{}, false],
        [{ Authorization: `Bearer ${GPU_TOKEN}` }, true],
        [{ Authorization: `Bearer ${METRICS_TOKEN}x` }, true],
      ] as const) {
        const response = await fetch(`${base}/metrics`, { headers });
        expect(response.status, base).toBe(401);
        expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
        expect(response.headers.get('WWW-Authenticate')).toBe(`Bearer realm="metrics"${tokenSent ? ', error="invalid_token"' : ''}`);
        expect(((await response.json()) as { detail: string }).detail).toContain('METRICS_TOKEN');
      }
    }
  });

  it('serves the metrics with it, and it opens nothing else', async () => {
    for (const base of ports()) {
      const response = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('sd_generations_total');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    }
    const model = await fetch(`${gpu.url}/v1/model`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(model.status).toBe(401);
  });

  it('never writes the metrics token to the log', () => {
    expect(gpu.rawLogs.length).toBeGreaterThan(0);
    for (const line of gpu.rawLogs) expect(line).not.toContain(METRICS_TOKEN);
  });
});

describe('METRICS_ON_HEALTH_PORT_ONLY', () => {
  let gpu: InProcessService;
  beforeAll(async () => {
    gpu = await startInProcess({ METRICS_ON_HEALTH_PORT_ONLY: '1', PORT_HEALTH: '0', WARMUP_STEPS: '0' });
  });
  afterAll(() => gpu.close());

  it('serves /metrics on PORT_HEALTH and not on PORT, where the probes still answer', async () => {
    expect((await fetch(`${gpu.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${gpu.url}/healthz`)).status).toBe(200);
    const metrics = await fetch(`${gpu.service.healthUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('sd_queue_depth');
  });
});
