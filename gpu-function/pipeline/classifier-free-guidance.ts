// Classifier-free guidance (Ho & Salimans 2022; the "w" of eq. 2 in the Imagen paper): the UNet
// sees each guided image twice, once with the unconditional embedding and once with the prompt's,
// and the two noise predictions are mixed as uncond + w · (cond − uncond). diffusers turns it on
// only when guidance_scale > 1 (pipeline_onnx_stable_diffusion.py), so a batch may mix guided
// images (two UNet rows) with unguided ones (one row).
import type { ResolvedGeneration } from '../../contract';

/** One row of the UNet batch: which request's latents, under which text embedding. */
export interface UnetRow {
  readonly request: number;
  /** Token ids come from the negative prompt (or "") for "unconditional", the prompt for "conditional". */
  readonly text: 'unconditional' | 'conditional';
  readonly prompt: string;
}

export function usesGuidance(request: ResolvedGeneration): boolean {
  return request.guidance > 1;
}

/**
 * Rows in request order; a guided request contributes [unconditional, conditional], as diffusers
 * concatenates `[uncond_embeddings, text_embeddings]` for a single prompt.
 */
export function buildUnetRows(batch: readonly ResolvedGeneration[]): UnetRow[] {
  return batch.flatMap((request, index): UnetRow[] => {
    const conditional: UnetRow = { request: index, text: 'conditional', prompt: request.prompt };
    if (!usesGuidance(request)) return [conditional];
    return [{ request: index, text: 'unconditional', prompt: request.negative_prompt }, conditional];
  });
}

/**
 * Splits the UNet's output [rows, …latent] back into one noise prediction per request, mixing
 * guided pairs. Arithmetic is float32 as in numpy: `uncond + scale * (text - uncond)`.
 */
export function applyGuidance(
  noise: Float32Array,
  rows: readonly UnetRow[],
  batch: readonly ResolvedGeneration[],
  latentSize: number,
): Float32Array[] {
  const predictions: Float32Array[] = [];
  let row = 0;
  for (const request of batch) {
    if (!usesGuidance(request)) {
      predictions.push(noise.slice(row * latentSize, (row + 1) * latentSize));
      row += 1;
      continue;
    }
    const unconditional = noise.subarray(row * latentSize, (row + 1) * latentSize);
    const conditional = noise.subarray((row + 1) * latentSize, (row + 2) * latentSize);
    const scale = Math.fround(request.guidance);
    const guided = new Float32Array(latentSize);
    for (let i = 0; i < latentSize; i++) {
      const u = unconditional[i]!;
      guided[i] = Math.fround(u + Math.fround(scale * Math.fround(conditional[i]! - u)));
    }
    predictions.push(guided);
    row += 2;
  }
  if (row !== rows.length) throw new Error(`Guidance consumed ${row} UNet rows of ${rows.length}`);
  return predictions;
}
