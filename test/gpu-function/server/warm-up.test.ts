// The warm-up plan (gpu-function/server/warm-up.ts): which pictures and batches start-up runs for given
// limits, and that start-up really runs them and stops, naming the shape and the settings, when one fails.
import { describe, expect, it } from 'vitest';
import type { ModelLimits } from '../../../contract';
import { largestShape, warmupPlan } from '../../../gpu-function/server/warm-up';
import { startInProcess, startReady } from '../../support/gpu-function-service';

const SD: ModelLimits = { min_side: 64, max_side: 1024, side_multiple: 64, max_steps: 150 };
const SD_DEFAULTS = { width: 512, height: 512, guidance: 7.5 };

/** The plan as `width×height×batch kind` strings, for tables that read at a glance. */
function planOf(
  limits: ModelLimits,
  defaults: typeof SD_DEFAULTS,
  maxBatchSize: number,
  maxBatchPixels: number,
): string[] {
  return warmupPlan(limits, defaults, { maxBatchSize, maxBatchPixels }).map(
    (run) => `${run.width}×${run.height}×${run.batch} ${run.kind}`,
  );
}

describe('the warm-up plan', () => {
  it.each([
    {
      name: 'the CPU built-ins (one 512² per batch): the default is the largest, run once',
      limits: { ...SD, max_pixels: 512 ** 2 },
      maxBatchSize: 4,
      maxBatchPixels: 512 ** 2,
      plan: ['512×512×1 largest'],
    },
    {
      name: 'the CUDA built-ins: one 768² (two would exceed 4 × 512²), then 512² at every batch size',
      limits: { ...SD, max_pixels: 768 ** 2 },
      maxBatchSize: 4,
      maxBatchPixels: 4 * 512 ** 2,
      plan: ['768×768×1 largest', '512×512×1 default', '512×512×2 default', '512×512×3 default', '512×512×4 default'],
    },
    {
      name: 'batch sizes stop where the pixels no longer fit, before MAX_BATCH_SIZE',
      limits: { ...SD, max_pixels: 512 ** 2 },
      maxBatchSize: 8,
      maxBatchPixels: 2 * 512 ** 2,
      plan: ['512×512×2 largest', '512×512×1 default'],
    },
    {
      name: 'the largest shape at its largest batch, capped by MAX_BATCH_SIZE',
      limits: { ...SD, max_pixels: 256 ** 2 },
      defaults: { ...SD_DEFAULTS, width: 256, height: 256 },
      maxBatchSize: 3,
      maxBatchPixels: 10 * 256 ** 2,
      plan: ['256×256×3 largest', '256×256×1 default', '256×256×2 default'],
    },
  ])('$name', ({ limits, defaults = SD_DEFAULTS, maxBatchSize, maxBatchPixels, plan }) => {
    expect(planOf(limits, defaults, maxBatchSize, maxBatchPixels)).toEqual(plan);
  });

  it('runs the largest picture guided even when the default guidance is off (a turbo model)', () => {
    const plan = warmupPlan(
      { ...SD, max_pixels: 768 ** 2 },
      { width: 512, height: 512, guidance: 0 },
      { maxBatchSize: 2, maxBatchPixels: 2 * 512 ** 2 },
    );
    expect(plan.map((run) => [run.kind, run.guidance])).toEqual([
      ['largest', 7.5],
      ['default', 0],
      ['default', 0],
    ]);
  });

  it('runs the default size unguided too when the largest picture is the default size (a turbo model)', () => {
    const plan = warmupPlan(
      { ...SD, max_pixels: 512 ** 2 },
      { width: 512, height: 512, guidance: 0 },
      { maxBatchSize: 4, maxBatchPixels: 512 ** 2 },
    );
    expect(plan.map((run) => [run.width, run.batch, run.kind, run.guidance])).toEqual([
      [512, 1, 'largest', 7.5],
      [512, 1, 'default', 0],
    ]);
  });

  it.each([
    {
      name: 'the square when it is the largest',
      limits: { ...SD, max_pixels: 500_000 },
      shape: { width: 704, height: 704 },
    },
    {
      name: 'a landscape shape when no square comes as close',
      limits: { min_side: 64, max_side: 256, side_multiple: 64, max_steps: 50, max_pixels: 256 * 192 },
      shape: { width: 256, height: 192 },
    },
    { name: 'max_side² without max_pixels', limits: { ...SD, max_side: 640 }, shape: { width: 640, height: 640 } },
    {
      name: 'sides in multiples of side_multiple from the first one at least min_side',
      limits: { min_side: 40, max_side: 100, side_multiple: 16, max_steps: 50, max_pixels: 48 * 48 },
      shape: { width: 48, height: 48 },
    },
  ])('the largest admitted picture: $name', ({ limits, shape }) => {
    expect(largestShape(limits)).toEqual(shape);
  });
});

describe('start-up', () => {
  it('warms the largest batch and every batch size at the default size, then checks memory, before ready', async () => {
    // The fixture's settings: 128² at most, 16384 pixels per batch, default 32², MAX_BATCH_SIZE 4.
    const service = await startReady();
    try {
      const warmed = service.logs.filter((line) => line.event === 'warmed_up');
      expect(warmed.map(({ width, height, batch, kind, steps }) => ({ width, height, batch, kind, steps }))).toEqual([
        { width: 128, height: 128, batch: 1, kind: 'largest', steps: 1 },
        ...[1, 2, 3, 4].map((batch) => ({ width: 32, height: 32, batch, kind: 'default', steps: 1 })),
      ]);
      const events = service.logs.map((line) => line.event);
      expect(events.indexOf('memory_checked')).toBeGreaterThan(events.lastIndexOf('warmed_up'));
      expect(events.indexOf('ready')).toBeGreaterThan(events.indexOf('memory_checked'));
    } finally {
      await service.close();
    }
  });

  it('with WARMUP_STEPS=0 runs nothing', async () => {
    const service = await startReady({ WARMUP_STEPS: '0' });
    try {
      expect(service.logs.filter((line) => line.event === 'warmed_up')).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('fails, naming the picture, the batch and the settings to lower, when a warm-up run fails', async () => {
    // A real onnxruntime failure: tiny-sd's UNet halves its latents once and concatenates them back,
    // so 72 px (9 latent pixels, odd) cannot run. SIDE_MULTIPLE=8 admits it as the largest picture.
    const service = await startInProcess({
      MIN_SIDE: '32',
      MAX_SIDE: '72',
      SIDE_MULTIPLE: '8',
      MAX_PIXELS: String(72 * 72),
      MAX_BATCH_PIXELS: String(72 * 72),
    });
    try {
      await expect(service.service.ready).rejects.toThrow(
        /^warm-up failed: the pipeline could not run 72×72 at batch 1 \(1 warm-up steps\): .+; this is the largest picture/,
      );
      const failed = service.logs.find((line) => line.event === 'startup_failed');
      for (const setting of ['MAX_PIXELS', 'limits.max_pixels', 'MAX_BATCH_PIXELS', 'MAX_BATCH_SIZE']) {
        expect(String(failed?.error)).toContain(setting);
      }
      expect((await fetch(`${service.url}/ping`)).status).toBe(503);
    } finally {
      await service.close();
    }
  });
});
