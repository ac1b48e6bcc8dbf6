// The pipeline on its worker thread (gpu-function/server/pipeline-thread/), on the tiny-sd fixture
// with the CPU provider: the same bytes as loadPipeline on the calling thread, the worker's errors and
// log lines on this side, requests leaving a running batch when their AbortSignal aborts here (shared
// memory, wanted-flags.ts), step reports posted back during the batch, release, and what a process
// that exits or simply ends does with a worker that is busy or idle. The worker entry is TypeScript
// here, so these tests also show it loads under vitest (which does not transform code in worker threads).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFolder, type ModelFolder } from '../../../gpu-function/model/model-folder';
import { loadPipeline } from '../../../gpu-function/pipeline/load-pipeline';
import type { GeneratedImage, StepProgress } from '../../../gpu-function/pipeline/types';
import type { ResolvedGeneration } from '../../../contract';
import { PipelineStoppedError } from '../../../gpu-function/server/pipeline-thread/errors';
import { PipelineThread } from '../../../gpu-function/server/pipeline-thread/pipeline-thread';
import { transferableImages } from '../../../gpu-function/server/pipeline-thread/transfer';
import { ROOT, TINY_SD } from '../../support/gpu-function-service';

const request = (overrides: Partial<ResolvedGeneration> = {}): ResolvedGeneration => ({
  prompt: 'a lighthouse at dusk',
  negative_prompt: '',
  seed: 7,
  steps: 3,
  guidance: 7.5,
  width: 32,
  height: 48,
  scheduler: 'pndm',
  ...overrides,
});

let folder: ModelFolder;
let thread: PipelineThread;
const logLines: string[] = [];

beforeAll(async () => {
  folder = await readModelFolder(TINY_SD);
  // 'auto' on a machine without CUDA: the fallback line is logged by the worker.
  thread = await PipelineThread.start(folder, { provider: 'auto', intraOpThreads: 1, log: (line) => logLines.push(line) });
});
afterAll(() => thread?.release());

describe('a batch on the worker thread', () => {
  it('gives the bytes loadPipeline gives on the calling thread, one image per request, in order', async () => {
    const batch = [request(), request({ prompt: 'a red fox in snow', seed: 8, guidance: 1 })];
    const images = await thread.generate(batch);
    const direct = await loadPipeline(folder, { provider: 'cpu', intraOpThreads: 1, log: () => {} });
    try {
      const expected = await direct.pipeline.generate(batch);
      expect(images.map((image) => image?.seed)).toEqual([7, 8]);
      images.forEach((image, i) => {
        if (image === undefined) throw new Error(`no image ${i}`);
        expect(image.pixels).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(image.pixels).equals(Buffer.from(expected[i]!.pixels)), `image ${i}`).toBe(true);
        expect([image.width, image.height]).toEqual([32, 48]);
      });
      expect(images[0]!.timings.denoise).toBeGreaterThan(0);
      // One batch, one set of stage times, shared as the pipeline shares them.
      expect(images[1]!.timings).toEqual(images[0]!.timings);
    } finally {
      await direct.release();
    }
  });

  it("passes the worker's log lines to the log callback (onnxruntime's CUDA fallback)", () => {
    const fallback = logLines.filter((line) => line.includes('CUDA is not available'));
    // Logged exactly when 'auto' ended on the CPU.
    expect(fallback.length).toBe(thread.provider === 'cpu' ? 1 : 0);
  });

  it("rejects with the worker's error, name and message kept, and goes on working", async () => {
    const mixed = thread.generate([request(), request({ width: 48 })]);
    await expect(mixed).rejects.toMatchObject({
      name: 'TypeError',
      message: 'Requests in one batch must share size, steps and scheduler: 32x48:3:pndm vs 48x48:3:pndm',
    });
    await expect(mixed).rejects.toBeInstanceOf(Error);
    const [image] = await thread.generate([request({ steps: 1 })]);
    expect(image!.width).toBe(32);
  });
});

