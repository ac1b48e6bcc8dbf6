// `npm run deploy` as an operator runs it (scripts/deploy.ts in its own process), with `--dry-run`:
// wrangler bundles the Worker and checks the config it was given, and uploads nothing. The model comes
// from a real GPU function on the tiny-sd fixture (GET /v1/model over HTTP) or from the Hub double;
// the config it writes is read back by wrangler's own config reader and by the edge's parser.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import type { ModelInfo } from '../../contract';
import { parseConfig } from '../../edge/config';
import { profileFromModelInfo } from '../../edge/generation/gpu-model-profile';
import { type InProcessService, ROOT, startReady, TINY_SD } from '../support/gpu-function-service';
import { type HubDouble, startHubDouble } from '../support/hub-double';

const TOKEN = 'deploy-test-gpu-function-token-0123456789';
const HUB_REPO = 'acme/tiny-sd';
const SDXL_REPO = 'acme/tiny-sdxl-plain';
/** The test fixture's sizes and cost limits unset (blank = unset): the GPU function's built-in settings. */
const BUILT_IN = Object.fromEntries(
  ['MIN_SIDE', 'MAX_SIDE', 'SIDE_MULTIPLE', 'DEFAULT_WIDTH', 'DEFAULT_HEIGHT', 'DEFAULT_STEPS', 'MAX_PIXELS', 'MAX_PIXEL_STEPS', 'MAX_BATCH_PIXELS'].map(
    (name) => [name, ''],
  ),
);

/**
 * tiny-sdxl without its dreamurl.json (linked, not copied): what it serves is then the SDXL family's
 * defaults and limits (gpu-function/model/family-profile.ts) beneath the built-in ones.
 */
function sdxlWithoutProfile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-sdxl-'));
  const fixture = join(ROOT, 'test/fixtures/tiny-sdxl');
  for (const name of readdirSync(fixture)) if (name !== 'dreamurl.json') symlinkSync(join(fixture, name), join(dir, name));
  return dir;
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function deploy(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/deploy.ts', ...args], {
    cwd: ROOT,
    // No HF_TOKEN or Cloudflare credentials from the machine running the tests.
    env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'deploy-home-')), CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** The written config as wrangler reads it: the vars the Worker will get. */
function deployedVars(path: string): Record<string, unknown> {
  return unstable_getMiniflareWorkerOptions(path).workerOptions.bindings as Record<string, unknown>;
}

