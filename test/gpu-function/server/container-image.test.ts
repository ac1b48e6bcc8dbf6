// infra/Dockerfile, checked as far as a machine without a Docker engine can: every COPY from the build
// context exists and passes infra/Dockerfile.dockerignore, the esbuild pinned there is the one the
// lockfile resolves, and the image's own commands work — the bundling RUN line builds the server and
// its pipeline worker (the one that loads onnxruntime-node), the CMD serves the fixture from that bundle
// (with the image's ENV), and the HEALTHCHECK command fails while the model loads and passes once /ping
// says 200.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { CHEAP_WARM_UP } from '../../support/cheap-warm-up';
import { ROOT, TINY_SD, until } from '../../support/gpu-function-service';

const dockerfile = readFileSync(join(ROOT, 'infra/Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

const ignorePatterns = readFileSync(join(ROOT, 'infra/Dockerfile.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** .dockerignore semantics for the patterns used there: `*`, `!path`, `!dir/**`; the last match wins. */
function inContext(path: string): boolean {
  let included = true;
  for (const pattern of ignorePatterns) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    const matches = glob === '*' || glob === path || (glob.endsWith('/**') && path.startsWith(glob.slice(0, -2)));
    if (matches) included = negated;
  }
  return included;
}

const contextCopies = instructions
  .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
  .flatMap((line) => line.split(/\s+/).slice(1, -1).filter((word) => !word.startsWith('--')));

describe('build context', () => {
  it('has every COPY source, none of them ignored', () => {
    expect(contextCopies).toEqual(['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'gpu-function']);
    for (const source of contextCopies) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(inContext(source === 'gpu-function' ? 'gpu-function/server/main.ts' : source), source).toBe(true);
    }
    expect(inContext('node_modules/hono/package.json')).toBe(false);
    expect(inContext('test/fixtures/tiny-sd/unet/model.onnx')).toBe(false);
  });

  it('pins the esbuild that package-lock.json resolves', () => {
    const pinned = /esbuild@(\d+\.\d+\.\d+)/.exec(dockerfile)?.[1];
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    expect(pinned).toBe(lock.packages['node_modules/esbuild']?.version);
  });

  it('uses a Node the project supports and names a non-root user', () => {
    expect(/^ARG NODE_VERSION=20\.\d+\.\d+$/m.test(dockerfile)).toBe(true);
    expect(instructions).toContain('USER app');
    expect(/^ARG CUDA_BASE=nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/m.test(dockerfile)).toBe(true);
  });
});

describe("the image's commands", () => {
  const app = mkdtempSync(join(tmpdir(), 'gpu-function-image-'));
  let child: ReturnType<typeof spawn> | undefined;
  afterAll(async () => {
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it('bundles the server with the RUN line, serves the fixture with CMD, and HEALTHCHECK follows /ping', async () => {
    // RUN esbuild … (the build stage works in /src; here the repository is the source folder).
    const run = instructions.find((line) => line.startsWith('RUN esbuild '))!;
    const args = run.slice('RUN esbuild '.length).split(/\s+/).map((arg) => arg.replace(/^--outdir=dist/, `--outdir=${app}/dist`));
    execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), args, { cwd: ROOT, stdio: 'pipe' });
    // Two files side by side: main.mjs starts the worker from pipeline-worker.mjs beside itself, and
    // only the worker loads onnxruntime (the main thread never runs a network).
    const main = readFileSync(join(app, 'dist/gpu-function/main.mjs'), 'utf8');
    const worker = readFileSync(join(app, 'dist/gpu-function/pipeline-worker.mjs'), 'utf8');
    expect(main).not.toContain('onnxruntime-node');
    expect(worker).toContain('from "onnxruntime-node"');
    // The runtime stage's layout: /app/node_modules, /app/package.json, /app/dist.
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    writeFileSync(join(app, 'package.json'), readFileSync(join(ROOT, 'package.json')));

    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd[0]).toBe('node');
    const env = Object.fromEntries([...dockerfile.matchAll(/^\s+(?:ENV )?([A-Z_]+)=(\S+?)(?: \\)?$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(env).toMatchObject({ HOST: '0.0.0.0', PORT: '8788', HF_HOME: '/data/huggingface' });
    child = spawn(process.execPath, cmd.slice(1), {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        ...env,
        // The test's own: loopback on a free port, the fixture, the CPU, a writable cache, a 128² cap
        // (CHEAP_WARM_UP: 20 warm-up steps at tiny-sd's built-in 512² outlast the test's timeout).
        ...CHEAP_WARM_UP,
        HOST: '127.0.0.1',
        PORT: '0',
        HF_HOME: join(app, 'hf'),
        MODEL: TINY_SD,
        EXECUTION_PROVIDER: 'cpu',
        SIDE_MULTIPLE: '16',
        MIN_SIDE: '32',
        DEFAULT_WIDTH: '32',
        DEFAULT_HEIGHT: '32',
        WARMUP_STEPS: '20',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child!.once('exit', (code) => reject(new Error(`the bundled server exited with ${code}`)));
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        if (line.startsWith('{') && (JSON.parse(line) as { event: string }).event === 'listening') {
          resolve((JSON.parse(line) as { url: string }).url);
        }
      });
    });

    // HEALTHCHECK CMD ["node", "-e", "…"], pointed at the test's port.
    const healthcheck = JSON.parse(/HEALTHCHECK .*? CMD (\[.*\])$/m.exec(instructions.join('\n'))![1]!) as string[];
    const healthy = (): boolean => {
      try {
        execFileSync(process.execPath, healthcheck.slice(1), { env: { PORT: new URL(url).port }, stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    };
    expect(healthy()).toBe(false); // still loading or warming up: /ping 204
    await until(healthy, 50);
    const png = await fetch(`${url}/v1/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'from the bundle', seed: 1, steps: 2 }),
    });
    expect(png.status).toBe(200);
    expect(png.headers.get('Content-Type')).toBe('image/png');
  });
});
