// For tests of what happens when a deadline passes after admission: the service refuses up front what
// its estimate says cannot finish in time (gpu-function/server/batcher/admission.ts), so to get such a
// request queued or running, the estimate is made to believe the device is instant — as it may be wrong
// in earnest (little measured yet, a slower batch than the recent ones).
import { THROUGHPUT_WINDOW } from '../../gpu-function/server/batcher/throughput';
import { generationCost } from '../../gpu-function/server/generation-batcher';
import type { InProcessService } from './gpu-function-service';

/** Fills the estimate's window with batches that took no time (the real ones that end later count again). */
export function believeDeviceFast(gpu: InProcessService): void {
  const model = gpu.service.state.model;
  if (model === undefined) throw new Error('The model is not loaded yet.');
  const { batcher, params } = model;
  const request = params.resolve({ prompt: 'instant', seed: 0 });
  const parts = generationCost(request).map(() => 1);
  for (let i = 0; i < THROUGHPUT_WINDOW; i++) batcher.recordThroughput([request], 0, parts);
}