describe('requests nobody waits for any more', () => {
  it("leave the worker's batch once their signal aborts here; the steps arrive while the batch runs", async () => {
    const leaving = new AbortController();
    const steps: StepProgress[] = [];
    const batch = [request({ steps: 50, width: 96, height: 96 }), request({ steps: 50, width: 96, height: 96, seed: 9 })];
    const images = await thread.generate(batch, {
      signals: [leaving.signal],
      onStep(progress) {
        steps.push(progress);
        if (progress.step === 2) leaving.abort();
      },
    });
    expect(images[0]).toBeUndefined();
    expect(images[1]?.seed).toBe(9);
    // PNDM: 51 UNet evaluations, each reported. Request 0 was in the first two and left long before the
    // end (the pipeline's own test pins "within one step"; here the flag has to cross the threads).
    expect(steps.map((p) => p.step)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    const withLeaver = steps.filter((p) => p.requests.includes(0)).length;
    expect(withLeaver).toBeGreaterThanOrEqual(2);
    expect(withLeaver).toBeLessThan(51);
  });

  it('stop a batch whose every signal has aborted, and the worker takes the next batch', async () => {
    const leaving = new AbortController();
    let lastStep = 0;
    const stopped = await thread.generate([request({ steps: 150, width: 96, height: 96 })], {
      signals: [leaving.signal],
      onStep(progress) {
        lastStep = progress.step;
        if (progress.step === 1) leaving.abort();
      },
    });
    expect(stopped).toEqual([undefined]);
    expect(lastStep).toBeLessThan(151);
    const [next] = await thread.generate([request({ steps: 1 })], { signals: [new AbortController().signal] });
    expect(next?.width).toBe(32);
  });

  it('never start when their signal aborted before the batch was sent', async () => {
    let steps = 0;
    const images = await thread.generate([request(), request({ seed: 9 })], {
      signals: [AbortSignal.abort(), AbortSignal.abort()],
      onStep: () => steps++,
    });
    expect(images).toEqual([undefined, undefined]);
    expect(steps).toBe(0);
  });
});

describe('start-up', () => {
  it("rejects with the worker's load error when a network cannot be opened", async () => {
    const broken: ModelFolder = { ...folder, graphs: { ...folder.graphs, unet: join(folder.dir, 'unet/missing.onnx') } };
    await expect(PipelineThread.start(broken, { provider: 'cpu', log: () => {} })).rejects.toThrow(
      /^onnxruntime could not load .*unet\/missing\.onnx: /,
    );
  });
});

describe('release', () => {
  it('ends the thread; later batches are refused with PipelineStoppedError', async () => {
    const other = await PipelineThread.start(folder, { provider: 'cpu', intraOpThreads: 1, log: () => {} });
    await other.release();
    await expect(other.generate([request()])).rejects.toBeInstanceOf(PipelineStoppedError);
    await expect(other.generate([request()])).rejects.toThrow('the pipeline worker thread takes no batch: it was released');
    await expect(other.release()).resolves.toBeUndefined();
  });
});

describe('transfer list', () => {
  const image = (pixels: Uint8Array): GeneratedImage => ({
    pixels,
    width: 1,
    height: 1,
    seed: 0,
    timings: { tokenize: 0, textEncoder: 0, denoise: 0, unet: 0, scheduler: 0, vae: 0 },
  });

  it('moves buffers a view owns whole, and copies views into a larger buffer first', () => {
    const pixels = new Uint8Array([4, 5, 6]);
    const pooled = Buffer.from('a view into a larger, shared buffer').subarray(2, 6);
    const { images, transfer } = transferableImages([image(pixels), image(pixels), image(pooled)]);
    // The owned buffer goes as it is, once even when two images share it.
    expect(images[0]!.pixels).toBe(pixels);
    expect(transfer.filter((buffer) => buffer === pixels.buffer)).toHaveLength(1);
    // The partial view is a copy with the same bytes; its shared buffer is not in the list.
    expect(images[2]!.pixels).not.toBe(pooled);
    expect(Buffer.from(images[2]!.pixels).equals(pooled)).toBe(true);
    expect(transfer).not.toContain(pooled.buffer);
    expect(transfer).toEqual([pixels.buffer, images[2]!.pixels.buffer]);
  });
});

describe('the process around a worker', () => {
  /** Runs an ESM script under tsx in its own Node process (as `npm run start:gpu` runs the service). */
  function runScript(body: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    const script = [
      `import { readModelFolder } from ${JSON.stringify(join(ROOT, 'gpu-function/model/model-folder.ts'))};`,
      `import { PipelineThread } from ${JSON.stringify(join(ROOT, 'gpu-function/server/pipeline-thread/pipeline-thread.ts'))};`,
      `const folder = await readModelFolder(${JSON.stringify(TINY_SD)});`,
      "const thread = await PipelineThread.start(folder, { provider: 'cpu', intraOpThreads: 1, log: () => {} });",
      "const request = { prompt: 'x', negative_prompt: '', seed: 1, guidance: 7.5, scheduler: 'pndm' };",
      body,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  }

  it('exits with the code process.exit asks for while the worker is inside a network call', async () => {
    // Warm at 256×256 first, then a 40-step batch whose UNet calls keep the worker inside onnxruntime
    // nearly all the time. Without the exit guard, terminating the worker there aborts the process
    // (SIGABRT, "terminate called after throwing an instance of 'Napi::Error'").
    const result = await runScript(
      [
        'await thread.generate([{ ...request, steps: 1, width: 256, height: 256 }]);',
        'void thread.generate([{ ...request, steps: 40, width: 256, height: 256 }]);',
        'setTimeout(() => process.exit(3), 300);',
      ].join('\n'),
    );
    expect(result.stderr).not.toContain('terminate called');
    expect(result).toMatchObject({ code: 3, signal: null });
  });

  it('does not keep the process alive once idle: a script that never releases it still ends', async () => {
    const result = await runScript("await thread.generate([{ ...request, steps: 1, width: 32, height: 32 }]);");
    expect(result).toMatchObject({ code: 0, signal: null });
  });
});
