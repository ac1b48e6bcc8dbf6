// What separates the model families inside the one denoising loop (stable-diffusion.ts): how the
// prompts of a batch become the UNet's text inputs. SD 1.x/2.x feed `encoder_hidden_states` only
// (diffusers' OnnxStableDiffusionPipeline); SDXL adds the pooled text embeddings and the size
// conditioning (`text_embeds`, `time_ids`; sdxl-text-conditioning.ts). Everything else — noise,
// schedulers, guidance, the VAE — is shared.
import type { UnetRow } from './classifier-free-guidance';
import type { ModelSession } from './onnx-runtime';
import { encodeTexts, type TextEmbeddings, type TextEmbeddingTimes } from './text-embeddings';
import type { ClipTokenizer } from './tokenizer/clip-tokenizer';
import type { ResolvedGeneration } from '../../contract';

export interface TextConditioner {
  /** The UNet inputs `condition` fills, besides `sample` and `timestep`. */
  readonly unetInputs: readonly string[];
  /**
   * The UNet's text inputs for a batch, one row per UnetRow, built once and fed unchanged at every step.
   * Each tensor keeps the dtype it was computed in (an fp16 encoder's float16 bits); the loop converts
   * only where the UNet declares another dtype (onnx-runtime.ts feedFrom).
   */
  condition(
    batch: readonly ResolvedGeneration[],
    rows: readonly UnetRow[],
    times: TextEmbeddingTimes,
  ): Promise<Readonly<Record<string, TextEmbeddings>>>;
}

/** SD 1.x/2.x: one CLIP text encoder, its last hidden state as `encoder_hidden_states`. */
export class ClipTextConditioner implements TextConditioner {
  readonly unetInputs = ['encoder_hidden_states'] as const;
  readonly #tokenizer: ClipTokenizer;
  readonly #textEncoder: ModelSession;

  constructor(tokenizer: ClipTokenizer, textEncoder: ModelSession) {
    this.#tokenizer = tokenizer;
    this.#textEncoder = textEncoder;
  }

  async condition(_batch: readonly ResolvedGeneration[], rows: readonly UnetRow[], times: TextEmbeddingTimes) {
    const embeddings = await encodeTexts(this.#tokenizer, this.#textEncoder, rows, times);
    return { encoder_hidden_states: embeddings };
  }
}
