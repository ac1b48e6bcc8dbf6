// Classifier-free guidance (Ho & Salimans 2022; the "w" of eq. 2 in the Imagen paper): the UNet
// sees each guided image twice, once with the unconditional embedding and once with the prompt's,
// and the two noise predictions are mixed as uncond + w · (cond − uncond). diffusers turns it on
// only when guidance_scale > 1 (pipeline_onnx_stable_diffusion.py), so a batch may mix guided
// images (two UNet rows) with unguided ones (one row).
import type { ResolvedGeneration } from '../../contract';
import { float16DecodeTable, float16ToFloat32Into, KERNEL_MIN_LENGTH } from './float16';
import { float32Kernels } from './kernels/simd-kernels';
import { readFloat32, type HostTensor } from './onnx-runtime';

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
 * guided pairs, written into `predictions` (one latent-sized buffer per request, reused every step).
 * Arithmetic is float32 as in numpy: `uncond + scale * (text - uncond)`. A float16 output is decoded
 * by table in the same pass (exact: every float16 is a float32), so it is read once and never copied.
 */
export function applyGuidance(
  noise: HostTensor,
  rows: readonly UnetRow[],
  batch: readonly ResolvedGeneration[],
  latentSize: number,
  predictions: readonly Float32Array[],
): void {
  if (noise.data.length !== rows.length * latentSize) {
    throw new Error(`The UNet returned ${noise.data.length} values for ${rows.length} rows of ${latentSize}`);
  }
  // float16 is decoded through the table; any other dtype is read as float32 first.
  const halves = noise.type === 'float16' ? noise.data : undefined;
  const values = halves === undefined ? readFloat32(noise) : undefined;
  let row = 0;
  for (const [index, request] of batch.entries()) {
    const guided = predictions[index]!;
    const first = row * latentSize;
    if (!usesGuidance(request)) {
      if (halves !== undefined) float16ToFloat32Into(halves.subarray(first, first + latentSize), guided);
      else guided.set(values!.subarray(first, first + latentSize));
      row += 1;
      continue;
    }
    const second = first + latentSize;
    const scale = Math.fround(request.guidance);
    const kernels = halves !== undefined && latentSize >= KERNEL_MIN_LENGTH ? float32Kernels() : undefined;
    if (kernels !== undefined) {
      // Four lanes at a time (kernels/); the groups holding a float16 that is not normal, by the loop below.
      for (const start of kernels.guidanceFloat16(halves!, first, second, scale, guided)) {
        guideFloat16(halves!, first, second, scale, guided, start, Math.min(start + 4, latentSize));
      }
    } else if (halves !== undefined) {
      guideFloat16(halves, first, second, scale, guided, 0, latentSize);
    } else {
      for (let i = 0; i < latentSize; i++) {
        const u = values![first + i]!;
        guided[i] = Math.fround(u + Math.fround(scale * Math.fround(values![second + i]! - u)));
      }
    }
    row += 2;
  }
  if (row !== rows.length) throw new Error(`Guidance consumed ${row} UNet rows of ${rows.length}`);
}

/** Guidance of elements `from` … `to` of a float16 pair of rows starting at `first` and `second`, decoded by table. */
function guideFloat16(
  halves: Uint16Array,
  first: number,
  second: number,
  scale: number,
  guided: Float32Array,
  from: number,
  to: number,
): void {
  const table = float16DecodeTable();
  for (let i = from; i < to; i++) {
    const u = table[halves[first + i]!]!;
    guided[i] = Math.fround(u + Math.fround(scale * Math.fround(table[halves[second + i]!]! - u)));
  }
}
