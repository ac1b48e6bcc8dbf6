// The run time of the largest request a model profile admits (issue 10: what one public URL can cost):
// by default tiny-sd without its dreamurl.json — the profile `npm start` serves then, whose CPU cost
// limits admit at most 512×512 × 50 steps — through a fresh GPU function process (no warm-up, so the
// first request pays what a first request pays), one `POST /v1/generate` at a time with the progress
// stream, so each run reports its first step, its time per UNet evaluation and its Server-Timing.
// The request is the largest square the profile's max_pixels admits at the most steps its
// max_pixel_steps then allows (capped by max_steps), asked of the GPU function's own GET /v1/model.
//
// Run: npx tsx bench/largest-request.ts [--model <a folder>] [--runs 2] [--provider cpu]
// Figures, never pass/fail; REQUEST_TIMEOUT_MS is raised to 20 min so the time is measured, not cut.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { EVENT_STREAM_CONTENT_TYPE, type ModelInfo, readProgressStream } from '../contract';
import { fixed, machineLine } from './support/stats';

const ROOT = join(import.meta.dirname, '..');

const { values } = parseArgs({
  options: { model: { type: 'string' }, runs: { type: 'string' }, provider: { type: 'string' } },
});
const runs = Number(values.runs ?? 2);

// The model folder without dreamurl.json: its files as symlinks in a temporary folder.
const source = resolve(ROOT, values.model ?? 'test/fixtures/tiny-sd');
const model = mkdtempSync(join(tmpdir(), 'dreamurl-largest-'));
for (const name of readdirSync(source))
  if (name !== 'dreamurl.json') symlinkSync(join(source, name), join(model, name));

const child = spawn(process.execPath, ['--import', 'tsx', 'gpu-function/server/main.ts'], {
  cwd: ROOT,
  env: {
    ...process.env,
    MODEL: model,
    PORT: '0',
    EXECUTION_PROVIDER: values.provider ?? 'cpu',
    HF_HUB_OFFLINE: '1',
    WARMUP_STEPS: '0',
    REQUEST_TIMEOUT_MS: '1200000',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const url = await new Promise<string>((ready, fail) => {
    child.once('exit', (code) => fail(new Error(`the GPU function exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{') && (JSON.parse(line) as { event: string }).event === 'listening') {
        ready((JSON.parse(line) as { url: string }).url);
      }
    });
  });
  while ((await fetch(`${url}/ping`)).status !== 200) await new Promise((wait) => setTimeout(wait, 50));
  const { limits } = (await (await fetch(`${url}/v1/model`)).json()) as ModelInfo;
  const side = Math.floor(Math.sqrt(limits.max_pixels!) / limits.side_multiple) * limits.side_multiple;
  const steps = Math.min(limits.max_steps, Math.floor(limits.max_pixel_steps! / (side * side)));
  console.log(`${source} without dreamurl.json, ${side}×${side} × ${steps} steps; ${machineLine()}`);

  for (let run = 1; run <= runs; run++) {
    const loadBefore = loadavg()[0]!;
    const started = performance.now();
    const response = await fetch(`${url}/v1/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: EVENT_STREAM_CONTENT_TYPE },
      body: JSON.stringify({
        prompt: `the largest admitted request ${run}`,
        seed: run,
        width: side,
        height: side,
        steps,
      }),
    });
    if (response.status !== 200) throw new Error(`generate answered ${response.status}: ${await response.text()}`);
    const stepsAt: number[] = [];
    for await (const event of readProgressStream(response.body!)) {
      if (event.event === 'step') stepsAt.push(performance.now() - started);
      if (event.event === 'error') throw new Error(`run ${run}: ${JSON.stringify(event.data)}`);
      if (event.event !== 'image') continue;
      const seconds = (ms: number) => fixed(ms / 1000, 1);
      const perEvaluation = (stepsAt.at(-1)! - stepsAt[0]!) / (stepsAt.length - 1);
      console.log(
        `run ${run}: ${seconds(performance.now() - started)} s; first step done at ${seconds(stepsAt[0]!)} s; ` +
          `${stepsAt.length} UNet evaluations, ${fixed(perEvaluation / 1000, 2)} s each after the first; ` +
          `Server-Timing ${event.data.server_timing}; load ${fixed(loadBefore, 1)} → ${fixed(loadavg()[0]!, 1)}`,
      );
    }
  }
} finally {
  child.kill('SIGTERM');
  rmSync(model, { recursive: true, force: true });
}
