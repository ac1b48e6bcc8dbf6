// `npm start` itself (scripts/start.ts as a process): it brings up the GPU function and wrangler dev,
// wires them with a token nobody sees, says where to open the page, serves pictures, and on SIGINT or
// SIGTERM leaves nothing running and no secrets file behind. Without network and without a cached
// model it fails at once and says what to do.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { signedImageUrl } from '../../edge/request/url-signature';
import { CHEAP_WARM_UP } from '../support/cheap-warm-up';
import { decodePng } from '../support/decode-png';
import { startHubDouble, type HubDouble } from '../support/hub-double';
import { fetchAnswer, imageUrl } from '../support/stack-http';
import { descendantsOf, environmentOf, isRunning, type ProcessInfo } from '../support/stack-process-tree';
import { TINY_SD } from '../support/stack-processes';
import { runStartScript, startScriptEnv, type StartScript } from '../support/stack-start-script';

const OPEN_LINE = /^dreamurl: open (http:\/\/127\.0\.0\.1:\d+)\/ in a browser/;

const scratch = mkdtempSync(join(tmpdir(), 'dreamurl-npm-start-'));
let running: StartScript | undefined;

afterEach(async () => {
  // A failed test must not leave a stack behind.
  if (running !== undefined && running.child.exitCode === null) {
    running.child.kill('SIGTERM');
    await running.exited;
  }
  running = undefined;
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** An environment for start.ts with its own temporary folder, Hugging Face cache and edge state. */
function startEnv(name: string, settings: Record<string, string>): { env: Record<string, string>; tmp: string } {
  return startScriptEnv(scratch, name, settings);
}

function secretsFolders(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => name.startsWith('dreamurl-edge-'));
}

/** The stack's own processes (not tsx's esbuild helper, which exits on its own once its parent has). */
function stackProcesses(pid: number): ProcessInfo[] {
  return descendantsOf(pid).filter((p) => /gpu-function\/server\/main\.ts|wrangler-dist\/cli\.js|workerd/.test(p.command));
}

/** Survivors among `processes`, re-checked a bounded number of times (a SIGKILLed process takes a moment to go). */
async function survivors(processes: readonly ProcessInfo[]): Promise<string[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (processes.every((p) => !isRunning(p.pid))) return [];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return processes.filter((p) => isRunning(p.pid)).map((p) => `${p.pid} ${p.command}`);
}

describe('npm start', () => {
  it('MODEL=test/fixtures/tiny-sd: serves the page and pictures, prints no secret, and SIGINT stops both parts and removes its files', async () => {
    const key = 'npm-start signing key 5b1e, 32 bytes or more';
    // CHEAP_WARM_UP: this test is about the processes, not the limits (npm-start-cost-limits.test.ts is).
    const { env, tmp } = startEnv('local', {
      ...CHEAP_WARM_UP,
      MODEL: 'test/fixtures/tiny-sd',
      HF_HUB_OFFLINE: '1',
      URL_SIGNING_KEY: key,
    });
    running = runStartScript(env);
    const script = running;

    const [, origin] = (await script.waitForLine(OPEN_LINE)) as [string, string];
    expect(script.output).toContain(`dreamurl: starting the GPU function with MODEL=${TINY_SD} (a local folder)`);

    const page = await fetchAnswer(`${origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(new TextDecoder().decode(page.bytes)).toContain('<button id="generate" type="submit">Generate</button>');

    const picture = await fetchAnswer(await signedImageUrl(origin, { prompt: 'through npm start' }, key));
    expect(picture.status).toBe(200);
    expect(decodePng(picture.bytes)).toMatchObject({ width: 64, height: 64 });
    expect((await fetchAnswer(imageUrl(origin, { prompt: 'not signed' }))).status).toBe(403);

    // Both parts run, wired by a fresh token that the GPU function insists on.
    const processes = stackProcesses(script.pid);
    const gpu = processes.find((p) => p.command.includes('gpu-function/server/main.ts'));
    const wrangler = processes.find((p) => p.command.includes('wrangler-dist/cli.js'));
    expect(gpu).toBeDefined();
    expect(wrangler).toBeDefined();
    expect(processes.some((p) => p.command.includes('workerd'))).toBe(true);
    const token = environmentOf(gpu!.pid).GPU_FUNCTION_TOKEN ?? '';
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const gpuUrl = script.output.map((line) => /^\[gpu\] listening on (\S+)$/.exec(line)?.[1]).find((url) => url !== undefined);
    expect((await fetch(`${gpuUrl}/v1/model`)).status).toBe(401);
    expect((await fetch(`${gpuUrl}/v1/model`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);

    // The secrets reached wrangler in a private file, not on its command line, and were never printed.
    const [secretsFolder] = secretsFolders(tmp);
    expect(secretsFolder).toBeDefined();
    expect(statSync(join(tmp, secretsFolder!)).mode & 0o077).toBe(0);
    expect(wrangler!.command).not.toContain(token);
    expect(wrangler!.command).not.toContain(key);
    const printed = script.output.join('\n');
    expect(printed).not.toContain(token);
    expect(printed).not.toContain(key);

    script.child.kill('SIGINT');
    expect(await script.exited, script.output.join('\n')).toEqual({ code: 0, signal: null });
    expect(script.output).toContain('dreamurl: stopped');
    expect(script.output).toContain('[gpu] stopped');
    expect(await survivors(processes)).toEqual([]);
    expect(secretsFolders(tmp)).toEqual([]);
  });

  describe('a Hub model', () => {
    let hub: HubDouble;
    afterAll(async () => {
      await hub?.close();
    });

    it('says which model is loading, shows the first download, serves it, and SIGTERM stops both parts', async () => {
      hub = await startHubDouble({ repos: [{ id: 'test-org/tiny-sd', dir: TINY_SD }] });
      // dreamurl.json is not a pipeline file, so the download does not fetch it: small defaults by hand.
      const { env } = startEnv('hub', {
        ...CHEAP_WARM_UP,
        MODEL: 'test-org/tiny-sd',
        HF_ENDPOINT: hub.url,
        DEFAULT_WIDTH: '64',
        DEFAULT_HEIGHT: '64',
        DEFAULT_STEPS: '4',
      });
      running = runStartScript(env);
      const script = running;

      const [, origin] = (await script.waitForLine(OPEN_LINE)) as [string, string];
      expect(script.output[0]).toMatch(/^dreamurl: starting the GPU function with MODEL=test-org\/tiny-sd@main \(from the Hugging Face Hub: a first run downloads it/);
      expect(script.output.some((line) => line.startsWith('[gpu] model: downloading unet/model.onnx'))).toBe(true);
      expect(script.output.some((line) => /^\[gpu\] model: downloading .*\(100%\)$/.test(line))).toBe(true);
      const { commit } = hub.repo('test-org/tiny-sd');
      expect(script.output).toContain(`dreamurl: model test-org/tiny-sd@${commit} is ready (64×64, 4 steps, pndm); starting the edge (wrangler dev)`);

      const picture = await fetchAnswer(imageUrl(origin, { prompt: 'from the hub' }));
      expect(picture.status).toBe(200);
      expect(decodePng(picture.bytes)).toMatchObject({ width: 64, height: 64 });

      const processes = stackProcesses(script.pid);
      expect(processes.length).toBeGreaterThanOrEqual(3); // GPU function, wrangler, workerd
      script.child.kill('SIGTERM');
      expect(await script.exited, script.output.join('\n')).toEqual({ code: 0, signal: null });
      expect(await survivors(processes)).toEqual([]);
    });
  });

  it('without network and without a cached model: fails at once, says why, and how to point MODEL at a local folder', async () => {
    // "No network": the Hub's address refuses connections.
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const { env } = startEnv('offline', { HF_ENDPOINT: `http://127.0.0.1:${closedPort}` });
    running = runStartScript(env);

    expect(await running.exited, running.output.join('\n')).toEqual({ code: 1, signal: null });
    const printed = running.output.join('\n');
    expect(printed).toContain('dreamurl: the GPU function could not load MODEL=CompVis/stable-diffusion-v1-4@onnx: Error: cannot reach the Hub');
    expect(printed).toContain('`MODEL=./test/fixtures/tiny-sd npm start`');
    expect(printed).not.toContain('[edge]'); // the edge was never started
  });

  it('refuses bad settings before starting anything, naming each (exit 2)', async () => {
    const { env } = startEnv('invalid', { MODEL: 'not a model', EDGE_PORT: '70000', RATE_LIMIT_PER_MINUTE: 'lots' });
    running = runStartScript(env);
    expect(await running.exited, running.output.join('\n')).toEqual({ code: 2, signal: null });
    const printed = running.output.join('\n');
    expect(printed).toMatch(/MODEL: MODEL=not a model is neither a folder on disk nor a Hub repo id/);
    expect(printed).toContain('EDGE_PORT: must be a port number');
    expect(printed).toContain('RATE_LIMIT_PER_MINUTE: must be a whole number');
    expect(printed).not.toContain('starting the GPU function');
  });
});
