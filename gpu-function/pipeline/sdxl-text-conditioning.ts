// SDXL's text conditioning, as StableDiffusionXLPipeline.encode_prompt and __call__ build it
// (diffusers/pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py):
//   - both CLIP encoders see the same text (prompt_2 defaults to prompt); from each, the hidden
//     states of the PENULTIMATE layer (`hidden_states[-2]`), concatenated on the last axis
//     (768 + 1280 = 2048 wide in SDXL) → `encoder_hidden_states`;
//   - the second encoder's pooled, projected output → `text_embeds`;
//   - `time_ids` = original size + crop corner + target size = (h, w, 0, 0, h, w) per image;
//   - the unconditional row is all zeros (embeddings and pooled) when no negative prompt was given
//     and model_index.json sets `force_zeros_for_empty_prompt` (SDXL's default); otherwise the
//     negative prompt (or "") is encoded by both encoders like a prompt.
// An empty negative prompt here means diffusers' `negative_prompt=None`: the API cannot tell them
// apart, and None is what a request without one passes.
//
// Exports name the hidden states `hidden_states.0` … `hidden_states.N` (optimum's CLIPText(WithProjection)
// OnnxConfig with output_hidden_states, as it exports SDXL; Olive's config the same); N is the layer
// count and `hidden_states.N` is the last layer before the final layer norm, so diffusers'
// `hidden_states[-2]` is `hidden_states.{N-1}` (optimum's ORTTextEncoder lists them that way too).
import { takeRows } from './batch-members';
import type { UnetRow } from './classifier-free-guidance';
import { readFloat32, type ModelSession } from './onnx-runtime';
import { encoderOutput, runTextEncoder, type TextEmbeddings, type TextEmbeddingTimes } from './text-embeddings';
import type { TextConditioner } from './text-conditioning';
import type { ClipTokenizer } from './tokenizer/clip-tokenizer';
import type { ResolvedGeneration } from '../../contract';

/** The second encoder's pooled output as optimum names it (CLIPTextWithProjectionOnnxConfig). */
export const POOLED_OUTPUT = 'text_embeds';

export interface SdxlTextEncoders {
  readonly tokenizer: ClipTokenizer;
  readonly textEncoder: ModelSession;
  readonly tokenizer2: ClipTokenizer;
  /** CLIPTextModelWithProjection: gives the pooled `text_embeds`. */
  readonly textEncoder2: ModelSession;
  /** model_index.json's `force_zeros_for_empty_prompt` (true for SDXL and SDXL-Turbo). */
  readonly forceZerosForEmptyPrompt: boolean;
}

export class SdxlTextConditioner implements TextConditioner {
  readonly unetInputs = ['encoder_hidden_states', 'text_embeds', 'time_ids'] as const;
  readonly #parts: SdxlTextEncoders;
  readonly #penultimate: readonly [string, string];

  constructor(parts: SdxlTextEncoders) {
    if (parts.tokenizer.maxLength !== parts.tokenizer2.maxLength) {
      const lengths = `${parts.tokenizer.maxLength} vs ${parts.tokenizer2.maxLength}`;
      throw new TypeError(`tokenizer and tokenizer_2 differ in length (${lengths})`);
    }
    if (!parts.textEncoder2.outputNames.includes(POOLED_OUTPUT)) {
      throw new TypeError(
        `${parts.textEncoder2.path} has no output '${POOLED_OUTPUT}' ` +
          `(it gives ${parts.textEncoder2.outputNames.join(', ')}); ` +
          'SDXL needs text_encoder_2 exported as CLIPTextModelWithProjection',
      );
    }
    this.#parts = parts;
    this.#penultimate = [penultimateHiddenState(parts.textEncoder), penultimateHiddenState(parts.textEncoder2)];
  }

