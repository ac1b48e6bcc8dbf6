// Wraps the in-process generator so shutdown can wait for generations still running — including
// those whose client hung up — and a picture the GPU already made is stored rather than lost.
import type { GeneratedImage, GenerationJob, ImageGenerator } from '../generation/image-generator';

export class DrainableGenerator implements ImageGenerator {
  readonly #inner: ImageGenerator;
  readonly #running = new Set<Promise<GeneratedImage>>();

  constructor(inner: ImageGenerator) {
    this.#inner = inner;
  }

  generate(job: GenerationJob): Promise<GeneratedImage> {
    const running = this.#inner.generate(job);
    this.#running.add(running);
    const forget = () => this.#running.delete(running);
    running.then(forget, forget);
    return running;
  }

  /** Generations not settled yet (coalesced calls count once per caller). */
  get running(): number {
    return this.#running.size;
  }

  /** Resolves once every generation started so far (and any started meanwhile) has settled. */
  async drained(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
