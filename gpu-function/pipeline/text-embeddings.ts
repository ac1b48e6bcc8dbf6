// Step 1 of the pipeline: token ids → CLIP text embeddings for every UNet row. Rows that share a
// text (the "" of every unguided negative prompt, a prompt asked for twice) are encoded once: the
// text encoder treats batch rows independently, so this changes no value, only the work.
import type { UnetRow } from './classifier-free-guidance';
import { inputTensor, readFloat32, type HostTensor, type ModelSession } from './onnx-runtime';
import type { ClipTokenizer } from './tokenizer/clip-tokenizer';

/**
 * [rows, sequence, hidden], row i for UnetRow i, in the dtype the text encoder returned when it is float16
 * or float32: an fp16 export's embeddings reach its fp16 UNet as they came, never decoded and re-encoded.
 */
export type TextEmbeddings = Extract<HostTensor, { type: 'float32' | 'float16' }>;

export interface TextEmbeddingTimes {
  tokenize: number;
  textEncoder: number;
}

export async function encodeTexts(
  tokenizer: ClipTokenizer,
  textEncoder: ModelSession,
  rows: readonly UnetRow[],
  times: TextEmbeddingTimes,
): Promise<TextEmbeddings> {
  const started = performance.now();
  const distinctTexts = [...new Set(rows.map((row) => row.prompt))];
  const ids = distinctTexts.map((text) => tokenizer.encode(text).inputIds);
  const sequence = ids[0]!.length;
  const flatIds = new Int32Array(distinctTexts.length * sequence);
  ids.forEach((tokenIds, i) => flatIds.set(tokenIds, i * sequence));
  const encoded = performance.now();
  times.tokenize += encoded - started;

  // diffusers feeds `input_ids.astype(np.int32)`; the export may declare int64, so build what it declares.
  const inputName = textEncoder.inputNames[0]!;
  const outputs = await textEncoder.run({
    [inputName]: inputTensor(textEncoder, inputName, flatIds, [distinctTexts.length, sequence]),
  });
  // The first output is last_hidden_state, what diffusers takes as `text_encoder(...)[0]`.
  const hiddenStates = outputs[textEncoder.outputNames[0]!];
  if (hiddenStates === undefined) throw new Error(`${textEncoder.path} returned no hidden states`);
  const hidden = hiddenStates.dims[2]!;
  const rowSize = sequence * hidden;
  const dims = [rows.length, sequence, hidden] as const;

  const source = hiddenStates.type === 'float16' ? hiddenStates.data : readFloat32(hiddenStates);
  const data = source instanceof Uint16Array ? new Uint16Array(rows.length * rowSize) : new Float32Array(rows.length * rowSize);
  rows.forEach((row, i) => {
    const text = distinctTexts.indexOf(row.prompt);
    data.set(source.subarray(text * rowSize, (text + 1) * rowSize), i * rowSize);
  });
  times.textEncoder += performance.now() - encoded;
  return data instanceof Uint16Array ? { type: 'float16', data, dims } : { type: 'float32', data, dims };
}
