// ImageGenerator on Durable Objects: all requests for one content key meet in one
// GenerationCoordinator (named by the key), which coalesces them in memory. The object also
// outlives the request that started a generation, so a client that gives up does not waste it.
import { DurableObject } from 'cloudflare:workers';
import { ProblemError, type ProblemInit } from '../../contract';
import { gpuUnavailable } from '../errors/problems';
import { log } from '../log';
import { R2ImageStore } from '../storage/r2-image-store';
import { CoalescingGenerator } from './coalescing-generator';
import type { GeneratedImage, GenerationJob, ImageGenerator } from './image-generator';

/** RPC result: class instances do not survive RPC, so a problem travels as plain data. */
export type GenerationOutcome =
  | { readonly ok: true; readonly image: GeneratedImage }
  | { readonly ok: false; readonly problem: ProblemInit };

export class GenerationCoordinator extends DurableObject<Env> {
  readonly #generator = new CoalescingGenerator(new R2ImageStore(this.env.IMAGES));

  async generate(job: GenerationJob): Promise<GenerationOutcome> {
    try {
      return { ok: true, image: await this.#generator.generate(job) };
    } catch (error) {
      if (error instanceof ProblemError) return { ok: false, problem: error.problem };
      throw error;
    }
  }
}

export class DurableImageGenerator implements ImageGenerator {
  readonly #namespace: DurableObjectNamespace<GenerationCoordinator>;

  constructor(namespace: DurableObjectNamespace<GenerationCoordinator>) {
    this.#namespace = namespace;
  }

  async generate(job: GenerationJob): Promise<GeneratedImage> {
    let outcome: GenerationOutcome;
    try {
      outcome = await this.#namespace.getByName(job.key).generate(job);
    } catch (error) {
      // The object itself failed (reset, overloaded, storage error): nothing the client did.
      log('error', 'coordinator_failed', { key: job.key, error: String(error) });
      throw gpuUnavailable('The generation could not be completed.', 10, error);
    }
    if (!outcome.ok) throw new ProblemError(outcome.problem);
    return outcome.image;
  }
}