  async condition(
    batch: readonly ResolvedGeneration[],
    rows: readonly UnetRow[],
    times: TextEmbeddingTimes,
  ): Promise<Readonly<Record<string, TextEmbeddings>>> {
    const zero = rows.map((row) => this.#isZeroRow(row));
    const texts = [...new Set(rows.filter((_, i) => !zero[i]).map((row) => row.prompt))];
    const { tokenizer, textEncoder, tokenizer2, textEncoder2 } = this.#parts;
    const first = await runTextEncoder(tokenizer, textEncoder, texts, times);
    const second = await runTextEncoder(tokenizer2, textEncoder2, texts, times);

    const started = performance.now();
    // A zero row (null) is left all zeros.
    const sources = rows.map((row, i) => (zero[i] ? null : texts.indexOf(row.prompt)));
    const states1 = takeRows(encoderOutput(textEncoder, first, this.#penultimate[0]), sources);
    const states2 = takeRows(encoderOutput(textEncoder2, second, this.#penultimate[1]), sources);
    const pooled = takeRows(encoderOutput(textEncoder2, second, POOLED_OUTPUT), sources);
    const timeIds = new Float32Array(rows.length * 6);
    rows.forEach((row, i) => timeIds.set(addTimeIds(batch[row.request]!), i * 6));
    const conditioning = {
      encoder_hidden_states: concatenateFeatures(states1, states2),
      text_embeds: pooled,
      time_ids: { type: 'float32', data: timeIds, dims: [rows.length, 6] },
    } as const;
    times.textEncoder += performance.now() - started;
    return conditioning;
  }

  /** diffusers: `negative_prompt is None and self.config.force_zeros_for_empty_prompt` → zeros_like. */
  #isZeroRow(row: UnetRow): boolean {
    return row.text === 'unconditional' && row.prompt === '' && this.#parts.forceZerosForEmptyPrompt;
  }
}

/**
 * torch.concat([embeds_1, embeds_2], dim=-1) of two [rows, sequence, width] tensors: per token, the first
 * encoder's values then the second's (768 + 1280 = 2048 wide in SDXL). Two float16 outputs are joined as
 * bits (an fp16 export's states reach its fp16 UNet untouched); otherwise in float32.
 */
function concatenateFeatures(first: TextEmbeddings, second: TextEmbeddings): TextEmbeddings {
  const [rows, sequence, width1] = first.dims as [number, number, number];
  const width2 = second.dims[2]!;
  const width = width1 + width2;
  const dims = [rows, sequence, width];
  const join = <T extends Float32Array | Uint16Array>(one: T, two: T, out: T): T => {
    for (let token = 0; token < rows * sequence; token++) {
      out.set(one.subarray(token * width1, (token + 1) * width1), token * width);
      out.set(two.subarray(token * width2, (token + 1) * width2), token * width + width1);
    }
    return out;
  };
  if (first.type === 'float16' && second.type === 'float16') {
    return { type: 'float16', data: join(first.data, second.data, new Uint16Array(rows * sequence * width)), dims };
  }
  const data = join(readFloat32(first), readFloat32(second), new Float32Array(rows * sequence * width));
  return { type: 'float32', data, dims };
}

/**
 * `_get_add_time_ids(original_size, crops_coords_top_left, target_size)` with diffusers' defaults:
 * original and target size are (height, width) of the picture, the crop corner (0, 0).
 */
export function addTimeIds(request: Pick<ResolvedGeneration, 'width' | 'height'>): number[] {
  return [request.height, request.width, 0, 0, request.height, request.width];
}

/** `hidden_states.{N-1}` of an export whose hidden states run from `hidden_states.0` to `hidden_states.N`. */
export function penultimateHiddenState(textEncoder: Pick<ModelSession, 'path' | 'outputNames'>): string {
  const layers = textEncoder.outputNames
    .map((name) => /^hidden_states\.(\d+)$/.exec(name)?.[1])
    .filter((index): index is string => index !== undefined)
    .map(Number);
  const last = Math.max(...layers);
  if (layers.length < 2 || !layers.includes(last - 1)) {
    throw new TypeError(
      `${textEncoder.path} gives no hidden_states.N outputs (it gives ${textEncoder.outputNames.join(', ')}); ` +
        'SDXL conditions on the penultimate layer, so export the text encoders with output_hidden_states ' +
          '(optimum does for SDXL)',
    );
  }
  return `hidden_states.${last - 1}`;
}
