// The time estimate the batcher refuses on (batcher/throughput.ts), with exact numbers, on the server's
// cost groups (generationCost: [[pictures], [pictures, pixels], [evaluations, pixels × evaluations]]):
// per-group rates from batches that say how their time divided, the least a group's time allows when
// the measures within it cannot be told apart, the bound that batches measured only as totals give,
// and the window.
import { describe, expect, it } from 'vitest';
import type { ResolvedGeneration } from '../../../contract';
import { ThroughputEstimate } from '../../../gpu-function/server/batcher/throughput';
import { generationCost, generationTimeParts } from '../../../gpu-function/server/generation-batcher';

const cost = (pixels: number, steps: number) =>
  generationCost({ width: pixels, height: 1, steps } as ResolvedGeneration);
/** A 2-step warm-up of one 100-pixel picture. */
const WARMUP = cost(100, 2);
/** The same picture at 150 steps. */
const LONG = cost(100, 150);

describe('a batch split by its stage times', () => {
  it('gives each part its own rate, so fixed per-picture work does not grow with the steps', () => {
    const estimate = new ThroughputEstimate();
    // 1000 ms: 100 text encoder, 600 VAE, 300 for 3 UNet evaluations.
    estimate.record(WARMUP, 1000, [100, 600, 300]);
    expect(estimate.estimate(LONG)).toEqual({ seconds: 15.8, samples: 1 }); // 100 + 600 + 151 × 100 ms
    // One average per unit of pixels × (steps + 1) would say 1000 / 300 × 15100 ms: over three times as long.
    const averaged = new ThroughputEstimate();
    averaged.record(300, 1000);
    expect(averaged.estimate(15_100)!.seconds).toBeCloseTo(50.333, 3);
  });

  it('takes only the proportions of the parts: the rest of the batch time is spread alike', () => {
    const estimate = new ThroughputEstimate();
    estimate.record(WARMUP, 1000, [1, 6, 3]); // parts in another unit
    expect(estimate.estimate(LONG)).toEqual({ seconds: 15.8, samples: 1 });
  });

  it('takes the least a part allows while its measures cannot be told apart, and learns from other shapes', () => {
    const estimate = new ThroughputEstimate();
    estimate.record(WARMUP, 1000, [100, 600, 300]);
    // Four times the pixels: the VAE's 600 ms may be per picture, the UNet's 100 ms an evaluation per call.
    expect(estimate.estimate(cost(400, 150))).toEqual({ seconds: 15.8, samples: 1 });
    estimate.record(cost(400, 2), 2400, [100, 1400, 900]);
    // Pooled: text 200 ms / 2 pictures; VAE 2000 ms over 2 pictures or 500 pixels: min(1000, 1600);
    // UNet 1200 ms over 6 evaluations or 1500 pixel-evaluations: min(1200 × 151 / 6, 1200 × 60400 / 1500).
    expect(estimate.estimate(cost(400, 150))).toEqual({ seconds: 31.3, samples: 2 }); // 100 + 1000 + 30200 ms
  });

  it('forgets batches past its window', () => {
    const estimate = new ThroughputEstimate(2);
    estimate.record(WARMUP, 100_000, [1, 1, 1]); // a slow first batch
    estimate.record(WARMUP, 1000, [100, 600, 300]);
    estimate.record(WARMUP, 1000, [100, 600, 300]);
    expect(estimate.estimate(LONG)).toEqual({ seconds: 15.8, samples: 2 });
  });
});

describe('batches measured only as a total', () => {
  it('estimate the least their totals allow: the warm-up time for a longer request of the same size', () => {
    const estimate = new ThroughputEstimate();
    estimate.record(WARMUP, 1000);
    // All 1000 ms may have been the text encoder's.
    expect(estimate.estimate(LONG)).toEqual({ seconds: 1, samples: 1 });
    // A smaller one: by its smallest ratio to the warm-up (half the pixels).
    expect(estimate.estimate(cost(50, 2))).toEqual({ seconds: 0.5, samples: 1 });
    estimate.record(WARMUP, 3000);
    expect(estimate.estimate(LONG)).toEqual({ seconds: 2, samples: 2 }); // 4000 ms over 2 pictures
  });

  it('give way to split batches once there are any', () => {
    const estimate = new ThroughputEstimate();
    estimate.record(WARMUP, 5000);
    estimate.record(WARMUP, 1000, [100, 600, 300]);
    expect(estimate.estimate(LONG)).toEqual({ seconds: 15.8, samples: 1 });
  });

  it('include batches whose parts cannot be read (wrong count, negative, all zero)', () => {
    const estimate = new ThroughputEstimate();
    estimate.record(WARMUP, 1000, [100, 900]);
    estimate.record(WARMUP, 1000, [100, -1, 901]);
    estimate.record(WARMUP, 1000, [0, 0, 0]);
    expect(estimate.estimate(LONG)).toEqual({ seconds: 1, samples: 3 });
  });

  it('with one number are the plain seconds per unit', () => {
    const estimate = new ThroughputEstimate();
    expect(estimate.estimate(10)).toBeUndefined();
    expect(estimate.secondsPerUnit).toBeUndefined();
    estimate.record(4, 2000);
    expect(estimate.secondsPerUnit).toBe(0.5);
    expect(estimate.estimate(10)).toEqual({ seconds: 5, samples: 1 });
  });
});

describe("the server's groups", () => {
  it('are pictures; pictures or pixels; evaluations or pixel-evaluations; the stage times split the same way', () => {
    expect(generationCost({ width: 64, height: 32, steps: 20 } as ResolvedGeneration)).toEqual([
      [1],
      [1, 2048],
      [21, 2048 * 21],
    ]);
    const timings = { tokenize: 1, textEncoder: 9, denoise: 200, vae: 40, unet: 180, scheduler: 5 };
    // What the batch spent outside the stages (here 300 - 250 ms) goes with the VAE's part.
    expect(generationTimeParts(timings, 300)).toEqual([10, 90, 200]);
    expect(generationTimeParts(timings, 240)).toEqual([10, 40, 200]);
  });
});
