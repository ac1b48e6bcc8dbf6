// Which requests may share one batched pipeline call. They must walk the same timesteps (same
// scheduler and step count) over latents of the same shape (same width and height); prompts,
// seeds and guidance may differ per request.
import type { ResolvedGeneration } from '../../contract';

/** Requests with equal keys can run as one batch. */
export function batchKeyOf(request: ResolvedGeneration): string {
  return `${request.width}x${request.height}:${request.steps}:${request.scheduler}`;
}

export function assertBatchCompatible(batch: readonly ResolvedGeneration[]): void {
  const first = batch[0];
  if (first === undefined) throw new TypeError('A batch needs at least one request');
  const key = batchKeyOf(first);
  for (const request of batch) {
    if (batchKeyOf(request) !== key) {
      throw new TypeError(`Requests in one batch must share size, steps and scheduler: ${key} vs ${batchKeyOf(request)}`);
    }
  }
}
