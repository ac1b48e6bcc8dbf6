// A test-only port of `torch.manual_seed(seed)` + `torch.randn(n, generator=...)` for float32 on
// the CPU, so the diffusers scheduler tests whose expected values depend on torch noise (Euler
// ancestral, multi-step LCM) can run here. The pipeline never uses it: at inference the noise
// comes from the request's numpy RandomState.
//
// torch's CPUGeneratorImpl is a 32-bit MT19937 (ATen/core/MT19937RNGEngine.h) seeded like
// init_genrand. randn on a contiguous float32 tensor of at least 16 values is normal_fill
// (ATen/native/cpu/DistributionTemplates.h): every value first gets a uniform
// (random() & (2^24 − 1)) · 2^−24, then each block of 16 becomes 8 Box–Muller pairs
// (u1 = 1 − data[j], u2 = data[j + 8]); when n % 16 ≠ 0 the last 16 are redrawn and transformed.
// torch's AVX2 build evaluates log/sin/cos with SIMD approximations, so values can differ from
// torch's in the last float32 bit; the diffusers tests compare sums to 1e-2 or 1e-3.
import type { NormalSource } from '../../../../gpu-function/pipeline/types';

const N = 624;
const M = 397;

export class TorchGenerator implements NormalSource {
  readonly #state = new Uint32Array(N);
  #index = N;

  constructor(seed: number) {
    this.#state[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.#state[i - 1]!;
      this.#state[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  /** The next 32-bit output (genrand_int32). */
  random(): number {
    if (this.#index >= N) this.#twist();
    let y = this.#state[this.#index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  randn(count: number): Float32Array {
    if (count < 16) throw new RangeError('this port covers normal_fill only (tensors of at least 16 values)');
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = this.#uniform();
    for (let i = 0; i + 16 <= count; i += 16) normalFill16(data, i);
    if (count % 16 !== 0) {
      const start = count - 16;
      for (let i = 0; i < 16; i++) data[start + i] = this.#uniform();
      normalFill16(data, start);
    }
    return data;
  }

  #uniform(): number {
    return (this.random() & 0xffffff) * 2 ** -24;
  }

  #twist(): void {
    const s = this.#state;
    for (let i = 0; i < N; i++) {
      const y = (s[i]! & 0x80000000) | (s[(i + 1) % N]! & 0x7fffffff);
      s[i] = s[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.#index = 0;
  }
}

function normalFill16(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = Math.fround(1 - data[offset + j]!);
    const u2 = data[offset + j + 8]!;
    const radius = Math.fround(Math.sqrt(Math.fround(-2 * Math.fround(Math.log(u1)))));
    const theta = Math.fround(2 * Math.PI * u2);
    data[offset + j] = radius * Math.fround(Math.cos(theta));
    data[offset + j + 8] = radius * Math.fround(Math.sin(theta));
  }
}
