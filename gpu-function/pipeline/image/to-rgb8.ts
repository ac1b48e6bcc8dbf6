// Turns one image of the VAE decoder's output into RGB8 pixels, the way diffusers does it:
//   image = np.clip(image / 2 + 0.5, 0, 1)                (OnnxStableDiffusionPipeline.__call__)
//   image = image.transpose((0, 2, 3, 1))                 (NCHW -> NHWC)
//   images = (images * 255).round().astype("uint8")       (DiffusionPipeline.numpy_to_pil)
// in float32 throughout (the decoder's output dtype), with numpy's round-half-to-even. Doing each
// step in float32 and rounding the same way is what makes the pixels equal diffusers' bytes rather
// than "within a level".
import { float16DecodeTable } from '../float16';
import { float32Kernels } from '../kernels/simd-kernels';
import type { HostTensor } from '../onnx-runtime';

/**
 * Every image of the VAE decoder's output (`[images, 3, height, width]`, float16 or float32) as RGB8
 * pixels, or undefined when the output holds a NaN: a float16 VAE that overflowed (SDXL's original VAE
 * does), whose picture would otherwise come out black. float16 goes through the SIMD kernel where it
 * loads (one pass that also finds NaN), else by table.
 */
export function decoderOutputToRgb8(
  output: HostTensor,
  images: number,
  width: number,
  height: number,
): Uint8Array[] | undefined {
  if (output.type !== 'float16') {
    if (output.type !== 'float32' && output.type !== 'float64')
      throw new TypeError(`the VAE decoder returned ${output.type}, not a float tensor`);
    const values = output.type === 'float32' ? output.data : Float32Array.from(output.data);
    for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i]!)) return undefined;
    return Array.from({ length: images }, (_, i) => decodedImageToRgb8(values, i, width, height));
  }
  const halves = output.data;
  const plane = width * height;
  const kernels = plane % 16 === 0 ? float32Kernels() : undefined;
  const pictures: Uint8Array[] = [];
  for (let i = 0; i < images; i++) {
    const source = imagePlanes(halves.length, i, width, height);
    if (kernels === undefined) {
      if (float16ContainsNaN(halves.subarray(source, source + 3 * plane))) return undefined;
      pictures.push(float16ImageToRgb8(halves, i, width, height));
    } else {
      const pixels = new Uint8Array(3 * plane);
      if (kernels.float16ImageToRgb8(halves.subarray(source, source + 3 * plane), pixels)) return undefined;
      pictures.push(pixels);
    }
  }
  return pictures;
}

/**
 * `data` is the decoder's `sample` output, NCHW float32 `[batch, 3, height, width]`; returns image
 * `batchIndex` as row-major RGB8 (height × width × 3). NaN maps to 0 (numpy's NaN → uint8 cast is
 * undefined behaviour; x86 gives 0).
 */
export function decodedImageToRgb8(data: Float32Array, batchIndex: number, width: number, height: number): Uint8Array {
  const source = imagePlanes(data.length, batchIndex, width, height);
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let channel = 0; channel < 3; channel++) {
    const from = source + channel * plane;
    for (let i = 0, to = channel; i < plane; i++, to += 3) out[to] = unitToByte(data[from + i]!);
  }
  return out;
}

/**
 * The same for a float16 decoder output (`halves` holds the bit patterns), by table (the reference of the
 * SIMD kernel decoderOutputToRgb8 uses, and its path where WebAssembly SIMD is missing): a float16 value has
 * only 65 536 bit patterns, so `unitToByte` of each is computed once (on first use) and the image is one
 * look-up per value — the same bytes as decoding to float32 first, in a small fraction of the time.
 */
export function float16ImageToRgb8(halves: Uint16Array, batchIndex: number, width: number, height: number): Uint8Array {
  const source = imagePlanes(halves.length, batchIndex, width, height);
  const plane = width * height;
  const table = float16ByteTable();
  const out = new Uint8Array(plane * 3);
  // Pixel by pixel, reading the three planes side by side: the writes run in order (a quarter faster
  // than a pass per channel writing every third byte).
  const [red, green, blue] = [source, source + plane, source + 2 * plane];
  for (let i = 0, to = 0; i < plane; i++, to += 3) {
    out[to] = table[halves[red + i]!]!;
    out[to + 1] = table[halves[green + i]!]!;
    out[to + 2] = table[halves[blue + i]!]!;
  }
  return out;
}

/** Whether float16 bit patterns hold a NaN: a magnitude above 0x7c00 (exponent all ones, mantissa not zero). */
export function float16ContainsNaN(bits: Uint16Array): boolean {
  // Two halves per 32-bit word: adding 0x3ff to a half's magnitude sets its bit 15 exactly when it is a
  // NaN (and never carries into the other half).
  const pairs = bits.length >> 1;
  let carries = 0;
  if (bits.byteOffset % 4 === 0) {
    const words = new Uint32Array(bits.buffer, bits.byteOffset, pairs);
    for (let i = 0; i < pairs; i++) carries |= (words[i]! & 0x7fff7fff) + 0x03ff03ff;
  } else {
    for (let i = 0; i < 2 * pairs; i++) carries |= (bits[i]! & 0x7fff) + 0x3ff;
  }
  if ((carries & 0x80008000) !== 0) return true;
  return bits.length % 2 === 1 && (bits[bits.length - 1]! & 0x7fff) > 0x7c00;
}

let byteTable: Uint8Array | undefined;

/** unitToByte of every float16 value, indexed by its bit pattern. */
export function float16ByteTable(): Uint8Array {
  if (byteTable === undefined) {
    const values = float16DecodeTable();
    byteTable = new Uint8Array(values.length);
    for (let half = 0; half < values.length; half++) byteTable[half] = unitToByte(values[half]!);
  }
  return byteTable;
}

/** Where image `batchIndex` starts in an NCHW `[batch, 3, height, width]` array of `length` values. */
function imagePlanes(length: number, batchIndex: number, width: number, height: number): number {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`width and height must be positive integers, got ${width}×${height}`);
  }
  const offset = batchIndex * 3 * width * height;
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || offset + 3 * width * height > length) {
    throw new RangeError(
      `image ${batchIndex} of ${width}×${height} needs ${offset + 3 * width * height} values, the decoder output has ${length}`,
    );
  }
  return offset;
}

/**
 * One decoder value to a byte. Every intermediate is rounded to float32 with Math.fround; float64
 * arithmetic followed by one float32 rounding equals float32 arithmetic for + and × (the double
 * has more than 2·24 + 2 bits, so double rounding cannot change the result).
 */
export function unitToByte(value: number): number {
  let x = Math.fround(Math.fround(value / 2) + 0.5);
  // np.clip(x, 0, 1); a NaN survives clip in numpy and is dealt with below.
  if (x < 0) x = 0;
  else if (x > 1) x = 1;
  const scaled = Math.fround(x * 255);
  if (Number.isNaN(scaled)) return 0;
  return roundHalfToEven(scaled);
}

/** numpy's `round` (IEEE round-half-to-even); JavaScript's Math.round rounds halves up. */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
