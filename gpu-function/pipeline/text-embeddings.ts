// Step 1 of the pipeline: token ids → CLIP text encoder outputs for every UNet row. Rows that share
// a text (the "" of every unguided negative prompt, a prompt asked for twice) are encoded once: the
// text encoder treats batch rows independently, so this changes no value, only the work.
import { takeRows, type RowTensor } from './batch-members';
import type { UnetRow } from './classifier-free-guidance';
import { inputTensor, readFloat32, type HostTensor, type ModelSession } from './onnx-runtime';
import type { ClipTokenizer } from './tokenizer/clip-tokenizer';

/**
 * A text encoder's output ([rows, sequence, hidden] states, or [rows, width] pooled), row i for UnetRow i,
 * in the dtype the encoder returned when it is float16 or float32: an fp16 export's embeddings reach its
 * fp16 UNet as they came, never decoded and re-encoded.
 */
export type TextEmbeddings = RowTensor;

export interface TextEmbeddingTimes {
  tokenize: number;
  textEncoder: number;
}

/** One text encoder run over distinct texts: its outputs by name, row i for texts[i]. */
export async function runTextEncoder(
  tokenizer: ClipTokenizer,
  textEncoder: ModelSession,
  texts: readonly string[],
  times: TextEmbeddingTimes,
): Promise<Record<string, HostTensor>> {
  const started = performance.now();
  const ids = texts.map((text) => tokenizer.encode(text).inputIds);
  const sequence = tokenizer.maxLength;
  const flatIds = new Int32Array(texts.length * sequence);
  ids.forEach((tokenIds, i) => flatIds.set(tokenIds, i * sequence));
  const encoded = performance.now();
  times.tokenize += encoded - started;

  // diffusers feeds `input_ids.astype(np.int32)`; the export may declare int64, so build what it declares.
  const inputName = textEncoder.inputNames[0]!;
  const outputs = await textEncoder.run({
    [inputName]: inputTensor(textEncoder, inputName, flatIds, [texts.length, sequence]),
  });
  times.textEncoder += performance.now() - encoded;
  return outputs;
}

/**
 * A named output, float16 kept as it came and float32 as is (any other dtype read as float32); a clear
 * error when the export lacks it.
 */
export function encoderOutput(
  textEncoder: ModelSession,
  outputs: Record<string, HostTensor>,
  name: string,
): TextEmbeddings {
  const output = outputs[name];
  if (output === undefined) {
    throw new Error(`${textEncoder.path} has no output '${name}' (it gives ${textEncoder.outputNames.join(', ')})`);
  }
  if (output.type === 'float16' || output.type === 'float32') return output;
  return { type: 'float32', data: readFloat32(output), dims: output.dims };
}

/** SD 1.x/2.x: the encoder's last_hidden_state (its first output, `text_encoder(...)[0]`) per row. */
export async function encodeTexts(
  tokenizer: ClipTokenizer,
  textEncoder: ModelSession,
  rows: readonly UnetRow[],
  times: TextEmbeddingTimes,
): Promise<TextEmbeddings> {
  const distinctTexts = [...new Set(rows.map((row) => row.prompt))];
  const outputs = await runTextEncoder(tokenizer, textEncoder, distinctTexts, times);
  const started = performance.now();
  const hiddenStates = encoderOutput(textEncoder, outputs, textEncoder.outputNames[0]!);
  const embeddings = takeRows(hiddenStates, rows.map((row) => distinctTexts.indexOf(row.prompt)));
  times.textEncoder += performance.now() - started;
  return embeddings;
}
