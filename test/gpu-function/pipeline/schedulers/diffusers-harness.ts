// The deterministic fixtures of diffusers' scheduler tests (tests/schedulers/test_schedulers.py,
// SchedulerCommonTest), so their full-loop tests run unchanged against the ports and their pinned
// result_sum / result_mean values apply.

/** Shape of dummy_sample_deter: batch 4, 3 channels, 8×8. */
export const DUMMY_SHAPE = [4, 3, 8, 8] as const;

/**
 * `dummy_sample_deter`: arange(768) reshaped to (3, 8, 8, 4), divided by 768 in float32, permuted
 * to (4, 3, 8, 8). Returned in the logical row-major order of that (4, 3, 8, 8) view, which is the
 * order torch.randn fills a (4, 3, 8, 8) tensor in.
 */
export function dummySampleDeter(): Float32Array {
  const [batch, channels, height, width] = DUMMY_SHAPE;
  const count = batch * channels * height * width;
  const out = new Float32Array(count);
  let i = 0;
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      for (let h = 0; h < height; h++) {
        for (let w = 0; w < width; w++) {
          const value = ((c * height + h) * width + w) * batch + b;
          out[i++] = value / count;
        }
      }
    }
  }
  return out;
}

/** `dummy_model`: `sample * t / (t + 1)`, elementwise in float32 (t is a 0-dim tensor there). */
export function dummyModel(sample: Float32Array, t: number): Float32Array {
  const denom = Math.fround(t + 1);
  return sample.map((x) => Math.fround(Math.fround(x * t) / denom));
}

/** `torch.sum(torch.abs(sample))` and `torch.mean(...)`, summed in double here. */
export function sumAndMeanAbs(sample: Float32Array): { sum: number; mean: number } {
  let sum = 0;
  for (const x of sample) sum += Math.abs(x);
  return { sum, mean: sum / sample.length };
}
