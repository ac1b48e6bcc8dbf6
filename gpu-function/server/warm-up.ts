// What start-up runs before /ping says 200, and what it tells the operator when one of those runs fails.
// Two aims (issues 10 and 12):
//
// - Memory: the largest picture the limits admit (max_pixels, within the sides and their multiple), in
//   the largest batch of it that MAX_BATCH_PIXELS and MAX_BATCH_SIZE admit, guided (classifier-free
//   guidance doubles the UNet's rows, so a guided picture is the dearest one). If the machine cannot run
//   that, it fails here, with the settings that lower it named, rather than on a client's request later.
// - Speed: every batch size the batcher may form at the default size, 1 … MAX_BATCH_SIZE while the batch's
//   pixels fit MAX_BATCH_PIXELS, so no real request pays onnxruntime's first run of a shape (its
//   allocations; on CUDA, cuDNN's algorithm search).
//
// The dearest run goes first: if the machine cannot take it, start-up fails before the rest.
import type { ModelDefaults, ModelLimits } from '../../contract';

export interface WarmupRun {
  readonly width: number;
  readonly height: number;
  readonly batch: number;
  readonly guidance: number;
  /** `largest`: the largest admitted picture at its largest batch; `default`: the default size. */
  readonly kind: 'largest' | 'default';
}

export interface WarmupBudget {
  /** MAX_BATCH_SIZE. */
  readonly maxBatchSize: number;
  /** MAX_BATCH_PIXELS as in force (budgetsOf). */
  readonly maxBatchPixels: number;
}

/** Guidance scales above this turn classifier-free guidance on (usesGuidance, classifier-free-guidance.ts). */
const UNGUIDED_UP_TO = 1;
const STAND_IN_GUIDANCE = 7.5;
const guided = (guidance: number): boolean => guidance > UNGUIDED_UP_TO;

/** The runs, dearest first, each shape and batch once. */
export function warmupPlan(
  limits: ModelLimits,
  defaults: Pick<ModelDefaults, 'width' | 'height' | 'guidance'>,
  budget: WarmupBudget,
): WarmupRun[] {
  const largest = largestShape(limits);
  const runs: WarmupRun[] = [];
  if (largest !== undefined) {
    const batch = Math.max(
      1,
      Math.min(budget.maxBatchSize, Math.floor(budget.maxBatchPixels / (largest.width * largest.height))),
    );
    // Guided whatever the default (a turbo model's is 0): a client may ask for guidance, and it doubles
    // the UNet's rows; the scale itself costs nothing, so diffusers' default stands in.
    const guidance = guided(defaults.guidance) ? defaults.guidance : STAND_IN_GUIDANCE;
    runs.push({ ...largest, batch, guidance, kind: 'largest' });
  }
  const { width, height, guidance } = defaults;
  for (let batch = 1; batch <= budget.maxBatchSize; batch++) {
    // Batch 1 always: the default picture must run even where the budget would not admit it.
    if (batch > 1 && batch * width * height > budget.maxBatchPixels) break;
    // The same UNet shapes already ran (guided or not decides its rows): once is enough.
    const ran = (run: WarmupRun) =>
      run.width === width && run.height === height && run.batch === batch && guided(run.guidance) === guided(guidance);
    if (runs.some(ran)) continue;
    runs.push({ width, height, batch, guidance, kind: 'default' });
  }
  return runs;
}

/**
 * The largest width × height the limits admit: sides between min_side and max_side in multiples of
 * side_multiple, their product at most max_pixels (max_side² when unset). Of equal products, the most
 * nearly square (the common request), landscape before portrait. undefined when no side is admitted.
 */
export function largestShape(limits: ModelLimits): { width: number; height: number } | undefined {
  const maxPixels = limits.max_pixels ?? limits.max_side ** 2;
  const sides: number[] = [];
  const first = Math.ceil(limits.min_side / limits.side_multiple) * limits.side_multiple;
  for (let side = first; side <= limits.max_side; side += limits.side_multiple) sides.push(side);
  let best: { width: number; height: number } | undefined;
  for (const width of sides) {
    for (const height of sides) {
      if (height > width || width * height > maxPixels) continue;
      const pixels = width * height;
      const bestPixels = best === undefined ? 0 : best.width * best.height;
      if (
        pixels > bestPixels ||
        (pixels === bestPixels && best !== undefined && width - height < best.width - best.height)
      ) {
        best = { width, height };
      }
    }
  }
  return best;
}

/** Why a warm-up run failed, and which settings make it smaller; the original error is the cause. */
export function warmupFailure(run: WarmupRun, steps: number, error: unknown): Error {
  const what = `${run.width}×${run.height} at batch ${run.batch} (${steps} warm-up steps)`;
  const reason = error instanceof Error ? error.message : String(error);
  const lower =
    run.kind === 'largest'
      ? `this is the largest picture the limits admit (MAX_PIXELS, or limits.max_pixels in the model's dreamurl.json; ` +
        'else MAX_SIDE / limits.max_side) in the largest batch of it that MAX_BATCH_PIXELS and MAX_BATCH_SIZE admit; ' +
        'lower those until it fits this machine'
      : `this is the default size (DEFAULT_WIDTH, DEFAULT_HEIGHT, or defaults.width/height in dreamurl.json) in a batch ` +
        'the batcher may form; lower MAX_BATCH_SIZE or MAX_BATCH_PIXELS, or the default size';
  return new Error(`warm-up failed: the pipeline could not run ${what}: ${reason}; ${lower}`, { cause: error });
}
