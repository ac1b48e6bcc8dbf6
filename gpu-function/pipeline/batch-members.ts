// The requests of a batch that are still being generated, with their UNet rows and everything laid out
// per row (text embeddings). When some are no longer wanted (GenerationHooks.isWanted), `keepWanted`
// narrows the batch: their rows leave the UNet's input from the next step on, so abandoned work stops
// costing compute while the rest of the batch goes on. A remaining request keeps the pixels it gets
// alone, as the networks treat batch rows independently (the batch-invariance test in
// test/gpu-function/pipeline/reference-images.test.ts, and the cancellation test beside it).
import { buildUnetRows, type UnetRow } from './classifier-free-guidance';
import type { HostTensor } from './onnx-runtime';
import type { ResolvedGeneration } from '../../contract';

/** A float tensor laid out row by row along its first dimension, one row per UnetRow (text embeddings). */
export type RowTensor = Extract<HostTensor, { type: 'float32' | 'float16' }>;

export class BatchMembers<State> {
  readonly #batch: readonly ResolvedGeneration[];
  #indices: readonly number[];
  #states: readonly State[];
  #rows: readonly UnetRow[];
  #perRow: readonly RowTensor[];

  /**
   * `indices`: the members, as indices into `batch`, ascending; `states[i]` belongs to `indices[i]`.
   * `perRow`: tensors with one row per UnetRow of the members (buildUnetRows of the members' requests).
   */
  constructor(batch: readonly ResolvedGeneration[], indices: readonly number[], states: readonly State[], perRow: readonly RowTensor[]) {
    if (states.length !== indices.length) throw new RangeError(`${states.length} states for ${indices.length} members`);
    this.#batch = batch;
    this.#indices = indices;
    this.#states = states;
    this.#rows = membersRows(batch, indices);
    for (const tensor of perRow) checkRows(tensor, this.#rows.length);
    this.#perRow = perRow;
  }

  /** The indices in the batch of the requests still in it, ascending. */
  get indices(): readonly number[] {
    return this.#indices;
  }

  get states(): readonly State[] {
    return this.#states;
  }

  get requests(): ResolvedGeneration[] {
    return this.#indices.map((index) => this.#batch[index]!);
  }

  /** The UNet rows of the members; `row.request` is a position in `indices`. */
  get rows(): readonly UnetRow[] {
    return this.#rows;
  }

  get perRow(): readonly RowTensor[] {
    return this.#perRow;
  }

  /**
   * Drops the members no longer wanted, with their rows. Returns whether any member is left; when
   * members were dropped, `rows` and `perRow` describe the smaller batch.
   */
  keepWanted(isWanted: (index: number) => boolean): boolean {
    const kept = this.#indices.flatMap((index, position) => (isWanted(index) ? [position] : []));
    if (kept.length === this.#indices.length) return true;
    const keptSet = new Set(kept);
    const keptRows = this.#rows.flatMap((row, i) => (keptSet.has(row.request) ? [i] : []));
    this.#indices = kept.map((position) => this.#indices[position]!);
    this.#states = kept.map((position) => this.#states[position]!);
    this.#rows = membersRows(this.#batch, this.#indices);
    if (keptRows.length !== this.#rows.length) throw new Error(`kept ${keptRows.length} rows for ${this.#rows.length}`);
    this.#perRow = this.#perRow.map((tensor) => takeRows(tensor, keptRows));
    return kept.length > 0;
  }
}

/** The indices of `batch` that are wanted, ascending. */
export function wantedIndices(batch: readonly unknown[], isWanted: (index: number) => boolean): number[] {
  return batch.flatMap((_, index) => (isWanted(index) ? [index] : []));
}

function membersRows(batch: readonly ResolvedGeneration[], indices: readonly number[]): UnetRow[] {
  return buildUnetRows(indices.map((index) => batch[index]!));
}

function checkRows(tensor: RowTensor, rows: number): void {
  if (tensor.dims[0] !== rows) throw new RangeError(`a tensor of ${tensor.dims[0]} rows for ${rows} UNet rows`);
}

/**
 * The given rows of a row-major tensor, in the order given, in its dtype (float16 bits copied, never
 * reconverted). A null row is all zeros (0 is +0.0 in float32 and float16 alike): SDXL's zeroed
 * unconditional embeddings.
 */
export function takeRows(tensor: RowTensor, rows: readonly (number | null)[]): RowTensor {
  const rowSize = tensor.dims.slice(1).reduce((product, dim) => product * dim, 1);
  const dims = Object.freeze([rows.length, ...tensor.dims.slice(1)]);
  const pick = <T extends Float32Array | Uint16Array>(data: T, into: T): T => {
    rows.forEach((row, i) => {
      if (row !== null) into.set(data.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize);
    });
    return into;
  };
  return tensor.type === 'float16'
    ? { type: 'float16', data: pick(tensor.data, new Uint16Array(rows.length * rowSize)), dims }
    : { type: 'float32', data: pick(tensor.data, new Float32Array(rows.length * rowSize)), dims };
}