let gpu: InProcessService;
let info: ModelInfo;
let hub: HubDouble;
let sdxlDir: string;
beforeAll(async () => {
  // The GPU function with its built-in settings (blank = unset): only the fixture's dreamurl.json applies.
  // Its limits are what this file pins, so they stay; its warm-up (512² on them, ~20 s here) is skipped.
  gpu = await startReady({ GPU_FUNCTION_TOKEN: TOKEN, WARMUP_STEPS: '0', ...BUILT_IN });
  info = (await (await fetch(`${gpu.url}/v1/model`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as ModelInfo;
  sdxlDir = sdxlWithoutProfile();
  hub = await startHubDouble({
    repos: [
      { id: HUB_REPO, dir: TINY_SD, branches: ['onnx'] },
      { id: SDXL_REPO, dir: sdxlDir },
    ],
  });
});
afterAll(async () => {
  await gpu?.close();
  await hub?.close();
});

describe('npm run deploy --dry-run', () => {
  it("pins the model the GPU function serves (GET /v1/model) and deploys wrangler.toml with it", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'deploy-')), 'wrangler.deploy.jsonc');
    const run = await deploy(['--gpu-function-url', gpu.url, '--out', out, '--dry-run'], { GPU_FUNCTION_TOKEN: TOKEN });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('--dry-run: exiting now.');
    expect(run.output).toContain(`deploy: model ${info.model} as "tiny-sd" (64×64, 20 steps, pndm)`);
    expect(run.output).not.toContain(TOKEN);

    const vars = deployedVars(out);
    expect(vars.MODELS).toEqual([profileFromModelInfo(info)]);
    expect(vars.GPU_FUNCTION_URL).toBe(gpu.url);
    expect(vars.RATE_LIMIT_PER_MINUTE).toBe('10'); // wrangler.toml's other vars, unchanged
    const edge = parseConfig(vars);
    expect(`${edge.defaultModel.repo}@${edge.defaultModel.revision}`).toBe(info.model);
  });

  it('pins the commit a Hub revision points at, with the defaults and limits that GPU function reports', async () => {
    hub.clearRequests();
    const out = join(mkdtempSync(join(tmpdir(), 'deploy-')), 'wrangler.deploy.jsonc');
    const run = await deploy(
      ['--model', `${HUB_REPO}@onnx`, '--provider', 'cpu', '--gpu-function-url', 'https://gpu.example.com', '--out', out, '--dry-run'],
      { HF_ENDPOINT: hub.url, HF_HOME: mkdtempSync(join(tmpdir(), 'deploy-hf-')) },
    );
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('--dry-run: exiting now.');

    const { commit } = hub.repo(HUB_REPO);
    const vars = deployedVars(out);
    expect(vars.MODELS).toEqual([
      { name: 'tiny-sd', repo: HUB_REPO, revision: commit, default: true, defaults: info.defaults, limits: info.limits },
    ]);
    expect(vars.GPU_FUNCTION_URL).toBe('https://gpu.example.com');
    // Metadata and two small files at the commit; no weights.
    expect(hub.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      `GET /api/models/${HUB_REPO}/revision/onnx`,
      `GET /${HUB_REPO}/resolve/${commit}/scheduler/scheduler_config.json`,
      `GET /${HUB_REPO}/resolve/${commit}/dreamurl.json`,
    ]);
  });

  it("gives an SDXL repo its family's defaults and limits, as a GPU function serving it reports them", async () => {
    // The reference: a real GPU function on the same files, with its built-in settings (blank = unset).
    const sdxl = await startReady({ MODEL: sdxlDir, WARMUP_STEPS: '0', ...BUILT_IN });
    let served: ModelInfo;
    try {
      served = (await (await fetch(`${sdxl.url}/v1/model`)).json()) as ModelInfo;
    } finally {
      await sdxl.close();
    }
    expect(served.defaults).toMatchObject({ width: 1024, height: 1024, steps: 50, guidance: 5 }); // not SD's 512², 7.5

    hub.clearRequests();
    const out = join(mkdtempSync(join(tmpdir(), 'deploy-')), 'wrangler.deploy.jsonc');
    const run = await deploy(['--model', SDXL_REPO, '--provider', 'cpu', '--gpu-function-url', 'https://gpu.example.com', '--out', out, '--dry-run'], {
      HF_ENDPOINT: hub.url,
    });
    expect(run.code, run.output).toBe(0);
    const { commit } = hub.repo(SDXL_REPO);
    expect(deployedVars(out).MODELS).toEqual([
      { name: 'tiny-sdxl-plain', repo: SDXL_REPO, revision: commit, default: true, defaults: served.defaults, limits: served.limits },
    ]);
    expect(hub.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      `GET /api/models/${SDXL_REPO}/revision/main`,
      `GET /${SDXL_REPO}/resolve/${commit}/scheduler/scheduler_config.json`,
    ]);
  });

  it.each([
    [
      'a GPU function that refuses the token',
      () => ['--gpu-function-url', gpu.url, '--dry-run'],
      { GPU_FUNCTION_TOKEN: 'not-the-token-0123456789' },
      1,
      /cannot pin the model: GET http:\/\/127\.0\.0\.1:\d+\/v1\/model answered 401 \(GPU_FUNCTION_TOKEN/,
    ],
    [
      'a Hub revision that does not exist',
      () => ['--model', `${HUB_REPO}@no-such-branch`, '--gpu-function-url', 'https://gpu.example.com', '--dry-run'],
      () => ({ HF_ENDPOINT: hub.url }),
      1,
      /cannot pin the model: revision "no-such-branch" does not exist in acme\/tiny-sd \(Invalid rev id: no-such-branch/,
    ],
    [
      "a GPU function on this machine's loopback, for a real deploy",
      () => ['--gpu-function-url', 'http://127.0.0.1:8788'],
      {},
      2,
      /--gpu-function-url http:\/\/127\.0\.0\.1:8788 is this machine's loopback: a deployed Worker cannot reach it/,
    ],
    ['no GPU function URL', () => ['--dry-run'], {}, 2, /--gpu-function-url \(or GPU_FUNCTION_URL\) is required/],
  ])('refuses %s, deploying nothing', async (_label, args, env, code, message) => {
    const run = await deploy(args(), typeof env === 'function' ? env() : env);
    expect(run.code, run.output).toBe(code);
    expect(run.output).toMatch(message);
    expect(run.output).not.toContain('deploy: wrangler deploy');
    expect(run.output).not.toContain('Total Upload');
  });
});
