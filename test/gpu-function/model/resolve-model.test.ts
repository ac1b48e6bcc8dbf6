// From MODEL to a loadable model: a local folder read in place, or a Hub repo (served by the Hub double)
// brought into the cache, whose snapshot — symlinks into blobs/, external weights included — opens in
// onnxruntime.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../../gpu-function/model/resolve-model';
import { openModelSession } from '../../../gpu-function/pipeline/onnx-runtime';
import { startHubDouble, type HubDouble } from '../../support/hub-double';

describe('resolveModel', () => {
  let hub: HubDouble;
  let cacheDir: string;
  beforeAll(async () => {
    hub = await startHubDouble({ repos: [{ id: 'test-org/tiny-sd-int64-external', dir: 'test/fixtures/tiny-sd-int64-external' }] });
    cacheDir = await mkdtemp(join(tmpdir(), 'dreamurl-resolve-'));
  });
  afterAll(async () => {
    await hub.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('reads a local folder in place, named by its folder and fingerprint', async () => {
    const lines: string[] = [];
    const model = await resolveModel('./test/fixtures/tiny-sd', { cacheDir, offline: false, log: (l) => lines.push(l) });
    expect(model).toMatchObject({
      source: 'local',
      id: 'tiny-sd',
      revision: 'local-81b6bc76529c',
      model: 'tiny-sd@local-81b6bc76529c',
      dir: resolve('test/fixtures/tiny-sd'),
      vaeScalingFactor: 0.18215,
    });
    expect(lines).toEqual([`model: local folder ${resolve('test/fixtures/tiny-sd')} is tiny-sd@local-81b6bc76529c`]);
  });

  it('downloads a Hub model whose UNet keeps its weights in weights.pb, and onnxruntime opens it from the cache', async () => {
    const { commit } = hub.repo('test-org/tiny-sd-int64-external');
    const model = await resolveModel('test-org/tiny-sd-int64-external', { cacheDir, offline: false, hubUrl: hub.url, log: () => {} });
    expect(model).toMatchObject({
      source: 'hub',
      id: 'test-org/tiny-sd-int64-external',
      revision: commit,
      model: `test-org/tiny-sd-int64-external@${commit}`,
      dir: join(cacheDir, 'models--test-org--tiny-sd-int64-external', 'snapshots', commit),
    });
    expect(model.schedulerConfig._class_name).toBe('PNDMScheduler');
    expect(hub.bytesSentFor('unet/weights.pb')).toBe(3_147_776);
    expect(hub.bytesSentFor('README.md')).toBe(0);
    // model.onnx and weights.pb are both links into blobs/: onnxruntime must look for weights.pb next to
    // the link, not next to the blob it points at.
    const unet = await openModelSession(model.graphs.unet, { provider: 'cpu', log: () => {} });
    expect(unet.inputs.timestep?.type).toBe('int64');
    await unet.release();
  });

  it('serves the same model offline from the cache', async () => {
    hub.clearRequests();
    const model = await resolveModel('test-org/tiny-sd-int64-external@main', { cacheDir, offline: true, log: () => {} });
    expect(model.revision).toBe(hub.repo('test-org/tiny-sd-int64-external').commit);
    expect(hub.requests).toEqual([]);
  });
});
