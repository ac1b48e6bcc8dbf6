// The CLIP tokenizer as Stable Diffusion pipelines use it: openai/CLIP's text cleaning and word
// split, byte-level BPE with '</w>' word ends (the BPE model of @huggingface/tokenizers), then
// diffusers' truncation and padding to the text encoder's 77 positions:
//   text_inputs = self.tokenizer(prompt, padding="max_length", max_length=77, truncation=True)
// (diffusers/pipelines/stable_diffusion/pipeline_onnx_stable_diffusion.py, _encode_prompt), i.e.
// [start] + ids[:75] + [end], then the pad token up to 77.
import { BPE } from '@huggingface/tokenizers';
import { byteLevelEncode, END_OF_TEXT, splitWords, START_OF_TEXT } from './clip-pre-tokenizer';
import { cleanPromptText } from './clip-text-cleaning';
import { readTokenizerFolder, type ClipTokenizerFiles } from './tokenizer-files';

export interface EncodedPrompt {
  /** `maxLength` (77) ids: start token, up to 75 prompt tokens, end token, pad tokens. */
  readonly inputIds: Int32Array;
  /** Tokens of the cleaned prompt, without start and end tokens, before truncation. */
  readonly tokenCount: number;
  /** Whether the prompt lost tokens to the length limit (tokenCount > maxLength − 2). */
  readonly truncated: boolean;
}

export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly #vocab: ReadonlyMap<string, number>;
  readonly #bpe: BPE;

  static async fromFolder(dir: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readTokenizerFolder(dir));
  }

  constructor(files: ClipTokenizerFiles) {
    this.maxLength = files.maxLength;
    this.#vocab = files.vocab;
    this.bosId = files.vocab.get(files.bosToken)!;
    this.eosId = files.vocab.get(files.eosToken)!;
    this.padId = files.vocab.get(files.padToken)!;
    this.#bpe = new BPE({
      type: 'BPE',
      vocab: Object.fromEntries(files.vocab),
      merges: files.merges.map(([left, right]) => [left, right] as [string, string]),
      end_of_word_suffix: '</w>',
      ignore_merges: false,
    });
  }

  /** The prompt's token ids, without start/end tokens and not truncated (CLIP's `encode`). */
  tokenize(prompt: string): number[] {
    const ids: number[] = [];
    for (const word of splitWords(cleanPromptText(prompt))) {
      // CLIP's BPE cache returns the two special tokens whole when they appear in the text.
      if (word === START_OF_TEXT || word === END_OF_TEXT) {
        ids.push(this.#id(word));
        continue;
      }
      for (const token of this.#bpe.bpe(byteLevelEncode(word))) ids.push(this.#id(token));
    }
    return ids;
  }

  /** What the text encoder is fed for `prompt`. */
  encode(prompt: string): EncodedPrompt {
    const ids = this.tokenize(prompt);
    const room = this.maxLength - 2;
    const inputIds = new Int32Array(this.maxLength).fill(this.padId);
    inputIds[0] = this.bosId;
    const kept = Math.min(ids.length, room);
    for (let i = 0; i < kept; i++) inputIds[i + 1] = ids[i]!;
    inputIds[kept + 1] = this.eosId;
    return { inputIds, tokenCount: ids.length, truncated: ids.length > room };
  }

  #id(token: string): number {
    const id = this.#vocab.get(token);
    // Byte-level BPE always ends in vocabulary tokens (all 256 byte symbols are in it); a miss
    // means the vocabulary and merges do not belong together.
    if (id === undefined) throw new Error(`token "${token}" is not in the tokenizer's vocabulary`);
    return id;
  }
}
